//! The demo page, its scripts and the API viewer, embedded in the binary at
//! build time so `parley` serves them from any working directory.
//! `STATIC_DIR` serves a directory instead (development).

use axum::{
    body::Body,
    extract::Request,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "static/"]
#[include = "*.html"]
#[include = "*.css"]
#[include = "*.js"]
#[include = "*.png"]
#[include = "js/*"]
#[include = "docs/*"]
#[include = "node_modules/socket.io-client/dist/socket.io.esm.min.js"]
#[include = "node_modules/swagger-ui-dist/swagger-ui-bundle.js"]
#[include = "node_modules/swagger-ui-dist/swagger-ui.css"]
#[include = "node_modules/chart.js/dist/chart.umd.min.js"]
#[exclude = "node_modules/*/node_modules/*"]
struct Assets;

/// Whether the browser builds from npm were there when this binary was built.
pub fn complete() -> bool {
    Assets::get("node_modules/socket.io-client/dist/socket.io.esm.min.js").is_some()
        && Assets::get("node_modules/swagger-ui-dist/swagger-ui-bundle.js").is_some()
}

/// An embedded file by its path under `static/`; unknown paths that look
/// like pages get the demo page (it routes on the client).
pub async fn serve(req: Request) -> Response {
    let path = req.uri().path().trim_start_matches('/');
    let path = if path.is_empty() { "index.html" } else { path };
    match Assets::get(path) {
        Some(file) => file_response(path, file),
        None if !path.rsplit('/').next().unwrap_or_default().contains('.') => page("index.html"),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

/// The API viewer's page.
#[utoipa::path(
    get,
    path = "/api/docs",
    tag = "operations",
    summary = "This document, rendered",
    responses((status = 200, description = "The API viewer", content_type = "text/html", body = String)),
    security(()),
)]
pub async fn docs() -> Response {
    page("docs/index.html")
}

/// The admin page (it asks for an admin token before showing anything).
#[utoipa::path(
    get,
    path = "/admin",
    tag = "operations",
    summary = "The admin page (it asks for an admin token)",
    responses((status = 200, description = "Success: `{success: true, ...}`", content_type = "text/html", body = String)),
    security(()),
)]
pub async fn admin() -> Response {
    page("admin.html")
}

fn page(path: &str) -> Response {
    match Assets::get(path) {
        Some(file) => file_response(path, file),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

fn file_response(path: &str, file: rust_embed::EmbeddedFile) -> Response {
    let mime = mime_guess::from_path(path).first_or_octet_stream();
    let mut response = Response::new(Body::from(file.data.into_owned()));
    if let Ok(value) = HeaderValue::from_str(mime.as_ref()) {
        response.headers_mut().insert(header::CONTENT_TYPE, value);
    }
    // The files change only with the binary: let browsers revalidate cheaply.
    if let Ok(value) = HeaderValue::from_str(&format!("\"{}\"", hex::encode(file.metadata.sha256_hash()))) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

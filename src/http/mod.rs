//! The REST API: axum routers, one file per resource, thin handlers.

mod dev;
pub mod extract;
mod health;
mod messages;

use std::time::Instant;

use axum::{
    Router,
    extract::{MatchedPath, Request, State},
    middleware::{self, Next},
    response::{IntoResponse, Response},
    routing::{any, get, post},
};
use http::{HeaderValue, Method, header};
use tower_http::{
    cors::{AllowOrigin, Any, CorsLayer},
    services::{ServeDir, ServeFile},
    trace::TraceLayer,
};

use crate::{error::AppError, metrics::HttpLabels, state::AppState};

pub fn router(app: AppState) -> Router {
    let mut api = Router::new()
        .route(
            "/api/messages/conversations",
            get(messages::list_conversations),
        )
        .route(
            "/api/messages/conversations/{id}/messages",
            get(messages::history),
        )
        .route(
            "/api/messages/conversations/{id}/seen",
            post(messages::mark_seen),
        )
        .route(
            "/api/messages/conversations/{id}/context",
            get(messages::context),
        )
        .route("/api/messages/send", post(messages::send))
        .route("/api/messages/unread-count", get(messages::unread_count))
        .route(
            "/api/messages/direct-connect",
            post(messages::direct_connect),
        )
        .route(
            "/api/messages/direct-connections",
            get(messages::direct_connections),
        );
    if !app.settings.is_production() {
        api = api.route("/api/dev/token", post(dev::token));
    }
    // Unknown API paths answer in the envelope instead of reaching the static files.
    let api = api.route("/api/{*rest}", any(api_not_found));

    let static_dir = app.settings.static_dir.clone();
    let index = static_dir.join("index.html");
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .merge(api)
        .fallback_service(ServeDir::new(static_dir).fallback(ServeFile::new(index)))
        .layer(middleware::from_fn_with_state(app.clone(), record_request))
        .layer(cors(&app))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let route = req
                .extensions()
                .get::<MatchedPath>()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| req.uri().path().to_string());
            tracing::info_span!("http", method = %req.method(), route)
        }))
        .with_state(app)
}

async fn api_not_found() -> Response {
    AppError::new(crate::error::ErrorCode::NotFound, "No such API route").into_response()
}

/// Counts requests by matched route (never the raw path, which holds ids).
async fn record_request(State(app): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    app.metrics
        .http_requests
        .get_or_create(&HttpLabels {
            route,
            method,
            status: response.status().as_u16(),
        })
        .inc();
    tracing::debug!(
        elapsed_ms = started.elapsed().as_millis() as u64,
        "request finished"
    );
    response
}

fn cors(app: &AppState) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE]);
    let origins: Vec<HeaderValue> = app
        .settings
        .cors_origins
        .iter()
        .filter_map(|o| o.parse().ok())
        .collect();
    if !origins.is_empty() {
        layer.allow_origin(AllowOrigin::list(origins))
    } else if app.settings.is_production() {
        // Same-origin only unless CORS_ORIGIN says otherwise.
        layer.allow_origin(AllowOrigin::list([]))
    } else {
        layer.allow_origin(Any)
    }
}

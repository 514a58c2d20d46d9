//! What every HTTP answer gets, whichever handler (or layer) made it: a time
//! bound, the error envelope instead of a bare status, and the security
//! headers browsers act on.

use axum::{
    body::Body,
    extract::{Request, State},
    middleware::Next,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

use crate::{
    app::AppState,
    error::{AppError, ErrorCode},
};

/// For pages (the demo and the API viewer): their own scripts and styles,
/// the payment gateway's checkout, never inside another site's frame.
const PAGE_CSP: &str = "default-src 'self'; script-src 'self' https://*.razorpay.com; \
    style-src 'self' 'unsafe-inline'; img-src 'self' data: https:; \
    connect-src 'self' https://*.razorpay.com; frame-src https://*.razorpay.com; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// For everything else (JSON, scripts, images): nothing may run from it.
const DATA_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Headers a request may carry; more is a 431.
pub const MAX_HEADERS: usize = 100;
/// The longest request target (path and query); longer is a 414.
pub const MAX_URI_BYTES: usize = 8 * 1024;

pub async fn guard(State(app): State<AppState>, req: Request, next: Next) -> Response {
    if req.headers().len() > MAX_HEADERS {
        return secured(envelope_for(StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE));
    }
    if req.uri().path_and_query().map_or(0, |p| p.as_str().len()) > MAX_URI_BYTES {
        return secured(envelope_for(StatusCode::URI_TOO_LONG));
    }
    let limit = app.settings.request_timeout;
    let mut response = match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => {
            tracing::warn!(timeout_ms = limit.as_millis() as u64, "request timed out");
            timed_out()
        }
    };
    if needs_envelope(&response) {
        response = envelope_for(response.status());
    }
    secured(response)
}

fn secured(mut response: Response) -> Response {
    secure(&mut response);
    response
}

/// A request that outlived `REQUEST_TIMEOUT_MS`: 503, so a client may retry.
fn timed_out() -> Response {
    let mut response = AppError::new(ErrorCode::Internal, "The request took too long").into_response();
    *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    response
}

/// An error answered by a layer or a library rather than an `AppError`
/// (a bare 413, 408, 405...): anything not already JSON.
fn needs_envelope(response: &Response) -> bool {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return false;
    }
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    !json
}

/// The envelope for a bare status, keeping the status.
pub fn envelope_for(status: StatusCode) -> Response {
    let (code, message) = match status {
        StatusCode::UNAUTHORIZED => (ErrorCode::Unauthorized, "Authentication required: a valid access token"),
        StatusCode::FORBIDDEN => (ErrorCode::Forbidden, "Forbidden"),
        StatusCode::NOT_FOUND => (ErrorCode::NotFound, "Not found"),
        StatusCode::METHOD_NOT_ALLOWED => (ErrorCode::NotFound, "This route does not take that method"),
        StatusCode::TOO_MANY_REQUESTS => (ErrorCode::RateLimited, "Too many requests; slow down"),
        StatusCode::PAYLOAD_TOO_LARGE => (ErrorCode::ValidationFailed, "The request body is too large"),
        StatusCode::URI_TOO_LONG => (ErrorCode::ValidationFailed, "The request URL is too long"),
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
            (ErrorCode::ValidationFailed, "The request has too many or too large headers")
        }
        s if s.is_client_error() => (ErrorCode::ValidationFailed, "The request could not be read"),
        _ => (ErrorCode::Internal, "Internal error"),
    };
    let mut response = AppError::new(code, message).into_response();
    *response.status_mut() = status;
    response
}

/// `nosniff`, no framing, no referrer, and a policy fit for what the body is.
pub fn secure(response: &mut Response<Body>) {
    let html = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    let not_modified = response.status() == StatusCode::NOT_MODIFIED;
    let headers = response.headers_mut();
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    // A 304 has no body and no content type; the browser merges its headers
    // into the cached page's, so a data policy here would lock the page out.
    if !not_modified {
        let csp = if html { PAGE_CSP } else { DATA_CSP };
        headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(csp));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_not_modified_page_keeps_the_policy_it_was_cached_with() {
        let mut not_modified = Response::new(Body::empty());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        secure(&mut not_modified);
        assert!(not_modified.headers().get(header::CONTENT_SECURITY_POLICY).is_none());
        assert_eq!(not_modified.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");

        let mut data = Response::new(Body::empty());
        secure(&mut data);
        assert_eq!(data.headers()[header::CONTENT_SECURITY_POLICY], DATA_CSP);
    }
}

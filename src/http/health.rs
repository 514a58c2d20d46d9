//! Liveness, readiness and metrics.

use axum::{
    Json,
    extract::State,
    http::{StatusCode, header},
    response::IntoResponse,
};
use serde_json::json;

use crate::app::AppState;

pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers, Redis too when configured, and the
/// node is not shutting down.
pub async fn readyz(State(app): State<AppState>) -> impl IntoResponse {
    let mut checks = serde_json::Map::new();
    let database = match app.db.ping().await {
        Ok(()) => "ok",
        Err(e) => {
            tracing::warn!(error = %e, "readiness: database unreachable");
            "unreachable"
        }
    };
    checks.insert("database".into(), json!(database));
    if let Some(redis) = &app.redis {
        checks.insert("redis".into(), json!(if redis.ping().await { "ok" } else { "unreachable" }));
    }
    if app.is_draining() {
        checks.insert("shutdown".into(), json!("draining"));
    }
    let ready = checks.values().all(|v| v == "ok");
    let status = if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    (status, Json(json!({ "status": if ready { "ready" } else { "not_ready" }, "checks": checks })))
}

pub async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], app.metrics.render())
}

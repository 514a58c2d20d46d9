//! Liveness, readiness and metrics.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;
use subtle::ConstantTimeEq;

use crate::{app::AppState, auth::bearer_token, error::AppError};

#[utoipa::path(
    get,
    path = "/healthz",
    tag = "operations",
    summary = "Liveness",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(()),
)]
pub async fn healthz() -> impl IntoResponse {
    Json(json!({ "status": "ok" }))
}

/// Ready when the database answers, Redis too when configured, and the
/// node is not shutting down.
#[utoipa::path(
    get,
    path = "/readyz",
    tag = "operations",
    summary = "Readiness: database, Redis, not draining",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(()),
)]
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

/// The body is OpenMetrics text (`# EOF`, `_total` samples), so that is the
/// content type: Prometheus reads it as such and keeps counters typed.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Metrics; with `METRICS_TOKEN` set, only for `Authorization: Bearer <it>`.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "OpenMetrics text (METRICS_TOKEN when set)",
    responses((status = 200, description = "OpenMetrics text", content_type = "application/openmetrics-text", body = String)),
    security((), ("metrics" = [])),
)]
pub async fn metrics(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(expected) = &app.settings.metrics_token {
        let given = bearer_token(&headers).unwrap_or_default();
        if !bool::from(given.as_bytes().ct_eq(expected.expose().as_bytes())) {
            return AppError::unauthorized().into_response();
        }
    }
    refresh(&app);
    ([(header::CONTENT_TYPE, OPENMETRICS)], app.metrics.render()).into_response()
}

/// Figures read at scrape time: the process, the database pool, Redis.
fn refresh(app: &AppState) {
    let m = &app.metrics;
    m.process.observe();
    let (size, idle) = crate::db::pool_stats(&app.db);
    m.db_pool_connections.set(i64::from(size));
    m.db_pool_idle_connections.set(idle as i64);
    if let Some(redis) = &app.redis {
        m.redis_up.set(i64::from(redis.is_healthy()));
    }
}

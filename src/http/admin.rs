//! `/api/admin/...`: what administrators see and do.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::extract::{Admin, ApiJson, ApiQuery};
use crate::{
    app::{
        AppState, StatusQuery,
        admin::{self, AnalyticsQuery, AuditQuery, BanInput, ResolveInput},
        webhooks,
    },
    error::AppResult,
};

#[utoipa::path(
    get,
    path = "/api/admin/webhooks/deliveries",
    tag = "admin",
    summary = "Outgoing webhook deliveries (admins)",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn webhook_deliveries(
    State(app): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> AppResult<Json<Value>> {
    let listed = webhooks::deliveries(&app, &admin, q).await?;
    Ok(Json(json!({ "success": true, "deliveries": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    post,
    path = "/api/admin/webhooks/deliveries/{id}/replay",
    tag = "admin",
    summary = "Delivers a webhook again (admins)",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn replay_delivery(
    State(app): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let delivery = webhooks::replay(&app, &admin, &id).await?;
    Ok(Json(json!({ "success": true, "delivery": delivery })))
}

#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/ban",
    tag = "admin",
    summary = "Bans a user until a time or for good (admins)",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn ban(
    State(app): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<BanInput>,
) -> AppResult<Json<Value>> {
    let ban = admin::ban(&app, &admin, &id, input).await?;
    Ok(Json(json!({ "success": true, "ban": ban })))
}

#[utoipa::path(
    post,
    path = "/api/admin/users/{id}/unban",
    tag = "admin",
    summary = "Lifts a ban (admins)",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn unban(State(app): State<AppState>, Admin(admin): Admin, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let body = admin::unban(&app, &admin, &id).await?;
    Ok(Json(json!({ "success": true, "user_id": body["user_id"], "banned": false, "was_banned": body["was_banned"] })))
}

#[utoipa::path(
    get,
    path = "/api/admin/flags",
    tag = "admin",
    summary = "The flag queue with each target and its context (admins)",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn flags(
    State(app): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(q): ApiQuery<StatusQuery>,
) -> AppResult<Json<Value>> {
    let listed = admin::flags(&app, &admin, q).await?;
    Ok(Json(json!({ "success": true, "flags": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    post,
    path = "/api/admin/flags/{id}/resolve",
    tag = "admin",
    summary = "Resolves a flag: dismiss, delete the message or ban the user (admins)",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn resolve_flag(
    State(app): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<ResolveInput>,
) -> AppResult<Json<Value>> {
    let flag = admin::resolve(&app, &admin, &id, input).await?;
    Ok(Json(json!({ "success": true, "flag": flag })))
}

#[utoipa::path(
    get,
    path = "/api/admin/analytics",
    tag = "admin",
    summary = "Messages, conversations, response times, the flow funnel and payments over a period (admins)",
    params(("from" = Option<String>, Query, description = "first day, YYYY-MM-DD"), ("to" = Option<String>, Query, description = "last day, YYYY-MM-DD")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn analytics(
    State(app): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(q): ApiQuery<AnalyticsQuery>,
) -> AppResult<Json<Value>> {
    let mut body = admin::analytics(&app, &admin, q).await?;
    body["success"] = json!(true);
    Ok(Json(body))
}

#[utoipa::path(
    get,
    path = "/api/admin/audit",
    tag = "admin",
    summary = "Every admin action: who, what, target, when (admins)",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn audit(
    State(app): State<AppState>,
    Admin(admin): Admin,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> AppResult<Json<Value>> {
    let listed = admin::audit_log(&app, &admin, q).await?;
    Ok(Json(json!({ "success": true, "entries": listed.items, "pagination": listed.pagination })))
}

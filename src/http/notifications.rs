//! `/api/notifications`: a user's stored notifications.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::extract::{ApiQuery, Caller};
use crate::{
    app::{
        AppState,
        notifications::{self, ListQuery},
    },
    error::AppResult,
};

#[utoipa::path(
    get,
    path = "/api/notifications",
    tag = "notifications",
    summary = "The caller's notifications",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn list(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let listed = notifications::list(&app, &who, q).await?;
    Ok(Json(json!({
        "success": true,
        "notifications": listed.items,
        "pagination": listed.pagination,
        "unread_count": listed.unread_count,
    })))
}

#[utoipa::path(
    get,
    path = "/api/notifications/unread-count",
    tag = "notifications",
    summary = "Unread notifications",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn unread_count(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let n = notifications::unread_count(&app, &who).await?;
    Ok(Json(json!({ "success": true, "unread_count": n })))
}

#[utoipa::path(
    post,
    path = "/api/notifications/{id}/read",
    tag = "notifications",
    summary = "Marks one notification read",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn read(State(app): State<AppState>, Caller(who): Caller, Path(id): Path<String>) -> AppResult<Json<Value>> {
    let read = notifications::read(&app, &who, &id).await?;
    Ok(Json(json!({ "success": true, "notification": read.notification, "unread_count": read.unread_count })))
}

#[utoipa::path(
    post,
    path = "/api/notifications/mark-all-read",
    tag = "notifications",
    summary = "Marks every notification read",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn mark_all_read(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let done = notifications::mark_all_read(&app, &who).await?;
    Ok(Json(json!({ "success": true, "updated": done.updated, "unread_count": done.unread_count })))
}

#[utoipa::path(
    delete,
    path = "/api/notifications/{id}",
    tag = "notifications",
    summary = "Deletes one notification",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn delete(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    notifications::delete(&app, &who, &id).await?;
    Ok(Json(json!({ "success": true })))
}

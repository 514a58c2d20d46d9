//! `/api/platform/...`: the marketplace's backend, with a service token.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::extract::{ApiJson, Service};
use crate::{
    app::{
        AppState,
        platform::{self, CreditInput, NotificationInput, SystemMessageInput},
    },
    error::AppResult,
};

type Created = (StatusCode, Json<Value>);

fn created_or_ok(created: bool, body: Value) -> Created {
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(body))
}

#[utoipa::path(
    post,
    path = "/api/platform/notifications",
    tag = "platform",
    summary = "Sends a notification to a user (service tokens)",
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("service" = [])),
)]
pub async fn notify(
    State(app): State<AppState>,
    Service(service): Service,
    ApiJson(input): ApiJson<NotificationInput>,
) -> AppResult<Created> {
    let out = platform::notify(&app, &service, input).await?;
    Ok(created_or_ok(out.created, json!({ "success": true, "notification": out.value })))
}

#[utoipa::path(
    post,
    path = "/api/platform/conversations/{id}/system-messages",
    tag = "platform",
    summary = "Posts a system message (service tokens)",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("service" = [])),
)]
pub async fn system_message(
    State(app): State<AppState>,
    Service(service): Service,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SystemMessageInput>,
) -> AppResult<Created> {
    let out = platform::system_message(&app, &service, &id, input).await?;
    Ok(created_or_ok(out.created, json!({ "success": true, "message": out.value })))
}

#[utoipa::path(
    post,
    path = "/api/platform/wallets/{user_id}/credit",
    tag = "platform",
    summary = "Credits a user's points (service tokens)",
    params(("user_id" = String, Path, description = "the user id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("service" = [])),
)]
pub async fn credit(
    State(app): State<AppState>,
    Service(service): Service,
    Path(user_id): Path<String>,
    ApiJson(input): ApiJson<CreditInput>,
) -> AppResult<Json<Value>> {
    let out = platform::credit(&app, &service, &user_id, input).await?;
    Ok(Json(json!({ "success": true, "balance": out.balance, "credited": out.created })))
}

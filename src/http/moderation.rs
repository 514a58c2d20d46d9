//! Reports: a message (`POST /api/messages/:id/flag`) or a user
//! (`POST /api/users/:id/report`). 201 for a new flag, 200 with the open
//! one when the caller had already reported that target.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::extract::{ApiJson, Caller, with_path_id};
use crate::{
    app::{AppState, moderation},
    error::AppResult,
};

type Created = (StatusCode, Json<Value>);

fn answer(r: moderation::Reported) -> Created {
    let status = if r.created { StatusCode::CREATED } else { StatusCode::OK };
    (status, Json(json!({ "success": true, "flag": r.flag, "created": r.created })))
}

#[utoipa::path(
    post,
    path = "/api/messages/{id}/flag",
    tag = "moderation",
    summary = "Reports a message (participants)",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn flag_message(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Created> {
    let input = with_path_id(body, "message_id", id)?;
    Ok(answer(moderation::flag_message(&app, &who, input).await?))
}

#[utoipa::path(
    post,
    path = "/api/users/{id}/report",
    tag = "moderation",
    summary = "Reports a user",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn report_user(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Created> {
    let input = with_path_id(body, "user_id", id)?;
    Ok(answer(moderation::report_user(&app, &who, input).await?))
}

//! Flow actions over REST: the same operations as the socket events.

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::Value;

use super::extract::{ApiJson, Caller, with_path_id};
use crate::{
    app::{AppState, flow},
    domain::flow::engine::acted_json,
    error::AppResult,
};

#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/button-click",
    tag = "flow",
    summary = "Runs a flow action",
    params(("id" = String, Path, description = "the id")),
    request_body = crate::describe::openapi::ButtonClickBody,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn button_click(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let acted = flow::button(&app, &who, with_path_id(body, "conversation_id", id)?).await?;
    Ok(Json(success(acted_json(&acted))))
}

#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/text-input",
    tag = "flow",
    summary = "Submits an input card",
    params(("id" = String, Path, description = "the id")),
    request_body = crate::describe::openapi::TextInputBody,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn text_input(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Value>,
) -> AppResult<Json<Value>> {
    let acted = flow::text_input(&app, &who, with_path_id(body, "conversation_id", id)?).await?;
    Ok(Json(success(acted_json(&acted))))
}

pub fn success(mut body: Value) -> Value {
    body["success"] = Value::Bool(true);
    body
}

//! `/api/messages/...`: conversations, history, sending, read receipts,
//! unread counts and direct connections.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::{
    app::{
        AppState,
        conversations::{self, DirectConnectInput, ListQuery, SettingsInput},
        messages::{self, HistoryQuery, SeenInput, SendInput},
    },
    domain::events::conversation_json,
    error::AppResult,
};

type Created = (StatusCode, Json<Value>);

fn created_or_ok(created: bool, body: Value) -> Created {
    (if created { StatusCode::CREATED } else { StatusCode::OK }, Json(body))
}

#[utoipa::path(
    get,
    path = "/api/messages/conversations",
    tag = "messages",
    summary = "The caller's conversations, newest activity first",
    params(crate::describe::openapi::ConversationsQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn list_conversations(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let listed = conversations::list(&app, &who, q).await?;
    Ok(Json(json!({ "success": true, "conversations": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    get,
    path = "/api/messages/direct-connections",
    tag = "messages",
    summary = "The caller's direct conversations",
    params(crate::describe::openapi::PageQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn direct_connections(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let listed = conversations::direct_connections(&app, &who, q).await?;
    Ok(Json(json!({ "success": true, "conversations": listed.items, "pagination": listed.pagination })))
}

#[utoipa::path(
    get,
    path = "/api/messages/conversations/{id}/messages",
    tag = "messages",
    summary = "A conversation's messages in chronological order (pages or cursors)",
    params(("id" = String, Path, description = "the id"), crate::describe::openapi::HistoryQuery),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn history(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> AppResult<Json<Value>> {
    let read = messages::history(&app, &who, &id, q).await?;
    Ok(Json(json!({ "success": true, "messages": read.messages, "pagination": read.pagination })))
}

/// 201 with the new message; 200 with the stored one when the client
/// message id was seen before.
#[utoipa::path(
    post,
    path = "/api/messages/send",
    tag = "messages",
    summary = "Sends a message (same rules and events as send_message)",
    request_body = crate::describe::openapi::SendBody,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn send(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<SendInput>,
) -> AppResult<Created> {
    let sent = messages::send(&app, &who, input).await?;
    let message: Value = serde_json::from_str(sent.message.get()).map_err(crate::error::AppError::internal)?;
    let mut body = json!({ "success": true, "message": message });
    if let Some(moderation) = sent.moderation {
        body["moderation"] = moderation;
    }
    Ok(created_or_ok(sent.created, body))
}

#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/seen",
    tag = "messages",
    summary = "Marks the conversation seen",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn mark_seen(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let input = SeenInput { conversation_id: id, message_id: None, claimed: Default::default() };
    let seen = messages::mark_seen(&app, &who, input).await?;
    Ok(Json(json!({ "success": true, "seen_count": seen.count() })))
}

#[utoipa::path(
    get,
    path = "/api/messages/unread-count",
    tag = "messages",
    summary = "Unread counts, in total and by conversation",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn unread_count(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let mut body = messages::unread_counts(&app, &who).await?.json();
    body["success"] = json!(true);
    Ok(Json(body))
}

#[utoipa::path(
    post,
    path = "/api/messages/direct-connect",
    tag = "messages",
    summary = "Opens (or finds) the direct conversation with a user",
    request_body = crate::describe::openapi::DirectConnectBody,
    responses((status = 201, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn direct_connect(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<DirectConnectInput>,
) -> AppResult<Created> {
    let out = conversations::direct_connect(&app, &who, input).await?;
    let mut body = json!({ "success": true, "conversation": conversation_json(&out.conversation) });
    if let Some(m) = out.message {
        body["message"] = m;
    }
    Ok(created_or_ok(out.created, body))
}

#[utoipa::path(
    get,
    path = "/api/messages/conversations/{id}/context",
    tag = "messages",
    summary = "The conversation's context, source, other user and available actions",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn context(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let mut body = conversations::context(&app, &who, &id).await?;
    body["success"] = json!(true);
    Ok(Json(body))
}

/// `PUT /api/messages/conversations/:id/settings`: disappearing messages.
#[utoipa::path(
    put,
    path = "/api/messages/conversations/{id}/settings",
    tag = "messages",
    summary = "Conversation settings: disappearing messages",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn settings(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<SettingsInput>,
) -> AppResult<Json<Value>> {
    let changed = conversations::set_message_ttl(&app, &who, &id, input).await?;
    Ok(Json(json!({
        "success": true,
        "conversation": conversation_json(&changed.conversation),
        "message_ttl_seconds": changed.conversation.message_ttl_seconds,
        "message": changed.notice,
    })))
}

/// `GET /api/messages/quota`.
#[utoipa::path(
    get,
    path = "/api/messages/quota",
    tag = "messages",
    summary = "The caller's daily message quota",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn quota(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    Ok(Json(json!({ "success": true, "quota": messages::quota(&app, &who).await? })))
}

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
        conversations::{self, DirectConnectInput, ListQuery, MuteInput, SettingChange, SettingsInput},
        messages::{self, EditInput, HistoryQuery, ReactionInput, SeenInput, SendInput},
    },
    domain::events::conversation_json,
    domain::messages::Reaction,
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

/// Only the text is read from the body: the id comes from the path.
#[derive(Debug, serde::Deserialize)]
pub struct EditBody {
    #[serde(default)]
    pub message: Option<String>,
}

/// `PUT /api/messages/:id {message}`.
#[utoipa::path(
    put,
    path = "/api/messages/{id}",
    tag = "messages",
    summary = "Edits a message within the edit window",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn edit(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<EditBody>,
) -> AppResult<Json<Value>> {
    let message = messages::edit(&app, &who, EditInput { message_id: id, message: body.message }).await?;
    Ok(Json(json!({ "success": true, "message": message })))
}

/// `DELETE /api/messages/:id`.
#[utoipa::path(
    delete,
    path = "/api/messages/{id}",
    tag = "messages",
    summary = "Deletes a message (sender or admin)",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn delete(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let message = messages::delete(&app, &who, &id).await?;
    Ok(Json(json!({ "success": true, "message": message })))
}

#[derive(Debug, serde::Deserialize)]
pub struct ReactionBody {
    #[serde(default)]
    pub emoji: String,
}

/// `POST /api/messages/:id/reactions {emoji}`.
#[utoipa::path(
    post,
    path = "/api/messages/{id}/reactions",
    tag = "messages",
    summary = "Adds a reaction",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn add_reaction(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<ReactionBody>,
) -> AppResult<Json<Value>> {
    let input = ReactionInput { message_id: id, emoji: body.emoji };
    reaction(&app, &who, input, Reaction::Add).await
}

/// `DELETE /api/messages/:id/reactions/:emoji`.
#[utoipa::path(
    delete,
    path = "/api/messages/{id}/reactions/{emoji}",
    tag = "messages",
    summary = "Removes a reaction",
    params(("id" = String, Path, description = "the id"), ("emoji" = String, Path, description = "the emoji")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn remove_reaction(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path((id, emoji)): Path<(String, String)>,
) -> AppResult<Json<Value>> {
    reaction(&app, &who, ReactionInput { message_id: id, emoji }, Reaction::Remove).await
}

async fn reaction(
    app: &AppState,
    who: &crate::domain::users::Identity,
    input: ReactionInput,
    how: Reaction,
) -> AppResult<Json<Value>> {
    let reacted = messages::react(app, who, input, how).await?;
    let mut body = messages::react_json(&reacted);
    body["success"] = json!(true);
    Ok(Json(body))
}

async fn setting(
    app: &AppState,
    who: &crate::domain::users::Identity,
    id: &str,
    change: SettingChange,
    input: MuteInput,
) -> AppResult<Json<Value>> {
    let mut body = conversations::change_setting(app, who, id, change, input).await?;
    body["success"] = json!(true);
    Ok(Json(body))
}

/// `POST /api/messages/conversations/:id/archive`.
#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/archive",
    tag = "messages",
    summary = "Archives the conversation for the caller",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn archive(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    setting(&app, &who, &id, SettingChange::Archive, MuteInput::default()).await
}

/// `POST /api/messages/conversations/:id/unarchive`.
#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/unarchive",
    tag = "messages",
    summary = "Unarchives the conversation",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn unarchive(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    setting(&app, &who, &id, SettingChange::Unarchive, MuteInput::default()).await
}

/// `POST /api/messages/conversations/:id/mute {until?}` (the body may be absent).
#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/mute",
    tag = "messages",
    summary = "Mutes the conversation for the caller",
    params(("id" = String, Path, description = "the id")),
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn mute(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<Json<Value>> {
    let input: MuteInput = if body.iter().all(u8::is_ascii_whitespace) {
        MuteInput::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|_| crate::error::AppError::invalid_field("until", "the body must be JSON {until?}"))?
    };
    setting(&app, &who, &id, SettingChange::Mute, input).await
}

/// `POST /api/messages/conversations/:id/unmute`.
#[utoipa::path(
    post,
    path = "/api/messages/conversations/{id}/unmute",
    tag = "messages",
    summary = "Unmutes the conversation",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn unmute(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    setting(&app, &who, &id, SettingChange::Unmute, MuteInput::default()).await
}

/// `DELETE /api/messages/conversations/:id/leave`: always refused.
#[utoipa::path(
    delete,
    path = "/api/messages/conversations/{id}/leave",
    tag = "messages",
    summary = "Leaves (hides) the conversation",
    params(("id" = String, Path, description = "the id")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn leave(Caller(_who): Caller, Path(_id): Path<String>) -> AppResult<Json<Value>> {
    Err(conversations::leave())
}

/// `GET /api/messages/search?q=&conversation_id?&page&limit`.
#[utoipa::path(
    get,
    path = "/api/messages/search",
    tag = "messages",
    summary = "Full-text search over the caller's conversations",
    params(("q" = String, Query, description = "2..200 characters; the last word matches as a prefix"), ("conversation_id" = Option<String>, Query, description = "only this conversation"), ("page" = Option<u64>, Query, description = "from 1"), ("limit" = Option<u64>, Query, description = "1..100")),
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn search(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<crate::app::search::SearchQuery>,
) -> AppResult<Json<Value>> {
    let found = crate::app::search::search(&app, &who, q).await?;
    Ok(Json(json!({ "success": true, "results": found.results, "pagination": found.pagination })))
}

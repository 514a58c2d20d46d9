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

pub async fn list_conversations(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let listed = conversations::list(&app, &who, q).await?;
    Ok(Json(json!({ "success": true, "conversations": listed.items, "pagination": listed.pagination })))
}

pub async fn direct_connections(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let listed = conversations::direct_connections(&app, &who, q).await?;
    Ok(Json(json!({ "success": true, "conversations": listed.items, "pagination": listed.pagination })))
}

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

pub async fn mark_seen(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let input = SeenInput { conversation_id: id, message_id: None, claimed: Default::default() };
    let seen = messages::mark_seen(&app, &who, input).await?;
    Ok(Json(json!({ "success": true, "seen_count": seen.count() })))
}

pub async fn unread_count(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let mut body = messages::unread_counts(&app, &who).await?.json();
    body["success"] = json!(true);
    Ok(Json(body))
}

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

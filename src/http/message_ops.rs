//! `/api/messages/...` operations on stored messages and per-user
//! conversation settings: edit, delete, reactions, archive, mute, leave and
//! search (contract section 8).

use axum::{
    Json,
    extract::{Path, State},
};
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::{
    app::{
        AppState,
        conversations::{self, MuteInput, SettingChange},
        messages::{self, EditInput, ReactionInput},
    },
    domain::messages::Reaction,
    error::AppResult,
};

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

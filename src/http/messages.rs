//! `/api/messages/...`: conversations, history, sending, read receipts,
//! unread counts and direct connections.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::extract::{ApiJson, ApiQuery, Caller};
use crate::domain::limits::Kind;
use crate::{
    domain::{
        conversations::{self, DIRECT},
        events::{self, message_json},
        ids::ConversationId,
        messages::{self, SendInput, Window},
        pagination::Page,
        users::Claimed,
    },
    error::{AppError, AppResult},
    state::AppState,
};

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<String>,
    limit: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
}

pub async fn list_conversations(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let kind = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let (items, total) = conversations::list(&app.db, &app.presence, &who, page, kind).await?;
    Ok(Json(json!({ "success": true, "conversations": items, "pagination": page.json(total) })))
}

pub async fn direct_connections(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> AppResult<Json<Value>> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let (items, total) = conversations::list(&app.db, &app.presence, &who, page, Some(DIRECT)).await?;
    Ok(Json(json!({ "success": true, "conversations": items, "pagination": page.json(total) })))
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    page: Option<String>,
    limit: Option<String>,
    before: Option<String>,
    after: Option<String>,
}

pub async fn history(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> AppResult<Json<Value>> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 50)?;
    let window = Window::parse(page, q.before.as_deref(), q.after.as_deref())?;
    let c = conversations::readable(&app.db, ConversationId::parse(&id)?, &who).await?;
    let (rows, pagination) = messages::history(&app.db, &c, &who, window).await?;
    let items: Vec<Value> = rows.iter().map(message_json).collect();
    Ok(Json(json!({ "success": true, "messages": items, "pagination": pagination })))
}

#[derive(Deserialize)]
pub struct SendBody {
    conversation_id: String,
    #[serde(default)]
    message: String,
    media_url: Option<String>,
    client_message_id: Option<String>,
    #[serde(flatten)]
    claimed: Claimed,
}

/// 201 with the new message; 200 with the stored one when the client
/// message id was seen before.
pub async fn send(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<SendBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    app.limiter.check(Kind::Messages, &who.user_id).await?;
    body.claimed.check(&who)?;
    let input = SendInput {
        conversation_id: ConversationId::parse(&body.conversation_id)?,
        text: body.message,
        media_url: body.media_url.filter(|u| !u.trim().is_empty()),
        client_message_id: body.client_message_id,
    };
    let out = messages::send(&app.db, &app.writer, &who, input).await?;
    app.emitter.publish(out.events).await;
    if out.created {
        app.metrics.messages_sent.inc();
    }
    let status = if out.created { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(json!({ "success": true, "message": out.json }))))
}

pub async fn mark_seen(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let out = messages::mark_seen(&app.db, &who, ConversationId::parse(&id)?, None).await?;
    app.emitter.publish(out.events).await;
    Ok(Json(json!({ "success": true, "seen_count": out.seen_count })))
}

pub async fn unread_count(State(app): State<AppState>, Caller(who): Caller) -> AppResult<Json<Value>> {
    let counts = messages::unread_by_conversation(&app.db, &who.user_id, None).await?;
    let mut body = conversations::unread_json(&counts);
    body["success"] = json!(true);
    Ok(Json(body))
}

#[derive(Deserialize)]
pub struct DirectConnectBody {
    target_user_id: String,
    initial_message: Option<String>,
}

pub async fn direct_connect(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(body): ApiJson<DirectConnectBody>,
) -> AppResult<(StatusCode, Json<Value>)> {
    if body.target_user_id.trim() == app.settings.system_user_id {
        return Err(AppError::invalid_field("target_user_id", "is the system user, which takes no conversations"));
    }
    let out = conversations::direct_connect(
        &app.db,
        &app.writer,
        &who,
        body.target_user_id.trim(),
        body.initial_message.as_deref(),
    )
    .await?;
    app.emitter.publish(out.events).await;
    if out.message.is_some() {
        app.metrics.messages_sent.inc();
    }
    let status = if out.created { StatusCode::CREATED } else { StatusCode::OK };
    let mut body = json!({ "success": true, "conversation": events::conversation_json(&out.conversation) });
    if let Some(m) = &out.message {
        body["message"] = message_json(m);
    }
    Ok((status, Json(body)))
}

pub async fn context(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let mut body = conversations::context(&app.db, &app.presence, &who, ConversationId::parse(&id)?).await?;
    body["success"] = json!(true);
    Ok(Json(body))
}

//! The caller's conversations: the list, one conversation's context, and
//! direct conversations.

use entity::conversation;
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use crate::{
    domain::{
        conversations,
        events::message_json,
        ids::ConversationId,
        inbox,
        limits::Limit,
        messages::Draft,
        names::ConversationType,
        pagination::Page,
        users::{self, Identity},
        validate,
    },
    error::{AppError, AppResult},
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
}

pub struct Listed {
    pub items: Vec<Value>,
    pub pagination: Value,
}

/// The caller's conversations, newest activity first.
pub async fn list(app: &AppState, who: &Identity, q: ListQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let kind = q.kind.as_deref().map(str::trim).filter(|k| !k.is_empty());
    let (items, total) = inbox::list(&app.db, &app.presence, who, page, kind, app.clock.now()).await?;
    Ok(Listed { items, pagination: page.json(total) })
}

/// The caller's direct conversations.
pub async fn direct_connections(app: &AppState, who: &Identity, q: ListQuery) -> AppResult<Listed> {
    list(app, who, ListQuery { kind: Some(ConversationType::Direct.as_str().into()), ..q }).await
}

/// What a client needs to render one conversation.
pub async fn context(app: &AppState, who: &Identity, conversation_id: &str) -> AppResult<Value> {
    inbox::context(&app.db, &app.presence, who, ConversationId::parse(conversation_id)?).await
}

#[derive(Debug, Deserialize)]
pub struct DirectConnectInput {
    pub target_user_id: String,
    #[serde(default)]
    pub initial_message: Option<String>,
}

pub struct Connected {
    pub conversation: conversation::Model,
    pub created: bool,
    pub message: Option<Value>,
}

/// Finds or opens the caller's direct conversation with another user (one
/// per pair), sending the initial message when one is given.
pub async fn direct_connect(app: &AppState, who: &Identity, input: DirectConnectInput) -> AppResult<Connected> {
    app.spend(Limit::Writes, who).await?;
    let target = input.target_user_id.trim();
    if target == app.settings.system_user_id {
        return Err(AppError::invalid_field("target_user_id", "is the system user, which takes no conversations"));
    }
    let target = validate::user_id("target_user_id", target)?;
    if target == who.user_id {
        return Err(AppError::invalid_field("target_user_id", "cannot start a conversation with yourself"));
    }
    let now = app.clock.now();
    users::ensure_exists(&app.db, &target, now).await?;
    let (mut conversation, created) =
        conversations::open_direct(&app.db, &app.webhooks, &who.user_id, &target, now).await?;
    let mut message = None;
    if let Some(text) = input.initial_message.filter(|t| !t.trim().is_empty()) {
        let draft = Draft {
            conversation_id: ConversationId(conversation.id),
            text,
            media_url: None,
            client_message_id: None,
            expires_in: None,
            reply_to: None,
        };
        let sent = super::messages::deliver(app, who, draft).await?;
        message = Some(message_json(&sent.message));
        conversation = sent.conversation;
    }
    Ok(Connected { conversation, created, message })
}

/// One conversation as `user_id`'s list shows it, in the older protocol's
/// `conversations:upsert` shape; none when the user takes no part in it.
pub async fn summary(app: &AppState, user_id: &str, id: uuid::Uuid) -> AppResult<Option<Value>> {
    let c = conversations::load(&app.db, ConversationId(id)).await?;
    if conversations::participant(&c, user_id).is_none() {
        return Ok(None);
    }
    let reader = Identity {
        user_id: user_id.to_string(),
        role: users::Role::Other(String::new()),
        name: None,
        email: None,
        phone: None,
    };
    let updated_at = crate::domain::clock::rfc3339(&c.updated_at.max(c.last_message_at));
    let Some(row) = inbox::summaries(&app.db, &app.presence, &reader, vec![c], app.clock.now()).await?.pop() else {
        return Ok(None);
    };
    Ok(Some(serde_json::json!({
        "conversation_id": row["id"],
        "updated_at": updated_at,
        "created_at": row["created_at"],
        "chat_status": row["chat_status"],
        "flow_state": row["flow_state"],
        "awaiting_role": row["awaiting_role"],
        "unread_count": row["unread_count"],
        "other_user": row["other_user"],
        "last_message": row["last_message"],
    })))
}

/// `PUT /api/messages/conversations/:id/settings {message_ttl_seconds}`.
#[derive(Debug, Deserialize)]
pub struct SettingsInput {
    /// `null` turns disappearing messages off.
    pub message_ttl_seconds: Option<i64>,
}

pub struct SettingsChanged {
    pub conversation: conversation::Model,
    /// The system notice that records the change.
    pub notice: Value,
}

/// Either participant sets how long later messages live; a system notice
/// tells both.
pub async fn set_message_ttl(
    app: &AppState,
    who: &Identity,
    conversation_id: &str,
    input: SettingsInput,
) -> AppResult<SettingsChanged> {
    app.spend(Limit::Writes, who).await?;
    let (c, _) = conversations::writable(&app.db, ConversationId::parse(conversation_id)?, who).await?;
    let ttl = input
        .message_ttl_seconds
        .map(|s| crate::domain::expiry::ttl("message_ttl_seconds", s, app.settings.time_rules.message_ttl_min))
        .transpose()?;
    let now = app.clock.now();
    let c = conversations::set_message_ttl(&app.db, &c, ttl, now).await?;
    app.writer.forget(c.id);
    let who_name = who.name.clone().unwrap_or_else(|| who.user_id.clone());
    let text = match ttl {
        Some(s) => format!("{who_name} turned on disappearing messages: new messages disappear after {}", lifetime(s)),
        None => format!("{who_name} turned off disappearing messages"),
    };
    let notice = crate::domain::messages::system::Notice {
        system_user_id: &app.settings.system_user_id,
        text,
        action_data: Some(
            serde_json::json!({ "type": "message_ttl", "message_ttl_seconds": ttl, "set_by": who.user_id }),
        ),
        idempotency_key: None,
        track_emits: app.redis.is_some(),
    };
    let posted = crate::domain::messages::system::post(&app.db, &app.webhooks, &c, notice, now).await?;
    app.emitter.publish(posted.events).await;
    Ok(SettingsChanged { conversation: c, notice: message_json(&posted.message) })
}

/// "1 hour", "2 days", "90 minutes".
fn lifetime(seconds: i64) -> String {
    let (n, unit) = if seconds % 86_400 == 0 {
        (seconds / 86_400, "day")
    } else if seconds % 3_600 == 0 {
        (seconds / 3_600, "hour")
    } else if seconds % 60 == 0 {
        (seconds / 60, "minute")
    } else {
        (seconds, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

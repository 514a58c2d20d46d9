//! Sending, reading history, catching up, read receipts and unread counts;
//! edits, deletes and reactions in [`ops`].

mod ops;

pub use ops::{EditInput, Reacted, ReactionInput, delete, edit, react, react_json};

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Map, Value, json, value::RawValue};
use uuid::Uuid;

use super::AppState;
use crate::{
    domain::{
        conversations,
        events::message_json,
        expiry,
        ids::{ConversationId, MessageId},
        limits::Limit,
        messages::{self, Draft, Window},
        pagination::Page,
        users::{Claimed, Identity},
    },
    error::AppResult,
};

/// `send_message` / `POST /api/messages/send`, in either spelling.
#[derive(Debug, Default, Deserialize)]
pub struct SendInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(default)]
    pub message: Option<String>,
    #[serde(default, alias = "mediaUrl")]
    pub media_url: Option<String>,
    #[serde(default, alias = "clientMessageId")]
    pub client_message_id: Option<String>,
    /// Seconds until the message disappears.
    #[serde(default, alias = "expiresIn")]
    pub expires_in: Option<i64>,
    /// The id of the message this one quotes.
    #[serde(default, alias = "replyTo")]
    pub reply_to: Option<String>,
    #[serde(flatten)]
    pub claimed: Claimed,
}

pub struct Sent {
    /// The message as clients see it.
    pub message: Box<RawValue>,
    /// False when a repeated client message id returned the stored message.
    pub created: bool,
}

/// Stores a user's message, then publishes it.
pub async fn send(app: &AppState, who: &Identity, input: SendInput) -> AppResult<Sent> {
    app.spend(Limit::Messages, who).await?;
    input.claimed.check(who)?;
    let min = app.settings.time_rules.message_ttl_min;
    let draft = Draft {
        conversation_id: ConversationId::parse(&input.conversation_id)?,
        text: input.message.unwrap_or_default(),
        media_url: input.media_url.filter(|u| !u.trim().is_empty()),
        client_message_id: input.client_message_id,
        expires_in: input.expires_in.map(|s| expiry::ttl("expires_in", s, min)).transpose()?,
        reply_to: reply_to(input.reply_to.as_deref())?,
    };
    let sent = deliver(app, who, draft).await?;
    Ok(Sent { message: sent.json, created: sent.created })
}

/// A reply's quoted message id; an empty one is no reply.
fn reply_to(raw: Option<&str>) -> AppResult<Option<MessageId>> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => uuid::Uuid::parse_str(id)
            .map(|u| Some(MessageId(u)))
            .map_err(|_| crate::error::AppError::invalid_field("reply_to", "must be a message id")),
        None => Ok(None),
    }
}

/// The one way a user's message is stored and published, whichever
/// operation sends it: the pre-send hook first (a repeated client message
/// id is answered with the stored message without asking it again).
pub(super) async fn deliver(app: &AppState, who: &Identity, mut draft: Draft) -> AppResult<messages::Sent> {
    if let Some(hook) = &app.presend {
        if let Some(stored) = messages::repeat_of(&app.db, who, &draft).await? {
            return Ok(stored);
        }
        draft.text = super::presend::screen(app, hook, who, &draft).await?;
    }
    let mut sent = messages::send(&app.db, &app.writer, who, draft).await?;
    app.emitter.publish(std::mem::take(&mut sent.events)).await;
    if sent.created {
        app.metrics.messages_sent.inc();
        if sent.message.expires_at.is_some() {
            app.alarm.ring();
        }
    }
    Ok(sent)
}

/// `GET /api/messages/quota`: the caller's free messages and points.
pub async fn quota(app: &AppState, who: &Identity) -> AppResult<Value> {
    let q = app.writer.quota();
    let state = crate::domain::quota::state(&app.db, q, &who.user_id, app.clock.now()).await?;
    let mut body = serde_json::to_value(state).map_err(crate::error::AppError::internal)?;
    body["enabled"] = json!(q.enabled());
    Ok(body)
}

/// The query of a history read: a page, or a cursor.
#[derive(Debug, Default, Deserialize)]
pub struct HistoryQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    pub before: Option<String>,
    pub after: Option<String>,
}

pub struct History {
    pub messages: Vec<Value>,
    pub pagination: Value,
}

/// A window of a conversation's history, for participants and admins.
pub async fn history(app: &AppState, who: &Identity, conversation_id: &str, q: HistoryQuery) -> AppResult<History> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 50)?;
    read(app, who, conversation_id, page, q.before.as_deref(), q.after.as_deref()).await
}

async fn read(
    app: &AppState,
    who: &Identity,
    conversation_id: &str,
    page: Page,
    before: Option<&str>,
    after: Option<&str>,
) -> AppResult<History> {
    let window = Window::parse(page, before, after)?;
    let c = conversations::readable(&app.db, ConversationId::parse(conversation_id)?, who).await?;
    let (rows, pagination) = messages::history(&app.db, &c, who, window, app.clock.now()).await?;
    Ok(History { messages: rows.iter().map(message_json).collect(), pagination })
}

/// `sync_messages {conversationId, after?, limit?}`.
#[derive(Debug, Deserialize)]
pub struct SyncInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(default)]
    pub after: Option<String>,
    #[serde(default)]
    pub limit: Option<u64>,
}

/// Catch-up after a reconnect: the messages after `after` (oldest first),
/// or the newest page when `after` is absent.
pub async fn sync(app: &AppState, who: &Identity, input: SyncInput) -> AppResult<History> {
    let limit = input.limit.map(|l| l.to_string());
    let page = Page::parse(None, limit.as_deref(), 100)?;
    read(app, who, &input.conversation_id, page, None, input.after.as_deref()).await
}

/// `mark_seen {messageId, conversationId}`; REST marks everything.
#[derive(Debug, Deserialize)]
pub struct SeenInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(default, alias = "messageId")]
    pub message_id: Option<String>,
    #[serde(flatten)]
    pub claimed: Claimed,
}

pub struct Seen {
    pub message_ids: Vec<Uuid>,
}

impl Seen {
    pub fn count(&self) -> usize {
        self.message_ids.len()
    }
}

/// Marks messages addressed to the caller as seen: up to `message_id`, or all.
pub async fn mark_seen(app: &AppState, who: &Identity, input: SeenInput) -> AppResult<Seen> {
    app.spend(Limit::Writes, who).await?;
    input.claimed.check(who)?;
    let up_to = input.message_id.as_deref().map(MessageId::parse).transpose()?;
    let id = ConversationId::parse(&input.conversation_id)?;
    let out = messages::mark_seen(&app.db, &app.webhooks, who, id, up_to, app.clock.now()).await?;
    app.emitter.publish(out.events).await;
    Ok(Seen { message_ids: out.message_ids })
}

/// The caller's unread counts: the total and per conversation.
pub struct UnreadCounts {
    pub total: u64,
    pub by_conversation: HashMap<Uuid, u64>,
}

impl UnreadCounts {
    pub fn json(&self) -> Value {
        let map: Map<String, Value> = self.by_conversation.iter().map(|(id, n)| (id.to_string(), json!(n))).collect();
        json!({ "unread_count": self.total, "conversations": map })
    }
}

pub async fn unread_counts(app: &AppState, who: &Identity) -> AppResult<UnreadCounts> {
    let by_conversation = messages::unread_by_conversation(&app.db, &who.user_id, None).await?;
    Ok(UnreadCounts { total: by_conversation.values().sum(), by_conversation })
}

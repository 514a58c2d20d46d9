//! Messages over the socket: send, read receipts and catch-up. Each calls
//! the same domain function as its REST twin.

use serde::{Deserialize, Serialize};
use serde_json::{
    Value, json,
    value::{RawValue, to_raw_value},
};
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, State, TryData},
};

use super::reply::{Answer, Reply, finish, payload};
use crate::domain::limits::Kind;
use crate::{
    domain::{
        conversations,
        events::message_json,
        ids::{ConversationId, MessageId},
        messages::{self, SendInput, Window},
        pagination::Page,
        users::Identity,
    },
    error::{AppError, AppResult},
    state::AppState,
};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendMessage {
    #[serde(alias = "conversation_id")]
    conversation_id: String,
    #[serde(default)]
    message: Option<String>,
    #[serde(alias = "media_url")]
    media_url: Option<String>,
    #[serde(alias = "client_message_id")]
    client_message_id: Option<String>,
    #[serde(alias = "sender_id")]
    sender_id: Option<Value>,
    #[serde(alias = "user_id")]
    user_id: Option<Value>,
}

pub async fn send_message<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let client_message_id =
        data.as_ref().ok().and_then(|v| v.get("clientMessageId")).and_then(Value::as_str).map(str::to_owned);
    let result: AppResult<_> = async {
        app.limiter.check(Kind::Messages, &who.user_id).await?;
        let p: SendMessage = payload(data)?;
        who.must_be_self(&[p.sender_id.as_ref(), p.user_id.as_ref()])?;
        let out = messages::send(
            &app.db,
            &app.writer,
            &who,
            SendInput {
                conversation_id: ConversationId::parse(&p.conversation_id)?,
                text: p.message.unwrap_or_default(),
                media_url: p.media_url.filter(|u| !u.trim().is_empty()),
                client_message_id: p.client_message_id,
            },
        )
        .await?;
        if out.created {
            app.metrics.messages_sent.inc();
        }
        #[derive(Serialize)]
        struct Sent<'a> {
            success: bool,
            message: &'a RawValue,
        }
        let envelope =
            Answer::Envelope(to_raw_value(&Sent { success: true, message: &out.json }).map_err(AppError::internal)?);
        Ok((envelope, out.events))
    }
    .await;
    finish(&app, reply, "send_message", result, client_message_id.as_deref()).await;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct MarkSeen {
    #[serde(alias = "message_id")]
    message_id: String,
    #[serde(alias = "conversation_id")]
    conversation_id: String,
    #[serde(alias = "user_id")]
    user_id: Option<Value>,
}

pub async fn mark_seen<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        let p: MarkSeen = payload(data)?;
        who.must_be_self(&[p.user_id.as_ref()])?;
        let message_id = MessageId::parse(&p.message_id)?;
        let out =
            messages::mark_seen(&app.db, &who, ConversationId::parse(&p.conversation_id)?, Some(message_id)).await?;
        Ok((json!({ "seen_count": out.seen_count }), out.events))
    }
    .await;
    finish(&app, reply, "mark_seen", result, None).await;
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SyncMessages {
    #[serde(alias = "conversation_id")]
    conversation_id: String,
    after: Option<String>,
    limit: Option<u64>,
}

/// Catch-up after a reconnect: the messages after `after` (oldest first),
/// or the newest page when `after` is absent.
pub async fn sync_messages<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        let p: SyncMessages = payload(data)?;
        let limit = p.limit.map(|l| l.to_string());
        let page = Page::parse(None, limit.as_deref(), 100)?;
        let window = Window::parse(page, None, p.after.as_deref())?;
        let c = conversations::readable(&app.db, ConversationId::parse(&p.conversation_id)?, &who).await?;
        let (rows, pagination) = messages::history(&app.db, &c, &who, window).await?;
        let items: Vec<Value> = rows.iter().map(message_json).collect();
        Ok((json!({ "messages": items, "has_more": pagination["has_more"] }), vec![]))
    }
    .await;
    finish(&app, reply, "sync_messages", result, None).await;
}

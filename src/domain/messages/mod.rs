//! Messages: sending (idempotent per client message id), history with pages
//! and cursors, read receipts and unread counts.

mod history;
pub mod ops;
mod react;
pub mod reactions;
mod seen;
pub mod system;
mod unread;
mod writer;

use entity::{conversation, message};
use serde_json::value::RawValue;

pub use history::{Window, history, last_visible, visible_messages};
pub use ops::{Changed, EarlierText, delete, edit, edit_history};
pub use react::{Reacted, Reaction, react};
pub use reactions::{Reactions, StoredView};
pub use seen::{SeenOutcome, mark_emitted, mark_seen, pending_emits};
pub use unread::{
    Unarchived, UnreadOf, count_unread, uncount, unread_added, unread_by_conversation, unread_of, unread_of_query,
    unread_statements, unread_update,
};
use writer::Written;
pub use writer::{BatchMetrics, Effects, Participants, Writer};

use super::{
    conversations,
    events::{self, Outbound},
    ids::{ConversationId, MessageId},
    names::{ConversationType, MessageType},
    notifications, outbox,
    users::Identity,
    validate,
};
use crate::error::{AppError, AppResult};

/// A user's message as given, before it is checked.
pub struct Draft {
    pub conversation_id: ConversationId,
    pub text: String,
    pub media_url: Option<String>,
    pub client_message_id: Option<String>,
    /// Its own lifetime in seconds (already checked), else the conversation's default.
    pub expires_in: Option<i64>,
    /// The message it quotes.
    pub reply_to: Option<MessageId>,
}

pub struct Sent {
    pub message: message::Model,
    /// What the automatic rules found that an admin should look at.
    pub findings: Findings,
    /// `message` as clients see it (written once, shared by the events and the answer).
    pub json: Box<RawValue>,
    pub conversation: conversation::Model,
    /// False when a repeated client message id returned the stored message.
    pub created: bool,
    pub events: Vec<Outbound>,
}

/// What the automatic rules found in a message just stored.
#[derive(Debug, Default)]
pub struct Findings {
    /// The blocklist entry it contains (the list flags rather than blocks).
    pub blocklisted: Option<String>,
    /// Its sender has now sent the same text into too many conversations.
    pub repeated: bool,
}

/// Sends a user's message through the group-commit writer. The message is
/// committed before any event is returned; a repeated client message id
/// returns the stored message and no events.
#[tracing::instrument(skip_all, fields(conversation_id = %draft.conversation_id, user_id = %who.user_id))]
pub async fn send(db: &sea_orm::DatabaseConnection, writer: &Writer, who: &Identity, draft: Draft) -> AppResult<Sent> {
    let media_url = draft.media_url.as_deref().map(|u| validate::media_url("media_url", u)).transpose()?;
    let text = validate::message_text(&draft.text, media_url.is_some())?;
    let client_message_id = draft
        .client_message_id
        .as_deref()
        .map(|id| validate::client_message_id("client_message_id", id))
        .transpose()?;
    let participants = writer.participants_of(db, draft.conversation_id).await?;
    let receiver = participants.receiver_for(who)?;
    // Free text in a flow conversation comes after payment: contact
    // details are masked in direct conversations only.
    let before_payment = participants.conversation_type == ConversationType::Direct.as_str();
    let screened = writer.moderation().screen(&text, before_payment)?;
    let moderation = screened.moderation();
    let now = writer.clock().now();
    let lifetime = draft.expires_in.or(participants.message_ttl_seconds);
    let reply_to = match draft.reply_to {
        Some(quoted) => Some(ops::quote_for_reply(db, who, draft.conversation_id, quoted, now).await?),
        None => None,
    };
    let row = message::Model {
        media_url,
        client_message_id,
        expires_at: lifetime.map(|s| now + chrono::Duration::seconds(s)),
        original_message: screened.original,
        moderation,
        reply_to_id: draft.reply_to.map(|id| id.0),
        reply_to,
        ..new_row(
            draft.conversation_id.0,
            who.user_id.clone(),
            receiver,
            screened.text.clone(),
            MessageType::UserInput,
            now,
        )
    };
    let json = message_text(&row)?;
    let mut effects = effects_of(writer, who, &row, &json)?;
    effects.charge = writer.quota().applies_to(&participants.conversation_type);
    let (written, c) = writer.write(row, effects).await?;
    let fresh = match written {
        Written::Existing(m) => {
            let m = *m;
            let json = message_text(&m)?;
            let findings = Findings::default();
            return Ok(Sent { message: m, findings, json, conversation: c, created: false, events: vec![] });
        }
        Written::New(fresh) => *fresh,
    };
    let row = fresh.message;
    let mut events = vec![events::new_message_as(&c, &row, &*json)];
    // A muted conversation still counts unread, but its receiver is not notified.
    if !fresh.unread.muted {
        events.extend(fresh.notification.as_ref().map(notifications::event));
    }
    events.push(unread::unread_event(&row.receiver_id, c.id, fresh.unread));
    // The receiver's other devices hear that the conversation left their archive.
    if let Some(now_set) = &fresh.unread.unarchived {
        events.push(super::settings::updated_event(&row.receiver_id, c.id, now_set, row.created_at));
    }
    if let Some(q) = &fresh.quota {
        events.push(quota_event(&row.sender_id, q));
    }
    let said = row.original_message.as_deref().unwrap_or(&row.message);
    let findings = Findings {
        blocklisted: screened.blocklisted,
        repeated: writer.moderation().repeats().record(&row.sender_id, said, row.conversation_id, row.created_at),
    };
    Ok(Sent { message: row, findings, json, conversation: c, created: true, events })
}

/// A message as first stored, by `sender` to `receiver`: not yet seen,
/// edited, deleted, quoted or reacted to, and found by its words. Callers
/// set what differs with `..`.
pub fn new_row(
    conversation_id: uuid::Uuid,
    sender: String,
    receiver: String,
    text: String,
    kind: MessageType,
    now: chrono::DateTime<chrono::Utc>,
) -> message::Model {
    message::Model {
        id: MessageId::new().0,
        conversation_id,
        sender_id: sender,
        receiver_id: receiver,
        search_text: super::search::stored(&text),
        message: text,
        media_url: None,
        message_type: kind.as_str().into(),
        action_required: false,
        action_data: None,
        is_automated: false,
        action_completed: false,
        seen: false,
        seen_at: None,
        client_message_id: None,
        expires_at: None,
        emit_pending: true,
        created_at: now,
        original_message: None,
        moderation: None,
        edited_at: None,
        deleted_at: None,
        reply_to_id: None,
        reply_to: None,
        reactions: None,
    }
}

/// A message repeating a stored one's client message id (same
/// conversation and sender) is not stored again.
pub fn repeat_conflict() -> sea_orm::sea_query::OnConflict {
    sea_orm::sea_query::OnConflict::columns([
        message::Column::ConversationId,
        message::Column::SenderId,
        message::Column::ClientMessageId,
    ])
    .do_nothing()
    .to_owned()
}

/// `quota_updated` to the sender's devices.
pub fn quota_event(user_id: &str, q: &super::quota::State) -> Outbound {
    Outbound::new("quota_updated", vec![events::user_room(user_id)], serde_json::to_value(q).unwrap_or_default())
}

/// The stored message a send with this client message id already made.
pub async fn repeat_of(db: &sea_orm::DatabaseConnection, who: &Identity, draft: &Draft) -> AppResult<Option<Sent>> {
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
    let Some(cmid) = draft.client_message_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let Some(m) = message::Entity::find()
        .filter(message::Column::ConversationId.eq(draft.conversation_id.0))
        .filter(message::Column::SenderId.eq(who.user_id.as_str()))
        .filter(message::Column::ClientMessageId.eq(cmid))
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let conversation = conversations::load(db, draft.conversation_id).await?;
    let json = message_text(&m)?;
    Ok(Some(Sent { message: m, findings: Findings::default(), json, conversation, created: false, events: vec![] }))
}

/// What storing a user's message causes: its receiver's notification and
/// its `message.new` webhook, written with it.
fn effects_of(writer: &Writer, who: &Identity, row: &message::Model, json: &RawValue) -> AppResult<Effects> {
    let message: serde_json::Value = serde_json::from_str(json.get()).map_err(AppError::internal)?;
    let notification =
        notifications::new_message(&row.receiver_id, row.conversation_id, message, &row.sender_id, who.name.as_deref());
    let data = events::MessageNew { conversation_id: row.conversation_id, message: json };
    let webhook =
        outbox::event(writer.webhooks(), outbox::MESSAGE_NEW, &data, row.created_at)?.map(|e| e.about(row.id));
    Ok(Effects { notification: Some(notification), webhook, charge: false })
}

/// A message as clients see it, written as JSON text once.
fn message_text(m: &message::Model) -> AppResult<Box<RawValue>> {
    serde_json::value::to_raw_value(&events::MessageView::from(m)).map_err(AppError::internal)
}

impl Participants {
    /// The other participant, for a sender who takes part.
    fn receiver_for(&self, who: &Identity) -> AppResult<String> {
        if self.user1_id == who.user_id {
            Ok(self.user2_id.clone())
        } else if self.user2_id == who.user_id {
            Ok(self.user1_id.clone())
        } else if who.is_admin() {
            Err(conversations::admins_do_not_act())
        } else {
            Err(AppError::forbidden("You are not a participant of this conversation"))
        }
    }
}

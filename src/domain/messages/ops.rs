//! Changing a stored message: the sender's edits (earlier texts kept for
//! admins), soft deletes that leave a tombstone, and the quotes of replies.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{conversation, message, message_edit};
use sea_orm::{ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::unread;
use crate::{
    domain::{
        clock, conversations,
        events::{self, MessageView, Outbound},
        ids::{ConversationId, MessageId},
        moderation,
        names::{ConversationType, MessageType},
        outbox, search,
        users::Identity,
        validate,
    },
    error::{AppError, AppResult},
};

/// Characters of the quoted text a reply carries.
pub const QUOTE_CHARS: usize = 200;

/// A message after an operation, with the events to publish after commit
/// (none when the operation changed nothing).
pub struct Changed {
    pub message: message::Model,
    pub conversation: conversation::Model,
    pub events: Vec<Outbound>,
}

/// Whether `who` may see `m` at `now`: not expired, and another user's
/// audit message only for admins (the same rule as history).
pub fn may_see(m: &message::Model, who: &Identity, now: DateTime<Utc>) -> bool {
    let live = m.expires_at.is_none_or(|at| at > now);
    let audit_ok = m.message_type != MessageType::Audit || m.receiver_id == who.user_id || who.is_admin();
    live && audit_ok
}

/// A message the caller may see, with its conversation (which the caller
/// may read). Anything else is not found.
pub async fn visible(
    db: &impl ConnectionTrait,
    who: &Identity,
    id: MessageId,
    now: DateTime<Utc>,
) -> AppResult<(message::Model, conversation::Model)> {
    let m = message::Entity::find_by_id(id.0).one(db).await?.ok_or_else(|| AppError::not_found("Message"))?;
    let c = conversations::load(db, ConversationId(m.conversation_id)).await?;
    if conversations::may_read(&c, who).is_err() || !may_see(&m, who, now) {
        return Err(AppError::not_found("Message"));
    }
    Ok((m, c))
}

/// The quote a reply to `m` shows.
pub fn quote(m: &message::Model) -> Value {
    let text: String =
        if m.deleted_at.is_some() { String::new() } else { m.message.chars().take(QUOTE_CHARS).collect() };
    json!({ "id": m.id, "sender_id": m.sender_id, "message": text })
}

/// The quote for a new reply: a message of the same conversation that the
/// sender may see.
pub async fn quote_for_reply(
    db: &impl ConnectionTrait,
    who: &Identity,
    conversation_id: ConversationId,
    reply_to: MessageId,
    now: DateTime<Utc>,
) -> AppResult<Value> {
    let quoted = message::Entity::find_by_id(reply_to.0).one(db).await?;
    match quoted {
        Some(m) if m.conversation_id == conversation_id.0 && may_see(&m, who, now) => Ok(quote(&m)),
        _ => Err(AppError::invalid_field("reply_to", "must be a message of this conversation that you can see")),
    }
}

/// Replies show their quote's current text.
async fn requote(db: &impl ConnectionTrait, m: &message::Model) -> AppResult<()> {
    message::Entity::update_many()
        .set(message::ActiveModel { reply_to: Set(Some(quote(m))), ..Default::default() })
        .filter(message::Column::ReplyToId.eq(m.id))
        .exec(db)
        .await?;
    Ok(())
}

async fn keep_earlier_text(
    db: &impl ConnectionTrait,
    m: &message::Model,
    editor: &str,
    kind: &str,
    now: DateTime<Utc>,
) -> AppResult<()> {
    message_edit::Entity::insert(message_edit::ActiveModel {
        id: Set(Uuid::now_v7()),
        message_id: Set(m.id),
        message: Set(m.message.clone()),
        editor_id: Set(editor.to_string()),
        kind: Set(kind.to_string()),
        created_at: Set(now),
    })
    .exec_without_returning(db)
    .await?;
    Ok(())
}

/// `message_updated {conversation_id, message}` to the message's audience.
fn updated_event(c: &conversation::Model, m: &message::Model) -> Outbound {
    #[derive(Serialize)]
    struct Updated<'a> {
        conversation_id: Uuid,
        message: MessageView<'a>,
    }
    let data = events::Payload::text(&Updated { conversation_id: c.id, message: m.into() });
    Outbound::new("message_updated", events::message_audience(c, m), data)
}

/// The sender edits its own `user_input` message within the edit window
/// (`window` zero: no limit), outside closed conversations, while it is not
/// deleted. The same text is no change: nothing is stored or sent.
#[tracing::instrument(skip_all, fields(message_id = %id, user_id = %who.user_id))]
#[allow(clippy::too_many_arguments)]
pub async fn edit(
    db: &DatabaseConnection,
    hooks: &outbox::Webhooks,
    rules: &moderation::Rules,
    who: &Identity,
    id: MessageId,
    text: &str,
    window: Duration,
    now: DateTime<Utc>,
) -> AppResult<Changed> {
    let (m, c) = visible(db, who, id, now).await?;
    if m.sender_id != who.user_id || m.message_type != MessageType::UserInput {
        return Err(AppError::forbidden("Only the sender may edit a message, and only its own user message"));
    }
    if m.deleted_at.is_some() {
        return Err(AppError::invalid_field("messageId", "the message was deleted"));
    }
    if conversations::is_closed(&c) {
        return Err(AppError::closed());
    }
    let age = (now - m.created_at).to_std().unwrap_or_default();
    if !window.is_zero() && age > window {
        let ms = u64::try_from(window.as_millis()).unwrap_or(u64::MAX);
        return Err(AppError::validation(
            format!("messageId: messages can be edited for {} after they are sent", spoken(window)),
            json!({ "messageId": "the edit window has passed", "edit_window_ms": ms }),
        ));
    }
    let text = validate::message_text(text, m.media_url.is_some())?;
    // An edit passes the same rules as a new message.
    let screened = rules.screen(&text, c.conversation_type == ConversationType::Direct.as_str())?;
    let moderation = screened.moderation();
    let (text, original) = (screened.text, screened.original);
    if text == m.message {
        return Ok(Changed { message: m, conversation: c, events: vec![] });
    }
    let txn = crate::db::begin_write(db).await?;
    let set = message::ActiveModel {
        message: Set(text.clone()),
        edited_at: Set(Some(now)),
        original_message: Set(original.clone()),
        moderation: Set(moderation.clone()),
        search_text: Set(search::stored(&text)),
        ..Default::default()
    };
    if !update_live(&txn, m.id, set).await? {
        txn.rollback().await?;
        return Err(AppError::invalid_field("messageId", "the message was deleted"));
    }
    let earlier = as_said(m);
    keep_earlier_text(&txn, &earlier, &who.user_id, "edit", now).await?;
    let search_text = search::stored(&text);
    let edited = message::Model {
        message: text,
        edited_at: Some(now),
        original_message: original,
        moderation,
        search_text,
        ..earlier
    };
    requote(&txn, &edited).await?;
    let data = events::MessageNew { conversation_id: c.id, message: MessageView::from(&edited) };
    let hook = outbox::event(hooks, outbox::MESSAGE_UPDATED, &data, now)?.map(|e| e.about(edited.id));
    outbox::enqueue(&txn, hooks, hook.into_iter().collect()).await?;
    txn.commit().await?;
    let events = vec![updated_event(&c, &edited)];
    Ok(Changed { message: edited, conversation: c, events })
}

/// Soft delete: the sender on its own `user_input` message, or an admin on
/// any message. The row stays as a tombstone (no text, media or
/// reactions); an unread one stops counting. Deleting again changes nothing.
#[tracing::instrument(skip_all, fields(message_id = %id, user_id = %who.user_id))]
pub async fn delete(
    db: &DatabaseConnection,
    hooks: &outbox::Webhooks,
    who: &Identity,
    id: MessageId,
    now: DateTime<Utc>,
) -> AppResult<Changed> {
    let (m, c) = visible(db, who, id, now).await?;
    let own = m.sender_id == who.user_id && m.message_type == MessageType::UserInput;
    if !own && !who.is_admin() {
        return Err(AppError::forbidden("Only the sender may delete a message, and only its own user message"));
    }
    if m.deleted_at.is_some() {
        return Ok(Changed { message: m, conversation: c, events: vec![] });
    }
    let txn = crate::db::begin_write(db).await?;
    let tombstone = message::ActiveModel {
        message: Set(String::new()),
        media_url: Set(None),
        reactions: Set(None),
        deleted_at: Set(Some(now)),
        // Out of the search index in the same statement.
        search_text: Set(None),
        moderation: Set(None),
        ..Default::default()
    };
    if !update_live(&txn, m.id, tombstone).await? {
        // Someone else deleted it first: their change is the one reported.
        txn.rollback().await?;
        let stored = message::Entity::find_by_id(m.id).one(db).await?.ok_or_else(|| AppError::not_found("Message"))?;
        return Ok(Changed { message: stored, conversation: c, events: vec![] });
    }
    let said = as_said(m.clone());
    keep_earlier_text(&txn, &said, &who.user_id, "delete", now).await?;
    let counted = !m.seen && m.sender_id != m.receiver_id;
    if counted {
        unread::recount(&txn, &m.receiver_id, c.id).await?;
    }
    let deleted = message::Model {
        message: String::new(),
        media_url: None,
        reactions: None,
        deleted_at: Some(now),
        moderation: None,
        ..m
    };
    requote(&txn, &deleted).await?;
    let gone = json!({ "conversation_id": c.id, "message_id": deleted.id, "deleted_at": clock::rfc3339(&now) });
    let hook = outbox::event(hooks, outbox::MESSAGE_DELETED, &gone, now)?.map(|e| e.about(deleted.id));
    outbox::enqueue(&txn, hooks, hook.into_iter().collect()).await?;
    txn.commit().await?;
    let mut events = vec![
        updated_event(&c, &deleted),
        Outbound::new("message_deleted", events::message_audience(&c, &deleted), gone),
    ];
    if counted {
        events.extend(unread::unread_update(db, &deleted.receiver_id, c.id).await);
    }
    Ok(Changed { message: deleted, conversation: c, events })
}

/// An earlier text of a message, for the admin views.
#[derive(Clone, Debug, Serialize)]
pub struct EarlierText {
    pub message: String,
    /// `edit` or `delete`: the change that replaced this text.
    pub replaced_by: String,
    pub editor_id: String,
    pub replaced_at: String,
}

/// The texts a message had before each edit (and before its deletion),
/// oldest first. For admins only: callers check the role.
pub async fn edit_history(db: &impl ConnectionTrait, message_id: Uuid) -> AppResult<Vec<EarlierText>> {
    let rows = message_edit::Entity::find()
        .filter(message_edit::Column::MessageId.eq(message_id))
        .order_by_asc(message_edit::Column::CreatedAt)
        .order_by_asc(message_edit::Column::Id)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| EarlierText {
            message: r.message,
            replaced_by: r.kind,
            editor_id: r.editor_id,
            replaced_at: clock::rfc3339(&r.created_at),
        })
        .collect())
}

/// Applies `set` to a message that is not deleted; false if it was (a
/// delete that committed first wins).
async fn update_live(txn: &impl ConnectionTrait, id: Uuid, set: message::ActiveModel) -> AppResult<bool> {
    let changed = message::Entity::update_many()
        .set(set)
        .filter(message::Column::Id.eq(id))
        .filter(message::Column::DeletedAt.is_null())
        .exec(txn)
        .await?;
    Ok(changed.rows_affected > 0)
}

/// The message with the text its sender wrote (before moderation masked it).
fn as_said(m: message::Model) -> message::Model {
    let message = m.original_message.clone().unwrap_or_else(|| m.message.clone());
    message::Model { message, ..m }
}

/// A duration as a person says it: "15 minutes", "90 seconds", "500 ms".
fn spoken(d: Duration) -> String {
    let (ms, s) = (d.as_millis(), d.as_secs());
    let plural = |n: u64, unit: &str| format!("{n} {unit}{}", if n == 1 { "" } else { "s" });
    if ms < 1000 || ms % 1000 != 0 {
        format!("{ms} ms")
    } else if s % 3600 == 0 {
        plural(s / 3600, "hour")
    } else if s % 60 == 0 {
        plural(s / 60, "minute")
    } else {
        plural(s, "second")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_are_spoken_in_their_largest_whole_unit() {
        let cases = [
            (900_000, "15 minutes"),
            (3_600_000, "1 hour"),
            (90_000, "90 seconds"),
            (1_000, "1 second"),
            (500, "500 ms"),
            (1_500, "1500 ms"),
        ];
        for (ms, said) in cases {
            assert_eq!(spoken(Duration::from_millis(ms)), said);
        }
    }
}

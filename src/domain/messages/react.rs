//! Adding and removing a participant's reaction to a message.

use chrono::{DateTime, Utc};
use entity::message;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set};
use serde_json::json;
use uuid::Uuid;

use super::{
    ops::visible,
    reactions::{self, Reactions},
};
use crate::{
    domain::{
        conversations,
        events::{self, Outbound},
        ids::MessageId,
        names::MessageType,
        outbox,
        users::Identity,
    },
    error::{AppError, AppResult},
};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reaction {
    Add,
    Remove,
}

pub struct Reacted {
    pub message_id: Uuid,
    pub conversation_id: Uuid,
    pub reactions: Reactions,
    pub events: Vec<Outbound>,
}

/// A participant adds or removes its reaction. Repeating either changes
/// nothing and sends nothing. Deleted messages, audit messages and closed
/// conversations take no reactions.
#[tracing::instrument(skip_all, fields(message_id = %id, user_id = %who.user_id))]
pub async fn react(
    db: &DatabaseConnection,
    hooks: &outbox::Webhooks,
    who: &Identity,
    id: MessageId,
    emoji: &str,
    how: Reaction,
    now: DateTime<Utc>,
) -> AppResult<Reacted> {
    let emoji = reactions::emoji(emoji)?;
    let (m, c) = visible(db, who, id, now).await?;
    conversations::may_act(&c, who)?;
    if m.deleted_at.is_some() {
        return Err(AppError::invalid_field("messageId", "the message was deleted"));
    }
    if m.message_type == MessageType::Audit {
        return Err(AppError::invalid_field("messageId", "audit messages take no reactions"));
    }
    if how == Reaction::Add && conversations::is_closed(&c) {
        return Err(AppError::closed());
    }
    let txn = crate::db::begin_write(db).await?;
    // Read again under the write lock (a row lock on PostgreSQL), so
    // concurrent reactions never overwrite each other.
    let row = message::Entity::find_by_id(m.id)
        .lock_exclusive()
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::not_found("Message"))?;
    let mut current = Reactions::from_stored(row.reactions.as_ref());
    let changed = match how {
        Reaction::Add => current.add(&emoji, &who.user_id)?,
        Reaction::Remove => current.remove(&emoji, &who.user_id),
    };
    if !changed || row.deleted_at.is_some() {
        txn.rollback().await?;
        return Ok(Reacted { message_id: m.id, conversation_id: c.id, reactions: current, events: vec![] });
    }
    message::Entity::update_many()
        .set(message::ActiveModel { reactions: Set(current.to_stored()), ..Default::default() })
        .filter(message::Column::Id.eq(m.id))
        .exec(&txn)
        .await?;
    let action = if how == Reaction::Add { "added" } else { "removed" };
    let data = json!({
        "conversation_id": c.id,
        "message_id": m.id,
        "reactions": current,
        "user_id": who.user_id,
        "emoji": emoji,
        "action": action,
    });
    let kind = if how == Reaction::Add { outbox::REACTION_ADDED } else { outbox::REACTION_REMOVED };
    let hook = outbox::event(hooks, kind, &data, now)?.map(|e| e.about(m.id));
    outbox::enqueue(&txn, hooks, hook.into_iter().collect()).await?;
    txn.commit().await?;
    let events = vec![Outbound::new("reaction_updated", vec![events::conversation_room(c.id)], data)];
    Ok(Reacted { message_id: m.id, conversation_id: c.id, reactions: current, events })
}

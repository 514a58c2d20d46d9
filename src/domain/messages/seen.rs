//! Read receipts, and the emit marks that let another node deliver what a
//! dead node stored but never emitted.

use chrono::{DateTime, Utc};
use entity::message;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{unread, visible_messages};
use crate::{
    domain::{
        clock, conversations,
        events::{self, Outbound},
        ids::{ConversationId, MessageId},
        notifications, outbox,
        users::Identity,
    },
    error::{AppError, AppResult},
};

pub struct SeenOutcome {
    /// The messages newly marked seen, oldest first.
    pub message_ids: Vec<Uuid>,
    pub events: Vec<Outbound>,
}

/// Reading a conversation also reads its `new_message` notification.
struct ReadNotifications(Vec<Uuid>);

impl SeenOutcome {
    pub fn seen_count(&self) -> u64 {
        self.message_ids.len() as u64
    }
}

/// Marks messages addressed to the caller as seen: all of them, or those up
/// to and including `up_to`.
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id, user_id = %who.user_id))]
pub async fn mark_seen(
    db: &DatabaseConnection,
    hooks: &outbox::Webhooks,
    who: &Identity,
    conversation_id: ConversationId,
    up_to: Option<MessageId>,
    now: DateTime<Utc>,
) -> AppResult<SeenOutcome> {
    let (c, _) = conversations::writable(db, conversation_id, who).await?;
    let mut addressed = Condition::all()
        .add(visible_messages(c.id, who, now))
        .add(message::Column::ReceiverId.eq(who.user_id.as_str()))
        .add(message::Column::SenderId.ne(who.user_id.as_str()));
    if let Some(id) = up_to {
        let exists = message::Entity::find()
            .filter(visible_messages(c.id, who, now))
            .filter(message::Column::Id.eq(id.0))
            .count(db)
            .await?;
        if exists == 0 {
            return Err(AppError::not_found("Message"));
        }
        addressed = addressed.add(message::Column::Id.lte(id.0));
    }
    // A deleted message no longer counts as unread, so it is never marked seen.
    let unseen = addressed.add(message::Column::Seen.eq(false)).add(message::Column::DeletedAt.is_null());
    let txn = crate::db::begin_write(db).await?;
    let ids: Vec<Uuid> = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(unseen)
        .order_by_asc(message::Column::Id)
        .into_tuple()
        .all(&txn)
        .await?;
    let Some(newest) = ids.last().copied() else {
        txn.commit().await?;
        return Ok(SeenOutcome { message_ids: vec![], events: vec![] });
    };
    for chunk in ids.chunks(500) {
        message::Entity::update_many()
            .col_expr(message::Column::Seen, Expr::value(true))
            .col_expr(message::Column::SeenAt, Expr::value(now))
            .filter(message::Column::Id.is_in(chunk.to_vec()))
            .exec(&txn)
            .await?;
    }
    unread::recount(&txn, &who.user_id, c.id).await?;
    let read = ReadNotifications(notifications::read_conversation(&txn, &who.user_id, c.id, now).await?);
    let seen = json!({
        "messageId": up_to.map(|m| m.0).unwrap_or(newest),
        "userId": who.user_id,
        "conversationId": c.id,
        "seen_at": clock::rfc3339(&now),
        "seen_count": ids.len(),
        "messageIds": ids,
    });
    let hook = outbox::event(hooks, outbox::MESSAGE_READ, &seen, now)?;
    outbox::enqueue(&txn, hooks, hook.into_iter().collect()).await?;
    txn.commit().await?;

    let other = conversations::other_participant(&c, &who.user_id).to_string();
    let mut events =
        vec![Outbound::new("message_seen", vec![events::conversation_room(c.id), events::user_room(&other)], seen)];
    events.extend(unread::unread_update(db, &who.user_id, c.id).await);
    if !read.0.is_empty() {
        match notifications::unread_count(db, &who.user_id).await {
            Ok(n) => events.push(notifications::updated_event(&who.user_id, &read.0, json!({ "read": true }), n)),
            Err(e) => e.log_and_drop("counting unread notifications"),
        }
    }
    Ok(SeenOutcome { message_ids: ids, events })
}

/// Clears the pending mark of messages that have been emitted.
pub async fn mark_emitted(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    message::Entity::update_many()
        .col_expr(message::Column::EmitPending, Expr::value(false))
        .filter(message::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// Messages stored before `before` whose emit was never confirmed: their
/// node died between commit and emit, or Redis was away.
pub async fn pending_emits(
    db: &impl ConnectionTrait,
    before: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::EmitPending.eq(true))
        .filter(message::Column::CreatedAt.lt(before))
        .order_by_asc(message::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

//! The offline email schedule, kept in the database so it survives a
//! restart: an unread `new_message` or `action_required` notification
//! carries `email_since` (when its burst began) until it is read or
//! emailed. A (user, conversation) is due once its earliest waiting
//! notification is `EMAIL_DELAY_MS` old. Whichever node claims the (user,
//! conversation) in `email_claims` sends; the claim is a lease, so a node
//! that dies mid-send frees it.

use chrono::{DateTime, Utc};
use entity::{email_claim, message, notification};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use crate::{domain::names::MessageType, error::AppResult};

/// (user, conversation) pairs whose earliest waiting notification began at
/// or before `cutoff` (now less the delay).
pub async fn due(db: &impl ConnectionTrait, cutoff: DateTime<Utc>, limit: u64) -> AppResult<Vec<(String, Uuid)>> {
    let rows: Vec<(String, Option<Uuid>)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::UserId)
        .column(notification::Column::ConversationId)
        .filter(notification::Column::EmailSince.lte(cutoff))
        .filter(notification::Column::Read.eq(false))
        .distinct()
        .limit(limit)
        .into_tuple()
        .all(db)
        .await?;
    Ok(rows.into_iter().filter_map(|(user, conv)| conv.map(|c| (user, c))).collect())
}

/// When the earliest waiting burst began (it is due a delay later).
pub async fn earliest(db: &impl ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    let first: Option<Option<DateTime<Utc>>> = notification::Entity::find()
        .select_only()
        .column(notification::Column::EmailSince)
        .filter(notification::Column::EmailSince.is_not_null())
        .order_by_asc(notification::Column::EmailSince)
        .limit(1)
        .into_tuple()
        .one(db)
        .await?;
    Ok(first.flatten())
}

/// Takes the (user, conversation) for `owner` until `lease_until`, unless
/// another node holds it. True when this node may send.
pub async fn claim(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> AppResult<bool> {
    let row = email_claim::ActiveModel {
        user_id: Set(user_id.to_string()),
        conversation_id: Set(conversation_id),
        owner: Set(owner.to_string()),
        lease_until: Set(lease_until),
        sent_at: Set(None),
    };
    let taken = email_claim::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([email_claim::Column::UserId, email_claim::Column::ConversationId])
                .update_columns([email_claim::Column::Owner, email_claim::Column::LeaseUntil])
                .action_and_where(email_claim::Column::LeaseUntil.lt(now))
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(taken == 1)
}

/// Frees the claim; `sent_at` records an email that went out.
pub async fn release(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    owner: &str,
    now: DateTime<Utc>,
    sent: bool,
) -> AppResult<()> {
    let mut update = email_claim::Entity::update_many().col_expr(email_claim::Column::LeaseUntil, Expr::value(now));
    if sent {
        update = update.col_expr(email_claim::Column::SentAt, Expr::value(now));
    }
    update
        .filter(email_claim::Column::UserId.eq(user_id))
        .filter(email_claim::Column::ConversationId.eq(conversation_id))
        .filter(email_claim::Column::Owner.eq(owner))
        .exec(db)
        .await?;
    Ok(())
}

/// The notifications of the (user, conversation) waiting for an email,
/// oldest burst first.
pub async fn waiting(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
) -> AppResult<Vec<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::ConversationId.eq(conversation_id))
        .filter(notification::Column::EmailSince.is_not_null())
        .filter(notification::Column::Read.eq(false))
        .order_by_asc(notification::Column::EmailSince)
        .all(db)
        .await?)
}

/// These notifications' burst is over (emailed, or not to be emailed).
/// One that a new message changed after `read_at` (when they were read for
/// the email) starts a new burst at that change instead.
pub async fn settle(db: &impl ConnectionTrait, ids: Vec<Uuid>, read_at: DateTime<Utc>) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    notification::Entity::update_many()
        .col_expr(notification::Column::EmailSince, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(notification::Column::Id.is_in(ids.clone()))
        .filter(notification::Column::UpdatedAt.lte(read_at))
        .exec(db)
        .await?;
    notification::Entity::update_many()
        .col_expr(notification::Column::EmailSince, Expr::col(notification::Column::UpdatedAt))
        .filter(notification::Column::Id.is_in(ids))
        .filter(notification::Column::UpdatedAt.gt(read_at))
        .filter(notification::Column::EmailSince.is_not_null())
        .exec(db)
        .await?;
    Ok(())
}

/// The unread messages of the conversation addressed to the user, oldest
/// first (at most `limit`), and how many there are in all.
pub async fn unread_messages(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    now: DateTime<Utc>,
    limit: u64,
) -> AppResult<(Vec<message::Model>, u64)> {
    let q = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::ReceiverId.eq(user_id))
        .filter(message::Column::SenderId.ne(user_id))
        .filter(message::Column::Seen.eq(false))
        .filter(message::Column::MessageType.ne(MessageType::Audit.as_str()))
        .filter(Condition::any().add(message::Column::ExpiresAt.is_null()).add(message::Column::ExpiresAt.gt(now)));
    let total = q.clone().count(db).await?;
    let rows = q.order_by_asc(message::Column::Id).limit(limit).all(db).await?;
    Ok((rows, total))
}

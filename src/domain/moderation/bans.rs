//! Bans: a banned user's sockets are closed on every node, new connections
//! are refused and REST calls answer `USER_BANNED` until the ban ends.

use chrono::{DateTime, Utc};
use entity::user_ban;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, sea_query::OnConflict};
use serde_json::{Value, json};

use crate::{
    domain::{clock, events, events::Outbound, outbox},
    error::{AppError, AppResult, ErrorCode},
};

/// The ban in force on `user_id` at `now`, if any.
pub async fn active(
    db: &impl ConnectionTrait,
    user_id: &str,
    now: DateTime<Utc>,
) -> AppResult<Option<user_ban::Model>> {
    let ban = user_ban::Entity::find_by_id(user_id.to_string()).one(db).await?;
    Ok(ban.filter(|b| b.until.is_none_or(|until| until > now)))
}

/// `USER_BANNED` (403) with `details: {until}`.
pub fn refused(b: &user_ban::Model) -> AppError {
    AppError::new(ErrorCode::UserBanned, "This account is banned")
        .with_details(json!({ "until": b.until.as_ref().map(clock::rfc3339), "reason": b.reason }))
}

/// Bans (or re-bans) a user in the caller's transaction, with the
/// `user.banned` webhook; returns the ban and the events that close the
/// user's sockets after commit.
pub async fn ban(
    db: &impl ConnectionTrait,
    hooks: &outbox::Webhooks,
    row: user_ban::Model,
) -> AppResult<(user_ban::Model, Vec<Outbound>)> {
    user_ban::Entity::insert(user_ban::ActiveModel::from(row.clone()))
        .on_conflict(
            OnConflict::column(user_ban::Column::UserId)
                .update_columns([
                    user_ban::Column::Reason,
                    user_ban::Column::Until,
                    user_ban::Column::BannedBy,
                    user_ban::Column::CreatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    let data = json!({ "user_id": row.user_id, "ban": ban_json(&row) });
    let event = outbox::event(hooks, outbox::USER_BANNED, &data, row.created_at)?;
    outbox::enqueue(db, hooks, event.into_iter().collect()).await?;
    let notice = json!({ "reason": row.reason, "until": row.until.as_ref().map(clock::rfc3339) });
    let banned = Outbound::new("banned", vec![events::user_room(&row.user_id)], notice).then_disconnect();
    Ok((row, vec![banned]))
}

/// Lifts a ban; false when there was none.
pub async fn unban(db: &impl ConnectionTrait, user_id: &str) -> AppResult<bool> {
    let done = user_ban::Entity::delete_many().filter(user_ban::Column::UserId.eq(user_id)).exec(db).await?;
    Ok(done.rows_affected > 0)
}

pub fn ban_json(b: &user_ban::Model) -> Value {
    json!({
        "user_id": b.user_id,
        "reason": b.reason,
        "until": b.until.as_ref().map(clock::rfc3339),
        "banned_by": b.banned_by,
        "created_at": clock::rfc3339(&b.created_at),
    })
}

//! Disappearing messages: a user's message may carry a lifetime (its own,
//! or the conversation's default); from its `expires_at` it is never read,
//! counted or delivered again, and a sweep deletes it, mends the unread
//! counts and notifications it was part of, and drops its undelivered
//! webhooks. Flow cards, audit and system messages never expire.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Utc};
use entity::{conversation, message, notification, webhook_delivery};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::Expr,
};
use serde_json::json;
use uuid::Uuid;

use super::{
    clock::MAX_TTL_SECONDS,
    events::{self, Outbound},
    messages::{self, visible_messages},
    names::MessageType,
    notifications, outbox,
    users::{Identity, Role},
};
use crate::error::{AppError, AppResult};

/// Messages one sweep deletes at most (the next round takes the rest).
const SWEEP_BATCH: u64 = 500;

/// A lifetime given by a client: `min`..30 days, in seconds.
pub fn ttl(field: &str, seconds: i64, min: std::time::Duration) -> AppResult<i64> {
    let min = min.as_secs() as i64;
    if (min..=MAX_TTL_SECONDS).contains(&seconds) {
        Ok(seconds)
    } else {
        Err(AppError::invalid_field(field, format!("must be {min}..{MAX_TTL_SECONDS} seconds")))
    }
}

/// When the next message falls due, if any will.
pub async fn next_due(db: &impl ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    Ok(message::Entity::find()
        .select_only()
        .column(message::Column::ExpiresAt)
        .filter(message::Column::ExpiresAt.is_not_null())
        .order_by_asc(message::Column::ExpiresAt)
        .into_tuple::<Option<DateTime<Utc>>>()
        .one(db)
        .await?
        .flatten())
}

/// What a sweep deleted, and the events that tell open clients.
pub struct Swept {
    pub deleted: usize,
    pub events: Vec<Outbound>,
}

/// Deletes messages that have expired, in one transaction with what they
/// leave behind. Several nodes may sweep at once: each deletes what it
/// found (PostgreSQL skips rows another sweep holds).
pub async fn sweep(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Swept> {
    let txn = crate::db::begin_write(db).await?;
    let mut query = message::Entity::find()
        .filter(message::Column::ExpiresAt.lte(now))
        .order_by_asc(message::Column::ExpiresAt)
        .limit(SWEEP_BATCH);
    if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        query = query
            .lock_with_behavior(sea_orm::sea_query::LockType::Update, sea_orm::sea_query::LockBehavior::SkipLocked);
    }
    let expired = query.all(&txn).await?;
    if expired.is_empty() {
        txn.commit().await?;
        return Ok(Swept { deleted: 0, events: vec![] });
    }
    let ids: Vec<Uuid> = expired.iter().map(|m| m.id).collect();
    message::Entity::delete_many().filter(message::Column::Id.is_in(ids.clone())).exec(&txn).await?;
    drop_webhooks(&txn, &ids).await?;
    // Receivers whose unread counts and notifications counted these.
    let mut counted: BTreeMap<(String, Uuid), u64> = BTreeMap::new();
    for m in expired.iter().filter(|m| !m.seen && m.sender_id != m.receiver_id) {
        *counted.entry((m.receiver_id.clone(), m.conversation_id)).or_default() += 1;
    }
    for ((user, conversation), n) in &counted {
        messages::uncount(&txn, user, *conversation, *n).await?;
    }
    let touched: BTreeSet<(String, Uuid)> = counted.into_keys().collect();
    let mended = mend_notifications(&txn, &touched, &ids, now).await?;
    txn.commit().await?;
    let events = swept_events(db, &expired, &touched, mended, now).await?;
    Ok(Swept { deleted: expired.len(), events })
}

/// Undelivered webhooks about a message that expired are not delivered.
async fn drop_webhooks(txn: &impl ConnectionTrait, ids: &[Uuid]) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    webhook_delivery::Entity::update_many()
        .col_expr(webhook_delivery::Column::Status, Expr::value(outbox::DEAD))
        .col_expr(webhook_delivery::Column::LastError, Expr::value("the message expired before it was delivered"))
        .filter(outbox::waiting())
        .filter(webhook_delivery::Column::SubjectId.is_in(ids.to_vec()))
        .exec(txn)
        .await?;
    Ok(())
}

/// What became of a notification that showed an expired message.
enum Mended {
    /// It now shows the newest unread message left.
    Updated(Box<notification::Model>),
    /// Nothing unread is left for it to show.
    Deleted { user_id: String, id: Uuid },
}

/// An unread message notification whose latest message expired shows the
/// newest unread message left, or goes when none is.
async fn mend_notifications(
    txn: &impl ConnectionTrait,
    touched: &BTreeSet<(String, Uuid)>,
    expired: &[Uuid],
    now: DateTime<Utc>,
) -> AppResult<Vec<Mended>> {
    let mut out = vec![];
    for (user, conversation) in touched {
        let key = format!("{}:{conversation}", notifications::NEW_MESSAGE);
        let Some(n) = notification::Entity::find()
            .filter(notification::Column::UserId.eq(user.as_str()))
            .filter(notification::Column::CoalesceKey.eq(key))
            .one(txn)
            .await?
        else {
            continue;
        };
        let shown = n.data["message"]["id"].as_str().and_then(|s| Uuid::parse_str(s).ok());
        if shown.is_none_or(|id| !expired.contains(&id)) {
            continue;
        }
        let reader =
            Identity { user_id: user.clone(), role: Role::Other(String::new()), name: None, email: None, phone: None };
        let unread = message::Entity::find()
            .filter(visible_messages(*conversation, &reader, now))
            .filter(message::Column::ReceiverId.eq(user.as_str()))
            .filter(message::Column::Seen.eq(false))
            .filter(message::Column::MessageType.eq(MessageType::UserInput.as_str()))
            .order_by_desc(message::Column::Id)
            .all(txn)
            .await?;
        match unread.first() {
            None => {
                notification::Entity::delete_by_id(n.id).exec(txn).await?;
                out.push(Mended::Deleted { user_id: user.clone(), id: n.id });
            }
            Some(latest) => {
                let mut data = n.data.clone();
                data["message"] = events::message_json(latest);
                let updated = notification::Entity::update(notification::ActiveModel {
                    id: Set(n.id),
                    data: Set(data),
                    body: Set(notifications::preview(&latest.message)),
                    count: Set(unread.len() as i32),
                    ..Default::default()
                })
                .exec(txn)
                .await?;
                out.push(Mended::Updated(Box::new(updated)));
            }
        }
    }
    Ok(out)
}

/// `message_expired` to each conversation's open clients, and the counts
/// and notifications that changed (a revised notification of a conversation
/// the user muted is not sent, as a new one would not be).
async fn swept_events(
    db: &DatabaseConnection,
    expired: &[message::Model],
    touched: &BTreeSet<(String, Uuid)>,
    mended: Vec<Mended>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Outbound>> {
    let mut by_conversation: BTreeMap<Uuid, Vec<Uuid>> = BTreeMap::new();
    for m in expired {
        by_conversation.entry(m.conversation_id).or_default().push(m.id);
    }
    let parties: HashMap<Uuid, conversation::Model> = conversation::Entity::find()
        .filter(conversation::Column::Id.is_in(by_conversation.keys().copied().collect::<Vec<_>>()))
        .all(db)
        .await?
        .into_iter()
        .map(|c| (c.id, c))
        .collect();
    let mut out = vec![];
    for (conversation_id, ids) in by_conversation {
        let mut rooms = vec![events::conversation_room(conversation_id)];
        if let Some(c) = parties.get(&conversation_id) {
            rooms.push(events::user_room(&c.user1_id));
            rooms.push(events::user_room(&c.user2_id));
        }
        out.push(Outbound::new(
            "message_expired",
            rooms,
            json!({ "conversation_id": conversation_id, "message_ids": ids }),
        ));
    }
    for (user, conversation) in touched {
        out.extend(messages::unread_update(db, user, *conversation).await);
    }
    for m in mended {
        match m {
            Mended::Updated(n) => out.push(notifications::revised_event(&n)),
            Mended::Deleted { user_id, id } => {
                let unread = notifications::unread_count(db, &user_id).await?;
                out.push(notifications::updated_event(&user_id, &[id], json!({ "deleted": true }), unread));
            }
        }
    }
    Ok(super::settings::drop_muted(db, out, now).await)
}

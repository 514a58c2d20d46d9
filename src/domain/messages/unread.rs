//! Unread counts, kept per (user, conversation) by the transactions that
//! store messages and set again on receipts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use entity::{message, unread_count};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};
use serde_json::json;
use uuid::Uuid;

use super::writer::Unread;
use crate::{
    domain::events::{self, Outbound},
    error::AppResult,
};

/// Unread messages addressed to the caller, per conversation: the given
/// conversations when `only` is set, else every conversation not archived.
pub async fn unread_by_conversation(
    db: &impl ConnectionTrait,
    user_id: &str,
    only: Option<Vec<Uuid>>,
) -> AppResult<HashMap<Uuid, u64>> {
    let mut query = unread_count::Entity::find()
        .filter(unread_count::Column::UserId.eq(user_id))
        .filter(unread_count::Column::Count.gt(0));
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        query = query.filter(unread_count::Column::ConversationId.is_in(ids));
    } else {
        // Archived conversations stay out of the totals.
        query = query.filter(unread_count::Column::Archived.eq(false));
    }
    Ok(query.all(db).await?.into_iter().map(|u| (u.conversation_id, u.count.max(0) as u64)).collect())
}

/// Raises the unread counts for newly stored messages, in their transaction.
/// Seen messages and messages to oneself (audits) never count. A new message
/// brings an archived conversation back: answers which (receiver,
/// conversation) were archived until now, with their mute.
pub async fn count_unread<'a>(
    txn: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a message::Model>,
) -> AppResult<Unarchived> {
    let added = unread_added(rows);
    let Some((archived, add)) = unread_statements(&added) else { return Ok(Unarchived::new()) };
    let unarchived: Unarchived =
        archived.all(txn).await?.into_iter().map(|r| ((r.user_id, r.conversation_id), r.muted_until)).collect();
    add.exec_without_returning(txn).await?;
    Ok(unarchived)
}

/// What newly stored messages add to unread counts, by (receiver,
/// conversation), in one order for every writer (so concurrent batches
/// never deadlock). Seen messages and messages to oneself never count.
pub fn unread_added<'a>(rows: impl IntoIterator<Item = &'a message::Model>) -> Vec<((&'a str, Uuid), i64)> {
    let mut added: HashMap<(&str, Uuid), i64> = HashMap::new();
    for m in rows.into_iter().filter(|m| !m.seen && m.sender_id != m.receiver_id) {
        *added.entry((m.receiver_id.as_str(), m.conversation_id)).or_default() += 1;
    }
    let mut keys: Vec<_> = added.into_iter().collect();
    keys.sort();
    keys
}

/// The two statements that count `added` unread, in this order: the rows
/// among them archived until now (the new messages bring them back), then
/// the counts raised. None when nothing is added.
pub fn unread_statements(
    added: &[((&str, Uuid), i64)],
) -> Option<(sea_orm::Select<unread_count::Entity>, sea_orm::InsertMany<unread_count::ActiveModel>)> {
    if added.is_empty() {
        return None;
    }
    let mut any = sea_orm::Condition::any();
    for ((user, conversation), _) in added {
        any = any.add(
            sea_orm::Condition::all()
                .add(unread_count::Column::UserId.eq(*user))
                .add(unread_count::Column::ConversationId.eq(*conversation)),
        );
    }
    let archived = unread_count::Entity::find().filter(unread_count::Column::Archived.eq(true)).filter(any);
    let add =
        unread_count::Entity::insert_many(added.iter().map(|((user, conversation), n)| unread_count::ActiveModel {
            user_id: Set(user.to_string()),
            conversation_id: Set(*conversation),
            count: Set(*n),
            ..Default::default()
        }))
        .on_conflict(
            // A new message to the user brings an archived conversation back.
            OnConflict::columns([unread_count::Column::UserId, unread_count::Column::ConversationId])
                .value(unread_count::Column::Count, Expr::cust("unread_counts.count + excluded.count"))
                .value(unread_count::Column::Archived, Expr::value(false))
                .to_owned(),
        );
    Some((archived, add))
}

/// (receiver, conversation) pairs a write brought back from the archive,
/// with the receiver's mute of it.
pub type Unarchived = HashMap<(String, Uuid), Option<DateTime<Utc>>>;

/// Sets a user's unread count in a conversation to what is really unseen.
pub async fn recount(txn: &impl ConnectionTrait, user_id: &str, conversation_id: Uuid) -> AppResult<()> {
    let n = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::ReceiverId.eq(user_id))
        .filter(message::Column::SenderId.ne(user_id))
        .filter(message::Column::Seen.eq(false))
        .filter(message::Column::DeletedAt.is_null())
        .count(txn)
        .await? as i64;
    unread_count::Entity::insert(unread_count::ActiveModel {
        user_id: Set(user_id.to_string()),
        conversation_id: Set(conversation_id),
        count: Set(n),
        ..Default::default()
    })
    .on_conflict(
        OnConflict::columns([unread_count::Column::UserId, unread_count::Column::ConversationId])
            .update_column(unread_count::Column::Count)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Lowers a user's unread count in a conversation by `n` messages that
/// stopped counting (seen, or expired unseen), never below zero. Counting
/// down what the transaction changed, instead of counting the unseen
/// messages again, is what lets `messages` do without an index on
/// (receiver, seen): every stored message would pay for that index.
pub async fn uncount(txn: &impl ConnectionTrait, user_id: &str, conversation_id: Uuid, n: u64) -> AppResult<()> {
    use sea_orm::sea_query::ExprTrait;
    if n == 0 {
        return Ok(());
    }
    let n = i64::try_from(n).unwrap_or(i64::MAX);
    unread_count::Entity::update_many()
        .col_expr(
            unread_count::Column::Count,
            Expr::case(Expr::col(unread_count::Column::Count).gt(n), Expr::col(unread_count::Column::Count).sub(n))
                .finally(0)
                .into(),
        )
        .filter(unread_count::Column::UserId.eq(user_id))
        .filter(unread_count::Column::ConversationId.eq(conversation_id))
        .exec(txn)
        .await?;
    Ok(())
}

/// Every unread count above zero of the given users (archived
/// conversations left out), in one query.
pub async fn unread_of<'a>(db: &impl ConnectionTrait, users: impl IntoIterator<Item = &'a str>) -> AppResult<UnreadOf> {
    let mut out = UnreadOf::default();
    let Some(query) = unread_of_query(users) else { return Ok(out) };
    for u in query.all(db).await? {
        out.add(u);
    }
    Ok(out)
}

/// The query of [`unread_of`]; None without users.
pub fn unread_of_query<'a>(users: impl IntoIterator<Item = &'a str>) -> Option<sea_orm::Select<unread_count::Entity>> {
    let mut users: Vec<&str> = users.into_iter().collect();
    users.sort_unstable();
    users.dedup();
    if users.is_empty() {
        return None;
    }
    Some(
        unread_count::Entity::find()
            .filter(unread_count::Column::UserId.is_in(users))
            .filter(unread_count::Column::Count.gt(0))
            .filter(unread_count::Column::Archived.eq(false)),
    )
}

/// Users' unread counts by conversation, each with the user's mute of it.
#[derive(Default)]
pub struct UnreadOf(HashMap<String, HashMap<Uuid, Counted>>);

/// One unread count, with the mute of its conversation (until when).
type Counted = (u64, Option<DateTime<Utc>>);

impl UnreadOf {
    /// Adds one row [`unread_of_query`] read.
    pub fn add(&mut self, u: unread_count::Model) {
        self.0.entry(u.user_id).or_default().insert(u.conversation_id, (u.count.max(0) as u64, u.muted_until));
    }

    /// The user's unread count in the conversation, and in all of them.
    pub fn figures(&self, user_id: &str, conversation_id: Uuid) -> (u64, u64) {
        let Some(counts) = self.0.get(user_id) else { return (0, 0) };
        let here = counts.get(&conversation_id).map_or(0, |c| c.0);
        (here, counts.values().map(|c| c.0).sum())
    }

    /// Whether the user has muted the conversation at `now`, when its count
    /// was read (it is above zero); `None` when it was not.
    pub fn muted(&self, user_id: &str, conversation_id: Uuid, now: DateTime<Utc>) -> Option<bool> {
        let (_, until) = self.0.get(user_id)?.get(&conversation_id)?;
        Some(until.is_some_and(|t| t > now))
    }
}

pub(super) fn unread_event(user_id: &str, conversation_id: Uuid, unread: Unread) -> Outbound {
    Outbound::new(
        "unread_count_updated",
        vec![events::user_room(user_id)],
        json!({
            "conversation_id": conversation_id,
            "unread_count": unread.conversation,
            "total_unread": unread.total,
        }),
    )
}

/// `unread_count_updated` for one user after a change in one conversation.
/// It is computed after the change committed, so a failure here is logged
/// and the event skipped rather than reported as a failed change.
pub async fn unread_update(db: &impl ConnectionTrait, user_id: &str, conversation_id: Uuid) -> Option<Outbound> {
    let counts = match unread_by_conversation(db, user_id, None).await {
        Ok(c) => c,
        Err(e) => {
            e.log_and_drop("reading unread counts for unread_count_updated");
            return None;
        }
    };
    let unread = Unread {
        conversation: counts.get(&conversation_id).copied().unwrap_or(0),
        total: counts.values().sum::<u64>(),
        muted: false,
        unarchived: None,
    };
    Some(unread_event(user_id, conversation_id, unread))
}

//! The row work of a batch: charging quotas, moving conversations, inserting
//! messages and finding the ones already stored.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QuerySelect, Set,
};
use uuid::Uuid;

use super::{Known, Pending, Stored, Written};
use crate::{
    domain::{names::ChatStatus, quota},
    error::{AppError, AppResult},
};

/// Charges the messages the quota counts, before they are inserted: only
/// messages of open conversations, and never a repeat of a stored client
/// message id (it is charged once, when first stored).
pub(super) async fn charge(
    txn: &DatabaseTransaction,
    jobs: &[Pending<'_>],
    open: &HashMap<Uuid, conversation::Model>,
    q: &quota::Quota,
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, AppResult<quota::State>>> {
    let counted: Vec<&Pending> =
        jobs.iter().filter(|p| p.effects.charge && open.contains_key(&p.row.conversation_id)).collect();
    if counted.is_empty() {
        return Ok(HashMap::new());
    }
    let stored = existing(txn, counted.iter().map(|p| p.row)).await?;
    let mut seen = HashSet::new();
    let charged: Vec<(Uuid, &str)> = counted
        .iter()
        .map(|p| p.row)
        .filter(|r| {
            let Some(cmid) = &r.client_message_id else { return true };
            let key = (r.conversation_id, (r.sender_id.clone(), cmid.clone()));
            !stored.contains_key(&key) && seen.insert(key)
        })
        .map(|r| (r.id, r.sender_id.as_str()))
        .collect();
    quota::charge(txn, q, &charged, now).await
}

/// Sets `last_message_at` of the conversations among `ids` that are open for
/// free chat (locking them against a concurrent close) and returns them as
/// they now are. Remembered conversations whose version is unchanged are
/// touched without reading them back (on SQLite every row read back is a
/// hand-off between threads); the others are read back by `RETURNING`.
pub(super) async fn touch(
    txn: &DatabaseTransaction,
    ids: &[Uuid],
    now: DateTime<Utc>,
    known: &mut Known,
) -> AppResult<HashMap<Uuid, conversation::Model>> {
    let mut open = HashMap::new();
    let remembered: Vec<&conversation::Model> = ids.iter().filter_map(|id| known.0.get(id)).collect();
    if !remembered.is_empty() {
        let touched = touch_remembered(&remembered, now).exec(txn).await?.rows_affected;
        if touched as usize == remembered.len() {
            for c in remembered {
                open.insert(c.id, conversation::Model { last_message_at: now, ..c.clone() });
            }
        } else {
            // Something changed (closed, or a new version): forget them all
            // and read them back below.
            for id in ids {
                known.0.remove(id);
            }
        }
    }
    let rest: Vec<Uuid> = ids.iter().filter(|id| !open.contains_key(*id)).copied().collect();
    if !rest.is_empty() {
        let fresh = conversation::Entity::update_many()
            .set(conversation::ActiveModel { last_message_at: Set(now), ..Default::default() })
            .filter(conversation::Column::Id.is_in(rest))
            .filter(conversation::Column::ChatStatus.eq(ChatStatus::RealTime.as_str()))
            .exec_with_returning(txn)
            .await?;
        open.extend(fresh.into_iter().map(|c| (c.id, c)));
    }
    Ok(open)
}

/// The statement that touches remembered conversations: those still open
/// for free chat at the remembered version.
pub(super) fn touch_remembered(
    remembered: &[&conversation::Model],
    now: DateTime<Utc>,
) -> sea_orm::UpdateMany<conversation::Entity> {
    let unchanged = remembered.iter().fold(Condition::any(), |any, c| {
        any.add(
            Condition::all().add(conversation::Column::Id.eq(c.id)).add(conversation::Column::Version.eq(c.version)),
        )
    });
    conversation::Entity::update_many()
        .set(conversation::ActiveModel { last_message_at: Set(now), ..Default::default() })
        .filter(conversation::Column::ChatStatus.eq(ChatStatus::RealTime.as_str()))
        .filter(unchanged)
}

/// The statement inserting messages, skipping repeats of a stored client message id.
pub(super) fn inserting(writable: Vec<message::ActiveModel>) -> sea_orm::InsertMany<message::ActiveModel> {
    message::Entity::insert_many(writable).on_conflict(crate::domain::messages::repeat_conflict())
}

/// Inserts the messages, skipping repeats of a stored client message id, and
/// returns the ids stored. Nothing comes back per row in the common case (on
/// SQLite each returned row is a hand-off between threads): only when the
/// count falls short are the stored ids looked up.
pub(super) async fn insert(txn: &DatabaseTransaction, writable: Vec<message::ActiveModel>) -> AppResult<HashSet<Uuid>> {
    let ids: Vec<Uuid> = writable.iter().filter_map(|m| m.id.try_as_ref().copied()).collect();
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let stored = inserting(writable).exec_without_returning(txn).await;
    let count = match stored {
        Ok(n) => n,
        // Every row repeated a stored one.
        Err(sea_orm::DbErr::RecordNotInserted) => 0,
        Err(e) => return Err(e.into()),
    };
    if count as usize == ids.len() {
        return Ok(ids.into_iter().collect());
    }
    if count == 0 {
        return Ok(HashSet::new());
    }
    stored_ids(txn, ids).await
}

/// Which of these (fresh) message ids are stored.
pub(super) async fn stored_ids(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<HashSet<Uuid>> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(message::Column::Id.is_in(ids))
        .into_tuple::<Uuid>()
        .all(db)
        .await?
        .into_iter()
        .collect())
}

/// The stored messages that rows not inserted repeated (same client id).
pub(super) async fn existing<'a>(
    db: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a message::Model>,
) -> AppResult<Repeats> {
    let mut any = Condition::any();
    let mut asked = false;
    for r in rows {
        let Some(cmid) = &r.client_message_id else { continue };
        asked = true;
        any = any.add(
            Condition::all()
                .add(message::Column::ConversationId.eq(r.conversation_id))
                .add(message::Column::SenderId.eq(r.sender_id.as_str()))
                .add(message::Column::ClientMessageId.eq(cmid.as_str())),
        );
    }
    if !asked {
        return Ok(HashMap::new());
    }
    Ok(message::Entity::find()
        .filter(any)
        .all(db)
        .await?
        .into_iter()
        .map(|m| ((m.conversation_id, (m.sender_id.clone(), m.client_message_id.clone().unwrap_or_default())), m))
        .collect())
}

/// Stored messages by (conversation, (sender, client message id)).
pub(super) type Repeats = HashMap<(Uuid, (String, String)), message::Model>;

/// The answer for a message that was not inserted: the stored one it repeated.
pub(super) fn repeated(repeats: &Repeats, r: &message::Model, c: conversation::Model) -> Stored {
    let key = (r.sender_id.clone(), r.client_message_id.clone().unwrap_or_default());
    repeats
        .get(&(r.conversation_id, key))
        .map(|m| (Written::Existing(Box::new(m.clone())), c))
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("message {} neither stored nor found", r.id)))
}

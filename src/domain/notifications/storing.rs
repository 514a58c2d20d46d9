//! Storing notification drafts: new rows, or coalesced rows brought up to
//! date, in the caller's transaction.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set,
    sea_query::{Expr, OnConflict},
};
use uuid::Uuid;

use super::Draft;
use crate::error::AppResult;

/// Several drafts for the same coalesced row, as one: the latest wins,
/// counted once per draft.
pub fn coalesce(drafts: Vec<Draft>) -> Vec<(Draft, i32)> {
    let mut keyed: BTreeMap<(String, String), (Draft, i32)> = BTreeMap::new();
    let mut plain = vec![];
    for d in drafts {
        match d.coalesce_key() {
            Some(key) => {
                let slot = keyed.entry((d.user_id.clone(), key)).or_insert_with(|| (d.clone(), 0));
                slot.0 = d;
                slot.1 += 1;
            }
            None => plain.push((d, 1)),
        }
    }
    // One order for every writer, so concurrent transactions never deadlock.
    keyed.into_values().chain(plain).collect()
}

/// Stores drafts in the caller's transaction; returns the rows as they now
/// are (a coalesced row with its new count). Coalesced drafts go in one
/// statement (a batch of messages makes many).
pub async fn store(
    db: &impl ConnectionTrait,
    drafts: Vec<Draft>,
    now: DateTime<Utc>,
) -> AppResult<Vec<notification::Model>> {
    let (keyed, plain): (Vec<_>, Vec<_>) = coalesce(drafts).into_iter().partition(|(d, _)| d.coalesce_key().is_some());
    let mut out = Vec::with_capacity(keyed.len() + plain.len());
    if let Some(upsert) = coalesced(&keyed, now) {
        out.extend(upsert.exec_with_returning(db).await?);
    }
    for (d, count) in plain {
        let insert = notification::Entity::insert(row(&d, count, now));
        if d.idempotency.is_none() {
            out.push(insert.exec_with_returning(db).await?);
            continue;
        }
        // A platform call repeated with its key: the first row stands.
        let stored = insert
            .on_conflict(
                OnConflict::columns([notification::Column::Source, notification::Column::IdempotencyKey])
                    .do_nothing()
                    .to_owned(),
            )
            .exec_with_returning(db)
            .await;
        match stored {
            Ok(row) => out.push(row),
            Err(sea_orm::DbErr::RecordNotFound(_) | sea_orm::DbErr::RecordNotInserted) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(out)
}

/// The statement storing drafts that coalesce (each with its key and how
/// many drafts it stands for): new rows, or the same rows brought up to
/// date. None when there are none.
pub fn coalesced(keyed: &[(Draft, i32)], now: DateTime<Utc>) -> Option<sea_orm::InsertMany<notification::ActiveModel>> {
    if keyed.is_empty() {
        return None;
    }
    let rows = keyed.iter().map(|(d, count)| row(d, *count, now));
    Some(
        notification::Entity::insert_many(rows).on_conflict(
            OnConflict::columns([notification::Column::UserId, notification::Column::CoalesceKey])
                .update_columns([
                    notification::Column::Title,
                    notification::Column::Body,
                    notification::Column::Data,
                    notification::Column::UpdatedAt,
                ])
                .value(notification::Column::Count, Expr::cust("notifications.count + excluded.count"))
                // A burst waiting for its email keeps its start; after the
                // email, the next message starts a new one.
                .value(
                    notification::Column::EmailSince,
                    Expr::cust("COALESCE(notifications.email_since, excluded.email_since)"),
                )
                .to_owned(),
        ),
    )
}

fn row(d: &Draft, count: i32, now: DateTime<Utc>) -> notification::ActiveModel {
    let (source, idempotency_key) = d.idempotency.clone().unzip();
    notification::ActiveModel {
        id: Set(Uuid::now_v7()),
        user_id: Set(d.user_id.clone()),
        kind: Set(d.kind.clone()),
        title: Set(d.title.clone()),
        body: Set(d.body.clone()),
        data: Set(d.data.clone()),
        conversation_id: Set(d.conversation_id),
        read: Set(false),
        read_at: Set(None),
        coalesce_key: Set(d.coalesce_key()),
        count: Set(count),
        source: Set(source),
        idempotency_key: Set(idempotency_key),
        email_since: Set(d.emails().then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
}

/// The stored notification a platform call made before with this key.
pub async fn by_idempotency_key(
    db: &impl ConnectionTrait,
    source: &str,
    key: &str,
) -> AppResult<Option<notification::Model>> {
    Ok(notification::Entity::find()
        .filter(notification::Column::Source.eq(source))
        .filter(notification::Column::IdempotencyKey.eq(key))
        .one(db)
        .await?)
}

//! Outgoing webhooks, written in the transaction of the change they report
//! (an outbox), so a crash never loses or invents one: one delivery row per
//! event and receiver URL, carrying the exact body every attempt signs. The
//! delivery worker (`app::webhooks`) sends them.

use std::{collections::HashSet, time::Duration};

use chrono::{DateTime, Utc};
use entity::webhook_delivery;
use sea_orm::{ConnectionTrait, EntityTrait, Set};
use serde::Serialize;
use serde_json::value::RawValue;
use uuid::Uuid;

use super::clock;
use crate::error::{AppError, AppResult};

pub use super::names::webhook_kinds::*;

/// Delivery states.
pub const PENDING: &str = "pending";
pub const FAILED: &str = "failed";
pub const DEAD: &str = "dead";
pub const DELIVERED: &str = "delivered";

/// The deliveries still to attempt, written as the waiting index's
/// predicate so the database uses it.
const WAITING: &str = "status IN ('pending', 'failed')";

/// Where webhooks go (`WEBHOOK_URLS`, `WEBHOOK_EVENTS`): none when unset.
#[derive(Clone, Debug, Default)]
pub struct Webhooks {
    pub urls: Vec<String>,
    /// The kinds to send; all of them when `None`.
    pub kinds: Option<HashSet<String>>,
    pub timeout: Duration,
    pub max_age: Duration,
}

impl Webhooks {
    pub fn from_settings(s: &crate::config::WebhookSettings) -> Self {
        Self {
            urls: s.urls.clone(),
            kinds: s.events.as_ref().map(|k| k.iter().cloned().collect()),
            timeout: s.timeout,
            max_age: s.max_age,
        }
    }

    pub fn enabled(&self) -> bool {
        !self.urls.is_empty()
    }

    /// Whether events of `kind` are recorded at all.
    pub fn wants(&self, kind: &str) -> bool {
        self.enabled() && self.kinds.as_ref().is_none_or(|k| k.contains(kind))
    }
}

/// One event, its body already written as it will be signed and sent:
/// `{id, type, created_at, data}`.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: Uuid,
    pub kind: &'static str,
    /// The message it is about, if any.
    pub subject_id: Option<Uuid>,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

impl Event {
    pub fn new(kind: &'static str, data: &impl Serialize, now: DateTime<Utc>) -> AppResult<Self> {
        #[derive(Serialize)]
        struct Body<'a, D: Serialize> {
            id: Uuid,
            #[serde(rename = "type")]
            kind: &'a str,
            created_at: String,
            data: &'a D,
        }
        let id = Uuid::now_v7();
        let body = serde_json::to_string(&Body { id, kind, created_at: clock::rfc3339(&now), data })
            .map_err(AppError::internal)?;
        Ok(Self { id, kind, subject_id: None, body, created_at: now })
    }

    /// Marks the event as about a message (dropped if the message expires first).
    pub fn about(mut self, message_id: Uuid) -> Self {
        self.subject_id = Some(message_id);
        self
    }

    /// An event whose data is JSON text already written (a message).
    pub fn with_text(kind: &'static str, data: &RawValue, now: DateTime<Utc>) -> AppResult<Self> {
        Self::new(kind, &data, now)
    }
}

/// Builds the event when the platform wants its kind.
pub fn event(
    hooks: &Webhooks,
    kind: &'static str,
    data: &impl Serialize,
    now: DateTime<Utc>,
) -> AppResult<Option<Event>> {
    if !hooks.wants(kind) {
        return Ok(None);
    }
    Event::new(kind, data, now).map(Some)
}

/// Records events in the caller's transaction: one pending delivery per
/// event and URL, due at once, carrying the event's body.
pub async fn enqueue(db: &impl ConnectionTrait, hooks: &Webhooks, events: Vec<Event>) -> AppResult<()> {
    let deliveries = delivery_rows(hooks, &events);
    if deliveries.is_empty() {
        return Ok(());
    }
    webhook_delivery::Entity::insert_many(deliveries).exec_without_returning(db).await?;
    Ok(())
}

/// The delivery rows of these events: one per event and receiver URL that wants it.
pub fn delivery_rows(hooks: &Webhooks, events: &[Event]) -> Vec<webhook_delivery::ActiveModel> {
    events
        .iter()
        .filter(|e| hooks.wants(e.kind))
        .flat_map(|e| {
            hooks.urls.iter().map(move |url| webhook_delivery::ActiveModel {
                id: Set(Uuid::now_v7()),
                event_id: Set(e.id),
                kind: Set(e.kind.to_string()),
                url: Set(url.clone()),
                status: Set(PENDING.to_string()),
                attempts: Set(0),
                last_status_code: Set(None),
                last_error: Set(None),
                next_attempt_at: Set(e.created_at),
                lease_until: Set(None),
                created_at: Set(e.created_at),
                delivered_at: Set(None),
                body: Set(e.body.clone()),
                subject_id: Set(e.subject_id),
            })
        })
        .collect()
}

/// The deliveries still to attempt, as a filter the waiting index serves
/// (written out, not bound, so every plan can use the partial index).
pub fn waiting() -> sea_orm::sea_query::SimpleExpr {
    sea_orm::sea_query::Expr::cust(WAITING)
}

/// Deletes up to `limit` delivered rows to `url` created before `before`
/// (the admin list shows them until then). The ids are
/// time-ordered (UUIDv7), so the primary key finds them without an index
/// of its own. Returns how many went.
pub async fn sweep_delivered(
    db: &impl ConnectionTrait,
    url: &str,
    before: DateTime<Utc>,
    limit: u64,
) -> AppResult<u64> {
    let first_id_after = Uuid::from_u128(u128::from(before.timestamp_millis().max(0) as u64) << 80);
    let sql = format!(
        "DELETE FROM webhook_deliveries WHERE id IN (\
           SELECT id FROM webhook_deliveries WHERE id < $1 AND url = $2 AND status = '{DELIVERED}' \
           AND created_at < $3 LIMIT $4)"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [first_id_after.into(), url.into(), before.into(), (limit as i64).into()],
    );
    Ok(db.execute_raw(stmt).await?.rows_affected())
}

/// Takes up to `limit` due deliveries to `url` for this node until
/// `lease_until`, counting the attempt now (so an attempt lost with a dead
/// node still counts). One node at a time holds a delivery: PostgreSQL
/// skips rows another node has locked, and a lease that runs out frees a
/// dead node's.
pub async fn claim(
    db: &impl ConnectionTrait,
    url: &str,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
    limit: u64,
) -> AppResult<Vec<webhook_delivery::Model>> {
    let lock = if db.get_database_backend() == sea_orm::DbBackend::Postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    let sql = format!(
        "UPDATE webhook_deliveries SET lease_until = $1, attempts = attempts + 1 WHERE id IN (\
           SELECT id FROM webhook_deliveries WHERE url = $2 AND {WAITING} \
           AND next_attempt_at <= $3 AND (lease_until IS NULL OR lease_until < $3) \
           ORDER BY next_attempt_at LIMIT $4 {lock}) RETURNING *"
    );
    let stmt = sea_orm::Statement::from_sql_and_values(
        db.get_database_backend(),
        sql,
        [lease_until.into(), url.into(), now.into(), (limit as i64).into()],
    );
    Ok(webhook_delivery::Entity::find().from_raw_sql(stmt).all(db).await?)
}

/// When the next delivery to `url` falls due, if any is waiting.
pub async fn next_due(db: &impl ConnectionTrait, url: &str) -> AppResult<Option<DateTime<Utc>>> {
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder, QuerySelect};
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::NextAttemptAt)
        .filter(webhook_delivery::Column::Url.eq(url))
        .filter(waiting())
        .order_by_asc(webhook_delivery::Column::NextAttemptAt)
        .into_tuple()
        .one(db)
        .await?)
}

/// How an attempt ended, as the delivery records it.
pub enum Attempted {
    Delivered { status: u16 },
    Failed { status: Option<u16>, error: String, retry_at: DateTime<Utc> },
}

/// Records a round of attempts, in the caller's transaction: the delivered
/// ones in one statement per response status (usually one), each failed one
/// with its own retry time, to be retried then unless that is past the
/// maximum age, when the delivery is dead. Returns each attempt's resulting
/// status, in order.
pub async fn record(
    txn: &impl ConnectionTrait,
    hooks: &Webhooks,
    attempts: Vec<(&webhook_delivery::Model, Attempted)>,
    now: DateTime<Utc>,
) -> AppResult<Vec<&'static str>> {
    use std::collections::BTreeMap;

    use sea_orm::{ColumnTrait, QueryFilter};
    let max_age = chrono::Duration::from_std(hooks.max_age).unwrap_or(chrono::Duration::MAX);
    let mut delivered: BTreeMap<u16, Vec<Uuid>> = BTreeMap::new();
    let mut results = Vec::with_capacity(attempts.len());
    for (d, attempted) in attempts {
        match attempted {
            Attempted::Delivered { status } => {
                delivered.entry(status).or_default().push(d.id);
                results.push(DELIVERED);
            }
            Attempted::Failed { status, error, retry_at } => {
                let result = if retry_at - d.created_at > max_age { DEAD } else { FAILED };
                let set = webhook_delivery::ActiveModel {
                    status: Set(result.to_string()),
                    lease_until: Set(None),
                    last_status_code: Set(status.map(i32::from)),
                    last_error: Set(Some(error.chars().take(500).collect())),
                    next_attempt_at: Set(retry_at),
                    ..Default::default()
                };
                webhook_delivery::Entity::update_many()
                    .set(set)
                    .filter(webhook_delivery::Column::Id.eq(d.id))
                    .exec(txn)
                    .await?;
                results.push(result);
            }
        }
    }
    for (status, ids) in delivered {
        let set = webhook_delivery::ActiveModel {
            status: Set(DELIVERED.to_string()),
            lease_until: Set(None),
            last_status_code: Set(Some(i32::from(status))),
            delivered_at: Set(Some(now)),
            ..Default::default()
        };
        webhook_delivery::Entity::update_many()
            .set(set)
            .filter(webhook_delivery::Column::Id.is_in(ids))
            .exec(txn)
            .await?;
    }
    Ok(results)
}

/// Deliveries for the admin view, newest first.
pub async fn deliveries(
    db: &impl ConnectionTrait,
    status: Option<&str>,
    page: super::pagination::Page,
) -> AppResult<(Vec<webhook_delivery::Model>, u64)> {
    use sea_orm::{ColumnTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect};
    let mut q = webhook_delivery::Entity::find();
    if let Some(status) = status {
        q = q.filter(webhook_delivery::Column::Status.eq(status));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(webhook_delivery::Column::CreatedAt)
        .order_by_desc(webhook_delivery::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

/// Queues a delivery again from attempt 1, due now.
pub async fn replay(db: &impl ConnectionTrait, id: Uuid, now: DateTime<Utc>) -> AppResult<webhook_delivery::Model> {
    let found =
        webhook_delivery::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Delivery"))?;
    let set = webhook_delivery::ActiveModel {
        id: Set(found.id),
        status: Set(PENDING.to_string()),
        attempts: Set(0),
        next_attempt_at: Set(now),
        lease_until: Set(None),
        delivered_at: Set(None),
        ..Default::default()
    };
    Ok(webhook_delivery::Entity::update(set).exec(db).await?)
}

/// Age of the oldest delivery not yet delivered or dead.
pub async fn oldest_waiting(db: &impl ConnectionTrait) -> AppResult<Option<DateTime<Utc>>> {
    use sea_orm::{QueryFilter, QueryOrder, QuerySelect};
    Ok(webhook_delivery::Entity::find()
        .select_only()
        .column(webhook_delivery::Column::CreatedAt)
        .filter(waiting())
        .order_by_asc(webhook_delivery::Column::CreatedAt)
        .into_tuple()
        .one(db)
        .await?)
}

pub fn delivery_json(d: &webhook_delivery::Model) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "event_id": d.event_id,
        "type": d.kind,
        "url": d.url,
        "status": d.status,
        "attempts": d.attempts,
        "last_status_code": d.last_status_code,
        "last_error": d.last_error,
        "next_attempt_at": clock::rfc3339(&d.next_attempt_at),
        "created_at": clock::rfc3339(&d.created_at),
        "delivered_at": d.delivered_at.as_ref().map(clock::rfc3339),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_waiting_predicate_names_exactly_the_states_still_to_attempt() {
        assert_eq!(WAITING, format!("status IN ('{PENDING}', '{FAILED}')"));
    }
}

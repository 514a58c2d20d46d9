//! SQLite: a batch of messages in remembered conversations written by one
//! script. The statements of the long way (touch the conversations, insert
//! the messages, count them unread, read the receivers' counts and mutes,
//! store their notifications and webhook events) go to the database's
//! thread as one text, so a batch costs three hand-offs between threads
//! (begin, the script, commit) instead of one per statement. The script
//! expects the common case, every conversation open at its remembered
//! version and no message repeating a stored one; it reports what it found
//! (`changes()` after each write), and when anything else happened the
//! transaction is rolled back and the batch goes the long way, which
//! handles every case.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use entity::{conversation, message, notification, unread_count, webhook_delivery};
use sea_orm::{
    DatabaseConnection, DbBackend, EntityTrait, FromQueryResult, QuerySelect, QueryTrait, Statement, sea_query::Expr,
};
use uuid::Uuid;

use super::{
    Pending,
    rows::{inserting, touch_remembered},
};
use crate::{
    domain::{
        messages::{Unarchived, UnreadOf, unread_added, unread_of_query, unread_statements},
        notifications,
        outbox::{self, Webhooks},
        settings::muted_query,
    },
    error::AppResult,
};

/// What the committed script left: what the long way reads, as it reads it.
pub struct Batch {
    pub unarchived: Unarchived,
    pub unread: UnreadOf,
    /// Pairs without a count above zero that are muted.
    pub muted: HashSet<(String, Uuid)>,
    pub notified: Vec<notification::Model>,
}

/// Whether a message can go in the script: drafts that do not coalesce
/// (platform notifications) are stored the long way.
pub fn fits(p: &Pending) -> bool {
    p.effects.notification.as_ref().is_none_or(|d| d.coalesce_key().is_some())
}

/// Writes the batch in one transaction, or nothing (None) when a
/// conversation changed or a message repeated a stored one.
pub async fn write(
    db: &DatabaseConnection,
    jobs: &[&Pending<'_>],
    conversations: &[&conversation::Model],
    now: DateTime<Utc>,
    webhooks: &Webhooks,
) -> AppResult<Option<Batch>> {
    let mut script = Script::default();
    script.push(touch_remembered(conversations, now));
    script.text("SELECT 'touched' AS kind, changes() AS n");
    script.push(inserting(jobs.iter().map(|p| message::ActiveModel::from(p.row.clone())).collect()));
    script.text("SELECT 'stored' AS kind, changes() AS n");
    let added = unread_added(jobs.iter().map(|p| p.row));
    if let Some((archived, add)) = unread_statements(&added) {
        script.push(archived.column_as(Expr::cust("'unarchived'"), "kind"));
        script.push(add);
    }
    if let Some(counts) = unread_of_query(jobs.iter().map(|p| p.row.receiver_id.as_str())) {
        script.push(counts.column_as(Expr::cust("'unread'"), "kind"));
    }
    // Pairs the batch did not count (messages stored seen, or to oneself)
    // may have no count above zero to carry their mute.
    let counted: HashSet<(&str, Uuid)> = added.iter().map(|(pair, _)| *pair).collect();
    let uncounted: Vec<(String, Uuid)> = jobs
        .iter()
        .map(|p| (p.row.receiver_id.as_str(), p.row.conversation_id))
        .filter(|pair| !counted.contains(pair))
        .collect::<HashSet<_>>()
        .into_iter()
        .map(|(user, conversation)| (user.to_string(), conversation))
        .collect();
    if let Some(muted) = muted_query(&uncounted, now) {
        script.push(muted.column_as(Expr::cust("'muted'"), "kind"));
    }
    let drafts = jobs.iter().filter_map(|p| p.effects.notification.clone()).collect();
    if let Some(upsert) = notifications::coalesced(&notifications::coalesce(drafts), now) {
        script.push_returning(upsert, "'notified' AS kind, *");
    }
    let events: Vec<outbox::Event> = jobs.iter().filter_map(|p| p.effects.webhook.clone()).collect();
    let deliveries = outbox::delivery_rows(webhooks, &events);
    if !deliveries.is_empty() {
        script.push(webhook_delivery::Entity::insert_many(deliveries));
    }

    let txn = crate::db::begin_write(db).await?;
    let mut out = Batch {
        unarchived: Unarchived::new(),
        unread: UnreadOf::default(),
        muted: HashSet::new(),
        notified: Vec::new(),
    };
    let (mut touched, mut stored) = (0, 0);
    for row in sea_orm::ConnectionTrait::query_all_raw(&txn, script.statement()).await? {
        let kind: String = row.try_get("", "kind")?;
        match kind.as_str() {
            "touched" => touched = row.try_get::<i64>("", "n")?,
            "stored" => stored = row.try_get::<i64>("", "n")?,
            "unarchived" => {
                let u = unread_count::Model::from_query_result(&row, "")?;
                out.unarchived.insert((u.user_id, u.conversation_id), u.muted_until);
            }
            "unread" => out.unread.add(unread_count::Model::from_query_result(&row, "")?),
            "muted" => {
                let u = unread_count::Model::from_query_result(&row, "")?;
                out.muted.insert((u.user_id, u.conversation_id));
            }
            _ => out.notified.push(notification::Model::from_query_result(&row, "")?),
        }
    }
    if touched as usize != conversations.len() || stored as usize != jobs.len() {
        txn.rollback().await?;
        return Ok(None);
    }
    txn.commit().await?;
    Ok(Some(out))
}

/// Statements sent as one text. SQLite's driver prepares them in order and
/// binds the values in order across them (each `?` takes the next).
#[derive(Default)]
struct Script {
    sql: String,
    values: Vec<sea_orm::Value>,
}

impl Script {
    fn push(&mut self, query: impl QueryTrait) {
        self.statement_of(query.build(DbBackend::Sqlite), "");
    }

    /// A write whose rows come back: `returning` is the `RETURNING` list.
    fn push_returning(&mut self, query: impl QueryTrait, returning: &str) {
        self.statement_of(query.build(DbBackend::Sqlite), &format!(" RETURNING {returning}"));
    }

    fn text(&mut self, sql: &str) {
        self.statement_of(Statement::from_string(DbBackend::Sqlite, sql), "");
    }

    fn statement_of(&mut self, s: Statement, tail: &str) {
        self.sql.push_str(&s.sql);
        self.sql.push_str(tail);
        self.sql.push_str(";\n");
        self.values.extend(s.values.map(|v| v.0).unwrap_or_default());
    }

    fn statement(self) -> Statement {
        Statement::from_sql_and_values(DbBackend::Sqlite, self.sql, self.values)
    }
}

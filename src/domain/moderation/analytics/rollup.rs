//! The message figures, kept per UTC day as messages arrive instead of
//! recomputed over every message of the range at each call.
//!
//! A background aggregator ([`advance`]) folds the messages created after the
//! watermark into `analytics_days` (one row per day, see [`super::day`]), in
//! batches, each batch one transaction that also moves the watermark. It stays [`SETTLE`]
//! behind the clock, so a message whose transaction is still open when the
//! aggregator passes its time cannot be skipped. A report ([`figures`]) reads
//! the days of its range and folds the few messages after the watermark (the
//! tail) in memory with the same code, in one read snapshot: the figures are
//! exact up to the last stored message whatever the aggregator's lag.
//!
//! Messages are counted when they are created: a message deleted later
//! (disappearing, moderated) stays in the figures it was counted in.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Timelike, Utc};
use roaring::RoaringBitmap;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, TransactionTrait, Value as DbValue};
use serde_json::{Value, json};

use super::{
    Dialect, Range,
    day::{Day, new_histogram, rank},
};
use crate::error::{AppError, AppResult};

/// How far behind the clock the aggregator stays. A message is folded once
/// it is this old, so its transaction must have committed by then (a write
/// waits on the database for far less) and the nodes' clocks must agree
/// within this much.
pub const SETTLE: Duration = Duration::seconds(30);

/// Messages folded per aggregator transaction.
pub const BATCH: u64 = 5_000;

/// The kind of message that has a sender and counts towards reply times.
const USER_INPUT: &str = "user_input";

/// Keys of `IN (...)` lists per statement.
const CHUNK: usize = 500;

/// A message as the figures see it.
#[derive(Debug)]
struct Row {
    /// The conversation, as stored (an opaque key).
    conversation: Vec<u8>,
    sender: Option<String>,
    kind: String,
    at: DateTime<Utc>,
}

/// Messages folded into days, with what the fold needs to carry on: each
/// conversation's last user message and the senders' numbers.
struct Fold {
    days: BTreeMap<NaiveDate, Day>,
    last: HashMap<Vec<u8>, (String, DateTime<Utc>)>,
    numbers: HashMap<String, u32>,
    next_number: u32,
    new_numbers: Vec<(String, u32)>,
    moved: HashSet<Vec<u8>>,
}

impl Fold {
    /// Loads the stored state the rows will touch: the days from `first` to
    /// `last`, the rows' conversations and senders.
    async fn load(
        db: &impl ConnectionTrait,
        d: &Dialect,
        (first, last): (NaiveDate, NaiveDate),
        rows: &[Row],
        next_number: u32,
    ) -> AppResult<Self> {
        let mut days = BTreeMap::new();
        let sql = "SELECT day, counts, senders, reply_gaps FROM analytics_days WHERE day >= $1 AND day <= $2";
        let values = vec![DbValue::from(first.to_string()), last.to_string().into()];
        for row in db.query_all_raw(d.sql(sql, values)).await? {
            let day: String = row.try_get("", "day")?;
            let Ok(date) = NaiveDate::parse_from_str(&day, "%Y-%m-%d") else { continue };
            let counts: String = row.try_get("", "counts")?;
            let senders: Vec<u8> = row.try_get("", "senders")?;
            let gaps: String = row.try_get("", "reply_gaps")?;
            days.insert(date, Day::decode(&counts, &senders, &gaps)?);
        }

        let users = rows.iter().filter(|r| r.kind == USER_INPUT);
        let conversations: HashSet<&Vec<u8>> = users.clone().map(|r| &r.conversation).collect();
        let mut last_replies = HashMap::new();
        let keys: Vec<&Vec<u8>> = conversations.into_iter().collect();
        for chunk in keys.chunks(CHUNK) {
            let sql = format!(
                "SELECT conversation_key, sender_id, at FROM analytics_last_replies WHERE conversation_key IN ({})",
                placeholders(chunk.len())
            );
            let values = chunk.iter().map(|k| DbValue::from((*k).clone())).collect();
            for row in db.query_all_raw(d.sql(&sql, values)).await? {
                let key: Vec<u8> = row.try_get("", "conversation_key")?;
                last_replies.insert(key, (row.try_get("", "sender_id")?, row.try_get("", "at")?));
            }
        }

        let senders: HashSet<&String> = users.filter_map(|r| r.sender.as_ref()).collect();
        let mut numbers = HashMap::new();
        let senders: Vec<&String> = senders.into_iter().collect();
        for chunk in senders.chunks(CHUNK) {
            let sql =
                format!("SELECT user_id, n FROM analytics_senders WHERE user_id IN ({})", placeholders(chunk.len()));
            let values = chunk.iter().map(|s| DbValue::from((*s).clone())).collect();
            for row in db.query_all_raw(d.sql(&sql, values)).await? {
                let n: i32 = row.try_get("", "n")?;
                numbers.insert(row.try_get("", "user_id")?, n as u32);
            }
        }
        Ok(Self { days, last: last_replies, numbers, next_number, new_numbers: vec![], moved: HashSet::new() })
    }

    fn number(&mut self, sender: &str) -> u32 {
        if let Some(n) = self.numbers.get(sender) {
            return *n;
        }
        let n = self.next_number;
        self.next_number += 1;
        self.numbers.insert(sender.to_string(), n);
        self.new_numbers.push((sender.to_string(), n));
        n
    }

    /// Counts one message. Rows come in the order they were created.
    fn add(&mut self, row: &Row) {
        // A user message has a sender number and may answer the other
        // participant's last one.
        let user = match &row.sender {
            Some(sender) if row.kind == USER_INPUT => {
                let number = self.number(sender);
                let gap = self
                    .last
                    .get(&row.conversation)
                    .filter(|(previous, _)| previous != sender)
                    .map(|(_, at)| (row.at - *at).num_milliseconds().max(0) as u64);
                self.last.insert(row.conversation.clone(), (sender.clone(), row.at));
                self.moved.insert(row.conversation.clone());
                Some((number, gap))
            }
            _ => None,
        };
        let day = self.days.entry(row.at.date_naive()).or_insert_with(Day::new);
        day.counts.entry(row.kind.clone()).or_insert([0; 24])[row.at.hour() as usize] += 1;
        if let Some((number, gap)) = user {
            day.senders.insert(number);
            if let Some(gap) = gap {
                day.gaps.record(gap);
            }
        }
    }

    /// Writes the days and conversations the fold touched and the new
    /// sender numbers.
    async fn save(&self, db: &impl ConnectionTrait, d: &Dialect) -> AppResult<()> {
        for (date, day) in &self.days {
            let (counts, senders, gaps) = day.encode()?;
            let sql = "INSERT INTO analytics_days (day, counts, senders, reply_gaps) VALUES ($1, $2, $3, $4) \
                       ON CONFLICT (day) DO UPDATE SET counts = excluded.counts, senders = excluded.senders, \
                       reply_gaps = excluded.reply_gaps";
            let values = vec![date.to_string().into(), counts.into(), senders.into(), gaps.into()];
            db.execute_raw(d.sql(sql, values)).await?;
        }
        for (user, n) in &self.new_numbers {
            let sql = "INSERT INTO analytics_senders (user_id, n) VALUES ($1, $2)";
            db.execute_raw(d.sql(sql, vec![user.clone().into(), (*n as i32).into()])).await?;
        }
        for key in &self.moved {
            let (sender, at) = &self.last[key];
            let sql = "INSERT INTO analytics_last_replies (conversation_key, sender_id, at) VALUES ($1, $2, $3) \
                       ON CONFLICT (conversation_key) DO UPDATE SET sender_id = excluded.sender_id, at = excluded.at";
            db.execute_raw(d.sql(sql, vec![key.clone().into(), sender.clone().into(), (*at).into()])).await?;
        }
        Ok(())
    }

    /// The message figures of the range's days.
    fn figures(&self, range: &Range) -> Figures {
        let mut total = 0i64;
        let mut by_type: BTreeMap<&str, i64> = BTreeMap::new();
        let mut per_day = vec![];
        let mut peak_hours = [0i64; 24];
        let mut senders = RoaringBitmap::new();
        let mut gaps = new_histogram();
        for date in range.days() {
            let Some(day) = self.days.get(&date) else {
                per_day.push(json!({ "date": date.to_string(), "count": 0 }));
                continue;
            };
            let mut count = 0;
            for (kind, hours) in &day.counts {
                let n: i64 = hours.iter().sum();
                count += n;
                *by_type.entry(kind).or_default() += n;
                for (hour, n) in hours.iter().enumerate() {
                    peak_hours[hour] += n;
                }
            }
            total += count;
            per_day.push(json!({ "date": date.to_string(), "count": count }));
            senders |= &day.senders;
            day.gaps.add_to(&mut gaps);
        }
        Figures {
            messages: json!({
                "total": total,
                "by_type": by_type,
                "per_day": per_day,
                "peak_hours": peak_hours,
                "unique_senders": senders.len(),
            }),
            response_time_ms: json!({ "p50": rank(&gaps, 0.5), "p90": rank(&gaps, 0.9) }),
        }
    }
}

fn placeholders(n: usize) -> String {
    (1..=n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// The message figures of a report.
pub struct Figures {
    pub messages: Value,
    pub response_time_ms: Value,
}

/// Where the aggregator stands.
async fn watermark(db: &impl ConnectionTrait, d: &Dialect, lock: bool) -> AppResult<(Option<DateTime<Utc>>, u32)> {
    let lock = if lock && d.0 == DbBackend::Postgres { " FOR UPDATE" } else { "" };
    let sql = format!("SELECT through, next_sender FROM analytics_watermark WHERE id = 1{lock}");
    let row = db
        .query_one_raw(d.sql(&sql, vec![]))
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("the analytics watermark row is missing")))?;
    let next: i32 = row.try_get("", "next_sender")?;
    Ok((row.try_get("", "through")?, next as u32))
}

/// The messages created after `after` and at or before `through`, in the
/// order they were created.
async fn rows(
    db: &impl ConnectionTrait,
    d: &Dialect,
    after: Option<DateTime<Utc>>,
    through: DateTime<Utc>,
) -> AppResult<Vec<Row>> {
    let key = match d.0 {
        DbBackend::Postgres => "uuid_send(conversation_id)",
        _ => "CAST(conversation_id AS BLOB)",
    };
    let (filter, mut values) = after_filter(after);
    values.push(through.into());
    let sql = format!(
        "SELECT {key} AS k, sender_id, message_type, created_at FROM messages \
         WHERE {filter} created_at <= ${n} ORDER BY created_at, id",
        n = values.len()
    );
    let mut out = vec![];
    for row in db.query_all_raw(d.sql(&sql, values)).await? {
        out.push(Row {
            conversation: row.try_get("", "k")?,
            sender: row.try_get("", "sender_id")?,
            kind: row.try_get("", "message_type")?,
            at: row.try_get("", "created_at")?,
        });
    }
    Ok(out)
}

fn after_filter(after: Option<DateTime<Utc>>) -> (&'static str, Vec<DbValue>) {
    match after {
        Some(t) => ("created_at > $1 AND", vec![t.into()]),
        None => ("", vec![]),
    }
}

/// Whether a message was created after `after` and at or before `limit`.
async fn settled_after(
    db: &impl ConnectionTrait,
    d: &Dialect,
    after: Option<DateTime<Utc>>,
    limit: DateTime<Utc>,
) -> AppResult<bool> {
    let (filter, mut values) = after_filter(after);
    values.push(limit.into());
    let sql = format!("SELECT 1 AS n FROM messages WHERE {filter} created_at <= ${n} LIMIT 1", n = values.len());
    Ok(db.query_one_raw(d.sql(&sql, values)).await?.is_some())
}

/// The creation time of the `BATCH`-th message after `after`, if there are
/// that many up to `limit`.
async fn batch_end(
    db: &impl ConnectionTrait,
    d: &Dialect,
    after: Option<DateTime<Utc>>,
    limit: DateTime<Utc>,
) -> AppResult<DateTime<Utc>> {
    let (filter, mut values) = after_filter(after);
    values.push(limit.into());
    let sql = format!(
        "SELECT created_at FROM messages WHERE {filter} created_at <= ${n} ORDER BY created_at LIMIT 1 OFFSET {skip}",
        n = values.len(),
        skip = BATCH - 1
    );
    Ok(match db.query_one_raw(d.sql(&sql, values)).await? {
        Some(row) => row.try_get("", "created_at")?,
        None => limit,
    })
}

/// One step of the aggregator: folds up to about [`BATCH`] settled messages
/// into the rollups and moves the watermark past them, in one transaction.
/// Returns how many messages it folded (0: caught up). Several nodes may
/// run it: the watermark row serialises them.
pub async fn advance(db: &DatabaseConnection, now: DateTime<Utc>) -> AppResult<Advanced> {
    let d = Dialect(db.get_database_backend());
    let limit = now - SETTLE;
    // A look without the write lock first: idle, the step writes nothing.
    let (through, _) = watermark(db, &d, false).await?;
    if !settled_after(db, &d, through, limit).await? {
        return Ok(Advanced { folded: 0, through });
    }
    let txn = crate::db::begin_write(db).await?;
    let (through, next_number) = watermark(&txn, &d, true).await?;
    let end = batch_end(&txn, &d, through, limit).await?;
    let rows = rows(&txn, &d, through, end).await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
        return Ok(Advanced { folded: 0, through });
    };
    let span = (first.at.date_naive(), last.at.date_naive());
    let mut fold = Fold::load(&txn, &d, span, &rows, next_number).await?;
    for row in &rows {
        fold.add(row);
    }
    fold.save(&txn, &d).await?;
    let sql = "UPDATE analytics_watermark SET through = $1, next_sender = $2 WHERE id = 1";
    txn.execute_raw(d.sql(sql, vec![end.into(), (fold.next_number as i32).into()])).await?;
    txn.commit().await?;
    Ok(Advanced { folded: rows.len() as u64, through: Some(end) })
}

/// What one aggregator step did.
#[derive(Clone, Copy, Debug)]
pub struct Advanced {
    pub folded: u64,
    pub through: Option<DateTime<Utc>>,
}

/// The message figures and reply times of `range`: the stored days plus the
/// messages after the watermark, read in one snapshot.
pub async fn figures(db: &DatabaseConnection, range: &Range) -> AppResult<Figures> {
    let d = Dialect(db.get_database_backend());
    let txn = match d.0 {
        DbBackend::Postgres => {
            db.begin_with_config(Some(sea_orm::IsolationLevel::RepeatableRead), Some(sea_orm::AccessMode::ReadOnly))
                .await?
        }
        _ => db.begin().await?,
    };
    let (through, next_number) = watermark(&txn, &d, false).await?;
    let (_, end) = range.bounds();
    let tail: Vec<Row> = rows(&txn, &d, through, end).await?.into_iter().filter(|r| r.at < end).collect();
    let mut fold = Fold::load(&txn, &d, (range.from, range.to), &tail, next_number).await?;
    for row in &tail {
        fold.add(row);
    }
    txn.commit().await?;
    Ok(fold.figures(range))
}

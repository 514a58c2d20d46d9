//! Activity figures for administrators, computed by the database: each
//! figure is one aggregate query over a date range, read through the
//! indexes on `created_at` (messages, conversations) and `updated_at`
//! (payment orders). The server only folds the few grouped rows together.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value as DbValue};
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};

/// The longest range one call covers.
pub const MAX_DAYS: i64 = 366;

/// The days a report covers, both ends included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Range {
    /// `from` and `to` as `YYYY-MM-DD`; absent: the 30 days up to `today`.
    pub fn parse(from: Option<&str>, to: Option<&str>, today: NaiveDate) -> AppResult<Self> {
        let date = |field: &str, raw: &str| {
            NaiveDate::parse_from_str(raw.trim(), "%Y-%m-%d")
                .map_err(|_| AppError::invalid_field(field, "must be a date (YYYY-MM-DD)"))
        };
        let to = match to.filter(|s| !s.trim().is_empty()) {
            Some(raw) => date("to", raw)?,
            None => today,
        };
        let from = match from.filter(|s| !s.trim().is_empty()) {
            Some(raw) => date("from", raw)?,
            None => to - Duration::days(29),
        };
        if from > to {
            return Err(AppError::invalid_field("from", "must not be after to"));
        }
        if (to - from).num_days() + 1 > MAX_DAYS {
            return Err(AppError::invalid_field("to", format!("the range may cover at most {MAX_DAYS} days")));
        }
        Ok(Self { from, to })
    }

    fn bounds(&self) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
        let start = Utc.from_utc_datetime(&self.from.and_time(chrono::NaiveTime::MIN));
        let end = Utc.from_utc_datetime(&(self.to + Duration::days(1)).and_time(chrono::NaiveTime::MIN));
        (start, end)
    }

    fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|d| *d <= self.to)
    }
}

/// What differs between the databases: an hour bucket as `YYYY-MM-DD HH`
/// text, a time difference in milliseconds, and placeholders.
struct Dialect(DbBackend);

impl Dialect {
    fn hour(&self) -> &'static str {
        match self.0 {
            DbBackend::Postgres => "date_trunc('hour', created_at AT TIME ZONE 'UTC')",
            _ => "substr(created_at, 1, 13)",
        }
    }

    fn hour_text(&self, bucket: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("to_char({bucket}, 'YYYY-MM-DD HH24')"),
            _ => bucket.to_string(),
        }
    }

    fn millis_between(&self, earlier: &str, later: &str) -> String {
        match self.0 {
            DbBackend::Postgres => format!("(extract(epoch from ({later} - {earlier})) * 1000)::bigint"),
            _ => format!("CAST(round((julianday({later}) - julianday({earlier})) * 86400000.0) AS INTEGER)"),
        }
    }

    /// SQL written with `$1`, `$2` in the dialect's placeholders.
    fn statement(&self, sql: &str, range: &Range) -> Statement {
        let (start, end) = range.bounds();
        let sql = match self.0 {
            DbBackend::Postgres => sql.to_string(),
            _ => sql.replace("$1", "?1").replace("$2", "?2"),
        };
        let values: Vec<DbValue> = vec![start.into(), end.into()];
        Statement::from_sql_and_values(self.0, sql, values)
    }
}

/// The whole report.
pub async fn report(db: &impl ConnectionTrait, range: Range) -> AppResult<Value> {
    let d = Dialect(db.get_database_backend());
    Ok(json!({
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "messages": messages(db, &d, &range).await?,
        "conversations": conversations(db, &d, &range).await?,
        "response_time_ms": response_times(db, &d, &range).await?,
        "flow": flow(db, &d, &range).await?,
        "payments": payments(db, &d, &range).await?,
    }))
}

async fn messages(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    // One pass over the range: counts by type and hour; days, hours of the
    // day and types are sums of those (at most 4 × 24 × 366 rows).
    let sql = format!(
        "SELECT message_type, {text} AS bucket, n FROM (\
           SELECT message_type, {hour} AS h, count(*) AS n FROM messages \
           WHERE created_at >= $1 AND created_at < $2 GROUP BY message_type, {hour}) s",
        hour = d.hour(),
        text = d.hour_text("h"),
    );
    let mut total = 0i64;
    let mut by_type: BTreeMap<String, i64> = BTreeMap::new();
    let mut per_day: BTreeMap<String, i64> = range.days().map(|day| (day.to_string(), 0)).collect();
    let mut peak_hours = [0i64; 24];
    for row in db.query_all_raw(d.statement(&sql, range)).await? {
        let kind: String = row.try_get("", "message_type")?;
        let bucket: String = row.try_get("", "bucket")?;
        let n: i64 = row.try_get("", "n")?;
        total += n;
        *by_type.entry(kind).or_default() += n;
        if let Some(day) = bucket.get(..10) {
            *per_day.entry(day.to_string()).or_default() += n;
        }
        if let Some(hour) = bucket.get(11..13).and_then(|h| h.parse::<usize>().ok()).filter(|h| *h < 24) {
            peak_hours[hour] += n;
        }
    }
    let senders = "SELECT count(DISTINCT sender_id) AS n FROM messages \
                   WHERE created_at >= $1 AND created_at < $2 AND message_type = 'user_input'";
    let unique_senders = scalar(db, d.statement(senders, range)).await?;
    Ok(json!({
        "total": total,
        "by_type": by_type,
        "per_day": per_day.into_iter().map(|(date, count)| json!({ "date": date, "count": count })).collect::<Vec<_>>(),
        "peak_hours": peak_hours,
        "unique_senders": unique_senders,
    }))
}

async fn conversations(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    let sql = "SELECT conversation_type AS k, count(*) AS n FROM conversations \
               WHERE created_at >= $1 AND created_at < $2 GROUP BY conversation_type";
    let by_type = counts(db, d.statement(sql, range)).await?;
    let started: i64 = by_type.values().filter_map(Value::as_i64).sum();
    Ok(json!({ "started": started, "by_type": by_type }))
}

/// How long a participant takes to answer: between a user's message and the
/// other participant's next one, over the replies sent in the range.
/// Percentiles by nearest rank (the value at rank ⌈p·n⌉). Message ids are
/// UUIDv7, so ordering by id is ordering by time, along the conversation index.
async fn response_times(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    let gap = d.millis_between("prev_at", "created_at");
    let sql = format!(
        "WITH m AS (\
           SELECT sender_id, created_at, LAG(sender_id) OVER w AS prev_sender, LAG(created_at) OVER w AS prev_at \
           FROM messages WHERE created_at >= $1 AND created_at < $2 AND message_type = 'user_input' \
           WINDOW w AS (PARTITION BY conversation_id ORDER BY id)), \
         g AS (SELECT {gap} AS gap FROM m WHERE prev_sender IS NOT NULL AND prev_sender <> sender_id), \
         r AS (SELECT gap, ROW_NUMBER() OVER (ORDER BY gap) AS rn, COUNT(*) OVER () AS n FROM g) \
         SELECT max(CASE WHEN rn = (n + 1) / 2 THEN gap END) AS p50, \
                max(CASE WHEN rn = (9 * n + 9) / 10 THEN gap END) AS p90 FROM r"
    );
    let row = db.query_one_raw(d.statement(&sql, range)).await?;
    let (p50, p90) = match row {
        Some(r) => (r.try_get::<Option<i64>>("", "p50")?, r.try_get::<Option<i64>>("", "p90")?),
        None => (None, None),
    };
    Ok(json!({ "p50": p50, "p90": p90 }))
}

/// The flow conversations started in the range: where they stand now, and
/// how far they got (priced: an offer was made; paid: an order was paid;
/// approved: the work was approved; closed early: closed before approval).
async fn flow(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    let sql = "SELECT flow_state AS k, count(*) AS n, \
         sum(CASE WHEN flow_data ->> 'price_offer' IS NOT NULL THEN 1 ELSE 0 END) AS priced, \
         sum(CASE WHEN EXISTS (SELECT 1 FROM payment_orders p WHERE p.conversation_id = c.id AND p.status = 'paid') \
             THEN 1 ELSE 0 END) AS paid, \
         sum(CASE WHEN flow_data ->> 'approval' IS NOT NULL THEN 1 ELSE 0 END) AS approved, \
         sum(CASE WHEN chat_status = 'closed' AND flow_data ->> 'approval' IS NULL THEN 1 ELSE 0 END) AS closed_early \
         FROM conversations c \
         WHERE created_at >= $1 AND created_at < $2 AND conversation_type <> 'direct' GROUP BY flow_state";
    let mut by_state = Map::new();
    let mut funnel = [0i64; 5];
    for row in db.query_all_raw(d.statement(sql, range)).await? {
        let state: Option<String> = row.try_get("", "k")?;
        let n: i64 = row.try_get("", "n")?;
        by_state.insert(state.unwrap_or_else(|| "unknown".into()), json!(n));
        funnel[0] += n;
        for (i, col) in ["priced", "paid", "approved", "closed_early"].iter().enumerate() {
            funnel[i + 1] += row.try_get::<Option<i64>>("", col)?.unwrap_or(0);
        }
    }
    Ok(json!({
        "by_state": by_state,
        "funnel": {
            "started": funnel[0], "priced": funnel[1], "paid": funnel[2],
            "approved": funnel[3], "closed_early": funnel[4],
        },
    }))
}

/// PostgreSQL sums a `bigint` column as `numeric`: cast back to read it as one.
async fn payments(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    let sql = "SELECT status AS k, count(*) AS n, CAST(sum(amount_paise) AS BIGINT) AS amount FROM payment_orders \
               WHERE updated_at >= $1 AND updated_at < $2 AND status IN ('paid', 'failed') GROUP BY status";
    let (mut completed, mut failed, mut amount) = (0i64, 0i64, 0i64);
    for row in db.query_all_raw(d.statement(sql, range)).await? {
        let status: String = row.try_get("", "k")?;
        let n: i64 = row.try_get("", "n")?;
        if status == "paid" {
            completed = n;
            amount = row.try_get::<Option<i64>>("", "amount")?.unwrap_or(0);
        } else {
            failed = n;
        }
    }
    Ok(json!({ "completed": completed, "failed": failed, "amount_paise": amount }))
}

async fn scalar(db: &impl ConnectionTrait, s: Statement) -> AppResult<i64> {
    Ok(match db.query_one_raw(s).await? {
        Some(row) => row.try_get::<Option<i64>>("", "n")?.unwrap_or(0),
        None => 0,
    })
}

async fn counts(db: &impl ConnectionTrait, s: Statement) -> AppResult<Map<String, Value>> {
    let mut out = Map::new();
    for row in db.query_all_raw(s).await? {
        let k: String = row.try_get("", "k")?;
        let n: i64 = row.try_get("", "n")?;
        out.insert(k, json!(n));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_default_to_thirty_days_and_stop_at_366() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();
        let r = Range::parse(None, None, today).unwrap();
        assert_eq!((r.from.to_string(), r.to.to_string()), ("2026-11-03".into(), "2026-12-02".into()));
        assert!(Range::parse(Some("2025-12-02"), Some("2026-12-02"), today).is_ok());
        assert!(Range::parse(Some("2025-12-01"), Some("2026-12-02"), today).is_err());
        assert!(Range::parse(Some("2026-12-03"), Some("2026-12-02"), today).is_err());
        assert!(Range::parse(Some("yesterday"), None, today).is_err());
    }
}

//! Activity figures for administrators. The message figures and reply
//! times come from per-day rollups kept by a background aggregator
//! ([`rollup`]); conversations, the flow funnel and payments are aggregate
//! queries over their (far smaller) tables, read through the indexes on
//! `created_at` (conversations) and `updated_at` (payment orders).

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value as DbValue};
use serde_json::{Map, Value, json};

use crate::error::{AppError, AppResult};

mod day;
pub mod rollup;

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

    pub(super) fn bounds(&self) -> (chrono::DateTime<Utc>, chrono::DateTime<Utc>) {
        let start = Utc.from_utc_datetime(&self.from.and_time(chrono::NaiveTime::MIN));
        let end = Utc.from_utc_datetime(&(self.to + Duration::days(1)).and_time(chrono::NaiveTime::MIN));
        (start, end)
    }

    pub(super) fn days(&self) -> impl Iterator<Item = NaiveDate> + '_ {
        self.from.iter_days().take_while(|d| *d <= self.to)
    }
}

/// What differs between the databases: placeholders.
struct Dialect(DbBackend);

impl Dialect {
    /// SQL written with `$1`, `$2`, ... in the dialect's placeholders.
    fn sql(&self, sql: &str, values: Vec<DbValue>) -> Statement {
        let sql = match self.0 {
            DbBackend::Postgres => sql.to_string(),
            _ => sql.replace('$', "?"),
        };
        Statement::from_sql_and_values(self.0, sql, values)
    }

    /// SQL over the range's bounds, `$1` (first instant) and `$2` (the
    /// instant after the last day).
    fn statement(&self, sql: &str, range: &Range) -> Statement {
        let (start, end) = range.bounds();
        self.sql(sql, vec![start.into(), end.into()])
    }
}

/// The whole report.
pub async fn report(db: &DatabaseConnection, range: Range) -> AppResult<Value> {
    let d = Dialect(db.get_database_backend());
    let figures = rollup::figures(db, &range).await?;
    Ok(json!({
        "from": range.from.to_string(),
        "to": range.to.to_string(),
        "messages": figures.messages,
        "conversations": conversations(db, &d, &range).await?,
        "response_time_ms": figures.response_time_ms,
        "flow": flow(db, &d, &range).await?,
        "payments": payments(db, &d, &range).await?,
    }))
}

async fn conversations(db: &impl ConnectionTrait, d: &Dialect, range: &Range) -> AppResult<Value> {
    let sql = "SELECT conversation_type AS k, count(*) AS n FROM conversations \
               WHERE created_at >= $1 AND created_at < $2 GROUP BY conversation_type";
    let by_type = counts(db, d.statement(sql, range)).await?;
    let started: i64 = by_type.values().filter_map(Value::as_i64).sum();
    Ok(json!({ "started": started, "by_type": by_type }))
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

//! Daily free messages, then points: each user's first N `user_input`
//! messages of the day (in the quota's time zone) are free; after that each
//! costs points, debited in the transaction that stores the message. Points
//! come from the platform's credits, each reference credited once.

use std::collections::{BTreeSet, HashMap};

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use entity::{quota_usage, wallet, wallet_credit};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use serde::Serialize;
use serde_json::json;
use uuid::Uuid;

use super::clock;
use crate::{
    config::TimeRules,
    error::{AppError, AppResult, ErrorCode},
};

/// The quota's rules.
#[derive(Clone, Debug)]
pub struct Quota {
    pub daily_free: u32,
    pub timezone: chrono_tz::Tz,
    pub cost: i64,
    pub conversation_types: Vec<String>,
}

impl From<&TimeRules> for Quota {
    fn from(r: &TimeRules) -> Self {
        Self {
            daily_free: r.quota_daily_free,
            timezone: r.quota_timezone,
            cost: r.quota_points_per_message,
            conversation_types: r.quota_conversation_types.clone(),
        }
    }
}

/// A user's quota as clients see it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct State {
    pub free_limit: u32,
    pub used_today: u32,
    pub remaining_free: u32,
    pub points_balance: i64,
    pub cost_per_message: i64,
    pub resets_at: String,
}

impl Quota {
    pub fn enabled(&self) -> bool {
        self.daily_free > 0
    }

    /// Whether a message in a conversation of this type counts.
    pub fn applies_to(&self, conversation_type: &str) -> bool {
        self.enabled() && self.conversation_types.iter().any(|t| t == conversation_type)
    }

    /// The quota's day of `now`, in its time zone.
    pub fn day(&self, now: DateTime<Utc>) -> String {
        now.with_timezone(&self.timezone).date_naive().format("%Y-%m-%d").to_string()
    }

    /// When the day of `now` ends (the next local midnight), in UTC.
    pub fn resets_at(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let local = now.with_timezone(&self.timezone);
        let tomorrow = local.date_naive().succ_opt().unwrap_or(local.date_naive());
        let midnight = tomorrow.and_time(NaiveTime::MIN);
        // A zone whose midnight is skipped (a DST jump) starts the day at its first valid time.
        self.timezone
            .from_local_datetime(&midnight)
            .earliest()
            .or_else(|| self.timezone.from_local_datetime(&(midnight + chrono::Duration::hours(1))).earliest())
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|| now + chrono::Duration::days(1))
            .max(now + chrono::Duration::seconds(1))
            .with_nanosecond_zero()
    }

    fn state(&self, used: i32, points: i64, now: DateTime<Utc>) -> State {
        let used = used.max(0) as u32;
        State {
            free_limit: self.daily_free,
            used_today: used,
            remaining_free: self.daily_free.saturating_sub(used),
            points_balance: points,
            cost_per_message: self.cost,
            resets_at: clock::rfc3339(&self.resets_at(now)),
        }
    }

    fn exceeded(&self, points: i64) -> AppError {
        AppError::new(ErrorCode::QuotaExceeded, "No free messages are left today and the points balance is too low")
            .with_details(json!({ "remaining_free": 0, "points_balance": points, "cost": self.cost }))
    }
}

trait NanosZero {
    fn with_nanosecond_zero(self) -> Self;
}

impl NanosZero for DateTime<Utc> {
    fn with_nanosecond_zero(self) -> Self {
        chrono::Timelike::with_nanosecond(&self, 0).unwrap_or(self)
    }
}

/// A user's quota now.
pub async fn state(db: &impl ConnectionTrait, quota: &Quota, user_id: &str, now: DateTime<Utc>) -> AppResult<State> {
    let used = quota_usage::Entity::find_by_id((user_id.to_string(), quota.day(now)))
        .one(db)
        .await?
        .map(|u| u.used)
        .unwrap_or(0);
    let points = wallet::Entity::find_by_id(user_id.to_string()).one(db).await?.map(|w| w.points).unwrap_or(0);
    Ok(quota.state(used, points, now))
}

/// Charges messages about to be stored, in order, inside the caller's
/// transaction (which must store exactly the messages charged): free while
/// the day's free messages last, then `cost` points each. Returns, per
/// message, the user's quota after it, or `QUOTA_EXCEEDED`.
pub async fn charge(
    txn: &impl ConnectionTrait,
    quota: &Quota,
    messages: &[(Uuid, &str)],
    now: DateTime<Utc>,
) -> AppResult<HashMap<Uuid, AppResult<State>>> {
    let day = quota.day(now);
    let users: BTreeSet<&str> = messages.iter().map(|(_, u)| *u).collect();
    if users.is_empty() {
        return Ok(HashMap::new());
    }
    // Rows for everyone first, so the reads below can lock them.
    quota_usage::Entity::insert_many(users.iter().map(|u| quota_usage::ActiveModel {
        user_id: Set(u.to_string()),
        day: Set(day.clone()),
        used: Set(0),
    }))
    .on_conflict(OnConflict::columns([quota_usage::Column::UserId, quota_usage::Column::Day]).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    wallet::Entity::insert_many(users.iter().map(|u| wallet::ActiveModel {
        user_id: Set(u.to_string()),
        points: Set(0),
        updated_at: Set(now),
    }))
    .on_conflict(OnConflict::column(wallet::Column::UserId).do_nothing().to_owned())
    .exec_without_returning(txn)
    .await?;
    let ids: Vec<String> = users.iter().map(|u| u.to_string()).collect();
    let locked = |q: sea_orm::Select<quota_usage::Entity>| -> sea_orm::Select<quota_usage::Entity> {
        if txn.get_database_backend() == sea_orm::DbBackend::Postgres { q.lock_exclusive() } else { q }
    };
    let mut used: HashMap<String, i32> = locked(
        quota_usage::Entity::find()
            .filter(quota_usage::Column::UserId.is_in(ids.clone()))
            .filter(quota_usage::Column::Day.eq(day.as_str())),
    )
    .all(txn)
    .await?
    .into_iter()
    .map(|u| (u.user_id, u.used))
    .collect();
    let mut wallets = wallet::Entity::find().filter(wallet::Column::UserId.is_in(ids));
    if txn.get_database_backend() == sea_orm::DbBackend::Postgres {
        wallets = wallets.lock_exclusive();
    }
    let mut points: HashMap<String, i64> = wallets.all(txn).await?.into_iter().map(|w| (w.user_id, w.points)).collect();
    let (used_before, points_before) = (used.clone(), points.clone());

    let mut out = HashMap::new();
    for (id, user) in messages {
        let u = used.entry(user.to_string()).or_default();
        let p = points.entry(user.to_string()).or_default();
        let result = if (*u as u32) < quota.daily_free {
            *u += 1;
            Ok(quota.state(*u, *p, now))
        } else if *p >= quota.cost {
            *u += 1;
            *p -= quota.cost;
            Ok(quota.state(*u, *p, now))
        } else {
            Err(quota.exceeded(*p))
        };
        out.insert(*id, result);
    }
    for (user, n) in &used {
        if used_before.get(user) != Some(n) {
            quota_usage::Entity::update_many()
                .col_expr(quota_usage::Column::Used, sea_orm::sea_query::Expr::value(*n))
                .filter(quota_usage::Column::UserId.eq(user.as_str()))
                .filter(quota_usage::Column::Day.eq(day.as_str()))
                .exec(txn)
                .await?;
        }
    }
    for (user, p) in &points {
        if points_before.get(user) != Some(p) {
            wallet::Entity::update_many()
                .col_expr(wallet::Column::Points, sea_orm::sea_query::Expr::value(*p))
                .col_expr(wallet::Column::UpdatedAt, sea_orm::sea_query::Expr::value(now))
                .filter(wallet::Column::UserId.eq(user.as_str()))
                .exec(txn)
                .await?;
        }
    }
    Ok(out)
}

/// Credits points once per `reference`; returns the balance and whether
/// this call credited them.
pub async fn credit(
    db: &DatabaseConnection,
    user_id: &str,
    points: i64,
    reference: &str,
    source: &str,
    now: DateTime<Utc>,
) -> AppResult<(i64, bool)> {
    let txn = crate::db::begin_write(db).await?;
    let recorded = wallet_credit::Entity::insert(wallet_credit::ActiveModel {
        reference: Set(reference.to_string()),
        user_id: Set(user_id.to_string()),
        points: Set(points),
        source: Set(Some(source.to_string())),
        created_at: Set(now),
    })
    .on_conflict(OnConflict::column(wallet_credit::Column::Reference).do_nothing().to_owned())
    .exec_without_returning(&txn)
    .await?;
    if recorded == 1 {
        wallet::Entity::insert(wallet::ActiveModel {
            user_id: Set(user_id.to_string()),
            points: Set(points),
            updated_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(wallet::Column::UserId)
                .value(wallet::Column::Points, sea_orm::sea_query::Expr::cust("wallets.points + excluded.points"))
                .update_column(wallet::Column::UpdatedAt)
                .to_owned(),
        )
        .exec_without_returning(&txn)
        .await?;
    } else {
        let first = wallet_credit::Entity::find_by_id(reference.to_string()).one(&txn).await?;
        if first.is_some_and(|c| c.user_id != user_id) {
            txn.rollback().await?;
            return Err(AppError::invalid_field("reference", "was already used for another user"));
        }
    }
    let balance = wallet::Entity::find_by_id(user_id.to_string())
        .select_only()
        .column(wallet::Column::Points)
        .into_tuple::<i64>()
        .one(&txn)
        .await?
        .unwrap_or(0);
    txn.commit().await?;
    Ok((balance, recorded == 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kolkata(free: u32) -> Quota {
        Quota {
            daily_free: free,
            timezone: chrono_tz::Asia::Kolkata,
            cost: 10,
            conversation_types: vec!["direct".into()],
        }
    }

    #[test]
    fn the_day_turns_at_local_midnight() {
        let q = kolkata(20);
        // 23:59 in Kolkata is 18:29 UTC; midnight is 18:30 UTC.
        let before = Utc.with_ymd_and_hms(2026, 12, 1, 18, 29, 0).unwrap();
        let after = Utc.with_ymd_and_hms(2026, 12, 1, 18, 30, 0).unwrap();
        assert_eq!(q.day(before), "2026-12-01");
        assert_eq!(q.day(after), "2026-12-02");
        assert_eq!(clock::rfc3339(&q.resets_at(before)), "2026-12-01T18:30:00.000Z");
        assert_eq!(clock::rfc3339(&q.resets_at(after)), "2026-12-02T18:30:00.000Z");
    }

    #[test]
    fn the_quota_applies_only_where_configured() {
        let q = kolkata(20);
        assert!(q.applies_to("direct"));
        assert!(!q.applies_to("bid"));
        assert!(!kolkata(0).applies_to("direct"), "0 free messages turns the quota off");
    }
}

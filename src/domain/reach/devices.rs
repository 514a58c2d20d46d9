//! Devices registered for push: at most [`MAX_PER_USER`] per user, the
//! least recently registered dropped first.

use chrono::{DateTime, Utc};
use entity::device;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set, sea_query::OnConflict,
};
use serde_json::{Value, json};

use super::super::clock;
use crate::error::{AppError, AppResult};

pub const MAX_PER_USER: u64 = 25;
pub const PLATFORMS: [&str; 2] = ["fcm", "apns"];
/// Longer than any token FCM or APNs hands out.
const MAX_TOKEN_LEN: usize = 512;

/// Checks a registration before it is stored.
pub fn validate(platform: &str, token: &str) -> AppResult<()> {
    if !PLATFORMS.contains(&platform) {
        return Err(AppError::invalid_field("platform", "must be fcm or apns"));
    }
    let token = token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_LEN || token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid_field("token", "must be a device token of 1..512 visible characters"));
    }
    if platform == "apns" && !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(AppError::invalid_field("token", "an APNs device token is hexadecimal"));
    }
    Ok(())
}

/// Registers (or registers again) a device for the user: a token another
/// user had moves to this one. Drops the user's oldest past the limit.
pub async fn register(
    db: &impl ConnectionTrait,
    user_id: &str,
    platform: &str,
    token: &str,
    now: DateTime<Utc>,
) -> AppResult<device::Model> {
    let row = device::ActiveModel {
        token: Set(token.trim().to_string()),
        user_id: Set(user_id.to_string()),
        platform: Set(platform.to_string()),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let stored = device::Entity::insert(row)
        .on_conflict(
            OnConflict::column(device::Column::Token)
                .update_columns([device::Column::UserId, device::Column::Platform, device::Column::UpdatedAt])
                .to_owned(),
        )
        .exec_with_returning(db)
        .await?;
    let keep: Vec<String> = device::Entity::find()
        .select_only()
        .column(device::Column::Token)
        .filter(device::Column::UserId.eq(user_id))
        .order_by_desc(device::Column::UpdatedAt)
        .order_by_desc(device::Column::Token)
        .limit(MAX_PER_USER)
        .into_tuple()
        .all(db)
        .await?;
    device::Entity::delete_many()
        .filter(device::Column::UserId.eq(user_id))
        .filter(device::Column::Token.is_not_in(keep))
        .exec(db)
        .await?;
    Ok(stored)
}

/// Removes one of the user's devices; false when the user has no such token.
pub async fn unregister(db: &impl ConnectionTrait, user_id: &str, token: &str) -> AppResult<bool> {
    let done = device::Entity::delete_many()
        .filter(device::Column::Token.eq(token))
        .filter(device::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(done.rows_affected > 0)
}

/// A token the push service said is gone.
pub async fn forget(db: &impl ConnectionTrait, token: &str) -> AppResult<()> {
    device::Entity::delete_by_id(token.to_string()).exec(db).await?;
    Ok(())
}

pub async fn of_user(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<device::Model>> {
    Ok(device::Entity::find()
        .filter(device::Column::UserId.eq(user_id))
        .order_by_desc(device::Column::UpdatedAt)
        .all(db)
        .await?)
}

pub fn json(d: &device::Model) -> Value {
    json!({
        "platform": d.platform,
        "token": d.token,
        "created_at": clock::rfc3339(&d.created_at),
        "updated_at": clock::rfc3339(&d.updated_at),
    })
}

//! A user's choice of offline email and push; both on unless turned off.

use chrono::{DateTime, Utc};
use entity::user_preference;
use sea_orm::{ConnectionTrait, EntityTrait, Set, sea_query::OnConflict};
use serde::Serialize;

use crate::error::AppResult;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Preferences {
    pub email_notifications: bool,
    pub push_notifications: bool,
}

impl Default for Preferences {
    fn default() -> Self {
        Self { email_notifications: true, push_notifications: true }
    }
}

pub async fn get(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Preferences> {
    Ok(user_preference::Entity::find_by_id(user_id.to_string())
        .one(db)
        .await?
        .map(|p| Preferences { email_notifications: p.email_notifications, push_notifications: p.push_notifications })
        .unwrap_or_default())
}

/// Changes what is given, keeps the rest; returns the result.
pub async fn set(
    db: &impl ConnectionTrait,
    user_id: &str,
    email: Option<bool>,
    push: Option<bool>,
    now: DateTime<Utc>,
) -> AppResult<Preferences> {
    let current = get(db, user_id).await?;
    let next = Preferences {
        email_notifications: email.unwrap_or(current.email_notifications),
        push_notifications: push.unwrap_or(current.push_notifications),
    };
    let row = user_preference::ActiveModel {
        user_id: Set(user_id.to_string()),
        email_notifications: Set(next.email_notifications),
        push_notifications: Set(next.push_notifications),
        updated_at: Set(now),
    };
    user_preference::Entity::insert(row)
        .on_conflict(
            OnConflict::column(user_preference::Column::UserId)
                .update_columns([
                    user_preference::Column::EmailNotifications,
                    user_preference::Column::PushNotifications,
                    user_preference::Column::UpdatedAt,
                ])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(next)
}

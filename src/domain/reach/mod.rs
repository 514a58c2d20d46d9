//! Reaching users who are not connected (contract section 12): the
//! devices they registered for push, their preferences, and the offline
//! email schedule. The senders themselves live in `parley-outbound`; when
//! and to whom is decided here and in `app::reach`.

pub mod devices;
pub mod email;
pub mod preferences;

use sea_orm::ConnectionTrait;
use uuid::Uuid;

use crate::error::AppResult;

pub use super::events::Notice;

/// Whether the user muted the conversation at `now`: no email or push for it then.
pub async fn muted(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    super::settings::muted(db, user_id, conversation_id, now).await
}

/// The badge a push carries: the user's unread notifications, a coalesced
/// new-message notification counting each of its messages.
pub async fn badge(db: &impl ConnectionTrait, user_id: &str) -> AppResult<u64> {
    use entity::notification;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
    let unread: Vec<(String, i32)> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Kind)
        .column(notification::Column::Count)
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Read.eq(false))
        .into_tuple()
        .all(db)
        .await?;
    Ok(unread
        .iter()
        .map(|(kind, count)| if kind == super::notifications::NEW_MESSAGE { (*count).max(1) as u64 } else { 1 })
        .sum())
}

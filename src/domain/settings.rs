//! A user's own settings for a conversation: archived (left out of the list
//! and of the unread total until the other participant writes again) and
//! muted (no `notification` event, email or push while muted). They change
//! nothing for the other participant. Stored on the user's unread-count row
//! of the conversation.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::unread_count::{self, forever};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, Set, sea_query::OnConflict};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    clock,
    events::{Outbound, user_room},
};
use crate::error::AppResult;

/// One user's settings for one conversation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Settings {
    pub archived: bool,
    pub muted_until: Option<DateTime<Utc>>,
}

impl Settings {
    /// `archived` and `muted_until` (null, a time, or `"forever"`) as of `now`.
    pub fn json(&self, now: DateTime<Utc>) -> Value {
        json!({ "archived": self.archived, "muted_until": muted_json(self.muted_until, now) })
    }
}

fn muted_json(until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Value {
    match until {
        Some(t) if t >= forever() => json!("forever"),
        Some(t) if t > now => json!(clock::rfc3339(&t)),
        _ => Value::Null,
    }
}

/// What changes: `archived`, or `muted_until` (`None` inside: unmuted).
#[derive(Clone, Copy, Debug)]
pub enum Change {
    Archive(bool),
    Mute(Option<DateTime<Utc>>),
}

/// Applies a change to the user's row (created when missing) and returns
/// the settings as they now are.
pub async fn change(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    change: Change,
) -> AppResult<Settings> {
    let mut row = unread_count::ActiveModel {
        user_id: Set(user_id.to_string()),
        conversation_id: Set(conversation_id),
        count: Set(0),
        ..Default::default()
    };
    let column = match change {
        Change::Archive(archived) => {
            row.archived = Set(archived);
            unread_count::Column::Archived
        }
        Change::Mute(until) => {
            row.muted_until = Set(until);
            unread_count::Column::MutedUntil
        }
    };
    unread_count::Entity::insert(row)
        .on_conflict(
            OnConflict::columns([unread_count::Column::UserId, unread_count::Column::ConversationId])
                .update_column(column)
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(of(db, user_id, vec![conversation_id]).await?.remove(&conversation_id).unwrap_or_default())
}

/// The user's settings for each of `ids` (defaults when never set).
pub async fn of(db: &impl ConnectionTrait, user_id: &str, ids: Vec<Uuid>) -> AppResult<HashMap<Uuid, Settings>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows = unread_count::Entity::find()
        .filter(unread_count::Column::UserId.eq(user_id))
        .filter(unread_count::Column::ConversationId.is_in(ids))
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| (r.conversation_id, Settings { archived: r.archived, muted_until: r.muted_until }))
        .collect())
}

/// Whether `user_id` has muted the conversation at `now`: the one rule that
/// socket notifications, email and push all follow.
pub async fn muted(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<bool> {
    Ok(!muted_among(db, &[(user_id.to_string(), conversation_id)], now).await?.is_empty())
}

/// Which of the (user, conversation) pairs are muted at `now`.
pub async fn muted_among(
    db: &impl ConnectionTrait,
    pairs: &[(String, Uuid)],
    now: DateTime<Utc>,
) -> AppResult<HashSet<(String, Uuid)>> {
    let Some(query) = muted_query(pairs, now) else { return Ok(HashSet::new()) };
    Ok(query.all(db).await?.into_iter().map(|r| (r.user_id, r.conversation_id)).collect())
}

/// The query of [`muted_among`]: the rows of these pairs muted at `now`.
/// None without pairs.
pub fn muted_query(pairs: &[(String, Uuid)], now: DateTime<Utc>) -> Option<sea_orm::Select<unread_count::Entity>> {
    if pairs.is_empty() {
        return None;
    }
    let mut any = Condition::any();
    for (user, conversation) in pairs {
        any = any.add(
            Condition::all()
                .add(unread_count::Column::UserId.eq(user.as_str()))
                .add(unread_count::Column::ConversationId.eq(*conversation)),
        );
    }
    Some(unread_count::Entity::find().filter(any).filter(unread_count::Column::MutedUntil.gt(now)))
}

/// Drops the `notification` events of muted conversations.
pub async fn drop_muted(db: &impl ConnectionTrait, events: Vec<Outbound>, now: DateTime<Utc>) -> Vec<Outbound> {
    let pairs: Vec<(String, Uuid)> = events.iter().filter_map(|e| e.muted_by.clone()).collect();
    if pairs.is_empty() {
        return events;
    }
    let muted = match muted_among(db, &pairs, now).await {
        Ok(m) => m,
        Err(e) => {
            // Sending a notification too many beats losing one.
            e.log_and_drop("reading mutes");
            return events;
        }
    };
    events.into_iter().filter(|e| e.muted_by.as_ref().is_none_or(|p| !muted.contains(p))).collect()
}

/// `conversation_settings_updated` to the user's devices.
pub fn updated_event(user_id: &str, conversation_id: Uuid, s: &Settings, now: DateTime<Utc>) -> Outbound {
    let mut data = s.json(now);
    data["conversation_id"] = json!(conversation_id);
    Outbound::new("conversation_settings_updated", vec![user_room(user_id)], data)
}

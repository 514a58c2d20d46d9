//! A user's stored notifications: the list, unread count, reading and
//! deleting; changes reach the user's other devices.

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::AppState;
use crate::{
    domain::{limits::Limit, notifications, pagination::Page, users::Identity},
    error::{AppError, AppResult},
};

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    pub page: Option<String>,
    pub limit: Option<String>,
    pub unread: Option<String>,
}

pub struct Listed {
    pub items: Vec<Value>,
    pub pagination: Value,
    pub unread_count: u64,
}

/// Newest first; `unread=true` for unread ones only.
pub async fn list(app: &AppState, who: &Identity, q: ListQuery) -> AppResult<Listed> {
    let page = Page::parse(q.page.as_deref(), q.limit.as_deref(), 10)?;
    let unread_only = match q.unread.as_deref().map(str::trim) {
        None | Some("") | Some("false") | Some("0") => false,
        Some("true") | Some("1") => true,
        Some(_) => return Err(AppError::invalid_field("unread", "must be true or false")),
    };
    let (rows, total) = notifications::list(&app.db, &who.user_id, unread_only, page).await?;
    Ok(Listed {
        items: rows.iter().map(notifications::json).collect(),
        pagination: page.json(total),
        unread_count: notifications::unread_count(&app.db, &who.user_id).await?,
    })
}

pub async fn unread_count(app: &AppState, who: &Identity) -> AppResult<u64> {
    notifications::unread_count(&app.db, &who.user_id).await
}

fn notification_id(raw: &str) -> AppResult<Uuid> {
    Uuid::parse_str(raw.trim()).map_err(|_| AppError::not_found("Notification"))
}

pub struct Read {
    pub notification: Value,
    pub unread_count: u64,
}

/// Marks one of the caller's notifications read.
pub async fn read(app: &AppState, who: &Identity, id: &str) -> AppResult<Read> {
    app.spend(Limit::Writes, who).await?;
    let id = notification_id(id)?;
    notifications::own(&app.db, &who.user_id, id).await?;
    let changed = notifications::mark_read(&app.db, &who.user_id, Some(vec![id]), app.clock.now()).await?;
    let row = notifications::own(&app.db, &who.user_id, id).await?;
    let unread_count = notifications::unread_count(&app.db, &who.user_id).await?;
    if !changed.is_empty() {
        let event = notifications::updated_event(&who.user_id, &changed, json!({ "read": true }), unread_count);
        app.emitter.publish(vec![event]).await;
    }
    Ok(Read { notification: notifications::json(&row), unread_count })
}

pub struct AllRead {
    pub updated: usize,
    pub unread_count: u64,
}

pub async fn mark_all_read(app: &AppState, who: &Identity) -> AppResult<AllRead> {
    app.spend(Limit::Writes, who).await?;
    let changed = notifications::mark_read(&app.db, &who.user_id, None, app.clock.now()).await?;
    let unread_count = notifications::unread_count(&app.db, &who.user_id).await?;
    if !changed.is_empty() {
        let event = notifications::updated_event(&who.user_id, &changed, json!({ "read": true }), unread_count);
        app.emitter.publish(vec![event]).await;
    }
    Ok(AllRead { updated: changed.len(), unread_count })
}

pub async fn delete(app: &AppState, who: &Identity, id: &str) -> AppResult<()> {
    app.spend(Limit::Writes, who).await?;
    let id = notification_id(id)?;
    notifications::own(&app.db, &who.user_id, id).await?;
    notifications::delete(&app.db, &who.user_id, id).await?;
    let unread_count = notifications::unread_count(&app.db, &who.user_id).await?;
    let event = notifications::updated_event(&who.user_id, &[id], json!({ "deleted": true }), unread_count);
    app.emitter.publish(vec![event]).await;
    Ok(())
}

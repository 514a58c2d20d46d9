//! The audit log: every administrator action, who did it, to what, when.

use chrono::{DateTime, Utc};
use entity::admin_audit;
use sea_orm::{ConnectionTrait, EntityTrait, PaginatorTrait, QueryOrder, QuerySelect};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    domain::{clock, pagination::Page},
    error::AppResult,
};

/// One admin action to log.
pub struct Entry<'a> {
    pub admin_id: &'a str,
    pub action: &'a str,
    pub target_type: &'a str,
    pub target_id: String,
    pub details: Option<Value>,
}

/// Logs an action, in the transaction that does it.
pub async fn record(db: &impl ConnectionTrait, e: Entry<'_>, now: DateTime<Utc>) -> AppResult<()> {
    let row = admin_audit::Model {
        id: Uuid::now_v7(),
        admin_id: e.admin_id.into(),
        action: e.action.into(),
        target_type: e.target_type.into(),
        target_id: e.target_id.chars().take(128).collect(),
        details: e.details,
        created_at: now,
    };
    admin_audit::Entity::insert(admin_audit::ActiveModel::from(row)).exec_without_returning(db).await?;
    Ok(())
}

/// The log, newest first.
pub async fn list(db: &impl ConnectionTrait, page: Page) -> AppResult<(Vec<Value>, u64)> {
    let total = admin_audit::Entity::find().count(db).await?;
    let rows = admin_audit::Entity::find()
        .order_by_desc(admin_audit::Column::CreatedAt)
        .order_by_desc(admin_audit::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    let entries = rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "admin_id": r.admin_id,
                "action": r.action,
                "target": { "type": r.target_type, "id": r.target_id },
                "details": r.details,
                "created_at": clock::rfc3339(&r.created_at),
            })
        })
        .collect();
    Ok((entries, total))
}

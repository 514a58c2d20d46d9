//! System messages the platform posts into a conversation (order shipped,
//! offer accepted, ...): from the system user, visible to both parties,
//! nobody's unread, stored once per idempotency key.

use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use serde_json::Value;

use crate::{
    domain::{
        conversations,
        events::{self, MessageNew, Outbound},
        names::MessageType,
        outbox,
    },
    error::{AppError, AppResult},
};

pub struct Posted {
    pub message: message::Model,
    /// False when the idempotency key was seen before.
    pub created: bool,
    pub events: Vec<Outbound>,
}

pub struct Notice<'a> {
    pub system_user_id: &'a str,
    pub text: String,
    pub action_data: Option<Value>,
    /// Whether it asks a party to act (a platform's card); a notice that
    /// only tells (an inquiry's subject, a new setting) does not.
    pub action_required: bool,
    pub idempotency_key: Option<String>,
    pub track_emits: bool,
}

/// Stores a system message with its webhook, touching the conversation,
/// in one transaction.
pub async fn post(
    db: &DatabaseConnection,
    hooks: &outbox::Webhooks,
    c: &conversation::Model,
    notice: Notice<'_>,
    now: DateTime<Utc>,
) -> AppResult<Posted> {
    if conversations::is_closed(c) {
        return Err(AppError::closed());
    }
    let row = message::Model {
        action_required: notice.action_required,
        action_data: notice.action_data,
        is_automated: true,
        client_message_id: notice.idempotency_key.clone(),
        emit_pending: notice.track_emits,
        // Addressed to no one: visible to both parties, counted for neither.
        ..super::new_row(
            c.id,
            notice.system_user_id.to_string(),
            notice.system_user_id.to_string(),
            notice.text,
            MessageType::System,
            now,
        )
    };
    let txn = crate::db::begin_write(db).await?;
    let inserted = message::Entity::insert(message::ActiveModel::from(row.clone()))
        .on_conflict(crate::domain::messages::repeat_conflict())
        .exec_without_returning(&txn)
        .await?;
    if inserted == 0 {
        txn.rollback().await?;
        let existing = message::Entity::find()
            .filter(message::Column::ConversationId.eq(c.id))
            .filter(message::Column::SenderId.eq(row.sender_id.as_str()))
            .filter(message::Column::ClientMessageId.eq(notice.idempotency_key))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("system message neither stored nor found")))?;
        return Ok(Posted { message: existing, created: false, events: vec![] });
    }
    conversation::Entity::update_many()
        .set(conversation::ActiveModel { last_message_at: Set(now), ..Default::default() })
        .filter(conversation::Column::Id.eq(c.id))
        .exec(&txn)
        .await?;
    let data = MessageNew { conversation_id: c.id, message: events::MessageView::from(&row) };
    let hook = outbox::event(hooks, outbox::MESSAGE_NEW, &data, now)?;
    outbox::enqueue(&txn, hooks, hook.into_iter().collect()).await?;
    txn.commit().await?;
    let events = vec![events::new_message(c, &row)];
    Ok(Posted { message: row, created: true, events })
}

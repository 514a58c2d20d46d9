//! Writing a flow transition inside a transaction: the conversation only
//! if it is still at the version that was read, answered cards marked
//! complete, the new messages, and what they cause (notifications, webhook
//! events). Callers commit, then publish.

use entity::{conversation, message, notification};
use sea_orm::{ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, Set, sea_query::Expr};

use super::{
    config::{FlowConfig, user_of},
    rules::{self, Draft, Transition},
};
use crate::{
    domain::{messages, names::MessageType, notifications, outbox},
    error::{AppError, AppResult},
};

/// Why a write did not happen.
pub enum WriteError {
    /// The conversation is no longer at the version that was read.
    Stale,
    Other(AppError),
}

impl From<DbErr> for WriteError {
    fn from(e: DbErr) -> Self {
        WriteError::Other(e.into())
    }
}

/// The conversation as a transition leaves it.
fn after(
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    now: chrono::DateTime<chrono::Utc>,
) -> conversation::Model {
    let mut after = c.clone();
    // An offer waiting for its answer expires; nothing else does.
    after.offer_expires_at = rules::pending_offer(t.to).map(|_| cfg.offer_deadline(now));
    after.flow_state = Some(t.to.as_str().into());
    after.awaiting_role = t.to.awaiting().map(|r| r.as_str().into());
    after.chat_status = t.to.chat_status().as_str().into();
    after.flow_data = t.data.clone();
    after.current_action_data = t.current_card.clone();
    after.revision_count = t.revision_count;
    after.version = c.version + 1;
    after.updated_at = now;
    after.last_message_at = now;
    after
}

/// Writes a transition inside `txn`: the conversation only if it is still
/// at the version read, answered cards marked complete, the new messages,
/// and what they cause.
pub async fn write(
    txn: &DatabaseTransaction,
    cfg: &FlowConfig,
    c: &conversation::Model,
    t: &Transition,
    actor: &str,
    extra: Extra,
) -> Result<Written, WriteError> {
    let now = cfg.clock.now();
    let rows: Vec<message::Model> = t.drafts.iter().map(|d| draft_to_row(cfg, c, d, actor, now)).collect();
    let after = after(cfg, c, t, now);
    let updated = conversation::Entity::update_many()
        .set(conversation::ActiveModel {
            offer_expires_at: Set(after.offer_expires_at),
            flow_state: Set(after.flow_state.clone()),
            awaiting_role: Set(after.awaiting_role.clone()),
            chat_status: Set(after.chat_status.clone()),
            flow_data: Set(after.flow_data.clone()),
            current_action_data: Set(after.current_action_data.clone()),
            revision_count: Set(after.revision_count),
            version: Set(after.version),
            updated_at: Set(now),
            last_message_at: Set(now),
            ..Default::default()
        })
        .filter(conversation::Column::Id.eq(c.id))
        .filter(conversation::Column::Version.eq(c.version))
        .exec(txn)
        .await?;
    if updated.rows_affected == 0 {
        return Err(WriteError::Stale);
    }
    message::Entity::update_many()
        .col_expr(message::Column::ActionCompleted, Expr::value(true))
        .filter(message::Column::ConversationId.eq(c.id))
        .filter(message::Column::ActionRequired.eq(true))
        .filter(message::Column::ActionCompleted.eq(false))
        .exec(txn)
        .await?;
    if !rows.is_empty() {
        message::Entity::insert_many(rows.iter().cloned().map(message::ActiveModel::from))
            .exec_without_returning(txn)
            .await?;
        messages::count_unread(txn, &rows).await.map_err(WriteError::Other)?;
    }
    let notified = record_effects(txn, cfg, c, &after, t, &rows, actor, extra).await.map_err(WriteError::Other)?;
    Ok(Written { conversation: after, messages: rows, notified })
}

/// The stored message a draft becomes.
pub(super) fn draft_to_row(
    cfg: &FlowConfig,
    c: &conversation::Model,
    draft: &Draft,
    actor: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> message::Model {
    let (sender, receiver, kind, text, action_data, seen) = match draft {
        Draft::Audit { text } => (actor.to_string(), actor.to_string(), MessageType::Audit, text, None, true),
        Draft::Card { to, text, action_data } => {
            (actor.to_string(), user_of(c, *to).to_string(), MessageType::Automated, text, action_data.clone(), false)
        }
        Draft::Notice { to, text, action_data } => (
            cfg.system_user_id.clone(),
            user_of(c, *to).to_string(),
            MessageType::System,
            text,
            action_data.clone(),
            false,
        ),
    };
    message::Model {
        action_required: action_data.is_some(),
        action_data,
        is_automated: true,
        seen,
        seen_at: seen.then_some(now),
        emit_pending: cfg.track_emits,
        ..messages::new_row(c.id, sender, receiver, text.clone(), kind, now)
    }
}

/// What a caller adds to a transition's transaction: notifications and
/// webhook events of its own (a captured payment's).
#[derive(Default)]
pub struct Extra {
    pub notifications: Vec<notifications::Draft>,
    pub webhooks: Vec<outbox::Event>,
}

/// A transition as written.
pub struct Written {
    pub conversation: conversation::Model,
    pub messages: Vec<message::Model>,
    /// The notifications stored with it.
    pub notified: Vec<notification::Model>,
}

/// Stores what a transition causes besides its messages, in its
/// transaction: the parties' notifications and the webhook events.
#[allow(clippy::too_many_arguments)]
pub async fn record_effects(
    txn: &DatabaseTransaction,
    cfg: &FlowConfig,
    before: &conversation::Model,
    after: &conversation::Model,
    t: &Transition,
    rows: &[message::Model],
    actor: &str,
    extra: Extra,
) -> AppResult<Vec<notification::Model>> {
    let mut drafts = super::publish::drafts(before, after, t, rows, actor);
    drafts.extend(extra.notifications);
    let notified = notifications::store(txn, drafts, after.updated_at).await?;
    let mut hooks = super::publish::webhook_events(&cfg.webhooks, after, t, rows)?;
    hooks.extend(extra.webhooks);
    outbox::enqueue(txn, &cfg.webhooks, hooks).await?;
    Ok(notified)
}

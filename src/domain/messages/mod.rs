//! Messages: sending (idempotent per client message id), history with pages
//! and cursors, read receipts and unread counts.

use std::collections::HashMap;

use entity::{conversation, message, unread_count};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Set,
    sea_query::{Expr, OnConflict},
};
use serde::Serialize;
use serde_json::{Value, json, value::RawValue};
use uuid::Uuid;

mod writer;

pub use writer::{BatchMetrics, Writer};
use writer::{Unread, Written};

use super::{
    clock,
    conversations::{self, visible_messages},
    events::{self, Outbound, Payload},
    ids::{ConversationId, MessageId},
    pagination::Page,
    users::Identity,
    validate,
};
use crate::error::{AppError, AppResult};

pub const USER_INPUT: &str = "user_input";
pub const SYSTEM: &str = "system";
pub const AUTOMATED: &str = "automated";
pub const AUDIT: &str = "audit";

pub struct SendInput {
    pub conversation_id: ConversationId,
    pub text: String,
    pub media_url: Option<String>,
    pub client_message_id: Option<String>,
}

pub struct SendOutcome {
    pub message: message::Model,
    /// `message` as clients see it (written once, shared by the events and the answer).
    pub json: Box<RawValue>,
    pub conversation: conversation::Model,
    /// False when a repeated client message id returned the stored message.
    pub created: bool,
    pub events: Vec<Outbound>,
}

/// Free text is allowed in direct conversations and once a flow reaches
/// `real_time`; never in a closed conversation.
pub fn ensure_chat_open(c: &conversation::Model) -> AppResult<()> {
    match c.chat_status.as_str() {
        "real_time" => Ok(()),
        "closed" => Err(closed()),
        _ => Err(AppError::new(
            crate::error::ErrorCode::ChatNotEnabled,
            "Free chat opens once the collaboration reaches real-time chat; use the action cards until then",
        )
        .with_details(json!({ "flow_state": c.flow_state, "awaiting_role": c.awaiting_role }))),
    }
}

pub fn closed() -> AppError {
    AppError::new(crate::error::ErrorCode::ConversationClosed, "This conversation is closed")
}

/// Sends a user's message through the group-commit writer. The message is
/// committed before any event is returned; a repeated client message id
/// returns the stored message and no events.
#[tracing::instrument(skip_all, fields(conversation_id = %input.conversation_id, user_id = %who.user_id))]
pub async fn send(
    db: &DatabaseConnection,
    writer: &Writer,
    who: &Identity,
    input: SendInput,
) -> AppResult<SendOutcome> {
    let media_url = input.media_url.as_deref().map(|u| validate::media_url("media_url", u)).transpose()?;
    let text = validate::message_text(&input.text, media_url.is_some())?;
    let client_message_id = input
        .client_message_id
        .as_deref()
        .map(|id| validate::client_message_id("client_message_id", id))
        .transpose()?;

    let participants = match writer.participants(input.conversation_id.0) {
        Some(p) => p,
        None => {
            let c = conversations::load(db, input.conversation_id).await?;
            writer.remember(&c);
            writer.participants(c.id).ok_or_else(|| AppError::internal(anyhow::anyhow!("participants not kept")))?
        }
    };
    let receiver = if participants.user1_id == who.user_id {
        participants.user2_id.clone()
    } else if participants.user2_id == who.user_id {
        participants.user1_id.clone()
    } else if who.is_admin() {
        return Err(AppError::forbidden("Admins may read conversations but not act in them"));
    } else {
        return Err(AppError::forbidden("You are not a participant of this conversation"));
    };

    let row = message::Model {
        id: MessageId::new().0,
        conversation_id: input.conversation_id.0,
        sender_id: who.user_id.clone(),
        receiver_id: receiver,
        message: text,
        media_url,
        message_type: USER_INPUT.into(),
        action_required: false,
        action_data: None,
        is_automated: false,
        action_completed: false,
        seen: false,
        seen_at: None,
        client_message_id,
        expires_at: None,
        emit_pending: true,
        created_at: clock::now(),
    };
    let (written, c) = writer.write(row).await?;
    let (row, unread) = match written {
        Written::Existing(m) => {
            let json = message_text(&m)?;
            return Ok(SendOutcome { message: m, json, conversation: c, created: false, events: vec![] });
        }
        Written::New(m, unread) => (m, unread),
    };
    let json = message_text(&row)?;
    #[derive(Serialize)]
    struct Sent<'a> {
        conversation_id: Uuid,
        message: &'a RawValue,
        sender_id: &'a str,
    }
    let sent = Sent { conversation_id: c.id, message: &json, sender_id: &row.sender_id };
    let events = vec![
        events::new_message_as(&c, &row, &*json),
        events::notification(&row.receiver_id, "new_message", Payload::text(&sent)),
        unread_event(&row.receiver_id, c.id, unread),
    ];
    Ok(SendOutcome { message: row, json, conversation: c, created: true, events })
}

/// A message as clients see it, written as JSON text once.
fn message_text(m: &message::Model) -> AppResult<Box<RawValue>> {
    serde_json::value::to_raw_value(&events::MessageView::from(m)).map_err(AppError::internal)
}

/// Which slice of a conversation's history to read.
#[derive(Clone, Copy, Debug)]
pub enum Window {
    /// Page 1 is the newest `limit` messages, page 2 the ones before, ...
    Page(Page),
    /// The newest `limit` messages older than the cursor.
    Before(MessageId, Page),
    /// The oldest `limit` messages newer than the cursor.
    After(MessageId, Page),
}

impl Window {
    pub fn parse(page: Page, before: Option<&str>, after: Option<&str>) -> AppResult<Self> {
        let cursor = |field: &str, raw: &str| {
            Uuid::parse_str(raw.trim())
                .map(MessageId)
                .map_err(|_| AppError::invalid_field(field, "must be a message id"))
        };
        match (before.filter(|s| !s.is_empty()), after.filter(|s| !s.is_empty())) {
            (Some(_), Some(_)) => Err(AppError::validation(
                "Use either before or after, not both",
                json!({ "before": "conflicts with after", "after": "conflicts with before" }),
            )),
            (Some(b), None) => Ok(Self::Before(cursor("before", b)?, page)),
            (None, Some(a)) => Ok(Self::After(cursor("after", a)?, page)),
            (None, None) => Ok(Self::Page(page)),
        }
    }
}

/// A window of history the caller may see, in chronological order, with
/// the pagination block.
pub async fn history(
    db: &impl ConnectionTrait,
    c: &conversation::Model,
    who: &Identity,
    window: Window,
) -> AppResult<(Vec<message::Model>, Value)> {
    let visible = visible_messages(c.id, who);
    let total = message::Entity::find().filter(visible.clone()).count(db).await?;
    let (page, rows, has_more) = match window {
        Window::Page(page) => {
            let mut rows = message::Entity::find()
                .filter(visible)
                .order_by_desc(message::Column::Id)
                .offset(page.offset())
                .limit(page.limit)
                .all(db)
                .await?;
            rows.reverse();
            (page, rows, page.page.saturating_mul(page.limit) < total)
        }
        Window::Before(cursor, page) => {
            let mut rows = message::Entity::find()
                .filter(visible.add(message::Column::Id.lt(cursor.0)))
                .order_by_desc(message::Column::Id)
                .limit(page.limit + 1)
                .all(db)
                .await?;
            let more = rows.len() as u64 > page.limit;
            rows.truncate(page.limit as usize);
            rows.reverse();
            (page, rows, more)
        }
        Window::After(cursor, page) => {
            let mut rows = message::Entity::find()
                .filter(visible.add(message::Column::Id.gt(cursor.0)))
                .order_by_asc(message::Column::Id)
                .limit(page.limit + 1)
                .all(db)
                .await?;
            let more = rows.len() as u64 > page.limit;
            rows.truncate(page.limit as usize);
            (page, rows, more)
        }
    };
    let pagination = json!({ "page": page.page, "limit": page.limit, "total": total, "has_more": has_more });
    Ok((rows, pagination))
}

/// The newest message of a conversation the caller may see.
pub async fn last_visible(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    who: &Identity,
) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find()
        .filter(visible_messages(conversation_id, who))
        .order_by_desc(message::Column::Id)
        .one(db)
        .await?)
}

pub struct SeenOutcome {
    pub seen_count: u64,
    pub events: Vec<Outbound>,
}

/// Marks messages addressed to the caller as seen: all of them, or those up
/// to and including `up_to`.
#[tracing::instrument(skip_all, fields(conversation_id = %conversation_id, user_id = %who.user_id))]
pub async fn mark_seen(
    db: &DatabaseConnection,
    who: &Identity,
    conversation_id: ConversationId,
    up_to: Option<MessageId>,
) -> AppResult<SeenOutcome> {
    let (c, _side) = conversations::writable(db, conversation_id, who).await?;
    let mut addressed = Condition::all()
        .add(visible_messages(c.id, who))
        .add(message::Column::ReceiverId.eq(who.user_id.as_str()))
        .add(message::Column::SenderId.ne(who.user_id.as_str()));
    let marker = match up_to {
        Some(id) => {
            let exists = message::Entity::find()
                .filter(visible_messages(c.id, who))
                .filter(message::Column::Id.eq(id.0))
                .count(db)
                .await?;
            if exists == 0 {
                return Err(AppError::not_found("Message"));
            }
            addressed = addressed.add(message::Column::Id.lte(id.0));
            Some(id.0)
        }
        None => None,
    };
    let unseen = addressed.add(message::Column::Seen.eq(false));
    let now = clock::now();
    let txn = crate::db::begin_write(db).await?;
    let newest: Option<Uuid> = message::Entity::find()
        .select_only()
        .column(message::Column::Id)
        .filter(unseen.clone())
        .order_by_desc(message::Column::Id)
        .into_tuple()
        .one(&txn)
        .await?;
    let Some(newest) = newest else {
        txn.commit().await?;
        return Ok(SeenOutcome { seen_count: 0, events: vec![] });
    };
    let result = message::Entity::update_many()
        .col_expr(message::Column::Seen, Expr::value(true))
        .col_expr(message::Column::SeenAt, Expr::value(now))
        .filter(unseen.add(message::Column::Id.lte(newest)))
        .exec(&txn)
        .await?;
    recount_unread(&txn, &who.user_id, c.id).await?;
    txn.commit().await?;

    let other = conversations::other_participant(&c, &who.user_id).to_string();
    let mut events = vec![Outbound::new(
        "message_seen",
        vec![events::conversation_room(c.id), events::user_room(&other)],
        json!({
            "messageId": marker.unwrap_or(newest),
            "userId": who.user_id,
            "conversationId": c.id,
            "seen_at": clock::rfc3339(&now),
            "seen_count": result.rows_affected,
        }),
    )];
    events.extend(unread_update(db, &who.user_id, c.id).await);
    Ok(SeenOutcome { seen_count: result.rows_affected, events })
}

/// Unread messages addressed to the caller, per conversation (only the
/// given conversations when `only` is set).
pub async fn unread_by_conversation(
    db: &impl ConnectionTrait,
    user_id: &str,
    only: Option<Vec<Uuid>>,
) -> AppResult<HashMap<Uuid, u64>> {
    let mut query = unread_count::Entity::find()
        .filter(unread_count::Column::UserId.eq(user_id))
        .filter(unread_count::Column::Count.gt(0));
    if let Some(ids) = only {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        query = query.filter(unread_count::Column::ConversationId.is_in(ids));
    }
    Ok(query.all(db).await?.into_iter().map(|u| (u.conversation_id, u.count.max(0) as u64)).collect())
}

/// Raises the unread counts for newly stored messages, in their transaction.
/// Seen messages and messages to oneself (audits) never count.
pub async fn count_unread<'a>(
    txn: &impl ConnectionTrait,
    rows: impl IntoIterator<Item = &'a message::Model>,
) -> AppResult<()> {
    let mut added: HashMap<(&str, Uuid), i64> = HashMap::new();
    for m in rows.into_iter().filter(|m| !m.seen && m.sender_id != m.receiver_id) {
        *added.entry((m.receiver_id.as_str(), m.conversation_id)).or_default() += 1;
    }
    if added.is_empty() {
        return Ok(());
    }
    let mut keys: Vec<_> = added.into_iter().collect();
    // One order for every writer, so concurrent batches never deadlock.
    keys.sort();
    unread_count::Entity::insert_many(keys.into_iter().map(|((user, conversation), n)| unread_count::ActiveModel {
        user_id: Set(user.to_string()),
        conversation_id: Set(conversation),
        count: Set(n),
    }))
    .on_conflict(
        OnConflict::columns([unread_count::Column::UserId, unread_count::Column::ConversationId])
            .value(unread_count::Column::Count, Expr::cust("unread_counts.count + excluded.count"))
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Sets a user's unread count in a conversation to what is really unseen.
async fn recount_unread(txn: &impl ConnectionTrait, user_id: &str, conversation_id: Uuid) -> AppResult<()> {
    let n = message::Entity::find()
        .filter(message::Column::ConversationId.eq(conversation_id))
        .filter(message::Column::ReceiverId.eq(user_id))
        .filter(message::Column::SenderId.ne(user_id))
        .filter(message::Column::Seen.eq(false))
        .count(txn)
        .await? as i64;
    unread_count::Entity::insert(unread_count::ActiveModel {
        user_id: Set(user_id.to_string()),
        conversation_id: Set(conversation_id),
        count: Set(n),
    })
    .on_conflict(
        OnConflict::columns([unread_count::Column::UserId, unread_count::Column::ConversationId])
            .update_column(unread_count::Column::Count)
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// Clears the pending mark of messages that have been emitted.
pub async fn mark_emitted(db: &impl ConnectionTrait, ids: Vec<Uuid>) -> AppResult<()> {
    if ids.is_empty() {
        return Ok(());
    }
    message::Entity::update_many()
        .col_expr(message::Column::EmitPending, Expr::value(false))
        .filter(message::Column::Id.is_in(ids))
        .exec(db)
        .await?;
    Ok(())
}

/// Messages stored at least `age` ago whose emit was never confirmed: their
/// node died between commit and emit, or Redis was away.
pub async fn pending_emits(
    db: &impl ConnectionTrait,
    age: chrono::Duration,
    limit: u64,
) -> AppResult<Vec<message::Model>> {
    Ok(message::Entity::find()
        .filter(message::Column::EmitPending.eq(true))
        .filter(message::Column::CreatedAt.lt(clock::now() - age))
        .order_by_asc(message::Column::CreatedAt)
        .limit(limit)
        .all(db)
        .await?)
}

/// Every unread count above zero of the given users, in one query.
pub async fn unread_of<'a>(
    db: &impl ConnectionTrait,
    users: impl IntoIterator<Item = &'a str>,
) -> AppResult<HashMap<String, HashMap<Uuid, u64>>> {
    let mut users: Vec<&str> = users.into_iter().collect();
    users.sort_unstable();
    users.dedup();
    let mut out: HashMap<String, HashMap<Uuid, u64>> = HashMap::new();
    if users.is_empty() {
        return Ok(out);
    }
    let rows = unread_count::Entity::find()
        .filter(unread_count::Column::UserId.is_in(users))
        .filter(unread_count::Column::Count.gt(0))
        .all(db)
        .await?;
    for u in rows {
        out.entry(u.user_id).or_default().insert(u.conversation_id, u.count.max(0) as u64);
    }
    Ok(out)
}

fn unread_event(user_id: &str, conversation_id: Uuid, unread: Unread) -> Outbound {
    Outbound::new(
        "unread_count_updated",
        vec![events::user_room(user_id)],
        json!({
            "conversation_id": conversation_id,
            "unread_count": unread.conversation,
            "total_unread": unread.total,
        }),
    )
}

/// `unread_count_updated` for one user after a change in one conversation.
/// It is computed after the change committed, so a failure here is logged
/// and the event skipped rather than reported as a failed change.
pub async fn unread_update(db: &impl ConnectionTrait, user_id: &str, conversation_id: Uuid) -> Option<Outbound> {
    let counts = match unread_by_conversation(db, user_id, None).await {
        Ok(c) => c,
        Err(e) => {
            e.envelope();
            return None;
        }
    };
    let unread = Unread {
        conversation: counts.get(&conversation_id).copied().unwrap_or(0),
        total: counts.values().sum::<u64>(),
    };
    Some(unread_event(user_id, conversation_id, unread))
}

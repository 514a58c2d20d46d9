//! Stored notifications: every `notification` event is a row, written in
//! the transaction of the change it reports, and the event carries it. A
//! `new_message` notification is coalesced per (user, conversation) while
//! it is unread: later messages update it (its count, latest message and
//! body) instead of adding rows, and the event goes out again with its id.

use chrono::{DateTime, Utc};
use entity::notification;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, sea_query::Expr,
};
use serde::Serialize;
use serde_json::{Value, json};
use uuid::Uuid;

mod storing;

pub use storing::{by_idempotency_key, coalesce, coalesced, store};

use super::{
    clock,
    events::{Outbound, user_room},
    pagination::Page,
};
use crate::error::{AppError, AppResult};

/// The kinds the server itself sends (the platform API may send others).
pub const NEW_MESSAGE: &str = "new_message";
pub const ACTION_REQUIRED: &str = "action_required";
pub const PAYMENT_COMPLETED: &str = "payment_completed";
pub const PAYMENT_FAILED: &str = "payment_failed";
pub const CONVERSATION_CLOSED: &str = "conversation_closed";
pub const NEW_APPLICATION: &str = "new_application";
pub const OFFER_EXPIRED: &str = "offer_expired";

/// The kinds an offline email reports.
pub const EMAILED: [&str; 2] = [NEW_MESSAGE, ACTION_REQUIRED];

/// Bodies are a preview, not the whole text.
const MAX_BODY_CHARS: usize = 200;

/// A notification to store.
#[derive(Clone, Debug)]
pub struct Draft {
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub data: Value,
    pub conversation_id: Option<Uuid>,
    /// `(service, key)`: a platform call repeated with the same key returns the first row.
    pub idempotency: Option<(String, String)>,
}

impl Draft {
    pub fn new(user_id: &str, kind: &str, title: impl Into<String>, body: &str, data: Value) -> Self {
        let conversation_id = data.get("conversation_id").and_then(Value::as_str).and_then(|s| Uuid::parse_str(s).ok());
        Self {
            user_id: user_id.to_string(),
            kind: kind.to_string(),
            title: title.into(),
            body: preview(body),
            data,
            conversation_id,
            idempotency: None,
        }
    }

    /// Whether it waits for an offline email: new messages and actions
    /// asked of the user, in a conversation.
    pub fn emails(&self) -> bool {
        self.conversation_id.is_some() && EMAILED.contains(&self.kind.as_str())
    }

    /// New messages of one conversation share a row while it is unread.
    pub fn coalesce_key(&self) -> Option<String> {
        (self.kind == NEW_MESSAGE).then(|| self.conversation_id.map(|c| format!("{NEW_MESSAGE}:{c}"))).flatten()
    }
}

/// A text cut to a one-line preview.
pub fn preview(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= MAX_BODY_CHARS {
        return line;
    }
    let mut cut: String = line.chars().take(MAX_BODY_CHARS - 1).collect();
    cut.push('…');
    cut
}

/// The notification for a new message to its receiver.
pub fn new_message(
    receiver: &str,
    conversation_id: Uuid,
    message: Value,
    sender_id: &str,
    sender: Option<&str>,
) -> Draft {
    let text = message["message"].as_str().unwrap_or_default().to_string();
    let body =
        if text.is_empty() && message["media_url"].is_string() { "Sent an attachment".to_string() } else { text };
    let title = match sender {
        Some(name) => format!("New message from {name}"),
        None => "New message".to_string(),
    };
    let data = json!({ "conversation_id": conversation_id, "message": message, "sender_id": sender_id });
    Draft::new(receiver, NEW_MESSAGE, title, &body, data)
}

/// A notification as clients see it.
#[derive(Serialize)]
pub struct View<'a> {
    id: Uuid,
    #[serde(rename = "type")]
    kind: &'a str,
    title: &'a str,
    body: &'a str,
    data: Value,
    conversation_id: Option<Uuid>,
    read: bool,
    read_at: Option<String>,
    created_at: String,
    updated_at: String,
}

impl<'a> From<&'a notification::Model> for View<'a> {
    fn from(n: &'a notification::Model) -> Self {
        let mut data = n.data.clone();
        if n.kind == NEW_MESSAGE
            && let Some(fields) = data.as_object_mut()
        {
            fields.insert("count".into(), json!(n.count));
        }
        Self {
            id: n.id,
            kind: &n.kind,
            title: &n.title,
            body: &n.body,
            data,
            conversation_id: n.conversation_id,
            read: n.read,
            read_at: n.read_at.as_ref().map(clock::rfc3339),
            created_at: clock::rfc3339(&n.created_at),
            updated_at: clock::rfc3339(&n.updated_at),
        }
    }
}

pub fn json(n: &notification::Model) -> Value {
    serde_json::to_value(View::from(n)).unwrap_or_default()
}

/// The `notification` event that carries a row just stored (pushed to the
/// user's devices when they are not connected).
pub fn event(n: &notification::Model) -> Outbound {
    let mut event = revised_event(n);
    event.notice = Some(Box::new(super::events::Notice {
        user_id: n.user_id.clone(),
        kind: n.kind.clone(),
        title: n.title.clone(),
        body: n.body.clone(),
        conversation_id: n.conversation_id,
    }));
    event
}

/// The `notification` event for a row the server revised (a message in it
/// expired): connected clients update it, nobody is pushed.
pub fn revised_event(n: &notification::Model) -> Outbound {
    let mut out =
        Outbound::new("notification", vec![user_room(&n.user_id)], super::events::Payload::text(&View::from(n)));
    out.muted_by = n.conversation_id.map(|c| (n.user_id.clone(), c));
    out
}

/// A user's notifications, newest activity first.
pub async fn list(
    db: &impl ConnectionTrait,
    user_id: &str,
    unread_only: bool,
    page: Page,
) -> AppResult<(Vec<notification::Model>, u64)> {
    let mut q = notification::Entity::find().filter(notification::Column::UserId.eq(user_id));
    if unread_only {
        q = q.filter(notification::Column::Read.eq(false));
    }
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(notification::Column::UpdatedAt)
        .order_by_desc(notification::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

pub async fn unread_count(db: &impl ConnectionTrait, user_id: &str) -> AppResult<u64> {
    Ok(notification::Entity::find()
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Read.eq(false))
        .count(db)
        .await?)
}

/// One of the user's notifications (`NOT_FOUND` for anyone else's).
pub async fn own(db: &impl ConnectionTrait, user_id: &str, id: Uuid) -> AppResult<notification::Model> {
    notification::Entity::find_by_id(id)
        .filter(notification::Column::UserId.eq(user_id))
        .one(db)
        .await?
        .ok_or_else(|| AppError::not_found("Notification"))
}

/// Marks notifications read (all of the user's unread ones when `ids` is
/// none); a read one no longer coalesces. Returns the ids it changed.
pub async fn mark_read(
    db: &impl ConnectionTrait,
    user_id: &str,
    ids: Option<Vec<Uuid>>,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let mut q = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::Read.eq(false));
    if let Some(ids) = &ids {
        q = q.filter(notification::Column::Id.is_in(ids.clone()));
    }
    let changed: Vec<Uuid> = q.into_tuple().all(db).await?;
    for chunk in changed.chunks(500) {
        notification::Entity::update_many()
            .col_expr(notification::Column::Read, Expr::value(true))
            .col_expr(notification::Column::ReadAt, Expr::value(now))
            .col_expr(notification::Column::CoalesceKey, Expr::value(Option::<String>::None))
            .col_expr(notification::Column::EmailSince, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(notification::Column::Id.is_in(chunk.to_vec()))
            .exec(db)
            .await?;
    }
    Ok(changed)
}

/// Marks read the unread `new_message` notification of a conversation (the
/// user read the conversation).
pub async fn read_conversation(
    db: &impl ConnectionTrait,
    user_id: &str,
    conversation_id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<Vec<Uuid>> {
    let key = format!("{NEW_MESSAGE}:{conversation_id}");
    let ids: Vec<Uuid> = notification::Entity::find()
        .select_only()
        .column(notification::Column::Id)
        .filter(notification::Column::UserId.eq(user_id))
        .filter(notification::Column::CoalesceKey.eq(key))
        .into_tuple()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(ids);
    }
    mark_read(db, user_id, Some(ids), now).await
}

pub async fn delete(db: &impl ConnectionTrait, user_id: &str, id: Uuid) -> AppResult<()> {
    notification::Entity::delete_many()
        .filter(notification::Column::Id.eq(id))
        .filter(notification::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

/// `notifications_updated` to the user's devices.
pub fn updated_event(user_id: &str, ids: &[Uuid], change: Value, unread_count: u64) -> Outbound {
    let mut data = json!({ "ids": ids, "unread_count": unread_count });
    if let (Some(data), Value::Object(change)) = (data.as_object_mut(), change) {
        data.extend(change);
    }
    Outbound::new("notifications_updated", vec![user_room(user_id)], data)
}

//! Reading a conversation's history: pages and cursors over the messages a
//! reader may see.

use chrono::{DateTime, Utc};
use entity::{conversation, message};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    domain::{ids::MessageId, names::MessageType, pagination::Page, users::Identity},
    error::{AppError, AppResult},
};

/// Messages of a conversation that a reader may see at `now`: not expired,
/// and another user's audit messages only for admins.
pub fn visible_messages(conversation_id: Uuid, who: &Identity, now: DateTime<Utc>) -> Condition {
    let mut c = Condition::all()
        .add(message::Column::ConversationId.eq(conversation_id))
        .add(Condition::any().add(message::Column::ExpiresAt.is_null()).add(message::Column::ExpiresAt.gt(now)));
    if !who.is_admin() {
        c = c.add(
            Condition::any()
                .add(message::Column::MessageType.ne(MessageType::Audit.as_str()))
                .add(message::Column::ReceiverId.eq(who.user_id.as_str())),
        );
    }
    c
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
    now: DateTime<Utc>,
) -> AppResult<(Vec<message::Model>, Value)> {
    let visible = visible_messages(c.id, who, now);
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
            let (mut rows, more) = beyond(db, visible.add(message::Column::Id.lt(cursor.0)), page, true).await?;
            rows.reverse();
            (page, rows, more)
        }
        Window::After(cursor, page) => {
            let (rows, more) = beyond(db, visible.add(message::Column::Id.gt(cursor.0)), page, false).await?;
            (page, rows, more)
        }
    };
    let pagination = json!({ "page": page.page, "limit": page.limit, "total": total, "has_more": has_more });
    Ok((rows, pagination))
}

/// `limit` messages past a cursor (newest first when `newest`), and whether
/// more lie beyond.
async fn beyond(
    db: &impl ConnectionTrait,
    filter: Condition,
    page: Page,
    newest: bool,
) -> AppResult<(Vec<message::Model>, bool)> {
    let query = message::Entity::find().filter(filter);
    let query = if newest { query.order_by_desc(message::Column::Id) } else { query.order_by_asc(message::Column::Id) };
    let mut rows = query.limit(page.limit + 1).all(db).await?;
    let more = rows.len() as u64 > page.limit;
    rows.truncate(page.limit as usize);
    Ok((rows, more))
}

/// The newest message of a conversation the caller may see.
pub async fn last_visible(
    db: &impl ConnectionTrait,
    conversation_id: Uuid,
    who: &Identity,
    now: DateTime<Utc>,
) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find()
        .filter(visible_messages(conversation_id, who, now))
        .order_by_desc(message::Column::Id)
        .one(db)
        .await?)
}

//! Flags: a report of a message or a user, by a participant or by the
//! automatic rules. Each reporter holds one open flag per target; a second
//! report while it is open returns the first.

use chrono::{DateTime, Utc};
use entity::{flag, message};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use serde_json::{Value, json};
use uuid::Uuid;

use crate::{
    domain::{clock, events, outbox, pagination::Page},
    error::{AppError, AppResult},
};

pub const REASONS: [&str; 5] = ["spam", "abuse", "fraud", "off_platform", "other"];
pub const OPEN: &str = "open";
pub const RESOLVED: &str = "resolved";
/// How a flag's reporter is shown when the rules raised it.
pub const SYSTEM: &str = "system";

/// What is reported.
#[derive(Clone, Debug)]
pub enum Target {
    Message(Box<message::Model>),
    User { user_id: String, conversation_id: Option<Uuid> },
}

/// A flag to raise: `reporter` is `None` for the automatic rules.
pub struct NewFlag {
    pub reporter: Option<String>,
    pub target: Target,
    pub reason: String,
    pub note: Option<String>,
}

/// Checks a report's reason and note.
pub fn check_report(reason: &str, note: Option<&str>) -> AppResult<(String, Option<String>)> {
    let reason = reason.trim();
    if !REASONS.contains(&reason) {
        return Err(AppError::invalid_field("reason", format!("must be one of {}", REASONS.join(", "))));
    }
    let note = note.map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 1000) {
        return Err(AppError::invalid_field("note", "must be at most 1000 characters"));
    }
    Ok((reason.to_string(), note.map(str::to_string)))
}

fn open_key(reporter: Option<&str>, target: &Target) -> String {
    let target = match target {
        Target::Message(m) => format!("message:{}", m.id),
        Target::User { user_id, .. } => format!("user:{user_id}"),
    };
    format!("{}|{target}", reporter.unwrap_or(""))
}

/// Raises a flag in the caller's transaction, with its `message.flagged`
/// webhook for a message. Returns the flag and whether it is new.
pub async fn raise(
    db: &impl ConnectionTrait,
    hooks: &outbox::Webhooks,
    new: NewFlag,
    now: DateTime<Utc>,
) -> AppResult<(flag::Model, bool)> {
    let key = open_key(new.reporter.as_deref(), &new.target);
    if let Some(open) = flag::Entity::find().filter(flag::Column::OpenKey.eq(key.as_str())).one(db).await? {
        return Ok((open, false));
    }
    let (message_id, user_id, conversation_id) = match &new.target {
        Target::Message(m) => (Some(m.id), m.sender_id.clone(), Some(m.conversation_id)),
        Target::User { user_id, conversation_id } => (None, user_id.clone(), *conversation_id),
    };
    let row = flag::Model {
        id: Uuid::now_v7(),
        reporter_id: new.reporter,
        target_type: if message_id.is_some() { "message" } else { "user" }.into(),
        message_id,
        target_user_id: user_id,
        conversation_id,
        reason: new.reason,
        note: new.note,
        status: OPEN.into(),
        open_key: Some(key.clone()),
        resolution: None,
        resolution_note: None,
        resolved_by: None,
        resolved_at: None,
        created_at: now,
    };
    let inserted = flag::Entity::insert(flag::ActiveModel::from(row.clone()))
        .on_conflict(OnConflict::column(flag::Column::OpenKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    if inserted == 0 {
        // A report racing this one stored it first.
        let open = flag::Entity::find().filter(flag::Column::OpenKey.eq(key.as_str())).one(db).await?;
        return open.map(|f| (f, false)).ok_or_else(|| AppError::internal(anyhow::anyhow!("flag vanished")));
    }
    if let Target::Message(m) = &new.target {
        let data =
            json!({ "flag": summary(&row), "message": events::message_json(m), "conversation_id": m.conversation_id });
        let event = outbox::event(hooks, outbox::MESSAGE_FLAGGED, &data, now)?;
        outbox::enqueue(db, hooks, event.into_iter().collect()).await?;
    }
    Ok((row, true))
}

/// A flag as its reporter sees it.
pub fn summary(f: &flag::Model) -> Value {
    json!({
        "id": f.id,
        "reason": f.reason,
        "note": f.note,
        "reporter": f.reporter_id.as_deref().unwrap_or(SYSTEM),
        "target_type": f.target_type,
        "target_id": f.message_id.map(|m| m.to_string()).unwrap_or_else(|| f.target_user_id.clone()),
        "target_user_id": f.target_user_id,
        "conversation_id": f.conversation_id,
        "status": f.status,
        "resolution": f.resolution,
        "resolution_note": f.resolution_note,
        "resolved_by": f.resolved_by,
        "resolved_at": f.resolved_at.as_ref().map(clock::rfc3339),
        "created_at": clock::rfc3339(&f.created_at),
    })
}

/// Flags by status, newest first.
pub async fn list(db: &impl ConnectionTrait, status: &str, page: Page) -> AppResult<(Vec<flag::Model>, u64)> {
    let q = flag::Entity::find().filter(flag::Column::Status.eq(status));
    let total = q.clone().count(db).await?;
    let rows = q
        .order_by_desc(flag::Column::CreatedAt)
        .order_by_desc(flag::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    Ok((rows, total))
}

pub async fn find(db: &impl ConnectionTrait, id: Uuid) -> AppResult<flag::Model> {
    flag::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Flag"))
}

/// Marks a flag resolved (it no longer blocks a new report of its target).
pub async fn resolve(
    db: &impl ConnectionTrait,
    f: &flag::Model,
    action: &str,
    note: Option<String>,
    admin: &str,
    now: DateTime<Utc>,
) -> AppResult<flag::Model> {
    let set = flag::ActiveModel {
        id: Set(f.id),
        status: Set(RESOLVED.into()),
        open_key: Set(None),
        resolution: Set(Some(action.into())),
        resolution_note: Set(note),
        resolved_by: Set(Some(admin.into())),
        resolved_at: Set(Some(now)),
        ..Default::default()
    };
    flag::Entity::update_many()
        .set(set)
        .filter(flag::Column::Id.eq(f.id))
        .filter(flag::Column::Status.eq(OPEN))
        .exec(db)
        .await?;
    find(db, f.id).await
}

/// The messages around a flagged one: up to `n` before and `n` after (in
/// time order), every message an admin may see.
pub async fn context(db: &impl ConnectionTrait, m: &message::Model, n: u64) -> AppResult<Vec<message::Model>> {
    let same = message::Column::ConversationId.eq(m.conversation_id);
    let mut before = message::Entity::find()
        .filter(same.clone())
        .filter(message::Column::Id.lt(m.id))
        .order_by_desc(message::Column::Id)
        .limit(n)
        .all(db)
        .await?;
    before.reverse();
    let after = message::Entity::find()
        .filter(same)
        .filter(message::Column::Id.gt(m.id))
        .order_by_asc(message::Column::Id)
        .limit(n)
        .all(db)
        .await?;
    before.extend(after);
    Ok(before)
}

/// A message a participant may report: in one of their conversations, and
/// one they can see (another user's audit message is as good as unknown).
pub async fn reportable_message(
    db: &impl ConnectionTrait,
    who: &crate::domain::users::Identity,
    id: Uuid,
    now: DateTime<Utc>,
) -> AppResult<message::Model> {
    let m = message::Entity::find_by_id(id).one(db).await?.ok_or_else(|| AppError::not_found("Message"))?;
    let c = crate::domain::conversations::load(db, crate::domain::ids::ConversationId(m.conversation_id)).await?;
    crate::domain::conversations::may_act(&c, who)?;
    let hidden = m.message_type == crate::domain::names::MessageType::Audit.as_str() && m.receiver_id != who.user_id;
    if hidden || m.expires_at.is_some_and(|t| t <= now) {
        return Err(AppError::not_found("Message"));
    }
    Ok(m)
}

/// A message an admin looks at, by id.
pub async fn message(db: &impl ConnectionTrait, id: Uuid) -> AppResult<Option<message::Model>> {
    Ok(message::Entity::find_by_id(id).one(db).await?)
}

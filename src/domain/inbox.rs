//! What a user sees of their conversations: the list with the other user,
//! the last message and unread counts, and one conversation's context.

use std::collections::HashMap;

use entity::conversation;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde_json::{Value, json};

use super::{
    collaborations, contexts,
    conversations::{self, involving, other_participant},
    events, flow,
    ids::ConversationId,
    messages,
    names::ConversationType,
    pagination::Page,
    presence::Presence,
    settings,
    users::{self, Identity},
};
use crate::error::{AppError, AppResult};

/// The caller's conversations, newest activity first, each with the other
/// user, the last message the caller may see and the caller's unread count.
pub async fn list(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    page: Page,
    f: Filter,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<(Vec<Value>, u64)> {
    let mut filter = Condition::all().add(involving(&who.user_id));
    if let Some(kind) = f.kind.as_deref() {
        let kind = ConversationType::parse(kind)
            .ok_or_else(|| AppError::invalid_field("type", "must be direct, campaign or bid"))?;
        filter = filter.add(conversation::Column::ConversationType.eq(kind.as_str()));
    }
    let archived = archived_by(&who.user_id);
    filter = filter.add(if f.archived {
        conversation::Column::Id.in_subquery(archived)
    } else {
        conversation::Column::Id.not_in_subquery(archived)
    });
    match (f.context_type.as_deref(), f.context_id.as_deref()) {
        (Some(kind), id) => filter = filter.add(conversation::Column::Id.in_subquery(contexts::carrying(kind, id))),
        (None, Some(_)) => return Err(AppError::invalid_field("context_type", "is required with context_id")),
        (None, None) => {}
    }
    let query = conversation::Entity::find().filter(filter);
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(conversation::Column::LastMessageAt)
        .order_by_desc(conversation::Column::Id)
        .offset(page.offset())
        .limit(page.limit)
        .all(db)
        .await?;
    let items = summaries(db, presence, who, rows, now).await?;
    Ok((items, total))
}

/// Which of the caller's conversations a list shows.
#[derive(Debug, Default)]
pub struct Filter {
    pub kind: Option<String>,
    /// The archived ones only (else: only those not archived).
    pub archived: bool,
    pub context_type: Option<String>,
    pub context_id: Option<String>,
}

fn archived_by(user_id: &str) -> sea_orm::sea_query::SelectStatement {
    use sea_orm::sea_query::Query;
    Query::select()
        .column(entity::unread_count::Column::ConversationId)
        .from(entity::unread_count::Entity)
        .and_where(entity::unread_count::Column::UserId.eq(user_id))
        .and_where(entity::unread_count::Column::Archived.eq(true))
        .to_owned()
}

/// List rows for `rows`, as `who` sees them.
pub async fn summaries(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    rows: Vec<conversation::Model>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Vec<Value>> {
    let other_ids: Vec<String> = rows.iter().map(|c| other_participant(c, &who.user_id).to_string()).collect();
    let profiles: HashMap<String, entity::user::Model> =
        users::find_many(db, other_ids.clone()).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let ids: Vec<_> = rows.iter().map(|c| c.id).collect();
    let unread = messages::unread_by_conversation(db, &who.user_id, Some(ids.clone())).await?;
    let mine = settings::of(db, &who.user_id, ids).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (c, other) in rows.iter().zip(other_ids) {
        let last = messages::last_visible(db, c.id, who, now).await?;
        let mut item = events::conversation_json(c);
        item["other_user"] = users::public_profile(&other, profiles.get(&other), presence.is_online(&other).await);
        item["last_message"] = last.as_ref().map(events::message_json).unwrap_or(Value::Null);
        item["unread_count"] = json!(unread.get(&c.id).copied().unwrap_or(0));
        let own = mine.get(&c.id).copied().unwrap_or_default().json(now);
        item["archived"] = own["archived"].clone();
        item["muted_until"] = own["muted_until"].clone();
        out.push(item);
    }
    Ok(out)
}

/// What a client needs to render a conversation: its state, the other user,
/// and what the caller may do now.
pub async fn context(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    id: ConversationId,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Value> {
    let c = conversations::readable(db, id, who).await?;
    let own = settings::of(db, &who.user_id, vec![c.id]).await?.remove(&c.id).unwrap_or_default();
    let own = own.json(now);
    let other = other_participant(&c, &who.user_id).to_string();
    let profile = users::find(db, &other).await?;
    let source = match flow::opening::source_of(&c) {
        Some(source) => collaborations::published(db, source).await?.json,
        None => Value::Null,
    };
    Ok(json!({
        "conversation_context": events::conversation_context(&c),
        "conversation": events::conversation_json(&c),
        "source": source,
        "other_user": users::public_profile(&other, profile.as_ref(), presence.is_online(&other).await),
        "available_actions": flow::engine::available_actions(&c, who),
        "archived": own["archived"],
        "muted_until": own["muted_until"],
    }))
}

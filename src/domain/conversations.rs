//! Conversations: who takes part, who may read and act in them, and direct
//! conversations (one per pair of users).

use entity::conversation;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set, sea_query::OnConflict,
};
use serde_json::json;

use super::{
    contexts::{Context, Scope},
    events::conversation_json,
    ids::ConversationId,
    names::{ChatStatus, ConversationType, Party},
    outbox,
    users::Identity,
};
use crate::error::{AppError, AppResult};

/// How a user takes part in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Participant {
    /// Their party in a campaign or bid conversation; none in a direct one.
    pub party: Option<Party>,
}

/// How `user_id` takes part in `c`, if at all: `user1` of a flow
/// conversation is its brand owner, `user2` its influencer.
pub fn participant(c: &conversation::Model, user_id: &str) -> Option<Participant> {
    let flow = c.conversation_type != ConversationType::Direct;
    let party = |p: Party| Participant { party: flow.then_some(p) };
    if c.user1_id == user_id {
        Some(party(Party::BrandOwner))
    } else if c.user2_id == user_id {
        Some(party(Party::Influencer))
    } else {
        None
    }
}

/// The participant who is not `user_id` (for an outsider, `user2`).
pub fn other_participant<'a>(c: &'a conversation::Model, user_id: &str) -> &'a str {
    if c.user1_id == user_id { &c.user2_id } else { &c.user1_id }
}

pub async fn load(db: &impl ConnectionTrait, id: ConversationId) -> AppResult<conversation::Model> {
    conversation::Entity::find_by_id(id.0).one(db).await?.ok_or_else(|| AppError::not_found("Conversation"))
}

/// A conversation the caller may read: participants and admins.
pub async fn readable(db: &impl ConnectionTrait, id: ConversationId, who: &Identity) -> AppResult<conversation::Model> {
    let c = load(db, id).await?;
    may_read(&c, who)?;
    Ok(c)
}

pub fn may_read(c: &conversation::Model, who: &Identity) -> AppResult<()> {
    if participant(c, &who.user_id).is_some() || who.is_admin() {
        Ok(())
    } else {
        Err(AppError::forbidden("You are not a participant of this conversation"))
    }
}

/// A conversation the caller may act in: participants only (admins read, never act).
pub async fn writable(
    db: &impl ConnectionTrait,
    id: ConversationId,
    who: &Identity,
) -> AppResult<(conversation::Model, Participant)> {
    let c = load(db, id).await?;
    let p = may_act(&c, who)?;
    Ok((c, p))
}

pub fn may_act(c: &conversation::Model, who: &Identity) -> AppResult<Participant> {
    match participant(c, &who.user_id) {
        Some(p) => Ok(p),
        None if who.is_admin() => Err(admins_do_not_act()),
        None => Err(AppError::forbidden("You are not a participant of this conversation")),
    }
}

pub fn admins_do_not_act() -> AppError {
    AppError::forbidden("Admins may read conversations but not act in them")
}

/// Free text is allowed in direct conversations and once a flow reaches
/// `real_time`; never in a closed conversation.
pub fn ensure_chat_open(c: &conversation::Model) -> AppResult<()> {
    match ChatStatus::parse(&c.chat_status) {
        Some(ChatStatus::RealTime) => Ok(()),
        Some(ChatStatus::Closed) => Err(AppError::closed()),
        _ => Err(AppError::new(
            crate::error::ErrorCode::ChatNotEnabled,
            "Free chat opens once the collaboration reaches real-time chat; use the action cards until then",
        )
        .with_details(json!({ "flow_state": c.flow_state, "awaiting_role": c.awaiting_role }))),
    }
}

pub fn is_closed(c: &conversation::Model) -> bool {
    c.chat_status == ChatStatus::Closed
}

pub fn involving(user_id: &str) -> Condition {
    Condition::any().add(conversation::Column::User1Id.eq(user_id)).add(conversation::Column::User2Id.eq(user_id))
}

/// Everyone who shares a conversation with `user_id`.
pub async fn contacts(db: &impl ConnectionTrait, user_id: &str) -> AppResult<Vec<String>> {
    let rows: Vec<(String, String)> = conversation::Entity::find()
        .select_only()
        .column(conversation::Column::User1Id)
        .column(conversation::Column::User2Id)
        .filter(involving(user_id))
        .into_tuple()
        .all(db)
        .await?;
    let mut ids: Vec<String> = rows.into_iter().map(|(a, b)| if a == user_id { b } else { a }).collect();
    ids.sort();
    ids.dedup();
    Ok(ids)
}

fn direct_pair_key(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("direct:{lo}|{hi}")
}

/// Finds or creates the direct conversation between two users (one per
/// pair, or per pair and context); the unique pair key makes concurrent
/// calls agree on one row. A context is recorded on it in the same
/// transaction.
#[tracing::instrument(skip_all, fields(user_id = %from))]
pub async fn open_direct(
    db: &sea_orm::DatabaseConnection,
    hooks: &outbox::Webhooks,
    from: &str,
    to: &str,
    about: Option<(&Context, Scope)>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<Opened> {
    let mut pair_key = direct_pair_key(from, to);
    if let Some((ctx, Scope::Context)) = about {
        pair_key.push_str(&ctx.key_suffix());
    }
    let row = conversation::ActiveModel {
        id: Set(ConversationId::new().0),
        conversation_type: Set(ConversationType::Direct.as_str().into()),
        user1_id: Set(from.to_string()),
        user2_id: Set(to.to_string()),
        pair_key: Set(pair_key.clone()),
        campaign_id: Set(None),
        bid_id: Set(None),
        request_id: Set(None),
        chat_status: Set(ChatStatus::RealTime.as_str().into()),
        flow_state: Set(None),
        awaiting_role: Set(None),
        flow_data: Set(json!({})),
        current_action_data: Set(None),
        revision_count: Set(0),
        max_revisions: Set(0),
        version: Set(0),
        message_ttl_seconds: Set(None),
        offer_expires_at: Set(None),
        last_message_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
        contexts: Set(None),
    };
    let txn = crate::db::begin_write(db).await?;
    let inserted = conversation::Entity::insert(row)
        .on_conflict(OnConflict::column(conversation::Column::PairKey).do_nothing().to_owned())
        .exec_without_returning(&txn)
        .await?;
    let conversation = conversation::Entity::find()
        .filter(conversation::Column::PairKey.eq(pair_key))
        .one(&txn)
        .await?
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("direct conversation vanished after upsert")))?;
    let (conversation, new_context) = match about {
        Some((ctx, _)) => super::contexts::attach(&txn, conversation, ctx, now).await?,
        None => (conversation, false),
    };
    if inserted == 1 {
        let created = outbox::event(hooks, outbox::CONVERSATION_CREATED, &conversation_json(&conversation), now)?;
        outbox::enqueue(&txn, hooks, created.into_iter().collect()).await?;
    }
    txn.commit().await?;
    Ok(Opened { conversation, created: inserted == 1, new_context })
}

/// A direct conversation found or opened.
pub struct Opened {
    pub conversation: conversation::Model,
    pub created: bool,
    /// Whether the context given was new to it (an inquiry notice is due).
    pub new_context: bool,
}

/// Sets a conversation's default message lifetime. Its version moves on, so
/// the message writer reads it again.
pub async fn set_message_ttl(
    db: &impl ConnectionTrait,
    c: &conversation::Model,
    ttl_seconds: Option<i64>,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<conversation::Model> {
    let updated = conversation::Entity::update_many()
        .set(conversation::ActiveModel {
            message_ttl_seconds: Set(ttl_seconds),
            updated_at: Set(now),
            ..Default::default()
        })
        .col_expr(conversation::Column::Version, sea_orm::sea_query::Expr::cust("version + 1"))
        .filter(conversation::Column::Id.eq(c.id))
        .exec_with_returning(db)
        .await?;
    updated.into_iter().next().ok_or_else(|| AppError::not_found("Conversation"))
}

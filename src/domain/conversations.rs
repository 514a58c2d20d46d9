//! Conversations: who may read and write them, lists, and direct
//! conversations (one per pair of users).

use std::collections::HashMap;

use entity::{conversation, message};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    sea_query::OnConflict,
};
use serde_json::{Value, json};

use super::{
    clock,
    events::{self, Outbound},
    ids::ConversationId,
    messages,
    pagination::Page,
    presence::Presence,
    users::{self, Identity},
};
use crate::error::{AppError, AppResult};

pub const DIRECT: &str = "direct";
pub const CAMPAIGN: &str = "campaign";
pub const BID: &str = "bid";

/// Where a participant stands in a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    /// `user1` of a campaign or bid conversation.
    BrandOwner,
    /// `user2` of a campaign or bid conversation.
    Influencer,
    /// Either user of a direct conversation.
    Direct,
}

impl Side {
    pub fn as_role(self) -> Option<&'static str> {
        match self {
            Self::BrandOwner => Some("brand_owner"),
            Self::Influencer => Some("influencer"),
            Self::Direct => None,
        }
    }
}

pub fn side_of(c: &conversation::Model, user_id: &str) -> Option<Side> {
    let is_flow = c.conversation_type != DIRECT;
    if c.user1_id == user_id {
        Some(if is_flow { Side::BrandOwner } else { Side::Direct })
    } else if c.user2_id == user_id {
        Some(if is_flow { Side::Influencer } else { Side::Direct })
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
    if side_of(&c, &who.user_id).is_some() || who.is_admin() {
        Ok(c)
    } else {
        Err(AppError::forbidden("You are not a participant of this conversation"))
    }
}

/// A conversation the caller may act in: participants only (admins read, never act).
pub async fn writable(
    db: &impl ConnectionTrait,
    id: ConversationId,
    who: &Identity,
) -> AppResult<(conversation::Model, Side)> {
    let c = load(db, id).await?;
    match side_of(&c, &who.user_id) {
        Some(side) => Ok((c, side)),
        None if who.is_admin() => Err(AppError::forbidden("Admins may read conversations but not act in them")),
        None => Err(AppError::forbidden("You are not a participant of this conversation")),
    }
}

fn involving(user_id: &str) -> Condition {
    Condition::any().add(conversation::Column::User1Id.eq(user_id)).add(conversation::Column::User2Id.eq(user_id))
}

/// The caller's conversations, newest activity first, each with the other
/// user, the last message the caller may see and the caller's unread count.
pub async fn list(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    page: Page,
    kind: Option<&str>,
) -> AppResult<(Vec<Value>, u64)> {
    let mut filter = Condition::all().add(involving(&who.user_id));
    if let Some(kind) = kind {
        if ![DIRECT, CAMPAIGN, BID].contains(&kind) {
            return Err(AppError::invalid_field("type", "must be direct, campaign or bid"));
        }
        filter = filter.add(conversation::Column::ConversationType.eq(kind));
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
    let items = summaries(db, presence, who, rows).await?;
    Ok((items, total))
}

async fn summaries(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    rows: Vec<conversation::Model>,
) -> AppResult<Vec<Value>> {
    let other_ids: Vec<String> = rows.iter().map(|c| other_participant(c, &who.user_id).to_string()).collect();
    let profiles: HashMap<String, entity::user::Model> =
        users::find_many(db, other_ids.clone()).await?.into_iter().map(|u| (u.id.clone(), u)).collect();
    let ids: Vec<_> = rows.iter().map(|c| c.id).collect();
    let unread = messages::unread_by_conversation(db, &who.user_id, Some(ids)).await?;
    let mut out = Vec::with_capacity(rows.len());
    for (c, other) in rows.iter().zip(other_ids) {
        let last = messages::last_visible(db, c.id, who).await?;
        let mut item = events::conversation_json(c);
        item["other_user"] = users::public_profile(&other, profiles.get(&other), presence.is_online(&other).await);
        item["last_message"] = last.as_ref().map(events::message_json).unwrap_or(Value::Null);
        item["unread_count"] = json!(unread.get(&c.id).copied().unwrap_or(0));
        out.push(item);
    }
    Ok(out)
}

pub struct DirectConnect {
    pub conversation: conversation::Model,
    pub created: bool,
    pub message: Option<entity::message::Model>,
    pub events: Vec<Outbound>,
}

fn direct_pair_key(a: &str, b: &str) -> String {
    let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
    format!("direct:{lo}|{hi}")
}

/// Finds or creates the direct conversation between the caller and
/// `target`; the unique pair key makes concurrent calls agree on one row.
#[tracing::instrument(skip_all, fields(user_id = %who.user_id))]
pub async fn direct_connect(
    db: &sea_orm::DatabaseConnection,
    writer: &messages::Writer,
    who: &Identity,
    target: &str,
    initial_message: Option<&str>,
) -> AppResult<DirectConnect> {
    let target = super::validate::user_id("target_user_id", target)?;
    if target == who.user_id {
        return Err(AppError::invalid_field("target_user_id", "cannot start a conversation with yourself"));
    }
    users::ensure_exists(db, &target).await?;
    let pair_key = direct_pair_key(&who.user_id, &target);
    let now = clock::now();
    let row = conversation::ActiveModel {
        id: Set(ConversationId::new().0),
        conversation_type: Set(DIRECT.into()),
        user1_id: Set(who.user_id.clone()),
        user2_id: Set(target.clone()),
        pair_key: Set(pair_key.clone()),
        campaign_id: Set(None),
        bid_id: Set(None),
        request_id: Set(None),
        chat_status: Set("real_time".into()),
        flow_state: Set(None),
        awaiting_role: Set(None),
        flow_data: Set(json!({})),
        current_action_data: Set(None),
        revision_count: Set(0),
        max_revisions: Set(0),
        version: Set(0),
        last_message_at: Set(now),
        created_at: Set(now),
        updated_at: Set(now),
    };
    let inserted = conversation::Entity::insert(row)
        .on_conflict(OnConflict::column(conversation::Column::PairKey).do_nothing().to_owned())
        .exec_without_returning(db)
        .await?;
    let conversation =
        conversation::Entity::find()
            .filter(conversation::Column::PairKey.eq(pair_key))
            .one(db)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("direct conversation vanished after upsert")))?;

    let mut out = DirectConnect { conversation, created: inserted == 1, message: None, events: vec![] };
    if let Some(text) = initial_message.filter(|t| !t.trim().is_empty()) {
        let sent = messages::send(
            db,
            writer,
            who,
            messages::SendInput {
                conversation_id: ConversationId(out.conversation.id),
                text: text.to_string(),
                media_url: None,
                client_message_id: None,
            },
        )
        .await?;
        out.conversation = sent.conversation.clone();
        out.message = Some(sent.message);
        out.events = sent.events;
    }
    Ok(out)
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

/// The caller's unread count per conversation plus the total.
pub fn unread_json(per_conversation: &HashMap<uuid::Uuid, u64>) -> Value {
    let total: u64 = per_conversation.values().sum();
    let map: serde_json::Map<String, Value> =
        per_conversation.iter().map(|(id, n)| (id.to_string(), json!(n))).collect();
    json!({ "unread_count": total, "conversations": map })
}

/// Messages of a conversation that a reader may see.
pub fn visible_messages(conversation_id: uuid::Uuid, who: &Identity) -> Condition {
    let now = clock::now();
    let mut c = Condition::all()
        .add(message::Column::ConversationId.eq(conversation_id))
        .add(Condition::any().add(message::Column::ExpiresAt.is_null()).add(message::Column::ExpiresAt.gt(now)));
    if !who.is_admin() {
        c = c.add(
            Condition::any()
                .add(message::Column::MessageType.ne("audit"))
                .add(message::Column::ReceiverId.eq(who.user_id.as_str())),
        );
    }
    c
}

/// What a client needs to render a conversation: its state, the other user,
/// and what the caller may do now.
pub async fn context(
    db: &impl ConnectionTrait,
    presence: &Presence,
    who: &Identity,
    id: ConversationId,
) -> AppResult<Value> {
    let c = readable(db, id, who).await?;
    let other = other_participant(&c, &who.user_id).to_string();
    let profile = users::find(db, &other).await?;
    let source = match super::flow::opening::source_of(&c) {
        Some(source) => super::collaborations::published(db, source).await?.json,
        None => Value::Null,
    };
    Ok(json!({
        "conversation_context": events::conversation_context(&c),
        "conversation": events::conversation_json(&c),
        "source": source,
        "other_user": users::public_profile(&other, profile.as_ref(), presence.is_online(&other).await),
        "available_actions": super::flow::engine::available_actions(&c, who),
    }))
}

//! Joining and leaving rooms, each authorised by its operation.

use serde_json::json;
use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, id_arg},
};
use crate::{app::rooms, domain::names::SourceKind, domain::users::Identity, error::AppResult};

const CONVERSATION_KEYS: &[&str] = &["conversationId", "conversation_id"];

pub fn join(who: &Identity, data: Payload) -> AppResult<Answer> {
    rooms::confirm_user_room(who, &id_arg(data, &["userId", "user_id"])?)?;
    Ok(json!({ "user_id": who.user_id }).into())
}

pub async fn join_conversation<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let id = id_arg(data, CONVERSATION_KEYS)?;
    let joined = rooms::join_conversation(&ctx.app, who, &ctx.conn, &id).await?;
    Ok(json!({ "conversation_context": joined.conversation_context, "presence": joined.presence }).into())
}

pub async fn leave_conversation<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    rooms::leave_conversation(&ctx.app, who, &ctx.conn, &id_arg(data, CONVERSATION_KEYS)?).await?;
    Ok(Answer::empty())
}

/// `join_bid_room`, `leave_bid_room`, `join_campaign_room` and
/// `leave_campaign_room`, told apart by the event name.
pub async fn follow<A: Adapter>(ctx: &Ctx<A>, who: &Identity, event: &str, data: Payload) -> AppResult<Answer> {
    let (kind, keys): (SourceKind, &[&str]) = if event.contains("bid") {
        (SourceKind::Bid, &["bidId", "bid_id"])
    } else {
        (SourceKind::Campaign, &["campaignId", "campaign_id"])
    };
    let join = event.starts_with("join");
    rooms::follow(&ctx.app, who, &ctx.conn, kind, &id_arg(data, keys)?, join).await?;
    Ok(Answer::empty())
}

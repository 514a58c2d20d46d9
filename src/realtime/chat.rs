//! Messages over the socket: send, read receipts and catch-up, each the
//! same operation as its REST twin.

use serde::Serialize;
use serde_json::{json, value::to_raw_value};
use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, payload},
};
use crate::{
    app::messages::{self, EditInput, ReactionInput, SeenInput},
    domain::{events::JsonText, messages::Reaction, users::Identity},
    error::{AppError, AppResult},
};

pub async fn send_message<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let sent = messages::send(&ctx.app, who, payload(data)?).await?;
    #[derive(Serialize)]
    struct Sent<'a> {
        success: bool,
        message: JsonText<'a>,
    }
    let envelope =
        to_raw_value(&Sent { success: true, message: JsonText(&sent.message) }).map_err(AppError::internal)?;
    Ok(Answer::Envelope(envelope))
}

pub async fn mark_seen<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let input: SeenInput = payload(data)?;
    if input.message_id.is_none() {
        return Err(AppError::invalid_field("messageId", "is required"));
    }
    let seen = messages::mark_seen(&ctx.app, who, input).await?;
    Ok(json!({ "seen_count": seen.count() }).into())
}

/// Catch-up after a reconnect: `{messages, has_more}`.
pub async fn sync_messages<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let read = messages::sync(&ctx.app, who, payload(data)?).await?;
    Ok(json!({ "messages": read.messages, "has_more": read.pagination["has_more"] }).into())
}

/// `edit_message {messageId, message}` → `{success, message}`.
pub async fn edit_message<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let input: EditInput = payload(data)?;
    Ok(json!({ "message": messages::edit(&ctx.app, who, input).await? }).into())
}

/// `delete_message {messageId}` → `{success, message}` (the tombstone).
pub async fn delete_message<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let input: ReactionInput = payload(data)?;
    Ok(json!({ "message": messages::delete(&ctx.app, who, &input.message_id).await? }).into())
}

/// `add_reaction` / `remove_reaction {messageId, emoji}` → `{success, message_id, reactions}`.
pub async fn reaction<A: Adapter>(ctx: &Ctx<A>, who: &Identity, event: &str, data: Payload) -> AppResult<Answer> {
    let how = if event == "add_reaction" { Reaction::Add } else { Reaction::Remove };
    let reacted = messages::react(&ctx.app, who, payload(data)?, how).await?;
    Ok(messages::react_json(&reacted).into())
}

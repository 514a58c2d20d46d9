//! Messages over the socket: send, read receipts and catch-up, each the
//! same operation as its REST twin.

use serde::Serialize;
use serde_json::{json, value::RawValue, value::to_raw_value};
use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, payload},
};
use crate::{
    app::messages::{self, SeenInput},
    domain::users::Identity,
    error::{AppError, AppResult},
};

pub async fn send_message<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let sent = messages::send(&ctx.app, who, payload(data)?).await?;
    #[derive(Serialize)]
    struct Sent<'a> {
        success: bool,
        message: &'a RawValue,
        /// Only when moderation changed the message.
        #[serde(skip_serializing_if = "Option::is_none")]
        moderation: Option<&'a serde_json::Value>,
    }
    let envelope = to_raw_value(&Sent { success: true, message: &sent.message, moderation: sent.moderation.as_ref() })
        .map_err(AppError::internal)?;
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

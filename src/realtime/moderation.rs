//! `flag_message {messageId, reason, note?}`: the same report as
//! `POST /api/messages/:id/flag`.

use serde_json::json;
use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, payload},
};
use crate::{app::moderation, domain::users::Identity, error::AppResult};

pub async fn flag_message<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let reported = moderation::flag_message(&ctx.app, who, payload(data)?).await?;
    Ok(json!({ "flag": reported.flag, "created": reported.created }).into())
}

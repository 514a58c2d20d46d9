//! Typing indicators and the user's status.

use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, payload},
};
use crate::{
    app::{presence, typing},
    domain::users::Identity,
    error::AppResult,
};

/// `typing_start` / `typing_stop`.
pub async fn typing<A: Adapter>(ctx: &Ctx<A>, who: &Identity, event: &str, data: Payload) -> AppResult<Answer> {
    let input = payload(data)?;
    if event == "typing_start" {
        typing::start(&ctx.app, who, &ctx.conn, input).await?;
    } else {
        typing::stop(&ctx.app, who, &ctx.conn, input).await?;
    }
    Ok(Answer::empty())
}

pub async fn user_status<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    presence::set_status(&ctx.app, who, payload(data)?).await?;
    Ok(Answer::empty())
}

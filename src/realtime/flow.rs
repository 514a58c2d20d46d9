//! Flow actions over the socket: the same operations as the REST routes.

use socketioxide::adapter::Adapter;

use super::{
    Ctx, Payload,
    reply::{Answer, payload},
};
use crate::{app::flow, domain::flow::engine::acted_json, domain::users::Identity, error::AppResult};

pub async fn button_action<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let acted = flow::button(&ctx.app, who, payload(data)?).await?;
    Ok(acted_json(&acted).into())
}

pub async fn text_input<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let acted = flow::text_input(&ctx.app, who, payload(data)?).await?;
    Ok(acted_json(&acted).into())
}

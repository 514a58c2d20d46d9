//! Flow actions: a button pressed or an input card submitted.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::AppState;
use crate::{
    domain::{
        flow::engine::{self, Acted, Planned, Prompt},
        ids::ConversationId,
        limits::Limit,
        users::{Claimed, Identity},
        validate,
    },
    error::AppResult,
};

/// `button_action {conversationId, button_id, additional_data?}`.
#[derive(Debug, Deserialize)]
pub struct ButtonInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(alias = "buttonId")]
    pub button_id: String,
    #[serde(default, alias = "additionalData")]
    pub additional_data: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub claimed: Claimed,
}

/// `text_input {conversationId, input_type, text}`.
#[derive(Debug, Deserialize)]
pub struct TextInput {
    #[serde(alias = "conversationId")]
    pub conversation_id: String,
    #[serde(alias = "inputType")]
    pub input_type: String,
    pub text: Value,
    #[serde(flatten)]
    pub claimed: Claimed,
}

pub async fn button(app: &AppState, who: &Identity, input: ButtonInput) -> AppResult<Acted> {
    app.spend(Limit::Actions, who).await?;
    input.claimed.check(who)?;
    let id = ConversationId::parse(&input.conversation_id)?;
    let data = input.additional_data.unwrap_or_default();
    let planned = engine::plan(&app.db, &app.flow, who, id, &input.button_id, data, Prompt::Button).await?;
    carry_out(app, who, planned).await
}

pub async fn text_input(app: &AppState, who: &Identity, input: TextInput) -> AppResult<Acted> {
    app.spend(Limit::Actions, who).await?;
    input.claimed.check(who)?;
    let id = ConversationId::parse(&input.conversation_id)?;
    let text = validate::scalar_text(&input.text)?;
    let planned = engine::plan_text_input(&app.db, &app.flow, who, id, &input.input_type, &text).await?;
    carry_out(app, who, planned).await
}

/// `proceed_to_payment` opens (or reuses) the gateway order after the rules
/// allow it and before anything is written.
async fn carry_out(app: &AppState, who: &Identity, mut planned: Planned) -> AppResult<Acted> {
    if planned.needs_order() {
        let prepared = app.payments.open_order(&app.db, who, &planned.conversation, &planned.transition).await?;
        planned.attach_order(&prepared.card, &prepared.data);
    }
    let mut acted = engine::carry_out(&app.db, &app.flow, planned).await?;
    app.emitter.publish(std::mem::take(&mut acted.events)).await;
    if acted.conversation.offer_expires_at.is_some() {
        app.alarm.ring();
    }
    Ok(acted)
}

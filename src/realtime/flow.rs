//! Flow actions over the socket: the same engine as the REST routes.

use serde::Deserialize;
use serde_json::{Map, Value};
use socketioxide::{
    adapter::Adapter,
    extract::{Extension, State, TryData},
};

use super::reply::{Reply, finish, payload};
use crate::domain::limits::Kind;
use crate::{
    domain::{
        flow::engine::{self, Via},
        ids::ConversationId,
        users::{Claimed, Identity},
        validate::scalar_text,
    },
    error::AppResult,
    state::AppState,
};

/// `{conversationId, button_id, additional_data?}` (camelCase spellings accepted too).
#[derive(Deserialize)]
struct ButtonAction {
    #[serde(rename = "conversationId", alias = "conversation_id")]
    conversation_id: String,
    #[serde(alias = "buttonId")]
    button_id: String,
    #[serde(default, alias = "additionalData")]
    additional_data: Option<Map<String, Value>>,
    #[serde(flatten)]
    claimed: Claimed,
}

pub async fn button_action<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        app.limiter.check(Kind::Actions, &who.user_id).await?;
        let p: ButtonAction = payload(data)?;
        p.claimed.check(&who)?;
        let id = ConversationId::parse(&p.conversation_id)?;
        let out = engine::act(&app.deps(), &who, id, &p.button_id, p.additional_data.unwrap_or_default(), Via::Button)
            .await?;
        Ok((out.body(), out.events))
    }
    .await;
    finish(&app, reply, "button_action", result, None).await;
}

/// `{conversationId, input_type, text}` (camelCase spellings accepted too).
#[derive(Deserialize)]
struct TextInput {
    #[serde(rename = "conversationId", alias = "conversation_id")]
    conversation_id: String,
    #[serde(alias = "inputType")]
    input_type: String,
    text: Value,
    #[serde(flatten)]
    claimed: Claimed,
}

pub async fn text_input<A: Adapter>(
    State(app): State<AppState>,
    Extension(who): Extension<Identity>,
    reply: Reply<A>,
    TryData(data): TryData<Value>,
) {
    let result: AppResult<_> = async {
        app.limiter.check(Kind::Actions, &who.user_id).await?;
        let p: TextInput = payload(data)?;
        p.claimed.check(&who)?;
        let id = ConversationId::parse(&p.conversation_id)?;
        let out = engine::text_input(&app.deps(), &who, id, &p.input_type, &scalar_text(&p.text)?).await?;
        Ok((out.body(), out.events))
    }
    .await;
    finish(&app, reply, "text_input", result, None).await;
}

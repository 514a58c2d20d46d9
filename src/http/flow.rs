//! Flow actions over REST: the same engine as the socket events.

use axum::{
    Json,
    extract::{Path, State},
};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::extract::{ApiJson, Caller};
use crate::domain::limits::Kind;
use crate::{
    domain::{
        flow::engine::{self, Via},
        ids::ConversationId,
        users::Claimed,
        validate,
    },
    error::AppResult,
    state::AppState,
};

#[derive(Deserialize)]
pub struct ButtonBody {
    button_id: String,
    #[serde(default)]
    additional_data: Option<Map<String, Value>>,
    #[serde(flatten)]
    claimed: Claimed,
}

pub async fn button_click(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<ButtonBody>,
) -> AppResult<Json<Value>> {
    app.limiter.check(Kind::Actions, &who.user_id).await?;
    b.claimed.check(&who)?;
    let id = ConversationId::parse(&id)?;
    let out =
        engine::act(&app.deps(), &who, id, &b.button_id, b.additional_data.unwrap_or_default(), Via::Button).await?;
    let body = out.body();
    app.emitter.publish(out.events).await;
    Ok(Json(success(body)))
}

#[derive(Deserialize)]
pub struct TextBody {
    text: Value,
    input_type: String,
    #[serde(flatten)]
    claimed: Claimed,
}

pub async fn text_input(
    State(app): State<AppState>,
    Caller(who): Caller,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<TextBody>,
) -> AppResult<Json<Value>> {
    app.limiter.check(Kind::Actions, &who.user_id).await?;
    b.claimed.check(&who)?;
    let id = ConversationId::parse(&id)?;
    let text = validate::scalar_text(&b.text)?;
    let out = engine::text_input(&app.deps(), &who, id, &b.input_type, &text).await?;
    let body = out.body();
    app.emitter.publish(out.events).await;
    Ok(Json(success(body)))
}

pub fn success(mut body: Value) -> Value {
    body["success"] = Value::Bool(true);
    body
}

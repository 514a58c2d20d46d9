//! The platform API: the marketplace's own backend (a `service` token)
//! notifies users and posts system messages into conversations.

use serde::Deserialize;
use serde_json::{Value, json};

use super::AppState;
use crate::{
    domain::{
        conversations,
        events::message_json,
        ids::ConversationId,
        messages::system::{self, Notice},
        notifications::{self, Draft},
        users::{self, Identity},
        validate,
    },
    error::{AppError, AppResult},
};

#[derive(Debug, Deserialize)]
pub struct NotificationInput {
    pub user_id: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub data: Option<Value>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

pub struct Created {
    pub value: Value,
    /// False when the idempotency key was seen before.
    pub created: bool,
}

fn kind(raw: &str) -> AppResult<String> {
    let ok = (1..=64).contains(&raw.len())
        && raw.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.'));
    if ok {
        Ok(raw.to_string())
    } else {
        Err(AppError::invalid_field("type", "must be 1..64 characters of [a-z0-9_.]"))
    }
}

fn idempotency_key(raw: Option<String>) -> AppResult<Option<String>> {
    raw.map(|k| validate::client_message_id("idempotency_key", &k)).transpose()
}

/// Stores a notification for a user and sends it to their devices; a
/// repeated `idempotency_key` returns the first one.
pub async fn notify(app: &AppState, service: &Identity, input: NotificationInput) -> AppResult<Created> {
    let user_id = validate::user_id("user_id", input.user_id.trim())?;
    let kind = kind(input.kind.trim())?;
    let title = validate::required_text("title", Some(&input.title), 200)?;
    let body = validate::optional_text("body", input.body.as_deref(), 2000)?.unwrap_or_default();
    let data = match input.data {
        None | Some(Value::Null) => json!({}),
        Some(v @ Value::Object(_)) => v,
        Some(_) => return Err(AppError::invalid_field("data", "must be an object")),
    };
    validate::no_nul(&data)?;
    let key = idempotency_key(input.idempotency_key)?;
    if let Some(key) = &key
        && let Some(first) = notifications::by_idempotency_key(&app.db, &service.user_id, key).await?
    {
        return Ok(Created { value: notifications::json(&first), created: false });
    }
    let conversation_id = match input.conversation_id.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(id) => {
            let c = conversations::load(&app.db, ConversationId::parse(id)?).await?;
            if conversations::participant(&c, &user_id).is_none() {
                return Err(AppError::invalid_field("conversation_id", "is not a conversation of user_id"));
            }
            Some(c.id)
        }
        None => None,
    };
    let now = app.clock.now();
    users::ensure_exists(&app.db, &user_id, now).await?;
    let mut draft = Draft::new(&user_id, &kind, title, &body, data);
    draft.conversation_id = conversation_id;
    draft.idempotency = key.clone().map(|k| (service.user_id.clone(), k));
    let stored = notifications::store(&app.db, vec![draft], now).await?;
    let Some(row) = stored.into_iter().next() else {
        // A concurrent call with the same key stored it first.
        let key = key.unwrap_or_default();
        let first = notifications::by_idempotency_key(&app.db, &service.user_id, &key)
            .await?
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("notification neither stored nor found")))?;
        return Ok(Created { value: notifications::json(&first), created: false });
    };
    let events = crate::domain::settings::drop_muted(&app.db, vec![notifications::event(&row)], app.clock.now()).await;
    app.emitter.publish(events).await;
    Ok(Created { value: notifications::json(&row), created: true })
}

#[derive(Debug, Deserialize)]
pub struct SystemMessageInput {
    pub message: String,
    #[serde(default)]
    pub action_data: Option<Value>,
    #[serde(default)]
    pub idempotency_key: Option<String>,
}

/// Posts a system message into a conversation, emitted like any message.
pub async fn system_message(
    app: &AppState,
    _service: &Identity,
    conversation_id: &str,
    input: SystemMessageInput,
) -> AppResult<Created> {
    let c = conversations::load(&app.db, ConversationId::parse(conversation_id)?).await?;
    let text = validate::message_text(&input.message, false)?;
    let action_data = match input.action_data {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v),
        Some(_) => return Err(AppError::invalid_field("action_data", "must be an object")),
    };
    if let Some(d) = &action_data {
        validate::no_nul(d)?;
    }
    let notice = Notice {
        system_user_id: &app.settings.system_user_id,
        text,
        action_required: action_data.is_some(),
        action_data,
        idempotency_key: idempotency_key(input.idempotency_key)?,
        track_emits: app.redis.is_some(),
    };
    let posted = system::post(&app.db, &app.webhooks, &c, notice, app.clock.now()).await?;
    app.emitter.publish(posted.events).await;
    Ok(Created { value: message_json(&posted.message), created: posted.created })
}

#[derive(Debug, Deserialize)]
pub struct CreditInput {
    pub points: Value,
    pub reference: String,
}

pub struct Credited {
    pub balance: i64,
    pub created: bool,
}

/// Credits a user's points; a repeated `reference` credits once.
pub async fn credit(app: &AppState, service: &Identity, user_id: &str, input: CreditInput) -> AppResult<Credited> {
    let user_id = validate::user_id("user_id", user_id.trim())?;
    let points = input
        .points
        .as_i64()
        .filter(|p| (1..=1_000_000_000).contains(p))
        .ok_or_else(|| AppError::invalid_field("points", "must be a whole number from 1 to 1,000,000,000"))?;
    let reference = validate::client_message_id("reference", &input.reference)?;
    let now = app.clock.now();
    users::ensure_exists(&app.db, &user_id, now).await?;
    let (balance, created) =
        crate::domain::quota::credit(&app.db, &user_id, points, &reference, &service.user_id, now).await?;
    if created {
        let state = crate::domain::quota::state(&app.db, app.writer.quota(), &user_id, now).await?;
        app.emitter.publish(vec![crate::domain::messages::quota_event(&user_id, &state)]).await;
    }
    Ok(Credited { balance, created })
}

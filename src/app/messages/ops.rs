//! Edits, deletes and reactions: one operation each, called by the socket
//! events and their REST twins.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    app::AppState,
    domain::{
        events::message_json,
        ids::MessageId,
        limits::Limit,
        messages::{self, Reaction},
        users::Identity,
    },
    error::AppResult,
};

/// `edit_message {messageId, message}` / `PUT /api/messages/:id {message}`.
#[derive(Debug, Default, Deserialize)]
pub struct EditInput {
    #[serde(default, alias = "messageId")]
    pub message_id: String,
    #[serde(default)]
    pub message: Option<String>,
}

/// The sender edits its message; answers the message as it now is.
pub async fn edit(app: &AppState, who: &Identity, input: EditInput) -> AppResult<Value> {
    app.spend(Limit::Messages, who).await?;
    let id = MessageId::required("messageId", &input.message_id)?;
    let text = input.message.unwrap_or_default();
    let window = app.settings.time_rules.edit_window;
    let changed =
        messages::edit(&app.db, &app.webhooks, app.writer.moderation(), who, id, &text, window, app.clock.now())
            .await?;
    app.emitter.publish(changed.events).await;
    Ok(message_json(&changed.message))
}

/// Soft-deletes a message: its sender, or an admin on any message (the
/// moderation views call this too). Answers the tombstone.
pub async fn delete(app: &AppState, who: &Identity, message_id: &str) -> AppResult<Value> {
    app.spend(Limit::Writes, who).await?;
    let id = MessageId::required("messageId", message_id)?;
    let changed = messages::delete(&app.db, &app.webhooks, who, id, app.clock.now()).await?;
    app.emitter.publish(changed.events).await;
    Ok(message_json(&changed.message))
}

/// `add_reaction` / `remove_reaction {messageId, emoji}` and their REST twins.
#[derive(Debug, Default, Deserialize)]
pub struct ReactionInput {
    #[serde(default, alias = "messageId")]
    pub message_id: String,
    #[serde(default)]
    pub emoji: String,
}

pub use messages::Reacted;

pub async fn react(app: &AppState, who: &Identity, input: ReactionInput, how: Reaction) -> AppResult<Reacted> {
    app.spend(Limit::Writes, who).await?;
    let id = MessageId::required("messageId", &input.message_id)?;
    let mut reacted = messages::react(&app.db, &app.webhooks, who, id, &input.emoji, how, app.clock.now()).await?;
    app.emitter.publish(std::mem::take(&mut reacted.events)).await;
    Ok(reacted)
}

/// `{message_id, reactions}`, the fields both transports answer with.
pub fn react_json(r: &Reacted) -> Value {
    json!({ "message_id": r.message_id, "reactions": r.reactions })
}

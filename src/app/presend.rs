//! The pre-send hook (`PRESEND_HOOK_URL`): before a user's message is
//! stored, the platform may allow it, refuse it or rewrite it.

use parley_outbound::presend::{self, PresendDecision, PresendHook};
use serde_json::json;

use super::AppState;
use crate::{
    domain::{clock, conversations, events::conversation_json, ids::ConversationId, messages::Draft, users::Identity},
    error::{AppError, AppResult, ErrorCode},
};

/// The hook, when one is configured.
pub fn hook(app_settings: &crate::config::Settings) -> anyhow::Result<Option<PresendHook>> {
    let s = &app_settings.webhooks;
    match (&s.presend_url, &s.secret) {
        (Some(url), Some(secret)) => {
            Ok(Some(PresendHook::new(url.clone(), secret.expose().as_bytes().to_vec(), s.presend_timeout)?))
        }
        _ => Ok(None),
    }
}

fn rejected(reason: &str) -> AppError {
    AppError::new(ErrorCode::MessageRejected, "The message was not accepted").with_details(json!({ "reason": reason }))
}

/// Asks the hook about a message before it is stored; returns the text to
/// store (the same, or the hook's rewrite).
pub async fn screen(app: &AppState, hook: &PresendHook, who: &Identity, draft: &Draft) -> AppResult<String> {
    let c = conversations::load(&app.db, draft.conversation_id).await?;
    let now = app.clock.now();
    let message = json!({
        "conversation_id": c.id,
        "sender_id": who.user_id,
        "receiver_id": conversations::other_participant(&c, &who.user_id),
        "message": draft.text.trim(),
        "media_url": draft.media_url,
        "message_type": "user_input",
        "client_message_id": draft.client_message_id,
        "created_at": clock::rfc3339(&now),
    });
    let id = uuid::Uuid::now_v7().to_string();
    let body = presend::body(&id, &clock::rfc3339(&now), &message, &conversation_json(&c));
    match hook.decide(&id, &body).await {
        PresendDecision::Allow => Ok(draft.text.clone()),
        PresendDecision::Rewrite { message } => Ok(message),
        PresendDecision::Reject { reason } => Err(rejected(&reason)),
        PresendDecision::Unavailable { why } => {
            tracing::warn!(conversation_id = %ConversationId(c.id), %why, "pre-send hook unavailable");
            if app.settings.webhooks.presend_fail_open {
                Ok(draft.text.clone())
            } else {
                Err(rejected("presend_hook_unavailable"))
            }
        }
    }
}

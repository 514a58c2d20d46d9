//! The pre-send hook (contract section 11): one signed call that lets the
//! platform allow, reject or rewrite a message before it is stored. The
//! caller builds the body, and decides what [`PresendDecision::Unavailable`]
//! means (`PRESEND_HOOK_FAIL_OPEN`).

use std::{sync::Arc, time::Duration};

use reqwest::{Client, redirect};
use serde_json::{Value, json};

use crate::{
    clock::{Clock, SystemClock},
    http::{describe, read_body, short},
    webhook::{Attempt, post_signed, user_agent},
};

/// Default for `PRESEND_HOOK_TIMEOUT_MS`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The `X-Parley-Event` and body `type` of a pre-send call.
pub const EVENT: &str = "message.presend";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PresendDecision {
    Allow,
    Reject {
        reason: String,
    },
    /// Store and send `message` instead; the caller validates it like any text.
    Rewrite {
        message: String,
    },
    /// No usable answer: a timeout, no connection, a non-2xx status, a body
    /// that is not JSON, or an action this server does not know.
    Unavailable {
        why: String,
    },
}

/// The hook's body: `{id, type: "message.presend", created_at, data: {message, conversation}}`.
pub fn body(id: &str, created_at: &str, message: &Value, conversation: &Value) -> Vec<u8> {
    let body = json!({
        "id": id,
        "type": EVENT,
        "created_at": created_at,
        "data": { "message": message, "conversation": conversation },
    });
    body.to_string().into_bytes()
}

/// `PRESEND_HOOK_URL`, signed with `WEBHOOK_SECRET`.
#[derive(Clone)]
pub struct PresendHook {
    client: Client,
    url: String,
    secret: Vec<u8>,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for PresendHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresendHook").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

impl PresendHook {
    pub fn new(url: impl Into<String>, secret: impl Into<Vec<u8>>, timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::with_clock(url, secret, timeout, Arc::new(SystemClock))
    }

    pub fn with_clock(
        url: impl Into<String>,
        secret: impl Into<Vec<u8>>,
        timeout: Duration,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, reqwest::Error> {
        let client = Client::builder().user_agent(user_agent()).redirect(redirect::Policy::none()).build()?;
        Ok(Self { client, url: url.into(), secret: secret.into(), timeout, clock })
    }

    /// Asks the hook about one message; `id` is the body's `id` (it goes in
    /// `X-Parley-Delivery-Id`) and `body` the raw JSON from [`body`].
    #[tracing::instrument(skip(self, body))]
    pub async fn decide(&self, id: &str, body: &[u8]) -> PresendDecision {
        let attempt = Attempt { event_type: EVENT, delivery_id: id, attempt: 1, body };
        let response =
            match post_signed(&self.client, &*self.clock, &self.url, &self.secret, &attempt, self.timeout).await {
                Ok(response) => response,
                Err(error) => return unavailable(describe(error, self.timeout)),
            };
        let status = response.status();
        if !status.is_success() {
            return unavailable(format!("HTTP {}", status.as_u16()));
        }
        match read_body(response).await {
            Ok(answer) => parse_answer(&answer),
            Err(error) => unavailable(error.describe(self.timeout)),
        }
    }
}

fn unavailable(why: String) -> PresendDecision {
    tracing::warn!(%why, "pre-send hook unavailable");
    PresendDecision::Unavailable { why }
}

fn parse_answer(answer: &[u8]) -> PresendDecision {
    let Ok(answer) = serde_json::from_slice::<Value>(answer) else {
        return unavailable("the answer is not JSON".into());
    };
    match answer.get("action").and_then(Value::as_str) {
        Some("allow") => PresendDecision::Allow,
        Some("reject") => {
            let reason = answer.get("reason").and_then(Value::as_str).unwrap_or_default();
            PresendDecision::Reject { reason: reason.to_owned() }
        }
        Some("rewrite") => match answer.get("message").and_then(Value::as_str) {
            Some(message) => PresendDecision::Rewrite { message: message.to_owned() },
            None => unavailable("a rewrite without a message string".into()),
        },
        Some(other) => unavailable(format!("unknown action {:?}", short(other, 40))),
        None => unavailable("the answer has no action".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn why(decision: PresendDecision) -> String {
        match decision {
            PresendDecision::Unavailable { why } => why,
            other => panic!("expected Unavailable, got {other:?}"),
        }
    }

    #[test]
    fn the_three_actions() {
        assert_eq!(parse_answer(br#"{"action":"allow"}"#), PresendDecision::Allow);
        assert_eq!(
            parse_answer(br#"{"action":"reject","reason":"no phone numbers"}"#),
            PresendDecision::Reject { reason: "no phone numbers".into() }
        );
        assert_eq!(
            parse_answer(br#"{"action":"rewrite","message":"call me on ***"}"#),
            PresendDecision::Rewrite { message: "call me on ***".into() }
        );
    }

    #[test]
    fn a_reject_without_a_reason_has_an_empty_one() {
        assert_eq!(parse_answer(br#"{"action":"reject"}"#), PresendDecision::Reject { reason: String::new() });
    }

    #[test]
    fn answers_that_decide_nothing_are_unavailable() {
        assert_eq!(why(parse_answer(b"<html>ok</html>")), "the answer is not JSON");
        assert_eq!(why(parse_answer(br#"{"ok":true}"#)), "the answer has no action");
        assert_eq!(why(parse_answer(br#"{"action":"shrug"}"#)), r#"unknown action "shrug""#);
        assert_eq!(why(parse_answer(br#"{"action":"rewrite"}"#)), "a rewrite without a message string");
        assert_eq!(why(parse_answer(br#"{"action":"rewrite","message":7}"#)), "a rewrite without a message string");
    }

    #[test]
    fn the_body_wraps_message_and_conversation() {
        let body = body("evt_1", "2025-12-01T10:00:00Z", &json!({"message": "hi"}), &json!({"id": "c1"}));
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({"id": "evt_1", "type": "message.presend", "created_at": "2025-12-01T10:00:00Z",
                   "data": {"message": {"message": "hi"}, "conversation": {"id": "c1"}}})
        );
    }
}

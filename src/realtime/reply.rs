//! Answers to client events: an ack in the REST envelope when the client
//! asked for one, otherwise failures as a `message_error` event (or, for
//! the older protocol's `chat:*` events, as `chat:error`).

use std::{convert::Infallible, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::{Value, json, value::RawValue};
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, State},
    handler::{FromMessageParts, Value as Frame},
    socket::Socket,
};

use super::Payload;
use crate::{
    app::AppState,
    domain::events::JsonText,
    error::{AppError, AppResult},
    metrics::EventLabels,
    state::InFlightGuard,
};

pub struct Reply<A: Adapter> {
    ack: Option<AckSender<A>>,
    socket: SocketRef<A>,
    /// Counts the event as in flight until it is answered (or dropped).
    _inflight: Option<InFlightGuard>,
}

impl<A: Adapter> FromMessageParts<A> for Reply<A> {
    type Error = Infallible;

    fn from_message_parts(s: &Arc<Socket<A>>, v: &mut Frame, ack_id: &Option<i64>) -> Result<Self, Infallible> {
        let ack = match ack_id {
            Some(_) => Some(AckSender::from_message_parts(s, v, ack_id)?),
            None => None,
        };
        let inflight = State::<AppState>::from_message_parts(s, v, ack_id).ok().map(|State(app)| app.enter());
        Ok(Self { ack, socket: SocketRef::from_message_parts(s, v, ack_id)?, _inflight: inflight })
    }
}

/// What a successful event answers with.
pub enum Answer {
    /// Fields added to `{success: true}`.
    Fields(Value),
    /// The whole envelope, already written (it carries a message's JSON text).
    Envelope(Box<RawValue>),
}

impl From<Value> for Answer {
    fn from(fields: Value) -> Self {
        Self::Fields(fields)
    }
}

impl Answer {
    pub fn empty() -> Self {
        Self::Fields(json!({}))
    }
}

/// The `clientMessageId` (either spelling) of a `send_message`, so a failure
/// without an ack can name the message it is about.
pub fn client_message_id(event: &str, data: &Payload) -> Option<String> {
    if event != "send_message" {
        return None;
    }
    let v = data.as_ref().ok()?;
    v.get("clientMessageId").or_else(|| v.get("client_message_id")).and_then(Value::as_str).map(str::to_owned)
}

impl<A: Adapter> Reply<A> {
    /// Ends an event: acks success, or counts the error and reports it.
    pub fn answer(self, app: &AppState, event: &str, result: AppResult<Answer>, client_message_id: Option<&str>) {
        match result {
            Ok(body) => self.ok(body),
            Err(err) => {
                app.metrics
                    .event_errors
                    .get_or_create(&EventLabels { event: metric_name(event), error_code: err.code.as_str().into() })
                    .inc();
                // The older protocol reports its failures as `chat:error` itself.
                let legacy = event.starts_with("chat:");
                self.fail(&err, client_message_id, legacy);
            }
        }
    }

    fn ok(self, body: Answer) {
        let Some(ack) = self.ack else { return };
        let sent = match body {
            Answer::Fields(body) => {
                let mut envelope = json!({ "success": true });
                if let (Some(target), Value::Object(fields)) = (envelope.as_object_mut(), body) {
                    target.extend(fields);
                }
                ack.send(&envelope)
            }
            Answer::Envelope(envelope) => ack.send(&JsonText(&envelope)),
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "ack not delivered");
        }
    }

    /// Reports a failure by ack, or as `message_error` when there is no ack
    /// (unless the event's own protocol has reported it).
    fn fail(self, err: &AppError, client_message_id: Option<&str>, reported: bool) {
        let envelope = err.envelope();
        match self.ack {
            Some(ack) => {
                if let Err(e) = ack.send(&envelope) {
                    tracing::debug!(error = %e, "error ack not delivered");
                }
            }
            None if reported => {}
            None => {
                let mut event = json!({
                    "error": envelope["message"],
                    "error_code": envelope["error_code"],
                    "details": envelope["details"],
                });
                if let Some(id) = client_message_id {
                    event["clientMessageId"] = json!(id);
                }
                if let Err(e) = self.socket.emit("message_error", &event) {
                    tracing::debug!(error = %e, "message_error not delivered");
                }
            }
        }
    }
}

/// Event names as metric labels: the server's own names, never a client's
/// invention (which would make a label per typo).
pub fn metric_name(event: &str) -> String {
    const KNOWN: &[&str] = &[
        "join",
        "join_conversation",
        "leave_conversation",
        "send_message",
        "typing_start",
        "typing_stop",
        "mark_seen",
        "user_status",
        "join_bid_room",
        "leave_bid_room",
        "join_campaign_room",
        "leave_campaign_room",
        "button_action",
        "text_input",
        "sync_messages",
        "authenticate",
    ];
    if KNOWN.contains(&event) || event.starts_with("chat:") && event.len() <= 16 {
        event.to_string()
    } else {
        "unknown".to_string()
    }
}

/// Reads an event payload into `T`, naming the offending field on failure.
pub fn payload<T: DeserializeOwned>(data: Payload) -> AppResult<T> {
    let value =
        data.map_err(|e| AppError::validation("Missing or unreadable event payload", json!({ "payload": e })))?;
    crate::domain::validate::no_nul(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| AppError::field(&e.path().to_string(), &e.inner().to_string()))
}

/// An id given either bare (`"abc"`, `42`) or inside an object under one of `keys`.
pub fn id_arg(data: Payload, keys: &[&str]) -> AppResult<String> {
    let value = data.map_err(|e| AppError::validation("Missing event payload", json!({ "payload": e })))?;
    crate::domain::validate::no_nul(&value)?;
    let found = match &value {
        Value::Object(map) => keys.iter().find_map(|k| map.get(*k)).cloned(),
        other => Some(other.clone()),
    };
    match found {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) => Ok(n.to_string()),
        _ => Err(AppError::invalid_field(keys[0], "is required")),
    }
}

//! Answers to client events: an ack in the REST envelope when the client
//! asked for one, otherwise failures as a `message_error` event.

use std::{convert::Infallible, sync::Arc};

use serde::de::DeserializeOwned;
use serde_json::{Value, json, value::RawValue};
use socketioxide::{
    adapter::Adapter,
    extract::{AckSender, SocketRef, State},
    handler::{FromMessageParts, Value as Frame},
    socket::Socket,
};

use crate::{
    domain::events::Outbound,
    error::{AppError, AppResult},
    http::extract::field_error,
    metrics::EventLabels,
    state::{AppState, InFlightGuard},
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

impl<A: Adapter> Reply<A> {
    /// Acknowledges success: `{success: true, ...body}`.
    pub fn ok(self, body: Answer) {
        let Some(ack) = self.ack else { return };
        let sent = match body {
            Answer::Fields(body) => {
                let mut envelope = json!({ "success": true });
                if let (Some(target), Value::Object(fields)) = (envelope.as_object_mut(), body) {
                    target.extend(fields);
                }
                ack.send(&envelope)
            }
            Answer::Envelope(envelope) => ack.send(&envelope),
        };
        if let Err(e) = sent {
            tracing::debug!(error = %e, "ack not delivered");
        }
    }

    /// Reports a failure by ack, or as `message_error` when there is no ack.
    pub fn fail(self, err: &AppError, client_message_id: Option<&str>) {
        let envelope = err.envelope();
        match self.ack {
            Some(ack) => {
                if let Err(e) = ack.send(&envelope) {
                    tracing::debug!(error = %e, "error ack not delivered");
                }
            }
            None => {
                let mut event = json!({
                    "error": envelope["message"],
                    "error_code": envelope["error_code"],
                    "details": envelope.get("details").cloned().unwrap_or(Value::Null),
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

/// Ends an event: on success publishes the events (the change is already
/// committed) and acks; on failure counts the error and reports it.
pub async fn finish<A: Adapter>(
    app: &AppState,
    reply: Reply<A>,
    event: &'static str,
    result: AppResult<(impl Into<Answer>, Vec<Outbound>)>,
    client_message_id: Option<&str>,
) {
    match result {
        Ok((body, events)) => {
            app.emitter.publish(events).await;
            reply.ok(body.into());
        }
        Err(err) => {
            app.metrics
                .event_errors
                .get_or_create(&EventLabels { event: event.to_string(), error_code: err.code.as_str().to_string() })
                .inc();
            reply.fail(&err, client_message_id);
        }
    }
}

/// Reads an event payload into `T`, naming the offending field on failure.
pub fn payload<T: DeserializeOwned>(data: Result<Value, impl std::fmt::Display>) -> AppResult<T> {
    let value = data.map_err(|e| {
        AppError::validation("Missing or unreadable event payload", json!({ "payload": e.to_string() }))
    })?;
    crate::domain::validate::no_nul(&value)?;
    serde_path_to_error::deserialize(value).map_err(|e| field_error(&e.path().to_string(), &e.inner().to_string()))
}

/// An id given either bare (`"abc"`, `42`) or inside an object under one of `keys`.
pub fn id_arg(data: Result<Value, impl std::fmt::Display>, keys: &[&str]) -> AppResult<String> {
    let value = data.map_err(|e| AppError::validation("Missing event payload", json!({ "payload": e.to_string() })))?;
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

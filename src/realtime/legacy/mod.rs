//! The older Stoory `chat:*` protocol, for mobile apps built against the
//! old backend: the same operations as everything else, under the old
//! names. Inbound here; [`render`] writes the old protocol's events from
//! the ones every operation already publishes, so nothing is stored or
//! published twice.

pub mod render;

use serde::Deserialize;
use serde_json::{Value, json};
use socketioxide::{adapter::Adapter, extract::SocketRef};

use super::{
    Ctx, Payload, SocketConn, accept,
    reply::{Answer, id_arg, payload},
};
use crate::{
    app::{
        self, AppState, Connection,
        messages::{SeenInput, SendInput},
    },
    domain::users::{Claimed, Identity},
    error::{AppError, AppResult},
};

/// A socket without a token: unless it authenticates within
/// `LEGACY_AUTH_TIMEOUT_MS` (10 s), it is told so and disconnected.
pub fn await_authentication<A: Adapter>(app: &AppState, s: &SocketRef<A>) {
    let s = s.clone();
    let clock = app.clock.clone();
    let deadline = clock.now() + app.settings.legacy_auth_timeout;
    tokio::spawn(async move {
        clock.sleep_until(deadline).await;
        if s.connected() && s.extensions.get::<Identity>().is_none() {
            refuse(&s, "authentication timed out");
        }
    });
}

fn refuse<A: Adapter>(s: &SocketRef<A>, message: &str) {
    if let Err(e) = s.emit("auth_error", &json!({ "message": message })) {
        tracing::debug!(error = %e, "auth_error not delivered");
    }
    if let Err(e) = s.clone().disconnect() {
        tracing::debug!(error = %e, "refused socket already gone");
    }
}

/// `authenticate {token}` → `authenticated {userId}`, or `auth_error` and a
/// disconnect.
pub async fn authenticate<A: Adapter>(ctx: &Ctx<A>, data: Payload) -> AppResult<Answer> {
    let token = data.ok().and_then(|v| match v {
        Value::String(t) => Some(t),
        v => v.get("token").and_then(Value::as_str).map(str::to_owned),
    });
    let peer =
        ctx.socket.req_parts().extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|c| c.0.ip());
    let who = match app::session::connection(&ctx.app, token.as_deref(), peer).await {
        Ok(who) => who,
        Err(refusal) => {
            refuse(&ctx.socket, &refusal.to_string());
            return Err(AppError::unauthorized());
        }
    };
    match ctx.who() {
        Ok(current) if current.user_id != who.user_id => {
            return Err(AppError::forbidden("This socket is already authenticated as another user"));
        }
        Ok(_) => {}
        Err(_) => accept(&ctx.app, &ctx.socket, who.clone()).await,
    }
    become_legacy(ctx, &who).await;
    ctx.conn.push("authenticated", &json!({ "userId": who.user_id }));
    Ok(json!({ "userId": who.user_id }).into())
}

/// Rooms the old protocol's events go to.
pub fn user_room(user_id: &str) -> String {
    format!("chat:user_{user_id}")
}

pub fn conversation_room(conversation_id: impl std::fmt::Display) -> String {
    format!("chat:conversation_{conversation_id}")
}

/// A conversation's messages that one user alone sees (their audits).
pub fn own_conversation_room(conversation_id: impl std::fmt::Display, user_id: &str) -> String {
    format!("chat:conversation_{conversation_id}:{user_id}")
}

/// A socket that speaks the old protocol hears its events, and only its
/// events, on the old protocol's rooms: the conversations it had joined
/// under the current protocol are kept, under their old-protocol rooms;
/// rooms the old protocol has no events for (bids, campaigns) are left.
async fn become_legacy<A: Adapter>(ctx: &Ctx<A>, who: &Identity) {
    let room = user_room(&who.user_id);
    if ctx.conn.has_joined(&room) {
        return;
    }
    render::legacy_client_seen(&ctx.app).await;
    let legacy = LegacyConn { conn: &ctx.conn, user_id: &who.user_id };
    for current in ctx.socket.rooms().into_iter().filter(|r| !r.starts_with("chat:")) {
        ctx.conn.leave(current.to_string());
        if current.starts_with("conversation_") {
            legacy.join(current.into_owned());
        }
    }
    ctx.conn.join(room);
}

/// A socket of the old protocol as the operations see it: joining a
/// conversation means its old-protocol rooms, and the current protocol's
/// presence snapshot is not for it.
struct LegacyConn<'a, A: Adapter> {
    conn: &'a SocketConn<A>,
    user_id: &'a str,
}

impl<A: Adapter> LegacyConn<'_, A> {
    fn rooms(&self, room: &str) -> Vec<String> {
        match room.strip_prefix("conversation_") {
            Some(id) => vec![conversation_room(id), own_conversation_room(id, self.user_id)],
            None => vec![room.to_string()],
        }
    }
}

impl<A: Adapter> Connection for LegacyConn<'_, A> {
    fn id(&self) -> String {
        self.conn.id()
    }

    fn join(&self, room: String) {
        for r in self.rooms(&room) {
            self.conn.join(r);
        }
    }

    fn leave(&self, room: String) {
        for r in self.rooms(&room) {
            self.conn.leave(r);
        }
    }

    fn has_joined(&self, room: &str) -> bool {
        self.conn.has_joined(room)
    }

    fn push(&self, event: &'static str, data: &Value) {
        if event != "presence_state" {
            self.conn.push(event, data);
        }
    }
}

/// `chat:join`, `chat:leave`, `chat:send`, `chat:read`.
/// Every failure, an unauthenticated socket's included, is also a `chat:error`.
pub async fn route<A: Adapter>(ctx: &Ctx<A>, event: &str, data: Payload) -> AppResult<Answer> {
    let temp_id = data.as_ref().ok().and_then(|v| v.get("tempId")).cloned();
    let result = match ctx.who() {
        Ok(who) => {
            become_legacy(ctx, &who).await;
            match event {
                "chat:join" => join(ctx, &who, data).await,
                "chat:leave" => leave(ctx, &who, data).await,
                "chat:send" => send(ctx, &who, data).await,
                "chat:read" => read(ctx, &who, data).await,
                other => Err(super::unknown_event(other)),
            }
        }
        Err(e) => Err(e),
    };
    if let Err(e) = &result {
        let mut error = json!({ "message": e.message, "error_code": e.code.as_str() });
        if let Some(id) = temp_id {
            error["tempId"] = id;
        }
        ctx.conn.push("chat:error", &error);
    }
    result
}

/// `{conversationId}` (either spelling), or the bare id.
fn conversation_id(data: Payload) -> AppResult<String> {
    id_arg(data, &["conversationId", "conversation_id"])
}

async fn join<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let id = conversation_id(data)?;
    let conn = LegacyConn { conn: &ctx.conn, user_id: &who.user_id };
    let joined = app::rooms::join_conversation(&ctx.app, who, &conn, &id).await?;
    let conversation_id = joined.conversation_context["id"].clone();
    ctx.conn.push("chat:joined", &json!({ "conversationId": conversation_id }));
    Ok(json!({ "conversationId": conversation_id }).into())
}

async fn leave<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let id = conversation_id(data)?;
    let conn = LegacyConn { conn: &ctx.conn, user_id: &who.user_id };
    app::rooms::leave_conversation(&ctx.app, who, &conn, &id).await?;
    Ok(Answer::empty())
}

/// `chat:send {tempId, conversationId, text?, clientNonce?}`.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Send {
    temp_id: Value,
    #[serde(alias = "conversation_id")]
    conversation_id: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default, alias = "mediaUrl")]
    media_url: Option<String>,
    #[serde(default)]
    client_nonce: Option<String>,
    #[serde(flatten)]
    claimed: Claimed,
}

async fn send<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    let p: Send = payload(data)?;
    let temp = match &p.temp_id {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        _ => return Err(AppError::invalid_field("tempId", "is required")),
    };
    let input = SendInput {
        conversation_id: p.conversation_id,
        message: p.text,
        media_url: p.media_url,
        client_message_id: p.client_nonce.filter(|n| !n.trim().is_empty()).or(Some(temp)),
        expires_in: None,
        reply_to: None,
        claimed: p.claimed,
    };
    let sent = app::messages::send(&ctx.app, who, input).await?;
    let message: Value = serde_json::from_str(sent.message.get()).map_err(AppError::internal)?;
    let ack = json!({ "tempId": p.temp_id, "message": message });
    ctx.conn.push("chat:ack", &ack);
    Ok(ack.into())
}

/// `chat:read {conversationId, upToMessageId}`; the receipt reaches the
/// conversation as `chat:read` (and `message_seen`).
async fn read<A: Adapter>(ctx: &Ctx<A>, who: &Identity, data: Payload) -> AppResult<Answer> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Read {
        #[serde(alias = "conversation_id")]
        conversation_id: String,
        #[serde(alias = "up_to_message_id", alias = "messageId")]
        up_to_message_id: String,
        #[serde(flatten)]
        claimed: Claimed,
    }
    let p: Read = payload(data)?;
    let input =
        SeenInput { conversation_id: p.conversation_id, message_id: Some(p.up_to_message_id), claimed: p.claimed };
    let seen = app::messages::mark_seen(&ctx.app, who, input).await?;
    Ok(json!({ "seen_count": seen.count(), "messageIds": seen.message_ids }).into())
}

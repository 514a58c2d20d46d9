//! Connection life cycle: the token decides who the socket is, before the
//! socket joins anything; presence and `user_offline` on the way out.

use serde_json::{Value, json};
use socketioxide::{
    adapter::Adapter,
    extract::{SocketRef, State, TryData},
};

use crate::domain::limits::Kind;
use crate::{
    auth::bearer_token,
    domain::{
        clock, conversations,
        events::{Outbound, conversation_room, user_room},
        presence,
        users::Identity,
    },
    state::AppState,
};

#[derive(Debug)]
pub enum Refused {
    Unauthorized,
    RateLimited,
    ShuttingDown,
    Internal,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Unauthorized => "unauthorized",
            Self::RateLimited => "rate_limited",
            Self::ShuttingDown => "server_shutting_down",
            Self::Internal => "Internal error",
        })
    }
}

/// Connect middleware: `auth.token`, else the `Authorization` header, else
/// the `token` query parameter. Refusal reaches the client as `connect_error`.
pub async fn authenticate<A: Adapter>(
    s: SocketRef<A>,
    State(app): State<AppState>,
    TryData(auth): TryData<Value>,
) -> Result<(), Refused> {
    let from_auth = auth.ok().and_then(|a| a.get("token").and_then(Value::as_str).map(str::to_owned));
    let parts = s.req_parts();
    let token = from_auth
        .or_else(|| bearer_token(&parts.headers).map(str::to_owned))
        .or_else(|| query_token(parts.uri.query()));
    if app.is_draining() {
        return Err(Refused::ShuttingDown);
    }
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default();
    let who = match token.as_deref().map(|t| app.verifier.verify(t)) {
        Some(Ok(who)) => who,
        _ => {
            // Failed attempts count against the address they come from.
            if app.limiter.check(Kind::Connections, &format!("ip:{peer}")).await.is_err() {
                return Err(Refused::RateLimited);
            }
            return Err(Refused::Unauthorized);
        }
    };
    if app.limiter.check(Kind::Connections, &who.user_id).await.is_err() {
        return Err(Refused::RateLimited);
    }
    if let Err(e) = app.users.observe(&app.db, &who).await {
        e.envelope();
        return Err(Refused::Internal);
    }
    // Everything the socket needs is set up here, before the client hears
    // it is connected: the connect handler runs as a separate task, and an
    // event sent right after `connect` must already find its handler.
    s.join(user_room(&who.user_id));
    super::register_events(&s);
    s.on_disconnect(on_disconnect::<A>);
    app.metrics.connected_sockets.inc();
    let first = app.presence.connect(&who.user_id, &s.id.to_string()).await;
    tracing::debug!(user_id = %who.user_id, sid = %s.id, "socket connected");
    s.extensions.insert(who.clone());
    if first {
        let event = status_change(&app, &who.user_id, "online").await;
        app.emitter.publish(event).await;
    }
    Ok(())
}

fn query_token(query: Option<&str>) -> Option<String> {
    query?
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .map(|t| t.replace("%20", " "))
        .filter(|t| !t.is_empty())
}

/// The connect handler: all set-up happens in [`authenticate`], which runs
/// before the client is told it is connected.
pub async fn on_connect<A: Adapter>(_s: SocketRef<A>) {}

async fn on_disconnect<A: Adapter>(s: SocketRef<A>, State(app): State<AppState>) {
    app.metrics.connected_sockets.dec();
    let Some(who) = s.extensions.get::<Identity>() else { return };
    let gone = app.presence.disconnect(&who.user_id, &s.id.to_string()).await;
    let mut events = Vec::new();
    for (conv, meta) in gone.left {
        events.push(presence_left(conv, &who.user_id, meta));
        events.extend(app.typing.stop(conv, &who.user_id));
    }
    if gone.last {
        events.extend(went_offline(&app, &who.user_id).await);
    }
    app.emitter.publish(events).await;
}

/// `presence_diff` for a socket that left a conversation.
pub fn presence_left(conv: uuid::Uuid, user_id: &str, meta: Value) -> Outbound {
    Outbound::new("presence_diff", vec![conversation_room(conv)], presence::diff(user_id, meta, false))
}

/// A user's last socket is gone: remember when, and tell their contacts.
pub async fn went_offline(app: &AppState, user_id: &str) -> Vec<Outbound> {
    let now = match app.last_seen.record(user_id).await {
        Ok(at) => at,
        Err(e) => {
            e.envelope();
            clock::now()
        }
    };
    match conversations::contacts(&app.db, user_id).await {
        Ok(contacts) if !contacts.is_empty() => vec![Outbound::new(
            "user_offline",
            contacts.iter().map(|c| user_room(c)).collect(),
            json!({ "userId": user_id, "last_seen": clock::rfc3339(&now) }),
        )],
        Ok(_) => vec![],
        Err(e) => {
            e.envelope();
            vec![]
        }
    }
}

/// `user_status_change` to everyone who shares a conversation with the user.
pub async fn status_change(app: &AppState, user_id: &str, status: &str) -> Vec<Outbound> {
    match conversations::contacts(&app.db, user_id).await {
        Ok(contacts) if !contacts.is_empty() => vec![Outbound::new(
            "user_status_change",
            contacts.iter().map(|c| user_room(c)).collect(),
            json!({ "userId": user_id, "status": status }),
        )],
        Ok(_) => vec![],
        Err(e) => {
            e.envelope();
            vec![]
        }
    }
}

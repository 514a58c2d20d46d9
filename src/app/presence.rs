//! Who is online: a connection's arrival and departure, and the status a
//! user sets, told to everyone who shares a conversation with them.

use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{AppState, Connection};
use crate::{
    domain::{
        clock, conversations,
        events::{Outbound, conversation_room, user_room},
        presence::{self, STATUSES},
        users::{Claimed, Identity},
    },
    error::{AppError, AppResult},
};

/// A connection was accepted for `who`: the user is online on it.
pub async fn connected(app: &AppState, who: &Identity, conn: &dyn Connection) {
    app.metrics.connected_sockets.inc();
    conn.join(user_room(&who.user_id));
    let first = app.presence.connect(&who.user_id, &conn.id()).await;
    tracing::debug!(user_id = %who.user_id, sid = %conn.id(), "socket connected");
    if first {
        let events = status_change(app, &who.user_id, "online").await;
        app.emitter.publish(events).await;
    }
}

/// A connection closed: it leaves the conversations it was in, stops typing
/// there, and when it was the user's last anywhere, the user goes offline.
pub async fn disconnected(app: &AppState, who: &Identity, connection_id: &str) {
    app.metrics.connected_sockets.dec();
    let gone = app.presence.disconnect(&who.user_id, connection_id).await;
    let mut events = Vec::new();
    for (conv, meta) in gone.left {
        events.push(presence_left(conv, &who.user_id, meta));
        events.extend(app.typing.stop(conv, &who.user_id));
    }
    if gone.last {
        events.extend(went_offline(app, &who.user_id).await);
    }
    app.emitter.publish(events).await;
}

/// `user_status {status}`.
#[derive(Debug, Deserialize)]
pub struct StatusInput {
    pub status: String,
    #[serde(flatten)]
    pub claimed: Claimed,
}

pub async fn set_status(app: &AppState, who: &Identity, input: StatusInput) -> AppResult<()> {
    input.claimed.check(who)?;
    let status = input.status.trim();
    if !STATUSES.contains(&status) {
        return Err(AppError::invalid_field("status", "must be online, away, busy or offline"));
    }
    app.presence.set_status(&who.user_id, status).await;
    let events = status_change(app, &who.user_id, status).await;
    app.emitter.publish(events).await;
    Ok(())
}

/// `presence_diff` for a socket that left a conversation.
pub fn presence_left(conv: Uuid, user_id: &str, meta: Value) -> Outbound {
    Outbound::new("presence_diff", vec![conversation_room(conv)], presence::diff(user_id, meta, false))
}

/// A user's last socket is gone: remember when, and tell their contacts.
pub async fn went_offline(app: &AppState, user_id: &str) -> Vec<Outbound> {
    let now = match app.last_seen.record(user_id).await {
        Ok(at) => at,
        Err(e) => {
            e.log_and_drop("storing when a user was last seen");
            app.clock.now()
        }
    };
    to_contacts(app, user_id, "user_offline", json!({ "userId": user_id, "last_seen": clock::rfc3339(&now) })).await
}

/// `user_status_change` to everyone who shares a conversation with the user.
pub async fn status_change(app: &AppState, user_id: &str, status: &str) -> Vec<Outbound> {
    to_contacts(app, user_id, "user_status_change", json!({ "userId": user_id, "status": status })).await
}

async fn to_contacts(app: &AppState, user_id: &str, event: &'static str, data: Value) -> Vec<Outbound> {
    match conversations::contacts(&app.db, user_id).await {
        Ok(contacts) if !contacts.is_empty() => {
            vec![Outbound::new(event, contacts.iter().map(|c| user_room(c)).collect(), data)]
        }
        Ok(_) => vec![],
        Err(e) => {
            e.log_and_drop("finding a user's contacts for a presence event");
            vec![]
        }
    }
}

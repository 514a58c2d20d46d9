//! The older protocol's events, written from the events every operation
//! publishes: `chat:new` from `new_message`, `chat:read` from
//! `message_seen`, `notification:new` from `notification`, and
//! `conversations:upsert` whenever a conversation's last message, state or
//! unread count changed. They go to the old protocol's rooms, which only
//! its sockets join.

use std::{
    collections::BTreeSet,
    sync::atomic::{AtomicBool, AtomicI64, Ordering},
};

use serde_json::{Value, json};
use socketioxide::{SocketIo, adapter::Adapter};
use uuid::Uuid;

use super::{conversation_room, own_conversation_room, user_room};
use crate::{
    app::{self, AppState},
    domain::events::Outbound,
};

/// Whether any socket of the old protocol has been seen, by this node
/// (`AppState::legacy_clients`) or, with Redis, by any node: until then
/// nothing of the old protocol is even computed.
#[derive(Default)]
pub struct Audience {
    seen_elsewhere: AtomicBool,
    /// When the cluster's flag was last read (Unix ms).
    checked_at: AtomicI64,
}

const CLUSTER_FLAG: &str = "parley:legacy_clients";

/// How often a node that has seen no old-protocol socket reads the
/// cluster's flag again (at most; only when it publishes).
const RECHECK_MS: i64 = 1_000;

/// Called when a socket turns to the old protocol, before it is answered.
/// With Redis, the socket raises the cluster's flag (again, should Redis
/// have lost it); when it is the one that raised it, other nodes may have
/// read the flag as down a moment ago, so its answer waits until each has
/// read it again: nothing published after the answer is missed.
pub async fn legacy_client_seen(app: &AppState) {
    app.legacy_clients.store(true, Ordering::Release);
    let Some(redis) = &app.redis else { return };
    let raised: redis::RedisResult<Option<String>> =
        redis::cmd("SET").arg(CLUSTER_FLAG).arg(1).arg("NX").query_async(&mut redis.conn.clone()).await;
    redis.observe(&raised);
    if matches!(raised, Ok(Some(_))) {
        tokio::time::sleep(std::time::Duration::from_millis(RECHECK_MS.unsigned_abs() + 200)).await;
    }
}

impl Audience {
    async fn present(&self, app: &AppState) -> bool {
        if app.legacy_clients.load(Ordering::Acquire) || self.seen_elsewhere.load(Ordering::Acquire) {
            return true;
        }
        let Some(redis) = &app.redis else { return false };
        let now = chrono::Utc::now().timestamp_millis();
        if now - self.checked_at.load(Ordering::Acquire) < RECHECK_MS {
            return false;
        }
        self.checked_at.store(now, Ordering::Release);
        let flag: redis::RedisResult<Option<String>> =
            redis::cmd("GET").arg(CLUSTER_FLAG).query_async(&mut redis.conn.clone()).await;
        let seen = matches!(flag, Ok(Some(_)));
        self.seen_elsewhere.store(seen, Ordering::Release);
        seen
    }
}

/// Writes the old protocol's events for a batch of published events.
pub async fn render<A: Adapter>(io: &SocketIo<A>, app: &AppState, audience: &Audience, events: &[Outbound]) {
    if !audience.present(app).await {
        return;
    }
    let mut changed: BTreeSet<(String, Uuid)> = BTreeSet::new();
    for event in events {
        let Some(rendered) = translate(event, &mut changed) else { continue };
        for (rooms, name, data) in rendered {
            emit(io, rooms, name, &data).await;
        }
    }
    if changed.is_empty() {
        return;
    }
    let (io, app) = (io.clone(), app.clone());
    // Not on the answer's path: the upsert reads the conversation again.
    tokio::spawn(async move {
        for (user, conversation) in changed {
            let room = user_room(&user);
            if app.redis.is_none() && io.of("/").is_none_or(|ns| ns.to(room.clone()).sockets().is_empty()) {
                continue;
            }
            match app::conversations::summary(&app, &user, conversation).await {
                Ok(Some(row)) => emit(&io, vec![room], "conversations:upsert", &row).await,
                Ok(None) => {}
                Err(e) => e.log_and_drop("building conversations:upsert"),
            }
        }
    });
}

/// Events to emit: each to the sockets in any of its rooms, once.
type Rendered = Vec<(Vec<String>, &'static str, Value)>;

/// The old protocol's events for one event, noting which conversations
/// changed for whom.
fn translate(event: &Outbound, changed: &mut BTreeSet<(String, Uuid)>) -> Option<Rendered> {
    let data = event.data.tree();
    let users = || event.rooms.iter().filter_map(|r| r.strip_prefix("user_").map(str::to_owned));
    let conversation = data.get("conversation_id").or_else(|| data.get("conversationId")).and_then(uuid_of);
    match event.event {
        "new_message" => {
            let id = conversation?;
            changed.extend(users().map(|u| (u, id)));
            let message = json!({ "message": data["message"] });
            let is_shared = event.rooms.iter().any(|r| r.starts_with("conversation_"));
            let rooms: Vec<String> = if is_shared {
                vec![conversation_room(id)]
            } else {
                users().map(|u| own_conversation_room(id, &u)).collect()
            };
            Some(vec![(rooms, "chat:new", message)])
        }
        "message_seen" => {
            let id = conversation?;
            let read = json!({
                "conversation_id": id,
                "messageIds": data["messageIds"],
                "upToMessageId": data["messageId"],
                "readerId": data["userId"],
                "readAt": data["seen_at"],
            });
            // Like `message_seen`: the conversation, and the other party wherever it is.
            let rooms = std::iter::once(conversation_room(id)).chain(users().map(|u| user_room(&u))).collect();
            Some(vec![(rooms, "chat:read", read)])
        }
        "conversation_state_changed" | "unread_count_updated" => {
            let id = conversation?;
            changed.extend(users().map(|u| (u, id)));
            None
        }
        "notification" => {
            Some(vec![(users().map(|u| user_room(&u)).collect(), "notification:new", json!({ "notification": data }))])
        }
        _ => None,
    }
}

fn uuid_of(v: &Value) -> Option<Uuid> {
    v.as_str().and_then(|s| Uuid::parse_str(s).ok())
}

/// Emits to the sockets in any of `rooms`; to none when there are none
/// (an emit without rooms would reach every socket).
async fn emit<A: Adapter>(io: &SocketIo<A>, rooms: Vec<String>, event: &'static str, data: &Value) {
    let Some(ns) = io.of("/").filter(|_| !rooms.is_empty()) else { return };
    if let Err(e) = ns.to(rooms).emit(event, data).await {
        tracing::debug!(event, error = %e, "old-protocol event not delivered");
    }
}

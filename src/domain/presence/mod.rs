//! Who is online, and who is in which conversation, Phoenix style: a
//! conversation's presence is the set of sockets that joined its room, each
//! with a meta `{status, online_at, phx_ref}`; a user is online while any of
//! their sockets, on any node, is connected. `phx_ref` is unique per join,
//! so a client can apply a diff that repeats what its state already holds.
//!
//! One node keeps it in memory; several nodes share it in Redis, each node
//! refreshing a heartbeat so that the others can clear up after it if it
//! dies without saying goodbye.

mod local;
mod shared;

use serde_json::{Value, json};
use uuid::Uuid;

pub use local::LocalPresence;
pub use shared::{Reaped, SharedPresence};

pub const STATUSES: [&str; 4] = ["online", "away", "busy", "offline"];

pub struct Disconnected {
    /// The user's last socket, on any node, is gone.
    pub last: bool,
    /// Conversations the socket was in, with the meta it had there.
    pub left: Vec<(Uuid, Value)>,
}

pub enum Presence {
    Local(LocalPresence),
    Shared(Box<SharedPresence>),
}

impl Presence {
    pub fn local(clock: super::clock::Clock) -> Self {
        Presence::Local(LocalPresence::new(clock))
    }

    /// Records a new socket; true when it is the user's first anywhere.
    pub async fn connect(&self, user_id: &str, sid: &str) -> bool {
        match self {
            Presence::Local(p) => p.connect(user_id, sid),
            Presence::Shared(p) => p.connect(user_id, sid).await,
        }
    }

    pub async fn disconnect(&self, user_id: &str, sid: &str) -> Disconnected {
        match self {
            Presence::Local(p) => p.disconnect(user_id, sid),
            Presence::Shared(p) => p.disconnect(user_id, sid).await,
        }
    }

    pub async fn is_online(&self, user_id: &str) -> bool {
        match self {
            Presence::Local(p) => p.is_online(user_id),
            Presence::Shared(p) => p.is_online(user_id).await,
        }
    }

    pub async fn set_status(&self, user_id: &str, status: &str) {
        match self {
            Presence::Local(p) => p.set_status(user_id, status),
            Presence::Shared(p) => p.set_status(user_id, status).await,
        }
    }

    /// Adds the socket to the conversation; its meta when it was not there yet.
    pub async fn join(&self, conv: Uuid, user_id: &str, sid: &str) -> Option<Value> {
        match self {
            Presence::Local(p) => p.join(conv, user_id, sid),
            Presence::Shared(p) => p.join(conv, user_id, sid).await,
        }
    }

    /// Removes the socket from the conversation; its meta when it was there.
    pub async fn leave(&self, conv: Uuid, user_id: &str, sid: &str) -> Option<Value> {
        match self {
            Presence::Local(p) => p.leave(conv, user_id, sid),
            Presence::Shared(p) => p.leave(conv, user_id, sid).await,
        }
    }

    /// `{userId: {metas: [...]}}` for everyone in the conversation's room.
    pub async fn conversation_state(&self, conv: Uuid) -> Value {
        match self {
            Presence::Local(p) => p.conversation_state(conv),
            Presence::Shared(p) => p.conversation_state(conv).await,
        }
    }
}

/// A presence diff with one side filled: `{joins: {user: {metas: [meta]}}, leaves: {}}`.
pub fn diff(user_id: &str, meta: Value, joined: bool) -> Value {
    let entry = json!({ user_id: { "metas": [meta] } });
    if joined { json!({ "joins": entry, "leaves": {} }) } else { json!({ "joins": {}, "leaves": entry }) }
}

//! Presence kept in this process: the whole truth for a single node, and
//! this node's own share of it when several nodes share Redis.

use std::{
    collections::HashMap,
    sync::atomic::{AtomicU64, Ordering},
};

use chrono::{DateTime, Utc};
use dashmap::DashMap;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Disconnected;
use crate::domain::clock::{self, Clock};

#[derive(Default)]
struct UserEntry {
    /// Socket id → when it connected.
    sockets: HashMap<String, DateTime<Utc>>,
    status: Option<String>,
}

/// This node's part of presence, to register again after Redis returns.
pub struct Snapshot {
    /// `(user, sid, online_at)`.
    pub sockets: Vec<(String, String, String)>,
    /// `(conversation, sid, user, meta)`.
    pub joins: Vec<(Uuid, String, String, Value)>,
}

pub struct LocalPresence {
    users: DashMap<String, UserEntry>,
    /// Conversation → (socket id → (user id, phx_ref)) of the sockets in its room.
    rooms: DashMap<Uuid, HashMap<String, (String, String)>>,
    /// Socket id → conversations it joined, to clean up on disconnect.
    joined: DashMap<String, Vec<Uuid>>,
    next_ref: AtomicU64,
    clock: Clock,
}

impl LocalPresence {
    pub fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub fn new(clock: Clock) -> Self {
        Self {
            users: DashMap::new(),
            rooms: DashMap::new(),
            joined: DashMap::new(),
            next_ref: AtomicU64::new(0),
            clock,
        }
    }

    /// Records a new socket; true when it is the user's first.
    pub fn connect(&self, user_id: &str, sid: &str) -> bool {
        let mut entry = self.users.entry(user_id.to_string()).or_default();
        let first = entry.sockets.is_empty();
        entry.sockets.insert(sid.to_string(), self.clock.now());
        if first {
            entry.status = None;
        }
        first
    }

    pub fn disconnect(&self, user_id: &str, sid: &str) -> Disconnected {
        let convs = self.joined.remove(sid).map(|(_, v)| v).unwrap_or_default();
        let mut left = Vec::with_capacity(convs.len());
        for conv in convs {
            if let Some(phx_ref) = self.remove_from_room(conv, sid) {
                left.push((conv, self.meta(user_id, sid, &phx_ref)));
            }
        }
        let last = match self.users.get_mut(user_id) {
            Some(mut entry) => {
                entry.sockets.remove(sid);
                entry.sockets.is_empty()
            }
            None => true,
        };
        if last {
            self.users.remove_if(user_id, |_, e| e.sockets.is_empty());
        }
        Disconnected { last, left }
    }

    pub fn is_online(&self, user_id: &str) -> bool {
        self.users.get(user_id).is_some_and(|e| !e.sockets.is_empty())
    }

    pub fn set_status(&self, user_id: &str, status: &str) {
        if let Some(mut entry) = self.users.get_mut(user_id) {
            entry.status = Some(status.to_string());
        }
    }

    /// Adds the socket to the conversation; returns its meta when it was not there yet.
    pub fn join(&self, conv: Uuid, user_id: &str, sid: &str) -> Option<Value> {
        let phx_ref = format!("{:x}", self.next_ref.fetch_add(1, Ordering::Relaxed));
        {
            let mut room = self.rooms.entry(conv).or_default();
            if room.contains_key(sid) {
                return None;
            }
            room.insert(sid.to_string(), (user_id.to_string(), phx_ref.clone()));
        }
        self.joined.entry(sid.to_string()).or_default().push(conv);
        Some(self.meta(user_id, sid, &phx_ref))
    }

    /// Removes the socket from the conversation; returns its meta when it was there.
    pub fn leave(&self, conv: Uuid, user_id: &str, sid: &str) -> Option<Value> {
        let phx_ref = self.remove_from_room(conv, sid)?;
        if let Some(mut convs) = self.joined.get_mut(sid) {
            convs.retain(|c| *c != conv);
        }
        Some(self.meta(user_id, sid, &phx_ref))
    }

    /// `{userId: {metas: [...]}}` for everyone in the conversation's room.
    pub fn conversation_state(&self, conv: Uuid) -> Value {
        let mut state: Map<String, Value> = Map::new();
        if let Some(room) = self.rooms.get(&conv) {
            for (sid, (user_id, phx_ref)) in room.iter() {
                let entry = state.entry(user_id.clone()).or_insert_with(|| json!({ "metas": [] }));
                if let Some(metas) = entry["metas"].as_array_mut() {
                    metas.push(self.meta(user_id, sid, phx_ref));
                }
            }
        }
        Value::Object(state)
    }

    /// This node's sockets `(user, sid, online_at)` and joins `(conversation, sid, user, meta)`,
    /// to register again in Redis after it comes back.
    pub fn snapshot(&self) -> Snapshot {
        let sockets = self
            .users
            .iter()
            .flat_map(|e| {
                let user = e.key().clone();
                e.sockets
                    .iter()
                    .map(move |(sid, at)| (user.clone(), sid.clone(), clock::rfc3339(at)))
                    .collect::<Vec<_>>()
            })
            .collect();
        let joins = self
            .rooms
            .iter()
            .flat_map(|room| {
                let conv = *room.key();
                room.iter()
                    .map(|(sid, (user, phx_ref))| (conv, sid.clone(), user.clone(), self.meta(user, sid, phx_ref)))
                    .collect::<Vec<_>>()
            })
            .collect();
        Snapshot { sockets, joins }
    }

    pub fn status(&self, user_id: &str) -> String {
        self.users.get(user_id).and_then(|e| e.status.clone()).unwrap_or_else(|| "online".into())
    }

    fn meta(&self, user_id: &str, sid: &str, phx_ref: &str) -> Value {
        let (status, online_at) = match self.users.get(user_id) {
            Some(e) => (e.status.clone().unwrap_or_else(|| "online".into()), e.sockets.get(sid).copied()),
            None => ("online".into(), None),
        };
        json!({
            "status": status,
            "online_at": clock::rfc3339(&online_at.unwrap_or_else(|| self.clock.now())),
            "phx_ref": phx_ref,
        })
    }

    /// Takes the socket out of the room; returns the `phx_ref` it had there.
    fn remove_from_room(&self, conv: Uuid, sid: &str) -> Option<String> {
        let removed = self.rooms.get_mut(&conv).and_then(|mut room| room.remove(sid)).map(|(_, r)| r);
        self.rooms.remove_if(&conv, |_, room| room.is_empty());
        removed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_sockets_of_one_user() {
        let p = LocalPresence::new(Clock::default());
        assert!(p.connect("u", "s1"));
        assert!(!p.connect("u", "s2"));
        let conv = Uuid::now_v7();
        assert!(p.join(conv, "u", "s1").is_some());
        assert!(p.join(conv, "u", "s1").is_none(), "joining twice is idempotent");
        assert!(p.join(conv, "u", "s2").is_some());
        assert_eq!(p.conversation_state(conv)["u"]["metas"].as_array().unwrap().len(), 2);
        let d = p.disconnect("u", "s1");
        assert!(!d.last);
        assert_eq!(d.left.len(), 1);
        assert!(p.is_online("u"));
        let d = p.disconnect("u", "s2");
        assert!(d.last);
        assert!(!p.is_online("u"));
        assert_eq!(p.conversation_state(conv), json!({}));
    }
}

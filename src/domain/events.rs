//! Events to publish after a change commits, and the wire shapes they carry.
//! Rooms are part of the contract: `user_{id}`, `conversation_{id}`,
//! `bid_{id}`, `campaign_{id}`.

use entity::{conversation, message};
use serde_json::{Value, json};

use super::clock;

pub fn user_room(user_id: &str) -> String {
    format!("user_{user_id}")
}

pub fn conversation_room(id: impl std::fmt::Display) -> String {
    format!("conversation_{id}")
}

pub fn campaign_room(id: impl std::fmt::Display) -> String {
    format!("campaign_{id}")
}

pub fn bid_room(id: impl std::fmt::Display) -> String {
    format!("bid_{id}")
}

/// One emit: `event` with `data` to every socket in any of `rooms` (each
/// socket once), leaving out sockets in any of `except`.
#[derive(Clone, Debug, PartialEq)]
pub struct Outbound {
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    pub event: &'static str,
    pub data: Value,
    /// The stored message this event delivers, marked emitted once sent.
    pub message_id: Option<uuid::Uuid>,
}

impl Outbound {
    pub fn new(event: &'static str, rooms: Vec<String>, data: Value) -> Self {
        Self { rooms, except: vec![], event, data, message_id: None }
    }

    pub fn except(mut self, room: String) -> Self {
        self.except.push(room);
        self
    }
}

/// A message as clients see it.
pub fn message_json(m: &message::Model) -> Value {
    json!({
        "id": m.id,
        "conversation_id": m.conversation_id,
        "sender_id": m.sender_id,
        "receiver_id": m.receiver_id,
        "message": m.message,
        "media_url": m.media_url,
        "message_type": m.message_type,
        "action_required": m.action_required,
        "action_data": m.action_data,
        "is_automated": m.is_automated,
        "action_completed": m.action_completed,
        "seen": m.seen,
        "seen_at": m.seen_at.as_ref().map(clock::rfc3339),
        "client_message_id": m.client_message_id,
        "created_at": clock::rfc3339(&m.created_at),
    })
}

/// The short form of a conversation's state that travels with messages.
pub fn conversation_context(c: &conversation::Model) -> Value {
    json!({
        "id": c.id,
        "conversation_type": c.conversation_type,
        "chat_status": c.chat_status,
        "flow_state": c.flow_state,
        "awaiting_role": c.awaiting_role,
        "current_action_data": c.current_action_data,
    })
}

/// A conversation in full.
pub fn conversation_json(c: &conversation::Model) -> Value {
    let flow = c.conversation_type != "direct";
    json!({
        "id": c.id,
        "conversation_type": c.conversation_type,
        "participants": [c.user1_id, c.user2_id],
        "brand_owner_id": flow.then_some(&c.user1_id),
        "influencer_id": flow.then_some(&c.user2_id),
        "campaign_id": c.campaign_id,
        "bid_id": c.bid_id,
        "request_id": c.request_id,
        "chat_status": c.chat_status,
        "flow_state": c.flow_state,
        "awaiting_role": c.awaiting_role,
        "flow_data": c.flow_data,
        "current_action_data": c.current_action_data,
        "revision_count": c.revision_count,
        "max_revisions": c.max_revisions,
        "last_message_at": clock::rfc3339(&c.last_message_at),
        "created_at": clock::rfc3339(&c.created_at),
        "updated_at": clock::rfc3339(&c.updated_at),
    })
}

/// Who may see a message live: an audit message goes to its actor alone;
/// everything else to the conversation room and both participants.
pub fn message_audience(c: &conversation::Model, m: &message::Model) -> Vec<String> {
    if m.message_type == "audit" {
        vec![user_room(&m.receiver_id)]
    } else {
        vec![conversation_room(c.id), user_room(&c.user1_id), user_room(&c.user2_id)]
    }
}

/// `new_message` for one stored message, to the sockets allowed to see it.
pub fn new_message(c: &conversation::Model, m: &message::Model) -> Outbound {
    new_message_as(c, m, message_json(m))
}

/// `new_message` with the message's JSON already built.
pub fn new_message_as(c: &conversation::Model, m: &message::Model, json: Value) -> Outbound {
    let mut out = Outbound::new(
        "new_message",
        message_audience(c, m),
        json!({
            "conversation_id": c.id,
            "message": json,
            "conversation_context": conversation_context(c),
        }),
    );
    out.message_id = Some(m.id);
    out
}

/// A `notification` to one user.
pub fn notification(user_id: &str, kind: &str, data: Value) -> Outbound {
    Outbound::new("notification", vec![user_room(user_id)], json!({ "type": kind, "data": data }))
}

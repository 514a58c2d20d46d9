//! Events to publish after a change commits, and the wire shapes they carry.
//! Rooms are part of the contract: `user_{id}`, `conversation_{id}`,
//! `bid_{id}`, `campaign_{id}`.

use entity::{conversation, message};
use serde::{Serialize, Serializer};
use serde_json::{Value, json, value::RawValue};
use uuid::Uuid;

use super::{
    clock,
    messages::reactions::StoredView,
    names::{ConversationType, MessageType},
};

/// What a push says about a notification just created (or updated by a
/// new message), carried beside its `notification` event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub user_id: String,
    pub kind: String,
    pub title: String,
    pub body: String,
    pub conversation_id: Option<Uuid>,
}

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
#[derive(Clone, Debug)]
pub struct Outbound {
    pub rooms: Vec<String>,
    pub except: Vec<String>,
    pub event: &'static str,
    pub data: Payload,
    /// The stored message this event delivers, marked emitted once sent.
    pub message_id: Option<uuid::Uuid>,
    /// Close the receiving sockets once the event is sent (a ban), on every node.
    pub disconnect: bool,
    /// A notification just created for a user: pushed to their devices
    /// when they have no socket connected.
    pub notice: Option<Box<Notice>>,
    /// A notification about a conversation: the (user, conversation) whose
    /// mute silences it.
    pub muted_by: Option<(String, Uuid)>,
}

impl Outbound {
    pub fn new(event: &'static str, rooms: Vec<String>, data: impl Into<Payload>) -> Self {
        Self {
            rooms,
            except: vec![],
            event,
            data: data.into(),
            message_id: None,
            disconnect: false,
            notice: None,
            muted_by: None,
        }
    }

    /// Closes the sockets it reaches after delivering it.
    pub fn then_disconnect(mut self) -> Self {
        self.disconnect = true;
        self
    }

    pub fn except(mut self, room: String) -> Self {
        self.except.push(room);
        self
    }
}

/// An event's data: a JSON tree, or JSON text written once and copied into
/// every frame that carries it (a sent message travels in three).
#[derive(Clone, Debug)]
pub enum Payload {
    Tree(Value),
    Text(Box<RawValue>),
}

impl Payload {
    /// Serialises `data` now; the events of one send share its text. Event
    /// data has string keys and derived serialisers, so this cannot fail; if
    /// it ever did, the event goes out with `null` data and the bug is logged.
    pub fn text(data: &impl Serialize) -> Self {
        match serde_json::value::to_raw_value(data) {
            Ok(text) => Self::Text(text),
            Err(e) => {
                tracing::error!(error = %e, "event data did not serialise");
                Self::Tree(Value::Null)
            }
        }
    }

    /// The data as a tree, read without changing the event.
    pub fn tree(&self) -> std::borrow::Cow<'_, Value> {
        match self {
            Self::Tree(tree) => std::borrow::Cow::Borrowed(tree),
            // Text is only ever written by `text`, so it is valid JSON.
            Self::Text(text) => std::borrow::Cow::Owned(serde_json::from_str(text.get()).unwrap_or_default()),
        }
    }

    /// The data as a tree, for the rare event that is changed after it was built.
    pub fn tree_mut(&mut self) -> &mut Value {
        if let Self::Text(text) = self {
            // Text is only ever written by `text`, so it is valid JSON.
            *self = Self::Tree(serde_json::from_str(text.get()).unwrap_or_default());
        }
        match self {
            Self::Tree(tree) => tree,
            Self::Text(_) => unreachable!("converted above"),
        }
    }
}

impl From<Value> for Payload {
    fn from(tree: Value) -> Self {
        Self::Tree(tree)
    }
}

impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Tree(tree) => tree.serialize(s),
            Self::Text(text) => JsonText(text).serialize(s),
        }
    }
}

/// JSON text written once, serialised as it is into JSON and as the tree
/// it spells into a binary format (MessagePack), where a raw JSON value
/// would otherwise arrive as serde_json's private wrapper.
pub struct JsonText<'a>(pub &'a RawValue);

impl Serialize for JsonText<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return self.0.serialize(s);
        }
        let tree: Value = serde_json::from_str(self.0.get()).map_err(serde::ser::Error::custom)?;
        tree.serialize(s)
    }
}

/// A message as clients see it. Serialised straight from the row, so the
/// hot path never builds a tree; [`message_json`] is the same as a `Value`.
#[derive(Serialize)]
pub struct MessageView<'a> {
    id: Uuid,
    conversation_id: Uuid,
    sender_id: &'a str,
    receiver_id: &'a str,
    message: &'a str,
    media_url: Option<&'a str>,
    message_type: &'a str,
    action_required: bool,
    action_data: Option<&'a Value>,
    is_automated: bool,
    action_completed: bool,
    seen: bool,
    seen_at: Option<String>,
    client_message_id: Option<&'a str>,
    expires_at: Option<String>,
    created_at: String,
    /// Only on a message moderation changed.
    #[serde(skip_serializing_if = "Option::is_none")]
    moderation: Option<&'a Value>,
    edited_at: Option<String>,
    deleted_at: Option<String>,
    reactions: StoredView<'a>,
    reply_to: Option<&'a Value>,
}

impl<'a> From<&'a message::Model> for MessageView<'a> {
    fn from(m: &'a message::Model) -> Self {
        Self {
            id: m.id,
            conversation_id: m.conversation_id,
            sender_id: &m.sender_id,
            receiver_id: &m.receiver_id,
            message: &m.message,
            media_url: m.media_url.as_deref(),
            message_type: &m.message_type,
            action_required: m.action_required,
            action_data: m.action_data.as_ref(),
            is_automated: m.is_automated,
            action_completed: m.action_completed,
            seen: m.seen,
            seen_at: m.seen_at.as_ref().map(clock::rfc3339),
            client_message_id: m.client_message_id.as_deref(),
            expires_at: m.expires_at.as_ref().map(clock::rfc3339),
            created_at: clock::rfc3339(&m.created_at),
            moderation: m.moderation.as_ref(),
            edited_at: m.edited_at.as_ref().map(clock::rfc3339),
            deleted_at: m.deleted_at.as_ref().map(clock::rfc3339),
            reactions: StoredView(m.reactions.as_ref()),
            reply_to: m.reply_to.as_ref(),
        }
    }
}

/// A message as clients see it (a derived serialiser with string keys
/// cannot fail).
pub fn message_json(m: &message::Model) -> Value {
    serde_json::to_value(MessageView::from(m)).unwrap_or_default()
}

/// The short form of a conversation's state that travels with messages.
#[derive(Serialize)]
pub struct ContextView<'a> {
    id: Uuid,
    conversation_type: &'a str,
    chat_status: &'a str,
    flow_state: Option<&'a str>,
    awaiting_role: Option<&'a str>,
    current_action_data: Option<&'a Value>,
}

impl<'a> From<&'a conversation::Model> for ContextView<'a> {
    fn from(c: &'a conversation::Model) -> Self {
        Self {
            id: c.id,
            conversation_type: &c.conversation_type,
            chat_status: &c.chat_status,
            flow_state: c.flow_state.as_deref(),
            awaiting_role: c.awaiting_role.as_deref(),
            current_action_data: c.current_action_data.as_ref(),
        }
    }
}

/// The short form of a conversation's state that travels with messages.
pub fn conversation_context(c: &conversation::Model) -> Value {
    serde_json::to_value(ContextView::from(c)).unwrap_or_default()
}

/// A conversation in full.
pub fn conversation_json(c: &conversation::Model) -> Value {
    let flow = c.conversation_type != ConversationType::Direct;
    let (context, contexts) = super::contexts::views(c);
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
        "message_ttl_seconds": c.message_ttl_seconds,
        "offer_expires_at": c.offer_expires_at.as_ref().map(clock::rfc3339),
        "last_message_at": clock::rfc3339(&c.last_message_at),
        "created_at": clock::rfc3339(&c.created_at),
        "updated_at": clock::rfc3339(&c.updated_at),
        "context": context,
        "contexts": contexts,
    })
}

/// Who may see a message live: an audit message goes to its actor alone;
/// everything else to the conversation room and both participants.
pub fn message_audience(c: &conversation::Model, m: &message::Model) -> Vec<String> {
    if m.message_type == MessageType::Audit {
        vec![user_room(&m.receiver_id)]
    } else {
        vec![conversation_room(c.id), user_room(&c.user1_id), user_room(&c.user2_id)]
    }
}

/// `new_message` for one stored message, to the sockets allowed to see it.
pub fn new_message(c: &conversation::Model, m: &message::Model) -> Outbound {
    new_message_as(c, m, &Payload::text(&MessageView::from(m)))
}

/// `new_message` for a message whose node died before emitting it, emitted
/// by another node: marked `redelivered: true`.
pub fn redelivered(c: &conversation::Model, m: &message::Model) -> Outbound {
    let mut event = new_message(c, m);
    event.data.tree_mut()["redelivered"] = json!(true);
    event
}

/// `new_message` with the message's JSON already written (`message`).
pub fn new_message_as<M: Serialize + ?Sized>(c: &conversation::Model, m: &message::Model, message: &M) -> Outbound {
    #[derive(Serialize)]
    struct NewMessage<'a, M: ?Sized> {
        conversation_id: Uuid,
        message: &'a M,
        conversation_context: ContextView<'a>,
    }
    let data = NewMessage { conversation_id: c.id, message, conversation_context: c.into() };
    let mut out = Outbound::new("new_message", message_audience(c, m), Payload::text(&data));
    out.message_id = Some(m.id);
    out
}

/// The data of a `message.new` webhook: the message and its conversation.
#[derive(Serialize)]
pub struct MessageNew<M: Serialize> {
    pub conversation_id: Uuid,
    pub message: M,
}

#[cfg(test)]
mod tests;

//! The AsyncAPI 3 document of the Socket.IO events: client → server events
//! with their acknowledgements, server → client events with their rooms.
//! [`CLIENT_EVENTS`] is also the dispatcher's list: an event missing here is
//! answered as unknown, so the document and the server cannot drift apart.

use serde_json::{Map, Value, json};

/// A client → server event: name, what it does, its payload, its ack on success.
pub struct ClientEvent {
    pub name: &'static str,
    pub summary: &'static str,
    pub payload: fn() -> Value,
    pub ack: fn() -> Value,
}

/// A server → client event: name, to whom, its payload.
pub struct ServerEvent {
    pub name: &'static str,
    pub to: &'static str,
    pub payload: fn() -> Value,
}

fn id() -> Value {
    json!({"type": "string", "description": "an id (a UUID for conversations and messages)"})
}
fn conversation_ref() -> Value {
    json!({"type": "object", "required": ["conversationId"], "properties": {"conversationId": id(), "userId": {"type": "string"}}})
}
fn obj() -> Value {
    json!({"type": "object"})
}
fn ok() -> Value {
    json!({"$ref": "#/components/schemas/Ok"})
}
fn ok_with(fields: Value) -> Value {
    json!({"allOf": [ok(), {"type": "object", "properties": fields}]})
}
fn room_id() -> Value {
    json!({"oneOf": [{"type": "string"}, {"type": "object"}], "description": "the id, bare or in an object"})
}
fn message() -> Value {
    json!({"$ref": "#/components/schemas/Message"})
}

pub const CLIENT_EVENTS: &[ClientEvent] = &[
    ClientEvent {
        name: "join",
        summary: "Joins the caller's own user room (it must be the token's user)",
        payload: || json!({"type": "string", "description": "the token's user id"}),
        ack: || ok_with(json!({"user_id": {"type": "string"}})),
    },
    ClientEvent {
        name: "join_conversation",
        summary: "Joins a conversation's room (participants and admins)",
        payload: room_id,
        ack: || ok_with(json!({"conversation_context": obj(), "presence": obj()})),
    },
    ClientEvent { name: "leave_conversation", summary: "Leaves a conversation's room", payload: room_id, ack: ok },
    ClientEvent {
        name: "send_message",
        summary: "Sends a message (stored before it is emitted)",
        payload: || {
            json!({"type": "object", "required": ["conversationId"], "properties": {
                "conversationId": id(), "message": {"type": "string", "maxLength": 5000},
                "mediaUrl": {"type": "string", "format": "uri", "maxLength": 2048},
                "clientMessageId": {"type": "string"}, "senderId": {"type": "string"}, "receiverId": {"type": "string"}}})
        },
        ack: || ok_with(json!({"message": message()})),
    },
    ClientEvent {
        name: "edit_message",
        summary: "Edits one of the caller's messages within the edit window",
        payload: || {
            json!({"type": "object", "required": ["messageId", "message"], "properties": {
                "messageId": id(), "message": {"type": "string", "maxLength": 5000}}})
        },
        ack: || ok_with(json!({"message": message()})),
    },
    ClientEvent {
        name: "delete_message",
        summary: "Deletes a message (its sender or an admin); a tombstone stays",
        payload: || json!({"type": "object", "required": ["messageId"], "properties": {"messageId": id()}}),
        ack: || ok_with(json!({"message": message()})),
    },
    ClientEvent {
        name: "add_reaction",
        summary: "Adds the caller's reaction to a message",
        payload: || json!({"type": "object", "required": ["messageId", "emoji"], "properties": {"messageId": id(), "emoji": {"type": "string"}}}),
        ack: || ok_with(json!({"reactions": obj()})),
    },
    ClientEvent {
        name: "flag_message",
        summary: "Reports a message to the moderators (participants; one open flag per reporter and message)",
        payload: || {
            json!({"type": "object", "required": ["messageId", "reason"], "properties": {
                "messageId": id(),
                "reason": {"type": "string", "enum": ["spam", "abuse", "fraud", "off_platform", "other"]},
                "note": {"type": "string", "maxLength": 1000}}})
        },
        ack: || ok_with(json!({"flag": obj()})),
    },
    ClientEvent {
        name: "remove_reaction",
        summary: "Removes the caller's reaction",
        payload: || json!({"type": "object", "required": ["messageId", "emoji"], "properties": {"messageId": id(), "emoji": {"type": "string"}}}),
        ack: || ok_with(json!({"reactions": obj()})),
    },
    ClientEvent {
        name: "typing_start",
        summary: "Starts typing (expires after 8 s)",
        payload: conversation_ref,
        ack: ok,
    },
    ClientEvent { name: "typing_stop", summary: "Stops typing", payload: conversation_ref, ack: ok },
    ClientEvent {
        name: "mark_seen",
        summary: "Marks a message and every earlier one addressed to the caller as seen",
        payload: || {
            json!({"type": "object", "required": ["messageId", "conversationId"], "properties": {
                "messageId": id(), "conversationId": id(), "userId": {"type": "string"}}})
        },
        ack: || ok_with(json!({"seen_count": {"type": "integer"}})),
    },
    ClientEvent {
        name: "user_status",
        summary: "Sets the caller's status",
        payload: || {
            json!({"type": "object", "required": ["status"], "properties": {
                "status": {"enum": ["online", "away", "busy", "offline"]}, "userId": {"type": "string"}}})
        },
        ack: ok,
    },
    ClientEvent { name: "join_bid_room", summary: "Follows a bid's applications", payload: room_id, ack: ok },
    ClientEvent { name: "leave_bid_room", summary: "Stops following a bid", payload: room_id, ack: ok },
    ClientEvent { name: "join_campaign_room", summary: "Follows a campaign's applications", payload: room_id, ack: ok },
    ClientEvent { name: "leave_campaign_room", summary: "Stops following a campaign", payload: room_id, ack: ok },
    ClientEvent {
        name: "button_action",
        summary: "Runs a flow action (a card's button)",
        payload: || {
            json!({"type": "object", "required": ["conversationId", "button_id"], "properties": {
                "conversationId": id(), "button_id": {"type": "string"}, "additional_data": obj()}})
        },
        ack: || ok_with(json!({"conversation": obj(), "messages": {"type": "array", "items": message()}})),
    },
    ClientEvent {
        name: "text_input",
        summary: "Submits an input card",
        payload: || {
            json!({"type": "object", "required": ["conversationId", "input_type", "text"], "properties": {
                "conversationId": id(), "input_type": {"type": "string"}, "text": {"type": "string"}}})
        },
        ack: || ok_with(json!({"conversation": obj(), "messages": {"type": "array", "items": message()}})),
    },
    ClientEvent {
        name: "sync_messages",
        summary: "Catches up after a reconnect (messages after a message id)",
        payload: || json!({"type": "object", "required": ["conversationId"], "properties": {"conversationId": id(), "after": id()}}),
        ack: || ok_with(json!({"messages": {"type": "array", "items": message()}, "has_more": {"type": "boolean"}})),
    },
    ClientEvent {
        name: "authenticate",
        summary: "Older clients: authenticates a socket that connected without a token",
        payload: || json!({"oneOf": [{"type": "string"}, {"type": "object", "properties": {"token": {"type": "string"}}}]}),
        ack: ok,
    },
    ClientEvent { name: "chat:join", summary: "Older clients: joins a conversation", payload: room_id, ack: ok },
    ClientEvent { name: "chat:leave", summary: "Older clients: leaves a conversation", payload: room_id, ack: ok },
    ClientEvent {
        name: "chat:send",
        summary: "Older clients: sends a message (`tempId` echoed in chat:ack)",
        payload: || json!({"type": "object", "properties": {"conversationId": id(), "message": {"type": "string"}, "tempId": {"type": "string"}}}),
        ack: || ok_with(json!({"message": message()})),
    },
    ClientEvent { name: "chat:read", summary: "Older clients: marks messages read", payload: obj, ack: ok },
];

pub const SERVER_EVENTS: &[ServerEvent] = &[
    ServerEvent {
        name: "new_message",
        to: "conversation_{id} and both participants' user_ rooms, each socket once",
        payload: || json!({"type": "object", "properties": {"conversation_id": id(), "message": message(), "conversation_context": obj()}}),
    },
    ServerEvent {
        name: "message_updated",
        to: "conversation_{id} and both user_ rooms, each socket once",
        payload: obj,
    },
    ServerEvent {
        name: "message_deleted",
        to: "conversation_{id} and both user_ rooms, each socket once",
        payload: obj,
    },
    ServerEvent {
        name: "reaction_updated",
        to: "conversation_{id} and both user_ rooms, each socket once",
        payload: obj,
    },
    ServerEvent { name: "notification", to: "user_{recipient}", payload: obj },
    ServerEvent { name: "banned", to: "user_{id} (then every socket of the user is closed)", payload: obj },
    ServerEvent { name: "conversation_settings_updated", to: "user_{id} (the caller's devices)", payload: obj },
    ServerEvent { name: "notifications_updated", to: "user_{id}", payload: obj },
    ServerEvent { name: "user_typing", to: "conversation_{id} except the typist", payload: obj },
    ServerEvent { name: "message_seen", to: "conversation_{id}", payload: obj },
    ServerEvent { name: "unread_count_updated", to: "user_{id}", payload: obj },
    ServerEvent { name: "conversation_state_changed", to: "conversation_{id} and both user_ rooms", payload: obj },
    ServerEvent { name: "button_action", to: "conversation_{id}", payload: obj },
    ServerEvent { name: "text_input", to: "conversation_{id}", payload: obj },
    ServerEvent { name: "presence_state", to: "the joining socket", payload: obj },
    ServerEvent { name: "presence_diff", to: "conversation_{id}", payload: obj },
    ServerEvent { name: "user_status_change", to: "user_ rooms of everyone sharing a conversation", payload: obj },
    ServerEvent { name: "user_offline", to: "user_ rooms of everyone sharing a conversation", payload: obj },
    ServerEvent { name: "new_application", to: "campaign_{id} / bid_{id}", payload: obj },
    ServerEvent { name: "message_expired", to: "conversation_{id} and both user_ rooms", payload: obj },
    ServerEvent { name: "quota_updated", to: "user_{id}", payload: obj },
    ServerEvent {
        name: "message_error",
        to: "the socket (a failure without an ack callback)",
        payload: || {
            json!({"type": "object", "required": ["error", "error_code", "details"], "properties": {
                "error": {"type": "string"}, "error_code": {"$ref": "#/components/schemas/ErrorCode"},
                "details": obj(), "clientMessageId": {"type": "string"}}})
        },
    },
    ServerEvent { name: "authenticated", to: "the socket (older clients)", payload: obj },
    ServerEvent { name: "auth_error", to: "the socket (older clients)", payload: obj },
    ServerEvent { name: "chat:new", to: "older clients in the conversation", payload: obj },
    ServerEvent { name: "chat:ack", to: "the sending socket (older clients)", payload: obj },
    ServerEvent { name: "chat:error", to: "the socket (older clients)", payload: obj },
    ServerEvent { name: "chat:joined", to: "the joining socket (older clients)", payload: obj },
    ServerEvent { name: "chat:read", to: "older clients in the conversation", payload: obj },
];

/// Whether the dispatcher takes `event`.
pub fn is_client_event(event: &str) -> bool {
    CLIENT_EVENTS.iter().any(|e| e.name == event)
}

fn key(name: &str) -> String {
    name.replace(':', "_")
}

pub fn document() -> Value {
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for e in CLIENT_EVENTS {
        let k = key(e.name);
        messages.insert(k.clone(), json!({"name": e.name, "summary": e.summary, "payload": (e.payload)()}));
        messages.insert(
            format!("{k}_ack"),
            json!({"name": format!("{} ack", e.name), "payload": {"oneOf": [(e.ack)(), {"$ref": "#/components/schemas/ErrorEnvelope"}]}}),
        );
        channels.insert(
            k.clone(),
            json!({"address": e.name, "messages": {
                "request": {"$ref": format!("#/components/messages/{k}")},
                "ack": {"$ref": format!("#/components/messages/{k}_ack")}}}),
        );
        operations.insert(
            format!("send_{k}"),
            json!({"action": "send", "summary": e.summary, "channel": {"$ref": format!("#/channels/{k}")},
                "messages": [{"$ref": format!("#/channels/{k}/messages/request")}],
                "reply": {"channel": {"$ref": format!("#/channels/{k}")},
                          "messages": [{"$ref": format!("#/channels/{k}/messages/ack")}]}}),
        );
    }
    for e in SERVER_EVENTS {
        let k = format!("server_{}", key(e.name));
        messages
            .insert(k.clone(), json!({"name": e.name, "summary": format!("To {}", e.to), "payload": (e.payload)()}));
        channels.insert(
            k.clone(),
            json!({"address": e.name, "description": format!("Rooms: {}", e.to),
                "messages": {"event": {"$ref": format!("#/components/messages/{k}")}}}),
        );
        operations.insert(
            format!("receive_{k}"),
            json!({"action": "receive", "channel": {"$ref": format!("#/channels/{k}")},
                "messages": [{"$ref": format!("#/channels/{k}/messages/event")}]}),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "Parley Socket.IO events",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Socket.IO v5 (and v4) on namespace `/`, path `/socket.io/`. Connect with `auth: {token}`. \
                Every client event takes an optional acknowledgement callback as its last argument; it carries \
                the REST envelope. Without a callback a failure arrives as `message_error`.",
        },
        "defaultContentType": "application/json",
        "servers": {"parley": {"host": "localhost:5000", "protocol": "ws", "pathname": "/socket.io/",
            "security": [{"$ref": "#/components/securitySchemes/token"}]}},
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "securitySchemes": {"token": {"type": "httpApiKey", "name": "token", "in": "query",
                "description": "The JWT, in the handshake's `auth.token`, the Authorization header or the `token` query parameter"}},
            "schemas": {
                "Ok": {"type": "object", "required": ["success"], "properties": {"success": {"const": true}}},
                "ErrorCode": {"enum": crate::error::ErrorCode::names()},
                "ErrorEnvelope": super::error_envelope_schema(),
                "Message": super::message_schema(),
            },
        },
    })
}

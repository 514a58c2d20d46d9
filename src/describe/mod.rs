//! Machine-readable descriptions of the server: the OpenAPI document of the
//! REST routes and the AsyncAPI document of the socket events.

pub mod asyncapi;
pub mod openapi;

use serde_json::{Value, json};

use crate::error::ErrorCode;

/// `{success: false, message, error_code, details}`: every failure, REST and acks alike.
pub fn error_envelope_schema() -> Value {
    json!({
        "type": "object",
        "required": ["success", "message", "error_code", "details"],
        "properties": {
            "success": {"const": false},
            "message": {"type": "string"},
            "error_code": {"enum": ErrorCode::names()},
            "details": {"type": "object", "description": "what is wrong (fields for VALIDATION_FAILED, retry_after_ms for RATE_LIMITED...); {} when there is nothing to say"},
        },
    })
}

/// A stored message as clients see it.
pub fn message_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "conversation_id": {"type": "string", "format": "uuid"},
            "sender_id": {"type": "string"},
            "receiver_id": {"type": ["string", "null"]},
            "message": {"type": "string"},
            "media_url": {"type": ["string", "null"]},
            "message_type": {"enum": ["user_input", "system", "automated", "audit"]},
            "action_required": {"type": "boolean"},
            "action_data": {},
            "is_automated": {"type": "boolean"},
            "action_completed": {"type": "boolean"},
            "seen": {"type": "boolean"},
            "seen_at": {"type": ["string", "null"], "format": "date-time"},
            "client_message_id": {"type": ["string", "null"]},
            "created_at": {"type": "string", "format": "date-time"},
        },
    })
}

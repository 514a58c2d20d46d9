//! Machine-readable descriptions of the server: the OpenAPI document of the
//! REST routes and the AsyncAPI document of the socket events.

pub mod asyncapi;
pub mod openapi;

use serde_json::{Value, json};

/// Every `error_code` a client may see.
pub const ERROR_CODES: &[&str] = &[
    "UNAUTHORIZED",
    "FORBIDDEN",
    "NOT_FOUND",
    "VALIDATION_FAILED",
    "CHAT_NOT_ENABLED",
    "CONVERSATION_CLOSED",
    "FLOW_STATE_INVALID",
    "NOT_YOUR_TURN",
    "PAYMENT_SIGNATURE_INVALID",
    "PAYMENT_AMOUNT_MISMATCH",
    "PAYMENT_GATEWAY_ERROR",
    "RATE_LIMITED",
    "MESSAGE_REJECTED",
    "QUOTA_EXCEEDED",
    "USER_BANNED",
    "INTERNAL",
];

/// `{success: false, message, error_code, details}`: every failure, REST and acks alike.
pub fn error_envelope_schema() -> Value {
    json!({
        "type": "object",
        "required": ["success", "message", "error_code", "details"],
        "properties": {
            "success": {"const": false},
            "message": {"type": "string"},
            "error_code": {"enum": ERROR_CODES},
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    #[test]
    fn every_error_code_is_described() {
        use ErrorCode::*;
        let all = [
            Unauthorized,
            Forbidden,
            NotFound,
            ValidationFailed,
            ChatNotEnabled,
            ConversationClosed,
            FlowStateInvalid,
            NotYourTurn,
            PaymentSignatureInvalid,
            PaymentAmountMismatch,
            PaymentGatewayError,
            RateLimited,
            MessageRejected,
            QuotaExceeded,
            UserBanned,
            Internal,
        ];
        let names: Vec<&str> = all.iter().map(|c| c.as_str()).collect();
        assert_eq!(names, ERROR_CODES);
    }
}

//! One error type for REST responses and socket acks: the contract's
//! envelope `{success: false, message, error_code, details?}`.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde_json::{Value, json};

/// The contract's error codes. Their wire names (`NOT_FOUND`...) and the
/// full list for the API documents come from the variants themselves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, strum::IntoStaticStr, strum::EnumIter)]
#[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
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
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        self.into()
    }

    /// Every code's wire name, in declaration order.
    pub fn names() -> Vec<&'static str> {
        use strum::IntoEnumIterator;
        Self::iter().map(Self::as_str).collect()
    }

    pub fn status(self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::Forbidden | Self::UserBanned => StatusCode::FORBIDDEN,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::ValidationFailed | Self::PaymentSignatureInvalid => StatusCode::BAD_REQUEST,
            Self::ChatNotEnabled
            | Self::ConversationClosed
            | Self::FlowStateInvalid
            | Self::NotYourTurn
            | Self::PaymentAmountMismatch => StatusCode::CONFLICT,
            Self::PaymentGatewayError => StatusCode::BAD_GATEWAY,
            Self::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            Self::MessageRejected => StatusCode::UNPROCESSABLE_ENTITY,
            Self::QuotaExceeded => StatusCode::PAYMENT_REQUIRED,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// An error a client may see. Internal errors keep their cause for the log
/// and show only `Internal error`.
#[derive(Debug, thiserror::Error)]
#[error("{code:?}: {message}")]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
    pub details: Option<Value>,
    #[source]
    pub cause: Option<anyhow::Error>,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self { code, message: message.into(), details: None, cause: None }
    }

    pub fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub fn unauthorized() -> Self {
        Self::new(ErrorCode::Unauthorized, "Authentication required: a valid access token")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, message)
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("{what} not found"))
    }

    /// A bad request; `fields` maps each offending field to what is wrong with it.
    pub fn validation(message: impl Into<String>, fields: Value) -> Self {
        Self::new(ErrorCode::ValidationFailed, message).with_details(fields)
    }

    /// A single bad field.
    pub fn invalid_field(field: &str, problem: impl Into<String>) -> Self {
        let problem = problem.into();
        Self::validation(format!("{field}: {problem}"), json!({ field: problem }))
    }

    pub fn rate_limited(retry_after_ms: u64) -> Self {
        Self::new(ErrorCode::RateLimited, "Too many requests; slow down")
            .with_details(json!({ "retry_after_ms": retry_after_ms }))
    }

    /// Anything but reading in a closed conversation.
    pub fn closed() -> Self {
        Self::new(ErrorCode::ConversationClosed, "This conversation is closed")
    }

    /// A deserialisation failure at `path` (as serde reports it), naming the field.
    pub fn field(path: &str, problem: &str) -> Self {
        // serde reports a missing field at the parent path, naming it in the text.
        let field = problem
            .strip_prefix("missing field `")
            .and_then(|rest| rest.split('`').next())
            .map(|name| if path == "." { name.to_string() } else { format!("{path}.{name}") })
            .unwrap_or_else(|| if path == "." { "body".to_string() } else { path.to_string() });
        let problem = problem.split(" at line ").next().unwrap_or(problem).to_string();
        Self::validation(format!("{field}: {problem}"), json!({ field: problem }))
    }

    pub fn internal(cause: impl Into<anyhow::Error>) -> Self {
        Self { code: ErrorCode::Internal, message: "Internal error".into(), details: None, cause: Some(cause.into()) }
    }

    /// The contract's error envelope; `details` is always an object. Logs
    /// internal causes (once, here, where every error leaves the server).
    pub fn envelope(&self) -> Value {
        if let Some(cause) = &self.cause {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        json!({
            "success": false,
            "message": self.message,
            "error_code": self.code.as_str(),
            "details": match &self.details {
                Some(d @ Value::Object(_)) => d.clone(),
                None | Some(Value::Null) => json!({}),
                Some(other) => json!({ "value": other }),
            },
        })
    }

    /// For work after a commit whose failure no caller can be told about
    /// (an event not built, a background step skipped): logs it with what
    /// was being done, and goes on.
    pub fn log_and_drop(&self, doing: &str) {
        match &self.cause {
            Some(cause) => tracing::error!(error = format!("{cause:#}"), "{doing} failed"),
            None => tracing::warn!(error = %self, "{doing} failed"),
        }
    }
}

impl From<sea_orm::DbErr> for AppError {
    fn from(err: sea_orm::DbErr) -> Self {
        Self::internal(err)
    }
}

impl<E: Into<AppError>> From<sea_orm::TransactionError<E>> for AppError
where
    E: std::error::Error,
{
    fn from(err: sea_orm::TransactionError<E>) -> Self {
        match err {
            sea_orm::TransactionError::Connection(db) => Self::internal(db),
            sea_orm::TransactionError::Transaction(e) => e.into(),
        }
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let mut response = (self.code.status(), Json(self.envelope())).into_response();
        if let (ErrorCode::RateLimited, Some(ms)) =
            (self.code, self.details.as_ref().and_then(|d| d["retry_after_ms"].as_u64()))
        {
            let secs = ms.div_ceil(1000).max(1);
            if let Ok(value) = secs.to_string().parse() {
                response.headers_mut().insert("retry-after", value);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let err = AppError::internal(anyhow::anyhow!("SELECT * FROM secrets failed"));
        let body = err.envelope();
        assert_eq!(body["message"], "Internal error");
        assert_eq!(body["error_code"], "INTERNAL");
        assert!(!body.to_string().contains("secrets"));
    }

    #[test]
    fn codes_have_the_contracts_wire_names() {
        let names = ErrorCode::names();
        assert_eq!(names.len(), 16);
        assert_eq!(names[0], "UNAUTHORIZED");
        assert!(names.contains(&"PAYMENT_SIGNATURE_INVALID") && names.contains(&"USER_BANNED"));
        assert_eq!(ErrorCode::NotYourTurn.as_str(), "NOT_YOUR_TURN");
    }

    #[test]
    fn validation_names_the_field() {
        let body = AppError::invalid_field("message", "must not be empty").envelope();
        assert_eq!(body["success"], false);
        assert_eq!(body["error_code"], "VALIDATION_FAILED");
        assert_eq!(body["details"]["message"], "must not be empty");
    }
}

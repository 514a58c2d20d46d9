//! Types that exist to describe the REST API: query strings and request
//! bodies as the OpenAPI document shows them, and the document's shared
//! parts (security schemes, the error envelope on every operation, alias
//! routes). The handlers' `#[utoipa::path]` attributes and the
//! `#[derive(OpenApi)]` list live beside the router (src/http/openapi.rs).

use serde_json::{Value, json};
use utoipa::{
    IntoParams, Modify, ToSchema,
    openapi::{
        OpenApi,
        security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme},
    },
};

/// `page` (from 1, at most 1,000,000) and `limit` (at most 100).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PageQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1)]
    limit: Option<u64>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ConversationsQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// `direct`, `campaign` or `bid`.
    #[param(rename = "type")]
    kind: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct HistoryQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// A message id: the newest `limit` messages older than it.
    before: Option<String>,
    /// A message id: the oldest `limit` messages newer than it.
    after: Option<String>,
}

#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct MineQuery {
    #[param(minimum = 1, maximum = 1_000_000)]
    page: Option<u64>,
    #[param(minimum = 1)]
    limit: Option<u64>,
    /// `true` for the caller's own.
    mine: Option<bool>,
}

/// The signed token of an email's unsubscribe link.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct UnsubscribeQuery {
    token: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct SendBody {
    conversation_id: String,
    /// 1..5000 characters after trimming (or empty with `media_url`).
    message: String,
    media_url: Option<String>,
    client_message_id: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DirectConnectBody {
    target_user_id: String,
    initial_message: Option<String>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ButtonClickBody {
    button_id: String,
    additional_data: Option<Value>,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TextInputBody {
    text: String,
    input_type: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyBody {
    conversation_id: String,
    razorpay_order_id: String,
    razorpay_payment_id: String,
    razorpay_signature: String,
}

#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DevTokenBody {
    user_id: String,
    role: String,
    name: Option<String>,
}

/// Routes served by another route's handler: (alias, documented path).
pub const ALIASES: &[(&str, &str)] = &[
    ("/api/campaigns/automated/verify-payment", "/api/payments/verify"),
    ("/api/bids/automated/verify-payment", "/api/payments/verify"),
    ("/api/webhooks/razorpay", "/webhook/razorpay"),
];

/// Adds what every operation shares: the security schemes, the error
/// envelope under each error status, and the alias routes.
pub struct Shared;

impl Modify for Shared {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("A user's JWT (HS256 with JWT_SECRET, or RS256/ES256)"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "service",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some("The platform backend's JWT, with role `service`"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "metrics",
            SecurityScheme::Http(
                Http::builder()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("METRICS_TOKEN, when the server sets one"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "razorpay_signature",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "X-Razorpay-Signature",
                "hex HMAC-SHA256 of the raw body with the webhook secret",
            ))),
        );
        for (alias, documented) in ALIASES {
            if let Some(item) = api.paths.paths.get(*documented).cloned() {
                api.paths.paths.insert((*alias).to_string(), item);
            }
        }
    }
}

/// The document as JSON, with the error envelope added to every operation
/// (done on the JSON: one schema, referenced from every error status).
pub fn finish(api: OpenApi) -> Value {
    let mut doc = serde_json::to_value(&api).unwrap_or_else(|_| json!({}));
    doc["components"]["schemas"]["ErrorEnvelope"] = super::error_envelope_schema();
    doc["components"]["schemas"]["Message"] = super::message_schema();
    let errors = [
        ("400", "VALIDATION_FAILED (malformed JSON, missing or bad fields), PAYMENT_SIGNATURE_INVALID"),
        ("401", "UNAUTHORIZED: missing, invalid, expired or refresh token"),
        ("403", "FORBIDDEN, USER_BANNED"),
        ("404", "NOT_FOUND"),
        ("405", "NOT_FOUND: this route does not take that method"),
        ("409", "CHAT_NOT_ENABLED, CONVERSATION_CLOSED, FLOW_STATE_INVALID, NOT_YOUR_TURN, PAYMENT_AMOUNT_MISMATCH"),
        ("413", "VALIDATION_FAILED: body over 2 MiB"),
        ("414", "VALIDATION_FAILED: request target over 8 KiB"),
        ("431", "VALIDATION_FAILED: more than 100 headers"),
        ("402", "QUOTA_EXCEEDED"),
        ("422", "MESSAGE_REJECTED"),
        ("429", "RATE_LIMITED (`details.retry_after_ms`, `Retry-After`)"),
        ("500", "INTERNAL"),
        ("502", "PAYMENT_GATEWAY_ERROR"),
        ("503", "INTERNAL: the request took longer than REQUEST_TIMEOUT_MS, or not ready"),
    ];
    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            let Some(item) = item.as_object_mut() else { continue };
            for op in item.values_mut() {
                let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) else { continue };
                for (status, what) in errors {
                    responses.entry(status).or_insert_with(|| {
                        json!({"description": what, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}}})
                    });
                }
            }
        }
    }
    doc["openapi"] = json!("3.1.0");
    doc
}

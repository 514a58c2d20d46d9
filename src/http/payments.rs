//! Payment configuration, checkout verification, the gateway's webhook and
//! the development sandbox.

use axum::{Json, extract::State, http::HeaderMap};
use serde_json::{Value, json};

use super::{
    extract::{ApiJson, Caller, RawBody},
    flow::success,
};
use crate::{
    app::{
        AppState,
        payments::{self, SandboxInput, Settled, VerifyInput},
    },
    domain::{events::conversation_json, payments::payment_json},
    error::AppResult,
};

#[utoipa::path(
    get,
    path = "/api/payments/config",
    tag = "payments",
    summary = "The checkout configuration",
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn config(State(app): State<AppState>, Caller(_): Caller) -> Json<Value> {
    Json(json!({ "success": true, "config": payments::config(&app) }))
}

fn settled(s: Settled) -> Json<Value> {
    Json(success(json!({
        "conversation": conversation_json(&s.conversation),
        "payment": s.payment.as_ref().map(payment_json),
        "changed": s.changed,
    })))
}

/// `{success, conversation, payment, changed}`.
#[utoipa::path(
    post,
    path = "/api/payments/verify",
    tag = "payments",
    summary = "Verifies a checkout payment (also /api/campaigns/automated/verify-payment and /api/bids/automated/verify-payment)",
    request_body = crate::describe::openapi::VerifyBody,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn verify(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<VerifyInput>,
) -> AppResult<Json<Value>> {
    Ok(settled(payments::verify(&app, &who, input).await?))
}

#[utoipa::path(
    post,
    path = "/api/payments/sandbox/pay",
    tag = "payments",
    summary = "Development sandbox: pays an order (only without gateway keys)",
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("bearer" = [])),
)]
pub async fn sandbox_pay(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<SandboxInput>,
) -> AppResult<Json<Value>> {
    Ok(settled(payments::sandbox_pay(&app, &who, input).await?))
}

/// The gateway's webhook: the raw body is what the signature covers.
#[utoipa::path(
    post,
    path = "/webhook/razorpay",
    tag = "payments",
    summary = "The payment gateway's signed webhook (also /api/webhooks/razorpay)",
    request_body = serde_json::Value,
    responses((status = 200, description = "Success: `{success: true, ...}`", body = serde_json::Value)),
    security(("razorpay_signature" = [])),
)]
pub async fn webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> AppResult<Json<Value>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let changed = payments::webhook(&app, &body, header("x-razorpay-signature"), header("x-razorpay-event-id")).await?;
    Ok(Json(json!({ "success": true, "processed": changed })))
}

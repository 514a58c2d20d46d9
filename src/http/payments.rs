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
pub async fn verify(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<VerifyInput>,
) -> AppResult<Json<Value>> {
    Ok(settled(payments::verify(&app, &who, input).await?))
}

pub async fn sandbox_pay(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(input): ApiJson<SandboxInput>,
) -> AppResult<Json<Value>> {
    Ok(settled(payments::sandbox_pay(&app, &who, input).await?))
}

/// The gateway's webhook: the raw body is what the signature covers.
pub async fn webhook(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawBody(body): RawBody,
) -> AppResult<Json<Value>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let changed = payments::webhook(&app, &body, header("x-razorpay-signature"), header("x-razorpay-event-id")).await?;
    Ok(Json(json!({ "success": true, "processed": changed })))
}

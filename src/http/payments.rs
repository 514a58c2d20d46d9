//! Payment configuration, checkout verification, the gateway's webhook and
//! the development sandbox.

use axum::{Json, body::Bytes, extract::State, http::HeaderMap};
use entity::payment_order;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    extract::{ApiJson, Caller},
    flow::success,
};
use crate::{
    domain::{
        conversations, events,
        ids::ConversationId,
        payments::{CheckoutProof, Completion, payment_json},
    },
    error::AppResult,
    state::AppState,
};

pub async fn config(State(app): State<AppState>, Caller(_): Caller) -> Json<Value> {
    Json(json!({ "success": true, "config": app.payments.config() }))
}

#[derive(Deserialize)]
pub struct VerifyBody {
    conversation_id: String,
    razorpay_order_id: String,
    razorpay_payment_id: String,
    razorpay_signature: String,
}

/// `{success, conversation, payment}`; verifying an order already completed
/// (by the webhook, or an earlier verify) is a success that changes nothing.
pub async fn verify(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<VerifyBody>,
) -> AppResult<Json<Value>> {
    let id = ConversationId::parse(&b.conversation_id)?;
    let proof = CheckoutProof {
        order_id: b.razorpay_order_id.clone(),
        payment_id: b.razorpay_payment_id,
        signature: b.razorpay_signature,
    };
    let done = app.payments.verify_checkout(&app.db, &app.flow, &who, id, &proof).await?;
    respond(&app, id, Some(&b.razorpay_order_id), done).await
}

#[derive(Deserialize)]
pub struct SandboxBody {
    conversation_id: String,
}

pub async fn sandbox_pay(
    State(app): State<AppState>,
    Caller(who): Caller,
    ApiJson(b): ApiJson<SandboxBody>,
) -> AppResult<Json<Value>> {
    let id = ConversationId::parse(&b.conversation_id)?;
    let done = app.payments.sandbox_pay(&app.db, &app.flow, &who, id).await?;
    respond(&app, id, None, done).await
}

async fn respond(
    app: &AppState,
    id: ConversationId,
    order_id: Option<&str>,
    done: Completion,
) -> AppResult<Json<Value>> {
    let conversation = match done.conversation {
        Some(c) => c,
        None => conversations::load(&app.db, id).await?,
    };
    let payment = match done.payment {
        Some(p) => Some(p),
        None => {
            let mut q = payment_order::Entity::find().filter(payment_order::Column::ConversationId.eq(id.0));
            if let Some(order_id) = order_id {
                q = q.filter(payment_order::Column::GatewayOrderId.eq(order_id.trim()));
            }
            q.order_by_desc(payment_order::Column::CreatedAt).one(&app.db).await?
        }
    };
    app.emitter.publish(done.events).await;
    Ok(Json(success(json!({
        "conversation": events::conversation_json(&conversation),
        "payment": payment.as_ref().map(payment_json),
        "changed": done.changed,
    }))))
}

/// The gateway's webhook: the raw body is what the signature covers.
pub async fn webhook(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> AppResult<Json<Value>> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let done = app
        .payments
        .webhook(&app.db, &app.flow, &body, header("x-razorpay-signature"), header("x-razorpay-event-id"))
        .await?;
    let changed = done.changed;
    app.emitter.publish(done.events).await;
    Ok(Json(json!({ "success": true, "processed": changed })))
}

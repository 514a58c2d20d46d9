//! Payment configuration, checkout verification, the gateway's webhook and
//! the development sandbox. Every capture ends in the one completion.

use entity::{conversation, payment_order};
use serde::Deserialize;
use serde_json::Value;

use super::AppState;
use crate::{
    domain::{
        conversations,
        ids::ConversationId,
        limits::Limit,
        payments::{self, CheckoutProof, Completion},
        users::Identity,
    },
    error::AppResult,
};

/// `{key_id, currency, sandbox}` for the checkout form.
pub fn config(app: &AppState) -> Value {
    app.payments.config()
}

#[derive(Debug, Deserialize)]
pub struct VerifyInput {
    pub conversation_id: String,
    pub razorpay_order_id: String,
    pub razorpay_payment_id: String,
    pub razorpay_signature: String,
}

/// A payment as the caller's answer shows it.
pub struct Settled {
    pub conversation: conversation::Model,
    pub payment: Option<payment_order::Model>,
    /// False for a repeat that changed nothing.
    pub changed: bool,
}

/// Checkout's proof of payment; verifying an order already completed (by
/// the webhook, or an earlier verify) is a success that changes nothing.
pub async fn verify(app: &AppState, who: &Identity, input: VerifyInput) -> AppResult<Settled> {
    app.spend(Limit::Writes, who).await?;
    let id = ConversationId::parse(&input.conversation_id)?;
    let proof = CheckoutProof {
        order_id: input.razorpay_order_id.clone(),
        payment_id: input.razorpay_payment_id,
        signature: input.razorpay_signature,
    };
    let done = app.payments.verify_checkout(&app.db, &app.flow, who, id, &proof).await?;
    settled(app, id, Some(&input.razorpay_order_id), done).await
}

#[derive(Debug, Deserialize)]
pub struct SandboxInput {
    pub conversation_id: String,
}

/// Development only: pays the open order through the same completion.
pub async fn sandbox_pay(app: &AppState, who: &Identity, input: SandboxInput) -> AppResult<Settled> {
    app.spend(Limit::Writes, who).await?;
    let id = ConversationId::parse(&input.conversation_id)?;
    let done = app.payments.sandbox_pay(&app.db, &app.flow, who, id).await?;
    settled(app, id, None, done).await
}

async fn settled(app: &AppState, id: ConversationId, order_id: Option<&str>, done: Completion) -> AppResult<Settled> {
    let conversation = match done.conversation {
        Some(c) => c,
        None => conversations::load(&app.db, id).await?,
    };
    let payment = match done.payment {
        Some(p) => Some(p),
        None => payments::order_of(&app.db, id.0, order_id).await?,
    };
    app.emitter.publish(done.events).await;
    Ok(Settled { conversation, payment, changed: done.changed })
}

/// A gateway webhook delivery: the raw body is what the signature covers.
/// True when it changed something.
pub async fn webhook(app: &AppState, raw: &[u8], signature: Option<&str>, event_id: Option<&str>) -> AppResult<bool> {
    let done = app.payments.webhook(&app.db, &app.flow, raw, signature, event_id).await?;
    app.emitter.publish(done.events).await;
    Ok(done.changed)
}

//! Payments for the flow's `payment_pending` step: gateway orders, checkout
//! verification, signed webhooks and the one completion both paths share.

mod capture;
mod completion;
pub mod gateway;
mod orders;
pub mod signature;

use capture::record_event;
pub use completion::complete;
use completion::fail;

use entity::{conversation, payment_order, webhook_event};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, sea_query::OnConflict};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use self::gateway::{Gateway, NewOrder};
use super::{
    clock::{self, Clock},
    conversations,
    events::Outbound,
    flow::{
        Party, State,
        engine::{self, FlowConfig},
        rules::{self, Transition},
        write::{self, Extra},
    },
    ids::ConversationId,
    money::Paise,
    names::PaymentStatus,
    notifications::{Draft, PAYMENT_COMPLETED, PAYMENT_FAILED},
    outbox,
    users::Identity,
};
use crate::{
    config::{Secret, Settings},
    error::{AppError, AppResult, ErrorCode},
};

/// What Razorpay Checkout hands the client after a payment.
pub struct CheckoutProof {
    pub order_id: String,
    pub payment_id: String,
    pub signature: String,
}

/// How long an order reserved while the gateway creates it holds.
const RESERVATION_SECS: i64 = 60;
/// Gateway ids stored in bounded columns (`X-Razorpay-Event-Id`, payment ids).
const MAX_EVENT_ID_LEN: usize = 128;
const MAX_PAYMENT_ID_LEN: usize = 64;

pub struct Payments {
    pub gateway: Gateway,
    key_id: String,
    key_secret: Option<Secret>,
    webhook_secret: Option<Secret>,
    currency: String,
    merchant_name: String,
    clock: Clock,
}

/// What opening (or reusing) an order adds to the flow.
pub struct Prepared {
    /// Merged into the payment card.
    pub card: Value,
    /// Merged into the flow data.
    pub data: Value,
}

impl Payments {
    pub fn from_settings(s: &Settings, clock: Clock) -> anyhow::Result<Self> {
        let sandbox = s.uses_payment_sandbox();
        Ok(Self {
            gateway: Gateway::from_settings(&s.razorpay, sandbox)?,
            key_id: s.razorpay.key_id.clone().unwrap_or_else(|| "rzp_sandbox".into()),
            key_secret: s.razorpay.key_secret.clone(),
            webhook_secret: s.razorpay.webhook_secret.clone(),
            currency: s.razorpay.currency.clone(),
            merchant_name: s.razorpay.merchant_name.clone(),
            clock,
        })
    }

    /// `{key_id, currency}` for the checkout form (and `sandbox` in development).
    pub fn config(&self) -> Value {
        json!({ "key_id": self.key_id, "currency": self.currency, "sandbox": self.gateway.is_sandbox() })
    }
}

/// The result of a completion attempt.
pub struct Completion {
    pub conversation: Option<conversation::Model>,
    pub payment: Option<payment_order::Model>,
    /// True when this call moved the conversation (or recorded a failure).
    pub changed: bool,
    pub events: Vec<Outbound>,
}

impl Completion {
    pub fn unchanged() -> Self {
        Self { conversation: None, payment: None, changed: false, events: vec![] }
    }
}

pub fn payment_json(p: &payment_order::Model) -> Value {
    json!({
        "order_id": p.gateway_order_id,
        "payment_id": p.payment_id,
        "amount": Paise(p.amount_paise).rupees_json(),
        "amount_paise": p.amount_paise,
        "currency": p.currency,
        "status": p.status,
        "failure_reason": p.failure_reason,
        "paid_at": p.paid_at.as_ref().map(clock::rfc3339),
        "created_at": clock::rfc3339(&p.created_at),
    })
}

/// The conversation's latest order, or its order with the gateway id given.
pub async fn order_of(
    db: &impl sea_orm::ConnectionTrait,
    conversation_id: Uuid,
    gateway_order_id: Option<&str>,
) -> AppResult<Option<payment_order::Model>> {
    let mut q = payment_order::Entity::find().filter(payment_order::Column::ConversationId.eq(conversation_id));
    if let Some(order_id) = gateway_order_id {
        q = q.filter(payment_order::Column::GatewayOrderId.eq(order_id.trim()));
    }
    Ok(q.order_by_desc(payment_order::Column::CreatedAt).one(db).await?)
}

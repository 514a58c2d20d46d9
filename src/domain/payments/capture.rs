//! How captures arrive: checkout verification, the signed webhook, and the
//! development sandbox. All end in [`super::complete`].

use super::*;

impl Payments {
    /// Checkout verification: the signature over `order_id|payment_id`
    /// with the key secret, for an order of this conversation.
    #[tracing::instrument(skip_all, fields(conversation_id = %conversation_id))]
    pub async fn verify_checkout(
        &self,
        db: &DatabaseConnection,
        cfg: &FlowConfig,
        who: &Identity,
        conversation_id: ConversationId,
        proof: &CheckoutProof,
    ) -> AppResult<Completion> {
        let (order_id, payment_id, signature) = (&proof.order_id, &proof.payment_id, &proof.signature);
        let (c, _) = conversations::writable(db, conversation_id, who).await?;
        if payment_id.trim().is_empty() || payment_id.trim().len() > MAX_PAYMENT_ID_LEN {
            return Err(AppError::invalid_field(
                "razorpay_payment_id",
                format!("must be 1..{MAX_PAYMENT_ID_LEN} characters"),
            ));
        }
        let order = payment_order::Entity::find()
            .filter(payment_order::Column::GatewayOrderId.eq(order_id.trim()))
            .filter(payment_order::Column::ConversationId.eq(c.id))
            .one(db)
            .await?
            .ok_or_else(|| AppError::not_found("Payment order"))?;
        let secret = self.key_secret.as_ref().map(Secret::expose).unwrap_or("");
        if secret.is_empty()
            || !signature::verify(
                secret,
                &signature::checkout_message(&order.gateway_order_id, payment_id.trim()),
                signature,
            )
        {
            return Err(AppError::new(ErrorCode::PaymentSignatureInvalid, "The payment signature does not match"));
        }
        // The gateway's own record of the order must agree with ours.
        let (amount, currency) = match self.gateway.fetch_order(&order.gateway_order_id).await? {
            Some(remote) => (remote.amount, remote.currency),
            None => (order.amount_paise, order.currency.clone()),
        };
        complete(db, cfg, &order, payment_id.trim(), amount, &currency, None).await
    }

    /// A gateway webhook delivery: raw body, signature header, event id.
    #[tracing::instrument(skip_all, fields(event_id = event_id.unwrap_or("")))]
    pub async fn webhook(
        &self,
        db: &DatabaseConnection,
        cfg: &FlowConfig,
        raw: &[u8],
        signature_header: Option<&str>,
        event_id: Option<&str>,
    ) -> AppResult<Completion> {
        let secret = self.webhook_secret.as_ref().map(Secret::expose).unwrap_or("");
        let valid = match signature_header {
            Some(sig) if !secret.is_empty() => signature::verify(secret, raw, sig),
            _ => false,
        };
        if !valid {
            tracing::warn!("webhook refused: bad or missing signature");
            return Err(AppError::new(ErrorCode::PaymentSignatureInvalid, "The webhook signature does not match"));
        }
        if crate::domain::validate::has_nul_escape(raw) {
            return Err(AppError::validation(
                "The webhook body is not a gateway event",
                json!({ "body": "must not contain the NUL character (U+0000)" }),
            ));
        }
        let event: WebhookEvent = serde_json::from_slice(raw).map_err(|e| {
            AppError::validation("The webhook body is not a gateway event", json!({ "body": e.to_string() }))
        })?;
        let payment = event.payload.payment.as_ref().map(|p| &p.entity);
        let order_entity = event.payload.order.as_ref().map(|o| &o.entity);
        let order_id = payment.and_then(|p| p.order_id.clone()).or_else(|| order_entity.map(|o| o.id.clone()));
        if order_id.is_none() && PAYMENT_EVENTS.contains(&event.event.as_str()) {
            tracing::warn!(event = %event.event, "webhook refused: a payment event without its payment or order");
            return Err(AppError::validation(
                "The webhook event names no payment or order",
                json!({ "payload": "payment.entity.order_id or order.entity.id is required" }),
            ));
        }
        let event_id = event_id.map(str::trim).filter(|s| !s.is_empty());
        if event_id.is_some_and(|id| id.len() > MAX_EVENT_ID_LEN) {
            return Err(AppError::invalid_field(
                "X-Razorpay-Event-Id",
                format!("must be at most {MAX_EVENT_ID_LEN} characters"),
            ));
        }
        if payment.is_some_and(|p| p.id.trim().is_empty() || p.id.len() > MAX_PAYMENT_ID_LEN) {
            return Err(AppError::invalid_field(
                "payload.payment.entity.id",
                format!("must be 1..{MAX_PAYMENT_ID_LEN} characters"),
            ));
        }
        let now = self.clock.now();
        if let Some(id) = event_id
            && seen_event(db, id).await?
        {
            tracing::info!(event = %event.event, "webhook event already processed");
            return Ok(Completion::unchanged());
        }
        let known = match &order_id {
            Some(id) => {
                payment_order::Entity::find()
                    .filter(payment_order::Column::GatewayOrderId.eq(id.as_str()))
                    .one(db)
                    .await?
            }
            None => None,
        };
        let Some(order) = known else {
            tracing::warn!(event = %event.event, order_id = ?order_id, "webhook for an unknown order ignored");
            record_event(db, event_id, &event.event, now).await?;
            return Ok(Completion::unchanged());
        };
        match event.event.as_str() {
            "payment.captured" | "order.paid" => {
                // The payment id is what completion records: both events must carry the payment.
                let Some(p) = payment else {
                    return Err(AppError::validation(
                        "The webhook has no payment",
                        json!({ "payload.payment": "the payment entity is required" }),
                    ));
                };
                let (amount, currency) = match (event.event.as_str(), order_entity) {
                    ("order.paid", Some(o)) => {
                        (o.amount_paid.unwrap_or(o.amount.unwrap_or_default()), o.currency.clone().unwrap_or_default())
                    }
                    _ => (p.amount.unwrap_or_default(), p.currency.clone().unwrap_or_default()),
                };
                let payment_id = p.id.trim().to_string();
                complete(db, cfg, &order, &payment_id, amount, &currency, event_id.map(|id| (id, event.event.as_str())))
                    .await
            }
            "payment.failed" => {
                let reason =
                    payment.and_then(|p| p.error_description.clone()).unwrap_or_else(|| "The payment failed".into());
                fail(db, cfg, &order, &reason, event_id.map(|id| (id, event.event.as_str()))).await
            }
            other => {
                tracing::info!(event = other, "webhook event type not handled");
                record_event(db, event_id, other, now).await?;
                Ok(Completion::unchanged())
            }
        }
    }

    /// Development only: pays the conversation's open order through the
    /// same completion as a real capture.
    pub async fn sandbox_pay(
        &self,
        db: &DatabaseConnection,
        cfg: &FlowConfig,
        who: &Identity,
        id: ConversationId,
    ) -> AppResult<Completion> {
        if !self.gateway.is_sandbox() {
            return Err(AppError::not_found("Sandbox"));
        }
        let (c, _) = conversations::writable(db, id, who).await?;
        let latest = order_of(db, c.id, None).await?;
        // Paying again what is already paid is a success that changes nothing,
        // as a repeated capture by either real path is.
        if latest.as_ref().is_some_and(|o| o.status == PaymentStatus::Paid) {
            return Ok(Completion { payment: latest, ..Completion::unchanged() });
        }
        let open = |o: &payment_order::Model| o.status == PaymentStatus::Created || o.status == PaymentStatus::Failed;
        let order = latest.filter(open).ok_or_else(|| {
            rules::state_invalid(
                c.flow_state.as_deref().and_then(State::parse),
                c.awaiting_role.as_deref().and_then(Party::parse),
                &[],
                "No open payment order: click proceed_to_payment first",
            )
        })?;
        let payment_id = format!("pay_sbx{}", &Uuid::now_v7().simple().to_string()[12..]);
        complete(db, cfg, &order, &payment_id, order.amount_paise, &order.currency.clone(), None).await
    }
}

/// The events that must carry a payment or an order.
const PAYMENT_EVENTS: [&str; 3] = ["payment.captured", "order.paid", "payment.failed"];

#[derive(Deserialize)]
struct WebhookEvent {
    event: String,
    #[serde(default)]
    payload: WebhookPayload,
}

#[derive(Deserialize, Default)]
struct WebhookPayload {
    payment: Option<Wrapped<PaymentEntity>>,
    order: Option<Wrapped<OrderEntity>>,
}

#[derive(Deserialize)]
struct Wrapped<T> {
    entity: T,
}

#[derive(Deserialize)]
struct PaymentEntity {
    id: String,
    order_id: Option<String>,
    amount: Option<i64>,
    currency: Option<String>,
    error_description: Option<String>,
}

#[derive(Deserialize)]
struct OrderEntity {
    id: String,
    amount: Option<i64>,
    amount_paid: Option<i64>,
    currency: Option<String>,
}

async fn seen_event(db: &DatabaseConnection, id: &str) -> AppResult<bool> {
    Ok(webhook_event::Entity::find_by_id(id.to_string()).one(db).await?.is_some())
}

pub(super) async fn record_event(
    db: &impl sea_orm::ConnectionTrait,
    event_id: Option<&str>,
    kind: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> AppResult<bool> {
    let Some(id) = event_id else { return Ok(true) };
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        event_id: Set(id.to_string()),
        event_type: Set(kind.chars().take(64).collect()),
        received_at: Set(now),
    })
    .on_conflict(OnConflict::column(webhook_event::Column::EventId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

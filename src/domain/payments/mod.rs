//! Payments for the flow's `payment_pending` step: gateway orders, checkout
//! verification, signed webhooks and the one completion both paths share.

pub mod gateway;
pub mod signature;

use entity::{conversation, payment_order, webhook_event};
use sea_orm::{
    ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait, sea_query::OnConflict,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use self::gateway::{Gateway, NewOrder};
use super::{
    clock, conversations,
    events::{self, Outbound},
    flow::{
        Kind, Role, State, cards,
        engine::{self, FlowConfig},
        rules::{self, Draft, Transition, View},
    },
    ids::ConversationId,
    messages,
    money::Paise,
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

/// An order reserved while the gateway creates it.
const CREATING: &str = "creating";
const RESERVATION_SECS: i64 = 60;

pub struct Payments {
    pub gateway: Gateway,
    key_id: String,
    key_secret: Option<Secret>,
    webhook_secret: Option<Secret>,
    currency: String,
    merchant_name: String,
}

/// What opening (or reusing) an order adds to the flow.
pub struct Prepared {
    /// Merged into the payment card.
    pub card: Value,
    /// Merged into the flow data.
    pub data: Value,
}

impl Payments {
    pub fn from_settings(s: &Settings) -> anyhow::Result<Self> {
        let sandbox = s.uses_payment_sandbox();
        Ok(Self {
            gateway: Gateway::from_settings(&s.razorpay, sandbox)?,
            key_id: s.razorpay.key_id.clone().unwrap_or_else(|| "rzp_sandbox".into()),
            key_secret: s.razorpay.key_secret.clone(),
            webhook_secret: s.razorpay.webhook_secret.clone(),
            currency: s.razorpay.currency.clone(),
            merchant_name: s.razorpay.merchant_name.clone(),
        })
    }

    /// `{key_id, currency}` for the checkout form (and `sandbox` in development).
    pub fn config(&self) -> Value {
        json!({ "key_id": self.key_id, "currency": self.currency, "sandbox": self.gateway.is_sandbox() })
    }

    /// Reuses the conversation's open order for the agreed amount, or asks
    /// the gateway for a new one. A gateway failure writes nothing.
    #[tracing::instrument(skip_all, fields(conversation_id = %c.id))]
    pub async fn open_order(
        &self,
        db: &DatabaseConnection,
        payer: &Identity,
        c: &conversation::Model,
        t: &Transition,
    ) -> AppResult<Prepared> {
        let amount = rules::stored_price(&t.data, "agreed_price")
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("payment without an agreed price")))?;
        let order = match self.reusable_order(db, c.id, amount).await? {
            Some(order) => order,
            None => self.new_order(db, c, amount).await?,
        };
        let description = c.flow_data["source"]["title"]
            .as_str()
            .map(|t| format!("Collaboration: {t}"))
            .unwrap_or_else(|| "Collaboration payment".into());
        Ok(Prepared {
            card: json!({
                "payment_order": {
                    "razorpay_config": {
                        "order_id": order.gateway_order_id,
                        "amount": order.amount_paise,
                        "currency": order.currency,
                        "key_id": self.key_id,
                        "name": self.merchant_name,
                        "description": description,
                        "prefill": { "name": payer.name, "email": payer.email, "contact": payer.phone },
                        "theme": { "color": "#3B82F6" },
                    },
                    "sandbox": self.gateway.is_sandbox(),
                }
            }),
            data: json!({ "payment": { "order_id": order.gateway_order_id, "amount": amount.rupees_json(), "amount_paise": amount.0, "currency": order.currency, "status": "created" } }),
        })
    }

    /// The conversation's open order for this amount, if any. An order still
    /// being created by a concurrent click makes this click lose.
    async fn reusable_order(
        &self,
        db: &DatabaseConnection,
        conversation_id: Uuid,
        amount: Paise,
    ) -> AppResult<Option<payment_order::Model>> {
        let rows = payment_order::Entity::find()
            .filter(payment_order::Column::ConversationId.eq(conversation_id))
            .filter(payment_order::Column::AmountPaise.eq(amount.0))
            .filter(payment_order::Column::Status.is_in([CREATING, "created", "failed"]))
            .order_by_desc(payment_order::Column::CreatedAt)
            .all(db)
            .await?;
        let fresh =
            |o: &payment_order::Model| clock::now() - o.created_at < chrono::Duration::seconds(RESERVATION_SECS);
        if rows.iter().any(|o| o.status == CREATING && fresh(o)) {
            return Err(rules::state_invalid(
                Some(State::PaymentPending),
                Some(Role::BrandOwner),
                &[],
                "A payment order is already being prepared for this conversation",
            ));
        }
        Ok(rows.into_iter().find(|o| o.status != CREATING))
    }

    /// Reserves the conversation's order (a unique placeholder, so one
    /// concurrent click wins), asks the gateway, then records its order id.
    /// A gateway failure removes the reservation: nothing stays written.
    async fn new_order(
        &self,
        db: &DatabaseConnection,
        c: &conversation::Model,
        amount: Paise,
    ) -> AppResult<payment_order::Model> {
        let placeholder = format!("creating:{}:{}", c.id, amount.0);
        let now = clock::now();
        // A reservation left by a node that died mid-request is stale after a minute.
        payment_order::Entity::delete_many()
            .filter(payment_order::Column::GatewayOrderId.eq(placeholder.as_str()))
            .filter(payment_order::Column::CreatedAt.lt(now - chrono::Duration::seconds(RESERVATION_SECS)))
            .exec(db)
            .await?;
        let mut row = payment_order::Model {
            id: Uuid::now_v7(),
            conversation_id: c.id,
            gateway_order_id: placeholder.clone(),
            amount_paise: amount.0,
            currency: self.currency.clone(),
            status: CREATING.into(),
            payment_id: None,
            failure_reason: None,
            created_at: now,
            updated_at: now,
            paid_at: None,
        };
        let reserved = payment_order::Entity::insert(payment_order::ActiveModel::from(row.clone()))
            .on_conflict(OnConflict::column(payment_order::Column::GatewayOrderId).do_nothing().to_owned())
            .exec_without_returning(db)
            .await?;
        if reserved == 0 {
            return Err(rules::state_invalid(
                Some(State::PaymentPending),
                Some(Role::BrandOwner),
                &[],
                "A payment order is already being prepared for this conversation",
            ));
        }
        // A concurrent click may have finished its order between our look
        // and our reservation: use that order rather than open a second.
        let finished = payment_order::Entity::find()
            .filter(payment_order::Column::ConversationId.eq(c.id))
            .filter(payment_order::Column::AmountPaise.eq(amount.0))
            .filter(payment_order::Column::Status.is_in(["created", "failed"]))
            .order_by_desc(payment_order::Column::CreatedAt)
            .one(db)
            .await?;
        if let Some(order) = finished {
            payment_order::Entity::delete_by_id(row.id).exec(db).await?;
            return Ok(order);
        }
        let created = self
            .gateway
            .create_order(&NewOrder {
                amount: amount.0,
                currency: &self.currency,
                receipt: format!("conv_{}", c.id.to_string().chars().take(35).collect::<String>()),
                notes: json!({
                    "conversation_id": c.id,
                    "brand_owner_id": c.user1_id,
                    "influencer_id": c.user2_id,
                    "conversation_type": c.conversation_type,
                }),
            })
            .await;
        let created = match created {
            Ok(o) if o.amount == amount.0 && o.currency == self.currency => o,
            other => {
                payment_order::Entity::delete_by_id(row.id).exec(db).await?;
                return Err(match other {
                    Err(e) => e,
                    Ok(_) => AppError::new(
                        ErrorCode::PaymentGatewayError,
                        "The payment gateway returned an order for a different amount",
                    ),
                });
            }
        };
        row.gateway_order_id = created.id;
        row.status = "created".into();
        row.updated_at = clock::now();
        payment_order::Entity::update(payment_order::ActiveModel {
            id: Set(row.id),
            gateway_order_id: Set(row.gateway_order_id.clone()),
            status: Set(row.status.clone()),
            updated_at: Set(row.updated_at),
            ..Default::default()
        })
        .exec(db)
        .await?;
        Ok(row)
    }

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
        let event: WebhookEvent = serde_json::from_slice(raw).map_err(|e| {
            AppError::validation("The webhook body is not a gateway event", json!({ "body": e.to_string() }))
        })?;
        let event_id = event_id.map(str::trim).filter(|s| !s.is_empty());
        if let Some(id) = event_id
            && seen_event(db, id).await?
        {
            tracing::info!(event = %event.event, "webhook event already processed");
            return Ok(Completion::unchanged());
        }
        let payment = event.payload.payment.as_ref().map(|p| &p.entity);
        let order_entity = event.payload.order.as_ref().map(|o| &o.entity);
        let order_id = payment.and_then(|p| p.order_id.clone()).or_else(|| order_entity.map(|o| o.id.clone()));
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
            record_event(db, event_id, &event.event).await?;
            return Ok(Completion::unchanged());
        };
        match event.event.as_str() {
            "payment.captured" | "order.paid" => {
                let (payment_id, amount, currency) = match (event.event.as_str(), payment, order_entity) {
                    ("order.paid", p, Some(o)) => (
                        p.map(|p| p.id.clone()).unwrap_or_default(),
                        o.amount_paid.unwrap_or(o.amount.unwrap_or_default()),
                        o.currency.clone().unwrap_or_default(),
                    ),
                    (_, Some(p), _) => {
                        (p.id.clone(), p.amount.unwrap_or_default(), p.currency.clone().unwrap_or_default())
                    }
                    _ => {
                        return Err(AppError::validation(
                            "The webhook has no payment",
                            json!({ "payload": "missing payment entity" }),
                        ));
                    }
                };
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
                record_event(db, event_id, other).await?;
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
        let order = payment_order::Entity::find()
            .filter(payment_order::Column::ConversationId.eq(c.id))
            .filter(payment_order::Column::Status.is_in(["created", "failed"]))
            .order_by_desc(payment_order::Column::CreatedAt)
            .one(db)
            .await?
            .ok_or_else(|| {
                rules::state_invalid(
                    c.flow_state.as_deref().and_then(State::parse),
                    c.awaiting_role.as_deref().and_then(Role::parse),
                    &[],
                    "No open payment order: click proceed_to_payment first",
                )
            })?;
        let payment_id = format!("pay_sbx{}", &Uuid::now_v7().simple().to_string()[12..]);
        complete(db, cfg, &order, &payment_id, order.amount_paise, &order.currency.clone(), None).await
    }
}

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

/// The result of a completion attempt.
pub struct Completion {
    pub conversation: Option<conversation::Model>,
    pub payment: Option<payment_order::Model>,
    /// True when this call moved the conversation (or recorded a failure).
    pub changed: bool,
    pub events: Vec<Outbound>,
}

impl Completion {
    fn unchanged() -> Self {
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

async fn seen_event(db: &DatabaseConnection, id: &str) -> AppResult<bool> {
    Ok(webhook_event::Entity::find_by_id(id.to_string()).one(db).await?.is_some())
}

async fn record_event(db: &impl sea_orm::ConnectionTrait, event_id: Option<&str>, kind: &str) -> AppResult<bool> {
    let Some(id) = event_id else { return Ok(true) };
    let inserted = webhook_event::Entity::insert(webhook_event::ActiveModel {
        event_id: Set(id.to_string()),
        event_type: Set(kind.chars().take(64).collect()),
        received_at: Set(clock::now()),
    })
    .on_conflict(OnConflict::column(webhook_event::Column::EventId).do_nothing().to_owned())
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

fn view<'a>(c: &'a conversation::Model, cfg: &FlowConfig, now: &'a str) -> AppResult<View<'a>> {
    Ok(View {
        kind: if c.conversation_type == conversations::BID { Kind::Bid } else { Kind::Campaign },
        state: c
            .flow_state
            .as_deref()
            .and_then(State::parse)
            .ok_or_else(|| AppError::internal(anyhow::anyhow!("payment order for a conversation without a flow")))?,
        data: &c.flow_data,
        revision_count: c.revision_count,
        max_revisions: c.max_revisions,
        commission_bps: cfg.commission_bps,
        now,
    })
}

/// The one completion of an order, whichever path reports the capture:
/// checks amount and currency, marks the order paid once, and moves the
/// conversation `payment_pending` → `payment_completed` once. Repeats are
/// successes that change nothing.
pub async fn complete(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    order: &payment_order::Model,
    payment_id: &str,
    amount: i64,
    currency: &str,
    event: Option<(&str, &str)>,
) -> AppResult<Completion> {
    if amount != order.amount_paise || !currency.eq_ignore_ascii_case(&order.currency) {
        tracing::warn!(order_id = %order.gateway_order_id, amount, currency, expected = order.amount_paise, "captured amount differs from the order");
        return Err(AppError::new(
            ErrorCode::PaymentAmountMismatch,
            "The captured amount or currency differs from the order",
        )
        .with_details(json!({
            "expected_amount_paise": order.amount_paise,
            "expected_currency": order.currency,
            "captured_amount_paise": amount,
            "captured_currency": currency,
        })));
    }
    // A concurrent flow action (a second proceed click) may move the
    // version; the completion then simply tries again.
    for _ in 0..5 {
        let c = conversations::load(db, ConversationId(order.conversation_id)).await?;
        let now_text = clock::rfc3339(&clock::now());
        let now = clock::now();
        let txn = db.begin().await?;
        if let Some((id, kind)) = event
            && !record_event(&txn, Some(id), kind).await?
        {
            txn.rollback().await?;
            return Ok(Completion::unchanged());
        }
        let paid = payment_order::Entity::update_many()
            .set(payment_order::ActiveModel {
                status: Set("paid".into()),
                payment_id: Set(Some(payment_id.to_string())),
                paid_at: Set(Some(now)),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(payment_order::Column::Id.eq(order.id))
            .filter(payment_order::Column::Status.ne("paid"))
            .exec(&txn)
            .await?;
        if paid.rows_affected == 0 {
            // Already completed by the other path: record the event, change nothing.
            txn.commit().await?;
            return Ok(Completion::unchanged());
        }
        let v = view(&c, cfg, &now_text)?;
        if v.state != State::PaymentPending {
            txn.rollback().await?;
            tracing::warn!(conversation_id = %c.id, state = %v.state, "capture for a conversation that is not awaiting payment");
            return Err(rules::state_invalid(
                Some(v.state),
                v.state.awaiting(),
                &[],
                "The conversation is not awaiting payment",
            ));
        }
        let mut paid_order = order.clone();
        paid_order.status = "paid".into();
        paid_order.payment_id = Some(payment_id.to_string());
        paid_order.paid_at = Some(now);
        let t = rules::payment_captured(&v, payment_json(&paid_order))?;
        match engine::write(&txn, cfg, &c, &t, &cfg.system_user_id).await {
            Ok((after, written)) => {
                txn.commit().await?;
                let mut events = engine::publishable(db, &c, &after, &t, &written, &cfg.system_user_id, None).await?;
                for user in [&after.user1_id, &after.user2_id] {
                    events.push(events::notification(
                        user,
                        "payment_completed",
                        json!({ "conversation_id": after.id, "payment": payment_json(&paid_order), "flow_state": after.flow_state }),
                    ));
                }
                return Ok(Completion { conversation: Some(after), payment: Some(paid_order), changed: true, events });
            }
            Err(engine::WriteError::Stale) => {
                txn.rollback().await?;
                continue;
            }
            Err(engine::WriteError::Other(e)) => return Err(e),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("payment completion kept conflicting with flow actions")))
}

/// Records a failed payment attempt and gives the brand owner a card to retry;
/// the conversation stays in `payment_pending`.
async fn fail(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    order: &payment_order::Model,
    reason: &str,
    event: Option<(&str, &str)>,
) -> AppResult<Completion> {
    for _ in 0..5 {
        let c = conversations::load(db, ConversationId(order.conversation_id)).await?;
        let now_text = clock::rfc3339(&clock::now());
        let now = clock::now();
        let txn = db.begin().await?;
        if let Some((id, kind)) = event
            && !record_event(&txn, Some(id), kind).await?
        {
            txn.rollback().await?;
            return Ok(Completion::unchanged());
        }
        let marked = payment_order::Entity::update_many()
            .set(payment_order::ActiveModel {
                status: Set("failed".into()),
                failure_reason: Set(Some(reason.chars().take(500).collect())),
                updated_at: Set(now),
                ..Default::default()
            })
            .filter(payment_order::Column::Id.eq(order.id))
            .filter(payment_order::Column::Status.ne("paid"))
            .exec(&txn)
            .await?;
        let v = view(&c, cfg, &now_text)?;
        if marked.rows_affected == 0 || v.state != State::PaymentPending {
            // Paid already, or no longer awaiting payment: nothing to retry.
            txn.commit().await?;
            return Ok(Completion::unchanged());
        }
        let mut data = c.flow_data.clone();
        data["payment"]["status"] = json!("failed");
        data["payment"]["failure_reason"] = json!(reason);
        let card_view = View { data: &data, ..v.clone() };
        let mut card = cards::card(&card_view);
        if let Some(card) = card.as_mut() {
            card["title"] = json!("Payment failed");
            card["subtitle"] = json!(format!("{reason}. Try again."));
        }
        let t = Transition {
            action: super::flow::Action::ProceedToPayment,
            from: State::PaymentPending,
            via: None,
            to: State::PaymentPending,
            data,
            revision_count: c.revision_count,
            drafts: vec![Draft::Notice {
                to: Role::BrandOwner,
                text: format!("The payment did not go through: {reason}. You can try again."),
                action_data: card.clone(),
            }],
            current_card: card,
        };
        match engine::write(&txn, cfg, &c, &t, &cfg.system_user_id).await {
            Ok((after, written)) => {
                txn.commit().await?;
                let mut failed = order.clone();
                failed.status = "failed".into();
                failed.failure_reason = Some(reason.to_string());
                let mut events: Vec<Outbound> = written.iter().map(|m| events::new_message(&after, m)).collect();
                events.push(events::notification(
                    &after.user1_id,
                    "payment_failed",
                    json!({ "conversation_id": after.id, "payment": payment_json(&failed), "reason": reason }),
                ));
                events.extend(messages::unread_update(db, &after.user1_id, after.id).await);
                return Ok(Completion { conversation: Some(after), payment: Some(failed), changed: true, events });
            }
            Err(engine::WriteError::Stale) => {
                txn.rollback().await?;
                continue;
            }
            Err(engine::WriteError::Other(e)) => return Err(e),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("payment failure kept conflicting with flow actions")))
}

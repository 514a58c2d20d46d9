//! The one completion of an order, and the record of a failed attempt.

use super::*;

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
    settle(db, cfg, order, Settlement::Paid { payment_id }, event).await
}

/// Records a failed payment attempt and gives the brand owner a card to retry;
/// the conversation stays in `payment_pending`.
pub(super) async fn fail(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    order: &payment_order::Model,
    reason: &str,
    event: Option<(&str, &str)>,
) -> AppResult<Completion> {
    settle(db, cfg, order, Settlement::Failed { reason }, event).await
}

/// What the gateway reported about an order.
#[derive(Clone, Copy)]
enum Settlement<'a> {
    Paid { payment_id: &'a str },
    Failed { reason: &'a str },
}

impl Settlement<'_> {
    /// The order as it becomes, and the columns that change.
    fn apply(
        self,
        order: &payment_order::Model,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (payment_order::Model, payment_order::ActiveModel) {
        let mut after = order.clone();
        after.updated_at = now;
        let mut set = payment_order::ActiveModel { updated_at: Set(now), ..Default::default() };
        match self {
            Settlement::Paid { payment_id } => {
                after.status = PaymentStatus::Paid.as_str().into();
                after.payment_id = Some(payment_id.to_string());
                after.paid_at = Some(now);
                set.status = Set(after.status.clone());
                set.payment_id = Set(after.payment_id.clone());
                set.paid_at = Set(Some(now));
            }
            Settlement::Failed { reason } => {
                after.status = PaymentStatus::Failed.as_str().into();
                after.failure_reason = Some(reason.chars().take(500).collect());
                set.status = Set(after.status.clone());
                set.failure_reason = Set(after.failure_reason.clone());
            }
        }
        (after, set)
    }

    /// A capture moves the flow on; a failure leaves it waiting with a retry card.
    fn transition(self, v: &rules::View, order: &payment_order::Model) -> AppResult<Transition> {
        match self {
            Settlement::Paid { .. } => rules::payment_captured(v, payment_json(order)),
            Settlement::Failed { reason } => rules::payment_failed(v, reason),
        }
    }

    /// What a settlement adds to the flow's own effects: the parties'
    /// notifications and the `payment.*` webhook.
    fn extra(
        self,
        cfg: &FlowConfig,
        c: &conversation::Model,
        t: &Transition,
        order: &payment_order::Model,
    ) -> AppResult<Extra> {
        let payment = payment_json(order);
        let amount = Paise(order.amount_paise);
        let now = order.updated_at;
        Ok(match self {
            Settlement::Paid { .. } => {
                let data = json!({ "conversation_id": c.id, "payment": payment, "flow_state": t.to.as_str() });
                Extra {
                    notifications: [&c.user1_id, &c.user2_id]
                        .into_iter()
                        .map(|user| {
                            Draft::new(
                                user,
                                PAYMENT_COMPLETED,
                                "Payment received",
                                &format!("{amount} paid"),
                                data.clone(),
                            )
                        })
                        .collect(),
                    webhooks: outbox::event(&cfg.webhooks, outbox::PAYMENT_COMPLETED, &data, now)?
                        .into_iter()
                        .collect(),
                }
            }
            Settlement::Failed { .. } => {
                let reason = t.data["payment"]["failure_reason"].clone();
                let data = json!({ "conversation_id": c.id, "payment": payment, "reason": reason });
                let body = reason.as_str().unwrap_or("The payment did not go through").to_string();
                Extra {
                    notifications: vec![Draft::new(&c.user1_id, PAYMENT_FAILED, "Payment failed", &body, data.clone())],
                    webhooks: outbox::event(&cfg.webhooks, outbox::PAYMENT_FAILED, &data, now)?.into_iter().collect(),
                }
            }
        })
    }
}

/// Applies a settlement in one transaction: the webhook event recorded
/// once, the order updated unless already paid, the conversation moved only
/// from `payment_pending` and only at the version read (a concurrent flow
/// action, such as a second proceed click, makes it try again).
async fn settle(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    order: &payment_order::Model,
    settlement: Settlement<'_>,
    event: Option<(&str, &str)>,
) -> AppResult<Completion> {
    for _ in 0..5 {
        if let Some(done) = settle_once(db, cfg, order, settlement, event).await? {
            return Ok(done);
        }
    }
    Err(AppError::internal(anyhow::anyhow!("settling the payment kept conflicting with flow actions")))
}

/// One attempt; none when a concurrent flow action moved the conversation
/// and it must be read again.
async fn settle_once(
    db: &DatabaseConnection,
    cfg: &FlowConfig,
    order: &payment_order::Model,
    settlement: Settlement<'_>,
    event: Option<(&str, &str)>,
) -> AppResult<Option<Completion>> {
    let c = conversations::load(db, ConversationId(order.conversation_id)).await?;
    let now = cfg.clock.now();
    let times = engine::Times::at(cfg, now);
    let txn = crate::db::begin_write(db).await?;
    if let Some((id, kind)) = event
        && !record_event(&txn, Some(id), kind, now).await?
    {
        txn.rollback().await?;
        return Ok(Some(Completion::unchanged()));
    }
    let (settled, set) = settlement.apply(order, now);
    let updated = payment_order::Entity::update_many()
        .set(set)
        .filter(payment_order::Column::Id.eq(order.id))
        .filter(payment_order::Column::Status.ne(PaymentStatus::Paid.as_str()))
        .exec(&txn)
        .await?;
    let v = engine::view(&c, cfg, &times)?;
    if updated.rows_affected == 0 {
        // Already paid (by the other path, or an earlier delivery): record the event, change nothing.
        txn.commit().await?;
        return Ok(Some(Completion::unchanged()));
    }
    if v.state != State::PaymentPending {
        if let Settlement::Failed { .. } = settlement {
            txn.commit().await?;
            return Ok(Some(Completion::unchanged()));
        }
        txn.rollback().await?;
        tracing::warn!(conversation_id = %c.id, state = %v.state, "capture for a conversation that is not awaiting payment");
        return Err(rules::state_invalid(
            Some(v.state),
            v.state.awaiting(),
            &[],
            "The conversation is not awaiting payment",
        ));
    }
    let t = settlement.transition(&v, &settled)?;
    let extra = settlement.extra(cfg, &c, &t, &settled)?;
    match write::write(&txn, cfg, &c, &t, &cfg.system_user_id, extra).await {
        Ok(done) => {
            txn.commit().await?;
            let events = crate::domain::flow::publish::publishable(
                db,
                &done.conversation,
                &t,
                &done.messages,
                &done.notified,
                None,
            )
            .await?;
            Ok(Some(Completion {
                conversation: Some(done.conversation),
                payment: Some(settled),
                changed: true,
                events,
            }))
        }
        Err(write::WriteError::Stale) => {
            txn.rollback().await?;
            Ok(None)
        }
        Err(write::WriteError::Other(e)) => Err(e),
    }
}

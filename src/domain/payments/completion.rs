//! The one completion of an order, and the record of a failed attempt.

use super::*;

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
                after.status = "paid".into();
                after.payment_id = Some(payment_id.to_string());
                after.paid_at = Some(now);
                set.status = Set("paid".into());
                set.payment_id = Set(Some(payment_id.to_string()));
                set.paid_at = Set(Some(now));
            }
            Settlement::Failed { reason } => {
                after.status = "failed".into();
                after.failure_reason = Some(reason.chars().take(500).collect());
                set.status = Set("failed".into());
                set.failure_reason = Set(after.failure_reason.clone());
            }
        }
        (after, set)
    }

    /// A capture moves the flow on; a failure leaves it waiting with a retry card.
    fn transition(self, v: &View, c: &conversation::Model, order: &payment_order::Model) -> AppResult<Transition> {
        match self {
            Settlement::Paid { .. } => rules::payment_captured(v, payment_json(order)),
            Settlement::Failed { reason } => {
                let mut data = c.flow_data.clone();
                data["payment"]["status"] = json!("failed");
                data["payment"]["failure_reason"] = json!(reason);
                let mut card = cards::card(&View { data: &data, ..v.clone() });
                if let Some(card) = card.as_mut() {
                    card["title"] = json!("Payment failed");
                    card["subtitle"] = json!(format!("{reason}. Try again."));
                }
                Ok(Transition {
                    action: crate::domain::flow::Action::ProceedToPayment,
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
                })
            }
        }
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
        let c = conversations::load(db, ConversationId(order.conversation_id)).await?;
        let now = clock::now();
        let now_text = clock::rfc3339(&now);
        let txn = crate::db::begin_write(db).await?;
        if let Some((id, kind)) = event
            && !record_event(&txn, Some(id), kind).await?
        {
            txn.rollback().await?;
            return Ok(Completion::unchanged());
        }
        let (settled, set) = settlement.apply(order, now);
        let updated = payment_order::Entity::update_many()
            .set(set)
            .filter(payment_order::Column::Id.eq(order.id))
            .filter(payment_order::Column::Status.ne("paid"))
            .exec(&txn)
            .await?;
        let v = view(&c, cfg, &now_text)?;
        if updated.rows_affected == 0 {
            // Already paid (by the other path, or an earlier delivery): record the event, change nothing.
            txn.commit().await?;
            return Ok(Completion::unchanged());
        }
        if v.state != State::PaymentPending {
            if let Settlement::Failed { .. } = settlement {
                txn.commit().await?;
                return Ok(Completion::unchanged());
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
        let t = settlement.transition(&v, &c, &settled)?;
        match engine::write(&txn, cfg, &c, &t, &cfg.system_user_id).await {
            Ok((after, written)) => {
                txn.commit().await?;
                let mut events =
                    crate::domain::flow::publish::publishable(db, &c, &after, &t, &written, &cfg.system_user_id, None)
                        .await?;
                match settlement {
                    Settlement::Paid { .. } => {
                        for user in [&after.user1_id, &after.user2_id] {
                            events.push(events::notification(
                                user,
                                "payment_completed",
                                json!({ "conversation_id": after.id, "payment": payment_json(&settled), "flow_state": after.flow_state }),
                            ));
                        }
                    }
                    Settlement::Failed { reason } => events.push(events::notification(
                        &after.user1_id,
                        "payment_failed",
                        json!({ "conversation_id": after.id, "payment": payment_json(&settled), "reason": reason }),
                    )),
                }
                return Ok(Completion { conversation: Some(after), payment: Some(settled), changed: true, events });
            }
            Err(engine::WriteError::Stale) => {
                txn.rollback().await?;
                continue;
            }
            Err(engine::WriteError::Other(e)) => return Err(e),
        }
    }
    Err(AppError::internal(anyhow::anyhow!("settling the payment kept conflicting with flow actions")))
}

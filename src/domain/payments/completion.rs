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
                let mut events =
                    crate::domain::flow::publish::publishable(db, &c, &after, &t, &written, &cfg.system_user_id, None)
                        .await?;
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
pub(super) async fn fail(
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

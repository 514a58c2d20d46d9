//! Opening (or reusing) the gateway order for a conversation's agreed price.

use super::*;

impl Payments {
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
            data: json!({ "payment": { "order_id": order.gateway_order_id, "amount": amount.rupees_json(), "amount_paise": amount.0, "currency": order.currency, "status": PaymentStatus::Created.as_str() } }),
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
            .filter(payment_order::Column::Status.is_in(
                [PaymentStatus::Creating, PaymentStatus::Created, PaymentStatus::Failed].map(PaymentStatus::as_str),
            ))
            .order_by_desc(payment_order::Column::CreatedAt)
            .all(db)
            .await?;
        let now = self.clock.now();
        let fresh = |o: &payment_order::Model| now - o.created_at < chrono::Duration::seconds(RESERVATION_SECS);
        if rows.iter().any(|o| o.status == PaymentStatus::Creating && fresh(o)) {
            return Err(rules::state_invalid(
                Some(State::PaymentPending),
                Some(Party::BrandOwner),
                &[],
                "A payment order is already being prepared for this conversation",
            ));
        }
        Ok(rows.into_iter().find(|o| o.status != PaymentStatus::Creating))
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
        let now = self.clock.now();
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
            status: PaymentStatus::Creating.as_str().into(),
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
                Some(Party::BrandOwner),
                &[],
                "A payment order is already being prepared for this conversation",
            ));
        }
        // A concurrent click may have finished its order between our look
        // and our reservation: use that order rather than open a second.
        let finished = payment_order::Entity::find()
            .filter(payment_order::Column::ConversationId.eq(c.id))
            .filter(payment_order::Column::AmountPaise.eq(amount.0))
            .filter(
                payment_order::Column::Status.is_in([PaymentStatus::Created.as_str(), PaymentStatus::Failed.as_str()]),
            )
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
        row.status = PaymentStatus::Created.as_str().into();
        row.updated_at = self.clock.now();
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
}

//! What each party's action does to the flow data.

use serde_json::{Map, Value, json};

use super::*;

/// What one action does to the flow data: where it leads and what its
/// actor's audit message says.
struct Step {
    to: State,
    audit: String,
    through: Option<State>,
    revision_count: i32,
}

impl Step {
    fn to(to: State, audit: impl Into<String>, view: &View) -> Self {
        Self { to, audit: audit.into(), through: None, revision_count: view.revision_count }
    }
}

pub(super) fn apply(view: &View, actor: Party, action: Action, input: &Map<String, Value>) -> AppResult<Transition> {
    use Action::*;
    let mut data = obj(view.data);
    let step = match action {
        AcceptConnection | SendProjectDetails | AcceptProject => agreement(view, action, input, &mut data)?,
        SendPriceOffer | AcceptPrice | NegotiatePrice | SendCounterOffer | AcceptCounterOffer | RejectCounterOffer
        | MakeFinalOffer | AcceptFinalOffer => pricing(view, actor, action, input, &mut data)?,
        ProceedToPayment | StartWork | SubmitWork | ApproveWork | RequestRevision => {
            work(view, action, input, &mut data)?
        }
        RejectConnection | RejectProject | RejectPrice | RejectFinalOffer | CloseChat | Cancel => {
            closing(view, actor, action, input, &mut data)?
        }
    };
    let data = Value::Object(data);
    let card_view = View { state: step.to, data: &data, revision_count: step.revision_count, ..view.clone() };
    let mut drafts = vec![Draft::Audit { text: step.audit }];
    let current_card =
        if action == ProceedToPayment { Some(cards::payment_card(&card_view)) } else { cards::card(&card_view) };
    drafts.extend(cards::messages_after(&card_view, actor, action, current_card.clone()));
    Ok(Transition {
        cause: Cause::Action(action),
        from: view.state,
        through: step.through,
        to: step.to,
        data,
        revision_count: step.revision_count,
        drafts,
        current_card,
    })
}

/// Connecting and agreeing on the project.
fn agreement(
    view: &View,
    action: Action,
    input: &Map<String, Value>,
    data: &mut Map<String, Value>,
) -> AppResult<Step> {
    let now = view.now;
    Ok(match action {
        Action::AcceptConnection => {
            data.insert("connection".into(), json!({ "accepted_at": now }));
            Step::to(State::BrandOwnerDetails, "You accepted the collaboration request", view)
        }
        Action::SendProjectDetails => {
            let details = validate::required_text("details", text_input(input, "details").as_deref(), 5000)?;
            data.insert("project_details".into(), json!({ "details": details, "sent_at": now }));
            Step::to(State::InfluencerReviewing, "You sent the project details", view)
        }
        _ => {
            data.insert("project_accepted_at".into(), json!(now));
            Step::to(State::BrandOwnerPricing, "You accepted the project", view)
        }
    })
}

/// Offers, counter-offers and agreeing on a price.
fn pricing(
    view: &View,
    actor: Party,
    action: Action,
    input: &Map<String, Value>,
    data: &mut Map<String, Value>,
) -> AppResult<Step> {
    let now = view.now;
    let record = |key: &str, kind: &str, price: Paise, data: &mut Map<String, Value>| {
        data.insert(key.into(), offer(price, actor, now));
        push(
            data,
            "negotiation_history",
            json!({ "type": kind, "amount": price.rupees_json(), "amount_paise": price.0, "by": actor.as_str(), "at": now }),
        );
    };
    Ok(match action {
        Action::SendPriceOffer => {
            let price = match price_input(input) {
                Ok(p) => p,
                // A bid's proposed amount is the pre-filled offer.
                Err(_) if view.kind == SourceKind::Bid && !input.contains_key("price") => {
                    stored_price(view.data, "proposed_amount")
                        .ok_or_else(|| AppError::invalid_field("price", "is required"))?
                }
                Err(e) => return Err(e),
            };
            record("price_offer", "offer", price, data);
            Step::to(State::InfluencerPriceResponse, format!("You offered {price}"), view)
        }
        Action::AcceptPrice => agree(data, "price_offer", now, "You accepted the price of", view)?,
        Action::NegotiatePrice => {
            push(data, "negotiation_history", json!({ "type": "negotiate", "by": actor.as_str(), "at": now }));
            Step::to(State::NegotiationInput, "You asked to negotiate the price", view)
        }
        Action::SendCounterOffer => {
            let price = price_input(input)?;
            record("counter_offer", "counter_offer", price, data);
            Step::to(State::BrandOwnerNegotiation, format!("You proposed {price}"), view)
        }
        Action::AcceptCounterOffer => agree(data, "counter_offer", now, "You accepted the counter-offer of", view)?,
        Action::RejectCounterOffer => {
            // The brand's last offer stands as its final offer.
            let last = stored_price(view.data, "price_offer")
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("no price offer to keep")))?;
            record("final_offer", "counter_rejected", last, data);
            let audit = format!("You rejected the counter-offer; your offer of {last} stands");
            Step::to(State::InfluencerFinalResponse, audit, view)
        }
        Action::MakeFinalOffer => {
            let price = price_input(input)?;
            record("final_offer", "final_offer", price, data);
            Step::to(State::InfluencerFinalResponse, format!("You made a final offer of {price}"), view)
        }
        _ => agree(data, "final_offer", now, "You accepted the final offer of", view)?,
    })
}

/// Paying, working, submitting and reviewing.
fn work(view: &View, action: Action, input: &Map<String, Value>, data: &mut Map<String, Value>) -> AppResult<Step> {
    let now = view.now;
    let text = |field: &str| text_input(input, field);
    Ok(match action {
        Action::ProceedToPayment => {
            let price = stored_price(view.data, "agreed_price")
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("no agreed price")))?;
            Step::to(State::PaymentPending, format!("You started the payment of {price}"), view)
        }
        Action::StartWork => {
            data.insert("work_started_at".into(), json!(now));
            Step::to(State::WorkInProgress, "You started work", view)
        }
        Action::SubmitWork => {
            let deliverables = validate::required_text("deliverables", text("deliverables").as_deref(), 5000)?;
            let description = validate::required_text("description", text("description").as_deref(), 5000)?;
            let notes = validate::optional_text("submission_notes", text("submission_notes").as_deref(), 5000)?;
            let submission = json!({ "deliverables": deliverables, "description": description, "submission_notes": notes, "submitted_at": now });
            push(data, "submissions", submission.clone());
            data.insert("work_submission".into(), submission);
            Step::to(State::WorkSubmitted, "You submitted your work", view)
        }
        Action::ApproveWork => {
            let feedback = validate::optional_text("feedback", text("feedback").as_deref(), 2000)?;
            data.insert("approval".into(), json!({ "feedback": feedback, "approved_at": now }));
            Step { through: Some(State::WorkApproved), ..Step::to(State::RealTime, "You approved the work", view) }
        }
        _ => {
            let feedback = validate::required_text("feedback", text("feedback").as_deref(), 2000)?;
            let revision_count = view.revision_count + 1;
            push(
                data,
                "revision_history",
                json!({ "revision": revision_count, "feedback": feedback, "requested_at": now }),
            );
            data.insert("revision_count".into(), json!(revision_count));
            let audit = format!("You requested a revision ({revision_count} of {})", view.max_revisions);
            Step { revision_count, ..Step::to(State::WorkInProgress, audit, view) }
        }
    })
}

/// Declining, rejecting, cancelling and closing: all end the conversation.
fn closing(
    view: &View,
    actor: Party,
    action: Action,
    input: &Map<String, Value>,
    data: &mut Map<String, Value>,
) -> AppResult<Step> {
    let reason = validate::optional_text("reason", text_input(input, "reason").as_deref(), 1000)?;
    data.insert(
        "closure".into(),
        json!({ "action": action.as_str(), "by": actor.as_str(), "reason": reason, "at": view.now }),
    );
    let price = |key| stored_price(view.data, key).map(|p| p.to_string()).unwrap_or_default();
    let text = match action {
        Action::RejectConnection => "You declined the collaboration request".to_string(),
        Action::RejectProject => "You declined the project".to_string(),
        Action::RejectPrice => format!("You rejected the price of {}", price("price_offer")),
        Action::RejectFinalOffer => format!("You rejected the final offer of {}", price("final_offer")),
        Action::CloseChat => "You closed the conversation".to_string(),
        _ => "You cancelled the collaboration".to_string(),
    };
    let audit = match &reason {
        Some(r) => format!("{text}. Reason: {r}"),
        None => text,
    };
    Ok(Step::to(State::ChatClosed, audit, view))
}

/// Agreeing on the price stored under `key`.
fn agree(data: &mut Map<String, Value>, key: &str, now: &str, audit: &str, view: &View) -> AppResult<Step> {
    let price = data
        .get(key)
        .and_then(|o| o.get("amount_paise"))
        .and_then(Value::as_i64)
        .map(Paise)
        .ok_or_else(|| AppError::internal(anyhow::anyhow!("no {key} to agree on")))?;
    data.insert(
        "agreed_price".into(),
        json!({ "amount": price.rupees_json(), "amount_paise": price.0, "source": key, "at": now }),
    );
    Ok(Step::to(State::PaymentPending, format!("{audit} {price}"), view))
}

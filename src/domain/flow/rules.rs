//! The flow as a pure function: who may do what in each state, and what
//! each action changes. No database, no clock, no I/O: `now` comes in.

use serde_json::{Map, Value, json};

use super::{Action, Kind, Role, State, cards};
use crate::{
    domain::{money::Paise, validate},
    error::{AppError, AppResult, ErrorCode},
};

/// Who an offered action belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Only(Role),
    Either,
}

/// A flow conversation as the rules see it.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub kind: Kind,
    pub state: State,
    pub data: &'a Value,
    pub revision_count: i32,
    pub max_revisions: i32,
    pub commission_bps: u32,
    /// RFC 3339 time of the action, written into flow data.
    pub now: &'a str,
}

/// Who a message is written for.
#[derive(Clone, Debug, PartialEq)]
pub enum Draft {
    /// Confirms the action to its actor alone.
    Audit { text: String },
    /// A card (or note) from the actor to `to`.
    Card { to: Role, text: String, action_data: Option<Value> },
    /// A notice from no one (the system user) to `to`, visible to both.
    Notice { to: Role, text: String, action_data: Option<Value> },
}

#[derive(Clone, Debug)]
pub struct Transition {
    pub action: Action,
    pub from: State,
    /// A state passed through on the way (`work_approved`).
    pub via: Option<State>,
    pub to: State,
    pub data: Value,
    pub revision_count: i32,
    pub drafts: Vec<Draft>,
    /// The card the awaited role now sees (`current_action_data`).
    pub current_card: Option<Value>,
}

/// The actions `state` offers, and to whom.
pub fn offered(state: State, revision_count: i32, max_revisions: i32) -> Vec<(Action, By)> {
    use Action::*;
    use Role::*;
    let only = |r: Role, actions: &[Action]| actions.iter().map(|a| (*a, By::Only(r))).collect::<Vec<_>>();
    let mut out = match state {
        State::InfluencerResponding => only(Influencer, &[AcceptConnection, RejectConnection]),
        State::BrandOwnerDetails => only(BrandOwner, &[SendProjectDetails]),
        State::InfluencerReviewing => only(Influencer, &[AcceptProject, RejectProject]),
        State::BrandOwnerPricing => only(BrandOwner, &[SendPriceOffer]),
        State::InfluencerPriceResponse => only(Influencer, &[AcceptPrice, NegotiatePrice, RejectPrice]),
        State::NegotiationInput => only(Influencer, &[SendCounterOffer]),
        State::BrandOwnerNegotiation => only(BrandOwner, &[AcceptCounterOffer, RejectCounterOffer, MakeFinalOffer]),
        State::InfluencerFinalResponse => only(Influencer, &[AcceptFinalOffer, RejectFinalOffer]),
        State::PaymentPending => only(BrandOwner, &[ProceedToPayment]),
        State::PaymentCompleted => only(Influencer, &[StartWork]),
        State::WorkInProgress => only(Influencer, &[SubmitWork]),
        State::WorkSubmitted if revision_count < max_revisions => only(BrandOwner, &[ApproveWork, RequestRevision]),
        State::WorkSubmitted => only(BrandOwner, &[ApproveWork]),
        State::RealTime => vec![(CloseChat, By::Either)],
        State::WorkApproved | State::ChatClosed => vec![],
    };
    if state.before_payment() {
        out.push((Cancel, By::Either));
    }
    out
}

/// What `role` may do now.
pub fn available(state: State, role: Role, revision_count: i32, max_revisions: i32) -> Vec<Action> {
    offered(state, revision_count, max_revisions)
        .into_iter()
        .filter(|(_, by)| matches!(by, By::Either) || *by == By::Only(role))
        .map(|(a, _)| a)
        .collect()
}

pub fn state_invalid(state: Option<State>, awaiting: Option<Role>, allowed: &[Action], why: &str) -> AppError {
    AppError::new(ErrorCode::FlowStateInvalid, why.to_string()).with_details(json!({
        "current_state": state.map(State::as_str),
        "awaiting_role": awaiting.map(Role::as_str),
        "allowed_actions": allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
    }))
}

/// Decides an action by `actor`: the transition it makes, or why not.
pub fn decide(view: &View, actor: Role, action: Action, input: &Map<String, Value>) -> AppResult<Transition> {
    if view.state == State::ChatClosed {
        return Err(crate::domain::messages::closed());
    }
    let offered = offered(view.state, view.revision_count, view.max_revisions);
    let mine = available(view.state, actor, view.revision_count, view.max_revisions);
    match offered.iter().find(|(a, _)| *a == action) {
        None => {
            let why = if action == Action::RequestRevision && view.state == State::WorkSubmitted {
                format!("All {} revisions have been used; only approve_work remains", view.max_revisions)
            } else {
                format!("{action} is not possible while the conversation is in {}", view.state)
            };
            return Err(state_invalid(Some(view.state), view.state.awaiting(), &mine, &why));
        }
        Some((_, By::Only(role))) if *role != actor => {
            return Err(AppError::new(
                ErrorCode::NotYourTurn,
                format!("It is {}'s turn: waiting for {}", role.label(), role.as_str()),
            )
            .with_details(json!({ "awaiting_role": role.as_str() })));
        }
        Some(_) => {}
    }
    apply(view, actor, action, input)
}

fn obj(data: &Value) -> Map<String, Value> {
    data.as_object().cloned().unwrap_or_default()
}

fn offer(price: Paise, by: Role, at: &str) -> Value {
    json!({ "amount": price.rupees_json(), "amount_paise": price.0, "by": by.as_str(), "at": at })
}

/// The price in an offer stored in flow data.
pub fn stored_price(data: &Value, key: &str) -> Option<Paise> {
    data.get(key)?.get("amount_paise")?.as_i64().map(Paise)
}

fn price_input(input: &Map<String, Value>) -> AppResult<Paise> {
    match input.get("price").or_else(|| input.get("amount")) {
        Some(v) => Paise::parse("price", v),
        None => Err(AppError::invalid_field("price", "is required")),
    }
}

fn text_input(input: &Map<String, Value>, field: &str) -> Option<String> {
    match input.get(field) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

fn push(data: &mut Map<String, Value>, key: &str, entry: Value) {
    match data.get_mut(key).and_then(Value::as_array_mut) {
        Some(list) => list.push(entry),
        None => {
            data.insert(key.to_string(), json!([entry]));
        }
    }
}

fn apply(view: &View, actor: Role, action: Action, input: &Map<String, Value>) -> AppResult<Transition> {
    use Action::*;
    let now = view.now;
    let mut data = obj(view.data);
    let mut revision_count = view.revision_count;
    let mut audit_extra: Option<String> = None;
    let mut via = None;

    let (to, audit) = match action {
        AcceptConnection => {
            data.insert("connection".into(), json!({ "accepted_at": now }));
            (State::BrandOwnerDetails, "You accepted the collaboration request".to_string())
        }
        SendProjectDetails => {
            let details = validate::required_text("details", text_input(input, "details").as_deref(), 5000)?;
            data.insert("project_details".into(), json!({ "details": details, "sent_at": now }));
            (State::InfluencerReviewing, "You sent the project details".to_string())
        }
        AcceptProject => {
            data.insert("project_accepted_at".into(), json!(now));
            (State::BrandOwnerPricing, "You accepted the project".to_string())
        }
        SendPriceOffer => {
            let price = match price_input(input) {
                Ok(p) => p,
                // A bid's proposed amount is the pre-filled offer.
                Err(_) if view.kind == Kind::Bid && !input.contains_key("price") => {
                    stored_price(view.data, "proposed_amount")
                        .ok_or_else(|| AppError::invalid_field("price", "is required"))?
                }
                Err(e) => return Err(e),
            };
            data.insert("price_offer".into(), offer(price, actor, now));
            push(
                &mut data,
                "negotiation_history",
                json!({ "type": "offer", "amount": price.rupees_json(), "amount_paise": price.0, "by": actor.as_str(), "at": now }),
            );
            (State::InfluencerPriceResponse, format!("You offered {price}"))
        }
        AcceptPrice => agree(&mut data, "price_offer", now, "You accepted the price of")?,
        NegotiatePrice => {
            push(&mut data, "negotiation_history", json!({ "type": "negotiate", "by": actor.as_str(), "at": now }));
            (State::NegotiationInput, "You asked to negotiate the price".to_string())
        }
        SendCounterOffer => {
            let price = price_input(input)?;
            data.insert("counter_offer".into(), offer(price, actor, now));
            push(
                &mut data,
                "negotiation_history",
                json!({ "type": "counter_offer", "amount": price.rupees_json(), "amount_paise": price.0, "by": actor.as_str(), "at": now }),
            );
            (State::BrandOwnerNegotiation, format!("You proposed {price}"))
        }
        AcceptCounterOffer => agree(&mut data, "counter_offer", now, "You accepted the counter-offer of")?,
        RejectCounterOffer => {
            // The brand's last offer stands as its final offer.
            let last = stored_price(view.data, "price_offer")
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("no price offer to keep")))?;
            data.insert("final_offer".into(), offer(last, actor, now));
            push(
                &mut data,
                "negotiation_history",
                json!({ "type": "counter_rejected", "amount": last.rupees_json(), "amount_paise": last.0, "by": actor.as_str(), "at": now }),
            );
            (State::InfluencerFinalResponse, format!("You rejected the counter-offer; your offer of {last} stands"))
        }
        MakeFinalOffer => {
            let price = price_input(input)?;
            data.insert("final_offer".into(), offer(price, actor, now));
            push(
                &mut data,
                "negotiation_history",
                json!({ "type": "final_offer", "amount": price.rupees_json(), "amount_paise": price.0, "by": actor.as_str(), "at": now }),
            );
            (State::InfluencerFinalResponse, format!("You made a final offer of {price}"))
        }
        AcceptFinalOffer => agree(&mut data, "final_offer", now, "You accepted the final offer of")?,
        ProceedToPayment => {
            let price = stored_price(view.data, "agreed_price")
                .ok_or_else(|| AppError::internal(anyhow::anyhow!("no agreed price")))?;
            (State::PaymentPending, format!("You started the payment of {price}"))
        }
        StartWork => {
            data.insert("work_started_at".into(), json!(now));
            (State::WorkInProgress, "You started work".to_string())
        }
        SubmitWork => {
            let deliverables =
                validate::required_text("deliverables", text_input(input, "deliverables").as_deref(), 5000)?;
            let description =
                validate::required_text("description", text_input(input, "description").as_deref(), 5000)?;
            let notes =
                validate::optional_text("submission_notes", text_input(input, "submission_notes").as_deref(), 5000)?;
            let submission = json!({ "deliverables": deliverables, "description": description, "submission_notes": notes, "submitted_at": now });
            push(&mut data, "submissions", submission.clone());
            data.insert("work_submission".into(), submission);
            (State::WorkSubmitted, "You submitted your work".to_string())
        }
        ApproveWork => {
            let feedback = validate::optional_text("feedback", text_input(input, "feedback").as_deref(), 2000)?;
            data.insert("approval".into(), json!({ "feedback": feedback, "approved_at": now }));
            via = Some(State::WorkApproved);
            (State::RealTime, "You approved the work".to_string())
        }
        RequestRevision => {
            let feedback = validate::required_text("feedback", text_input(input, "feedback").as_deref(), 2000)?;
            revision_count += 1;
            push(
                &mut data,
                "revision_history",
                json!({ "revision": revision_count, "feedback": feedback, "requested_at": now }),
            );
            data.insert("revision_count".into(), json!(revision_count));
            (State::WorkInProgress, format!("You requested a revision ({revision_count} of {})", view.max_revisions))
        }
        RejectConnection | RejectProject | RejectPrice | RejectFinalOffer | CloseChat | Cancel => {
            let reason = validate::optional_text("reason", text_input(input, "reason").as_deref(), 1000)?;
            data.insert(
                "closure".into(),
                json!({ "action": action.as_str(), "by": actor.as_str(), "reason": reason, "at": now }),
            );
            let price = |key| stored_price(view.data, key).map(|p| p.to_string()).unwrap_or_default();
            let text = match action {
                RejectConnection => "You declined the collaboration request".to_string(),
                RejectProject => "You declined the project".to_string(),
                RejectPrice => format!("You rejected the price of {}", price("price_offer")),
                RejectFinalOffer => format!("You rejected the final offer of {}", price("final_offer")),
                CloseChat => "You closed the conversation".to_string(),
                _ => "You cancelled the collaboration".to_string(),
            };
            if let Some(r) = &reason {
                audit_extra = Some(format!("Reason: {r}"));
            }
            (State::ChatClosed, text)
        }
    };

    let audit = match audit_extra {
        Some(extra) => format!("{audit}. {extra}"),
        None => audit,
    };
    let data = Value::Object(data);
    let card_view = View { state: to, data: &data, revision_count, ..view.clone() };
    let mut drafts = vec![Draft::Audit { text: audit }];
    let current_card =
        if action == ProceedToPayment { Some(cards::payment_card(&card_view)) } else { cards::card(&card_view) };
    drafts.extend(cards::messages_after(&card_view, actor, action, current_card.clone()));
    Ok(Transition { action, from: view.state, via, to, data, revision_count, drafts, current_card })
}

/// Agreeing on the price stored under `key`.
fn agree(data: &mut Map<String, Value>, key: &str, now: &str, audit: &str) -> AppResult<(State, String)> {
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
    Ok((State::PaymentPending, format!("{audit} {price}")))
}

/// The transition a captured payment makes: `payment_pending` →
/// `payment_completed`, with a notice from the system and the start-work card.
pub fn payment_captured(view: &View, payment: Value) -> AppResult<Transition> {
    if view.state != State::PaymentPending {
        return Err(state_invalid(Some(view.state), view.state.awaiting(), &[], "Payment is not pending"));
    }
    let mut data = obj(view.data);
    data.insert("payment".into(), payment);
    let data = Value::Object(data);
    let to = State::PaymentCompleted;
    let card_view = View { state: to, data: &data, ..view.clone() };
    let current_card = cards::card(&card_view);
    let price = stored_price(&data, "agreed_price").map(|p| p.to_string()).unwrap_or_default();
    Ok(Transition {
        action: Action::ProceedToPayment,
        from: view.state,
        via: None,
        to,
        revision_count: view.revision_count,
        drafts: vec![Draft::Notice {
            to: Role::Influencer,
            text: format!("Payment of {price} received. The creator can start work."),
            action_data: current_card.clone(),
        }],
        current_card,
        data,
    })
}

#[cfg(test)]
mod tests;

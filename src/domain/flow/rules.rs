//! The flow as a pure function: who may do what in each state, and what
//! each action changes. No database, no clock, no I/O: `now` comes in.

use serde_json::{Map, Value, json};

use super::{Action, Party, SourceKind, State, cards};
use crate::{
    domain::{money::Paise, validate},
    error::{AppError, AppResult, ErrorCode},
};

/// Who an offered action belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Only(Party),
    Either,
}

/// A flow conversation as the rules see it.
#[derive(Clone, Debug)]
pub struct View<'a> {
    pub kind: SourceKind,
    pub state: State,
    pub data: &'a Value,
    pub revision_count: i32,
    pub max_revisions: i32,
    pub commission_bps: u32,
    /// RFC 3339 time of the action, written into flow data.
    pub now: &'a str,
    /// When an offer made now would expire (shown on the cards that answer one).
    pub offer_deadline: Option<&'a str>,
}

/// Who a message is written for.
#[derive(Clone, Debug, PartialEq)]
pub enum Draft {
    /// Confirms the action to its actor alone.
    Audit { text: String },
    /// A card (or note) from the actor to `to`.
    Card { to: Party, text: String, action_data: Option<Value> },
    /// A notice from no one (the system user) to `to`, visible to both.
    Notice { to: Party, text: String, action_data: Option<Value> },
}

/// What moved a flow conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A party's action.
    Action(Action),
    /// The conversation was opened with its invitation card.
    Opened,
    /// The gateway reported the payment captured.
    PaymentCaptured,
    /// The gateway reported a failed payment attempt.
    PaymentFailed,
    /// An offer waited too long for its answer.
    OfferExpired,
}

impl Cause {
    /// The `reason` of `conversation_state_changed`.
    pub fn reason(self) -> &'static str {
        match self {
            Cause::Action(a) => a.as_str(),
            Cause::Opened => "opened",
            Cause::PaymentCaptured => "payment_captured",
            Cause::PaymentFailed => "payment_failed",
            Cause::OfferExpired => "offer_expired",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Transition {
    pub cause: Cause,
    pub from: State,
    /// A state passed through on the way (`work_approved`).
    pub through: Option<State>,
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
    use Party::*;
    let only = |r: Party, actions: &[Action]| actions.iter().map(|a| (*a, By::Only(r))).collect::<Vec<_>>();
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
pub fn available(state: State, role: Party, revision_count: i32, max_revisions: i32) -> Vec<Action> {
    offered(state, revision_count, max_revisions)
        .into_iter()
        .filter(|(_, by)| matches!(by, By::Either) || *by == By::Only(role))
        .map(|(a, _)| a)
        .collect()
}

pub fn state_invalid(state: Option<State>, awaiting: Option<Party>, allowed: &[Action], why: &str) -> AppError {
    AppError::new(ErrorCode::FlowStateInvalid, why.to_string()).with_details(json!({
        "current_state": state.map(State::as_str),
        "awaiting_role": awaiting.map(Party::as_str),
        "allowed_actions": allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
    }))
}

/// Decides an action by `actor`: the transition it makes, or why not.
pub fn decide(view: &View, actor: Party, action: Action, input: &Map<String, Value>) -> AppResult<Transition> {
    if view.state == State::ChatClosed {
        return Err(AppError::closed());
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

fn offer(price: Paise, by: Party, at: &str) -> Value {
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

fn apply(view: &View, actor: Party, action: Action, input: &Map<String, Value>) -> AppResult<Transition> {
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

/// A transition no party's action makes (the gateway, the clock): a notice
/// from the system to `told`, carrying the card of the state it leads to.
fn from_the_system(view: &View, cause: Cause, to: State, data: Value, told: Party, text: String) -> Transition {
    let current_card = cards::card(&View { state: to, data: &data, ..view.clone() });
    from_the_system_with(view, cause, to, data, told, text, current_card)
}

fn from_the_system_with(
    view: &View,
    cause: Cause,
    to: State,
    data: Value,
    told: Party,
    text: String,
    current_card: Option<Value>,
) -> Transition {
    Transition {
        cause,
        from: view.state,
        through: None,
        to,
        revision_count: view.revision_count,
        drafts: vec![Draft::Notice { to: told, text, action_data: current_card.clone() }],
        current_card,
        data,
    }
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
    let price = stored_price(&data, "agreed_price").map(|p| p.to_string()).unwrap_or_default();
    let text = format!("Payment of {price} received. The creator can start work.");
    Ok(from_the_system(view, Cause::PaymentCaptured, State::PaymentCompleted, data, Party::Influencer, text))
}

/// The transition a failed payment attempt makes: the state stays
/// `payment_pending`, the failure is recorded, and the brand owner gets a
/// notice with a card to try again. `reason` is the gateway's, bounded.
pub fn payment_failed(view: &View, reason: &str) -> AppResult<Transition> {
    if view.state != State::PaymentPending {
        return Err(state_invalid(Some(view.state), view.state.awaiting(), &[], "Payment is not pending"));
    }
    let reason = bounded_reason(reason);
    let mut data = obj(view.data);
    let payment = data.entry("payment").or_insert_with(|| json!({}));
    if let Some(p) = payment.as_object_mut() {
        p.insert("status".into(), json!("failed"));
        p.insert("failure_reason".into(), json!(reason));
    }
    let data = Value::Object(data);
    let mut card = cards::card(&View { data: &data, ..view.clone() });
    if let Some(card) = card.as_mut() {
        card["title"] = json!("Payment failed");
        card["subtitle"] = json!(format!("{reason}. Try again."));
    }
    let text = format!("The payment did not go through: {reason}. You can try again.");
    Ok(from_the_system_with(view, Cause::PaymentFailed, State::PaymentPending, data, Party::BrandOwner, text, card))
}

/// The offer a state waits on an answer to, by its flow-data key.
pub fn pending_offer(state: State) -> Option<&'static str> {
    match state {
        State::InfluencerPriceResponse => Some("price_offer"),
        State::BrandOwnerNegotiation => Some("counter_offer"),
        State::InfluencerFinalResponse => Some("final_offer"),
        _ => None,
    }
}

/// The transition an offer that waited too long makes: back to
/// `brand_owner_pricing`, the offer kept in `expired_offers`, a notice from
/// the system with the pricing card.
pub fn offer_expired(view: &View) -> AppResult<Transition> {
    let Some(key) = pending_offer(view.state) else {
        return Err(state_invalid(Some(view.state), view.state.awaiting(), &[], "No offer is waiting for an answer"));
    };
    let mut data = obj(view.data);
    let offer = data.get(key).cloned().unwrap_or(Value::Null);
    let price = stored_price(view.data, key).map(|p| p.to_string()).unwrap_or_default();
    let mut expired = offer.clone();
    if let Some(e) = expired.as_object_mut() {
        e.insert("kind".into(), json!(key));
        e.insert("expired_at".into(), json!(view.now));
    }
    push(&mut data, "expired_offers", expired);
    let text = format!("The offer of {price} expired");
    Ok(from_the_system(
        view,
        Cause::OfferExpired,
        State::BrandOwnerPricing,
        Value::Object(data),
        Party::BrandOwner,
        text,
    ))
}

/// A gateway's failure reason is shown in a notice and a card: at most
/// 200 characters of it.
pub const MAX_FAILURE_REASON_CHARS: usize = 200;

fn bounded_reason(reason: &str) -> String {
    let reason = reason.trim();
    let reason = if reason.is_empty() { "The payment failed" } else { reason };
    let mut out: String = reason.chars().take(MAX_FAILURE_REASON_CHARS).collect();
    if reason.chars().count() > MAX_FAILURE_REASON_CHARS {
        out.push('…');
    }
    out
}

/// The first transition of a flow conversation: it starts in
/// `influencer_responding` with the invitation card.
pub fn opened(view: &View) -> Transition {
    let current_card = cards::card(view);
    Transition {
        cause: Cause::Opened,
        from: State::InfluencerResponding,
        through: None,
        to: State::InfluencerResponding,
        data: view.data.clone(),
        revision_count: 0,
        drafts: cards::opening(view),
        current_card,
    }
}

#[cfg(test)]
mod tests;

//! The flow as a pure function: who may do what in each state, and what
//! each action changes. No database, no clock, no I/O: `now` comes in.

use serde_json::{Map, Value, json};

pub use super::view::{Draft, View, pending_offer, stored_price};
use super::{Action, Party, SourceKind, State, cards};

mod steps;
mod system;

use crate::{
    domain::{money::Paise, validate},
    error::{AppError, AppResult, ErrorCode},
};
use steps::apply;
pub use system::{MAX_FAILURE_REASON_CHARS, offer_expired, opened, payment_captured, payment_failed};

/// Who an offered action belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Only(Party),
    Either,
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

#[cfg(test)]
mod tests;

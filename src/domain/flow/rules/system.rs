//! Transitions no party's action makes: the gateway's, the clock's, the opening.

use serde_json::{Value, json};

use super::*;

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

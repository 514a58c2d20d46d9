//! What the messages that carry the cards say, and to whom.

use super::*;

/// What the card message says, for the state a card belongs to.
fn card_text(view: &View, action: Action) -> String {
    let d = view.data;
    match view.state {
        State::InfluencerResponding => opening_text(view),
        State::BrandOwnerDetails => "The creator accepted your request. Share the project details.".into(),
        State::InfluencerReviewing => {
            format!("Project details: {}", d["project_details"]["details"].as_str().unwrap_or_default())
        }
        State::BrandOwnerPricing => "The creator accepted the project. Send your price offer.".into(),
        State::InfluencerPriceResponse => format!("Price offer: {}", money(stored_price(d, "price_offer"))),
        State::NegotiationInput => "Enter your counter-offer.".into(),
        State::BrandOwnerNegotiation => format!("Counter-offer: {}", money(stored_price(d, "counter_offer"))),
        State::InfluencerFinalResponse if action == Action::RejectCounterOffer => {
            format!("The brand keeps its offer of {} as final.", money(stored_price(d, "final_offer")))
        }
        State::InfluencerFinalResponse => format!("Final offer: {}", money(stored_price(d, "final_offer"))),
        State::PaymentPending if action == Action::ProceedToPayment => {
            format!("Pay {} to start the collaboration.", money(stored_price(d, "agreed_price")))
        }
        State::PaymentPending => {
            format!("Price agreed at {}. Proceed to payment.", money(stored_price(d, "agreed_price")))
        }
        State::PaymentCompleted => "Payment received. Start work when ready.".into(),
        State::WorkInProgress if action == Action::RequestRevision => format!(
            "Revision requested: {}",
            d["revision_history"]
                .as_array()
                .and_then(|h| h.last())
                .and_then(|l| l["feedback"].as_str())
                .unwrap_or_default()
        ),
        State::WorkInProgress => "Work started. Submit your deliverables when they are ready.".into(),
        State::WorkSubmitted => {
            format!("Work submitted: {}", d["work_submission"]["description"].as_str().unwrap_or_default())
        }
        State::WorkApproved | State::RealTime | State::ChatClosed => String::new(),
    }
}

fn opening_text(view: &View) -> String {
    let title = source_text(view, "title");
    match view.kind {
        SourceKind::Campaign => {
            let description = source_text(view, "description");
            let mut text =
                format!("New campaign collaboration: “{title}”. Budget {}.", money(stored_price(view.data, "budget")));
            if !description.is_empty() {
                text.push(' ');
                text.push_str(&description);
            }
            text
        }
        SourceKind::Bid => format!(
            "Collaboration request for “{title}” at your proposed {}.",
            money(stored_price(view.data, "proposed_amount"))
        ),
    }
}

/// The messages (besides the actor's audit) that follow an action into
/// `view.state`: the next card, or the closing and approval notices.
pub fn messages_after(view: &View, actor: Party, action: Action, card: Option<Value>) -> Vec<Draft> {
    match view.state {
        State::ChatClosed => {
            let reason = view.data["closure"]["reason"].as_str().map(|r| format!(" Reason: {r}")).unwrap_or_default();
            let what = match action {
                Action::RejectConnection => "declined the collaboration request",
                Action::RejectProject => "declined the project",
                Action::RejectPrice => "rejected the price",
                Action::RejectFinalOffer => "rejected the final offer",
                Action::CloseChat => "closed the conversation",
                _ => "cancelled the collaboration",
            };
            let who = match actor {
                Party::BrandOwner => "The brand",
                Party::Influencer => "The creator",
            };
            vec![Draft::Notice {
                to: actor.other(),
                text: format!("{who} {what}. This conversation is now closed.{reason}"),
                action_data: None,
            }]
        }
        State::RealTime => vec![Draft::Card {
            to: Party::Influencer,
            text: "The brand approved your work. Real-time chat is now open.".into(),
            action_data: None,
        }],
        state => match (state.awaiting(), card) {
            (Some(to), Some(card)) => vec![Draft::Card { to, text: card_text(view, action), action_data: Some(card) }],
            _ => vec![],
        },
    }
}

/// The opening messages of a new flow conversation: the invitation card to
/// the influencer (the brand owner's own confirmation is an audit).
pub fn opening(view: &View) -> Vec<Draft> {
    let audit = match view.kind {
        SourceKind::Campaign => format!("You invited the creator to “{}”", source_text(view, "title")),
        SourceKind::Bid => format!("You invited the creator to “{}”", source_text(view, "title")),
    };
    let mut drafts = vec![Draft::Audit { text: audit }];
    if let Some(card) = card(view) {
        drafts.push(Draft::Card { to: Party::Influencer, text: opening_text(view), action_data: Some(card) });
    }
    drafts
}

//! The cards each state shows, rendered from the flow data alone, so a
//! client that draws `action_data` generically needs no flow knowledge.

use serde_json::{Value, json};

use super::{
    Action, Party, SourceKind, State,
    view::{Draft, View, pending_offer, stored_price},
};
use crate::domain::money::Paise;

mod texts;

pub use texts::{messages_after, opening};

fn button(action: Action, text: &str, style: &str, data: Value) -> Value {
    json!({ "id": action.as_str(), "text": text, "style": style, "action": action.as_str(), "data": data })
}

fn price_field(placeholder: &str, value: Option<Paise>) -> Value {
    let mut field = json!({
        "id": "price", "type": "number", "placeholder": placeholder,
        "required": true, "min": 1, "maxLength": 12,
    });
    if let Some(v) = value {
        field["value"] = v.rupees_json();
    }
    field
}

fn text_field(id: &str, kind: &str, placeholder: &str, required: bool, max: u32) -> Value {
    json!({ "id": id, "type": kind, "placeholder": placeholder, "required": required, "maxLength": max })
}

/// `{total, commission_percent, commission, net_to_influencer}` in rupees.
pub fn breakdown(price: Paise, commission_bps: u32) -> Value {
    let commission = price.percent_bps(commission_bps);
    let percent = if commission_bps.is_multiple_of(100) {
        json!(commission_bps / 100)
    } else {
        serde_json::from_str(&format!("{}.{:02}", commission_bps / 100, commission_bps % 100)).unwrap_or(Value::Null)
    };
    json!({
        "total": price.rupees_json(),
        "commission_percent": percent,
        "commission": commission.rupees_json(),
        "net_to_influencer": Paise(price.0 - commission.0).rupees_json(),
        "total_paise": price.0,
        "commission_paise": commission.0,
        "net_to_influencer_paise": price.0 - commission.0,
        "currency": "INR",
    })
}

/// The price a state is about.
fn price_of(view: &View) -> Option<Paise> {
    let d = view.data;
    match view.state {
        State::InfluencerPriceResponse | State::NegotiationInput => stored_price(d, "price_offer"),
        State::BrandOwnerNegotiation => stored_price(d, "counter_offer"),
        State::InfluencerFinalResponse => stored_price(d, "final_offer"),
        _ => stored_price(d, "agreed_price")
            .or_else(|| stored_price(d, "final_offer"))
            .or_else(|| stored_price(d, "counter_offer"))
            .or_else(|| stored_price(d, "price_offer")),
    }
}

fn source<'a>(view: &'a View, key: &str) -> Option<&'a Value> {
    view.data.get("source").and_then(|s| s.get(key)).filter(|v| !v.is_null())
}

fn source_text(view: &View, key: &str) -> String {
    source(view, key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn base(view: &View, title: &str, subtitle: String, to: Party) -> Value {
    let mut card = json!({
        "title": title,
        "subtitle": subtitle,
        "flow_state": view.state.as_str(),
        "message_type": "automated",
        "visible_to": to.as_str(),
    });
    if let Some(price) = price_of(view) {
        card["payment_breakdown"] = breakdown(price, view.commission_bps);
    }
    card
}

fn money(p: Option<Paise>) -> String {
    p.map(|p| p.to_string()).unwrap_or_else(|| "—".into())
}

/// The card for the role awaited in `view.state`, if that state has one.
pub fn card(view: &View) -> Option<Value> {
    let to = view.state.awaiting()?;
    match view.state {
        State::InfluencerResponding | State::BrandOwnerDetails | State::InfluencerReviewing => {
            Some(agreement_card(view, to))
        }
        State::BrandOwnerPricing
        | State::InfluencerPriceResponse
        | State::NegotiationInput
        | State::BrandOwnerNegotiation
        | State::InfluencerFinalResponse => Some(pricing_card(view, to)),
        State::PaymentPending | State::PaymentCompleted | State::WorkInProgress | State::WorkSubmitted => {
            Some(work_card(view, to))
        }
        State::WorkApproved | State::RealTime | State::ChatClosed => None,
    }
}

fn with_input(mut card: Value, field: Value, submit: Action, text: &str, style: &str) -> Value {
    card["input_field"] = field;
    card["submit_action"] = json!(submit.as_str());
    card["submit_button"] = json!({ "text": text, "style": style });
    card
}

/// The buttons answering an offer, each carrying its price.
fn price_buttons(p: Option<Paise>, buttons: &[(Action, &str, &str)]) -> Value {
    let data = p.map(|p| json!({ "price": p.rupees_json() })).unwrap_or(json!({}));
    Value::Array(
        buttons
            .iter()
            .map(|(a, text, style)| {
                let accepts = matches!(a, Action::AcceptPrice | Action::AcceptCounterOffer | Action::AcceptFinalOffer);
                button(*a, text, style, if accepts { data.clone() } else { json!({}) })
            })
            .collect(),
    )
}

fn agreement_card(view: &View, to: Party) -> Value {
    use Action::*;
    let d = view.data;
    match view.state {
        State::InfluencerResponding => {
            let subtitle = match view.kind {
                SourceKind::Campaign => {
                    format!("{} · Budget {}", source_text(view, "title"), money(stored_price(d, "budget")))
                }
                SourceKind::Bid => {
                    format!("{} · Proposed {}", source_text(view, "title"), money(stored_price(d, "proposed_amount")))
                }
            };
            let mut c = base(view, "Collaboration request", subtitle, to);
            c["buttons"] = json!([
                button(AcceptConnection, "Accept", "success", json!({})),
                button(RejectConnection, "Decline", "danger", json!({})),
            ]);
            c
        }
        State::BrandOwnerDetails => with_input(
            base(view, "Share project details", "Deliverables, timeline and guidelines".into(), to),
            text_field("details", "textarea", "Describe the deliverables, timeline and guidelines", true, 5000),
            SendProjectDetails,
            "Send details",
            "primary",
        ),
        _ => {
            let details = d["project_details"]["details"].as_str().unwrap_or_default();
            let mut c = base(view, "Review project details", details.to_string(), to);
            c["buttons"] = json!([
                button(AcceptProject, "Accept project", "success", json!({})),
                button(RejectProject, "Decline", "danger", json!({})),
            ]);
            c
        }
    }
}

fn pricing_card(view: &View, to: Party) -> Value {
    let mut card = pricing_card_body(view, to);
    if let (Some(deadline), Some(_)) = (view.offer_deadline, pending_offer(view.state)) {
        card["expires_at"] = json!(deadline);
    }
    card
}

fn pricing_card_body(view: &View, to: Party) -> Value {
    use Action::*;
    let d = view.data;
    match view.state {
        State::BrandOwnerPricing => {
            let (prefill, subtitle) = match view.kind {
                SourceKind::Bid => {
                    let p = stored_price(d, "proposed_amount");
                    (p, format!("The creator proposed {}", money(p)))
                }
                SourceKind::Campaign => (None, format!("Campaign budget {}", money(stored_price(d, "budget")))),
            };
            let mut c = with_input(
                base(view, "Send your price offer", subtitle, to),
                price_field("Price in ₹", prefill),
                SendPriceOffer,
                "Send offer",
                "success",
            );
            if let Some(p) = prefill {
                c["buttons"] = json!([button(
                    SendPriceOffer,
                    &format!("Offer {p}"),
                    "success",
                    json!({ "price": p.rupees_json() })
                )]);
            }
            c
        }
        State::InfluencerPriceResponse => {
            let p = stored_price(d, "price_offer");
            let mut c = base(view, "Respond to price offer", format!("Offered: {}", money(p)), to);
            c["buttons"] = price_buttons(
                p,
                &[
                    (AcceptPrice, "Accept", "success"),
                    (NegotiatePrice, "Negotiate", "warning"),
                    (RejectPrice, "Reject", "danger"),
                ],
            );
            c
        }
        State::NegotiationInput => {
            let p = stored_price(d, "price_offer");
            with_input(
                base(view, "Make a counter-offer", format!("Current offer: {}", money(p)), to),
                price_field("Your price in ₹", None),
                SendCounterOffer,
                "Send counter-offer",
                "primary",
            )
        }
        State::BrandOwnerNegotiation => {
            let p = stored_price(d, "counter_offer");
            let mut c = base(view, "Respond to counter-offer", format!("Counter-offer: {}", money(p)), to);
            c["buttons"] = price_buttons(
                p,
                &[(AcceptCounterOffer, "Accept", "success"), (RejectCounterOffer, "Keep my offer", "danger")],
            );
            with_input(c, price_field("Final offer in ₹", None), MakeFinalOffer, "Make final offer", "warning")
        }
        _ => {
            let p = stored_price(d, "final_offer");
            let mut c = base(view, "Final offer", format!("Final offer: {}", money(p)), to);
            c["buttons"] =
                price_buttons(p, &[(AcceptFinalOffer, "Accept", "success"), (RejectFinalOffer, "Reject", "danger")]);
            c
        }
    }
}

fn work_card(view: &View, to: Party) -> Value {
    use Action::*;
    let d = view.data;
    match view.state {
        State::PaymentPending => {
            let p = stored_price(d, "agreed_price");
            let mut c = base(view, "Proceed to payment", format!("Agreed price: {}", money(p)), to);
            c["buttons"] = json!([button(ProceedToPayment, &format!("Pay {}", money(p)), "success", json!({}))]);
            c
        }
        State::PaymentCompleted => {
            let mut c =
                base(view, "Payment received", format!("{} is held for this collaboration", money(price_of(view))), to);
            c["buttons"] = json!([button(StartWork, "Start work", "success", json!({}))]);
            c
        }
        State::WorkInProgress => {
            let subtitle = match d["revision_history"].as_array().and_then(|h| h.last()) {
                Some(last) => format!("Revision requested: {}", last["feedback"].as_str().unwrap_or_default()),
                None => "Submit your deliverables when they are ready".into(),
            };
            let mut c = base(view, "Submit your work", subtitle, to);
            c["input_fields"] = json!([
                text_field("deliverables", "textarea", "Links to the deliverables", true, 5000),
                text_field("description", "textarea", "What you delivered", true, 5000),
                text_field("submission_notes", "textarea", "Notes for the brand (optional)", false, 5000),
            ]);
            c["submit_action"] = json!(SubmitWork.as_str());
            c["submit_button"] = json!({ "text": "Submit work", "style": "success" });
            c
        }
        _ => {
            let left = (view.max_revisions - view.revision_count).max(0);
            let subtitle = format!(
                "{} · {} revision{} left",
                d["work_submission"]["description"].as_str().unwrap_or_default(),
                left,
                if left == 1 { "" } else { "s" }
            );
            let mut c = base(view, "Review the submitted work", subtitle, to);
            c["work_submission"] = d["work_submission"].clone();
            c["buttons"] = json!([button(ApproveWork, "Approve", "success", json!({}))]);
            if left > 0 {
                c = with_input(
                    c,
                    text_field("feedback", "textarea", "What should change?", true, 2000),
                    RequestRevision,
                    "Request revision",
                    "warning",
                );
            }
            c
        }
    }
}

/// The payment card shown after `proceed_to_payment`; the engine adds
/// `payment_order` once the gateway has issued an order.
pub fn payment_card(view: &View) -> Value {
    let p = stored_price(view.data, "agreed_price");
    let mut c =
        base(view, "Complete the payment", format!("Pay {} to start the collaboration", money(p)), Party::BrandOwner);
    c["buttons"] = json!([button(Action::ProceedToPayment, &format!("Pay {}", money(p)), "success", json!({}))]);
    c
}

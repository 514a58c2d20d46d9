//! Table tests of the pure flow against CONTRACT §5, written out by hand
//! so they do not restate the code under test.

use std::collections::{HashSet, VecDeque};

use serde_json::{Map, Value, json};

use super::*;
use crate::error::ErrorCode;

/// (state, role, action, next state) — every row of the contract's table.
const TABLE: &[(&str, &str, &str, &str)] = &[
    ("influencer_responding", "influencer", "accept_connection", "brand_owner_details"),
    ("influencer_responding", "influencer", "reject_connection", "chat_closed"),
    ("brand_owner_details", "brand_owner", "send_project_details", "influencer_reviewing"),
    ("influencer_reviewing", "influencer", "accept_project", "brand_owner_pricing"),
    ("influencer_reviewing", "influencer", "reject_project", "chat_closed"),
    ("brand_owner_pricing", "brand_owner", "send_price_offer", "influencer_price_response"),
    ("influencer_price_response", "influencer", "accept_price", "payment_pending"),
    ("influencer_price_response", "influencer", "negotiate_price", "negotiation_input"),
    ("influencer_price_response", "influencer", "reject_price", "chat_closed"),
    ("negotiation_input", "influencer", "send_counter_offer", "brand_owner_negotiation"),
    ("brand_owner_negotiation", "brand_owner", "accept_counter_offer", "payment_pending"),
    ("brand_owner_negotiation", "brand_owner", "reject_counter_offer", "influencer_final_response"),
    ("brand_owner_negotiation", "brand_owner", "make_final_offer", "influencer_final_response"),
    ("influencer_final_response", "influencer", "accept_final_offer", "payment_pending"),
    ("influencer_final_response", "influencer", "reject_final_offer", "chat_closed"),
    ("payment_pending", "brand_owner", "proceed_to_payment", "payment_pending"),
    ("payment_completed", "influencer", "start_work", "work_in_progress"),
    ("work_in_progress", "influencer", "submit_work", "work_submitted"),
    ("work_submitted", "brand_owner", "approve_work", "real_time"),
    ("work_submitted", "brand_owner", "request_revision", "work_in_progress"),
    ("real_time", "brand_owner", "close_chat", "chat_closed"),
    ("real_time", "influencer", "close_chat", "chat_closed"),
];

const BEFORE_PAYMENT: &[&str] = &[
    "influencer_responding",
    "brand_owner_details",
    "influencer_reviewing",
    "brand_owner_pricing",
    "influencer_price_response",
    "negotiation_input",
    "brand_owner_negotiation",
    "influencer_final_response",
];

fn expected(state: &str, role: &str, action: &str) -> Option<&'static str> {
    if action == "cancel" && BEFORE_PAYMENT.contains(&state) {
        return Some("chat_closed");
    }
    TABLE.iter().find(|(s, r, a, _)| *s == state && *r == role && *a == action).map(|row| row.3)
}

/// Flow data holding everything any state may refer to.
fn rich_data() -> Value {
    let offer = |rupees: i64| json!({ "amount": rupees, "amount_paise": rupees * 100, "by": "brand_owner", "at": "t" });
    json!({
        "source": { "type": "bid", "title": "Summer launch", "description": "Three reels" },
        "budget": offer(8000),
        "proposed_amount": offer(4000),
        "project_details": { "details": "Three reels", "sent_at": "t" },
        "price_offer": offer(5000),
        "counter_offer": offer(6000),
        "final_offer": offer(5500),
        "agreed_price": offer(5500),
        "work_submission": { "deliverables": "https://x", "description": "reels", "submitted_at": "t" },
    })
}

fn full_input() -> Map<String, Value> {
    json!({
        "price": "₹5,000",
        "details": "Three reels in June",
        "deliverables": "https://drive.example.com/reels",
        "description": "Three reels",
        "feedback": "Brighter colours",
        "reason": "Changed plans",
    })
    .as_object()
    .cloned()
    .unwrap()
}

fn view(state: State, data: &Value, revision_count: i32) -> View<'_> {
    View {
        kind: SourceKind::Bid,
        state,
        data,
        revision_count,
        max_revisions: 3,
        commission_bps: 1000,
        now: "2026-11-22T00:00:00.000Z",
        offer_deadline: None,
    }
}

#[test]
fn every_state_role_and_action_matches_the_contract_table() {
    let data = rich_data();
    let input = full_input();
    let mut checked = 0;
    for &state in State::ALL {
        for &role in Party::ALL {
            for &action in Action::ALL {
                checked += 1;
                let result = decide(&view(state, &data, 0), role, action, &input);
                let (s, r, a) = (state.as_str(), role.as_str(), action.as_str());
                if state == State::ChatClosed {
                    assert_eq!(result.unwrap_err().code, ErrorCode::ConversationClosed, "{s} {r} {a}");
                    continue;
                }
                match (expected(s, r, a), expected(s, role.other().as_str(), a)) {
                    (Some(next), _) => {
                        let t = result.unwrap_or_else(|e| panic!("{s} {r} {a}: {e:?}"));
                        assert_eq!(t.to.as_str(), next, "{s} {r} {a}");
                        assert_eq!(t.from, state);
                        assert!(matches!(t.drafts.first(), Some(Draft::Audit { .. })), "{s} {r} {a}: audit first");
                    }
                    (None, Some(_)) => {
                        let e = result.unwrap_err();
                        assert_eq!(e.code, ErrorCode::NotYourTurn, "{s} {r} {a}");
                        assert_eq!(e.details.unwrap()["awaiting_role"], role.other().as_str());
                    }
                    (None, None) => {
                        let e = result.unwrap_err();
                        assert_eq!(e.code, ErrorCode::FlowStateInvalid, "{s} {r} {a}");
                        let d = e.details.unwrap();
                        assert_eq!(d["current_state"], s);
                        assert!(d["allowed_actions"].is_array());
                        assert!(!d["allowed_actions"].as_array().unwrap().contains(&json!(a)));
                    }
                }
            }
        }
    }
    assert_eq!(checked, State::ALL.len() * 2 * Action::ALL.len());
}

#[test]
fn no_action_is_allowed_to_a_role_that_is_not_awaited_except_cancel_and_close() {
    let data = rich_data();
    for &state in State::ALL {
        let Some(awaited) = state.awaiting() else { continue };
        let other = awaited.other();
        for action in available(state, other, 0, 3) {
            assert!(matches!(action, Action::Cancel | Action::CloseChat), "{state}: {action} offered to {other}");
        }
        for &action in Action::ALL {
            if decide(&view(state, &data, 0), other, action, &full_input()).is_ok() {
                assert!(matches!(action, Action::Cancel | Action::CloseChat), "{state}: {other} may {action}");
            }
        }
    }
}

#[test]
fn from_every_state_some_sequence_reaches_chat_closed() {
    let data = rich_data();
    let input = full_input();
    for &start in State::ALL {
        let mut seen = HashSet::new();
        let mut queue = VecDeque::from([(start, data.clone(), 0)]);
        let mut reached = false;
        while let Some((state, d, revisions)) = queue.pop_front() {
            if state == State::ChatClosed {
                reached = true;
                break;
            }
            if !seen.insert((state, revisions)) {
                continue;
            }
            if state == State::PaymentPending {
                let t = payment_captured(&view(state, &d, revisions), json!({"payment_id": "pay_1"})).unwrap();
                queue.push_back((t.to, t.data, t.revision_count));
            }
            for &role in Party::ALL {
                for action in available(state, role, revisions, 3) {
                    if let Ok(t) = decide(&view(state, &d, revisions), role, action, &input) {
                        queue.push_back((t.to, t.data, t.revision_count));
                    }
                }
            }
        }
        assert!(reached || start == State::WorkApproved, "{start} cannot reach chat_closed");
    }
}

#[test]
fn prices_are_integer_paise_and_exact_rupees() {
    let data = rich_data();
    let mut input = full_input();
    input.insert("price".into(), json!(19.99));
    let t =
        decide(&view(State::BrandOwnerPricing, &data, 0), Party::BrandOwner, Action::SendPriceOffer, &input).unwrap();
    assert_eq!(t.data["price_offer"]["amount_paise"], json!(1999));
    assert!(t.data["price_offer"]["amount_paise"].is_i64());
    assert_eq!(t.data["price_offer"]["amount"].to_string(), "19.99");
    for raw in [json!("₹5,000"), json!("5,000"), json!("5000"), json!(5000)] {
        input.insert("price".into(), raw.clone());
        let t = decide(&view(State::NegotiationInput, &data, 0), Party::Influencer, Action::SendCounterOffer, &input)
            .unwrap();
        assert_eq!(t.data["counter_offer"]["amount_paise"], json!(500_000), "{raw}");
        assert_eq!(t.data["counter_offer"]["amount"], json!(5000), "{raw}");
    }
    for bad in [json!(0), json!(-1), json!(1.234), json!("abc"), json!(10_000_001)] {
        input.insert("price".into(), bad.clone());
        let e = decide(&view(State::NegotiationInput, &data, 0), Party::Influencer, Action::SendCounterOffer, &input)
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{bad}");
        assert!(e.details.unwrap()["price"].is_string());
    }
    // Every money value in every card is a number of rupees with an integer paise twin.
    let t =
        decide(&view(State::InfluencerPriceResponse, &data, 0), Party::Influencer, Action::AcceptPrice, &full_input())
            .unwrap();
    let card = t.current_card.unwrap();
    assert_eq!(card["payment_breakdown"]["total"], json!(5000));
    assert_eq!(card["payment_breakdown"]["commission"], json!(500));
    assert_eq!(card["payment_breakdown"]["net_to_influencer"], json!(4500));
    assert_eq!(card["payment_breakdown"]["commission_percent"], json!(10));
    assert!(card["payment_breakdown"]["total_paise"].is_i64());
}

#[test]
fn the_revision_limit_leaves_only_approval() {
    let data = rich_data();
    let input = full_input();
    let t = decide(&view(State::WorkSubmitted, &data, 2), Party::BrandOwner, Action::RequestRevision, &input).unwrap();
    assert_eq!(t.revision_count, 3);
    assert_eq!(t.data["revision_history"].as_array().unwrap().len(), 1);
    let e =
        decide(&view(State::WorkSubmitted, &data, 3), Party::BrandOwner, Action::RequestRevision, &input).unwrap_err();
    assert_eq!(e.code, ErrorCode::FlowStateInvalid);
    assert_eq!(e.details.unwrap()["allowed_actions"], json!(["approve_work"]));
    let card = cards::card(&view(State::WorkSubmitted, &data, 3)).unwrap();
    assert!(card.get("input_field").is_none(), "no revision input once the limit is reached");
    assert!(decide(&view(State::WorkSubmitted, &data, 3), Party::BrandOwner, Action::ApproveWork, &input).is_ok());
}

#[test]
fn inputs_are_validated_and_flow_data_keeps_earlier_keys() {
    let data = rich_data();
    let empty = Map::new();
    for (state, role, action, field) in [
        (State::BrandOwnerDetails, Party::BrandOwner, Action::SendProjectDetails, "details"),
        (State::WorkInProgress, Party::Influencer, Action::SubmitWork, "deliverables"),
        (State::WorkSubmitted, Party::BrandOwner, Action::RequestRevision, "feedback"),
        (State::NegotiationInput, Party::Influencer, Action::SendCounterOffer, "price"),
    ] {
        let e = decide(&view(state, &data, 0), role, action, &empty).unwrap_err();
        assert_eq!(e.code, ErrorCode::ValidationFailed, "{action}");
        assert!(e.details.unwrap()[field].is_string(), "{action} names {field}");
    }
    let t =
        decide(&view(State::WorkInProgress, &data, 0), Party::Influencer, Action::SubmitWork, &full_input()).unwrap();
    for key in ["source", "price_offer", "agreed_price", "project_details"] {
        assert_eq!(t.data[key], data[key], "{key} kept");
    }
}

#[test]
fn a_bid_prefills_the_proposed_amount_and_a_campaign_opens_with_its_budget() {
    let data = rich_data();
    let card = cards::card(&view(State::BrandOwnerPricing, &data, 0)).unwrap();
    assert_eq!(card["input_field"]["value"], json!(4000));
    assert_eq!(card["buttons"][0]["data"]["price"], json!(4000));
    let t = decide(&view(State::BrandOwnerPricing, &data, 0), Party::BrandOwner, Action::SendPriceOffer, &Map::new())
        .unwrap();
    assert_eq!(t.data["price_offer"]["amount_paise"], json!(400_000), "the pre-filled amount is the offer");

    let mut campaign = view(State::InfluencerResponding, &data, 0);
    campaign.kind = SourceKind::Campaign;
    let drafts = cards::opening(&campaign);
    let Draft::Card { to, text, action_data } = &drafts[1] else { panic!("{drafts:?}") };
    assert_eq!(*to, Party::Influencer);
    assert!(text.contains("₹8,000") && text.contains("Three reels"), "{text}");
    let card = action_data.as_ref().unwrap();
    assert_eq!(card["visible_to"], "influencer");
    assert_eq!(card["buttons"][0]["id"], "accept_connection");
    assert!(card.get("payment_breakdown").is_some() == data.get("price_offer").is_some());
}

#[test]
fn cards_have_the_contract_shape() {
    let data = rich_data();
    for &state in State::ALL {
        let Some(card) = cards::card(&view(state, &data, 0)) else { continue };
        assert_eq!(card["flow_state"], state.as_str());
        assert_eq!(card["message_type"], "automated");
        assert_eq!(card["visible_to"], state.awaiting().unwrap().as_str());
        let has_buttons = card["buttons"].as_array().is_some_and(|b| !b.is_empty());
        let has_input = card.get("input_field").is_some() || card.get("input_fields").is_some();
        assert!(has_buttons || has_input, "{state}: a card has buttons or inputs");
        if has_input {
            assert!(card["submit_action"].is_string(), "{state}: inputs need a submit_action");
            assert!(card["submit_button"]["text"].is_string());
        }
        for b in card["buttons"].as_array().into_iter().flatten() {
            for key in ["id", "text", "style", "action", "data"] {
                assert!(b.get(key).is_some(), "{state}: button without {key}");
            }
            assert!(Action::parse(b["action"].as_str().unwrap()).is_some());
        }
    }
    let work = cards::card(&view(State::WorkInProgress, &data, 0)).unwrap();
    let ids: Vec<&str> = work["input_fields"].as_array().unwrap().iter().map(|f| f["id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["deliverables", "description", "submission_notes"]);
}

#[test]
fn approval_passes_through_work_approved_and_closing_notifies_the_other_side() {
    let data = rich_data();
    let t =
        decide(&view(State::WorkSubmitted, &data, 0), Party::BrandOwner, Action::ApproveWork, &full_input()).unwrap();
    assert_eq!(t.through, Some(State::WorkApproved));
    assert_eq!(t.to, State::RealTime);
    assert_eq!(t.to.chat_status().as_str(), "real_time");
    let t = decide(&view(State::RealTime, &data, 0), Party::Influencer, Action::CloseChat, &Map::new()).unwrap();
    assert!(matches!(&t.drafts[1], Draft::Notice { to: Party::BrandOwner, .. }));
    assert_eq!(t.data["closure"]["by"], "influencer");
}

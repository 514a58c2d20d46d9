use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    gateway::{self, Mode, StandIn},
    support::*,
};

const WAIT: Duration = Duration::from_secs(10);

/// Drives a bid conversation to `payment_pending` at the proposed ₹4,000.
pub(crate) async fn to_payment_pending(f: &Flow) {
    f.step(&f.creator, "accept_connection", json!({})).await;
    f.step(&f.brand, "send_project_details", json!({"details": "Three reels"})).await;
    f.step(&f.creator, "accept_project", json!({})).await;
    f.step(&f.brand, "send_price_offer", json!({})).await;
    assert_eq!(f.step(&f.creator, "accept_price", json!({})).await, "payment_pending");
}

pub(crate) async fn proceed(app: &TestApp, f: &Flow) -> (reqwest::StatusCode, Value) {
    app.post(
        &format!("/api/messages/conversations/{}/button-click", f.conversation),
        &f.brand.token,
        json!({"button_id": "proceed_to_payment"}),
    )
    .await
}

pub(crate) fn order_id_of(ack: &Value) -> String {
    let card = ack["messages"].as_array().unwrap().iter().find(|m| m["action_required"] == true).unwrap();
    card["action_data"]["payment_order"]["razorpay_config"]["order_id"].as_str().unwrap().to_string()
}

pub(crate) async fn webhook(
    app: &TestApp,
    body: &[u8],
    event_id: Option<&str>,
    signature: Option<String>,
) -> (u16, Value) {
    let signature = signature.unwrap_or_else(|| gateway::hmac_hex(gateway::WEBHOOK_SECRET, body));
    let mut req = app
        .http
        .post(format!("{}/webhook/razorpay", app.base))
        .header("content-type", "application/json")
        .header("x-razorpay-signature", signature)
        .body(body.to_vec());
    if let Some(id) = event_id {
        req = req.header("x-razorpay-event-id", id);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

pub(crate) async fn state_of(app: &TestApp, f: &Flow) -> (String, usize) {
    let (_, h) =
        app.get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.brand.token).await;
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.brand.token).await;
    (ctx["conversation"]["flow_state"].as_str().unwrap().to_string(), h["messages"].as_array().unwrap().len())
}

async fn paid_notices(app: &TestApp, f: &Flow) -> usize {
    let (_, h) =
        app.get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.creator.token).await;
    h["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message"].as_str().unwrap().starts_with("Payment of"))
        .count()
}

pub(crate) async fn paying_setup() -> (StandIn, TestApp, Flow) {
    let standin = StandIn::start().await;
    let app = spawn_with(|s| standin.configure(s)).await;
    let f = app.flow("bid").await;
    to_payment_pending(&f).await;
    (standin, app, f)
}

#[tokio::test]
async fn proceed_to_payment_opens_one_order_for_the_agreed_amount_and_reuses_it() {
    let (standin, app, f) = paying_setup().await;
    let (status, ack) = proceed(&app, &f).await;
    assert_eq!(status, 200, "{ack}");
    assert_eq!(ack["conversation"]["flow_state"], "payment_pending");
    let orders = standin.orders();
    assert_eq!(orders.len(), 1);
    assert!(standin.bad_requests().is_empty(), "{:?}", standin.bad_requests());
    let sent = &orders[0]["request"];
    assert_eq!(sent["amount"], 400_000);
    assert_eq!(sent["currency"], "INR");
    let receipt = sent["receipt"].as_str().unwrap();
    assert_eq!(receipt, format!("conv_{}", &f.conversation[..35]));
    assert!(receipt.len() <= 40);
    assert_eq!(
        sent["notes"],
        json!({
            "conversation_id": f.conversation, "brand_owner_id": f.brand.id,
            "influencer_id": f.creator.id, "conversation_type": "bid",
        })
    );
    let config = &ack["messages"].as_array().unwrap().iter().find(|m| m["action_required"] == true).unwrap()["action_data"]
        ["payment_order"]["razorpay_config"];
    assert_eq!(config["order_id"], orders[0]["response"]["id"]);
    assert_eq!(config["amount"], 400_000);
    assert_eq!(config["currency"], "INR");
    assert_eq!(config["key_id"], gateway::KEY_ID);
    assert_eq!(config["prefill"]["name"], format!("{} name", f.brand.id));
    assert!(config["theme"]["color"].is_string());
    let card = &ack["conversation"]["current_action_data"];
    assert_eq!(card["payment_breakdown"]["total"], 4000);

    let (status, again) = proceed(&app, &f).await;
    assert_eq!(status, 200);
    assert_eq!(order_id_of(&again), order_id_of(&ack), "a second click reuses the open order");
    assert_eq!(standin.orders().len(), 1);

    let (_, config) = app.get("/api/payments/config", &f.brand.token).await;
    assert_eq!(config["config"]["key_id"], gateway::KEY_ID);
    assert_eq!(config["config"]["currency"], "INR");
}

#[tokio::test]
async fn a_failing_or_hanging_gateway_changes_nothing() {
    let (standin, app, f) = paying_setup().await;
    let before = state_of(&app, &f).await;
    for mode in [Mode::Fail, Mode::Hang] {
        standin.set_mode(mode);
        let (status, body) = proceed(&app, &f).await;
        assert_eq!(status, 502, "{mode:?}: {body}");
        assert_error(&body, "PAYMENT_GATEWAY_ERROR");
        assert_eq!(state_of(&app, &f).await, before, "{mode:?} wrote something");
    }
    let socket_err = f.click(&f.brand, "proceed_to_payment", json!({})).await;
    assert_error(&socket_err, "PAYMENT_GATEWAY_ERROR");
    standin.set_mode(Mode::Ok);
    let (status, _) = proceed(&app, &f).await;
    assert_eq!(status, 200, "works again once the gateway is back");
}

#[tokio::test]
async fn checkout_verification_completes_once_and_tells_both_parties() {
    let (_standin, app, f) = paying_setup().await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let body = |sig: String| json!({"conversation_id": f.conversation, "razorpay_order_id": order, "razorpay_payment_id": "pay_001", "razorpay_signature": sig});
    let (status, bad) = app.post("/api/payments/verify", &f.brand.token, body("00".repeat(32))).await;
    assert_eq!(status, 400);
    assert_error(&bad, "PAYMENT_SIGNATURE_INVALID");
    assert_eq!(state_of(&app, &f).await.0, "payment_pending");
    let (status, forged) = app
        .post(
            "/api/payments/verify",
            &f.brand.token,
            body(gateway::hmac_hex("wrong-secret", format!("{order}|pay_001").as_bytes())),
        )
        .await;
    assert_eq!(status, 400, "{forged}");

    let good = body(gateway::checkout_signature(&order, "pay_001"));
    let (status, done) = app.post("/api/payments/verify", &f.brand.token, good.clone()).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["conversation"]["flow_state"], "payment_completed");
    assert_eq!(done["conversation"]["awaiting_role"], "influencer");
    assert_eq!(done["payment"]["status"], "paid");
    assert_eq!(done["payment"]["payment_id"], "pay_001");
    assert_eq!(done["payment"]["amount_paise"], 400_000);
    assert_eq!(done["conversation"]["flow_data"]["payment"]["payment_id"], "pay_001");
    for party in [&f.brand, &f.creator] {
        let note =
            party.socket.wait_for_match("notification", |n| n["type"] == "payment_completed", WAIT).await.unwrap();
        assert_eq!(note["data"]["conversation_id"], f.conversation.as_str());
        let changed = party
            .socket
            .wait_for_match("conversation_state_changed", |c| c["new_state"] == "payment_completed", WAIT)
            .await
            .unwrap();
        assert_eq!(changed["previous_state"], "payment_pending");
    }
    let notice = f
        .creator
        .socket
        .wait_for_match("new_message", |m| m["message"]["message_type"] == "system", WAIT)
        .await
        .unwrap();
    assert_eq!(notice["message"]["action_data"]["buttons"][0]["id"], "start_work");

    let (status, again) = app.post("/api/bids/automated/verify-payment", &f.brand.token, good).await;
    assert_eq!(status, 200, "a second completion is a success");
    assert_eq!(again["changed"], false);
    assert_eq!(again["conversation"]["flow_state"], "payment_completed");
    assert_eq!(paid_notices(&app, &f).await, 1);
}

#[tokio::test]
async fn webhooks_are_verified_deduplicated_and_checked() {
    let (_standin, app, f) = paying_setup().await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let capture = serde_json::to_vec(&gateway::captured(&order, "pay_w1", 400_000)).unwrap();

    let (status, body) = webhook(&app, &capture, Some("evt_1"), Some("ab".repeat(32))).await;
    assert_eq!(status, 400);
    assert_error(&body, "PAYMENT_SIGNATURE_INVALID");
    let (status, _) = webhook(&app, b"{not json", Some("evt_x"), None).await;
    assert_eq!(status, 400, "a malformed body");
    let (status, body) = webhook(&app, br#"{"event":"payment.captured"}"#, Some("evt_y"), None).await;
    assert_eq!(status, 400, "a payment event that names no payment: {body}");
    assert_error(&body, "VALIDATION_FAILED");
    let (status, body) = webhook(&app, br#"{"event":"refund.created","payload":{}}"#, Some("evt_z"), None).await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "an event type not handled is acknowledged");
    let (status, body) =
        webhook(&app, &serde_json::to_vec(&gateway::captured(&order, "pay_w1", 399_900)).unwrap(), Some("evt_2"), None)
            .await;
    assert_eq!(status, 409);
    assert_error(&body, "PAYMENT_AMOUNT_MISMATCH");
    assert_eq!(state_of(&app, &f).await.0, "payment_pending");
    let (status, body) = webhook(
        &app,
        &serde_json::to_vec(&gateway::captured("order_unknown", "pay_z", 400_000)).unwrap(),
        Some("evt_3"),
        None,
    )
    .await;
    assert_eq!((status, &body["success"]), (200, &json!(true)), "an unknown order is acknowledged");

    // A failed attempt: recorded, the brand owner is told and gets a retry card; the state stays.
    let fail = serde_json::to_vec(&gateway::failed(&order, "pay_f1", 400_000)).unwrap();
    let (status, _) = webhook(&app, &fail, Some("evt_4"), None).await;
    assert_eq!(status, 200);
    let note = f.brand.socket.wait_for_match("notification", |n| n["type"] == "payment_failed", WAIT).await.unwrap();
    assert_eq!(note["data"]["reason"], "Your card was declined");
    let retry = f
        .brand
        .socket
        .wait_for_match("new_message", |m| m["message"]["action_data"]["title"] == "Payment failed", WAIT)
        .await
        .unwrap();
    assert_eq!(retry["message"]["action_data"]["buttons"][0]["id"], "proceed_to_payment");
    assert_eq!(state_of(&app, &f).await.0, "payment_pending");

    let (status, _) = webhook(&app, &capture, Some("evt_5"), None).await;
    assert_eq!(status, 200);
    assert_eq!(state_of(&app, &f).await.0, "payment_completed");
    let after = state_of(&app, &f).await;
    let (status, replay) = webhook(&app, &capture, Some("evt_5"), None).await;
    assert_eq!((status, &replay["processed"]), (200, &json!(false)), "a replayed event id");
    let (status, _) = webhook(&app, &capture, Some("evt_6"), None).await;
    assert_eq!(status, 200, "the same capture under a new event id");
    let paid = serde_json::to_vec(&gateway::order_paid(&order, "pay_w1", 400_000)).unwrap();
    let (status, _) = webhook(&app, &paid, Some("evt_7"), None).await;
    assert_eq!(status, 200, "order.paid after payment.captured");
    assert_eq!(state_of(&app, &f).await, after, "nothing changed after the first capture");
    assert_eq!(paid_notices(&app, &f).await, 1);
    let (status, _) = webhook(&app, &fail, Some("evt_8"), None).await;
    assert_eq!(status, 200, "a late failure for a paid order changes nothing");
    assert_eq!(state_of(&app, &f).await, after);
    // The alias path works too.
    let res = app
        .http
        .post(format!("{}/api/webhooks/razorpay", app.base))
        .header("x-razorpay-signature", gateway::hmac_hex(gateway::WEBHOOK_SECRET, &capture))
        .body(capture.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn order_paid_alone_completes_the_payment() {
    let (_standin, app, f) = paying_setup().await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let paid = serde_json::to_vec(&gateway::order_paid(&order, "pay_o1", 400_000)).unwrap();
    let (status, body) = webhook(&app, &paid, Some("evt_o1"), None).await;
    assert_eq!((status, &body["processed"]), (200, &json!(true)));
    assert_eq!(state_of(&app, &f).await.0, "payment_completed");
}

#[tokio::test]
async fn racing_completions_transition_exactly_once() {
    let (_standin, app, f) = paying_setup().await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let capture = serde_json::to_vec(&gateway::captured(&order, "pay_r1", 400_000)).unwrap();
    let verify = json!({
        "conversation_id": f.conversation, "razorpay_order_id": order, "razorpay_payment_id": "pay_r1",
        "razorpay_signature": gateway::checkout_signature(&order, "pay_r1"),
    });
    // A verify and a webhook at once, then 50 concurrent replays (half reusing one event id).
    let v = app.post("/api/payments/verify", &f.brand.token, verify);
    let w = webhook(&app, &capture, Some("evt_race"), None);
    let ((vs, vb), (ws, _)) = tokio::join!(v, w);
    assert_eq!((vs.as_u16(), ws), (200, 200), "{vb}");
    let replays = (0..50).map(|i| {
        let id = if i % 2 == 0 { "evt_same".to_string() } else { format!("evt_{i}") };
        let body = capture.clone();
        let app = &app;
        async move { webhook(app, &body, Some(&id), None).await.0 }
    });
    let statuses = futures::future::join_all(replays).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(state_of(&app, &f).await.0, "payment_completed");
    assert_eq!(paid_notices(&app, &f).await, 1, "one transition, one set of messages");
    let cards = {
        let (_, h) = app
            .get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.creator.token)
            .await;
        h["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["action_data"]["flow_state"] == "payment_completed")
            .count()
    };
    assert_eq!(cards, 1);
}

#[tokio::test]
async fn two_proceed_clicks_at_once_open_one_order() {
    let standin = StandIn::start().await;
    let app = spawn_with(|s| standin.configure(s)).await;
    for round in 1..=5 {
        let f = app.flow("bid").await;
        to_payment_pending(&f).await;
        let (a, b) = tokio::join!(proceed(&app, &f), proceed(&app, &f));
        let wins = [&a, &b].iter().filter(|(s, _)| s.as_u16() == 200).count();
        assert!(wins >= 1, "{a:?} {b:?}");
        for (status, body) in [&a, &b] {
            if status.as_u16() != 200 {
                assert_error(body, "FLOW_STATE_INVALID");
            }
        }
        assert_eq!(standin.orders().len(), round, "one gateway order per conversation");
        let (_, h) = app
            .get(&format!("/api/messages/conversations/{}/messages?limit=100", f.conversation), &f.brand.token)
            .await;
        let payment_cards =
            h["messages"].as_array().unwrap().iter().filter(|m| m["action_data"]["payment_order"].is_object()).count();
        assert_eq!(payment_cards, wins, "one set of messages per successful click");
    }
}

#[tokio::test]
async fn after_payment_work_revisions_approval_chat_and_close() {
    let standin = StandIn::start().await;
    let app = spawn_with(|s| {
        standin.configure(s);
        s.max_revisions = 1;
    })
    .await;
    let f = app.flow("bid").await;
    to_payment_pending(&f).await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let capture = serde_json::to_vec(&gateway::captured(&order, "pay_x", 400_000)).unwrap();
    assert_eq!(webhook(&app, &capture, Some("evt_x"), None).await.0, 200);

    let early =
        f.creator.socket.ack("send_message", json!({"conversationId": f.conversation, "message": "hi"})).await.unwrap();
    assert_error(&early, "CHAT_NOT_ENABLED");
    assert_eq!(f.step(&f.creator, "start_work", json!({})).await, "work_in_progress");
    let work = json!({"deliverables": "https://drive.example.com/reels", "description": "Three reels", "submission_notes": "Colour graded"});
    assert_eq!(f.step(&f.creator, "submit_work", work.clone()).await, "work_submitted");
    let missing = f.click(&f.brand, "request_revision", json!({})).await;
    assert_error(&missing, "VALIDATION_FAILED");
    let revised = f.click(&f.brand, "request_revision", json!({"feedback": "Brighter"})).await;
    assert_eq!(revised["conversation"]["flow_state"], "work_in_progress");
    assert_eq!(revised["conversation"]["revision_count"], 1);
    assert_eq!(f.step(&f.creator, "submit_work", work).await, "work_submitted");
    let limit = f.click(&f.brand, "request_revision", json!({"feedback": "Again"})).await;
    assert_error(&limit, "FLOW_STATE_INVALID");
    assert_eq!(limit["details"]["allowed_actions"], json!(["approve_work"]));

    let approved = f.click(&f.brand, "approve_work", json!({"feedback": "Great"})).await;
    assert_eq!(approved["conversation"]["flow_state"], "real_time");
    assert_eq!(approved["conversation"]["chat_status"], "real_time");
    let hop1 = f
        .creator
        .socket
        .wait_for_match("conversation_state_changed", |c| c["new_state"] == "work_approved", WAIT)
        .await
        .unwrap();
    assert_eq!(hop1["previous_state"], "work_submitted");
    let hop2 = f
        .creator
        .socket
        .wait_for_match("conversation_state_changed", |c| c["new_state"] == "real_time", WAIT)
        .await
        .unwrap();
    assert_eq!(hop2["previous_state"], "work_approved");

    let chat = f
        .creator
        .socket
        .ack("send_message", json!({"conversationId": f.conversation, "message": "Thank you!"}))
        .await
        .unwrap();
    assert_eq!(chat["success"], true);
    f.brand.socket.wait_for_match("new_message", |m| m["message"]["message"] == "Thank you!", WAIT).await.unwrap();
    let closed = f.click(&f.brand, "close_chat", json!({})).await;
    assert_eq!(closed["conversation"]["flow_state"], "chat_closed");
    let after = f
        .creator
        .socket
        .ack("send_message", json!({"conversationId": f.conversation, "message": "bye"}))
        .await
        .unwrap();
    assert_error(&after, "CONVERSATION_CLOSED");
    let data = &closed["conversation"]["flow_data"];
    for key in [
        "project_details",
        "price_offer",
        "agreed_price",
        "work_submission",
        "revision_history",
        "payment",
        "approval",
        "closure",
    ] {
        assert!(!data[key].is_null(), "flow_data lost {key}");
    }
}

#[tokio::test]
async fn the_sandbox_pays_through_the_same_completion() {
    let app = spawn().await;
    let f = app.flow("bid").await;
    to_payment_pending(&f).await;
    let (status, early) =
        app.post("/api/payments/sandbox/pay", &f.brand.token, json!({"conversation_id": f.conversation})).await;
    assert_eq!(status, 409, "no order yet: {early}");
    let (_, ack) = proceed(&app, &f).await;
    assert_eq!(ack["messages"][1]["action_data"]["payment_order"]["sandbox"], true);
    let (status, done) =
        app.post("/api/payments/sandbox/pay", &f.brand.token, json!({"conversation_id": f.conversation})).await;
    assert_eq!(status, 200, "{done}");
    assert_eq!(done["conversation"]["flow_state"], "payment_completed");
    assert_eq!(done["changed"], true);
    f.creator.socket.wait_for_match("notification", |n| n["type"] == "payment_completed", WAIT).await.unwrap();
    // Paying again is a success that changes nothing, as a repeated capture is.
    let (status, again) =
        app.post("/api/payments/sandbox/pay", &f.brand.token, json!({"conversation_id": f.conversation})).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!((&again["changed"], &again["payment"]["status"]), (&json!(false), &json!("paid")));
    assert_eq!(again["payment"]["payment_id"], done["payment"]["payment_id"]);
    assert_eq!(paid_notices(&app, &f).await, 1);
    let (_, config) = app.get("/api/payments/config", &f.brand.token).await;
    assert_eq!(config["config"]["sandbox"], true);
}

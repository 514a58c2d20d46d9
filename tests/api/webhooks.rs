//! Outgoing webhooks (contract section 11): written with the change in an
//! outbox, delivered signed with every header, retried with the same
//! delivery id until delivered or dead, replayed by an admin.

use std::{collections::HashMap, time::Duration};

use parley::config::Secret;
use parley_standins::webhook::WebhookReceiver;
use serde_json::{Value, json};

use crate::support::*;

const WEBHOOK_SECRET: &str = "whsec-test";

async fn spawn_hooked(urls: Vec<String>, tweak: impl FnOnce(&mut parley::config::Settings)) -> TestApp {
    spawn_with(|s| {
        s.webhooks.urls = urls;
        s.webhooks.secret = Some(Secret::new(WEBHOOK_SECRET));
        tweak(s);
    })
    .await
}

fn kinds(requests: &[parley_standins::webhook::Received]) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for r in requests {
        *out.entry(r.json()["type"].as_str().unwrap().to_string()).or_insert(0) += 1;
    }
    out
}

#[tokio::test]
async fn each_change_is_delivered_once_signed_with_the_contract_headers() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_hooked(vec![receiver.url()], |_| {}).await;
    let p = pair(&app).await; // conversation.created
    let (_, sent) =
        app.post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "hi"})).await; // message.new
    app.post(&format!("/api/messages/conversations/{}/seen", p.conversation), &p.b_token, json!({})).await; // message.read
    let requests = receiver.wait_for(3, Duration::from_secs(10)).await;
    let by_kind = kinds(&requests);
    assert_eq!(by_kind.get("conversation.created"), Some(&1), "{by_kind:?}");
    assert_eq!(by_kind.get("message.new"), Some(&1), "{by_kind:?}");
    assert_eq!(by_kind.get("message.read"), Some(&1), "{by_kind:?}");

    for r in &requests {
        let body = r.json();
        r.verify_signature(WEBHOOK_SECRET.as_bytes(), Duration::from_secs(60)).unwrap();
        assert_eq!(r.method, "POST");
        assert_eq!(r.header("content-type"), Some("application/json"));
        assert_eq!(r.header("x-parley-event"), body["type"].as_str());
        assert_eq!(r.header("x-parley-delivery-id"), body["id"].as_str());
        assert_eq!(r.header("x-parley-attempt"), Some("1"));
        assert!(body["created_at"].is_string() && body["data"].is_object(), "{body}");
    }
    let message_new = requests.iter().map(|r| r.json()).find(|b| b["type"] == "message.new").unwrap();
    assert_eq!(message_new["data"]["message"], sent["message"], "the message object of section 2");
    assert_eq!(message_new["data"]["conversation_id"], p.conversation.as_str());
    let read = requests.iter().map(|r| r.json()).find(|b| b["type"] == "message.read").unwrap();
    assert_eq!(read["data"]["userId"], p.b.as_str());

    // A flow: its opening, a state change, and the payment.
    let f = app.flow("bid").await;
    f.step(&f.creator, "accept_connection", json!({})).await;
    let requests = receiver.wait_for(3 + 1 + 2 + 1 + 2, Duration::from_secs(10)).await;
    let by_kind = kinds(&requests);
    assert_eq!(by_kind.get("conversation.created"), Some(&2), "{by_kind:?}");
    let changed = requests.iter().map(|r| r.json()).find(|b| b["type"] == "conversation.state_changed").unwrap();
    assert_eq!(changed["data"]["new_state"], "brand_owner_details");
    assert_eq!(changed["data"]["reason"], "accept_connection");
    let ids: std::collections::HashSet<_> =
        requests.iter().map(|r| r.header("x-parley-delivery-id").unwrap().to_string()).collect();
    assert_eq!(ids.len(), requests.len(), "each change delivered once");
}

#[tokio::test]
async fn a_failing_receiver_gets_retries_with_the_same_delivery_id_until_it_answers() {
    let receiver = WebhookReceiver::start().await;
    receiver.fail_next(3, 503);
    let app = spawn_hooked(vec![receiver.url()], |s| s.webhooks.events = Some(vec!["message.new".into()])).await;
    let p = pair(&app).await;
    let admin = token(&uid("admin"), "admin");
    app.post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "retry me"})).await;
    for n in 1..=3 {
        receiver.wait_for(n, Duration::from_secs(10)).await;
        poll_attempts(&app, &admin, "failed", n).await;
        // The backoff is on the server's clock: move it instead of waiting.
        app.state.clock.advance(Duration::from_secs(600));
    }
    receiver.wait_for(4, Duration::from_secs(10)).await;
    let listed = poll_status(&app, &admin, "delivered").await;
    let requests = receiver.requests();
    assert_eq!(requests.len(), 4, "attempts after success: {}", requests.len());
    let attempts: Vec<_> = requests.iter().map(|r| r.header("x-parley-attempt").unwrap().to_string()).collect();
    assert_eq!(attempts, ["1", "2", "3", "4"]);
    let ids: std::collections::HashSet<_> =
        requests.iter().map(|r| r.header("x-parley-delivery-id").unwrap()).collect();
    assert_eq!(ids.len(), 1, "one delivery id on every retry");
    assert!(requests.iter().all(|r| r.json()["type"] == "message.new"), "WEBHOOK_EVENTS narrows the kinds");
    assert_eq!(listed["attempts"], 4);
    assert_eq!(listed["last_status_code"], 200);
}

/// A server sending `message.new` to a receiver that answers 500, with a
/// maximum age of one minute.
async fn spawn_with_receiver_down() -> (WebhookReceiver, TestApp) {
    let receiver = WebhookReceiver::start().await;
    receiver.answer(500, "down");
    let app = spawn_hooked(vec![receiver.url()], |s| {
        s.webhooks.events = Some(vec!["message.new".into()]);
        s.webhooks.max_age = Duration::from_secs(60);
    })
    .await;
    (receiver, app)
}

#[tokio::test]
async fn a_receiver_down_past_the_max_age_ends_dead_and_replay_delivers_it() {
    let (receiver, app) = spawn_with_receiver_down().await;
    let admin = token(&uid("admin"), "admin");
    let p = pair(&app).await;
    app.post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "lost?"})).await;
    receiver.wait_for(1, Duration::from_secs(10)).await;
    poll_attempts(&app, &admin, "failed", 1).await;
    app.state.clock.advance(Duration::from_secs(600));
    receiver.wait_for(2, Duration::from_secs(10)).await;
    let dead = poll_status(&app, &admin, "dead").await;
    assert_eq!(dead["attempts"], 2);
    assert_eq!(dead["last_status_code"], 500);
    assert!(dead["last_error"].as_str().unwrap().contains("500"), "{dead}");

    receiver.answer(200, "");
    let id = dead["id"].as_str().unwrap();
    let (status, replayed) = app.post(&format!("/api/admin/webhooks/deliveries/{id}/replay"), &admin, json!({})).await;
    assert_eq!(status, 200, "{replayed}");
    let requests = receiver.wait_for(3, Duration::from_secs(10)).await;
    assert_eq!(requests[2].header("x-parley-attempt"), Some("1"), "replay starts again from attempt 1");
    assert_eq!(requests[2].header("x-parley-delivery-id"), requests[0].header("x-parley-delivery-id"));
    poll_status(&app, &admin, "delivered").await;

    // Only administrators see deliveries.
    let (status, body) = app.get("/api/admin/webhooks/deliveries", &p.a_token).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let (status, _) = app.get("/api/admin/webhooks/deliveries?status=lost", &admin).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn delivered_rows_are_deleted_after_the_max_age_and_dead_ones_kept() {
    let (receiver, app) = spawn_with_receiver_down().await;
    let admin = token(&uid("admin"), "admin");
    let p = pair(&app).await;
    let send = |text: &'static str| {
        app.post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": text}))
    };
    send("never answered").await;
    poll_attempts(&app, &admin, "failed", 1).await;
    app.state.clock.advance(Duration::from_secs(600));
    let dead = poll_status(&app, &admin, "dead").await;

    receiver.answer(200, "");
    send("answered").await;
    let delivered = poll_status(&app, &admin, "delivered").await;
    assert_ne!(delivered["id"], dead["id"]);
    // Still listed within the maximum age; deleted once it has passed.
    app.state.clock.advance(Duration::from_secs(30));
    assert_eq!(listed(&app, &admin, "delivered").await, 1);
    app.state.clock.advance(Duration::from_secs(60));
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while listed(&app, &admin, "delivered").await > 0 {
        assert!(tokio::time::Instant::now() < deadline, "the delivered row outlived the maximum age");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (_, body) = app.get("/api/admin/webhooks/deliveries?status=dead", &admin).await;
    assert_eq!(body["deliveries"][0]["id"], dead["id"], "a dead delivery stays until it is replayed: {body}");
}

/// How many deliveries are listed as `status`.
async fn listed(app: &TestApp, admin: &str, status: &str) -> u64 {
    let (code, body) = app.get(&format!("/api/admin/webhooks/deliveries?status={status}"), admin).await;
    assert_eq!(code, 200, "{body}");
    body["pagination"]["total"].as_u64().unwrap()
}

/// Waits until the delivery is recorded as `status` after `attempts` attempts.
async fn poll_attempts(app: &TestApp, admin: &str, status: &str, attempts: usize) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let d = poll_status(app, admin, status).await;
        if d["attempts"] == attempts {
            return d;
        }
        assert!(tokio::time::Instant::now() < deadline, "not {status} after {attempts} attempts: {d}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The first delivery listed as `status`. The worker records an attempt
/// right after the receiver answers, which no event announces: ask until
/// it shows, within a deadline.
async fn poll_status(app: &TestApp, admin: &str, status: &str) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let (code, body) = app.get(&format!("/api/admin/webhooks/deliveries?status={status}"), admin).await;
        assert_eq!(code, 200, "{body}");
        if let Some(d) = body["deliveries"].as_array().and_then(|d| d.first()) {
            return d.clone();
        }
        assert!(tokio::time::Instant::now() < deadline, "no delivery became {status}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_another() {
    let slow = WebhookReceiver::start().await;
    slow.respond_after(Duration::from_secs(30));
    let fast = WebhookReceiver::start().await;
    let app = spawn_hooked(vec![slow.url(), fast.url()], |s| {
        s.webhooks.events = Some(vec!["message.new".into()]);
        s.webhooks.timeout = Duration::from_secs(60);
    })
    .await;
    let p = pair(&app).await;
    for i in 0..3 {
        app.post(
            "/api/messages/send",
            &p.a_token,
            json!({"conversation_id": p.conversation, "message": format!("m{i}")}),
        )
        .await;
    }
    // All three reach the fast receiver well within the 30 s the slow one
    // takes to answer its first: the slow URL holds up nothing but itself.
    fast.wait_for(3, Duration::from_secs(10)).await;
    slow.wait_for(1, Duration::from_secs(10)).await;
}

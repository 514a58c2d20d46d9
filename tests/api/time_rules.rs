//! Rules that run on the clock (contract section 14): disappearing
//! messages, daily free messages then points, offers that expire. The
//! server's clock is moved by the tests; nothing waits for hours.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

fn history_path(conversation: &str) -> String {
    format!("/api/messages/conversations/{conversation}/messages")
}

async fn send(app: &TestApp, token: &str, conversation: &str, body: Value) -> (reqwest::StatusCode, Value) {
    let mut body = body;
    body["conversation_id"] = json!(conversation);
    app.post("/api/messages/send", token, body).await
}

#[tokio::test]
async fn a_disappearing_message_is_gone_everywhere_from_its_time() {
    let app = spawn_with(|s| s.time_rules.message_ttl_min = Duration::from_secs(60)).await;
    let p = pair(&app).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let (status, kept) = send(&app, &p.a_token, &p.conversation, json!({"message": "stays"})).await;
    assert_eq!(status, 201);
    assert!(kept["message"]["expires_at"].is_null());
    let (status, sent) =
        send(&app, &p.a_token, &p.conversation, json!({"message": "gone soon", "expires_in": 120})).await;
    assert_eq!(status, 201, "{sent}");
    let m = &sent["message"];
    let created = chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(m["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 120);
    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 2);

    app.state.clock.advance(Duration::from_secs(121));
    let expired = b.wait_for("message_expired").await.unwrap();
    assert_eq!(expired, json!({ "conversation_id": p.conversation, "message_ids": [m["id"]] }));
    let (_, history) = app.get(&history_path(&p.conversation), &p.b_token).await;
    let texts: Vec<_> = history["messages"].as_array().unwrap().iter().map(|m| m["message"].clone()).collect();
    assert_eq!(texts, [json!("stays")]);
    assert_eq!(history["pagination"]["total"], 1);
    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 1, "an expired message is not counted");
    let (_, list) = app.get("/api/messages/conversations", &p.b_token).await;
    assert_eq!(list["conversations"][0]["last_message"]["message"], "stays");
    // The receiver's notification now shows what is left.
    let (_, notes) = app.get("/api/notifications", &p.b_token).await;
    assert_eq!(notes["notifications"][0]["data"]["message"]["message"], "stays", "{notes}");

    for bad in [json!(59), json!(2_592_001), json!("soon")] {
        let (status, body) = send(&app, &p.a_token, &p.conversation, json!({"message": "x", "expires_in": bad})).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert_error(&body, "VALIDATION_FAILED");
    }
}

#[tokio::test]
async fn a_muted_receiver_hears_no_revised_notification_when_a_message_expires() {
    let app = spawn_with(|s| s.time_rules.message_ttl_min = Duration::from_secs(60)).await;
    let p = pair(&app).await;
    let (status, body) =
        app.post(&format!("/api/messages/conversations/{}/mute", p.conversation), &p.b_token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    send(&app, &p.a_token, &p.conversation, json!({"message": "stays"})).await;
    let (status, sent) =
        send(&app, &p.a_token, &p.conversation, json!({"message": "gone soon", "expires_in": 120})).await;
    assert_eq!(status, 201, "{sent}");
    b.wait_for_match("new_message", |m| m["message"]["message"] == "gone soon", WAIT).await.unwrap();

    app.state.clock.advance(Duration::from_secs(121));
    b.wait_for("message_expired").await.unwrap();
    // The stored notification is revised to what is left ...
    let (_, notes) = app.get("/api/notifications", &p.b_token).await;
    assert_eq!(notes["notifications"][0]["data"]["message"]["message"], "stays", "{notes}");
    // ... but the muted receiver is not told: everything the sweep sent is in
    // before a later message.
    send(&app, &p.a_token, &p.conversation, json!({"message": "later"})).await;
    b.wait_for_match("new_message", |m| m["message"]["message"] == "later", WAIT).await.unwrap();
    assert_eq!(b.take("notification"), Vec::<Value>::new());
}

#[tokio::test]
async fn a_conversation_default_applies_to_later_user_messages_and_is_recorded() {
    let app = spawn_with(|s| s.time_rules.message_ttl_min = Duration::from_secs(60)).await;
    let p = pair(&app).await;
    let path = format!("/api/messages/conversations/{}/settings", p.conversation);
    let put = |token: &str, body: Value| {
        let req = app.http.put(format!("{}{path}", app.base)).bearer_auth(token).json(&body);
        async move {
            let res = req.send().await.unwrap();
            let status = res.status();
            (status, res.json::<Value>().await.unwrap())
        }
    };
    let (status, set) = put(&p.b_token, json!({"message_ttl_seconds": 3600})).await;
    assert_eq!(status, 200, "{set}");
    assert_eq!(set["message_ttl_seconds"], 3600);
    assert_eq!(set["message"]["message_type"], "system");
    assert!(set["message"]["expires_at"].is_null(), "notices never expire");
    let (_, sent) = send(&app, &p.a_token, &p.conversation, json!({"message": "default"})).await;
    let m = &sent["message"];
    let created = chrono::DateTime::parse_from_rfc3339(m["created_at"].as_str().unwrap()).unwrap();
    let expires = chrono::DateTime::parse_from_rfc3339(m["expires_at"].as_str().unwrap()).unwrap();
    assert_eq!((expires - created).num_seconds(), 3600);
    let (_, own) = send(&app, &p.a_token, &p.conversation, json!({"message": "own", "expires_in": 60})).await;
    assert!(own["message"]["expires_at"].is_string());

    let (status, _) = put(&p.a_token, json!({"message_ttl_seconds": null})).await;
    assert_eq!(status, 200);
    let (_, after) = send(&app, &p.a_token, &p.conversation, json!({"message": "forever"})).await;
    assert!(after["message"]["expires_at"].is_null(), "{after}");
    let outsider = token(&uid("outsider"), "influencer");
    let (status, body) = put(&outsider, json!({"message_ttl_seconds": 3600})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    let (status, _) = put(&p.a_token, json!({"message_ttl_seconds": 5})).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn free_messages_then_points_debited_with_the_message() {
    let app = spawn_with(|s| {
        s.time_rules.quota_daily_free = 2;
        s.time_rules.quota_points_per_message = 10;
        s.time_rules.quota_timezone = chrono_tz::Asia::Kolkata;
    })
    .await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    for i in 0..2 {
        let (status, body) = send(&app, &p.a_token, &p.conversation, json!({"message": format!("free {i}")})).await;
        assert_eq!(status, 201, "{body}");
    }
    let updated = a.wait_for_match("quota_updated", |q| q["used_today"] == 2, Duration::from_secs(5)).await.unwrap();
    assert_eq!(updated["remaining_free"], 0);
    let (status, refused) = send(&app, &p.a_token, &p.conversation, json!({"message": "no points"})).await;
    assert_eq!(status, 402, "{refused}");
    assert_error(&refused, "QUOTA_EXCEEDED");
    assert_eq!(refused["details"], json!({"remaining_free": 0, "points_balance": 0, "cost": 10}));
    let (_, history) = app.get(&history_path(&p.conversation), &p.a_token).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 2, "nothing stored");

    let service = token("wallet-service", "service");
    let credit = format!("/api/platform/wallets/{}/credit", p.a);
    let (status, body) = app.post(&credit, &service, json!({"points": 15, "reference": "topup-1"})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["balance"], 15);
    let (_, again) = app.post(&credit, &service, json!({"points": 15, "reference": "topup-1"})).await;
    assert_eq!(again["balance"], 15, "a repeated reference credits once");
    let (status, _) = app.post(&credit, &p.a_token, json!({"points": 15, "reference": "self"})).await;
    assert_eq!(status, 403, "users cannot credit themselves");

    let (status, paid) =
        send(&app, &p.a_token, &p.conversation, json!({"message": "paid", "client_message_id": "c-9"})).await;
    assert_eq!(status, 201, "{paid}");
    // The same client message id is charged once.
    let (status, _) =
        send(&app, &p.a_token, &p.conversation, json!({"message": "paid", "client_message_id": "c-9"})).await;
    assert_eq!(status, 200);
    let (_, quota) = app.get("/api/messages/quota", &p.a_token).await;
    let q = &quota["quota"];
    assert_eq!(q["free_limit"], 2);
    assert_eq!(q["used_today"], 3);
    assert_eq!(q["remaining_free"], 0);
    assert_eq!(q["points_balance"], 5);
    assert_eq!(q["cost_per_message"], 10);
    let (status, _) = send(&app, &p.a_token, &p.conversation, json!({"message": "too poor"})).await;
    assert_eq!(status, 402);
    // The other participant's messages are their own.
    let (status, _) = send(&app, &p.b_token, &p.conversation, json!({"message": "mine are free"})).await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn the_quota_day_turns_at_midnight_in_its_time_zone() {
    let app = spawn_with(|s| {
        s.time_rules.quota_daily_free = 1;
        s.time_rules.quota_timezone = chrono_tz::Asia::Kolkata;
    })
    .await;
    let p = pair(&app).await;
    // Move to 23:59 in Kolkata.
    let now = app.state.clock.now();
    let local = now.with_timezone(&chrono_tz::Asia::Kolkata);
    let midnight = local.date_naive().succ_opt().unwrap().and_hms_opt(0, 0, 0).unwrap();
    let midnight = chrono::TimeZone::from_local_datetime(&chrono_tz::Asia::Kolkata, &midnight).unwrap();
    let to_2359 = (midnight.with_timezone(&chrono::Utc) - now) - chrono::Duration::seconds(60);
    app.state.clock.advance(to_2359.to_std().unwrap());
    let (status, _) = send(&app, &p.a_token, &p.conversation, json!({"message": "23:59"})).await;
    assert_eq!(status, 201);
    let (status, _) = send(&app, &p.a_token, &p.conversation, json!({"message": "still today"})).await;
    assert_eq!(status, 402);
    let (_, quota) = app.get("/api/messages/quota", &p.a_token).await;
    assert_eq!(
        quota["quota"]["resets_at"],
        parley::domain::clock::rfc3339(&midnight.with_timezone(&chrono::Utc)),
        "resets at the zone's midnight"
    );
    app.state.clock.advance(Duration::from_secs(61));
    let (status, body) = send(&app, &p.a_token, &p.conversation, json!({"message": "00:00"})).await;
    assert_eq!(status, 201, "a new day: {body}");
}

#[tokio::test]
async fn concurrent_sends_from_sockets_and_rest_never_exceed_the_free_messages() {
    let app = spawn_with(|s| {
        s.time_rules.quota_daily_free = 3;
        s.rate_limits.enabled = false;
    })
    .await;
    let p = pair(&app).await;
    let mut sockets = vec![];
    for _ in 0..3 {
        sockets.push(app.socket(&p.a_token).await);
    }
    let socket_sends = sockets.iter().enumerate().map(|(i, s)| {
        let body = json!({"conversationId": p.conversation, "message": format!("socket {i}")});
        async move { s.ack("send_message", body).await.unwrap()["success"] == true }
    });
    let rest_sends = (0..4).map(|i| {
        let app = &app;
        let (token, conversation) = (p.a_token.clone(), p.conversation.clone());
        async move { send(app, &token, &conversation, json!({"message": format!("rest {i}")})).await.0 == 201 }
    });
    let (a, b) = tokio::join!(futures::future::join_all(socket_sends), futures::future::join_all(rest_sends));
    let accepted = a.into_iter().chain(b).filter(|ok| *ok).count();
    assert_eq!(accepted, 3, "exactly the free messages were accepted");
    let (_, history) = app.get(&history_path(&p.conversation), &p.a_token).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 3);
}

/// A bid conversation that reached `influencer_price_response`.
async fn priced(app: &TestApp) -> Flow {
    let f = app.flow("bid").await;
    f.step(&f.creator, "accept_connection", json!({})).await;
    f.step(&f.brand, "send_project_details", json!({"details": "Three reels"})).await;
    f.step(&f.creator, "accept_project", json!({})).await;
    f.step(&f.brand, "send_price_offer", json!({"price": 5000})).await;
    f
}

#[tokio::test]
async fn an_unanswered_offer_expires_back_to_pricing_with_a_notice() {
    let app = spawn().await;
    let f = priced(&app).await;
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.creator.token).await;
    let card = &ctx["conversation_context"]["current_action_data"];
    let deadline = chrono::DateTime::parse_from_rfc3339(card["expires_at"].as_str().unwrap()).unwrap();
    let until = deadline.with_timezone(&chrono::Utc) - app.state.clock.now();
    assert!((until - chrono::Duration::hours(48)).num_seconds().abs() < 60, "48 hours: {until}");

    app.state.clock.advance(Duration::from_secs(48 * 3600 + 1));
    let changed = f
        .brand
        .socket
        .wait_for_match("conversation_state_changed", |e| e["reason"] == "offer_expired", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(changed["previous_state"], "influencer_price_response");
    assert_eq!(changed["new_state"], "brand_owner_pricing");
    let notice = f
        .creator
        .socket
        .wait_for_match("new_message", |e| e["message"]["message_type"] == "system", Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(notice["message"]["message"], "The offer of ₹5,000 expired");
    for party in [&f.brand, &f.creator] {
        let n = party
            .socket
            .wait_for_match("notification", |n| n["type"] == "offer_expired", Duration::from_secs(5))
            .await
            .unwrap();
        assert_eq!(n["conversation_id"], f.conversation.as_str());
    }
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.brand.token).await;
    let data = &ctx["conversation"]["flow_data"];
    assert_eq!(data["expired_offers"][0]["amount_paise"], 500_000);
    assert_eq!(ctx["conversation"]["flow_state"], "brand_owner_pricing");
    // The flow goes on: a new offer can be made.
    assert_eq!(f.step(&f.brand, "send_price_offer", json!({"price": 4500})).await, "influencer_price_response");
}

#[tokio::test]
async fn an_action_racing_the_expiry_either_wins_or_is_refused() {
    let app = spawn().await;
    for _ in 0..8 {
        let f = priced(&app).await;
        let accept = f.click(&f.creator, "accept_price", json!({}));
        let (ack, ()) = tokio::join!(accept, async { app.state.clock.advance(Duration::from_secs(48 * 3600 + 1)) });
        let (_, ctx) =
            app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.brand.token).await;
        let state = ctx["conversation"]["flow_state"].as_str().unwrap().to_string();
        let expired = ctx["conversation"]["flow_data"]["expired_offers"].as_array().map_or(0, Vec::len);
        if ack["success"] == true {
            assert_eq!(state, "payment_pending", "{ack}");
            assert_eq!(expired, 0);
        } else {
            assert_error(&ack, "FLOW_STATE_INVALID");
            // The expiry won: wait for its state change, then look again.
            f.brand
                .socket
                .wait_for_match(
                    "conversation_state_changed",
                    |e| e["reason"] == "offer_expired",
                    Duration::from_secs(5),
                )
                .await
                .unwrap();
            let (_, ctx) =
                app.get(&format!("/api/messages/conversations/{}/context", f.conversation), &f.brand.token).await;
            assert_eq!(ctx["conversation"]["flow_state"], "brand_owner_pricing");
            assert_eq!(ctx["conversation"]["flow_data"]["expired_offers"].as_array().unwrap().len(), 1);
        }
        let (_, history) = app.get(&history_path(&f.conversation), &f.brand.token).await;
        let notices = history["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["message"].as_str().is_some_and(|t| t.contains("expired")))
            .count();
        assert!(notices <= 1, "at most one expiry notice: {notices}");
    }
}

#[tokio::test]
async fn an_offer_scheduled_before_a_restart_expires_after_it() {
    let (first, stop, running) = spawn_stoppable(|_| {}).await;
    let f = priced(&first).await;
    let (conversation, brand_id, brand_token) = (f.conversation.clone(), f.brand.id.clone(), f.brand.token.clone());
    let database = first.state.settings.database_url.clone();
    drop(f);
    stop.send(()).unwrap();
    running.await.unwrap();
    // The deadline is in the database: a new server finds it and fires it.
    let second = spawn_with(|s| s.database_url = database).await;
    let brand = second.joined(&brand_id, "brand_owner", &conversation).await;
    second.state.clock.advance(Duration::from_secs(48 * 3600 + 1));
    let changed = brand
        .wait_for_match("conversation_state_changed", |e| e["reason"] == "offer_expired", Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(changed["new_state"], "brand_owner_pricing");
    let (_, ctx) = second.get(&format!("/api/messages/conversations/{conversation}/context"), &brand_token).await;
    assert_eq!(ctx["conversation"]["flow_data"]["expired_offers"].as_array().unwrap().len(), 1);
    drop(first);
}

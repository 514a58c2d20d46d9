//! Moderation (contract section 13): contact masking, the blocklist,
//! repetition spam, reports, the flag queue and its resolutions, bans and
//! the audit log.

use std::time::Duration;

use parley::config::Secret;
use parley_client::Options;
use parley_standins::webhook::WebhookReceiver;
use serde_json::{Value, json};

use crate::support::*;

fn admin() -> String {
    token(&uid("admin"), "admin")
}

async fn send(app: &TestApp, token: &str, conversation: &str, text: &str) -> (reqwest::StatusCode, Value) {
    app.post("/api/messages/send", token, json!({ "conversation_id": conversation, "message": text })).await
}

async fn open_flags(app: &TestApp, admin: &str) -> Vec<Value> {
    let (status, body) = app.get("/api/admin/flags?status=open&limit=100", admin).await;
    assert_eq!(status, 200, "{body}");
    body["flags"].as_array().unwrap().clone()
}

#[tokio::test]
async fn contact_details_are_masked_in_direct_conversations_and_kept_for_admins() {
    let app = spawn().await;
    let p = pair(&app).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let a = app.socket(&p.a_token).await;
    let text = "call me on +91 98765 43210 or mail priya@example.com, budget ₹5,000 by 2026-12-24";
    let ack = a.ack("send_message", json!({ "conversationId": p.conversation, "message": text })).await.unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    let masked = "call me on ••• or mail •••, budget ₹5,000 by 2026-12-24";
    assert_eq!(ack["message"]["message"], masked);
    assert_eq!(ack["moderation"], json!({ "masked": ["email", "phone"] }));
    assert_eq!(ack["message"]["moderation"], json!({ "masked": ["email", "phone"] }));
    let delivered = b.wait_for("new_message").await.unwrap();
    assert_eq!(delivered["message"]["message"], masked);
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    assert_eq!(history["messages"][0]["message"], masked);
    assert!(history["messages"][0].get("original_message").is_none(), "participants never see the original");

    // A plain message carries no moderation field, over REST too.
    let (status, plain) = send(&app, &p.b_token, &p.conversation, "pay to priya@okhdfcbank").await;
    assert_eq!(status, 201);
    assert_eq!(plain["moderation"], json!({ "masked": ["upi"] }));
    let (_, plain) = send(&app, &p.b_token, &p.conversation, "order ORD-2026-000123 costs 5000 rupees").await;
    assert!(plain.get("moderation").is_none() && plain["message"].get("moderation").is_none(), "{plain}");

    // The admin sees the original in the flag queue.
    let id = ack["message"]["id"].as_str().unwrap();
    let (status, _) =
        app.post(&format!("/api/messages/{id}/flag"), &p.b_token, json!({ "reason": "off_platform" })).await;
    assert_eq!(status, 201);
    let flags = open_flags(&app, &admin()).await;
    assert_eq!(flags[0]["target"]["message"]["original_message"], text);
    assert_eq!(flags[0]["target"]["message"]["message"], masked);
}

#[tokio::test]
async fn masking_can_be_turned_off() {
    let app = spawn_with(|s| s.moderation.mask_contact_details = false).await;
    let p = pair(&app).await;
    let (_, sent) = send(&app, &p.a_token, &p.conversation, "9876543210").await;
    assert_eq!(sent["message"]["message"], "9876543210");
}

#[tokio::test]
async fn flow_text_inputs_are_masked_before_payment() {
    let app = spawn().await;
    let f = app.flow("bid").await;
    assert_eq!(f.step(&f.creator, "accept_connection", json!({})).await, "brand_owner_details");
    let ack = f
        .creator
        .socket
        .ack(
            "text_input",
            json!({ "conversationId": f.conversation, "input_type": "send_project_details",
            "text": "details on WhatsApp 9876543210" }),
        )
        .await
        .unwrap();
    // Only the brand owner may send details: the creator is refused, and
    // the brand owner's text is masked.
    assert_eq!(ack["success"], false, "{ack}");
    let ack = f
        .brand
        .socket
        .ack(
            "text_input",
            json!({ "conversationId": f.conversation, "input_type": "send_project_details",
            "text": "details on WhatsApp 9876543210" }),
        )
        .await
        .unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    assert_eq!(ack["conversation"]["flow_data"]["project_details"]["details"], "details on WhatsApp •••");
}

#[tokio::test]
async fn the_blocklist_blocks_or_flags_whole_words() {
    let app = spawn_with(|s| {
        s.moderation.blocklist = vec!["scam".into()];
        s.moderation.blocklist_blocks = true;
    })
    .await;
    let p = pair(&app).await;
    let (status, body) = send(&app, &p.a_token, &p.conversation, "This is a SCAM!").await;
    assert_eq!(status, 422);
    assert_error(&body, "MESSAGE_REJECTED");
    assert_eq!(body["details"]["reason"], "blocklist");
    let (status, _) = send(&app, &p.a_token, &p.conversation, "scampi for dinner").await;
    assert_eq!(status, 201);

    let app = spawn_with(|s| s.moderation.blocklist = vec!["pay outside".into()]).await;
    let p = pair(&app).await;
    let (status, sent) = send(&app, &p.a_token, &p.conversation, "let's Pay Outside the app").await;
    assert_eq!(status, 201, "flag mode stores and delivers: {sent}");
    let flags = open_flags(&app, &admin()).await;
    assert_eq!(flags.len(), 1, "{flags:?}");
    assert_eq!(flags[0]["reporter"], "system");
    assert_eq!(flags[0]["target"]["message"]["id"], sent["message"]["id"]);
}

#[tokio::test]
async fn the_same_text_into_many_conversations_flags_the_sender_as_spam() {
    let app = spawn_with(|s| s.moderation.spam_repeat_conversations = 3).await;
    let spammer = uid("spammer");
    let spammer_token = token(&spammer, "influencer");
    let mut conversations = vec![];
    for _ in 0..3 {
        let other = uid("target");
        app.get("/api/messages/unread-count", &token(&other, "brand_owner")).await;
        conversations.push(app.direct(&spammer_token, &other).await);
    }
    let admin = admin();
    for (i, c) in conversations.iter().enumerate() {
        let (status, _) = send(&app, &spammer_token, c, "Great deal, DM me!").await;
        assert_eq!(status, 201);
        let flags = open_flags(&app, &admin).await;
        assert_eq!(flags.len(), usize::from(i == 2), "flagged at the third conversation: {flags:?}");
    }
    let flags = open_flags(&app, &admin).await;
    assert_eq!(flags[0]["reason"], "spam");
    assert_eq!(flags[0]["reporter"], "system");
    assert_eq!(flags[0]["target"]["user"]["id"], spammer.as_str());
    // Once more: the open flag stays the only one.
    send(&app, &spammer_token, &conversations[0], "great deal, dm me!").await;
    assert_eq!(open_flags(&app, &admin).await.len(), 1);
}

#[tokio::test]
async fn reports_one_open_flag_per_reporter_and_target() {
    let app = spawn().await;
    let p = pair(&app).await;
    let (_, sent) = send(&app, &p.a_token, &p.conversation, "rude words").await;
    let id = sent["message"]["id"].as_str().unwrap().to_string();
    let b = app.socket(&p.b_token).await;
    let first = b.ack("flag_message", json!({ "messageId": id, "reason": "abuse", "note": "rude" })).await.unwrap();
    assert_eq!(first["success"], true, "{first}");
    assert_eq!(first["created"], true);
    assert_eq!(first["flag"]["status"], "open");
    let again = b.ack("flag_message", json!({ "messageId": id, "reason": "spam" })).await.unwrap();
    assert_eq!(again["created"], false);
    assert_eq!(again["flag"]["id"], first["flag"]["id"]);
    let (status, _) = app.post(&format!("/api/messages/{id}/flag"), &p.b_token, json!({ "reason": "abuse" })).await;
    assert_eq!(status, 200);

    let bad = b.ack("flag_message", json!({ "messageId": id, "reason": "boring" })).await.unwrap();
    assert_error(&bad, "VALIDATION_FAILED");
    let outsider = token(&uid("outsider"), "influencer");
    let (status, body) = app.post(&format!("/api/messages/{id}/flag"), &outsider, json!({ "reason": "abuse" })).await;
    assert_eq!(status, 403, "{body}");
    let (status, _) = app
        .post(&format!("/api/messages/{}/flag", uuid::Uuid::now_v7()), &p.b_token, json!({ "reason": "abuse" }))
        .await;
    assert_eq!(status, 404);

    let path = format!("/api/users/{}/report", p.a);
    let (status, user_flag) =
        app.post(&path, &p.b_token, json!({ "reason": "fraud", "conversation_id": p.conversation })).await;
    assert_eq!(status, 201, "{user_flag}");
    assert_eq!(user_flag["flag"]["target_type"], "user");
    let (status, _) = app.post(&path, &p.b_token, json!({ "reason": "fraud" })).await;
    assert_eq!(status, 200);
    let (status, _) = app.post(&format!("/api/users/{}/report", p.b), &p.b_token, json!({ "reason": "fraud" })).await;
    assert_eq!(status, 400, "nobody reports themselves");
    assert_eq!(open_flags(&app, &admin()).await.len(), 2);
}

#[tokio::test]
async fn the_queue_shows_five_messages_either_side_and_resolutions_go_through_the_operations() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let p = pair(&app).await;
    let mut ids = vec![];
    for i in 0..13 {
        let (_, sent) =
            send(&app, if i % 2 == 0 { &p.a_token } else { &p.b_token }, &p.conversation, &format!("m{i}")).await;
        ids.push(sent["message"]["id"].as_str().unwrap().to_string());
    }
    app.post(&format!("/api/messages/{}/flag", ids[6]), &p.b_token, json!({ "reason": "abuse" })).await;
    let admin = admin();
    let flags = open_flags(&app, &admin).await;
    let context: Vec<&str> =
        flags[0]["context"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap()).collect();
    assert_eq!(context, ["m1", "m2", "m3", "m4", "m5", "m7", "m8", "m9", "m10", "m11"]);
    assert_eq!(flags[0]["target"]["message"]["edit_history"], json!([]));
    assert_eq!(flags[0]["reporter"]["id"], p.b.as_str());

    let flag_id = flags[0]["id"].as_str().unwrap();
    let resolve = format!("/api/admin/flags/{flag_id}/resolve");
    let (status, _) = app.post(&resolve, &p.b_token, json!({ "action": "dismiss" })).await;
    assert_eq!(status, 403, "admins only");
    let (status, body) = app.post(&resolve, &admin, json!({ "action": "shrug" })).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.post(&resolve, &admin, json!({ "action": "dismiss", "note": "fine" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flag"]["status"], "resolved");
    assert_eq!(body["flag"]["resolution"], "dismiss");
    let (status, _) = app.post(&resolve, &admin, json!({ "action": "dismiss" })).await;
    assert_eq!(status, 400, "already resolved");
    assert!(open_flags(&app, &admin).await.is_empty());
    let (_, resolved) = app.get("/api/admin/flags?status=resolved", &admin).await;
    assert_eq!(resolved["flags"].as_array().unwrap().len(), 1);
    // Resolved, the reporter may report it again.
    let (status, _) =
        app.post(&format!("/api/messages/{}/flag", ids[6]), &p.b_token, json!({ "reason": "abuse" })).await;
    assert_eq!(status, 201);

    // ban_user bans through the same operation as the ban route.
    let flags = open_flags(&app, &admin).await;
    let resolve = format!("/api/admin/flags/{}/resolve", flags[0]["id"].as_str().unwrap());
    let (status, body) = app.post(&resolve, &admin, json!({ "action": "ban_user" })).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = app.get("/api/messages/unread-count", &p.a_token).await;
    assert_eq!(status, 403);
    assert_error(&body, "USER_BANNED");

    let (_, audit) = app.get("/api/admin/audit?limit=100", &admin).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["resolve_flag", "ban_user", "resolve_flag"], "newest first: {audit}");
    assert_eq!(audit["entries"][1]["target"], json!({ "type": "user", "id": p.a }));
}

#[tokio::test]
async fn a_ban_closes_sockets_refuses_connections_and_rest_until_it_ends() {
    let receiver = WebhookReceiver::start().await;
    let app = spawn_with(|s| {
        s.webhooks.urls = vec![receiver.url()];
        s.webhooks.secret = Some(Secret::new("whsec"));
        s.webhooks.events = Some(vec!["user.banned".into()]);
    })
    .await;
    let p = pair(&app).await;
    let socket = app.socket(&p.a_token).await;
    let admin = admin();
    let until = (app.state.clock.now() + chrono::Duration::hours(2)).to_rfc3339();
    let path = format!("/api/admin/users/{}/ban", p.a);
    let (status, _) = app.post(&path, &p.b_token, json!({ "reason": "spam" })).await;
    assert_eq!(status, 403, "admins only");
    let (status, _) = app.post(&path, &admin, json!({ "reason": "spam", "until": "2020-01-01T00:00:00Z" })).await;
    assert_eq!(status, 400, "until must be in the future");
    let (status, _) = app.post("/api/admin/users/nobody-known/ban", &admin, json!({ "reason": "spam" })).await;
    assert_eq!(status, 404);
    let (status, body) = app.post(&path, &admin, json!({ "reason": "spam", "until": until })).await;
    assert_eq!(status, 200, "{body}");

    let banned = socket.wait_for("banned").await.unwrap();
    assert_eq!(banned["reason"], "spam");
    assert!(banned["until"].is_string());
    socket.wait_closed(Duration::from_secs(5)).await.unwrap();
    match app.socket_with(Options::token(&p.a_token)).await {
        Err(parley_client::Error::Refused(why)) => assert_eq!(why, "banned"),
        other => panic!("expected connect_error banned, got {:?}", other.map(|_| ())),
    }
    let (status, body) = send(&app, &p.a_token, &p.conversation, "still here?").await;
    assert_eq!(status, 403);
    assert_error(&body, "USER_BANNED");
    assert!(body["details"]["until"].is_string());

    let hooks = receiver.wait_for(1, Duration::from_secs(10)).await;
    assert_eq!(hooks[0].json()["type"], "user.banned");
    assert_eq!(hooks[0].json()["data"]["user_id"], p.a.as_str());

    // The ban ends by itself.
    app.state.clock.advance(Duration::from_secs(2 * 3600 + 1));
    let (status, _) = send(&app, &p.a_token, &p.conversation, "back").await;
    assert_eq!(status, 201);

    // Unbanning lifts a ban without an end.
    app.post(&path, &admin, json!({ "reason": "again" })).await;
    let (status, _) = send(&app, &p.a_token, &p.conversation, "x").await;
    assert_eq!(status, 403);
    let (status, body) = app.post(&format!("/api/admin/users/{}/unban", p.a), &admin, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["banned"], false);
    let (status, _) = send(&app, &p.a_token, &p.conversation, "y").await;
    assert_eq!(status, 201);
    app.socket(&p.a_token).await;
}

#[tokio::test]
async fn admin_views_refuse_other_roles() {
    let app = spawn().await;
    let user = token(&uid("user"), "brand_owner");
    for path in ["/api/admin/flags", "/api/admin/analytics", "/api/admin/audit"] {
        let (status, body) = app.get(path, &user).await;
        assert_eq!(status, 403, "{path}");
        assert_error(&body, "FORBIDDEN");
    }
    let (status, _) = app.get("/api/admin/analytics?from=2025-01-01&to=2026-12-31", &admin()).await;
    assert_eq!(status, 400, "at most 366 days");
}

#[tokio::test]
async fn an_edited_message_shows_its_history_and_delete_message_leaves_a_tombstone() {
    let app = spawn().await;
    let p = pair(&app).await;
    let (_, sent) = send(&app, &p.a_token, &p.conversation, "first draft").await;
    let id = sent["message"]["id"].as_str().unwrap().to_string();
    let res = app
        .http
        .put(format!("{}/api/messages/{id}", app.base))
        .bearer_auth(&p.a_token)
        .json(&json!({ "message": "now call 9876543210" }))
        .send()
        .await
        .unwrap();
    let edited: Value = res.json().await.unwrap();
    assert_eq!(edited["message"]["message"], "now call •••", "an edit is masked too: {edited}");
    app.post(&format!("/api/messages/{id}/flag"), &p.b_token, json!({ "reason": "off_platform" })).await;
    let admin = admin();
    let flags = open_flags(&app, &admin).await;
    let target = &flags[0]["target"]["message"];
    assert_eq!(target["original_message"], "now call 9876543210");
    assert_eq!(target["edit_history"][0]["message"], "first draft");

    let resolve = format!("/api/admin/flags/{}/resolve", flags[0]["id"].as_str().unwrap());
    let (status, body) = app.post(&resolve, &admin, json!({ "action": "delete_message" })).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["flag"]["resolution"], "delete_message");
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    let tombstone = &history["messages"][0];
    assert_eq!(tombstone["message"], "");
    assert!(tombstone["deleted_at"].is_string() && tombstone.get("moderation").is_none(), "{tombstone}");
    let (_, audit) = app.get("/api/admin/audit", &admin).await;
    let actions: Vec<&str> =
        audit["entries"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["resolve_flag", "delete_message"]);
}

//! Contract sections 8 (per-user settings: archive, mute, leave) and 9
//! (direct conversations about a listing or booking).

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;

const WAIT: Duration = Duration::from_secs(5);

fn ids(list: &Value) -> Vec<String> {
    list["conversations"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn archiving_hides_a_conversation_for_the_caller_until_the_other_side_writes() {
    let app = spawn().await;
    let p = pair(&app).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let a_phone = app.socket(&p.a_token).await;
    let (status, body) =
        app.post("/api/messages/send", &p.b_token, json!({"conversation_id": p.conversation, "message": "hi"})).await;
    assert_eq!(status, 201, "{body}");
    let (_, counts) = app.get("/api/messages/unread-count", &p.a_token).await;
    assert_eq!(counts["unread_count"], 1);

    let path = format!("/api/messages/conversations/{}/archive", p.conversation);
    let (status, body) = app.post(&path, &p.a_token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["archived"], true);
    assert_eq!(body["muted_until"], Value::Null);
    let told = a_phone.wait_for("conversation_settings_updated").await.unwrap();
    assert_eq!(told, json!({"conversation_id": p.conversation, "archived": true, "muted_until": null}));

    let (_, list) = app.get("/api/messages/conversations", &p.a_token).await;
    assert!(!ids(&list).contains(&p.conversation), "archived conversations are left out: {list}");
    let (_, list) = app.get("/api/messages/conversations?archived=true", &p.a_token).await;
    assert_eq!(ids(&list), vec![p.conversation.clone()]);
    assert_eq!(list["conversations"][0]["archived"], true);
    assert_eq!(list["conversations"][0]["unread_count"], 1);
    let (_, counts) = app.get("/api/messages/unread-count", &p.a_token).await;
    assert_eq!(counts["unread_count"], 0, "archived unread stays out of the total");

    // Nothing changes for the other participant.
    let (_, list) = app.get("/api/messages/conversations", &p.b_token).await;
    assert!(ids(&list).contains(&p.conversation));
    assert_eq!(list["conversations"][0]["archived"], false);

    // The other participant's next message brings it back, counted again.
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "still there?"})).await.unwrap();
    let unread = a_phone.wait_for_match("unread_count_updated", |u| u["unread_count"] == 2, WAIT).await.unwrap();
    assert_eq!(unread["total_unread"], 2);
    // The caller's devices are told it left the archive, once.
    let told = a_phone.wait_for("conversation_settings_updated").await.unwrap();
    assert_eq!(told, json!({"conversation_id": p.conversation, "archived": false, "muted_until": null}));
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "hello?"})).await.unwrap();
    a_phone.wait_for_match("unread_count_updated", |u| u["unread_count"] == 3, WAIT).await.unwrap();
    assert_eq!(a_phone.take("conversation_settings_updated"), Vec::<Value>::new());
    let (_, list) = app.get("/api/messages/conversations", &p.a_token).await;
    assert!(ids(&list).contains(&p.conversation));
    assert_eq!(list["conversations"][0]["archived"], false);

    // Archive, unarchive by hand; the caller's own message does not unarchive.
    app.post(&path, &p.a_token, json!({})).await;
    app.post("/api/messages/send", &p.a_token, json!({"conversation_id": p.conversation, "message": "me"})).await;
    let (_, list) = app.get("/api/messages/conversations?archived=true", &p.a_token).await;
    assert_eq!(ids(&list), vec![p.conversation.clone()]);
    let (status, body) =
        app.post(&format!("/api/messages/conversations/{}/unarchive", p.conversation), &p.a_token, json!({})).await;
    assert_eq!((status.as_u16(), body["archived"].clone()), (200, json!(false)));

    // Leaving is refused; outsiders cannot archive.
    let res = app
        .http
        .delete(format!("{}/api/messages/conversations/{}/leave", app.base, p.conversation))
        .bearer_auth(&p.a_token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_error(&res.json::<Value>().await.unwrap(), "VALIDATION_FAILED");
    let (status, _) = app.post(&path, &token(&uid("eve"), "influencer"), json!({})).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn muting_silences_notifications_but_not_messages_until_it_ends() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let mute = format!("/api/messages/conversations/{}/mute", p.conversation);
    let (status, body) = app.post(&mute, &p.a_token, json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["muted_until"], "forever");
    a.wait_for("conversation_settings_updated").await.unwrap();
    let conversation = uuid::Uuid::parse_str(&p.conversation).unwrap();
    let now = app.state.clock.now();
    assert!(parley::domain::settings::muted(&app.state.db, &p.a, conversation, now).await.unwrap());
    assert!(!parley::domain::settings::muted(&app.state.db, &p.b, conversation, now).await.unwrap());

    b.ack("send_message", json!({"conversationId": p.conversation, "message": "quiet"})).await.unwrap();
    a.wait_for("new_message").await.unwrap();
    let unread = a.wait_for("unread_count_updated").await.unwrap();
    assert_eq!(unread["unread_count"], 1, "messages still count");
    let (_, list) = app.get("/api/messages/conversations", &p.a_token).await;
    assert_eq!(list["conversations"][0]["muted_until"], "forever");

    // Until a time: shown as that time, and over once it passes.
    let until = (now + chrono::Duration::hours(1)).to_rfc3339();
    let (status, body) = app.post(&mute, &p.a_token, json!({"until": until})).await;
    assert_eq!(status, 200, "{body}");
    assert!(body["muted_until"].as_str().unwrap().ends_with('Z'), "{body}");
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "still quiet"})).await.unwrap();
    a.wait_for_match("new_message", |m| m["message"]["message"] == "still quiet", WAIT).await.unwrap();
    app.state.clock.advance(Duration::from_secs(3601));
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "loud"})).await.unwrap();
    let note = a.wait_for("notification").await.unwrap();
    assert_eq!(note["data"]["message"]["message"], "loud", "only the message after the mute notified: {note}");
    assert!(a.take("notification").is_empty());

    let (status, body) = app.post(&mute, &p.a_token, json!({"until": "2001-01-01T00:00:00Z"})).await;
    assert_eq!(status, 400, "{body}");
    let (status, body) = app.post(&mute, &p.a_token, json!({"until": "soon"})).await;
    assert_eq!(status, 400, "{body}");
    app.post(&mute, &p.a_token, json!({})).await;
    let (status, body) =
        app.post(&format!("/api/messages/conversations/{}/unmute", p.conversation), &p.a_token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(body["muted_until"], Value::Null);
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "heard"})).await.unwrap();
    let note = a.wait_for("notification").await.unwrap();
    assert_eq!(note["data"]["message"]["message"], "heard");
}

#[tokio::test]
async fn an_inquiry_opens_the_conversation_with_its_notice_and_contexts_pile_up_per_pair() {
    let app = spawn().await;
    let (a, b) = (uid("guest"), uid("host"));
    let (a_token, b_token) = (token(&a, "influencer"), token(&b, "brand_owner"));
    app.get("/api/messages/unread-count", &b_token).await;
    let b_socket = app.socket(&b_token).await;
    let listing =
        json!({"type": "listing", "id": "flat-42", "title": "Sea-view flat", "url": "https://example.com/l/42"});
    let (status, body) = app
        .post(
            "/api/messages/direct-connect",
            &a_token,
            json!({"target_user_id": b, "context": listing, "initial_message": "Is it free in May?"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let c = &body["conversation"];
    assert_eq!(c["context"], listing);
    assert_eq!(c["contexts"], json!([listing]));
    assert_eq!(body["message"]["message"], "Is it free in May?");
    let id = c["id"].as_str().unwrap().to_string();
    let notice = b_socket.wait_for("new_message").await.unwrap();
    assert_eq!(notice["message"]["message_type"], "system");
    assert_eq!(notice["message"]["message"], "Inquiry about Sea-view flat");
    assert_eq!(notice["message"]["action_required"], false, "the notice tells, it asks nothing");
    assert_eq!(notice["message"]["action_data"]["type"], "context");
    let first = b_socket.wait_for("new_message").await.unwrap();
    assert_eq!(first["message"]["message"], "Is it free in May?", "the notice comes first");

    // Another context on the same pair: the same conversation, one more notice.
    let booking = json!({"type": "booking", "id": 7001});
    let (status, body) =
        app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": b, "context": booking})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversation"]["id"], id.as_str());
    assert_eq!(body["conversation"]["context"]["id"], "7001");
    assert_eq!(body["conversation"]["contexts"].as_array().unwrap().len(), 2);
    let notice = b_socket.wait_for("new_message").await.unwrap();
    assert_eq!(notice["message"]["message"], "Inquiry about booking 7001");
    // The same context again: no new notice.
    app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": b, "context": listing})).await;
    let (_, history) = app.get(&format!("/api/messages/conversations/{id}/messages"), &a_token).await;
    let notices = history["messages"].as_array().unwrap().iter().filter(|m| m["message_type"] == "system").count();
    assert_eq!(notices, 2);

    // Per-context scope: one conversation per listing.
    let other = json!({"type": "listing", "id": "flat-43"});
    let (status, body) = app
        .post(
            "/api/messages/direct-connect",
            &a_token,
            json!({"target_user_id": b, "context": other, "scope": "context"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let per_listing = body["conversation"]["id"].as_str().unwrap().to_string();
    assert_ne!(per_listing, id);
    let (status, body) = app
        .post(
            "/api/messages/direct-connect",
            &a_token,
            json!({"target_user_id": b, "context": other, "scope": "context"}),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["conversation"]["id"], per_listing.as_str());

    // Filters.
    let (_, list) = app.get("/api/messages/conversations?context_type=listing&context_id=flat-43", &b_token).await;
    assert_eq!(ids(&list), vec![per_listing.clone()]);
    let (_, list) = app.get("/api/messages/conversations?context_type=booking", &b_token).await;
    assert_eq!(ids(&list), vec![id.clone()]);
    let (_, list) = app.get("/api/messages/conversations?context_type=listing", &b_token).await;
    assert_eq!(ids(&list).len(), 2);
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{id}/context"), &b_token).await;
    assert_eq!(ctx["conversation"]["context"]["type"], "booking");
    assert_eq!(ctx["archived"], false);

    for bad in [
        json!({"type": "listing id", "id": "1"}),
        json!({"type": "listing", "id": ""}),
        json!({"type": "listing", "id": "1", "url": "ftp://x"}),
        json!({"type": "listing", "id": "1", "title": "t".repeat(201)}),
    ] {
        let (status, body) =
            app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": b, "context": bad})).await;
        assert_eq!(status, 400, "{body}");
    }
    let (status, _) =
        app.post("/api/messages/direct-connect", &a_token, json!({"target_user_id": b, "scope": "context"})).await;
    assert_eq!(status, 400, "scope context needs a context");
}

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn join_accepts_only_the_callers_own_id() {
    let app = spawn().await;
    let me = uid("me");
    let s = app.socket(&token(&me, "influencer")).await;
    let ok = s.ack("join", json!(me)).await.unwrap();
    assert_eq!(ok, json!({"success": true, "user_id": me}));
    let spoof = s.ack("join", json!("someone-else")).await.unwrap();
    assert_error(&spoof, "FORBIDDEN");
}

#[tokio::test]
async fn join_conversation_is_for_participants_and_admins() {
    let app = spawn().await;
    let p = pair(&app).await;
    let outsider = app.socket(&token(&uid("eve"), "influencer")).await;
    let denied = outsider.ack("join_conversation", json!(p.conversation)).await.unwrap();
    assert_error(&denied, "FORBIDDEN");
    let unknown = outsider.ack("join_conversation", json!(uuid::Uuid::now_v7().to_string())).await.unwrap();
    assert_error(&unknown, "NOT_FOUND");
    let garbage = outsider.ack("join_conversation", json!("not-a-uuid")).await.unwrap();
    assert_error(&garbage, "NOT_FOUND");

    let a = app.socket(&p.a_token).await;
    let ok = a.ack("join_conversation", json!(p.conversation)).await.unwrap();
    assert_eq!(ok["success"], true);
    assert_eq!(ok["conversation_context"]["id"], p.conversation.as_str());
    assert_eq!(ok["conversation_context"]["chat_status"], "real_time");
    assert_eq!(ok["presence"][&p.a]["metas"].as_array().unwrap().len(), 1);
    let again = a.ack("join_conversation", json!({"conversationId": p.conversation})).await.unwrap();
    assert_eq!(again["success"], true, "joining twice is idempotent");
    assert_eq!(again["presence"][&p.a]["metas"].as_array().unwrap().len(), 1);

    let admin = app.socket(&token(&uid("admin"), "admin")).await;
    let read = admin.ack("join_conversation", json!(p.conversation)).await.unwrap();
    assert_eq!(read["success"], true, "admins may read");
    let act = admin.ack("send_message", json!({"conversationId": p.conversation, "message": "hi"})).await.unwrap();
    assert_error(&act, "FORBIDDEN");
}

#[tokio::test]
async fn outsiders_cannot_read_history_or_context_but_admins_can() {
    let app = spawn().await;
    let p = pair(&app).await;
    let eve = token(&uid("eve"), "influencer");
    for path in [
        format!("/api/messages/conversations/{}/messages", p.conversation),
        format!("/api/messages/conversations/{}/context", p.conversation),
    ] {
        let (status, body) = app.get(&path, &eve).await;
        assert_eq!(status, 403, "{path}");
        assert_error(&body, "FORBIDDEN");
        let (status, _) = app.get(&path, &token(&uid("admin"), "admin")).await;
        assert_eq!(status, 200, "{path}");
    }
    let (status, body) = app.get(&format!("/api/messages/conversations/{}/messages", uuid::Uuid::now_v7()), &eve).await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
    let (status, body) =
        app.post("/api/messages/send", &eve, json!({"conversation_id": p.conversation, "message": "intrude"})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
}

#[tokio::test]
async fn a_left_conversation_no_longer_delivers_room_events() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let left = b.ack("leave_conversation", json!(p.conversation)).await.unwrap();
    assert_eq!(left, json!({"success": true}));
    // Typing goes to the conversation room only: b left, so b must not see it.
    a.ack("typing_start", json!({"conversationId": p.conversation})).await.unwrap();
    // A message reaches b through the user room, and it is sent after the typing event.
    a.ack("send_message", json!({"conversationId": p.conversation, "message": "marker"})).await.unwrap();
    b.wait_for("new_message").await.unwrap();
    assert!(b.peek("user_typing").is_empty(), "left the room but still got typing");
}

#[tokio::test]
async fn malformed_payloads_get_validation_errors_and_the_socket_stays_open() {
    let app = spawn().await;
    let p = pair(&app).await;
    let s = app.socket(&p.a_token).await;
    for (event, payload) in [
        ("send_message", json!("just a string")),
        ("send_message", json!({"message": "no conversation"})),
        ("mark_seen", json!({"conversationId": p.conversation})),
        ("typing_start", json!(42)),
        ("user_status", json!({"status": "sleeping"})),
        ("join_conversation", json!({})),
        ("sync_messages", json!([])),
    ] {
        let ack = s.ack(event, payload.clone()).await.unwrap();
        assert_error(&ack, "VALIDATION_FAILED");
        assert!(ack["details"].is_object(), "{event} {payload}: {ack}");
    }
    let ok = s.ack("join_conversation", json!(p.conversation)).await.unwrap();
    assert_eq!(ok["success"], true);
}

#[tokio::test]
async fn an_unknown_event_is_answered_by_ack_or_message_error() {
    let app = spawn().await;
    let p = pair(&app).await;
    let s = app.socket(&p.a_token).await;
    let ack = s.ack("send_messages", json!({"conversationId": p.conversation, "message": "typo"})).await.unwrap();
    assert_error(&ack, "VALIDATION_FAILED");
    assert!(ack["details"]["event"].as_str().unwrap().contains("send_messages"), "{ack}");
    s.emit("get_conversations", json!({}));
    let err = s.wait_for("message_error").await.unwrap();
    assert_eq!(err["error_code"], "VALIDATION_FAILED");
    let ok = s.ack("join_conversation", json!(p.conversation)).await.unwrap();
    assert_eq!(ok["success"], true, "the socket stays open");
}

#[tokio::test]
async fn an_event_sent_the_moment_the_socket_connects_is_handled() {
    let app = spawn().await;
    let p = pair(&app).await;
    // The connect handler runs as its own task; handlers must be in place
    // before the client hears it is connected, or such events are dropped.
    for i in 0..15 {
        let s = app.socket(&p.a_token).await;
        s.emit(
            "send_message",
            json!({"conversationId": p.conversation, "senderId": p.b, "message": "spoof", "clientMessageId": format!("c{i}")}),
        );
        let err = s.wait_for("message_error").await.unwrap_or_else(|e| panic!("attempt {i}: {e}"));
        assert_eq!(err["clientMessageId"], format!("c{i}"));
    }
}

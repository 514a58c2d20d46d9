use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn mark_seen_marks_up_to_a_message_and_updates_unread_counts() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let mut ids = vec![];
    for i in 0..4 {
        let ack =
            a.ack("send_message", json!({"conversationId": p.conversation, "message": format!("n{i}")})).await.unwrap();
        ids.push(ack["message"]["id"].as_str().unwrap().to_string());
    }
    // b also wrote one; it is not addressed to b, so b's receipts never touch it.
    b.ack("send_message", json!({"conversationId": p.conversation, "message": "mine"})).await.unwrap();

    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 4);
    assert_eq!(unread["conversations"][&p.conversation], 4);

    let ack = b
        .ack("mark_seen", json!({"messageId": ids[1], "conversationId": p.conversation, "userId": p.b}))
        .await
        .unwrap();
    assert_eq!(ack, json!({"success": true, "seen_count": 2}));
    let seen = a.wait_for("message_seen").await.unwrap();
    assert_eq!(seen["messageId"], ids[1].as_str());
    assert_eq!(seen["userId"], p.b.as_str());
    assert_eq!(seen["conversationId"], p.conversation.as_str());
    assert!(seen["seen_at"].is_string());
    let update = b
        .wait_for_match("unread_count_updated", |u| u["unread_count"] == 2, parley_client::DEFAULT_WAIT)
        .await
        .unwrap();
    assert_eq!(update["total_unread"], 2);

    let spoof = b
        .ack("mark_seen", json!({"messageId": ids[3], "conversationId": p.conversation, "userId": p.a}))
        .await
        .unwrap();
    assert_error(&spoof, "FORBIDDEN");
    let unknown = b
        .ack("mark_seen", json!({"messageId": uuid::Uuid::now_v7().to_string(), "conversationId": p.conversation}))
        .await
        .unwrap();
    assert_error(&unknown, "NOT_FOUND");

    let (status, rest) =
        app.post(&format!("/api/messages/conversations/{}/seen", p.conversation), &p.b_token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(rest, json!({"success": true, "seen_count": 2}));
    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 0);
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.a_token).await;
    for m in history["messages"].as_array().unwrap() {
        let to_b = m["receiver_id"] == p.b.as_str();
        assert_eq!(m["seen"], to_b, "{m}");
        assert_eq!(m["seen_at"].is_string(), to_b, "{m}");
    }
    let again = b.ack("mark_seen", json!({"messageId": ids[3], "conversationId": p.conversation})).await.unwrap();
    assert_eq!(again["seen_count"], 0);
}

/// Receipts and sends racing each other: on SQLite a transaction that reads
/// before it writes must not fail when another writer commits in between.
#[tokio::test]
async fn receipts_and_sends_racing_all_succeed() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let b = app.socket(&p.b_token).await;
    let sends =
        (0..25).map(|i| a.ack("send_message", json!({"conversationId": p.conversation, "message": format!("r{i}")})));
    let path = format!("/api/messages/conversations/{}/seen", p.conversation);
    let seen = (0..25).map(|_| app.post(&path, &p.b_token, json!({})));
    let (sends, seen) = tokio::join!(futures::future::join_all(sends), futures::future::join_all(seen));
    for ack in sends {
        assert_eq!(ack.unwrap()["success"], true);
    }
    for (status, body) in seen {
        assert_eq!(status, 200, "{body}");
    }
    let last = b.ack("sync_messages", json!({"conversationId": p.conversation})).await.unwrap()["messages"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["id"]
        .clone();
    let ack = b.ack("mark_seen", json!({"conversationId": p.conversation, "messageId": last})).await.unwrap();
    assert_eq!(ack["success"], true);
    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 0);
}

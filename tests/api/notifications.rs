//! Stored notifications (contract section 10): every `notification` event
//! is a row and carries it; new messages coalesce while unread; reads and
//! deletes reach the user's other devices.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_message_notification_is_stored_carried_and_coalesced_while_unread() {
    let app = spawn().await;
    let p = pair(&app).await;
    let b = app.socket(&p.b_token).await;
    let send = |text: &'static str| {
        let (app, p) = (&app, &p);
        async move {
            let (status, body) = app
                .post("/api/messages/send", &p.a_token, json!({ "conversation_id": p.conversation, "message": text }))
                .await;
            assert_eq!(status, 201, "{body}");
        }
    };
    send("first").await;
    let first = b.wait_for("notification").await.unwrap();
    assert_eq!(first["type"], "new_message");
    assert_eq!(first["read"], false);
    assert_eq!(first["conversation_id"], p.conversation.as_str());
    assert_eq!(first["data"]["count"], 1);
    assert_eq!(first["data"]["message"]["message"], "first");
    assert_eq!(first["body"], "first");
    assert!(first["title"].as_str().unwrap().contains(&format!("{} name", p.a)), "{first}");
    let id = first["id"].as_str().unwrap().to_string();

    send("second").await;
    let second = b.wait_for("notification").await.unwrap();
    assert_eq!(second["id"], id.as_str(), "coalesced into the same row");
    assert_eq!(second["data"]["count"], 2);
    assert_eq!(second["data"]["message"]["message"], "second");
    assert_eq!(second["body"], "second");

    let (_, listed) = app.get("/api/notifications", &p.b_token).await;
    assert_eq!(listed["success"], true);
    assert_eq!(listed["pagination"]["total"], 1, "{listed}");
    assert_eq!(listed["unread_count"], 1);
    assert_eq!(listed["notifications"][0]["id"], id.as_str());
    assert_eq!(listed["notifications"][0]["data"]["count"], 2);

    // Once read, the next message starts a new row.
    let (status, read) = app.post(&format!("/api/notifications/{id}/read"), &p.b_token, json!({})).await;
    assert_eq!(status, 200, "{read}");
    assert_eq!(read["notification"]["read"], true);
    assert_eq!(read["unread_count"], 0);
    send("third").await;
    let third =
        b.wait_for_match("notification", |n| n["body"] == "third", std::time::Duration::from_secs(5)).await.unwrap();
    assert_ne!(third["id"], id.as_str());
    assert_eq!(third["data"]["count"], 1);
    let (_, count) = app.get("/api/notifications/unread-count", &p.b_token).await;
    assert_eq!(count, json!({ "success": true, "unread_count": 1 }));
}

#[tokio::test]
async fn reads_and_deletes_reach_the_users_other_devices() {
    let app = spawn().await;
    let p = pair(&app).await;
    let phone = app.socket(&p.b_token).await;
    let laptop = app.socket(&p.b_token).await;
    app.post("/api/messages/send", &p.a_token, json!({ "conversation_id": p.conversation, "message": "hi" })).await;
    let n = phone.wait_for("notification").await.unwrap();
    laptop.wait_for("notification").await.unwrap();
    let id = n["id"].as_str().unwrap();

    // Someone else's notification is not found.
    let (status, body) = app.post(&format!("/api/notifications/{id}/read"), &p.a_token, json!({})).await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");

    app.post(&format!("/api/notifications/{id}/read"), &p.b_token, json!({})).await;
    let updated = laptop.wait_for("notifications_updated").await.unwrap();
    assert_eq!(updated["ids"], json!([id]));
    assert_eq!(updated["read"], true);
    assert_eq!(updated["unread_count"], 0);
    phone.wait_for("notifications_updated").await.unwrap();

    let res =
        app.http.delete(format!("{}/api/notifications/{id}", app.base)).bearer_auth(&p.b_token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let deleted = laptop.wait_for("notifications_updated").await.unwrap();
    assert_eq!(deleted["ids"], json!([id]));
    assert_eq!(deleted["deleted"], true);
    let (_, listed) = app.get("/api/notifications", &p.b_token).await;
    assert_eq!(listed["pagination"]["total"], 0);
}

#[tokio::test]
async fn mark_all_read_and_reading_the_conversation_read_notifications() {
    let app = spawn().await;
    let p = pair(&app).await;
    let b = app.socket(&p.b_token).await;
    app.post("/api/messages/send", &p.a_token, json!({ "conversation_id": p.conversation, "message": "one" })).await;
    b.wait_for("notification").await.unwrap();
    // Reading the conversation reads its message notification.
    let (_, seen) =
        app.post(&format!("/api/messages/conversations/{}/seen", p.conversation), &p.b_token, json!({})).await;
    assert_eq!(seen["seen_count"], 1);
    let updated = b.wait_for("notifications_updated").await.unwrap();
    assert_eq!(updated["read"], true);
    let (_, count) = app.get("/api/notifications/unread-count", &p.b_token).await;
    assert_eq!(count["unread_count"], 0);

    // A flow card is stored as action_required; mark-all-read clears everything.
    let f = app.flow("bid").await;
    let (_, listed) = app.get("/api/notifications?unread=true", &f.creator.token).await;
    assert_eq!(listed["notifications"][0]["type"], "action_required", "{listed}");
    assert_eq!(listed["notifications"][0]["title"], "Collaboration request");
    let (status, all) = app.post("/api/notifications/mark-all-read", &f.creator.token, json!({})).await;
    assert_eq!(status, 200);
    assert_eq!(all["updated"], 1);
    assert_eq!(all["unread_count"], 0);
    let (status, body) = app.get("/api/notifications?unread=maybe", &f.creator.token).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
}

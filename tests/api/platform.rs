//! The platform API (contract section 10): service tokens, notifications
//! and system messages, each idempotent by key.

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn a_service_notifies_a_user_once_per_idempotency_key() {
    let app = spawn().await;
    let p = pair(&app).await;
    let service = token("orders-service", "service");
    let b = app.socket(&p.b_token).await;
    let body = json!({
        "user_id": p.b, "type": "order.shipped", "title": "Your order shipped",
        "body": "Track it in the app", "data": {"order_id": "o-1"},
        "conversation_id": p.conversation, "idempotency_key": "ship-o-1",
    });
    let (status, first) = app.post("/api/platform/notifications", &service, body.clone()).await;
    assert_eq!(status, 201, "{first}");
    let n = &first["notification"];
    assert_eq!(n["type"], "order.shipped");
    assert_eq!(n["title"], "Your order shipped");
    assert_eq!(n["data"]["order_id"], "o-1");
    assert_eq!(n["conversation_id"], p.conversation.as_str());
    let event = b.wait_for("notification").await.unwrap();
    assert_eq!(event, *n, "the event carries the stored row");

    let (status, again) = app.post("/api/platform/notifications", &service, body).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["notification"]["id"], n["id"]);
    let (_, listed) = app.get("/api/notifications", &p.b_token).await;
    assert_eq!(listed["pagination"]["total"], 1);

    for (field, bad) in [("type", json!("Order Shipped")), ("user_id", json!("a b")), ("title", json!(""))] {
        let mut b = json!({"user_id": p.b, "type": "x", "title": "t"});
        b[field] = bad;
        let (status, err) = app.post("/api/platform/notifications", &service, b).await;
        assert_eq!(status, 400, "{field}: {err}");
        assert!(err["details"].get(field).is_some(), "{field}: {err}");
    }
}

#[tokio::test]
async fn service_and_user_powers_are_separate() {
    let app = spawn().await;
    let p = pair(&app).await;
    let service = token("orders-service", "service");
    // A user cannot call the platform API...
    let (status, body) =
        app.post("/api/platform/notifications", &p.a_token, json!({"user_id": p.b, "type": "x", "title": "t"})).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    // ...a service cannot use user routes or open a socket.
    let (status, body) = app.get("/api/messages/conversations", &service).await;
    assert_eq!(status, 403);
    assert_error(&body, "FORBIDDEN");
    match app.socket_with(parley_client::Options::token(&service)).await {
        Err(parley_client::Error::Refused(m)) => assert_eq!(m, "unauthorized"),
        Err(e) => panic!("refused for another reason: {e}"),
        Ok(_) => panic!("a service token opened a socket"),
    }
}

#[tokio::test]
async fn a_system_message_is_emitted_to_both_parties_and_stored_once() {
    let app = spawn().await;
    let p = pair(&app).await;
    let service = token("orders-service", "service");
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.socket(&p.b_token).await;
    let path = format!("/api/platform/conversations/{}/system-messages", p.conversation);
    let body = json!({"message": "Order #42 shipped", "action_data": {"order": 42}, "idempotency_key": "ship-42"});
    let (status, posted) = app.post(&path, &service, body.clone()).await;
    assert_eq!(status, 201, "{posted}");
    let m = &posted["message"];
    assert_eq!(m["message_type"], "system");
    assert_eq!(m["sender_id"], "00000000-0000-0000-0000-000000000000");
    assert_eq!(m["action_data"]["order"], 42);
    for socket in [&a, &b] {
        let got = socket.wait_for("new_message").await.unwrap();
        assert_eq!(got["message"], *m);
    }
    let (status, again) = app.post(&path, &service, body).await;
    assert_eq!(status, 200);
    assert_eq!(again["message"]["id"], m["id"]);
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.b_token).await;
    let systems: Vec<_> =
        history["messages"].as_array().unwrap().iter().filter(|m| m["message_type"] == "system").collect();
    assert_eq!(systems.len(), 1, "{history}");
    // Nobody's unread: the platform's notice is addressed to no one.
    let (_, unread) = app.get("/api/messages/unread-count", &p.b_token).await;
    assert_eq!(unread["unread_count"], 0);
    let (status, body) = app
        .post(
            "/api/platform/conversations/00000000-0000-7000-8000-000000000000/system-messages",
            &service,
            json!({"message": "x"}),
        )
        .await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
}

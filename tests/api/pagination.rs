use serde_json::{Value, json};

use crate::support::*;

async fn seed(app: &TestApp, p: &Pair, n: usize) -> Vec<String> {
    let mut ids = vec![];
    for i in 0..n {
        let t = if i % 2 == 0 { &p.a_token } else { &p.b_token };
        let (status, body) = app
            .post("/api/messages/send", t, json!({"conversation_id": p.conversation, "message": format!("m{i}")}))
            .await;
        assert_eq!(status, 201);
        ids.push(body["message"]["id"].as_str().unwrap().to_string());
    }
    ids
}

fn texts(body: &Value) -> Vec<String> {
    body["messages"].as_array().unwrap().iter().map(|m| m["message"].as_str().unwrap().to_string()).collect()
}

fn names(range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("m{i}")).collect()
}

#[tokio::test]
async fn pages_hold_newest_first_each_in_chronological_order() {
    let app = spawn().await;
    let p = pair(&app).await;
    seed(&app, &p, 25).await;
    let path = |q: &str| format!("/api/messages/conversations/{}/messages?{q}", p.conversation);
    let (_, page1) = app.get(&path("limit=10"), &p.a_token).await;
    assert_eq!(texts(&page1), names(15..25));
    assert_eq!(page1["pagination"], json!({"page": 1, "limit": 10, "total": 25, "has_more": true}));
    let (_, page3) = app.get(&path("limit=10&page=3"), &p.a_token).await;
    assert_eq!(texts(&page3), names(0..5));
    assert_eq!(page3["pagination"]["has_more"], false);
    let (_, default) = app.get(&path(""), &p.a_token).await;
    assert_eq!(default["pagination"]["limit"], 50);
    assert_eq!(texts(&default).len(), 25);
    let (_, capped) = app.get(&path("limit=1000"), &p.a_token).await;
    assert_eq!(capped["pagination"]["limit"], 100);
    let (status, body) = app.get(&path("limit=abc"), &p.a_token).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
}

#[tokio::test]
async fn before_and_after_cursors_walk_the_history() {
    let app = spawn().await;
    let p = pair(&app).await;
    let ids = seed(&app, &p, 12).await;
    let path = |q: String| format!("/api/messages/conversations/{}/messages?{q}", p.conversation);
    let (_, older) = app.get(&path(format!("before={}&limit=5", ids[10])), &p.a_token).await;
    assert_eq!(texts(&older), names(5..10));
    assert_eq!(older["pagination"]["has_more"], true);
    let (_, oldest) = app.get(&path(format!("before={}&limit=5", ids[5])), &p.a_token).await;
    assert_eq!(texts(&oldest), names(0..5));
    assert_eq!(oldest["pagination"]["has_more"], false);
    let (_, newer) = app.get(&path(format!("after={}&limit=5", ids[2])), &p.a_token).await;
    assert_eq!(texts(&newer), names(3..8));
    assert_eq!(newer["pagination"]["has_more"], true);
    let (_, newest) = app.get(&path(format!("after={}&limit=5", ids[8])), &p.a_token).await;
    assert_eq!(texts(&newest), names(9..12));
    assert_eq!(newest["pagination"]["has_more"], false);
    let (status, body) = app.get(&path(format!("after={}&before={}", ids[1], ids[3])), &p.a_token).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
    let (status, _) = app.get(&path("after=not-an-id".into()), &p.a_token).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn sync_messages_catches_up_after_a_reconnect() {
    let app = spawn().await;
    let p = pair(&app).await;
    let ids = seed(&app, &p, 3).await;
    let b = app.socket(&p.b_token).await;
    // b was offline while more arrived.
    seed(&app, &p, 4).await;
    let ack = b.ack("sync_messages", json!({"conversationId": p.conversation, "after": ids[2]})).await.unwrap();
    assert_eq!(ack["success"], true);
    assert_eq!(texts(&ack), names(0..4));
    assert_eq!(ack["has_more"], false);
    let limited =
        b.ack("sync_messages", json!({"conversationId": p.conversation, "after": ids[0], "limit": 2})).await.unwrap();
    assert_eq!(texts(&limited), vec!["m1", "m2"]);
    assert_eq!(limited["has_more"], true);
    let outsider = app.socket(&token(&uid("eve"), "influencer")).await;
    let denied = outsider.ack("sync_messages", json!({"conversationId": p.conversation})).await.unwrap();
    assert_error(&denied, "FORBIDDEN");
}

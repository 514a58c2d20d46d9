use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn typing_reaches_the_other_side_but_not_the_typists_other_sockets() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let a_other = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;

    let ack = a.ack("typing_start", json!({"conversationId": p.conversation, "userId": p.a})).await.unwrap();
    assert_eq!(ack, json!({"success": true}));
    let start = b.wait_for("user_typing").await.unwrap();
    assert_eq!(start, json!({"conversationId": p.conversation, "userId": p.a, "isTyping": true}));
    a.ack("typing_stop", json!({"conversationId": p.conversation})).await.unwrap();
    let stop = b.wait_for("user_typing").await.unwrap();
    assert_eq!(stop["isTyping"], false);

    // b types back; a's second socket sees it, and saw nothing of a's own typing before.
    b.ack("typing_start", json!({"conversationId": p.conversation})).await.unwrap();
    let seen = a_other.wait_for("user_typing").await.unwrap();
    assert_eq!(seen["userId"], p.b.as_str());
    assert!(a_other.take("user_typing").is_empty());

    let spoof = a.ack("typing_start", json!({"conversationId": p.conversation, "userId": p.b})).await.unwrap();
    assert_error(&spoof, "FORBIDDEN");
}

#[tokio::test]
async fn typing_requires_having_joined_the_conversation() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let ack = a.ack("typing_start", json!({"conversationId": p.conversation})).await.unwrap();
    assert_error(&ack, "FORBIDDEN");
}

#[tokio::test]
async fn typing_expires_on_the_server_without_a_stop() {
    let app = spawn_with(|s| s.typing_timeout = Duration::from_millis(300)).await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let started = Instant::now();
    a.ack("typing_start", json!({"conversationId": p.conversation})).await.unwrap();
    assert_eq!(b.wait_for("user_typing").await.unwrap()["isTyping"], true);
    let ended = b.wait_for("user_typing").await.unwrap();
    assert_eq!(ended["isTyping"], false);
    assert!(started.elapsed() >= Duration::from_millis(300), "expired early");
}

#[tokio::test]
async fn the_default_typing_expiry_is_eight_seconds() {
    let settings = parley::config::Settings::from_map(&Default::default()).unwrap();
    assert_eq!(settings.typing_timeout, Duration::from_secs(8));
}

#[tokio::test]
async fn admins_and_closed_conversations_get_no_typing() {
    let app = spawn().await;
    let f = app.flow("bid").await;
    let admin = app.joined(&uid("admin"), "admin", &f.conversation).await;
    let ack = admin.ack("typing_start", json!({"conversationId": f.conversation})).await.unwrap();
    assert_error(&ack, "FORBIDDEN");

    f.step(&f.creator, "reject_connection", json!({})).await;
    let ack = f.brand.socket.ack("typing_start", json!({"conversationId": f.conversation})).await.unwrap();
    assert_error(&ack, "CONVERSATION_CLOSED");
    assert!(f.creator.socket.take("user_typing").is_empty(), "nobody was told of typing");
}

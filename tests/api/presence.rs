use std::time::Duration;

use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn presence_state_and_diffs_follow_joins_and_leaves() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.joined(&p.a, "brand_owner", &p.conversation).await;
    let state = a.wait_for("presence_state").await.unwrap();
    assert_eq!(state[&p.a]["metas"][0]["status"], "online");
    assert!(state[&p.a]["metas"][0]["online_at"].is_string());
    assert!(state.get(&p.b).is_none());

    let b = app.joined(&p.b, "influencer", &p.conversation).await;
    let b_state = b.wait_for("presence_state").await.unwrap();
    assert!(b_state.get(&p.a).is_some() && b_state.get(&p.b).is_some(), "{b_state}");
    let diff =
        a.wait_for_match("presence_diff", |d| d["joins"].get(&p.b).is_some(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(diff["leaves"], json!({}));

    b.disconnect();
    let left =
        a.wait_for_match("presence_diff", |d| d["leaves"].get(&p.b).is_some(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(left["joins"], json!({}));
}

#[tokio::test]
async fn user_offline_only_when_the_last_socket_closes() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let b1 = app.socket(&p.b_token).await;
    let b2 = app.socket(&p.b_token).await;
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", p.conversation), &p.a_token).await;
    assert_eq!(ctx["other_user"]["is_online"], true);

    b1.disconnect();
    b1.wait_closed(Duration::from_secs(5)).await.unwrap();
    // A status change from b's remaining socket is the marker: no user_offline may precede it.
    b2.ack("user_status", json!({"status": "away"})).await.unwrap();
    let change = a.wait_for("user_status_change").await;
    // The first user_status_change may be b coming online; find the "away" one.
    let change = match change {
        Ok(c) if c["status"] == "away" => c,
        _ => a.wait_for_match("user_status_change", |c| c["status"] == "away", Duration::from_secs(5)).await.unwrap(),
    };
    assert_eq!(change["userId"], p.b.as_str());
    assert!(a.peek("user_offline").is_empty(), "user_offline while a socket remained");

    b2.disconnect();
    let offline = a.wait_for("user_offline").await.unwrap();
    assert_eq!(offline["userId"], p.b.as_str());
    assert!(offline["last_seen"].is_string());
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", p.conversation), &p.a_token).await;
    assert_eq!(ctx["other_user"]["is_online"], false);
    assert_eq!(ctx["other_user"]["last_seen"], offline["last_seen"]);
}

#[tokio::test]
async fn contacts_hear_when_a_user_comes_online() {
    let app = spawn().await;
    let p = pair(&app).await;
    let a = app.socket(&p.a_token).await;
    let _b = app.socket(&p.b_token).await;
    let change =
        a.wait_for_match("user_status_change", |c| c["userId"] == p.b.as_str(), Duration::from_secs(5)).await.unwrap();
    assert_eq!(change["status"], "online");
}

/// Many users leaving at once (their last-seen times are stored together):
/// each contact hears `user_offline` once, and what it says is what is stored.
#[tokio::test]
async fn a_wave_of_disconnects_stores_every_users_last_seen() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let mut pairs = vec![];
    for _ in 0..24 {
        let p = pair(&app).await;
        let watcher = app.socket(&p.a_token).await;
        let leaver = app.socket(&p.b_token).await;
        pairs.push((p, watcher, leaver));
    }
    for (_, _, leaver) in &pairs {
        leaver.disconnect();
    }
    for (p, watcher, _) in &pairs {
        let offline = watcher.wait_for("user_offline").await.unwrap();
        assert_eq!(offline["userId"], p.b.as_str());
        let (_, ctx) = app.get(&format!("/api/messages/conversations/{}/context", p.conversation), &p.a_token).await;
        assert_eq!(ctx["other_user"]["is_online"], false);
        assert_eq!(ctx["other_user"]["last_seen"], offline["last_seen"], "stored time differs from the event's");
        assert!(watcher.take("user_offline").is_empty(), "user_offline twice");
    }
}

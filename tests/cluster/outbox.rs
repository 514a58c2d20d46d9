//! Webhooks and time rules with several nodes: a delivery is attempted by
//! one node at a time and survives the death of the node attempting it;
//! expired messages are swept once; an offer expires by one transition.

use std::time::Duration;

use parley_standins::webhook::WebhookReceiver;
use serde_json::json;

use crate::{
    procs::{RedisServer, SECRET, fresh_postgres},
    tests::{WAIT, cluster, direct, post, token},
};

#[tokio::test]
async fn deliveries_survive_a_killed_node_and_no_delivery_is_attempted_twice_at_once() {
    let receiver = WebhookReceiver::start().await;
    receiver.respond_after(Duration::from_millis(700));
    let url = receiver.url();
    let c = cluster(
        2,
        &[
            ("WEBHOOK_URLS", url.as_str()),
            ("WEBHOOK_SECRET", "cluster-whsec"),
            ("WEBHOOK_EVENTS", "message.new"),
            ("WEBHOOK_TIMEOUT_MS", "2000"),
            ("RATE_LIMIT_ENABLED", "false"),
        ],
    )
    .await;
    let (a, _b, conversation) = direct(&c, "brand_owner", "influencer").await;
    let a_token = token(&a, "brand_owner");
    const SENT: usize = 12;
    for i in 0..SENT {
        let node = &c.nodes[i % 2];
        let (status, body) = post(
            &c.http,
            node,
            "/api/messages/send",
            &a_token,
            json!({"conversation_id": conversation, "message": format!("m{i}")}),
        )
        .await;
        assert_eq!(status, 201, "{body}");
    }
    // Kill a node while it holds deliveries in flight.
    receiver.wait_for(2, WAIT).await;
    c.nodes[0].kill9();
    // The survivor delivers everything, including what the dead node held
    // once its lease runs out.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let ids: std::collections::HashSet<String> = receiver
            .requests()
            .iter()
            .filter(|r| r.answered == parley_standins::webhook::Answered::Status(200))
            .map(|r| r.header("x-parley-delivery-id").unwrap().to_string())
            .collect();
        if ids.len() == SENT {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "delivered {} of {SENT}", ids.len());
        receiver.arrivals().wait_for(receiver.arrivals().count() + 1, Duration::from_secs(40)).await;
    }
    for r in receiver.requests() {
        let id = r.header("x-parley-delivery-id").unwrap();
        assert_eq!(receiver.max_concurrent(id), 1, "delivery {id} was attempted by two nodes at once");
        r.verify_signature(b"cluster-whsec", Duration::from_secs(120)).unwrap();
    }
    // Every delivery is recorded delivered: what the dead node held (sent or
    // not, but never recorded) was taken over once its lease ran out.
    let admin = token(&crate::tokens::uid("admin"), "admin");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(45);
    loop {
        let res = c
            .http
            .get(format!("{}/api/admin/webhooks/deliveries?status=delivered&limit=100", c.nodes[1].base))
            .bearer_auth(&admin)
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        if body["pagination"]["total"] == SENT {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "not all delivered: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Two nodes in this process on one database, one Redis and one clock,
/// so the test moves time for both.
struct TwoNodes {
    _redis: RedisServer,
    bases: [String; 2],
    clock: parley::domain::clock::Clock,
    http: reqwest::Client,
}

async fn two_nodes(extra: &[(&str, &str)]) -> TwoNodes {
    let redis = RedisServer::start().await;
    let database = fresh_postgres().await;
    let redis_url = redis.url();
    let mut vars = std::collections::HashMap::from([
        ("PORT", "0"),
        ("JWT_SECRET", SECRET),
        ("DATABASE_URL", database.as_str()),
        ("REDIS_URL", redis_url.as_str()),
        ("DATABASE_MAX_CONNECTIONS", "6"),
    ]);
    vars.extend(extra.iter().copied());
    let clock = parley::domain::clock::Clock::default();
    let mut bases = vec![];
    for _ in 0..2 {
        let settings = parley::config::Settings::from_map(&vars).unwrap();
        let app = parley::Application::build_with_clock(settings, clock.clone()).await.expect("node starts");
        bases.push(format!("http://127.0.0.1:{}", app.port()));
        tokio::spawn(app.run_until(std::future::pending()));
    }
    TwoNodes { _redis: redis, bases: [bases[0].clone(), bases[1].clone()], clock, http: reqwest::Client::new() }
}

impl TwoNodes {
    async fn post(&self, node: usize, path: &str, token: &str, body: serde_json::Value) -> (u16, serde_json::Value) {
        let res =
            self.http.post(format!("{}{path}", self.bases[node])).bearer_auth(token).json(&body).send().await.unwrap();
        (res.status().as_u16(), res.json().await.unwrap_or_default())
    }

    async fn get(&self, node: usize, path: &str, token: &str) -> serde_json::Value {
        self.http
            .get(format!("{}{path}", self.bases[node]))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn socket(&self, node: usize, token: &str) -> parley_client::Client {
        parley_client::connect(&self.bases[node], parley_client::Options::token(token)).await.unwrap()
    }
}

#[tokio::test]
async fn two_nodes_sweep_each_expired_message_once() {
    let n = two_nodes(&[("MESSAGE_TTL_MIN_SECONDS", "60"), ("RATE_LIMIT_ENABLED", "false")]).await;
    let (a, b) = (crate::tokens::uid("a"), crate::tokens::uid("b"));
    let (a_token, b_token) = (token(&a, "brand_owner"), token(&b, "influencer"));
    n.get(0, "/api/messages/unread-count", &b_token).await;
    let (_, body) = n.post(0, "/api/messages/direct-connect", &a_token, json!({"target_user_id": b})).await;
    let conversation = body["conversation"]["id"].as_str().unwrap().to_string();
    let listeners = [n.socket(0, &b_token).await, n.socket(1, &b_token).await];
    let mut ids = vec![];
    for i in 0..10 {
        let (status, sent) = n
            .post(
                i % 2,
                "/api/messages/send",
                &a_token,
                json!({"conversation_id": conversation, "message": format!("m{i}"), "expires_in": 120}),
            )
            .await;
        assert_eq!(status, 201, "{sent}");
        ids.push(sent["message"]["id"].as_str().unwrap().to_string());
    }
    n.clock.advance(Duration::from_secs(121));
    for listener in &listeners {
        let mut seen: Vec<String> = vec![];
        while seen.len() < ids.len() {
            let e = listener.wait_for("message_expired").await.expect("message_expired");
            seen.extend(e["message_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()));
        }
        seen.sort();
        let mut expected = ids.clone();
        expected.sort();
        assert_eq!(seen, expected, "each expired message announced once");
    }
    let history = n.get(1, &format!("/api/messages/conversations/{conversation}/messages"), &b_token).await;
    assert_eq!(history["pagination"]["total"], 0, "{history}");
}

#[tokio::test]
async fn two_nodes_expire_an_offer_by_one_transition() {
    let n = two_nodes(&[]).await;
    let (brand, creator) = (crate::tokens::uid("brand"), crate::tokens::uid("creator"));
    let (bt, ct) = (token(&brand, "brand_owner"), token(&creator, "influencer"));
    n.get(0, "/api/messages/unread-count", &ct).await;
    let (_, bid) = n.post(0, "/api/bids", &bt, json!({"title": "Reels", "max_budget": 9000})).await;
    let bid_id = bid["bid"]["id"].as_str().unwrap();
    let (_, init) = n
        .post(
            0,
            "/api/bids/automated/initialize",
            &bt,
            json!({"bid_id": bid_id, "influencer_id": creator, "proposed_amount": 4000}),
        )
        .await;
    let conversation = init["conversation"]["id"].as_str().unwrap().to_string();
    let click = |node: usize, who: &str, button: &str, data: serde_json::Value| {
        let path = format!("/api/messages/conversations/{conversation}/button-click");
        let body = json!({"button_id": button, "additional_data": data});
        let who = who.to_string();
        let n = &n;
        async move {
            let (status, body) = n.post(node, &path, &who, body).await;
            assert_eq!(status, 200, "{body}");
        }
    };
    click(0, &ct, "accept_connection", json!({})).await;
    click(1, &bt, "send_project_details", json!({"details": "Two reels"})).await;
    click(0, &ct, "accept_project", json!({})).await;
    click(1, &bt, "send_price_offer", json!({"price": 5000})).await;
    let watcher = n.socket(0, &bt).await;
    n.clock.advance(Duration::from_secs(48 * 3600 + 1));
    let changed = watcher
        .wait_for_match("conversation_state_changed", |e| e["reason"] == "offer_expired", WAIT)
        .await
        .expect("the offer expired");
    assert_eq!(changed["new_state"], "brand_owner_pricing");
    let history = n.get(1, &format!("/api/messages/conversations/{conversation}/messages"), &bt).await;
    let notices = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message"].as_str().is_some_and(|t| t.contains("expired")))
        .count();
    assert_eq!(notices, 1, "one transition, one notice: {history}");
}

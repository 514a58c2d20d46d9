use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use parley_client::{Client, Options};
use serde_json::{Value, json};

use crate::{
    procs::{Node, PrivatePostgres, RedisServer, SECRET},
    tokens::{token_for, uid},
};

pub(crate) const WAIT: Duration = Duration::from_secs(15);

pub(crate) fn token(user: &str, role: &str) -> String {
    token_for(SECRET, user, role)
}

pub(crate) struct Cluster {
    redis: RedisServer,
    env: HashMap<&'static str, String>,
    pub(crate) nodes: Vec<Node>,
    pub(crate) http: reqwest::Client,
}

pub(crate) async fn cluster(n: usize, extra: &[(&'static str, &str)]) -> Cluster {
    let redis = RedisServer::start().await;
    let mut env = HashMap::from([("DATABASE_URL", crate::procs::fresh_postgres().await), ("REDIS_URL", redis.url())]);
    for (k, v) in extra {
        env.insert(k, v.to_string());
    }
    let mut nodes = vec![];
    for _ in 0..n {
        nodes.push(Node::start(&env).await);
    }
    Cluster { redis, env, nodes, http: reqwest::Client::new() }
}

pub(crate) async fn connect(node: &Node, token: &str) -> Client {
    parley_client::connect(&node.base, Options::token(token)).await.expect("socket connects")
}

pub(crate) async fn post(http: &reqwest::Client, node: &Node, path: &str, token: &str, body: Value) -> (u16, Value) {
    let res = http.post(format!("{}{path}", node.base)).bearer_auth(token).json(&body).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn ready(http: &reqwest::Client, node: &Node) -> (u16, Value) {
    let res = http.get(format!("{}/readyz", node.base)).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

/// Polls `/readyz` until it answers `status` (readiness is a state, not an event).
async fn wait_ready(http: &reqwest::Client, node: &Node, status: u16) -> Value {
    let deadline = Instant::now() + WAIT;
    loop {
        let (s, body) = ready(http, node).await;
        if s == status {
            return body;
        }
        assert!(Instant::now() < deadline, "readyz stayed {s}: {body}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A direct conversation between two fresh users; both have presented tokens.
pub(crate) async fn direct(c: &Cluster, a_role: &str, b_role: &str) -> (String, String, String) {
    let (a, b) = (uid("a"), uid("b"));
    post(&c.http, &c.nodes[0], "/api/messages/direct-connect", &token(&b, b_role), json!({"target_user_id": a})).await;
    let (status, body) =
        post(&c.http, &c.nodes[0], "/api/messages/direct-connect", &token(&a, a_role), json!({"target_user_id": b}))
            .await;
    assert_eq!(status, 200, "{body}");
    (a, b, body["conversation"]["id"].as_str().unwrap().to_string())
}

#[tokio::test]
async fn two_nodes_share_messages_typing_receipts_and_flow_events() {
    let c = cluster(2, &[]).await;
    let (a, b, conv) = direct(&c, "brand_owner", "influencer").await;
    let on1 = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    let on2 = connect(&c.nodes[1], &token(&b, "influencer")).await;
    for s in [&on1, &on2] {
        assert_eq!(s.ack("join_conversation", json!(conv)).await.unwrap()["success"], true);
    }
    let sent = on1.ack("send_message", json!({"conversationId": conv, "message": "across nodes"})).await.unwrap();
    let got = on2.wait_for("new_message").await.unwrap();
    assert_eq!(got["message"]["id"], sent["message"]["id"]);
    on2.wait_for_match("notification", |n| n["type"] == "new_message", WAIT).await.unwrap();
    on2.wait_for("unread_count_updated").await.unwrap();

    on2.ack("typing_start", json!({"conversationId": conv})).await.unwrap();
    assert_eq!(on1.wait_for("user_typing").await.unwrap()["userId"], b.as_str());
    on2.ack("mark_seen", json!({"conversationId": conv, "messageId": sent["message"]["id"]})).await.unwrap();
    assert_eq!(on1.wait_for("message_seen").await.unwrap()["userId"], b.as_str());

    // A flow action on node 2 reaches the brand owner on node 1.
    let (brand, creator) = (uid("brand"), uid("creator"));
    let (bt, ct) = (token(&brand, "brand_owner"), token(&creator, "influencer"));
    post(&c.http, &c.nodes[1], "/api/messages/unread-count", &ct, json!({})).await;
    let (_, bid) = post(&c.http, &c.nodes[0], "/api/bids", &bt, json!({"title": "Reels"})).await;
    let (status, init) = post(
        &c.http,
        &c.nodes[0],
        "/api/bids/automated/initialize",
        &bt,
        json!({"bid_id": bid["bid"]["id"], "influencer_id": creator, "proposed_amount": 3000}),
    )
    .await;
    assert_eq!(status, 201, "{init}");
    let flow = init["conversation"]["id"].as_str().unwrap().to_string();
    let brand_socket = connect(&c.nodes[0], &bt).await;
    let creator_socket = connect(&c.nodes[1], &ct).await;
    brand_socket.ack("join_conversation", json!(flow)).await.unwrap();
    let ack = creator_socket
        .ack("button_action", json!({"conversationId": flow, "button_id": "accept_connection"}))
        .await
        .unwrap();
    assert_eq!(ack["success"], true, "{ack}");
    let changed = brand_socket.wait_for("conversation_state_changed").await.unwrap();
    assert_eq!(changed["new_state"], "brand_owner_details");
    brand_socket.wait_for_match("notification", |n| n["type"] == "action_required", WAIT).await.unwrap();
    brand_socket.wait_for("button_action").await.unwrap();
}

#[tokio::test]
async fn presence_and_user_offline_span_nodes() {
    let c = cluster(2, &[]).await;
    let (a, b, conv) = direct(&c, "brand_owner", "influencer").await;
    let a1 = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    a1.ack("join_conversation", json!(conv)).await.unwrap();
    let b2 = connect(&c.nodes[1], &token(&b, "influencer")).await;
    let joined = b2.ack("join_conversation", json!(conv)).await.unwrap();
    assert!(joined["presence"].get(&a).is_some(), "presence_state includes the other node's user: {joined}");
    assert!(joined["presence"].get(&b).is_some());
    let diff = a1.wait_for_match("presence_diff", |d| d["joins"].get(&b).is_some(), WAIT).await.unwrap();
    assert_eq!(diff["leaves"], json!({}));

    // b also connects on node 1; closing the node-2 socket is not going offline.
    let b1 = connect(&c.nodes[0], &token(&b, "influencer")).await;
    b2.disconnect();
    a1.wait_for_match("presence_diff", |d| d["leaves"].get(&b).is_some(), WAIT).await.unwrap();
    b1.ack("user_status", json!({"status": "busy"})).await.unwrap();
    a1.wait_for_match("user_status_change", |s| s["status"] == "busy", WAIT).await.unwrap();
    assert!(a1.peek("user_offline").is_empty(), "user_offline while b still had a socket");
    b1.disconnect();
    let offline = a1.wait_for("user_offline").await.unwrap();
    assert_eq!(offline["userId"], b.as_str());
    // Exactly once: a marker from a afterwards, then nothing more.
    a1.ack("user_status", json!({"status": "away"})).await.unwrap();
    assert!(a1.take("user_offline").is_empty());
}

/// Clients spread over two nodes send a steady stream with acks; one node is
/// killed with SIGKILL; its clients reconnect to the other node, rejoin and
/// catch up. Every acknowledged message is stored once and reaches its
/// receiver once.
#[tokio::test]
async fn a_killed_node_loses_nothing_and_its_users_go_offline() {
    let c = cluster(2, &[("RATE_LIMIT_ENABLED", "false")]).await;
    let pairs = 4;
    let mut convs = vec![];
    for _ in 0..pairs {
        convs.push(direct(&c, "brand_owner", "influencer").await);
    }
    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default(); // message id -> conversation
    let sent_count = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let delivered: Arc<Mutex<HashMap<String, usize>>> = Arc::default(); // message id -> deliveries after dedupe
    let raw_deliveries = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let caught_up = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let late = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    // Rung on every ack and every delivery, so the test waits on events.
    let progress = Arc::new(tokio::sync::Notify::new());
    let bases: Vec<String> = c.nodes.iter().map(|n| n.base.clone()).collect();
    let survivor = bases[0].clone();

    // A user only on node 2, watched from node 1: must go offline after the kill.
    let (watcher, ghost, _) = direct(&c, "brand_owner", "influencer").await;
    let watcher_socket = connect(&c.nodes[0], &token(&watcher, "brand_owner")).await;
    let _ghost_socket = connect(&c.nodes[1], &token(&ghost, "influencer")).await;

    let mut tasks = vec![];
    for (i, (sender, receiver, conv)) in convs.iter().cloned().enumerate() {
        // Receiver: live deliveries, then catch-up after reconnecting.
        let (delivered, raw, stop2) = (delivered.clone(), raw_deliveries.clone(), done.clone());
        let (caught_up, late, rung) = (caught_up.clone(), late.clone(), progress.clone());
        let (first, survivor2) = (bases[(i + 1) % 2].clone(), survivor.clone());
        let rconv = conv.clone();
        tasks.push(tokio::spawn(async move {
            let t = token(&receiver, "influencer");
            let mut seen: HashSet<String> = HashSet::new();
            let mut last: Option<String> = None;
            let mut base = first;
            loop {
                let s = parley_client::connect(&base, Options::token(&t)).await.unwrap();
                s.ack("join_conversation", json!(rconv)).await.unwrap();
                // Catch up on whatever arrived while away.
                catch_up(&s, &rconv, &mut last, &mut seen, &delivered, &raw, &caught_up).await;
                rung.notify_waiters();
                while !s.is_closed() {
                    match s.wait_for_match("new_message", |_| true, Duration::from_millis(200)).await {
                        Ok(m) => {
                            let id = m["message"]["id"].as_str().unwrap().to_string();
                            raw.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            if seen.insert(id.clone()) {
                                *delivered.lock().unwrap().entry(id.clone()).or_default() += 1;
                                if m["redelivered"] == true {
                                    late.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                                }
                                rung.notify_waiters();
                            }
                            if last.as_deref() < Some(id.as_str()) {
                                last = Some(id);
                            }
                        }
                        Err(_) if stop2.load(std::sync::atomic::Ordering::Relaxed) => return,
                        Err(_) => {}
                    }
                }
                base = survivor2.clone();
            }
        }));
        // Sender: a steady stream with acks; un-acked messages are sent again
        // with the same client message id after reconnecting.
        let (acked, sent, stop3, rung) = (acked.clone(), sent_count.clone(), stop.clone(), progress.clone());
        let (first, survivor3) = (bases[i % 2].clone(), survivor.clone());
        tasks.push(tokio::spawn(async move {
            let t = token(&sender, "brand_owner");
            let mut base = first;
            let mut k = 0usize;
            let mut pending: Option<usize> = None;
            'outer: loop {
                let s = parley_client::connect(&base, Options::token(&t)).await.unwrap();
                loop {
                    if stop3.load(std::sync::atomic::Ordering::Relaxed) && pending.is_none() {
                        break 'outer;
                    }
                    let n = match pending {
                        Some(n) => n,
                        None => {
                            k += 1;
                            sent.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            k
                        }
                    };
                    let body = json!({"conversationId": conv, "message": format!("m{n}"), "clientMessageId": format!("{sender}-{n}")});
                    match s.ack_within("send_message", body, Duration::from_secs(3)).await {
                        Ok(ack) if ack["success"] == true => {
                            acked.lock().unwrap().insert(ack["message"]["id"].as_str().unwrap().to_string(), conv.clone());
                            rung.notify_waiters();
                            pending = None;
                            tokio::time::sleep(Duration::from_millis(15)).await;
                        }
                        Ok(ack) => panic!("send refused: {ack}"),
                        Err(_) => {
                            pending = Some(n);
                            break;
                        }
                    }
                }
                base = survivor3.clone();
            }
        }));
    }

    // Let traffic flow, then kill node 2 mid-stream.
    assert!(until(&progress, || acked.lock().unwrap().len() >= 40, WAIT).await, "traffic did not start");
    c.nodes[1].kill9();
    let killed_at = Instant::now();
    let before_kill = acked.lock().unwrap().len();
    assert!(until(&progress, || acked.lock().unwrap().len() >= before_kill + 60, WAIT).await, "traffic did not resume");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);

    // The ghost, only ever on the dead node, goes offline for its contact.
    let offline = watcher_socket.wait_for_match("user_offline", |o| o["userId"] == ghost.as_str(), WAIT).await.unwrap();
    assert!(offline["last_seen"].is_string());
    let offline_after = killed_at.elapsed();

    // Senders finish; receivers keep listening until every acknowledged
    // message has arrived (live, by catch-up, or emitted again for a node
    // that died between commit and emit), or time runs out.
    let (receivers, senders): (Vec<_>, Vec<_>) = tasks.into_iter().enumerate().partition(|(i, _)| i % 2 == 0);
    for (_, t) in senders {
        tokio::time::timeout(Duration::from_secs(60), t).await.expect("senders finish").unwrap();
    }
    let all_delivered = || {
        let delivered = delivered.lock().unwrap();
        acked.lock().unwrap().keys().all(|id| delivered.contains_key(id))
    };
    until(&progress, all_delivered, Duration::from_secs(30)).await;
    done.store(true, std::sync::atomic::Ordering::Relaxed);
    for (_, t) in receivers {
        tokio::time::timeout(Duration::from_secs(60), t).await.expect("receivers finish").unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let delivered = delivered.lock().unwrap().clone();

    // Every acknowledged message is stored exactly once.
    use sea_orm::{ConnectionTrait, Database, Statement};
    let db = Database::connect(c.env["DATABASE_URL"].as_str()).await.unwrap();
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT id::text AS id FROM messages WHERE message_type = 'user_input'",
        ))
        .await
        .unwrap();
    let mut stored: HashMap<String, usize> = HashMap::new();
    for r in rows {
        *stored.entry(r.try_get::<String>("", "id").unwrap()).or_default() += 1;
    }
    let stored_acked = acked.keys().filter(|id| stored.get(*id) == Some(&1)).count();
    let delivered_acked = acked.keys().filter(|id| delivered.get(*id) == Some(&1)).count();
    println!(
        "node death: sent {} acked {} stored {} (acked and stored once {}) delivered once {} \
         (by catch-up after reconnecting {}, emitted again by a surviving node {}; raw deliveries {} before de-duplication by id), \
         user_offline {:?} after the kill",
        sent_count.load(std::sync::atomic::Ordering::Relaxed),
        acked.len(),
        stored.len(),
        stored_acked,
        delivered_acked,
        caught_up.load(std::sync::atomic::Ordering::Relaxed),
        late.load(std::sync::atomic::Ordering::Relaxed),
        raw_deliveries.load(std::sync::atomic::Ordering::Relaxed),
        offline_after,
    );
    assert!(stored.values().all(|n| *n == 1));
    assert_eq!(stored_acked, acked.len(), "an acknowledged message is missing from the database");
    assert_eq!(delivered_acked, acked.len(), "an acknowledged message never reached its receiver");
    assert!(stored.len() >= acked.len());
}

/// Waits (on acks and deliveries, never a fixed sleep) until `done` holds.
async fn until(progress: &tokio::sync::Notify, done: impl Fn() -> bool, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    loop {
        let rung = progress.notified();
        tokio::pin!(rung);
        rung.as_mut().enable();
        if done() {
            return true;
        }
        if tokio::time::timeout_at(deadline.into(), rung).await.is_err() {
            return done();
        }
    }
}

/// `sync_messages` after `last` until nothing is left; counts what it adds.
async fn catch_up(
    s: &Client,
    conv: &str,
    last: &mut Option<String>,
    seen: &mut HashSet<String>,
    delivered: &Mutex<HashMap<String, usize>>,
    raw: &std::sync::atomic::AtomicUsize,
    counter: &std::sync::atomic::AtomicUsize,
) {
    loop {
        let after = last.clone().unwrap_or_else(|| uuid::Uuid::nil().to_string());
        let synced = s.ack("sync_messages", json!({"conversationId": conv, "after": after})).await.unwrap();
        for m in synced["messages"].as_array().unwrap() {
            let id = m["id"].as_str().unwrap().to_string();
            raw.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if seen.insert(id.clone()) {
                *delivered.lock().unwrap().entry(id.clone()).or_default() += 1;
                counter.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            *last = Some(id);
        }
        if synced["has_more"] != true {
            return;
        }
    }
}

#[tokio::test]
async fn sigterm_finishes_in_flight_acks_then_closes_sockets() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}?mode=rwc", dir.path().join("drain.db").display());
    let env = HashMap::from([("DATABASE_URL", db.clone()), ("RATE_LIMIT_ENABLED", "false".into())]);
    let mut node = Node::start(&env).await;
    let http = reqwest::Client::new();
    let (a, b) = (uid("a"), uid("b"));
    let (status, body) =
        post(&http, &node, "/api/messages/direct-connect", &token(&a, "brand_owner"), json!({"target_user_id": b}))
            .await;
    assert_eq!(status, 201);
    let conv = body["conversation"]["id"].as_str().unwrap().to_string();
    let s = Arc::new(connect(&node, &token(&a, "brand_owner")).await);
    let sends: Vec<_> = (0..30)
        .map(|i| {
            let s = s.clone();
            let conv = conv.clone();
            tokio::spawn(async move {
                s.ack("send_message", json!({"conversationId": conv, "message": format!("drain {i}")})).await
            })
        })
        .collect();
    // Once the server is answering, ask it to stop.
    s.wait_for("new_message").await.unwrap();
    node.terminate();
    let mut ok = 0;
    for t in sends {
        let ack = t.await.unwrap().expect("every in-flight send is acknowledged");
        assert_eq!(ack["success"], true, "{ack}");
        ok += 1;
    }
    assert_eq!(ok, 30);
    s.wait_closed(WAIT).await.expect("the socket is closed after the acks");
    let status = node.wait_exit(WAIT).await;
    assert!(status.success(), "exit {status:?}\n{}", node.logs());
    assert!(node.logs().contains("shutting down"));

    // Everything acknowledged was stored.
    let again = Node::start(&env).await;
    let res = http
        .get(format!("{}/api/messages/conversations/{conv}/messages?limit=100", again.base))
        .bearer_auth(token(&a, "brand_owner"))
        .send()
        .await
        .unwrap();
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["pagination"]["total"], 30);
}

#[tokio::test]
async fn delivery_resumes_after_redis_restarts_and_readiness_follows() {
    let mut c = cluster(2, &[]).await;
    let (a, b, conv) = direct(&c, "brand_owner", "influencer").await;
    let (x, y, local_conv) = direct(&c, "brand_owner", "influencer").await;
    let a1 = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    let b2 = connect(&c.nodes[1], &token(&b, "influencer")).await;
    let x1 = connect(&c.nodes[0], &token(&x, "brand_owner")).await;
    let y1 = connect(&c.nodes[0], &token(&y, "influencer")).await;
    a1.ack("send_message", json!({"conversationId": conv, "message": "before"})).await.unwrap();
    b2.wait_for("new_message").await.unwrap();
    assert_eq!(ready(&c.http, &c.nodes[0]).await.0, 200);

    c.redis.stop().await;
    let body = wait_ready(&c.http, &c.nodes[0], 503).await;
    assert_eq!(body["checks"]["redis"], "unreachable");
    // The node keeps serving its own sockets, and sends are stored.
    let sent = x1.ack("send_message", json!({"conversationId": local_conv, "message": "during"})).await.unwrap();
    assert_eq!(sent["success"], true);
    let got = y1.wait_for("new_message").await.unwrap();
    assert_eq!(got["message"]["message"], "during");
    let during =
        a1.ack("send_message", json!({"conversationId": conv, "message": "while redis is down"})).await.unwrap();
    assert_eq!(during["success"], true, "the database still takes messages");

    c.redis.restart().await;
    wait_ready(&c.http, &c.nodes[0], 200).await;
    wait_ready(&c.http, &c.nodes[1], 200).await;
    // Cross-node delivery resumes without restarting the nodes.
    let deadline = Instant::now() + WAIT;
    let mut n = 0;
    loop {
        n += 1;
        let text = format!("after {n}");
        a1.ack("send_message", json!({"conversationId": conv, "message": text})).await.unwrap();
        if b2
            .wait_for_match("new_message", |m| m["message"]["message"] == text.as_str(), Duration::from_millis(500))
            .await
            .is_ok()
        {
            break;
        }
        assert!(Instant::now() < deadline, "cross-node delivery did not resume");
    }
    // What b missed during the outage is there to catch up on.
    let synced = b2.ack("sync_messages", json!({"conversationId": conv})).await.unwrap();
    assert!(synced["messages"].as_array().unwrap().iter().any(|m| m["message"] == "while redis is down"));
}

#[tokio::test]
async fn the_rate_limit_holds_across_nodes() {
    let c = cluster(2, &[("RATE_LIMIT_MESSAGES_BURST", "4"), ("RATE_LIMIT_MESSAGES_PER_SECOND", "0.2")]).await;
    let (a, b, conv) = direct(&c, "brand_owner", "influencer").await;
    let on1 = connect(&c.nodes[0], &token(&a, "brand_owner")).await;
    let on2 = connect(&c.nodes[1], &token(&a, "brand_owner")).await;
    for (i, s) in [&on1, &on2, &on1, &on2].iter().enumerate() {
        let ack = s.ack("send_message", json!({"conversationId": conv, "message": format!("ok {i}")})).await.unwrap();
        assert_eq!(ack["success"], true, "{ack}");
    }
    for s in [&on1, &on2] {
        let ack = s.ack("send_message", json!({"conversationId": conv, "message": "flood"})).await.unwrap();
        assert_eq!(ack["error_code"], "RATE_LIMITED", "{ack}");
        assert!(ack["details"]["retry_after_ms"].as_u64().unwrap() > 0);
    }
    let (status, body) = post(
        &c.http,
        &c.nodes[1],
        "/api/messages/send",
        &token(&a, "brand_owner"),
        json!({"conversation_id": conv, "message": "rest flood"}),
    )
    .await;
    assert_eq!(status, 429, "{body}");
    // Someone else chatting normally is not affected.
    let other = connect(&c.nodes[1], &token(&b, "influencer")).await;
    let ack = other.ack("send_message", json!({"conversationId": conv, "message": "hello"})).await.unwrap();
    assert_eq!(ack["success"], true);
}

#[tokio::test]
async fn redis_without_postgres_refuses_to_start() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_parley"))
        .env_clear()
        .env("REDIS_URL", "redis://127.0.0.1:1")
        .env("DATABASE_URL", "sqlite://nowhere.db?mode=rwc")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let text = String::from_utf8_lossy(&out.stderr).to_string() + &String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("REDIS_URL") && text.contains("PostgreSQL"), "{text}");
}

#[tokio::test]
async fn a_database_outage_fails_sends_and_recovers() {
    let pg = PrivatePostgres::start().await;
    let env = HashMap::from([("DATABASE_URL", pg.database().await), ("RATE_LIMIT_ENABLED", "false".into())]);
    let node = Node::start(&env).await;
    let http = reqwest::Client::new();
    let (a, b) = (uid("a"), uid("b"));
    let (_, body) =
        post(&http, &node, "/api/messages/direct-connect", &token(&a, "brand_owner"), json!({"target_user_id": b}))
            .await;
    let conv = body["conversation"]["id"].as_str().unwrap().to_string();
    let s = connect(&node, &token(&a, "brand_owner")).await;
    assert_eq!(s.ack("send_message", json!({"conversationId": conv, "message": "up"})).await.unwrap()["success"], true);

    pg.stop_server();
    let started = Instant::now();
    let down = s
        .ack_within("send_message", json!({"conversationId": conv, "message": "down"}), Duration::from_secs(30))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", node.logs()));
    println!("send during the outage answered in {:?}", started.elapsed());
    assert_eq!(down["success"], false, "never a false success: {down}");
    assert_eq!(down["error_code"], "INTERNAL");
    assert!(!down.to_string().contains("postgres"), "no database detail leaks: {down}");
    let body = wait_ready(&http, &node, 503).await;
    assert_eq!(body["checks"]["database"], "unreachable");

    pg.start_server();
    wait_ready(&http, &node, 200).await;
    let deadline = Instant::now() + WAIT;
    loop {
        let ack = s.ack("send_message", json!({"conversationId": conv, "message": "back"})).await.unwrap();
        if ack["success"] == true {
            break;
        }
        assert!(Instant::now() < deadline, "sends did not recover: {ack}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

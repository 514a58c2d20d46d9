//! `GET /api/admin/analytics` on a generated data set: the test moves the
//! clock through three days of messages at chosen hours and works out every
//! figure itself, then compares.

use std::{collections::BTreeMap, time::Duration};

use chrono::{DateTime, Timelike, Utc};
use serde_json::{Value, json};

use parley::domain::moderation::analytics::rollup;

use crate::support::*;

/// Moves the test clock forward to `at`.
fn move_to(app: &TestApp, at: DateTime<Utc>) {
    let now = app.state.clock.now();
    if at > now {
        app.state.clock.advance((at - now).to_std().unwrap());
    }
}

#[tokio::test]
async fn figures_match_a_generated_data_set() {
    let app = spawn_with(|s| {
        s.rate_limits.enabled = false;
        s.time_rules.offer_ttl = Duration::from_secs(90 * 86400);
    })
    .await;
    let admin = token(&uid("admin"), "admin");
    let day0 = app.state.clock.now().date_naive();

    // Day 0: three direct conversations and two bid conversations, one
    // priced and one closed early. No user messages yet.
    let pairs = [pair(&app).await, pair(&app).await, pair(&app).await];
    let priced = app.flow("bid").await;
    priced.step(&priced.creator, "accept_connection", json!({})).await;
    priced.step(&priced.brand, "send_project_details", json!({ "details": "Three reels" })).await;
    priced.step(&priced.creator, "accept_project", json!({})).await;
    assert_eq!(
        priced.step(&priced.brand, "send_price_offer", json!({ "price": 5000 })).await,
        "influencer_price_response"
    );
    let closed = app.flow("bid").await;
    assert_eq!(closed.step(&closed.creator, "reject_connection", json!({})).await, "chat_closed");
    // Orders as the gateway leaves them: one paid, one failed (the flow's
    // own payment path has its tests; here only the figures matter).
    let now = app.state.clock.now();
    for (status, paise) in [("paid", 500_000i64), ("failed", 250_000)] {
        insert_order(&app, &priced.conversation, status, paise, now).await;
    }

    // Days 1–3: messages at chosen hours, sender alternating as listed.
    let start = (day0 + chrono::Duration::days(1)).and_hms_opt(0, 0, 0).unwrap().and_utc();
    // (minutes after day 1 00:00, conversation, sender is the first user)
    let plan: &[(i64, usize, bool)] = &[
        (60 + 5, 0, true),
        (60 + 8, 0, false), // reply after 3 min
        (60 + 20, 1, true),
        (2 * 60, 1, false), // 40 min
        (9 * 60, 0, true),  // 7 h 52 min after the other's last
        (9 * 60 + 1, 0, true),
        (1440 + 9 * 60 + 30, 2, false),
        (1440 + 10 * 60, 2, true), // 30 min
        (1440 + 23 * 60 + 10, 1, true),
        (2 * 1440 + 9 * 60 + 15, 1, false), // 10 h 5 min
        (2 * 1440 + 9 * 60 + 16, 2, false),
        (2 * 1440 + 21 * 60, 0, false),
    ];
    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    let mut hours = [0i64; 24];
    let mut senders = std::collections::HashSet::new();
    let mut last: BTreeMap<usize, (bool, DateTime<Utc>)> = BTreeMap::new();
    let mut gaps: Vec<i64> = vec![];
    for (minutes, conv, first) in plan {
        move_to(&app, start + chrono::Duration::minutes(*minutes));
        let p = &pairs[*conv];
        let (who, tok) = if *first { (&p.a, &p.a_token) } else { (&p.b, &p.b_token) };
        let (status, sent) = app
            .post("/api/messages/send", tok, json!({ "conversation_id": p.conversation, "message": "hello there" }))
            .await;
        assert_eq!(status, 201, "{sent}");
        let at: DateTime<Utc> = sent["message"]["created_at"].as_str().unwrap().parse().unwrap();
        *per_day.entry(at.date_naive().to_string()).or_default() += 1;
        hours[at.hour() as usize] += 1;
        senders.insert(who.clone());
        if let Some((prev_first, prev_at)) = last.get(conv)
            && prev_first != first
        {
            gaps.push((at - *prev_at).num_milliseconds());
        }
        last.insert(*conv, (*first, at));
    }
    gaps.sort_unstable();
    let rank = |p: f64| gaps[((p * gaps.len() as f64).ceil() as usize).max(1) - 1];

    let from = (day0 + chrono::Duration::days(1)).to_string();
    let to = (day0 + chrono::Duration::days(3)).to_string();
    let (status, body) = app.get(&format!("/api/admin/analytics?from={from}&to={to}"), &admin).await;
    assert_eq!(status, 200, "{body}");
    let m = &body["messages"];
    assert_eq!(m["total"], plan.len(), "{body}");
    assert_eq!(m["by_type"], json!({ "user_input": plan.len() }));
    let days: Vec<Value> = per_day.iter().map(|(d, n)| json!({ "date": d, "count": n })).collect();
    assert_eq!(m["per_day"], json!(days));
    assert_eq!(m["peak_hours"], json!(hours));
    assert_eq!(m["unique_senders"], senders.len());
    assert_eq!(body["conversations"], json!({ "started": 0, "by_type": {} }), "all started on day 0");
    assert_eq!(body["flow"]["funnel"]["started"], 0);
    // Reply times are kept to three significant digits (within 0.1 %).
    for (p, field) in [(0.5, "p50"), (0.9, "p90")] {
        let got = body["response_time_ms"][field].as_i64().unwrap();
        let want = rank(p);
        assert!((got - want).abs() <= want / 1000 + 1, "{field} {got} vs {want}: {gaps:?}");
    }

    // The same figures once the aggregator has folded every message into
    // the rollups (before, the last ones were read from the tail).
    let now = app.state.clock.now();
    app.state.clock.advance(rollup::SETTLE.to_std().unwrap() + Duration::from_secs(1));
    while rollup::advance(&app.state.db, app.state.clock.now()).await.unwrap().folded > 0 {}
    let (status, rolled) = app.get(&format!("/api/admin/analytics?from={from}&to={to}"), &admin).await;
    assert_eq!(status, 200, "{rolled}");
    assert_eq!(rolled, body, "rollups and tail disagree");
    let through = watermark(&app).await;
    assert!(through.is_some_and(|t| t >= now), "the aggregator caught up: {through:?} vs {now}");

    // Day 0 alone: the conversations and the flow funnel.
    let (status, body) = app.get(&format!("/api/admin/analytics?from={day0}&to={day0}"), &admin).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["conversations"], json!({ "started": 5, "by_type": { "direct": 3, "bid": 2 } }));
    assert_eq!(
        body["flow"]["funnel"],
        json!({ "started": 2, "priced": 1, "paid": 1, "approved": 0, "closed_early": 1 })
    );
    assert_eq!(body["flow"]["by_state"], json!({ "influencer_price_response": 1, "chat_closed": 1 }));
    assert_eq!(body["messages"]["by_type"]["user_input"], Value::Null, "no user messages on day 0");
    assert!(body["messages"]["total"].as_i64().unwrap() > 0, "flow cards and notices are counted");
    assert_eq!(body["payments"], json!({ "completed": 1, "failed": 1, "amount_paise": 500_000 }));
}

#[tokio::test]
async fn several_aggregators_at_once_count_each_message_once() {
    let app = spawn_with(|s| s.rate_limits.enabled = false).await;
    let admin = token(&uid("admin"), "admin");
    let pairs = [pair(&app).await, pair(&app).await, pair(&app).await];
    // All within the settle time, so none is folded before the race.
    let mut sent = 0;
    for round in 0..20 {
        for p in &pairs {
            let tok = if round % 2 == 0 { &p.a_token } else { &p.b_token };
            let (status, body) = app
                .post("/api/messages/send", tok, json!({ "conversation_id": p.conversation, "message": "hi" }))
                .await;
            assert_eq!(status, 201, "{body}");
            sent += 1;
        }
    }
    let today = app.state.clock.now().date_naive();
    let path = format!("/api/admin/analytics?from={today}&to={today}");
    let (_, before) = app.get(&path, &admin).await;
    assert_eq!(before["messages"]["by_type"]["user_input"], sent, "{before}");

    // Eight aggregators (as on eight nodes) race for the same messages.
    app.state.clock.advance(rollup::SETTLE.to_std().unwrap() + Duration::from_secs(1));
    let now = app.state.clock.now();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let db = app.state.db.clone();
            tokio::spawn(async move {
                let mut folded = 0;
                loop {
                    match rollup::advance(&db, now).await.unwrap().folded {
                        0 => return folded,
                        n => folded += n,
                    }
                }
            })
        })
        .collect();
    let mut folded = 0;
    for racer in racers {
        folded += racer.await.unwrap();
    }
    let stored = count_messages(&app).await;
    assert!(folded <= stored, "{folded} folds for {stored} messages: some were folded twice");
    let (_, after) = app.get(&path, &admin).await;
    assert_eq!(after, before, "the figures moved when the rollups took over from the tail");
    assert!(watermark(&app).await.is_some_and(|t| t >= now - rollup::SETTLE), "caught up");
}

async fn count_messages(app: &TestApp) -> u64 {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.state.db.get_database_backend();
    let row = app.state.db.query_one_raw(Statement::from_string(backend, "SELECT count(*) AS n FROM messages")).await;
    row.unwrap().unwrap().try_get::<i64>("", "n").unwrap() as u64
}

async fn insert_order(app: &TestApp, conversation: &str, status: &str, paise: i64, at: DateTime<Utc>) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let backend = app.state.db.get_database_backend();
    let sql = "INSERT INTO payment_orders (id, conversation_id, gateway_order_id, amount_paise, currency, status, \
               created_at, updated_at) VALUES ($1, $2, $3, $4, 'INR', $5, $6, $6)";
    let sql = if backend == DbBackend::Postgres { sql.to_string() } else { sql.replace('$', "?") };
    let id = uuid::Uuid::now_v7();
    let values: Vec<sea_orm::Value> = vec![
        id.into(),
        uuid::Uuid::parse_str(conversation).unwrap().into(),
        format!("order_{}", id.simple()).into(),
        paise.into(),
        status.into(),
        at.into(),
    ];
    app.state.db.execute_raw(Statement::from_sql_and_values(backend, sql, values)).await.unwrap();
}

/// Every message created up to this time is in the rollups.
async fn watermark(app: &TestApp) -> Option<DateTime<Utc>> {
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.state.db.get_database_backend();
    let sql = "SELECT through FROM analytics_watermark WHERE id = 1";
    let row = app.state.db.query_one_raw(Statement::from_string(backend, sql)).await.unwrap().unwrap();
    row.try_get("", "through").unwrap()
}

//! Regressions for what a black-box probe found when it tried the server as
//! an attacker, a sloppy client, a new user and an operator would.

use std::time::Duration;

use serde_json::{Value, json};

use crate::{
    gateway,
    payments::{order_id_of, paying_setup, proceed, state_of, webhook},
    support::*,
};

const WAIT: Duration = Duration::from_secs(10);
const SYSTEM: &str = "00000000-0000-0000-0000-000000000000";

#[tokio::test]
async fn a_huge_page_is_a_validation_error_on_every_list() {
    let app = spawn().await;
    let p = pair(&app).await;
    let lists = [
        "/api/messages/conversations".to_string(),
        format!("/api/messages/conversations/{}/messages", p.conversation),
        "/api/messages/direct-connections".to_string(),
        "/api/notifications".to_string(),
        "/api/campaigns".to_string(),
    ];
    for list in lists {
        for page in ["92233720368547760", "18446744073709551615", "1000001"] {
            let (status, body) = app.get(&format!("{list}?page={page}&limit=100"), &p.a_token).await;
            assert_eq!(status, 400, "{list} page {page}: {body}");
            assert_error(&body, "VALIDATION_FAILED");
            assert!(body["details"]["page"].is_string(), "{body}");
        }
        let (status, body) = app.get(&format!("{list}?page=1000000&limit=100"), &p.a_token).await;
        assert_eq!(status, 200, "{list}: the last allowed page is an empty page: {body}");
    }
}

#[tokio::test]
async fn over_long_claims_fit_their_columns_on_every_database() {
    let app = spawn().await;
    let id = uid("long");
    let claims = json!({
        "id": id, "role": "r".repeat(300), "name": "n".repeat(5000), "email": "e".repeat(5000),
        "phone": "9".repeat(300), "exp": exp_in(600),
    });
    let t = sign(claims, SECRET);
    let (status, body) = app.get("/api/messages/unread-count", &t).await;
    assert_eq!(status, 200, "{body}");
    let s = app.socket(&t).await;
    let ack = s.ack("join", json!(id)).await.unwrap();
    assert_eq!(ack["success"], true, "{ack}");
}

#[tokio::test]
async fn an_oversized_websocket_frame_closes_the_socket_unread() {
    let app = spawn().await;
    let p = pair(&app).await;
    let s = app.socket(&p.a_token).await;
    s.emit("send_message", json!({"conversationId": p.conversation, "message": "x".repeat(2_000_000)}));
    s.wait_closed(WAIT).await.expect("the server closes a socket that sends a frame over maxPayload");
    let (_, history) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.a_token).await;
    assert_eq!(history["messages"].as_array().unwrap().len(), 0);
    // A frame under the limit is read and answered as usual.
    let s = app.socket(&p.a_token).await;
    let ack = s.ack("send_message", json!({"conversationId": p.conversation, "message": "y".repeat(90_000)})).await;
    assert_error(&ack.unwrap(), "VALIDATION_FAILED");
}

#[tokio::test]
async fn over_long_webhook_ids_are_400_and_failure_reasons_are_bounded() {
    let (_standin, app, f) = paying_setup().await;
    let (_, ack) = proceed(&app, &f).await;
    let order = order_id_of(&ack);
    let capture = serde_json::to_vec(&gateway::captured(&order, "pay_ok", 400_000)).unwrap();
    let (status, body) = webhook(&app, &capture, Some(&"e".repeat(129)), None).await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "VALIDATION_FAILED");
    let long_payment = serde_json::to_vec(&gateway::captured(&order, &"p".repeat(65), 400_000)).unwrap();
    let (status, body) = webhook(&app, &long_payment, Some("evt_long_pay"), None).await;
    assert_eq!(status, 400, "{body}");
    assert_error(&body, "VALIDATION_FAILED");

    // order.paid without its payment entity does not complete the order.
    let mut paid = gateway::order_paid(&order, "pay_x", 400_000);
    paid["payload"].as_object_mut().unwrap().remove("payment");
    let (status, body) = webhook(&app, &serde_json::to_vec(&paid).unwrap(), Some("evt_no_pay"), None).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(state_of(&app, &f).await.0, "payment_pending");

    let mut failed = gateway::failed(&order, "pay_f", 400_000);
    failed["payload"]["payment"]["entity"]["error_description"] = json!("d".repeat(100_000));
    let (status, _) = webhook(&app, &serde_json::to_vec(&failed).unwrap(), Some("evt_long_reason"), None).await;
    assert_eq!(status, 200);
    let retry = f
        .brand
        .socket
        .wait_for_match("new_message", |m| m["message"]["action_data"]["title"] == "Payment failed", WAIT)
        .await
        .unwrap();
    let text = retry["message"]["message"].as_str().unwrap();
    assert!(text.chars().count() <= 5000, "system message of {} characters", text.chars().count());
    let subtitle = retry["message"]["action_data"]["subtitle"].as_str().unwrap();
    assert!(subtitle.chars().count() <= 600, "card subtitle of {} characters", subtitle.chars().count());
}

#[tokio::test]
async fn a_huge_webhook_body_gets_the_envelope_with_a_request_id() {
    let app = spawn().await;
    let res = app
        .http
        .post(format!("{}/webhook/razorpay", app.base))
        .header("content-type", "application/json")
        .body(vec![b' '; 3 * 1024 * 1024])
        .send()
        .await
        .unwrap();
    assert!(res.headers().contains_key("x-request-id"));
    assert!(res.status().is_client_error(), "{}", res.status());
    let body: Value = res.json().await.unwrap();
    assert_error(&body, "VALIDATION_FAILED");
    assert!(body["details"].is_object(), "{body}");
}

#[tokio::test]
async fn details_is_always_an_object() {
    let app = spawn().await;
    let t = token(&uid("d"), "influencer");
    let (status, body) = app.get(&format!("/api/messages/conversations/{}/context", uuid::Uuid::now_v7()), &t).await;
    assert_eq!(status, 404);
    assert_eq!(body["details"], json!({}), "{body}");
    let (status, body) = app.get("/api/messages/unread-count", "not-a-token").await;
    assert_eq!(status, 401);
    assert_eq!(body["details"], json!({}), "{body}");
}

#[tokio::test]
async fn trailing_content_after_the_json_body_is_malformed() {
    let app = spawn().await;
    let p = pair(&app).await;
    for body in [
        format!(r#"{{"conversation_id":"{}","message":"hi"}} xyz"#, p.conversation),
        format!(
            r#"{{"conversation_id":"{0}","message":"hi"}}{{"conversation_id":"{0}","message":"hi"}}"#,
            p.conversation
        ),
    ] {
        let res = app
            .http
            .post(format!("{}/api/messages/send", app.base))
            .bearer_auth(&p.a_token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400);
        assert_error(&res.json().await.unwrap(), "VALIDATION_FAILED");
    }
}

#[tokio::test]
async fn the_system_user_cannot_be_invited_nor_named_by_a_token() {
    let app = spawn().await;
    let owner = token(&uid("owner"), "brand_owner");
    let campaign = app.create_campaign(&owner).await;
    let (status, body) = app
        .post("/api/campaigns/automated/initialize", &owner, json!({"campaign_id": campaign, "influencer_id": SYSTEM}))
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    assert_eq!(body["success"], false);
    let bid = app.create_bid(&owner).await;
    let (status, body) = app
        .post(
            "/api/bids/automated/initialize",
            &owner,
            json!({"bid_id": bid, "influencer_id": SYSTEM, "proposed_amount": 100}),
        )
        .await;
    assert!(status.is_client_error(), "{status} {body}");
    let (status, body) = app.get("/api/messages/unread-count", &token(SYSTEM, "admin")).await;
    assert_eq!(status, 401, "{body}");
    assert!(app.socket_with(parley_client::Options::token(&token(SYSTEM, "influencer"))).await.is_err());
}

#[tokio::test]
async fn the_bearer_scheme_word_is_case_insensitive() {
    let app = spawn().await;
    let t = token(&uid("case"), "influencer");
    for scheme in ["Bearer", "bearer", "BEARER", "bEaReR"] {
        let res = app
            .http
            .get(format!("{}/api/messages/unread-count", app.base))
            .header("authorization", format!("{scheme} {t}"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{scheme}");
    }
}

#[tokio::test]
async fn an_ackless_failure_names_a_snake_case_client_message_id() {
    let app = spawn().await;
    let p = pair(&app).await;
    let s = app.socket(&p.a_token).await;
    s.emit("send_message", json!({"conversationId": p.conversation, "message": "", "client_message_id": "c-snake"}));
    let err = s.wait_for("message_error").await.unwrap();
    assert_eq!(err["clientMessageId"], "c-snake", "{err}");
    assert_eq!(err["error_code"], "VALIDATION_FAILED");
}

#[tokio::test]
async fn api_and_pages_carry_security_headers() {
    let app = spawn().await;
    let t = token(&uid("h"), "influencer");
    for path in ["/api/messages/unread-count", "/api/nope", "/healthz"] {
        let res = app.http.get(format!("{}{path}", app.base)).bearer_auth(&t).send().await.unwrap();
        let h = res.headers();
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert!(h["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"), "{path}");
    }
}

#[tokio::test]
async fn metrics_are_openmetrics_and_can_require_a_token() {
    let app = spawn().await;
    app.get("/healthz", "").await;
    let res = reqwest::get(format!("{}/metrics", app.base)).await.unwrap();
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = res.text().await.unwrap();
    for name in [
        "parley_build_info{version=",
        "parley_db_pool_connections ",
        "process_resident_memory_bytes ",
        "process_cpu_seconds_total ",
        "# TYPE parley_http_request_duration_seconds histogram",
        "# EOF",
    ] {
        assert!(text.contains(name), "{name} missing from\n{text}");
    }
    let guarded = spawn_with(|s| s.metrics_token = Some(parley::config::Secret::new("scrape-me"))).await;
    let url = format!("{}/metrics", guarded.base);
    let res = guarded.http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_error(&res.json().await.unwrap(), "UNAUTHORIZED");
    let res = guarded.http.get(&url).bearer_auth("wrong").send().await.unwrap();
    assert_eq!(res.status(), 401);
    let res = guarded.http.get(&url).bearer_auth("scrape-me").send().await.unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_request_past_the_timeout_is_a_503_envelope() {
    let app = spawn_with(|s| s.request_timeout = Duration::ZERO).await;
    // The deadline is checked after the handler's first poll, so a handler that finishes
    // without waiting beats even a zero deadline (the unread count once did, in CI). The
    // conversation list always waits on the database first.
    let (status, body) = app.get("/api/messages/conversations", &token(&uid("slow"), "influencer")).await;
    assert_eq!(status, 503, "{body}");
    assert_error(&body, "INTERNAL");
}

#[tokio::test]
async fn too_many_headers_and_over_long_urls_get_the_envelope() {
    let app = spawn().await;
    let t = token(&uid("heads"), "influencer");
    let mut req = app.http.get(format!("{}/api/messages/unread-count", app.base)).bearer_auth(&t);
    for i in 0..150 {
        req = req.header(format!("x-extra-{i}"), "1");
    }
    let res = req.send().await.unwrap();
    assert_eq!(res.status(), 431);
    assert!(res.headers().contains_key("x-request-id"));
    assert_error(&res.json().await.unwrap(), "VALIDATION_FAILED");
    let res = app
        .http
        .get(format!("{}/api/messages/conversations?q={}", app.base, "a".repeat(20_000)))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 414);
    assert!(res.headers().contains_key("x-request-id"));
    assert_error(&res.json().await.unwrap(), "VALIDATION_FAILED");
}

#[tokio::test]
async fn a_client_too_slow_to_send_its_request_head_is_disconnected() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = spawn_with(|s| s.header_read_timeout = Duration::from_millis(300)).await;
    let mut stream = tokio::net::TcpStream::connect(app.base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(WAIT, stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the server kept a half-sent request open");
}

#[tokio::test]
async fn the_embedded_page_its_scripts_and_the_api_viewer_are_served() {
    let app = spawn().await;
    for (path, kind) in [
        ("/", "text/html"),
        ("/some/client/route", "text/html"),
        ("/app.js", "text/javascript"),
        ("/node_modules/socket.io-client/dist/socket.io.esm.min.js", "text/javascript"),
        ("/api/docs", "text/html"),
        ("/node_modules/swagger-ui-dist/swagger-ui-bundle.js", "text/javascript"),
        ("/docs/docs.js", "text/javascript"),
    ] {
        let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let ct = res.headers()["content-type"].to_str().unwrap().to_string();
        assert!(ct.starts_with(kind), "{path}: {ct}");
        assert!(res.headers().contains_key("content-security-policy"), "{path}");
    }
    let res = reqwest::get(format!("{}/missing.js", app.base)).await.unwrap();
    assert_eq!(res.status(), 404);
}

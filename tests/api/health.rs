use serde_json::json;

use crate::support::*;

#[tokio::test]
async fn health_readiness_and_metrics() {
    let app = spawn().await;
    let health: serde_json::Value = reqwest::get(format!("{}/healthz", app.base)).await.unwrap().json().await.unwrap();
    assert_eq!(health["status"], "ok");
    let ready = reqwest::get(format!("{}/readyz", app.base)).await.unwrap();
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.unwrap();
    assert_eq!(body["checks"]["database"], "ok");

    let p = pair(&app).await;
    let s = app.socket(&p.a_token).await;
    let ack = s.ack("send_message", json!({"conversationId": p.conversation, "message": "count me"})).await.unwrap();
    assert_eq!(ack["success"], true);
    let bad = s.ack("send_message", json!({"conversationId": p.conversation, "message": ""})).await.unwrap();
    assert_error(&bad, "VALIDATION_FAILED");

    let text = reqwest::get(format!("{}/metrics", app.base)).await.unwrap().text().await.unwrap();
    assert!(text.contains("parley_connected_sockets 1"), "{text}");
    assert!(text.contains("parley_messages_sent_total 1"), "{text}");
    assert!(
        text.contains(
            r#"parley_http_requests_total{route="/api/messages/direct-connect",method="POST",status="201"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"parley_event_handler_errors_total{event="send_message",error_code="VALIDATION_FAILED"} 1"#),
        "{text}"
    );
}

#[tokio::test]
async fn unknown_api_routes_and_malformed_json_get_the_envelope() {
    let app = spawn().await;
    let t = token(&uid("u"), "influencer");
    let (status, body) = app.get("/api/nope", &t).await;
    assert_eq!(status, 404);
    assert_error(&body, "NOT_FOUND");
    let res = app
        .http
        .post(format!("{}/api/messages/send", app.base))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{\"conversation_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_error(&res.json().await.unwrap(), "VALIDATION_FAILED");
    let (status, body) = app.post("/api/messages/send", &t, json!({"message": "no conversation"})).await;
    assert_eq!(status, 400);
    assert_error(&body, "VALIDATION_FAILED");
    assert!(body["details"]["conversation_id"].is_string(), "{body}");
}

#[tokio::test]
async fn wrong_methods_get_the_envelope_and_every_response_has_a_request_id() {
    let app = spawn().await;
    let res = app.http.delete(format!("{}/api/messages/send", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 405);
    assert!(res.headers().get("allow").is_some(), "Allow is kept");
    let generated = res.headers().get("x-request-id").expect("a request id").to_str().unwrap().to_string();
    assert!(!generated.is_empty());
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["success"], false, "{body}");
    assert!(body["message"].is_string() && body["error_code"].is_string(), "{body}");

    let res = app.http.get(format!("{}/healthz", app.base)).header("x-request-id", "trace-42").send().await.unwrap();
    assert_eq!(res.headers()["x-request-id"], "trace-42", "the caller's id is echoed");
}

#[tokio::test]
async fn listed_origins_may_send_credentials_and_any_header() {
    let app = spawn_with(|s| s.cors_origins = vec!["http://app.test".into()]).await;
    let res = app
        .http
        .request(reqwest::Method::OPTIONS, format!("{}/socket.io/?EIO=4&transport=polling", app.base))
        .header("origin", "http://app.test")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization,x-client-version")
        .send()
        .await
        .unwrap();
    let h = res.headers();
    assert_eq!(h["access-control-allow-origin"], "http://app.test");
    assert_eq!(h["access-control-allow-credentials"], "true");
    assert!(h["access-control-allow-headers"].to_str().unwrap().contains("x-client-version"), "{h:?}");
    let res = app.http.get(format!("{}/healthz", app.base)).header("origin", "http://evil.test").send().await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
}

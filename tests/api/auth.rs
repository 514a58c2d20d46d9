use parley_client::{Error, Options};
use serde_json::json;

use crate::support::*;

async fn refused(app: &TestApp, opts: Options) -> String {
    match app.socket_with(opts).await {
        Err(Error::Refused(message)) => message,
        Err(other) => panic!("expected connect_error, got {other}"),
        Ok(_) => panic!("socket was accepted"),
    }
}

#[tokio::test]
async fn socket_without_token_gets_connect_error_unauthorized() {
    let app = spawn().await;
    let opts = Options { buffer: true, ..Options::default() };
    assert_eq!(refused(&app, opts).await, "unauthorized");
}

#[tokio::test]
async fn socket_with_expired_wrong_secret_or_refresh_token_is_refused() {
    let app = spawn().await;
    let bad = [
        sign(json!({"id": "u1", "role": "influencer", "exp": exp_in(-600)}), SECRET),
        sign(json!({"id": "u1", "role": "influencer", "exp": exp_in(600)}), "another-secret"),
        sign(json!({"id": "u1", "role": "influencer", "exp": exp_in(600), "type": "refresh"}), SECRET),
        "garbage".to_string(),
    ];
    for token in bad {
        assert_eq!(refused(&app, Options::token(&token)).await, "unauthorized", "token {token}");
    }
}

#[tokio::test]
async fn socket_token_may_come_from_auth_bearer_header_or_query() {
    let app = spawn().await;
    let t = token(&uid("u"), "influencer");
    let with_prefix = Options::token(&format!("Bearer {t}"));
    let header =
        Options { headers: vec![("Authorization".into(), format!("Bearer {t}"))], buffer: true, ..Options::default() };
    let query = Options { query: Some(format!("token={t}")), buffer: true, ..Options::default() };
    for opts in [with_prefix, header, query] {
        let s = app.socket_with(opts).await.expect("accepted");
        let ack = s.ack("user_status", json!({"status": "online"})).await.unwrap();
        assert_eq!(ack["success"], true);
    }
}

#[tokio::test]
async fn rest_refuses_missing_expired_wrong_secret_refresh_and_not_yet_valid_tokens() {
    let app = spawn().await;
    let res = app.http.get(format!("{}/api/messages/unread-count", app.base)).send().await.unwrap();
    assert_eq!(res.status(), 401);
    assert_error(&res.json().await.unwrap(), "UNAUTHORIZED");
    for token in [
        sign(json!({"id": "u1", "exp": exp_in(-600)}), SECRET),
        sign(json!({"id": "u1", "exp": exp_in(600)}), "another-secret"),
        sign(json!({"id": "u1", "exp": exp_in(600), "type": "refresh"}), SECRET),
        sign(json!({"id": "u1", "exp": exp_in(600), "nbf": exp_in(300)}), SECRET),
    ] {
        let (status, body) = app.get("/api/messages/unread-count", &token).await;
        assert_eq!(status, 401);
        assert_error(&body, "UNAUTHORIZED");
    }
}

#[tokio::test]
async fn users_are_upserted_from_claims_and_names_follow_later_tokens() {
    let app = spawn().await;
    let (a, b) = (uid("a"), uid("b"));
    let first = sign(json!({"id": b, "role": "influencer", "name": "Old", "exp": exp_in(600)}), SECRET);
    app.get("/api/messages/unread-count", &first).await;
    let a_token = token(&a, "brand_owner");
    let conv = app.direct(&a_token, &b).await;
    let renamed = sign(
        json!({"id": b, "role": "influencer", "name": "New", "email": "b@example.com", "exp": exp_in(600)}),
        SECRET,
    );
    app.get("/api/messages/unread-count", &renamed).await;
    let (_, ctx) = app.get(&format!("/api/messages/conversations/{conv}/context"), &a_token).await;
    assert_eq!(ctx["other_user"]["name"], "New");
    assert_eq!(ctx["other_user"]["role"], "influencer");
    assert!(ctx["other_user"].get("email").is_none(), "other users' emails stay private");
}

#[tokio::test]
async fn dev_token_route_mints_tokens_in_development_only() {
    let app = spawn().await;
    let res = app
        .http
        .post(format!("{}/api/dev/token", app.base))
        .json(&json!({"user_id": "demo-1", "role": "brand_owner", "name": "Demo"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    let token = body["token"].as_str().unwrap();
    let (status, _) = app.get("/api/messages/unread-count", token).await;
    assert_eq!(status, 200);

    let prod = spawn_with(|s| {
        s.app_env = parley::config::AppEnv::Production;
        s.razorpay.key_id = Some("rzp_test_key".into());
        s.razorpay.key_secret = Some(parley::config::Secret::new("key-secret"));
        s.razorpay.webhook_secret = Some(parley::config::Secret::new("hook-secret"));
    })
    .await;
    let res = prod
        .http
        .post(format!("{}/api/dev/token", prod.base))
        .json(&json!({"user_id": "demo-1", "role": "brand_owner"}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = prod
        .http
        .post(format!("{}/api/payments/sandbox/pay", prod.base))
        .bearer_auth(crate::support::token("u1", "brand_owner"))
        .json(&json!({"conversation_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404, "no sandbox in production");
}

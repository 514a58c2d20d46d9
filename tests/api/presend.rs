//! The pre-send hook (contract section 11): allow, reject, rewrite, and
//! what a hook that does not answer means.

use std::time::Duration;

use parley::config::Secret;
use parley_standins::webhook::WebhookReceiver;
use serde_json::json;

use crate::support::*;

async fn spawn_with_hook(hook: &WebhookReceiver, fail_open: bool) -> TestApp {
    spawn_with(|s| {
        s.webhooks.presend_url = Some(hook.url());
        s.webhooks.secret = Some(Secret::new("whsec-presend"));
        s.webhooks.presend_timeout = Duration::from_millis(300);
        s.webhooks.presend_fail_open = fail_open;
    })
    .await
}

async fn send(app: &TestApp, p: &Pair, text: &str, cmid: Option<&str>) -> (reqwest::StatusCode, serde_json::Value) {
    let mut body = json!({ "conversation_id": p.conversation, "message": text });
    if let Some(id) = cmid {
        body["client_message_id"] = json!(id);
    }
    app.post("/api/messages/send", &p.a_token, body).await
}

async fn history_len(app: &TestApp, p: &Pair) -> usize {
    let (_, h) = app.get(&format!("/api/messages/conversations/{}/messages", p.conversation), &p.a_token).await;
    h["messages"].as_array().unwrap().len()
}

#[tokio::test]
async fn the_hook_allows_rejects_and_rewrites_before_anything_is_stored() {
    let hook = WebhookReceiver::start().await;
    let app = spawn_with_hook(&hook, true).await;
    let p = pair(&app).await;

    hook.answer_json(json!({"action": "allow"}));
    let (status, allowed) = send(&app, &p, "hello", None).await;
    assert_eq!(status, 201, "{allowed}");
    let call = &hook.wait_for(1, Duration::from_secs(5)).await[0];
    call.verify_signature(b"whsec-presend", Duration::from_secs(60)).unwrap();
    assert_eq!(call.header("x-parley-event"), Some("message.presend"));
    let body = call.json();
    assert_eq!(body["type"], "message.presend");
    assert_eq!(body["data"]["message"]["message"], "hello");
    assert!(body["data"]["message"].get("id").is_none(), "the message has no id yet: {body}");
    assert_eq!(body["data"]["conversation"]["id"], p.conversation.as_str());

    hook.answer_json(json!({"action": "reject", "reason": "no phone numbers"}));
    let (status, rejected) = send(&app, &p, "call me", None).await;
    assert_eq!(status, 422, "{rejected}");
    assert_error(&rejected, "MESSAGE_REJECTED");
    assert_eq!(rejected["details"]["reason"], "no phone numbers");
    assert_eq!(history_len(&app, &p).await, 1, "a refused message is not stored");

    hook.answer_json(json!({"action": "rewrite", "message": "hello, politely"}));
    let (status, rewritten) = send(&app, &p, "hello", Some("c-1")).await;
    assert_eq!(status, 201);
    assert_eq!(rewritten["message"]["message"], "hello, politely");
    // A repeated client message id returns the stored message without asking the hook.
    let calls = hook.requests().len();
    let (status, again) = send(&app, &p, "hello", Some("c-1")).await;
    assert_eq!(status, 200);
    assert_eq!(again["message"]["id"], rewritten["message"]["id"]);
    assert_eq!(hook.requests().len(), calls, "the hook was asked again");
}

#[tokio::test]
async fn a_hook_that_does_not_answer_allows_when_fail_open_and_refuses_when_fail_closed() {
    for fail_open in [true, false] {
        let hook = WebhookReceiver::start().await;
        hook.respond_after(Duration::from_secs(5));
        let app = spawn_with_hook(&hook, fail_open).await;
        let p = pair(&app).await;
        let (status, body) = send(&app, &p, "anyone there?", None).await;
        if fail_open {
            assert_eq!(status, 201, "{body}");
        } else {
            assert_eq!(status, 422, "{body}");
            assert_error(&body, "MESSAGE_REJECTED");
            assert_eq!(history_len(&app, &p).await, 0);
        }
    }
}

#[tokio::test]
async fn a_slow_hook_asks_about_many_senders_at_once() {
    let hook = WebhookReceiver::start().await;
    hook.answer_json(json!({"action": "allow"}));
    hook.respond_after(Duration::from_secs(2));
    let app = spawn_with(|s| {
        s.webhooks.presend_url = Some(hook.url());
        s.webhooks.secret = Some(Secret::new("whsec-presend"));
        s.webhooks.presend_timeout = Duration::from_secs(10);
    })
    .await;
    let mut pairs = vec![];
    for _ in 0..4 {
        pairs.push(pair(&app).await);
    }
    let sends = futures::future::join_all(pairs.iter().map(|p| send(&app, p, "hi", None)));
    // Every sender's call reaches the hook while the first is still unanswered.
    let (results, _) = tokio::join!(sends, hook.wait_for(4, Duration::from_millis(1500)));
    for (status, body) in results {
        assert_eq!(status, 201, "{body}");
    }
}

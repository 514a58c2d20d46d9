use std::time::{Duration, Instant};

use parley_outbound::presend::{PresendDecision, PresendHook, body};
use parley_standins::webhook::WebhookReceiver;
use serde_json::json;

const SECRET: &[u8] = b"whsec_presend";

fn message_body() -> Vec<u8> {
    body(
        "evt_presend_1",
        "2025-12-01T10:00:00Z",
        &json!({"conversation_id": "c1", "sender_id": "u1", "message": "call me on 98765 43210", "message_type": "user_input"}),
        &json!({"id": "c1", "type": "direct"}),
    )
}

async fn decide(receiver: &WebhookReceiver, timeout: Duration) -> PresendDecision {
    let hook = PresendHook::new(receiver.url(), SECRET, timeout).unwrap();
    hook.decide("evt_presend_1", &message_body()).await
}

#[tokio::test]
async fn allow_is_signed_like_a_webhook() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer_json(json!({"action": "allow"}));

    assert_eq!(decide(&receiver, Duration::from_secs(2)).await, PresendDecision::Allow);

    let request = &receiver.requests()[0];
    assert_eq!(request.header("x-parley-event"), Some("message.presend"));
    assert_eq!(request.header("x-parley-delivery-id"), Some("evt_presend_1"));
    assert_eq!(request.header("x-parley-attempt"), Some("1"));
    assert_eq!(request.header("content-type"), Some("application/json"));
    request.verify_signature(SECRET, Duration::from_secs(60)).unwrap();
    let sent = request.json();
    assert_eq!(sent["type"], "message.presend");
    assert_eq!(sent["data"]["message"]["message"], "call me on 98765 43210");
    assert!(sent["data"]["message"].get("id").is_none(), "the message has no id yet");
    assert_eq!(sent["data"]["conversation"]["id"], "c1");
}

#[tokio::test]
async fn reject_carries_the_reason() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer_json(json!({"action": "reject", "reason": "no phone numbers"}));
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Reject { reason: "no phone numbers".into() }
    );
}

#[tokio::test]
async fn rewrite_carries_the_new_text() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer_json(json!({"action": "rewrite", "message": "call me on [removed]"}));
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Rewrite { message: "call me on [removed]".into() }
    );
}

#[tokio::test]
async fn no_answer_in_time_is_unavailable() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer_json(json!({"action": "allow"}));
    receiver.respond_after(Duration::from_secs(5));
    let started = Instant::now();
    assert_eq!(
        decide(&receiver, Duration::from_millis(250)).await,
        PresendDecision::Unavailable { why: "timed out after 250 ms".into() }
    );
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[tokio::test]
async fn garbage_unknown_actions_and_errors_are_unavailable() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer(200, "<html>allow</html>");
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Unavailable { why: "the answer is not JSON".into() }
    );
    receiver.answer_json(json!({"action": "maybe"}));
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Unavailable { why: "unknown action \"maybe\"".into() }
    );
    receiver.answer_json(json!({"action": "allow"}));
    receiver.fail_next(1, 500);
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Unavailable { why: "HTTP 500".into() }
    );
    receiver.close_next(1);
    assert!(matches!(decide(&receiver, Duration::from_secs(2)).await, PresendDecision::Unavailable { .. }));
    assert_eq!(decide(&receiver, Duration::from_secs(2)).await, PresendDecision::Allow);
}

#[tokio::test]
async fn an_answer_too_large_to_read_is_unavailable() {
    let receiver = WebhookReceiver::start().await;
    receiver.answer(200, format!("{{\"action\":\"allow\",\"pad\":\"{}\"}}", "x".repeat(100_000)));
    assert_eq!(
        decide(&receiver, Duration::from_secs(2)).await,
        PresendDecision::Unavailable { why: "response body over 64 KiB".into() }
    );
}

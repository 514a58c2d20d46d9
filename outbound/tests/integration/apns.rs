use std::{
    sync::Arc,
    time::{Duration, SystemTime},
};

use parley_outbound::{
    ManualClock,
    push::{Apns, ApnsSettings, PushMessage, PushOutcome, PushProvider},
};
use parley_standins::{Fault, apns::ApnsStandIn};
use serde_json::json;

const DEVICE: &str = "3f1c5a0e9b7d2c4f6a8e0b1d3c5f7a9e2b4d6f8a0c1e3b5d7f9a2c4e6b8d0f1a";
const OTHER_DEVICE: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

fn settings(standin: &ApnsStandIn) -> ApnsSettings {
    ApnsSettings {
        key_p8: standin.key().p8_pem.clone(),
        key_id: standin.key().key_id.clone(),
        team_id: standin.key().team_id.clone(),
        topic: standin.topic().into(),
        api_base: standin.api_base(),
        timeout: Duration::from_secs(5),
    }
}

fn message() -> PushMessage {
    PushMessage {
        title: "Asha".into(),
        body: "Draft is ready for review".into(),
        kind: "action_required".into(),
        conversation_id: Some("c-7".into()),
        badge: 2,
        ..PushMessage::default()
    }
}

#[tokio::test]
async fn a_push_arrives_over_http2_with_a_valid_provider_token() {
    let standin = ApnsStandIn::start().await;
    let apns = Apns::new(&settings(&standin)).unwrap();

    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Delivered);

    assert_eq!(standin.refusals(), Vec::<String>::new());
    let sends = standin.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].device_token, DEVICE);
    assert_eq!(sends[0].topic, "com.parley.test");
    assert_eq!(sends[0].push_type, "alert");
    assert_eq!(
        sends[0].body,
        json!({
            "aps": {"alert": {"title": "Asha", "body": "Draft is ready for review"}, "badge": 2, "sound": "default"},
            "type": "action_required",
            "conversation_id": "c-7",
        })
    );
}

#[tokio::test]
async fn the_provider_token_is_reused_then_replaced_when_fifty_minutes_old() {
    let standin = ApnsStandIn::start().await;
    // Start 55 minutes in the past: the first token is old but still inside
    // Apple's hour, and the clock can move forward without leaving the present.
    let start = SystemTime::now() - Duration::from_secs(55 * 60);
    let clock = ManualClock::at(start);
    let apns = Apns::with_clock(&settings(&standin), Arc::new(clock.clone())).unwrap();

    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Delivered);
    clock.advance(Duration::from_secs(49 * 60));
    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Delivered);
    clock.advance(Duration::from_secs(60));
    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Delivered);

    assert_eq!(standin.refusals(), Vec::<String>::new(), "the stand-in verified every token");
    let sends = standin.sends();
    assert_eq!(sends[0].provider_token, sends[1].provider_token, "reused at 49 minutes");
    assert_ne!(sends[1].provider_token, sends[2].provider_token, "replaced at 50 minutes");
    let start_secs = start.duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(sends[0].issued_at, start_secs);
    assert_eq!(sends[2].issued_at, start_secs + 50 * 60);
}

#[tokio::test]
async fn a_token_older_than_an_hour_is_refused_and_signed_again_once() {
    let standin = ApnsStandIn::start().await;
    let clock = ManualClock::at(SystemTime::now() - Duration::from_secs(2 * 3_600));
    let apns = Apns::with_clock(&settings(&standin), Arc::new(clock)).unwrap();

    let outcome = apns.send(DEVICE, &message()).await;

    assert_eq!(outcome, PushOutcome::Failed { why: "APNs called a freshly signed provider token expired".into() });
    let refusals = standin.refusals();
    assert_eq!(refusals.len(), 2, "{refusals:?}");
    assert!(refusals.iter().all(|r| r.starts_with("ExpiredProviderToken")), "{refusals:?}");
}

#[tokio::test]
async fn a_410_is_gone() {
    let standin = ApnsStandIn::start().await;
    standin.faults().fail_token(DEVICE, Fault::Gone);
    let apns = Apns::new(&settings(&standin)).unwrap();

    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Gone);
    assert_eq!(apns.send(OTHER_DEVICE, &message()).await, PushOutcome::Delivered);
}

#[tokio::test]
async fn throttling_and_server_errors_are_retry() {
    let standin = ApnsStandIn::start().await;
    standin.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: Some(5) });
    standin.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: None });
    standin.faults().fail_next(1, Fault::ServerError);
    let apns = Apns::new(&settings(&standin)).unwrap();

    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Retry { after: Some(Duration::from_secs(5)) });
    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Retry { after: None });
    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Retry { after: None });
    assert_eq!(apns.send(DEVICE, &message()).await, PushOutcome::Delivered);
    assert_eq!(standin.sends().iter().map(|s| s.status).collect::<Vec<_>>(), [429, 429, 500, 200]);
}

#[tokio::test]
async fn a_topic_the_key_may_not_push_to_fails() {
    let standin = ApnsStandIn::start().await;
    let mut settings = settings(&standin);
    settings.topic = "com.example.other".into();
    let apns = Apns::new(&settings).unwrap();

    assert_eq!(
        apns.send(DEVICE, &message()).await,
        PushOutcome::Failed { why: "APNs HTTP 400 TopicDisallowed".into() }
    );
}

#[tokio::test]
async fn a_token_that_is_not_hex_is_gone_without_a_request() {
    let standin = ApnsStandIn::start().await;
    let apns = Apns::new(&settings(&standin)).unwrap();
    assert_eq!(apns.send("../../admin", &message()).await, PushOutcome::Gone);
    assert!(standin.sends().is_empty() && standin.refusals().is_empty());
}

#[tokio::test]
async fn the_standin_speaks_only_http2() {
    let standin = ApnsStandIn::start().await;
    let response = reqwest::Client::builder()
        .http1_only()
        .build()
        .unwrap()
        .post(format!("{}/3/device/{DEVICE}", standin.api_base()))
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(standin.refusals().len(), 1);
}

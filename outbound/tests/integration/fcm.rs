use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, SystemTime},
};

use parley_outbound::{
    Backoff, ManualClock,
    push::{Fcm, FcmSettings, PushMessage, PushOutcome, PushProvider, RetryPolicy, send_with_retry},
};
use parley_standins::{Fault, fcm::FcmStandIn};
use serde_json::{Value, json};

fn settings(standin: &FcmStandIn) -> FcmSettings {
    let mut settings = FcmSettings::new(standin.account().json());
    settings.api_base = standin.api_base();
    settings.timeout = Duration::from_secs(5);
    settings
}

fn message() -> PushMessage {
    PushMessage {
        title: "Bloom Cosmetics".into(),
        body: "Can you post on Friday?".into(),
        kind: "new_message".into(),
        conversation_id: Some("c-42".into()),
        badge: 7,
        data: BTreeMap::from([("message_id".into(), "m-9".into())]),
    }
}

fn quick_retries(attempts: u32) -> RetryPolicy {
    RetryPolicy {
        attempts,
        backoff: Backoff { first: Duration::from_millis(5), max: Duration::from_millis(20) },
        max_wait: Duration::from_secs(60),
    }
}

#[tokio::test]
async fn a_send_carries_the_v1_message_with_a_fetched_access_token() {
    let standin = FcmStandIn::start().await;
    let fcm = Fcm::new(&settings(&standin)).unwrap();

    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);

    assert_eq!(standin.refusals(), Vec::<String>::new());
    assert_eq!(standin.token_grants(), 1);
    let sends = standin.sends();
    assert_eq!(sends.len(), 1);
    assert_eq!(sends[0].project, "parley-test");
    assert_eq!(sends[0].access_token, "ya29.stand-in-1");
    assert_eq!(
        sends[0].body,
        json!({"message": {
            "token": "device-a",
            "notification": {"title": "Bloom Cosmetics", "body": "Can you post on Friday?"},
            "data": {"type": "new_message", "conversation_id": "c-42", "message_id": "m-9"},
            "android": {"priority": "HIGH", "notification": {"notification_count": 7}},
            "apns": {"payload": {"aps": {"badge": 7}}},
        }})
    );
}

#[tokio::test]
async fn concurrent_sends_share_one_token_fetch() {
    let standin = FcmStandIn::start().await;
    // A slow token endpoint: every send arrives while the first fetch is under way.
    standin.set_token_delay(Duration::from_millis(300));
    let fcm = Arc::new(Fcm::new(&settings(&standin)).unwrap());

    let mut sends = tokio::task::JoinSet::new();
    for i in 0..12 {
        let fcm = fcm.clone();
        sends.spawn(async move { fcm.send(&format!("device-{i}"), &message()).await });
    }
    let outcomes = sends.join_all().await;

    assert!(outcomes.iter().all(|o| *o == PushOutcome::Delivered), "{outcomes:?}");
    assert_eq!(standin.token_grants(), 1);
    assert_eq!(standin.sends().len(), 12);
    assert!(standin.sends().iter().all(|s| s.access_token == "ya29.stand-in-1"));
}

#[tokio::test]
async fn the_token_is_reused_until_shortly_before_it_expires_then_fetched_again() {
    let standin = FcmStandIn::start().await;
    standin.set_token_lifetime(Duration::from_secs(600));
    // The client's clock starts in the past so that moving it forward keeps
    // the assertion's iat in the stand-in's real present.
    let clock = ManualClock::at(SystemTime::now() - Duration::from_secs(3_000));
    let fcm = Fcm::with_clock(&settings(&standin), Arc::new(clock.clone())).unwrap();

    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);
    clock.advance(Duration::from_secs(500));
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);
    assert_eq!(standin.token_grants(), 1, "still fresh after 500 of 600 s");

    clock.advance(Duration::from_secs(50));
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);
    assert_eq!(standin.token_grants(), 2, "refreshed within the last minute of its life");

    let tokens: Vec<_> = standin.sends().iter().map(|s| s.access_token.clone()).collect();
    assert_eq!(tokens, ["ya29.stand-in-1", "ya29.stand-in-1", "ya29.stand-in-2"]);
    assert_eq!(standin.refusals(), Vec::<String>::new());
}

#[tokio::test]
async fn a_token_the_service_stops_accepting_is_replaced_at_once() {
    let standin = FcmStandIn::start().await;
    let fcm = Fcm::new(&settings(&standin)).unwrap();
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);

    standin.revoke_tokens();
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);

    assert_eq!(standin.token_grants(), 2);
    assert_eq!(standin.refusals().len(), 1, "the one send with the revoked token: {:?}", standin.refusals());
}

#[tokio::test]
async fn unregistered_is_gone() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_token("dead-device", Fault::Gone);
    let fcm = Fcm::new(&settings(&standin)).unwrap();

    assert_eq!(fcm.send("dead-device", &message()).await, PushOutcome::Gone);
    assert_eq!(fcm.send("live-device", &message()).await, PushOutcome::Delivered);
    assert_eq!(standin.sends().iter().map(|s| s.status).collect::<Vec<_>>(), [404, 200]);
}

#[tokio::test]
async fn throttling_is_retry_after_the_services_wait() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: Some(17) });
    let fcm = Fcm::new(&settings(&standin)).unwrap();

    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Retry { after: Some(Duration::from_secs(17)) });
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Delivered);
}

#[tokio::test]
async fn a_server_error_is_retry() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_next(1, Fault::ServerError);
    let fcm = Fcm::new(&settings(&standin)).unwrap();
    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Retry { after: None });
}

#[tokio::test]
async fn retrying_rides_out_a_short_outage() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_next(2, Fault::ServerError);
    let fcm = Fcm::new(&settings(&standin)).unwrap();

    assert_eq!(send_with_retry(&fcm, "device-a", &message(), &quick_retries(4)).await, PushOutcome::Delivered);
    assert_eq!(standin.sends().iter().map(|s| s.status).collect::<Vec<_>>(), [500, 500, 200]);
}

#[tokio::test]
async fn retrying_gives_up_as_failed() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_next(10, Fault::ServerError);
    let fcm = Fcm::new(&settings(&standin)).unwrap();

    let outcome = send_with_retry(&fcm, "device-a", &message(), &quick_retries(3)).await;
    assert_eq!(outcome, PushOutcome::Failed { why: "fcm still unavailable after 3 attempts".into() });
    assert_eq!(standin.sends().len(), 3);
}

#[tokio::test]
async fn retrying_honours_retry_after_and_refuses_a_wait_too_long() {
    let standin = FcmStandIn::start().await;
    standin.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: Some(0) });
    let fcm = Fcm::new(&settings(&standin)).unwrap();
    assert_eq!(send_with_retry(&fcm, "device-a", &message(), &quick_retries(2)).await, PushOutcome::Delivered);

    standin.faults().fail_next(1, Fault::TooManyRequests { retry_after_secs: Some(3_600) });
    let outcome = send_with_retry(&fcm, "device-a", &message(), &quick_retries(3)).await;
    assert_eq!(outcome, PushOutcome::Failed { why: "fcm asked to wait 3600 s before trying again".into() });
    assert_eq!(standin.sends().len(), 3);
}

#[tokio::test]
async fn an_assertion_the_token_endpoint_refuses_fails_the_send() {
    let standin = FcmStandIn::start().await;
    let mut account: Value = serde_json::from_str(&standin.account().json()).unwrap();
    account["client_email"] = json!("someone-else@parley-test.iam.gserviceaccount.com");
    let mut settings = settings(&standin);
    settings.service_account = account.to_string();
    let fcm = Fcm::new(&settings).unwrap();

    let PushOutcome::Failed { why } = fcm.send("device-a", &message()).await else { panic!("sent without a token") };
    assert!(why.contains("HTTP 400") && why.contains("invalid_grant"), "{why}");
    assert_eq!(standin.refusals().len(), 1);
    assert!(standin.sends().is_empty());
}

#[tokio::test]
async fn an_unreachable_token_endpoint_is_retry() {
    let standin = FcmStandIn::start().await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut account: Value = serde_json::from_str(&standin.account().json()).unwrap();
    account["token_uri"] = json!(format!("http://127.0.0.1:{closed}/token"));
    let mut settings = settings(&standin);
    settings.service_account = account.to_string();
    let fcm = Fcm::new(&settings).unwrap();

    assert_eq!(fcm.send("device-a", &message()).await, PushOutcome::Retry { after: None });
}

#[tokio::test]
async fn the_service_account_may_be_given_as_a_path() {
    let standin = FcmStandIn::start().await;
    let path = std::env::temp_dir().join(format!("parley-fcm-account-{}.json", std::process::id()));
    std::fs::write(&path, standin.account().json()).unwrap();
    let mut settings = settings(&standin);
    settings.service_account = path.display().to_string();
    let fcm = Fcm::new(&settings);
    std::fs::remove_file(&path).unwrap();

    assert_eq!(fcm.unwrap().send("device-a", &message()).await, PushOutcome::Delivered);
}

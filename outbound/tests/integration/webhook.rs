use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use parley_outbound::webhook::{Attempt, Deliverer, Outcome, verify};
use parley_standins::webhook::{Answered, WebhookReceiver};

use crate::WAIT;

const SECRET: &[u8] = b"whsec_integration";
const BODY: &[u8] =
    br#"{"id":"evt_1","type":"message.new","created_at":"2025-12-01T10:00:00Z","data":{"message":{"id":"m1"}}}"#;

fn attempt(n: u32) -> Attempt<'static> {
    Attempt { event_type: "message.new", delivery_id: "evt_1", attempt: n, body: BODY }
}

#[tokio::test]
async fn every_header_and_the_signature_arrive() {
    let receiver = WebhookReceiver::start().await;
    let deliverer = Deliverer::new(Duration::from_secs(5)).unwrap();
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs();

    assert_eq!(deliverer.deliver(&receiver.url(), SECRET, &attempt(1)).await, Outcome::Delivered { status: 200 });

    let requests = receiver.wait_for(1, WAIT).await;
    let request = &requests[0];
    assert_eq!(request.method, "POST");
    assert_eq!(request.path, "/hook");
    assert_eq!(request.header("content-type"), Some("application/json"));
    assert_eq!(request.header("x-parley-event"), Some("message.new"));
    assert_eq!(request.header("x-parley-delivery-id"), Some("evt_1"));
    assert_eq!(request.header("x-parley-attempt"), Some("1"));
    let timestamp: u64 = request.header("x-parley-timestamp").unwrap().parse().unwrap();
    assert!(timestamp >= before && timestamp <= before + 5, "{timestamp} vs {before}");
    assert_eq!(&request.body[..], BODY, "the raw body arrives byte for byte");
    // Checked by the receiver's own HMAC, and by the crate's verify as a receiver would.
    request.verify_signature(SECRET, Duration::from_secs(60)).unwrap();
    let signature = request.header("x-parley-signature").unwrap();
    assert!(signature.starts_with("v1=") && signature.len() == 67, "{signature}");
    assert_eq!(
        verify(SECRET, &timestamp.to_string(), signature, &request.body, timestamp, Duration::from_secs(300)),
        Ok(())
    );
    assert!(request.verify_signature(b"another secret", Duration::from_secs(60)).is_err());
}

#[tokio::test]
async fn a_failing_receiver_then_succeeds_on_a_later_attempt() {
    let receiver = WebhookReceiver::start().await;
    receiver.fail_next(2, 503);
    let deliverer = Deliverer::new(Duration::from_secs(5)).unwrap();

    let mut outcomes = Vec::new();
    for n in 1..=3 {
        outcomes.push(deliverer.deliver(&receiver.url(), SECRET, &attempt(n)).await);
    }

    let failed = Outcome::Failed { status: Some(503), error: "HTTP 503 Service Unavailable".into() };
    assert_eq!(outcomes, vec![failed.clone(), failed, Outcome::Delivered { status: 200 }]);
    let requests = receiver.wait_for(3, WAIT).await;
    let attempts: Vec<_> = requests.iter().map(|r| r.header("x-parley-attempt").unwrap().to_owned()).collect();
    assert_eq!(attempts, ["1", "2", "3"]);
    assert!(requests.iter().all(|r| r.header("x-parley-delivery-id") == Some("evt_1")));
    assert!(requests.iter().all(|r| r.verify_signature(SECRET, Duration::from_secs(60)).is_ok()));
    assert_eq!(
        requests.iter().map(|r| r.answered).collect::<Vec<_>>(),
        [Answered::Status(503), Answered::Status(503), Answered::Status(200)]
    );
    assert_eq!(receiver.max_concurrent("evt_1"), 1);
}

#[tokio::test]
async fn no_answer_within_the_timeout_is_a_failure() {
    let receiver = WebhookReceiver::start().await;
    receiver.respond_after(Duration::from_secs(5));
    let deliverer = Deliverer::new(Duration::from_millis(300)).unwrap();

    let started = Instant::now();
    let outcome = deliverer.deliver(&receiver.url(), SECRET, &attempt(1)).await;

    assert_eq!(outcome, Outcome::Failed { status: None, error: "timed out after 300 ms".into() });
    assert!(started.elapsed() < Duration::from_secs(3), "{:?}", started.elapsed());
    assert_eq!(receiver.arrivals().count(), 1, "the request did arrive; the answer was late");
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_a_failure() {
    let receiver = WebhookReceiver::start().await;
    receiver.close_next(1);
    let deliverer = Deliverer::new(Duration::from_secs(5)).unwrap();

    let Outcome::Failed { status, error } = deliverer.deliver(&receiver.url(), SECRET, &attempt(1)).await else {
        panic!("delivered to a receiver that hung up");
    };
    assert_eq!(status, None);
    assert!(!error.is_empty() && !error.contains("whsec"), "{error}");
    assert_eq!(receiver.requests()[0].answered, Answered::Closed);

    assert_eq!(deliverer.deliver(&receiver.url(), SECRET, &attempt(2)).await, Outcome::Delivered { status: 200 });
}

#[tokio::test]
async fn any_2xx_is_success_and_a_redirect_is_not_followed() {
    let receiver = WebhookReceiver::start().await;
    let deliverer = Deliverer::new(Duration::from_secs(5)).unwrap();
    receiver.answer(204, "");
    assert_eq!(deliverer.deliver(&receiver.url(), SECRET, &attempt(1)).await, Outcome::Delivered { status: 204 });
    receiver.answer(302, "");
    let outcome = deliverer.deliver(&receiver.url(), SECRET, &attempt(2)).await;
    assert_eq!(
        outcome,
        Outcome::Failed { status: Some(302), error: "HTTP 302 Found (redirects are not followed)".into() }
    );
    assert_eq!(receiver.arrivals().count(), 2);
}

#[tokio::test]
async fn each_attempt_is_signed_at_its_own_time() {
    let receiver = WebhookReceiver::start().await;
    let clock = parley_outbound::ManualClock::at(SystemTime::now());
    let deliverer = Deliverer::with_clock(Duration::from_secs(5), std::sync::Arc::new(clock.clone())).unwrap();
    deliverer.deliver(&receiver.url(), SECRET, &attempt(1)).await;
    clock.advance(Duration::from_secs(7));
    deliverer.deliver(&receiver.url(), SECRET, &attempt(2)).await;

    let requests = receiver.wait_for(2, WAIT).await;
    let stamp = |i: usize| requests[i].header("x-parley-timestamp").unwrap().parse::<u64>().unwrap();
    assert_eq!(stamp(1) - stamp(0), 7);
    assert_ne!(requests[0].header("x-parley-signature"), requests[1].header("x-parley-signature"));
    for r in &requests {
        let ts = r.header("x-parley-timestamp").unwrap();
        let now: u64 = ts.parse().unwrap();
        assert_eq!(verify(SECRET, ts, r.header("x-parley-signature").unwrap(), &r.body, now, Duration::ZERO), Ok(()));
    }
}

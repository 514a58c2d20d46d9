//! What an APNs answer means for the device and the retry.

use std::time::Duration;

use serde_json::Value;

use crate::{
    http::short,
    push::{Answer, PushOutcome},
};

pub(crate) fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Answer {
    if status == 200 {
        return Answer::Outcome(PushOutcome::Delivered);
    }
    let reason = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|json| json["reason"].as_str().map(|reason| short(reason, 80)));
    match (status, reason.as_deref()) {
        (410, _) => Answer::Outcome(PushOutcome::Gone),
        // Sign a new provider token.
        (403, Some("ExpiredProviderToken")) => Answer::RenewCredential,
        (429, _) | (500.., _) => Answer::Outcome(PushOutcome::Retry { after: retry_after }),
        (_, Some(reason)) => Answer::Outcome(PushOutcome::Failed { why: format!("APNs HTTP {status} {reason}") }),
        (_, None) => Answer::Outcome(PushOutcome::Failed { why: format!("APNs HTTP {status}") }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivered_gone_retry_and_refused() {
        assert_eq!(classify(200, None, b""), Answer::Outcome(PushOutcome::Delivered));
        assert_eq!(
            classify(410, None, br#"{"reason":"Unregistered","timestamp":1700000000000}"#),
            Answer::Outcome(PushOutcome::Gone)
        );
        let after = Some(Duration::from_secs(5));
        assert_eq!(
            classify(429, after, br#"{"reason":"TooManyRequests"}"#),
            Answer::Outcome(PushOutcome::Retry { after })
        );
        assert_eq!(
            classify(503, None, br#"{"reason":"ServiceUnavailable"}"#),
            Answer::Outcome(PushOutcome::Retry { after: None })
        );
        assert_eq!(
            classify(400, None, br#"{"reason":"BadDeviceToken"}"#),
            Answer::Outcome(PushOutcome::Failed { why: "APNs HTTP 400 BadDeviceToken".into() })
        );
        assert_eq!(classify(403, None, br#"{"reason":"ExpiredProviderToken"}"#), Answer::RenewCredential);
        assert_eq!(
            classify(403, None, br#"{"reason":"InvalidProviderToken"}"#),
            Answer::Outcome(PushOutcome::Failed { why: "APNs HTTP 403 InvalidProviderToken".into() })
        );
        assert_eq!(classify(404, None, b"?"), Answer::Outcome(PushOutcome::Failed { why: "APNs HTTP 404".into() }));
    }
}

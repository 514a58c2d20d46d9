//! What an FCM v1 answer means for the device and the retry.

use std::time::Duration;

use serde_json::Value;

use crate::{
    http::short,
    push::{Answer, PushOutcome},
};

/// The `errorCode` of the `FcmError` detail, and the error's `status` and `message`.
fn error_parts(body: &[u8]) -> (Option<String>, Option<String>, Option<String>) {
    let Ok(json) = serde_json::from_slice::<Value>(body) else { return (None, None, None) };
    let error = &json["error"];
    let code = error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|detail| detail["errorCode"].as_str())
        .map(str::to_owned);
    let text = |key: &str| error[key].as_str().map(str::to_owned);
    (code, text("status"), text("message"))
}

pub(crate) fn classify(status: u16, retry_after: Option<Duration>, body: &[u8]) -> Answer {
    if (200..300).contains(&status) {
        return Answer::Outcome(PushOutcome::Delivered);
    }
    let (code, grpc_status, message) = error_parts(body);
    if code.as_deref() == Some("UNREGISTERED") {
        return Answer::Outcome(PushOutcome::Gone);
    }
    if status == 401 {
        // The access token was refused: fetch a new one.
        return Answer::RenewCredential;
    }
    if status == 429 || status >= 500 {
        return Answer::Outcome(PushOutcome::Retry { after: retry_after });
    }
    let mut why = format!("FCM HTTP {status}");
    if let Some(name) = code.or(grpc_status) {
        why = format!("{why} {name}");
    }
    if let Some(message) = message {
        why = format!("{why}: {}", short(&message, 200));
    }
    Answer::Outcome(PushOutcome::Failed { why })
}

#[cfg(test)]
mod tests {
    use super::*;

    const UNREGISTERED: &str = r#"{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",
        "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;

    fn outcome(status: u16, after: Option<Duration>, body: &str) -> PushOutcome {
        match classify(status, after, body.as_bytes()) {
            Answer::Outcome(outcome) => outcome,
            Answer::RenewCredential => panic!("renew"),
        }
    }

    #[test]
    fn success_and_a_dead_token() {
        assert_eq!(outcome(200, None, r#"{"name":"projects/p/messages/1"}"#), PushOutcome::Delivered);
        assert_eq!(outcome(404, None, UNREGISTERED), PushOutcome::Gone);
    }

    #[test]
    fn throttling_and_server_errors_are_retried_after_what_the_service_said() {
        let after = Some(Duration::from_secs(30));
        assert_eq!(outcome(429, after, "{}"), PushOutcome::Retry { after });
        assert_eq!(outcome(500, None, "oops"), PushOutcome::Retry { after: None });
        assert_eq!(outcome(503, after, ""), PushOutcome::Retry { after });
    }

    #[test]
    fn a_refused_access_token_asks_for_a_new_one() {
        assert_eq!(classify(401, None, b"{}"), Answer::RenewCredential);
    }

    #[test]
    fn other_refusals_fail_with_the_code_and_message() {
        let body = r#"{"error":{"code":400,"message":"Invalid JSON payload","status":"INVALID_ARGUMENT",
            "details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"}]}}"#;
        assert_eq!(
            outcome(400, None, body),
            PushOutcome::Failed { why: "FCM HTTP 400 INVALID_ARGUMENT: Invalid JSON payload".into() }
        );
        let mismatch = r#"{"error":{"code":403,"status":"PERMISSION_DENIED","message":"SenderId mismatch"}}"#;
        assert_eq!(
            outcome(403, None, mismatch),
            PushOutcome::Failed { why: "FCM HTTP 403 PERMISSION_DENIED: SenderId mismatch".into() }
        );
        assert_eq!(outcome(404, None, "not json"), PushOutcome::Failed { why: "FCM HTTP 404".into() });
    }
}

//! One delivery attempt of one event to one URL.

use std::{sync::Arc, time::Duration};

use reqwest::{Client, Response, header::CONTENT_TYPE, redirect};

use super::{HEADER_ATTEMPT, HEADER_DELIVERY_ID, HEADER_EVENT, HEADER_SIGNATURE, HEADER_TIMESTAMP, sign};
use crate::{
    clock::{Clock, SystemClock},
    http::describe,
};

/// What one attempt sends: the event, the attempt number (1, 2, …) and the
/// raw body exactly as it is signed.
#[derive(Clone, Copy, Debug)]
pub struct Attempt<'a> {
    pub event_type: &'a str,
    /// The event id: the same on every retry, so receivers can dedupe.
    pub delivery_id: &'a str,
    pub attempt: u32,
    pub body: &'a [u8],
}

/// How an attempt ended. Every failure is worth retrying.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The receiver answered 2xx in time.
    Delivered { status: u16 },
    /// Any other status, no answer in time, or no connection. `error` is a
    /// short text for the delivery's `last_error`, never the secret.
    Failed { status: Option<u16>, error: String },
}

/// Delivers webhook attempts over one pooled HTTP client.
#[derive(Clone)]
pub struct Deliverer {
    client: Client,
    timeout: Duration,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer").field("timeout", &self.timeout).finish_non_exhaustive()
    }
}

pub(crate) fn user_agent() -> String {
    format!("Parley-Webhooks/{}", env!("CARGO_PKG_VERSION"))
}

impl Deliverer {
    /// `timeout` is `WEBHOOK_TIMEOUT_MS`: the whole attempt, connecting included.
    pub fn new(timeout: Duration) -> Result<Self, reqwest::Error> {
        Self::with_clock(timeout, Arc::new(SystemClock))
    }

    pub fn with_clock(timeout: Duration, clock: Arc<dyn Clock>) -> Result<Self, reqwest::Error> {
        // A redirect is a failure: following it would send the signed body
        // somewhere the platform did not configure.
        let client = Client::builder().user_agent(user_agent()).redirect(redirect::Policy::none()).build()?;
        Ok(Self { client, timeout, clock })
    }

    /// Makes one attempt. Success is any 2xx status within the timeout; the
    /// body of the answer is not waited for.
    #[tracing::instrument(skip(self, url, secret, attempt), fields(event = attempt.event_type, delivery_id = attempt.delivery_id, attempt = attempt.attempt))]
    pub async fn deliver(&self, url: &str, secret: &[u8], attempt: &Attempt<'_>) -> Outcome {
        let outcome = match post_signed(&self.client, &*self.clock, url, secret, attempt, self.timeout).await {
            Ok(response) if response.status().is_success() => Outcome::Delivered { status: response.status().as_u16() },
            Ok(response) => {
                let status = response.status();
                let mut error = format!("HTTP {}", status.as_u16());
                if let Some(reason) = status.canonical_reason() {
                    error = format!("{error} {reason}");
                }
                if status.is_redirection() {
                    error.push_str(" (redirects are not followed)");
                }
                Outcome::Failed { status: Some(status.as_u16()), error }
            }
            Err(error) => Outcome::Failed { status: None, error: describe(error, self.timeout) },
        };
        if let Outcome::Failed { error, .. } = &outcome {
            tracing::debug!(%error, "webhook attempt failed");
        }
        outcome
    }
}

/// POSTs a body signed at this moment with the webhook headers.
pub(crate) async fn post_signed(
    client: &Client,
    clock: &dyn Clock,
    url: &str,
    secret: &[u8],
    attempt: &Attempt<'_>,
    timeout: Duration,
) -> Result<Response, reqwest::Error> {
    let timestamp = clock.unix_secs();
    client
        .post(url)
        .timeout(timeout)
        .header(CONTENT_TYPE, "application/json")
        .header(HEADER_EVENT, attempt.event_type)
        .header(HEADER_DELIVERY_ID, attempt.delivery_id)
        .header(HEADER_ATTEMPT, attempt.attempt.to_string())
        .header(HEADER_TIMESTAMP, timestamp.to_string())
        .header(HEADER_SIGNATURE, sign(secret, timestamp, attempt.body))
        .body(attempt.body.to_vec())
        .send()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_url_that_cannot_be_parsed_is_a_failure_without_a_status() {
        let deliverer = Deliverer::new(Duration::from_millis(100)).unwrap();
        let attempt = Attempt { event_type: "message.new", delivery_id: "e1", attempt: 1, body: b"{}" };
        let outcome = deliverer.deliver("not a url", b"secret", &attempt).await;
        assert!(matches!(outcome, Outcome::Failed { status: None, .. }), "{outcome:?}");
    }

    #[tokio::test]
    async fn a_refused_connection_is_a_failure_that_names_no_credentials() {
        // Bind and drop a listener to get a port nobody listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let deliverer = Deliverer::new(Duration::from_millis(500)).unwrap();
        let attempt = Attempt { event_type: "message.new", delivery_id: "e1", attempt: 1, body: b"{}" };
        let url = format!("http://hook:p4ssw0rd@127.0.0.1:{port}/hook");
        let Outcome::Failed { status, error } = deliverer.deliver(&url, b"secret", &attempt).await else {
            panic!("delivered to a closed port");
        };
        assert_eq!(status, None);
        assert!(error.starts_with("connection failed"), "{error}");
        assert!(!error.contains("p4ssw0rd") && !error.contains("secret"), "{error}");
    }
}

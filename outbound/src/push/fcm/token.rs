//! OAuth2 access tokens for FCM, fetched with the service account's
//! assertion, cached until shortly before they expire and shared by every
//! send: concurrent sends wait for the one fetch under way.

use std::time::{Duration, SystemTime};

use reqwest::Client;
use serde::Deserialize;
use tokio::sync::Mutex;

use super::account::ServiceAccount;
use crate::{
    clock::Clock,
    http::{describe, read_body, short},
};

const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// A fetch that failed: worth trying later, or refused for good.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TokenError {
    Unavailable(String),
    Refused(String),
}

#[derive(Clone)]
struct Cached {
    token: String,
    refresh_at: SystemTime,
}

#[derive(Deserialize)]
struct Granted {
    access_token: String,
    expires_in: u64,
}

#[derive(Default)]
pub(crate) struct AccessTokens {
    cached: Mutex<Option<Cached>>,
}

/// When to fetch the next token: a minute before expiry, or a tenth of the
/// lifetime before it for short-lived ones.
fn refresh_at(now: SystemTime, expires_in: Duration) -> SystemTime {
    now + expires_in - (expires_in / 10).min(Duration::from_secs(60))
}

impl AccessTokens {
    pub async fn get(
        &self,
        client: &Client,
        account: &ServiceAccount,
        clock: &dyn Clock,
        timeout: Duration,
    ) -> Result<String, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(c) = cached.as_ref().filter(|c| clock.now() < c.refresh_at) {
            return Ok(c.token.clone());
        }
        let fetched = fetch(client, account, clock, timeout).await?;
        let token = fetched.token.clone();
        *cached = Some(fetched);
        Ok(token)
    }

    /// Forgets `token` after the service refused it, unless a newer one has
    /// already replaced it.
    pub async fn forget(&self, token: &str) {
        let mut cached = self.cached.lock().await;
        if cached.as_ref().is_some_and(|c| c.token == token) {
            *cached = None;
        }
    }
}

async fn fetch(
    client: &Client,
    account: &ServiceAccount,
    clock: &dyn Clock,
    timeout: Duration,
) -> Result<Cached, TokenError> {
    let now = clock.now();
    let assertion =
        account.assertion(clock.unix_secs()).map_err(|e| TokenError::Refused(format!("signing the assertion: {e}")))?;
    let form = [("grant_type", GRANT_TYPE), ("assertion", assertion.as_str())];
    let response = client
        .post(&account.token_uri)
        .timeout(timeout)
        .form(&form)
        .send()
        .await
        .map_err(|e| TokenError::Unavailable(format!("token endpoint: {}", describe(e, timeout))))?;
    let status = response.status();
    let body = read_body(response)
        .await
        .map_err(|e| TokenError::Unavailable(format!("token endpoint: {}", e.describe(timeout))))?;
    if !status.is_success() {
        // Google's answer is {"error", "error_description"}: no secret in it.
        let why = format!("token endpoint: HTTP {}: {}", status.as_u16(), short(&String::from_utf8_lossy(&body), 200));
        return Err(if status.is_server_error() || status.as_u16() == 429 {
            TokenError::Unavailable(why)
        } else {
            TokenError::Refused(why)
        });
    }
    let granted: Granted = serde_json::from_slice(&body)
        .map_err(|_| TokenError::Unavailable("token endpoint: an answer without access_token and expires_in".into()))?;
    tracing::debug!(expires_in = granted.expires_in, "FCM access token fetched");
    Ok(Cached { token: granted.access_token, refresh_at: refresh_at(now, Duration::from_secs(granted.expires_in)) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_refreshed_a_minute_early_or_a_tenth_of_a_short_life() {
        let now = SystemTime::UNIX_EPOCH;
        assert_eq!(refresh_at(now, Duration::from_secs(3_600)), now + Duration::from_secs(3_540));
        assert_eq!(refresh_at(now, Duration::from_secs(10)), now + Duration::from_secs(9));
        assert_eq!(refresh_at(now, Duration::ZERO), now);
    }
}

//! Trying a push again while the service answers "later".

use std::time::Duration;

use super::{PushMessage, PushOutcome, PushProvider};
use crate::Backoff;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    /// Waits between attempts when the service names none.
    pub backoff: Backoff,
    /// A service asking for a longer wait than this is not waited for.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 4,
            backoff: Backoff { first: Duration::from_secs(1), max: Duration::from_secs(30) },
            max_wait: Duration::from_secs(60),
        }
    }
}

/// Sends, and while the answer is [`PushOutcome::Retry`] waits (the
/// service's `Retry-After`, else the backoff) and sends again, up to
/// `policy.attempts` in all; then the outcome is [`PushOutcome::Failed`].
pub async fn send_with_retry<P: PushProvider + ?Sized>(
    provider: &P,
    device_token: &str,
    message: &PushMessage,
    policy: &RetryPolicy,
) -> PushOutcome {
    let attempts = policy.attempts.max(1);
    for attempt in 1..=attempts {
        let after = match provider.send(device_token, message).await {
            PushOutcome::Retry { after } => after,
            done => return done,
        };
        if attempt == attempts {
            break;
        }
        let wait = after.unwrap_or_else(|| policy.backoff.delay(attempt, &mut rand::rng()));
        if wait > policy.max_wait {
            return PushOutcome::Failed {
                why: format!("{} asked to wait {} s before trying again", provider.platform(), wait.as_secs()),
            };
        }
        tracing::debug!(platform = provider.platform(), attempt, wait_ms = wait.as_millis() as u64, "push retry");
        tokio::time::sleep(wait).await;
    }
    PushOutcome::Failed { why: format!("{} still unavailable after {attempts} attempts", provider.platform()) }
}

//! Time as the server sees it. Every rule that runs on the clock
//! (disappearing messages, daily quotas, offers that expire) reads this one
//! clock, so tests move it forward instead of waiting. Times are UTC,
//! truncated to the millisecond so the value emitted live equals the one
//! read back from either database.

use std::{
    sync::{
        Arc,
        atomic::{AtomicI64, Ordering},
    },
    time::Duration,
};

use chrono::{DateTime, SubsecRound, Utc};
use tokio::sync::watch;

/// The longest lifetime a disappearing message may have: 30 days.
pub const MAX_TTL_SECONDS: i64 = 2_592_000;

/// The server's clock: the system time, plus an offset that only tests move.
#[derive(Clone, Debug)]
pub struct Clock {
    offset_ms: Arc<AtomicI64>,
    moved: watch::Sender<i64>,
}

impl Default for Clock {
    fn default() -> Self {
        Self { offset_ms: Arc::new(AtomicI64::new(0)), moved: watch::channel(0).0 }
    }
}

impl Clock {
    pub fn now(&self) -> DateTime<Utc> {
        let offset = chrono::Duration::milliseconds(self.offset_ms.load(Ordering::Acquire));
        (Utc::now() + offset).trunc_subsecs(3)
    }

    /// Moves the clock forward (tests): everything waiting for a time wakes
    /// up and looks again.
    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let total = self.offset_ms.fetch_add(ms, Ordering::AcqRel).saturating_add(ms);
        self.moved.send_replace(total);
    }

    /// Sleeps until the clock reads `at` (or later), waking early when the
    /// clock is moved.
    pub async fn sleep_until(&self, at: DateTime<Utc>) {
        let mut moved = self.moved.subscribe();
        loop {
            let left = at - self.now();
            let Ok(left) = left.to_std() else { return };
            if left.is_zero() {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(left) => {}
                changed = moved.changed() => {
                    if changed.is_err() {
                        tokio::time::sleep(left).await;
                    }
                }
            }
        }
    }
}

/// Wakes whoever keeps a schedule when something is scheduled sooner than
/// it may be sleeping for (a message that will disappear, an offer that
/// will expire). A ring while nobody waits is kept for the next wait.
#[derive(Clone, Debug, Default)]
pub struct Alarm(Arc<tokio::sync::Notify>);

impl Alarm {
    pub fn ring(&self) {
        self.0.notify_one();
    }

    pub async fn rung(&self) {
        self.0.notified().await;
    }
}

/// RFC 3339 with milliseconds and a `Z`, the form used on the wire.
pub fn rfc3339(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn advancing_moves_now_and_wakes_sleepers() {
        let clock = Clock::default();
        let before = clock.now();
        let far = before + chrono::Duration::hours(48);
        let sleeper = tokio::spawn({
            let clock = clock.clone();
            async move { clock.sleep_until(far).await }
        });
        clock.advance(Duration::from_secs(48 * 3600));
        tokio::time::timeout(Duration::from_secs(5), sleeper).await.unwrap().unwrap();
        assert!(clock.now() >= far);
    }
}

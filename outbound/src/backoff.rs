//! Exponential backoff with jitter between delivery attempts.

use std::time::Duration;

use rand::Rng;

/// Delays that start at `first`, double after each failed attempt, never
/// exceed `max`, and are spread by ±20% so that receivers recovering from an
/// outage are not hit by every retry at once.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub first: Duration,
    pub max: Duration,
}

impl Backoff {
    /// Webhook retries: about 1 s after the first failure, at most 10 min apart.
    pub const WEBHOOK: Backoff = Backoff { first: Duration::from_secs(1), max: Duration::from_secs(600) };

    /// The wait after failed attempt number `attempt` (1 for the first attempt).
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let doublings = attempt.saturating_sub(1);
        let nominal = match 1u32.checked_shl(doublings) {
            Some(factor) => self.first.saturating_mul(factor).min(self.max),
            None => self.max,
        };
        nominal.mul_f64(rng.random_range(0.8..=1.2)).min(self.max)
    }
}

/// The wait before retrying a webhook whose attempt number `attempt` failed.
pub fn backoff(attempt: u32, rng: &mut impl Rng) -> Duration {
    Backoff::WEBHOOK.delay(attempt, rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn the_first_retry_comes_after_about_a_second() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..1_000 {
            let d = secs(backoff(1, &mut rng));
            assert!((0.8..=1.2).contains(&d), "{d}");
        }
    }

    #[test]
    fn each_failure_doubles_the_wait() {
        let mut rng = StdRng::seed_from_u64(2);
        for attempt in 1..=9 {
            let nominal = f64::from(1u32 << (attempt - 1));
            let d = secs(backoff(attempt, &mut rng));
            assert!(d >= nominal * 0.8 && d <= nominal * 1.2, "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn waits_never_pass_ten_minutes_even_after_many_failures() {
        let mut rng = StdRng::seed_from_u64(3);
        for attempt in [11, 12, 20, 31, 32, 33, 64, 1_000, u32::MAX] {
            let d = secs(backoff(attempt, &mut rng));
            assert!((480.0..=600.0).contains(&d), "attempt {attempt}: {d}");
        }
    }

    #[test]
    fn jitter_spreads_the_waits() {
        let mut rng = StdRng::seed_from_u64(4);
        let waits: std::collections::BTreeSet<u128> = (0..50).map(|_| backoff(5, &mut rng).as_millis()).collect();
        assert!(waits.len() > 40, "{} distinct waits", waits.len());
    }

    #[test]
    fn attempt_zero_is_treated_as_the_first() {
        let mut rng = StdRng::seed_from_u64(5);
        assert!(secs(backoff(0, &mut rng)) <= 1.2);
    }

    #[test]
    fn a_custom_schedule_keeps_its_own_bounds() {
        let quick = Backoff { first: Duration::from_millis(10), max: Duration::from_millis(50) };
        let mut rng = StdRng::seed_from_u64(6);
        assert!(quick.delay(1, &mut rng) <= Duration::from_millis(12));
        assert!(quick.delay(8, &mut rng) <= Duration::from_millis(50));
    }
}

//! Repetition spam: one user sending the same text into several different
//! conversations within ten minutes. Counted in memory on the node that
//! stores the messages (a user's socket lives on one node); the flag it
//! raises is stored, and one open flag per target keeps it single.

use std::{
    collections::VecDeque,
    hash::{DefaultHasher, Hash, Hasher},
};

use chrono::{DateTime, Duration, Utc};
use dashmap::DashMap;
use uuid::Uuid;

/// How far back repeated texts count.
pub const WINDOW: Duration = Duration::minutes(10);
/// Texts remembered at most; past it, those outside the window are dropped.
const MAX_TRACKED: usize = 100_000;

/// A user and the hash of a normalised text.
type Key = (String, u64);
/// The conversations a text went into, and when (oldest first).
type Sends = VecDeque<(Uuid, DateTime<Utc>)>;

pub struct Repeats {
    threshold: usize,
    seen: DashMap<Key, Sends>,
}

impl Repeats {
    pub fn new(threshold: usize) -> Self {
        Self { threshold, seen: DashMap::new() }
    }

    /// Records `text` sent by `user` into `conversation` at `now`; true when
    /// it has now reached the threshold of different conversations.
    pub fn record(&self, user: &str, text: &str, conversation: Uuid, now: DateTime<Utc>) -> bool {
        let normalised = text.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
        if normalised.chars().count() < 2 {
            return false;
        }
        if self.seen.len() >= MAX_TRACKED {
            self.seen.retain(|_, sends| sends.back().is_some_and(|(_, at)| now - *at < WINDOW));
        }
        let mut hasher = DefaultHasher::new();
        normalised.hash(&mut hasher);
        let mut sends = self.seen.entry((user.to_string(), hasher.finish())).or_default();
        while sends.front().is_some_and(|(_, at)| now - *at >= WINDOW) {
            sends.pop_front();
        }
        sends.retain(|(c, _)| *c != conversation);
        sends.push_back((conversation, now));
        sends.len() >= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_conversations_within_ten_minutes() {
        let r = Repeats::new(5);
        let t0 = Utc::now();
        let convs: Vec<Uuid> = (0..6).map(Uuid::from_u128).collect();
        for c in &convs[..4] {
            assert!(!r.record("u", "Buy  now!", *c, t0));
        }
        // The same conversation again does not count twice.
        assert!(!r.record("u", "buy now!", convs[0], t0));
        assert!(!r.record("other", "buy now!", convs[4], t0));
        assert!(r.record("u", "BUY NOW!", convs[4], t0 + Duration::minutes(9)));
        // Eleven minutes on, the first sends no longer count.
        let r = Repeats::new(3);
        assert!(!r.record("u", "hello there", convs[0], t0));
        assert!(!r.record("u", "hello there", convs[1], t0));
        assert!(!r.record("u", "hello there", convs[2], t0 + Duration::minutes(11)));
    }
}

//! Wall-clock time behind a trait, so token lifetimes can be tested without
//! waiting an hour.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, SystemTime, UNIX_EPOCH},
};

pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> SystemTime;

    /// Whole seconds since the Unix epoch (0 for a clock set before it).
    fn unix_secs(&self) -> u64 {
        self.now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
    }
}

/// The operating system's clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> SystemTime {
        SystemTime::now()
    }
}

/// A clock that moves only when told to; clones share the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<Mutex<SystemTime>>);

impl ManualClock {
    pub fn at(time: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(time)))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        *now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> SystemTime {
        *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let start = UNIX_EPOCH + Duration::from_secs(1_000);
        let clock = ManualClock::at(start);
        let twin = clock.clone();
        assert_eq!(clock.unix_secs(), 1_000);
        twin.advance(Duration::from_secs(61));
        assert_eq!(clock.unix_secs(), 1_061);
    }

    #[test]
    fn a_clock_before_the_epoch_reads_zero_seconds() {
        let clock = ManualClock::at(UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(clock.unix_secs(), 0);
    }
}

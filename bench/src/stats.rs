//! Latency percentiles from every sample (microseconds). A run keeps at most
//! a few million samples, so sorting them all is exact and cheap. Each sample
//! also keeps the second it arrived in, so a short stall (one slow second)
//! can be told from a rate the server cannot hold (every second slow).

use std::{
    sync::{LazyLock, Mutex},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

/// The bench's clock: an instant and the wall-clock time it was taken at
/// (whole seconds since the Unix epoch), so a second on this clock can be
/// named in UTC and matched to the server's and the database's logs.
static EPOCH: LazyLock<(Instant, u64)> =
    LazyLock::new(|| (Instant::now(), SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())));

pub fn now_us() -> u64 {
    EPOCH.0.elapsed().as_micros() as u64
}

/// `second` of the bench's clock as a UTC time of day, `HH:MM:SS`.
pub fn utc_of_second(second: u32) -> String {
    let t = (EPOCH.1 + u64::from(second)) % 86_400;
    format!("{:02}:{:02}:{:02}", t / 3600, t / 60 % 60, t % 60)
}

/// A second counts as slow when its own p99 is above this.
pub const SLOW_SECOND_P99_MS: f64 = 50.0;
/// How many slow seconds a summary names (the first ones).
const SLOW_SECONDS_LISTED: usize = 8;

#[derive(Default)]
pub struct Samples {
    /// (latency in µs, second of arrival on the bench's clock)
    inner: Mutex<Vec<(u32, u32)>>,
}

impl Samples {
    pub fn record_us(&self, us: u64) {
        self.record_at(us, (now_us() / 1_000_000) as u32);
    }

    fn record_at(&self, us: u64, second: u32) {
        let v = u32::try_from(us).unwrap_or(u32::MAX);
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).push((v, second));
    }

    pub fn summary(&self) -> Summary {
        let mut v = std::mem::take(&mut *self.inner.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_unstable_by_key(|&(us, second)| (second, us));
        let mut per_second = Seconds::default();
        for group in v.chunk_by(|a, b| a.1 == b.1) {
            let p99 = rank(group.len(), 0.99).map(|i| group[i].0 as f64 / 1000.0).unwrap_or(0.0);
            per_second.seconds += 1;
            if p99 > SLOW_SECOND_P99_MS {
                per_second.slow += 1;
                if per_second.slow_at.len() < SLOW_SECONDS_LISTED {
                    per_second.slow_at.push((group[0].1, p99));
                }
            }
            per_second.worst_p99 = per_second.worst_p99.max(p99);
        }
        let mut all: Vec<u32> = v.into_iter().map(|(us, _)| us).collect();
        all.sort_unstable();
        Summary { per_second, ..Summary::of_sorted(&all) }
    }
}

/// The index of the nearest-rank `q` quantile among `n` sorted samples.
fn rank(n: usize, q: f64) -> Option<usize> {
    (n > 0).then(|| ((q * n as f64).ceil() as usize).clamp(1, n) - 1)
}

/// The samples second by second.
#[derive(Clone, Debug, Default)]
pub struct Seconds {
    /// Seconds with at least one sample.
    pub seconds: usize,
    /// Seconds whose own p99 was above [`SLOW_SECOND_P99_MS`].
    pub slow: usize,
    /// The highest p99 of any one second (ms).
    pub worst_p99: f64,
    /// The first slow seconds (second on the bench's clock, its p99 in ms).
    pub slow_at: Vec<(u32, f64)>,
}

impl Seconds {
    /// The slow seconds as UTC times with their p99, e.g.
    /// `14:31:07 85 ms, 14:31:40 61 ms`; empty when there were none.
    pub fn slow_list(&self) -> String {
        let mut out: Vec<String> =
            self.slow_at.iter().map(|&(s, p99)| format!("{} {p99:.0} ms", utc_of_second(s))).collect();
        if self.slow > self.slow_at.len() {
            out.push(format!("and {} more", self.slow - self.slow_at.len()));
        }
        out.join(", ")
    }
}

/// Percentiles in milliseconds.
#[derive(Clone, Debug, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
    pub per_second: Seconds,
}

impl Summary {
    fn of_sorted(v: &[u32]) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        let at = |q: f64| rank(v.len(), q).and_then(|i| v.get(i)).copied().unwrap_or(0) as f64 / 1000.0;
        Self {
            count: v.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: v.last().copied().unwrap_or(0) as f64 / 1000.0,
            per_second: Seconds::default(),
        }
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "p50 {:.2} ms  p90 {:.2}  p99 {:.2}  p99.9 {:.2}  max {:.2}  (n={})",
            self.p50, self.p90, self.p99, self.p999, self.max, self.count
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let s = Samples::default();
        for us in 1..=1000 {
            s.record_us(us * 1000);
        }
        let sum = s.summary();
        assert_eq!(sum.count, 1000);
        assert_eq!(sum.p50, 500.0);
        assert_eq!(sum.p99, 990.0);
        assert_eq!(sum.p999, 999.0);
        assert_eq!(sum.max, 1000.0);
    }

    #[test]
    fn a_stall_is_one_slow_second_and_overload_is_all_of_them() {
        let stall = Samples::default();
        for second in 0..8 {
            for i in 0..100 {
                let ms = if second == 3 && i < 10 { 90 } else { 2 };
                stall.record_at(ms * 1000, 100 + second);
            }
        }
        let sum = stall.summary();
        assert_eq!((sum.per_second.slow, sum.per_second.seconds), (1, 8));
        assert_eq!(sum.per_second.worst_p99, 90.0);
        assert_eq!(sum.per_second.slow_at, vec![(103, 90.0)], "the slow second is named");
        assert_eq!(sum.p99, 90.0, "the stall still sets the run's p99");

        let overload = Samples::default();
        for second in 0..8 {
            for i in 0..100 {
                overload.record_at(if i < 5 { 60_000 } else { 20_000 }, second);
            }
        }
        let sum = overload.summary();
        assert_eq!((sum.per_second.slow, sum.per_second.seconds), (8, 8));
        assert_eq!(sum.per_second.slow_at.len(), SLOW_SECONDS_LISTED);
        assert!(!sum.per_second.slow_list().contains("more"), "all eight are named");
    }

    #[test]
    fn empty_is_zero() {
        assert_eq!(Samples::default().summary().count, 0);
    }
}

//! Latency percentiles from every sample (microseconds). A run keeps at most
//! a few million samples, so sorting them all is exact and cheap.

use std::sync::Mutex;

#[derive(Default)]
pub struct Samples {
    inner: Mutex<Vec<u32>>,
}

impl Samples {
    pub fn record_us(&self, us: u64) {
        let v = u32::try_from(us).unwrap_or(u32::MAX);
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).push(v);
    }

    pub fn summary(&self) -> Summary {
        let mut v = std::mem::take(&mut *self.inner.lock().unwrap_or_else(|e| e.into_inner()));
        v.sort_unstable();
        Summary::of_sorted(&v)
    }
}

/// Percentiles in milliseconds.
#[derive(Clone, Copy, Debug, Default)]
pub struct Summary {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Summary {
    fn of_sorted(v: &[u32]) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        let at = |q: f64| {
            let rank = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len());
            v.get(rank - 1).copied().unwrap_or(0) as f64 / 1000.0
        };
        Self {
            count: v.len(),
            p50: at(0.50),
            p90: at(0.90),
            p99: at(0.99),
            p999: at(0.999),
            max: v.last().copied().unwrap_or(0) as f64 / 1000.0,
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
    fn empty_is_zero() {
        assert_eq!(Samples::default().summary().count, 0);
    }
}

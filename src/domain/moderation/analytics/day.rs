//! One day of the analytics rollups as the aggregator keeps it and a report
//! adds it up: message counts by type and hour, the day's senders, and its
//! reply gaps.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;
use roaring::RoaringBitmap;

use crate::error::{AppError, AppResult};

/// Reply gaps are kept to three significant digits (within 0.1 %), up to
/// 400 days; a longer gap counts as 400 days.
const GAP_DIGITS: u8 = 3;
const MAX_GAP_MS: u64 = 400 * 86_400_000;

/// One day's figures.
#[derive(Clone, Debug)]
pub(super) struct Day {
    /// Messages by type and hour of the day.
    pub(super) counts: BTreeMap<String, [i64; 24]>,
    /// The numbers of the senders of the day's user messages.
    pub(super) senders: RoaringBitmap,
    /// Milliseconds from a user message to the other participant's answer,
    /// counted on the day of the answer.
    pub(super) gaps: Gaps,
}

/// A day's reply gaps: as stored (the recorded buckets, `[[milliseconds,
/// count], ...]`: a few hundred pairs, cheap to add up over a year), or as
/// a histogram once the day records a new gap.
#[derive(Clone, Debug)]
pub(super) enum Gaps {
    Stored(Vec<(u64, u64)>),
    Live(Box<Histogram<u64>>),
}

impl Gaps {
    pub(super) fn record(&mut self, ms: u64) {
        if let Gaps::Stored(pairs) = self {
            let mut histogram = new_histogram();
            for (value, n) in pairs.iter() {
                histogram.saturating_record_n(*value, *n);
            }
            *self = Gaps::Live(Box::new(histogram));
        }
        if let Gaps::Live(histogram) = self {
            histogram.saturating_record(ms);
        }
    }

    pub(super) fn add_to(&self, sum: &mut Histogram<u64>) {
        match self {
            Gaps::Stored(pairs) => {
                for (value, n) in pairs {
                    sum.saturating_record_n(*value, *n);
                }
            }
            // Same bounds on both sides: adding cannot fail.
            Gaps::Live(histogram) => {
                let _ = sum.add(histogram.as_ref());
            }
        }
    }

    pub(super) fn pairs(&self) -> Vec<(u64, u64)> {
        match self {
            Gaps::Stored(pairs) => pairs.clone(),
            Gaps::Live(h) => {
                h.iter_recorded().map(|v| (h.highest_equivalent(v.value_iterated_to()), v.count_at_value())).collect()
            }
        }
    }
}

impl Day {
    pub(super) fn new() -> Self {
        Self { counts: BTreeMap::new(), senders: RoaringBitmap::new(), gaps: Gaps::Stored(vec![]) }
    }

    pub(super) fn decode(counts: &str, senders: &[u8], gaps: &str) -> AppResult<Self> {
        let counts = serde_json::from_str(counts).map_err(AppError::internal)?;
        let senders = RoaringBitmap::deserialize_from(senders).map_err(AppError::internal)?;
        let gaps = Gaps::Stored(serde_json::from_str(gaps).map_err(AppError::internal)?);
        Ok(Self { counts, senders, gaps })
    }

    pub(super) fn encode(&self) -> AppResult<(String, Vec<u8>, String)> {
        let counts = serde_json::to_string(&self.counts).map_err(AppError::internal)?;
        let mut senders = Vec::with_capacity(self.senders.serialized_size());
        self.senders.serialize_into(&mut senders).map_err(AppError::internal)?;
        let gaps = serde_json::to_string(&self.gaps.pairs()).map_err(AppError::internal)?;
        Ok((counts, senders, gaps))
    }
}

#[allow(clippy::expect_used, reason = "constant bounds, which the unit tests construct")]
pub(super) fn new_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, MAX_GAP_MS, GAP_DIGITS).expect("constant bounds are valid")
}

/// The value at rank ⌈p·n⌉ (nearest rank), to the histogram's precision.
pub(super) fn rank(histogram: &Histogram<u64>, p: f64) -> Option<u64> {
    let n = histogram.len();
    if n == 0 {
        return None;
    }
    let target = ((p * n as f64).ceil() as u64).clamp(1, n);
    let mut seen = 0;
    for value in histogram.iter_recorded() {
        seen += value.count_at_value();
        if seen >= target {
            return Some(histogram.highest_equivalent(value.value_iterated_to()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_ranks_to_three_digits() {
        let mut h = new_histogram();
        assert_eq!(rank(&h, 0.5), None, "no replies, no figure");
        for ms in [180_000u64, 2_400_000, 1_800_000, 36_300_000, 28_320_000] {
            h.record(ms).unwrap();
        }
        // Sorted: 180 000, 1 800 000, 2 400 000, 28 320 000, 36 300 000.
        let p50 = rank(&h, 0.5).unwrap();
        assert!(p50.abs_diff(2_400_000) <= 2_400, "{p50}");
        let p90 = rank(&h, 0.9).unwrap();
        assert!(p90.abs_diff(36_300_000) <= 36_300, "{p90}");
        let mut one = new_histogram();
        one.record(1234).unwrap();
        assert_eq!(rank(&one, 0.9), Some(1234), "small values are exact");
    }

    #[test]
    fn a_day_survives_its_stored_form() {
        let mut day = Day::new();
        day.counts.insert("user_input".into(), [1; 24]);
        day.senders.insert(7);
        day.senders.insert(4_000_000);
        day.gaps.record(90_000);
        day.gaps.record(90_001);
        day.gaps.record(7_200_000);
        let (counts, senders, gaps) = day.encode().unwrap();
        let mut back = Day::decode(&counts, &senders, &gaps).unwrap();
        assert_eq!(back.counts, day.counts);
        assert_eq!(back.senders, day.senders);
        assert_eq!(back.gaps.pairs(), day.gaps.pairs());
        assert_eq!(back.gaps.pairs().len(), 2, "90 000 and 90 001 share a bucket");
        back.gaps.record(60_000);
        let mut sum = new_histogram();
        back.gaps.add_to(&mut sum);
        day.gaps.add_to(&mut sum);
        assert_eq!(sum.len(), 7, "stored and live days add up");
    }
}

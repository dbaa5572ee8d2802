//! A fixed-bucket latency histogram with atomic buckets.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Upper bounds of the latency buckets, in seconds (1 µs … 100 ms).
pub const LATENCY_BUCKETS_SECONDS: [f64; 14] = [
    0.000_001, 0.000_002, 0.000_005, 0.000_01, 0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5,
    0.001, 0.002_5, 0.005, 0.01, 0.1,
];

const BUCKET_NS: [u64; 14] = [
    1_000,
    2_000,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    100_000_000,
];

/// Latency histogram (non-cumulative buckets plus +Inf; rendered cumulatively).
#[derive(Default)]
pub struct Histogram {
    buckets: [AtomicU64; 15],
    sum_ns: AtomicU64,
    count: AtomicU64,
}

impl Histogram {
    /// Record one observation.
    pub fn observe(&self, d: Duration) {
        let ns = d.as_nanos().min(u64::MAX as u128) as u64;
        let i = BUCKET_NS
            .iter()
            .position(|b| ns <= *b)
            .unwrap_or(BUCKET_NS.len());
        self.buckets[i].fetch_add(1, Relaxed);
        self.sum_ns.fetch_add(ns, Relaxed);
        self.count.fetch_add(1, Relaxed);
    }

    /// Cumulative counts per bucket, the last being +Inf.
    pub fn cumulative(&self) -> [u64; 15] {
        let mut out = [0; 15];
        let mut acc = 0;
        for (i, b) in self.buckets.iter().enumerate() {
            acc += b.load(Relaxed);
            out[i] = acc;
        }
        out
    }

    /// Sum of observations in seconds.
    pub fn sum_seconds(&self) -> f64 {
        self.sum_ns.load(Relaxed) as f64 / 1e9
    }

    /// Number of observations.
    pub fn count(&self) -> u64 {
        self.count.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_cumulative_and_bounded() {
        let h = Histogram::default();
        h.observe(Duration::from_nanos(500));
        h.observe(Duration::from_micros(3));
        h.observe(Duration::from_secs(1));
        let c = h.cumulative();
        assert_eq!(c[0], 1);
        assert_eq!(c[2], 2);
        assert_eq!(c[13], 2);
        assert_eq!(c[14], 3);
        assert_eq!(h.count(), 3);
        assert!((h.sum_seconds() - 1.0000035).abs() < 1e-9);
    }
}

//! Percentiles of recorded latencies.
//!
//! All samples are kept and sorted (10k msg/s for a few seconds is well under a million
//! samples), so the p99.9 is exact rather than a histogram bucket's edge.

/// Sorted samples, ready to be asked for percentiles.
pub struct Sorted(Vec<u64>);

impl Sorted {
    pub fn new(mut samples: Vec<u64>) -> Sorted {
        samples.sort_unstable();
        Sorted(samples)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The nearest-rank percentile: the smallest sample with at least `p`% of the samples
    /// at or below it. `None` when there are no samples.
    pub fn percentile(&self, p: f64) -> Option<u64> {
        let n = self.0.len();
        if n == 0 {
            return None;
        }
        // 99.9 has no exact binary form: 99.9% of 1000 computes as 999.0000000000001,
        // which must still be rank 999, so shave off the rounding error before `ceil`.
        let rank = ((p / 100.0) * n as f64 - 1e-9).ceil() as usize;
        self.0.get(rank.clamp(1, n) - 1).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_on_one_to_a_thousand() {
        let s = Sorted::new((1..=1000).rev().collect());
        assert_eq!(s.percentile(50.0), Some(500));
        assert_eq!(s.percentile(99.0), Some(990));
        assert_eq!(s.percentile(99.9), Some(999));
        assert_eq!(s.percentile(100.0), Some(1000));
        assert_eq!(s.percentile(0.0), Some(1));
    }

    #[test]
    fn small_and_empty_sets() {
        assert_eq!(Sorted::new(vec![]).percentile(50.0), None);
        let one = Sorted::new(vec![7]);
        assert_eq!(
            (one.percentile(0.1), one.percentile(99.9)),
            (Some(7), Some(7))
        );
        let two = Sorted::new(vec![10, 20]);
        assert_eq!(
            (two.percentile(50.0), two.percentile(51.0)),
            (Some(10), Some(20))
        );
    }
}

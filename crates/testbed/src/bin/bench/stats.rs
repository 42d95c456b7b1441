//! Percentiles of latency samples, by nearest rank: the p-th percentile of n sorted samples is the
//! ⌈p/100 · n⌉-th smallest, always a measured value (never an interpolation between two). Below
//! 100 samples the p99 is therefore the largest one.

/// The distribution of one watcher's latencies in one case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    pub n: usize,
    pub p50: i64,
    pub p95: i64,
    pub p99: i64,
    pub max: i64,
}

impl Percentiles {
    /// None without samples.
    pub fn of(values: &[i64]) -> Option<Percentiles> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let max = *sorted.last()?;
        Some(Percentiles { n: sorted.len(), p50: nearest_rank(&sorted, 50), p95: nearest_rank(&sorted, 95), p99: nearest_rank(&sorted, 99), max })
    }
}

/// The nearest-rank `percent`-th percentile of non-empty, ascending `sorted`.
fn nearest_rank(sorted: &[i64], percent: usize) -> i64 {
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted[rank - 1]
}

/// How likely `n` samples all fall within a target if the true p99 were above it (each sample
/// then has at least a 1% chance to exceed it): at most 0.99^n. Small only for large n (about
/// 300 samples for 5%), which is why a p99 of a few dozen samples is weak evidence.
pub fn chance_all_within_if_p99_above(n: usize) -> f64 {
    0.99f64.powi(n as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_measured_values() {
        let values: Vec<i64> = (1..=20).rev().collect();
        let p = Percentiles::of(&values).unwrap();
        // ⌈0.5·20⌉ = 10th, ⌈0.95·20⌉ = 19th, ⌈0.99·20⌉ = 20th.
        assert_eq!(p, Percentiles { n: 20, p50: 10, p95: 19, p99: 20, max: 20 });
    }

    #[test]
    fn the_p99_leaves_the_largest_out_from_100_samples_on() {
        let ninety_nine: Vec<i64> = (1..=99).collect();
        assert_eq!(Percentiles::of(&ninety_nine).unwrap().p99, 99);
        let hundred: Vec<i64> = (1..=100).collect();
        assert_eq!(Percentiles::of(&hundred).unwrap().p99, 99);
        let mut more: Vec<i64> = (1..=200).collect();
        more.push(10_000);
        // 201 samples: the 199th (⌈198.99⌉); the one outlier does not move it.
        let p = Percentiles::of(&more).unwrap();
        assert_eq!((p.p99, p.max), (199, 10_000));
    }

    #[test]
    fn one_sample_is_every_percentile_and_none_is_nothing() {
        assert_eq!(Percentiles::of(&[7]).unwrap(), Percentiles { n: 1, p50: 7, p95: 7, p99: 7, max: 7 });
        assert_eq!(Percentiles::of(&[]), None);
    }

    #[test]
    fn evidence_from_samples_all_within_target() {
        assert!((chance_all_within_if_p99_above(20) - 0.818).abs() < 0.001);
        assert!(chance_all_within_if_p99_above(300) < 0.05);
    }
}

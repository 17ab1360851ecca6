//! Per-step order statistics over the intermediate values of COMPLETE trials,
//! kept incrementally: the percentile rules of [`super::PercentilePruner`]
//! (Optuna's `MedianPruner` and `PercentilePruner` count the COMPLETE trials
//! only, not PRUNED or FAIL ones).

use std::collections::HashMap;

use crate::history::{sort_key, History, TrialState};

/// The values reported at one step by COMPLETE trials.
#[derive(Debug, Clone, Default, PartialEq)]
struct StepValues {
    /// All reported values, NaN included (Optuna's `n_min_trials` counts them).
    count: usize,
    /// The non-NaN values, ascending (sort keys of the IEEE total order).
    sorted: Vec<u64>,
}

/// Order statistics per step over the COMPLETE trials of a history, updated
/// from the trials finished since the last [`StepStats::update`]. A query is
/// O(1) once updated; taking in a finished trial costs a binary search and an
/// insertion (a memory move) per reported step.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepStats {
    /// How many entries of [`History::finished_order`] have been read.
    cursor: usize,
    n_complete: usize,
    by_step: HashMap<i64, StepValues>,
}

impl StepStats {
    /// Takes in the trials finished since the last call (all of them when the
    /// history is another one than before, as a shorter log shows).
    pub fn update(&mut self, history: &History) {
        let order = history.finished_order();
        if order.len() < self.cursor {
            *self = StepStats::default();
        }
        for &number in &order[self.cursor..] {
            let t = &history.trials()[number as usize];
            if t.state != TrialState::Complete {
                continue;
            }
            self.n_complete += 1;
            for &(step, v) in &t.intermediate {
                let e = self.by_step.entry(step).or_default();
                e.count += 1;
                if !v.is_nan() {
                    let k = sort_key(v);
                    let pos = e.sorted.partition_point(|x| *x < k);
                    e.sorted.insert(pos, k);
                }
            }
        }
        self.cursor = order.len();
    }

    /// Number of COMPLETE trials taken in.
    pub fn n_complete(&self) -> usize {
        self.n_complete
    }

    /// Number of COMPLETE trials that reported a value (NaN included) at `step`.
    pub fn count(&self, step: i64) -> usize {
        self.by_step.get(&step).map_or(0, |e| e.count)
    }

    /// The `q`-th percentile (0..=100) of the non-NaN values reported at
    /// `step`, interpolated linearly between order statistics as numpy's
    /// `nanpercentile` does (the same formula, so the same float); NaN when no
    /// such value exists.
    pub fn percentile(&self, step: i64, q: f64) -> f64 {
        let Some(e) = self.by_step.get(&step).filter(|e| !e.sorted.is_empty()) else {
            return f64::NAN;
        };
        let n = e.sorted.len();
        let virtual_index = (q / 100.0) * (n - 1) as f64;
        let lo = (virtual_index.floor() as usize).min(n - 1);
        let hi = (lo + 1).min(n - 1);
        let gamma = virtual_index - lo as f64;
        lerp(from_key(e.sorted[lo]), from_key(e.sorted[hi]), gamma)
    }
}

/// numpy's linear interpolation (`_lerp`): from `a` below one half, from `b`
/// above, so that the ends are exact.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let d = b - a;
    if t >= 0.5 {
        b - d * (1.0 - t)
    } else {
        a + d * t
    }
}

/// The float behind a [`sort_key`].
pub(crate) fn from_key(k: u64) -> f64 {
    let b = if k >> 63 == 1 { k & !(1 << 63) } else { !k };
    f64::from_bits(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_round_trip() {
        for v in [
            0.0,
            -0.0,
            1.5,
            -2.25,
            f64::INFINITY,
            f64::NEG_INFINITY,
            1e-300,
        ] {
            assert_eq!(from_key(sort_key(v)).to_bits(), v.to_bits());
        }
    }

    #[test]
    fn percentile_matches_numpy_on_small_cases() {
        let mut h = History::new(1);
        for (i, v) in [3.0, 1.0, 4.0, f64::NAN, 2.0].into_iter().enumerate() {
            let t = h.create_trial(TrialState::Running);
            h.report(t, 0, v).unwrap();
            h.report(t, 1, i as f64).unwrap();
            h.finish(t, TrialState::Complete, vec![0.0]).unwrap();
        }
        // A PRUNED trial does not count.
        let t = h.create_trial(TrialState::Running);
        h.report(t, 0, -100.0).unwrap();
        h.finish(t, TrialState::Pruned, vec![]).unwrap();
        let mut s = StepStats::default();
        s.update(&h);
        assert_eq!(s.n_complete(), 5);
        assert_eq!(s.count(0), 5);
        // numpy.nanpercentile([3, 1, 4, nan, 2], q) for q = 50, 25, 0, 100, 10.
        assert_eq!(s.percentile(0, 50.0), 2.5);
        assert_eq!(s.percentile(0, 25.0), 1.75);
        assert_eq!(s.percentile(0, 0.0), 1.0);
        assert_eq!(s.percentile(0, 100.0), 4.0);
        assert!((s.percentile(0, 10.0) - 1.3).abs() < 1e-12);
        assert!(s.percentile(7, 50.0).is_nan());
        // Updating again reads nothing new; a fresh history starts over.
        s.update(&h);
        assert_eq!(s.count(0), 5);
        s.update(&History::new(1));
        assert_eq!(s.n_complete(), 0);
    }
}

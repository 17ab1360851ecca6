//! Observations per budget: for every step at which finished trials reported
//! a value, the (loss, trial) pairs sorted by loss, kept between asks and
//! extended with newly finished trials only (through
//! [`History::finished_order`]), so an ask never rescans the whole history.
//!
//! A trial's value at budget b is the intermediate value it reported at step
//! b exactly; budgets between reported steps get nothing from it (no
//! interpolation). A COMPLETE trial's final value replaces its value at its
//! last reported step (the objective's return is its measurement at the
//! budget it reached) and, when it reported nothing, counts at
//! [`FINAL_BUDGET`], above every step. PRUNED trials count with their
//! reports; FAIL and RUNNING trials with none (a running trial's reports join
//! when it finishes). NaN values are not observations. Losses are values, or
//! their negation for a maximised objective (the first objective only).

use std::collections::BTreeMap;

use crate::history::{sort_key, History, TrialState};

/// The budget of the final value of a COMPLETE trial that reported nothing.
pub const FINAL_BUDGET: i64 = i64::MAX;

/// Per-budget observation lists, updated incrementally from a history.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Budgets {
    /// Entries of the history's `finished_order` taken in.
    seen: usize,
    /// The last trial taken in and the bits of its completion time, to
    /// notice a different history.
    last: Option<(u32, u64)>,
    /// budget -> (sort key of the loss, trial), ascending.
    by_budget: BTreeMap<i64, Vec<(u64, u32)>>,
}

impl Budgets {
    /// Takes in the trials of `h` that finished since the last call (all of
    /// them when `h` is not the history seen before).
    pub fn update(&mut self, h: &History) {
        let order = h.finished_order();
        let mark = |t: u32| (t, h.trials()[t as usize].completed.to_bits());
        let same = order.len() >= self.seen
            && (self.seen == 0 || order.get(self.seen - 1).map(|&t| mark(t)) == self.last);
        if !same {
            *self = Budgets::default();
        }
        let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
        for &t in &order[self.seen..] {
            self.take_in(h, t, sign);
        }
        self.seen = order.len();
        self.last = order.last().map(|&t| mark(t));
    }

    fn take_in(&mut self, h: &History, t: u32, sign: f64) {
        let rec = &h.trials()[t as usize];
        let last = rec.last_intermediate().map(|s| s.0);
        let finals = match rec.state {
            TrialState::Complete => rec.values.first().copied(),
            TrialState::Pruned => None,
            _ => return,
        };
        let mut add = |budget: i64, v: f64| {
            if v.is_nan() {
                return;
            }
            let e = (sort_key(v * sign), t);
            let list = self.by_budget.entry(budget).or_default();
            let pos = list.partition_point(|x| *x < e);
            list.insert(pos, e);
        };
        for &(step, v) in &rec.intermediate {
            match finals {
                Some(f) if Some(step) == last => add(step, f),
                _ => add(step, v),
            }
        }
        if let (Some(f), None) = (finals, last) {
            add(FINAL_BUDGET, f);
        }
    }

    /// The largest budget with at least `min_obs` observations and its
    /// trials, best (lowest loss) first; None when no budget has enough.
    pub fn largest_with(&self, min_obs: usize) -> Option<(i64, Vec<u32>)> {
        self.by_budget
            .iter()
            .rev()
            .find(|(_, obs)| obs.len() >= min_obs.max(1))
            .map(|(b, obs)| (*b, obs.iter().map(|e| e.1).collect()))
    }

    /// Number of observations at each budget, ascending by budget.
    pub fn counts(&self) -> Vec<(i64, usize)> {
        self.by_budget.iter().map(|(b, o)| (*b, o.len())).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// The lists written plainly: every finished trial rescanned.
    fn plain(h: &History) -> BTreeMap<i64, Vec<(u64, u32)>> {
        let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
        let mut out: BTreeMap<i64, Vec<(u64, u32)>> = BTreeMap::new();
        for (t, rec) in h.trials().iter().enumerate() {
            let mut obs: BTreeMap<i64, f64> = rec.intermediate.iter().copied().collect();
            match rec.state {
                TrialState::Complete => {
                    let last = obs.keys().next_back().copied().unwrap_or(FINAL_BUDGET);
                    obs.insert(last, rec.values[0]);
                }
                TrialState::Pruned => {}
                _ => continue,
            }
            for (b, v) in obs {
                if !v.is_nan() {
                    out.entry(b)
                        .or_default()
                        .push((sort_key(v * sign), t as u32));
                }
            }
        }
        for v in out.values_mut() {
            v.sort_unstable();
        }
        out
    }

    #[test]
    fn incremental_lists_equal_a_plain_rescan() {
        let mut rng = Rng::new(3);
        for maximize in [false, true] {
            let mut h = History::with_directions(vec![maximize]);
            let mut b = Budgets::default();
            let mut running = Vec::new();
            for _ in 0..300 {
                let t = h.create_trial(TrialState::Running);
                for step in 1..=(rng.below(6) as i64) {
                    let v = if rng.uniform() < 0.05 {
                        f64::NAN
                    } else {
                        rng.uniform()
                    };
                    h.report(t, step * 3, v).unwrap();
                }
                running.push(t);
                // Finish a random running trial, out of order at times.
                let i = rng.below(running.len() as u64) as usize;
                let t = running.swap_remove(i);
                match rng.below(4) {
                    0 | 1 => h
                        .finish(t, TrialState::Complete, vec![rng.uniform()])
                        .unwrap(),
                    2 => h.finish(t, TrialState::Pruned, vec![]).unwrap(),
                    _ => h.finish(t, TrialState::Fail, vec![]).unwrap(),
                }
                if rng.uniform() < 0.3 {
                    b.update(&h);
                    assert_eq!(b.by_budget, plain(&h));
                }
            }
            b.update(&h);
            assert_eq!(b.by_budget, plain(&h));
            // Another history: rebuilt from scratch, not mixed.
            let mut other = History::new(1);
            let t = other.create_trial(TrialState::Running);
            other.finish(t, TrialState::Complete, vec![1.0]).unwrap();
            b.update(&other);
            assert_eq!(b.by_budget, plain(&other));
        }
    }

    #[test]
    fn largest_budget_with_enough_observations() {
        let mut h = History::new(1);
        // 6 trials reach step 1, 3 of them step 3, 1 of them step 9.
        for i in 0..6 {
            let t = h.create_trial(TrialState::Running);
            h.report(t, 1, i as f64).unwrap();
            if i < 3 {
                h.report(t, 3, 10.0 - i as f64).unwrap();
            }
            if i == 0 {
                h.report(t, 9, 0.5).unwrap();
            }
            let state = if i < 3 {
                TrialState::Pruned
            } else {
                TrialState::Complete
            };
            let values = if i < 3 { vec![] } else { vec![-(i as f64)] };
            h.finish(t, state, values).unwrap();
        }
        let mut b = Budgets::default();
        b.update(&h);
        assert_eq!(b.counts(), vec![(1, 6), (3, 3), (9, 1)]);
        assert_eq!(b.largest_with(1), Some((9, vec![0])));
        // Step 3: losses 10, 9, 8 for trials 0, 1, 2: best first.
        assert_eq!(b.largest_with(2), Some((3, vec![2, 1, 0])));
        // Step 1: trials 3-5 completed there, with final values -3, -4, -5.
        assert_eq!(b.largest_with(4), Some((1, vec![5, 4, 3, 0, 1, 2])));
        assert_eq!(b.largest_with(7), None);
    }
}

//! The split of the finished trials into a good set (l(x)) and a bad set
//! (g(x)), with Optuna's default gamma and weights.
//!
//! Order (Optuna's): feasible COMPLETE trials by value (several objectives:
//! by non-dominated fronts, see [`super::motpe`]); then PRUNED trials, deeper
//! last step first, then by last intermediate value; then trials violating
//! black-box constraints, by total violation. The first gamma(n) go to the
//! good set. With `constant_liar`, RUNNING trials always join the bad set.
//!
//! FAIL trials (an exception, or a NaN value) join the bad set too, without
//! counting in n (a deviation from Optuna, which leaves them out): left out,
//! a region where the objective fails looks unexplored to g(x), and the
//! sampler kept proposing it (a one-parameter objective failing above 3 of
//! [-5, 5] got 15 failures in its last 15 of 60 trials, in Optuna's TPE too).

use super::motpe::split_multi;
use super::TpeSampler;
use crate::error::Result;
use crate::history::{sort_key, History, TrialState};

/// Optuna's default gamma: min(ceil(0.1 n), 25).
pub fn default_gamma(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// Optuna's default gamma for several objectives: ceil(0.1 n).
pub fn default_gamma_multi(n: usize) -> usize {
    n.div_ceil(10)
}

/// Optuna's default weights: 1 for the newest 25 observations, a linear ramp
/// from 1/n to 1 for the older ones.
pub fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let m = n - 25;
    let start = 1.0 / n as f64;
    let mut w: Vec<f64> = match m {
        0 => Vec::new(),
        1 => vec![start],
        _ => (0..m)
            .map(|i| start + (1.0 - start) * i as f64 / (m - 1) as f64)
            .collect(),
    };
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// The trials a split sees, by kind.
#[derive(Default)]
struct Candidates {
    /// Feasible COMPLETE trials.
    complete: Vec<usize>,
    /// Feasible PRUNED trials.
    pruned: Vec<usize>,
    /// RUNNING trials (only with the constant liar).
    running: Vec<usize>,
    /// COMPLETE or PRUNED trials that violate a black-box constraint.
    infeasible: Vec<usize>,
    /// FAIL trials.
    failed: Vec<usize>,
}

impl TpeSampler {
    /// Splits the trials (all but `current`) into good and bad sets, each sorted by number.
    pub fn split(&self, h: &History, current: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        let c = self.candidates(h, current);
        let trials = h.trials();
        let sign: Vec<f64> = h
            .maximize()
            .iter()
            .map(|&m| if m { -1.0 } else { 1.0 })
            .collect();
        let n = c.complete.len() + c.pruned.len() + c.infeasible.len();
        let mut n_below = self.gamma(n, h.n_objectives() > 1)?;
        let (mut below, mut above) = split_complete(h, &c.complete, n_below, &sign);
        n_below = n_below.saturating_sub(below.len());

        let pruned_key = |t: usize| -> (f64, f64) {
            match trials[t].last_intermediate() {
                Some((step, v)) if v.is_nan() => (-(step as f64), f64::INFINITY),
                Some((step, v)) => (-(step as f64), v * sign[0]),
                None => (1.0, 0.0),
            }
        };
        let mut pruned = c.pruned;
        pruned.sort_by(|&x, &y| {
            let (a, b) = (pruned_key(x), pruned_key(y));
            a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
        });
        take_first(pruned, &mut n_below, &mut below, &mut above);

        let mut infeasible = c.infeasible;
        infeasible.sort_by(|&x, &y| trials[x].violation().total_cmp(&trials[y].violation()));
        take_first(infeasible, &mut n_below, &mut below, &mut above);
        above.extend(c.running);
        above.extend(c.failed);
        below.sort_unstable();
        // In trial order, by marking rather than sorting.
        let mut mark = vec![false; trials.len()];
        for &t in &above {
            mark[t] = true;
        }
        let above = (0..trials.len()).filter(|&t| mark[t]).collect();
        Ok((below, above))
    }

    /// The split of an ask: [`TpeSampler::split`], or with `budget_aware`
    /// (one objective), the split at a budget. The model budget is the
    /// highest step at which at least max(`n_startup_trials`, 2) finished
    /// trials reported a value (observations as BOHB's,
    /// [`crate::samplers::bohb::budgets`]: a COMPLETE trial's final value
    /// counts at its last step, or above every step when it reported
    /// nothing). The good set is the best gamma(n_b) feasible trials by their
    /// value there; every other COMPLETE or PRUNED trial (those that did not
    /// reach the budget, the rest at it, infeasible ones) and, with the
    /// constant liar, every RUNNING trial forms the bad set. Without such a
    /// budget yet, Optuna's split is used.
    pub fn split_at_budget(
        &mut self,
        h: &History,
        current: usize,
    ) -> Result<(Vec<usize>, Vec<usize>)> {
        if !self.cfg.budget_aware || h.n_objectives() > 1 {
            return self.split(h, current);
        }
        self.budgets.update(h);
        let Some((_, obs)) = self.budgets.largest_with(self.cfg.n_startup_trials.max(2)) else {
            return self.split(h, current);
        };
        let trials = h.trials();
        let k = self.gamma(obs.len(), false)?;
        let mut good = vec![false; trials.len()];
        let mut below: Vec<usize> = obs
            .iter()
            .map(|&t| t as usize)
            .filter(|&t| t != current && trials[t].violation() <= 0.0)
            .take(k)
            .collect();
        for &t in &below {
            good[t] = true;
        }
        below.sort_unstable();
        let above = (0..trials.len())
            .filter(|&t| t != current && !good[t])
            .filter(|&t| match trials[t].state {
                TrialState::Complete | TrialState::Pruned | TrialState::Fail => true,
                TrialState::Running => self.cfg.constant_liar,
                _ => false,
            })
            .collect();
        Ok((below, above))
    }

    /// The trials but `current`, by kind, in trial order.
    fn candidates(&self, h: &History, current: usize) -> Candidates {
        let cons = h.has_constraints();
        let mut c = Candidates::default();
        for (t, rec) in h.trials().iter().enumerate() {
            if t == current {
                continue;
            }
            match rec.state {
                TrialState::Running if self.cfg.constant_liar => c.running.push(t),
                TrialState::Complete | TrialState::Pruned if cons && rec.violation() > 0.0 => {
                    c.infeasible.push(t)
                }
                TrialState::Complete => c.complete.push(t),
                TrialState::Pruned => c.pruned.push(t),
                TrialState::Fail => c.failed.push(t),
                _ => {}
            }
        }
        c
    }
}

/// The best `n_below` of the `complete` trials (losses: values times `sign`)
/// and the others: by value with one objective (ties by trial number), by
/// [`split_multi`] with several. The good set comes sorted by value.
fn split_complete(
    h: &History,
    complete: &[usize],
    n_below: usize,
    sign: &[f64],
) -> (Vec<usize>, Vec<usize>) {
    let trials = h.trials();
    if sign.len() > 1 {
        let lvals: Vec<Vec<f64>> = complete
            .iter()
            .map(|&t| {
                trials[t]
                    .values
                    .iter()
                    .zip(sign)
                    .map(|(v, s)| v * s)
                    .collect()
            })
            .collect();
        let chosen = split_multi(&lvals, n_below.min(complete.len()));
        let (mut b, mut a) = (Vec::new(), Vec::new());
        for (i, &t) in complete.iter().enumerate() {
            if chosen[i] {
                b.push(t)
            } else {
                a.push(t)
            }
        }
        return (b, a);
    }
    let mut keyed: Vec<(u64, usize)> = complete
        .iter()
        .map(|&t| (sort_key(trials[t].values[0] * sign[0]), t))
        .collect();
    // Only the good set needs its order: select it in O(n).
    let k = n_below.min(keyed.len());
    if k < keyed.len() {
        keyed.select_nth_unstable(k);
    }
    keyed[..k].sort_unstable();
    let above = keyed[k..].iter().map(|e| e.1).collect();
    (keyed[..k].iter().map(|e| e.1).collect(), above)
}

/// Moves the first `n_below` of `sorted` to `below` (counting them off) and
/// the rest to `above`.
fn take_first(
    mut sorted: Vec<usize>,
    n_below: &mut usize,
    below: &mut Vec<usize>,
    above: &mut Vec<usize>,
) {
    let k = (*n_below).min(sorted.len());
    let rest = sorted.split_off(k);
    below.extend(sorted);
    above.extend(rest);
    *n_below = n_below.saturating_sub(k);
}

/// The split written plainly (full sorts, one objective), against which the
/// selection-based split is checked on random histories.
#[cfg(test)]
mod reference {
    use super::super::{TpeConfig, TpeSampler};
    use super::default_gamma;
    use crate::history::{History, TrialState};
    use crate::rng::Rng;

    /// Good and bad sets of the trials but `current`, each by trial number:
    /// the first gamma(n) of feasible COMPLETE trials by value (ties by
    /// number), then PRUNED trials by (deeper last step, last value), then
    /// infeasible trials by violation; RUNNING trials join the bad set with
    /// the constant liar, FAIL trials always.
    fn split(
        h: &History,
        current: usize,
        gamma: impl Fn(usize) -> usize,
        liar: bool,
    ) -> (Vec<usize>, Vec<usize>) {
        let sign = if h.maximize()[0] { -1.0 } else { 1.0 };
        let trials = h.trials();
        let others = (0..trials.len()).filter(|&t| t != current);
        let finished =
            |t: &usize| matches!(trials[*t].state, TrialState::Complete | TrialState::Pruned);
        let feasible = |t: &usize| trials[*t].violation() <= 0.0;
        let mut complete: Vec<usize> = others
            .clone()
            .filter(|&t| trials[t].state == TrialState::Complete)
            .filter(feasible)
            .collect();
        complete.sort_by(|&a, &b| {
            (trials[a].values[0] * sign).total_cmp(&(trials[b].values[0] * sign))
        });
        let mut pruned: Vec<usize> = others
            .clone()
            .filter(|&t| trials[t].state == TrialState::Pruned)
            .filter(feasible)
            .collect();
        let key = |t: usize| match trials[t].last_intermediate() {
            None => (1.0, 0.0),
            Some((step, v)) => (
                -(step as f64),
                if v.is_nan() { f64::INFINITY } else { v * sign },
            ),
        };
        pruned.sort_by(|&a, &b| {
            let (ka, kb) = (key(a), key(b));
            ka.0.total_cmp(&kb.0).then(ka.1.total_cmp(&kb.1))
        });
        let mut infeasible: Vec<usize> = others
            .clone()
            .filter(finished)
            .filter(|t| !feasible(t))
            .collect();
        infeasible.sort_by(|&a, &b| trials[a].violation().total_cmp(&trials[b].violation()));
        let order: Vec<usize> = complete
            .into_iter()
            .chain(pruned)
            .chain(infeasible)
            .collect();
        let k = gamma(order.len()).min(order.len());
        let mut below = order[..k].to_vec();
        let mut above = order[k..].to_vec();
        if liar {
            above.extend(
                others
                    .clone()
                    .filter(|&t| trials[t].state == TrialState::Running),
            );
        }
        above.extend(others.filter(|&t| trials[t].state == TrialState::Fail));
        below.sort_unstable();
        above.sort_unstable();
        (below, above)
    }

    /// A random single-objective history: ties, infinite values, pruned
    /// trials with and without (NaN) reports, failures, constraints, and
    /// trials left running.
    fn random_history(rng: &mut Rng, n: usize, maximize: bool) -> History {
        let mut h = History::with_directions(vec![maximize]);
        let constrained = rng.uniform() < 0.5;
        for _ in 0..n {
            let t = h.create_trial(TrialState::Running);
            if constrained {
                h.set_constraints(t, vec![rng.uniform_in(-1.0, 0.5)])
                    .unwrap();
            }
            let u = rng.uniform();
            let value = match (rng.uniform() * 20.0) as usize {
                0 => f64::INFINITY,
                1 => f64::NEG_INFINITY,
                2..=6 => (rng.uniform() * 4.0).floor(),
                _ => rng.uniform_in(-5.0, 5.0),
            };
            if u < 0.6 {
                h.finish(t, TrialState::Complete, vec![value]).unwrap();
            } else if u < 0.8 {
                for step in 0..(rng.uniform() * 4.0) as i64 {
                    let v = if rng.uniform() < 0.1 {
                        f64::NAN
                    } else {
                        value + step as f64
                    };
                    h.report(t, step, v).unwrap();
                }
                h.finish(t, TrialState::Pruned, vec![]).unwrap();
            } else if u < 0.9 {
                h.finish(t, TrialState::Fail, vec![]).unwrap();
            }
        }
        h
    }

    #[test]
    fn split_matches_the_plain_sorts_on_random_histories() {
        let mut rng = Rng::new(16);
        for case in 0..400 {
            let n = [0, 1, 2, 5, 12, 40, 120, 400][case % 8];
            let h = random_history(&mut rng, n, case % 3 == 0);
            let liar = case % 2 == 0;
            let mut s = TpeSampler::new(
                TpeConfig {
                    constant_liar: liar,
                    ..TpeConfig::default()
                },
                0,
            )
            .unwrap();
            let current = (rng.uniform() * (n + 1) as f64) as usize;
            let want = split(&h, current, default_gamma, liar);
            assert_eq!(s.split(&h, current).unwrap(), want, "case {case}");
            // A custom gamma, larger than the complete set at times.
            s.set_gamma(Some(Box::new(|n| Ok(n / 2 + 1))));
            let want = split(&h, current, |n| n / 2 + 1, liar);
            assert_eq!(
                s.split(&h, current).unwrap(),
                want,
                "case {case}, gamma n/2+1"
            );
        }
    }
}

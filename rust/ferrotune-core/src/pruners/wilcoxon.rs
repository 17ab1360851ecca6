//! Optuna's `WilcoxonPruner`: prune a trial whose intermediate values are,
//! by a one-sided Wilcoxon signed-rank test, worse than the best trial's at the
//! same steps.
//!
//! The p-value follows `scipy.stats.wilcoxon(d, alternative, zero_method="zsplit")`
//! with its defaults `method="auto"` and `correction=False` (the call Optuna
//! makes; checked against scipy 1.17):
//!
//! - ranks are the average ranks of `|d|`; a zero difference gives half its rank
//!   to each side ("zsplit", Pratt 1959 / Wilcoxon 1945);
//! - n <= 50 without ties or zeros: the exact null distribution of the positive
//!   rank sum (all 2^n sign patterns, counted by dynamic programming);
//! - n <= 13 with ties or zeros: the same exact count over sign flips of the
//!   tied ranks (scipy runs an exhaustive permutation test there);
//! - otherwise the normal approximation with mean n(n+1)/4, variance
//!   (n(n+1)(2n+1) - Σ(t³-t)/2) / 24 over the tie groups t (zeros included),
//!   without continuity correction (Hollander, Wolfe & Chicken, *Nonparametric
//!   Statistical Methods*, 3rd ed., §3.1).

use std::collections::HashMap;

use super::{at_least, maximize_single, Pruner};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};

/// Which side the one-sided test looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The differences tend to be positive.
    Greater,
    /// The differences tend to be negative.
    Less,
}

/// Average ranks (1-based) of `|d|` and the sizes of the tie groups.
fn abs_ranks(d: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..d.len()).collect();
    order.sort_by(|&a, &b| d[a].abs().total_cmp(&d[b].abs()));
    let mut ranks = vec![0.0; d.len()];
    let mut ties = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i + 1;
        while j < order.len() && d[order[j]].abs() == d[order[i]].abs() {
            j += 1;
        }
        // Positions i..j share the average of ranks i+1..=j.
        let r = (i + j + 1) as f64 / 2.0;
        for &k in &order[i..j] {
            ranks[k] = r;
        }
        ties.push(j - i);
        i = j;
    }
    (ranks, ties)
}

/// The exact p-value: the share of the 2^n sign patterns of the nonzero
/// differences whose positive rank sum is at least (`Greater`) or at most
/// (`Less`) the observed `r_plus`. Ranks are multiples of 1/2, so sums are
/// counted on doubled ranks, exactly.
fn exact_p(d: &[f64], ranks: &[f64], r_plus: f64, alt: Alternative) -> f64 {
    let fixed: f64 = d
        .iter()
        .zip(ranks)
        .filter(|(x, _)| **x == 0.0)
        .map(|(_, r)| r / 2.0)
        .sum();
    let doubled: Vec<usize> = d
        .iter()
        .zip(ranks)
        .filter(|(x, _)| **x != 0.0)
        .map(|(_, r)| (2.0 * r).round() as usize)
        .collect();
    let total: usize = doubled.iter().sum();
    // counts[s]: sign patterns whose doubled positive rank sum is s (< 2^53).
    let mut counts = vec![0.0f64; total + 1];
    counts[0] = 1.0;
    let mut reach = 0;
    for &r in &doubled {
        reach += r;
        for s in (r..=reach).rev() {
            counts[s] += counts[s - r];
        }
    }
    let observed = 2.0 * (r_plus - fixed);
    let hits: f64 = counts
        .iter()
        .enumerate()
        .filter(|(s, _)| match alt {
            Alternative::Greater => *s as f64 >= observed - 1e-9,
            Alternative::Less => *s as f64 <= observed + 1e-9,
        })
        .map(|(_, c)| c)
        .sum();
    hits / counts.iter().sum::<f64>()
}

/// One-sided p-value of the Wilcoxon signed-rank test on the paired
/// differences `d` (finite), as `scipy.stats.wilcoxon(d, alternative=alt,
/// zero_method="zsplit")` computes it (see the module documentation).
/// An empty `d` gives NaN.
pub fn wilcoxon_p_value(d: &[f64], alt: Alternative) -> f64 {
    let n = d.len();
    if n == 0 {
        return f64::NAN;
    }
    let (ranks, ties) = abs_ranks(d);
    let r_plus: f64 = d
        .iter()
        .zip(&ranks)
        .map(|(x, r)| match x.partial_cmp(&0.0) {
            Some(std::cmp::Ordering::Greater) => *r,
            Some(std::cmp::Ordering::Equal) => r / 2.0,
            _ => 0.0,
        })
        .sum();
    let has_ties = ties.iter().any(|&t| t > 1);
    let has_zeros = d.contains(&0.0);
    if n <= 50 && (!(has_ties || has_zeros) || n <= 13) {
        return exact_p(d, &ranks, r_plus, alt);
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let tie_sum: f64 = ties.iter().map(|&t| (t * t * t - t) as f64).sum();
    let se = ((nf * (nf + 1.0) * (2.0 * nf + 1.0) - tie_sum / 2.0) / 24.0).sqrt();
    let z = (r_plus - mean) / se;
    let sf = |x: f64| 0.5 * libm::erfc(x / std::f64::consts::SQRT_2);
    match alt {
        Alternative::Greater => sf(z),
        Alternative::Less => sf(-z),
    }
}

/// The Wilcoxon rule. A decision for the running trial: no pruning when it has
/// no reported value or a non-finite one, when there is no COMPLETE trial, or
/// when the best COMPLETE trial (the earliest among equals; trials violating a
/// constraint left out) reported nothing or a non-finite value. The
/// differences (trial minus best) at the steps both reported are tested
/// one-sided toward "worse"; with fewer than `max(2, n_startup_steps)` of them
/// nothing is pruned. The trial is pruned when the p-value is below
/// `p_threshold`, unless the mean of all its values is at least as good as the
/// mean of all the best trial's.
#[derive(Debug, Clone, PartialEq)]
pub struct WilcoxonPruner {
    p_threshold: f64,
    n_startup_steps: i64,
    /// How many entries of [`History::finished_order`] have been read.
    cursor: usize,
    /// The best COMPLETE trial so far and its sign-adjusted value (lower is better).
    best: Option<(usize, f64)>,
}

impl WilcoxonPruner {
    /// `p_threshold` in [0, 1]; `n_startup_steps` at least 0.
    pub fn new(p_threshold: f64, n_startup_steps: i64) -> Result<Self> {
        if !(0.0..=1.0).contains(&p_threshold) {
            return Err(Error::InvalidArgument(format!(
                "p_threshold must be between 0 and 1, got {p_threshold}"
            )));
        }
        at_least("n_startup_steps", n_startup_steps, 0)?;
        Ok(WilcoxonPruner {
            p_threshold,
            n_startup_steps,
            cursor: 0,
            best: None,
        })
    }

    /// Takes in the trials finished since the last call; the best trial.
    fn update_best(&mut self, history: &History, maximize: bool) -> Option<usize> {
        let order = history.finished_order();
        if order.len() < self.cursor {
            self.cursor = 0;
            self.best = None;
        }
        for &number in &order[self.cursor..] {
            let i = number as usize;
            let t = &history.trials()[i];
            if t.state != TrialState::Complete || t.violation() > 0.0 {
                continue;
            }
            let Some(&v) = t.values.first() else { continue };
            let v = if maximize { -v } else { v };
            if self.best.is_none_or(|(bi, b)| v < b || (v == b && i < bi)) {
                self.best = Some((i, v));
            }
        }
        self.cursor = order.len();
        self.best.map(|b| b.0)
    }
}

fn mean(values: &[(i64, f64)]) -> f64 {
    values.iter().map(|v| v.1).sum::<f64>() / values.len() as f64
}

impl Pruner for WilcoxonPruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        let maximize = maximize_single(history)?;
        let current = &history.trial(trial)?.intermediate;
        if current.is_empty() || current.iter().any(|v| !v.1.is_finite()) {
            return Ok(false);
        }
        let Some(best) = self.update_best(history, maximize) else {
            return Ok(false);
        };
        let best = &history.trial(best)?.intermediate;
        if best.is_empty() || best.iter().any(|v| !v.1.is_finite()) {
            return Ok(false);
        }
        let at: HashMap<i64, f64> = best.iter().copied().collect();
        let d: Vec<f64> = current
            .iter()
            .filter_map(|&(s, v)| at.get(&s).map(|b| v - b))
            .collect();
        if (d.len() as i64) < self.n_startup_steps.max(2) {
            return Ok(false);
        }
        let (alt, mean_is_best) = if maximize {
            (Alternative::Less, mean(best) <= mean(current))
        } else {
            (Alternative::Greater, mean(best) >= mean(current))
        };
        let p = wilcoxon_p_value(&d, alt);
        Ok(p < self.p_threshold && !mean_is_best)
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        Box::new(WilcoxonPruner {
            cursor: 0,
            best: None,
            ..self.clone()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn p_values_match_scipy() {
        // scipy.stats.wilcoxon(d, alternative=..., zero_method="zsplit").pvalue
        // (scipy 1.17.1) on samples drawn with numpy (seed 7), rounded to make
        // ties and zeros: exact (n 5, 20), exhaustive with ties (n 9, 13, all
        // zeros), normal approximation (n 14, 30, 50 with a tie, 60).
        #[rustfmt::skip]
        let cases: [(&[f64], f64, f64); 9] = [
        (&[0.301, 0.599, 0.026, -0.591, -0.155], 0.40625, 0.6875),
        (&[-1.0, 0.0, 2.0, -0.0, -0.0, 1.0, 1.0, 0.0, -1.0], 0.375, 0.8125),
        (&[0.3, 1.0, -1.0, -0.2, -1.6, -1.0, -1.5, 0.1, -1.0, 0.6, 0.5, 0.1, -2.2], 0.908203125, 0.09765625),
        (&[-0.2387, 0.2515, 0.4133, -1.2301, -0.1778, -0.6785, -0.5088, 1.3609, -0.5075, 0.2675, 1.1844, -0.2836, 0.1883, 0.4105, 0.3638, -0.9251, 0.3761, 1.6588, -1.2471, 1.1594], 0.36425304412841797, 0.649409294128418),
        (&[0.0, -0.0, 2.0, 1.0, -1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, 2.0, -0.0, 1.0, -0.0, 0.0, -1.0, -0.0, 0.0, 1.0, 1.0, -1.0, -0.0, 1.0, -2.0, -0.0, 0.0, 2.0, 1.0, -0.0], 0.02944312250682216, 0.9705568774931779),
        (&[-0.069, 0.05, 1.824, -0.128, -0.004, 0.653, 0.179, 0.103, -0.814, 0.288, -0.144, 1.466, 0.953, 0.276, 0.968, -0.04, 1.352, 0.295, 0.883, -0.991, 0.647, -1.388, -1.735, -0.004, -0.6, 0.464, 2.545, -0.532, -0.324, 0.505, 0.793, 0.124, 0.094, 1.002, 0.82, -0.734, 0.221, 0.335, -0.754, 0.56, -0.558, 1.272, 0.493, 0.389, -0.291, 0.181, -1.698, -0.831, 0.663, -1.829], 0.09061345921833641, 0.9093865407816636),
        (&[1.0, -1.0, 1.0, -1.0, 1.0, 0.0, -1.0, 2.0, 2.0, 0.0, 0.0, 0.0, -1.0, 1.0, -0.0, 0.0, -0.0, -0.0, -1.0, 2.0, 0.0, 1.0, 0.0, -0.0, -0.0, -0.0, 0.0, -0.0, 0.0, -1.0, -1.0, 2.0, -0.0, -1.0, 1.0, 2.0, -1.0, 0.0, -0.0, -1.0, 1.0, 0.0, 0.0, -0.0, 1.0, -0.0, 0.0, -1.0, -1.0, 2.0, -0.0, 1.0, 0.0, -0.0, -0.0, 1.0, -0.0, 0.0, 0.0, 1.0], 0.12734938281013553, 0.8726506171898645),
        (&[0.0, 0.0, 0.0, 0.0], 1.0, 1.0),
        (&[1.0, 1.0, -0.0, -1.0, 1.0, 1.0, 0.0, 1.0, 1.0, 1.0, 1.0, -0.0, 2.0, -1.0], 0.016550288060261053, 0.983449711939739),
        ];
        for (d, greater, less) in cases {
            let g = wilcoxon_p_value(d, Alternative::Greater);
            let l = wilcoxon_p_value(d, Alternative::Less);
            assert!(
                (g - greater).abs() < 1e-12,
                "n {}: {g} vs {greater}",
                d.len()
            );
            assert!((l - less).abs() < 1e-12, "n {}: {l} vs {less}", d.len());
        }
    }

    #[test]
    fn exact_values_by_hand() {
        // n = 3, no ties: rank sums 0..6 over 8 sign patterns, counts 1,1,1,2,1,1,1.
        // d = (1, 2, -3): r_plus = 3, P(T >= 3) = 5/8, P(T <= 3) = 5/8.
        assert!((wilcoxon_p_value(&[1.0, 2.0, -3.0], Alternative::Greater) - 0.625).abs() < 1e-15);
        // All positive: P(T >= 6) = 1/8.
        assert!((wilcoxon_p_value(&[1.0, 2.0, 3.0], Alternative::Greater) - 0.125).abs() < 1e-15);
        assert!((wilcoxon_p_value(&[1.0, 2.0, 3.0], Alternative::Less) - 1.0).abs() < 1e-15);
        // Zero and ties: d = (0, 1, -1): ranks 1, 2.5, 2.5; r_plus = 0.5 + 2.5 = 3;
        // over the 4 sign patterns of the ±1 pair, r_plus is 0.5, 3, 3, 5.5.
        assert!((wilcoxon_p_value(&[0.0, 1.0, -1.0], Alternative::Greater) - 0.75).abs() < 1e-15);
        assert!(wilcoxon_p_value(&[], Alternative::Less).is_nan());
        // d = (-20, 1 x 9): ranks 10 and 5 (tied); r_plus = 45 is reached by the nine
        // fives alone (1 pattern) or by at least seven fives with the ten (46): 47/1024.
        let mut d = vec![1.0; 9];
        d.push(-20.0);
        let p = wilcoxon_p_value(&d, Alternative::Greater);
        assert!((p - 47.0 / 1024.0).abs() < 1e-15);
    }

    #[test]
    fn normal_approximation_is_a_probability_and_symmetric() {
        let d: Vec<f64> = (0..60).map(|i| ((i * 7) % 11) as f64 - 5.0).collect();
        let g = wilcoxon_p_value(&d, Alternative::Greater);
        let neg: Vec<f64> = d.iter().map(|x| -x).collect();
        assert!((0.0..=1.0).contains(&g));
        assert!((g - wilcoxon_p_value(&neg, Alternative::Less)).abs() < 1e-15);
    }

    #[test]
    fn arguments_are_checked() {
        assert!(WilcoxonPruner::new(1.5, 2).is_err());
        assert!(WilcoxonPruner::new(f64::NAN, 2).is_err());
        assert!(WilcoxonPruner::new(0.1, -1).is_err());
        assert!(WilcoxonPruner::new(0.1, 0).is_ok());
    }
}

//! The estimator's definition: mixture weights, bandwidths and categorical
//! kernel masses, as Watanabe (2023, arXiv 2304.11127, section 3 and
//! appendix C) describes them and Optuna 5 computes them. Everything here is
//! a plain function of the observations; the fast paths (caches, incremental
//! updates) call these same functions, so they agree with a fresh fit to the
//! bit.

use super::super::truncnorm::{log_gauss_mass, HALF_LN_2PI};
use super::ParzenSettings;
use crate::history::sort_key;
use crate::space::fit_in;

/// Normalised log weights and their cumulative sums for `n` observations
/// (`weights[..n]`) plus the prior kernel.
///
/// The mixture is p(x) = Σ_k w_k k_k(x) / Σ_k w_k over the observation kernels
/// and one prior kernel of weight `prior_weight`; with no observation the
/// prior alone has weight 1.
pub(super) fn mixture_weights(
    weights: &[f64],
    n: usize,
    s: &ParzenSettings,
) -> (Vec<f64>, Vec<f64>) {
    let mut w: Vec<f64> = if n == 0 {
        vec![1.0]
    } else {
        let mut w = weights[..n].to_vec();
        w.push(s.prior_weight);
        w
    };
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    let log_weights: Vec<f64> = w.iter().map(|x| x.ln()).collect();
    let mut acc = 0.0;
    let cum_weights = w
        .iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect();
    (log_weights, cum_weights)
}

/// The bandwidth of an observation at `v` whose neighbours in ascending order
/// are `prev` and `next` (`low` / `high` at the ends), among `n` observations.
///
/// σ = max(v - prev, next - v), except that the first and last observations
/// take their inner gap unless `consider_endpoints`; then the "magic clip"
/// σ ∈ [range / min(100, n + 2), range] (range = high - low; n + 2 counts the
/// prior kernel, as Optuna's `1 + n_kernels`). Without the clip the lower
/// bound is 1e-12. The one formula behind [`neighbour_sigmas`] and the
/// incremental updates.
#[inline]
pub(crate) fn neighbour_sigma(
    prev: f64,
    v: f64,
    next: f64,
    pos: usize,
    n: usize,
    low: f64,
    high: f64,
    s: &ParzenSettings,
) -> f64 {
    let raw = if !s.consider_endpoints && n >= 2 && pos == 0 {
        next - v
    } else if !s.consider_endpoints && n >= 2 && pos == n - 1 {
        v - prev
    } else {
        (v - prev).max(next - v)
    };
    let range = high - low;
    let min_sigma = if s.consider_magic_clip {
        range / (100.0f64).min(1.0 + (n + 1) as f64)
    } else {
        1e-12
    };
    fit_in(raw, min_sigma, range).max(f64::MIN_POSITIVE)
}

/// Bandwidths of all observations `mus` (as Optuna's `compute_sigmas`);
/// `order` lists their positions in ascending order.
pub(super) fn neighbour_sigmas(
    mus: &[f64],
    order: &[u32],
    low: f64,
    high: f64,
    s: &ParzenSettings,
) -> Vec<f64> {
    let n = mus.len();
    let mut sigmas = vec![0.0; n];
    for (j, &i) in order.iter().enumerate() {
        let prev = if j == 0 {
            low
        } else {
            mus[order[j - 1] as usize]
        };
        let next = if j + 1 == n {
            high
        } else {
            mus[order[j + 1] as usize]
        };
        sigmas[i as usize] = neighbour_sigma(prev, mus[i as usize], next, j, n, low, high, s);
    }
    sigmas
}

/// The prior kernel of a numerical dimension on model-space [low, high]: the
/// centre of the range, with the range as its bandwidth.
pub(super) fn prior_kernel(low: f64, high: f64) -> (f64, f64) {
    (0.5 * (low + high), (high - low).max(f64::MIN_POSITIVE))
}

/// True when the magic clip's lower bound is the same for `a` and `b`
/// observations, so bandwidths away from a change keep their values.
pub(crate) fn same_clip(a: usize, b: usize, s: &ParzenSettings) -> bool {
    !s.consider_magic_clip || a == b || (a >= 99 && b >= 99)
}

/// The constant part of a continuous kernel's log density on [mlow, mhigh]:
/// log N(x | m, σ²) / Z = -(x - m)² / 2σ² - ln √(2π) - ln σ - ln Z, with
/// Z = Φ((mhigh - m) / σ) - Φ((mlow - m) / σ) the kernel's mass on the range.
#[inline]
pub(super) fn cont_const(m: f64, sg: f64, mlow: f64, mhigh: f64) -> f64 {
    -HALF_LN_2PI - sg.ln() - log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg)
}

/// Minus the log mass of N(m, σ²) on [mlow, mhigh]: the normaliser of a
/// stepped kernel, whose value at x is its mass on [x - step/2, x + step/2]
/// (in model space) divided by that of the widened range.
#[inline]
pub(super) fn neg_log_mass(m: f64, sg: f64, mlow: f64, mhigh: f64) -> f64 {
    -log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg)
}

/// A categorical kernel's probabilities with `n_obs` observations over
/// `n_choices` choices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct CatMasses {
    /// Probability of the observed choice, and its log.
    pub hit: f64,
    pub log_hit: f64,
    /// Probability of every other choice, and its log.
    pub miss: f64,
    pub log_miss: f64,
}

/// An observation's categorical kernel puts `1 + prior_weight / K` on its
/// choice and `prior_weight / K` on every other one, normalised (K = n_obs +
/// 1 kernels), as Optuna 5; the prior kernel is uniform.
pub(super) fn cat_masses(n_choices: usize, n_obs: usize, s: &ParzenSettings) -> CatMasses {
    let fill = s.prior_weight / (n_obs + 1) as f64;
    let row = 1.0 + fill * n_choices as f64;
    CatMasses {
        hit: (1.0 + fill) / row,
        log_hit: ((1.0 + fill) / row).ln(),
        miss: fill / row,
        log_miss: (fill / row).ln(),
    }
}

/// Positions of `mus` in ascending order (ties by position).
pub(super) fn ascending(mus: &[f64]) -> Vec<u32> {
    let mut keys: Vec<(u64, u32)> = mus
        .iter()
        .enumerate()
        .map(|(i, &m)| (sort_key(m), i as u32))
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|p| p.1).collect()
}

//! PED-ANOVA: parameter importance as the Pearson divergence between the
//! distribution of the top trials and that of a region (Watanabe, Bansal and
//! Hutter, "PED-ANOVA: Efficiently Quantifying Hyperparameter Importance in
//! Arbitrary Subspaces", IJCAI 2023), with conditional parameters treated by
//! regimes as in Optuna 5 (conditional PED-ANOVA, KDD 2026: Theorem 4.2 and
//! Algorithm 1).
//!
//! For one parameter, the trials better than the quantile γ' (the *target*
//! set) and those better than γ ≥ γ' (the *region*) are each summarised by a
//! one-dimensional Parzen estimator on a grid of at most `n_steps` points
//! (Scott's bandwidth, a prior kernel of weight `prior_weight`); the importance
//! is (γ'/γ)² D_P(p_top ‖ p_region) (the paper's Theorem 1: the local
//! variance explained equals the Pearson divergence up to (γ'/γ)²), where
//! D_P(p ‖ q) = Σ_x q(x) (p(x)/q(x) - 1)². With `evaluate_on_local = false`
//! the region density is uniform over the grid (the importance in the whole
//! space). A conditional parameter is split into regimes, one per
//! distribution it had plus "inactive"; regime i adds α_i²/β_i D_P(top_i ‖
//! region_i), α_i and β_i its shares of the target and region sets.

use crate::error::{Error, Result};
use crate::samplers::tpe::split_multi;
use crate::samplers::tpe::truncnorm::{log_gauss_mass, log_sum_exp};
use crate::space::Distribution;

/// PED-ANOVA's settings (Optuna's arguments and its fixed advanced settings).
#[derive(Debug, Clone, PartialEq)]
pub struct PedAnovaConfig {
    /// γ': the importance of reaching the top `target_quantile` of the trials.
    pub target_quantile: f64,
    /// γ: the region the importance is measured in (1.0: all trials).
    pub region_quantile: f64,
    /// Compare with the region's density (true) or with the uniform one (false).
    pub evaluate_on_local: bool,
    /// The most grid points a numerical domain is discretised to (Optuna: 50).
    pub n_steps: usize,
    /// Weight of the Parzen estimators' prior kernel (Optuna: 1.0).
    pub prior_weight: f64,
    /// A regime with fewer region trials is left out (Optuna: 2).
    pub min_n_trials_in_regime: usize,
}

impl Default for PedAnovaConfig {
    fn default() -> Self {
        PedAnovaConfig {
            target_quantile: 0.1,
            region_quantile: 1.0,
            evaluate_on_local: true,
            n_steps: 50,
            prior_weight: 1.0,
            min_n_trials_in_regime: 2,
        }
    }
}

impl PedAnovaConfig {
    fn check(&self) -> Result<()> {
        let (t, r) = (self.target_quantile, self.region_quantile);
        if !(0.0 < t && t < r && r <= 1.0) {
            return Err(Error::InvalidArgument(format!(
                "target_quantile and region_quantile must satisfy 0 < target_quantile < \
                 region_quantile <= 1, got target_quantile={t}, region_quantile={r}"
            )));
        }
        if self.n_steps < 2 {
            return Err(Error::InvalidArgument(format!(
                "n_steps must be at least 2, got {}",
                self.n_steps
            )));
        }
        if !(self.prior_weight >= 0.0 && self.prior_weight.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "prior_weight must be finite and non-negative, got {}",
                self.prior_weight
            )));
        }
        Ok(())
    }
}

/// One parameter over the trials: its internal value per trial and which of
/// `dists` it had there (`regime[t] = k + 1` for `dists[k]`, 0 when the trial
/// lacks the parameter).
#[derive(Debug, Clone, PartialEq)]
pub struct RegimeColumn {
    pub values: Vec<f64>,
    pub regime: Vec<u32>,
    pub dists: Vec<Distribution>,
}

/// The importances, one per column, and what the caller should warn about.
#[derive(Debug, Clone, PartialEq)]
pub struct PedAnovaOutcome {
    pub importances: Vec<f64>,
    /// The target and region quantiles selected the same trials (all zero).
    pub same_sets: bool,
    /// Per column: some regime had fewer than `min_n_trials_in_regime` trials
    /// and was left out.
    pub sparse_regime: Vec<bool>,
}

/// The trials (rows of `losses`, all minimised) in the top `quantile`: one
/// objective, those whose loss is at most the ⌈qn⌉-th smallest (ties kept,
/// as Optuna's inverted-CDF quantile); several, ⌈qn⌉ trials by non-dominated
/// fronts and greedy hypervolume subset selection (as MOTPE).
pub fn top_quantile(losses: &[Vec<f64>], quantile: f64) -> Vec<bool> {
    let n = losses.len();
    if quantile >= 1.0 || n == 0 {
        return vec![true; n];
    }
    let k = (quantile * n as f64).ceil() as usize;
    if losses[0].len() > 1 {
        return split_multi(losses, k);
    }
    let mut sorted: Vec<f64> = losses.iter().map(|l| l[0]).collect();
    let cut_index = k.max(1) - 1;
    let (_, cutoff, _) = sorted.select_nth_unstable_by(cut_index, f64::total_cmp);
    let cutoff = *cutoff;
    losses.iter().map(|l| l[0] <= cutoff).collect()
}

/// PED-ANOVA importances of `columns` from the trials' `losses` (one row per
/// trial, every objective minimised, all finite).
pub fn ped_anova(
    losses: &[Vec<f64>],
    columns: &[RegimeColumn],
    cfg: &PedAnovaConfig,
) -> Result<PedAnovaOutcome> {
    cfg.check()?;
    let n = losses.len();
    for (j, c) in columns.iter().enumerate() {
        if c.values.len() != n || c.regime.len() != n {
            return Err(Error::InvalidArgument(format!(
                "column {j} has {} values and {} regimes for {n} trials",
                c.values.len(),
                c.regime.len()
            )));
        }
        if c.regime.iter().any(|&r| r as usize > c.dists.len()) {
            return Err(Error::InvalidArgument(format!(
                "column {j} names a regime beyond its {} distributions",
                c.dists.len()
            )));
        }
    }
    let target = top_quantile(losses, cfg.target_quantile);
    let region = top_quantile(losses, cfg.region_quantile);
    // The greedy subset selection nests, so the target set lies in the region;
    // the intersection keeps that true whatever the ties.
    let target: Vec<bool> = target.iter().zip(&region).map(|(t, r)| *t && *r).collect();
    let n_target = target.iter().filter(|t| **t).count();
    let n_region = region.iter().filter(|r| **r).count();
    let mut out = PedAnovaOutcome {
        importances: vec![0.0; columns.len()],
        same_sets: n_target == n_region,
        sparse_regime: vec![false; columns.len()],
    };
    if n_target == 0 {
        return Ok(out);
    }
    // (γ'/γ)²: Theorem 4.2 of conditional PED-ANOVA.
    let scale = (n_target as f64 / n_region as f64).powi(2);
    for (j, c) in columns.iter().enumerate() {
        let (imp, sparse) = column_importance(c, &target, &region, n_target, n_region, cfg);
        out.importances[j] = imp * scale;
        out.sparse_regime[j] = sparse;
    }
    Ok(out)
}

/// Σ_i α_i²/β_i D_P(top_i ‖ region_i) over the regimes of one column, and
/// whether a regime was too small to count.
fn column_importance(
    c: &RegimeColumn,
    target: &[bool],
    region: &[bool],
    n_target: usize,
    n_region: usize,
    cfg: &PedAnovaConfig,
) -> (f64, bool) {
    let n_regimes = c.dists.len() + 1;
    let mut region_count = vec![0usize; n_regimes];
    for (t, &r) in c.regime.iter().enumerate() {
        if region[t] {
            region_count[r as usize] += 1;
        }
    }
    let sparse = region_count
        .iter()
        .any(|&k| k > 0 && k < cfg.min_n_trials_in_regime);
    let mut total = 0.0;
    for (k, dist) in c.dists.iter().enumerate() {
        let r = (k + 1) as u32;
        if region_count[k + 1] < cfg.min_n_trials_in_regime.max(1) || dist.is_single() {
            continue;
        }
        let pick = |set: &[bool]| -> Vec<f64> {
            (0..c.values.len())
                .filter(|&t| set[t] && c.regime[t] == r)
                .map(|t| c.values[t])
                .collect()
        };
        let top = pick(target);
        if top.is_empty() {
            continue;
        }
        let local = pick(region);
        let alpha = top.len() as f64 / n_target as f64;
        let beta = local.len() as f64 / n_region as f64;
        total += alpha * alpha / beta * pearson_divergence(dist, &top, &local, cfg);
    }
    (total, sparse)
}

/// D_P(p_top ‖ p_local) = Σ_x p_local(x) (p_top(x)/p_local(x) - 1)² on the
/// grid of `dist` (PED-ANOVA, eq. 6), p_local uniform when not evaluated
/// on the local space. 1e-12 keeps the ratio finite, as Optuna.
pub fn pearson_divergence(
    dist: &Distribution,
    top: &[f64],
    local: &[f64],
    cfg: &PedAnovaConfig,
) -> f64 {
    let counts_top = grid_counts(dist, top, cfg.n_steps);
    let size = counts_top.len();
    let p_top = grid_pdf(dist, &counts_top, cfg.prior_weight);
    let p_local = if cfg.evaluate_on_local {
        let counts = grid_counts(dist, local, cfg.n_steps);
        grid_pdf(dist, &counts, cfg.prior_weight)
            .into_iter()
            .map(|p| p + 1e-12)
            .collect()
    } else {
        vec![1.0 / size as f64; size]
    };
    p_top
        .iter()
        .zip(&p_local)
        .map(|(pt, pl)| {
            let d = (pt + 1e-12) / pl - 1.0;
            pl * d * d
        })
        .sum()
}

/// The number of grid points of a numerical domain: `n_steps`, fewer for a
/// stepped domain (its own points) or a log-scaled integer one (one per
/// doubling), as Optuna.
fn grid_size(dist: &Distribution, n_steps: usize) -> usize {
    match *dist {
        Distribution::Int {
            low,
            high,
            log: true,
            ..
        } => {
            let doublings = (((high - low + 1) as f64).ln() / std::f64::consts::LN_2).ceil();
            n_steps.min(doublings as usize + 1)
        }
        Distribution::Int {
            low, high, step, ..
        } => n_steps.min(((high - low) as f64 / step as f64).round() as usize + 1),
        Distribution::Float {
            low,
            high,
            step: Some(step),
            ..
        } => n_steps.min(((high - low) / step).round() as usize + 1),
        Distribution::Float { .. } => n_steps,
        Distribution::Categorical { n } => n,
    }
}

/// How many of `values` fall on each grid point: a categorical value on its
/// choice; a numerical one (log-scaled when its domain is) on the nearest of
/// the evenly spaced points, a midpoint tie going to the lower one.
fn grid_counts(dist: &Distribution, values: &[f64], n_steps: usize) -> Vec<u64> {
    let size = grid_size(dist, n_steps).max(1);
    let mut counts = vec![0u64; size];
    let (low, high, log) = match *dist {
        Distribution::Categorical { .. } => {
            for &v in values {
                counts[(v.max(0.0) as usize).min(size - 1)] += 1;
            }
            return counts;
        }
        Distribution::Float { low, high, log, .. } => (low, high, log),
        Distribution::Int { low, high, log, .. } => (low as f64, high as f64, log),
    };
    let tr = |x: f64| if log { x.ln() } else { x };
    let (low, high) = (tr(low), tr(high));
    let width = (high - low) / (size - 1).max(1) as f64;
    for &v in values {
        let i = ((tr(v) - low) / width - 0.5).ceil();
        counts[(i.max(0.0) as usize).min(size - 1)] += 1;
    }
    counts
}

/// The Parzen estimator's probabilities on the grid points (Optuna's
/// PED-ANOVA estimator): one kernel per occupied point weighted by its count,
/// plus a prior kernel of weight `prior_weight`.
fn grid_pdf(dist: &Distribution, counts: &[u64], prior_weight: f64) -> Vec<f64> {
    let occupied: Vec<(f64, f64)> = counts
        .iter()
        .enumerate()
        .filter(|(_, &c)| c > 0)
        .map(|(i, &c)| (i as f64, c as f64))
        .collect();
    if occupied.is_empty() {
        return vec![1.0 / counts.len() as f64; counts.len()];
    }
    let total: f64 = occupied.iter().map(|o| o.1).sum::<f64>() + prior_weight;
    match dist {
        Distribution::Categorical { .. } => {
            categorical_pdf(&occupied, counts.len(), prior_weight, total)
        }
        _ => numerical_pdf(&occupied, counts.len(), prior_weight, total),
    }
}

/// A categorical estimator: kernel i puts mass 1 on its choice plus
/// `prior_weight / n_kernels` on every choice (normalised); the prior kernel
/// is uniform.
fn categorical_pdf(
    occupied: &[(f64, f64)],
    size: usize,
    prior_weight: f64,
    total: f64,
) -> Vec<f64> {
    let n_kernels = (occupied.len() + 1) as f64;
    let spread = prior_weight / n_kernels;
    let row_sum = spread * size as f64 + 1.0;
    let mut pdf = vec![0.0; size];
    let flat: f64 = occupied.iter().map(|o| o.1).sum::<f64>() * spread / row_sum
        + if prior_weight > 0.0 {
            prior_weight / size as f64
        } else {
            0.0
        };
    for p in pdf.iter_mut() {
        *p = flat;
    }
    for &(x, w) in occupied {
        pdf[x as usize] += w / row_sum;
    }
    pdf.iter().map(|p| p / total).collect()
}

/// A numerical estimator on the grid 0..size-1 (a discrete truncated normal
/// per kernel: the mass of N(μ, σ²) over [x - ½, x + ½] in [-½, size - ½]).
/// σ by Scott's rule (Scott 1992), 1.059 min(IQR/1.34, σ̂) W^(-1/5) with the
/// weighted sample's σ̂ and IQR, at least 0.5/1.64 (so that 90% of a kernel
/// falls within a grid cell); the prior kernel sits mid-grid with σ = size.
fn numerical_pdf(occupied: &[(f64, f64)], size: usize, prior_weight: f64, total: f64) -> Vec<f64> {
    let sigma = scott_sigma(occupied).max(0.5 / 1.64);
    let mut kernels: Vec<(f64, f64, f64)> = occupied
        .iter()
        .map(|&(x, w)| (x, sigma, w / total))
        .collect();
    kernels.push(((size - 1) as f64 / 2.0, size as f64, prior_weight / total));
    let (lo, hi) = (-0.5, size as f64 - 0.5);
    let norms: Vec<f64> = kernels
        .iter()
        .map(|&(m, s, _)| log_gauss_mass((lo - m) / s, (hi - m) / s))
        .collect();
    let mut terms = vec![0.0; kernels.len()];
    (0..size)
        .map(|x| {
            let x = x as f64;
            for (k, &(m, s, w)) in kernels.iter().enumerate() {
                terms[k] = w.ln() + log_gauss_mass((x - 0.5 - m) / s, (x + 0.5 - m) / s) - norms[k];
            }
            log_sum_exp(&terms).exp()
        })
        .collect()
}

/// Scott's rule on weighted grid points (ascending): 1.059 min(IQR/1.34, σ̂)
/// W^(-1/5), with σ̂² = Σ w (x - x̄)² / max(1, W - 1) and the quartiles the
/// points where the cumulative weight reaches ⌊W/4⌋ and passes ⌊3W/4⌋.
fn scott_sigma(occupied: &[(f64, f64)]) -> f64 {
    let w_sum: f64 = occupied.iter().map(|o| o.1).sum();
    let mean = occupied.iter().map(|(x, w)| x * w).sum::<f64>() / w_sum;
    let var = occupied
        .iter()
        .map(|(x, w)| w * (x - mean).powi(2))
        .sum::<f64>()
        / (w_sum - 1.0).max(1.0);
    let (q1_at, q3_at) = ((w_sum / 4.0).floor(), (w_sum * 3.0 / 4.0).floor());
    let mut cum = 0.0;
    let (mut q1, mut q3) = (None, None);
    for (i, &(_, w)) in occupied.iter().enumerate() {
        cum += w;
        if q1.is_none() && cum >= q1_at {
            q1 = Some(i);
        }
        if q3.is_none() && cum > q3_at {
            q3 = Some(i);
        }
    }
    let last = occupied.len() - 1;
    let iqr = occupied[q3.unwrap_or(last).min(last)].0 - occupied[q1.unwrap_or(last).min(last)].0;
    1.059 * (iqr / 1.34).min(var.sqrt()) * w_sum.powf(-0.2)
}

#[cfg(test)]
mod tests;

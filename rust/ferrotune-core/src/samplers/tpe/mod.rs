//! Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for
//! Hyper-Parameter Optimization"; Watanabe 2023, "Tree-Structured Parzen
//! Estimator: Understanding Its Algorithm Components and Their Roles for
//! Better Empirical Performance", arXiv 2304.11127), with Optuna 5's
//! defaults and split rules.
//!
//! Each ask: the finished trials are split into a "good" set (the best
//! gamma(n) by value) and a "bad" set; one Parzen estimator l(x) is fitted to
//! the good set and one g(x) to the bad set; `n_ei_candidates` points are drawn
//! from l(x) and the one maximising log l(x) - log g(x) (the expected
//! improvement up to a monotone map) is returned.
//!
//! Split order (Optuna's): feasible COMPLETE trials by value; then PRUNED trials
//! (deeper last step first, then by last intermediate value); then trials that
//! violate black-box constraints, by total violation. With `constant_liar`,
//! RUNNING trials always join the bad set, so parallel workers spread out.
//! Several objectives (MOTPE, Ozaki et al. 2020/2022): the good set is filled by
//! non-dominated fronts, the last front tie-broken by greedy hypervolume
//! subset selection; good-set weights are uniform, as in Optuna 5.
//!
//! Modules: `split` (good and bad sets, default gamma and weights), `motpe`
//! (the good set for several objectives), `observations` (rows and orders
//! read from the history), [`parzen`] (the estimator), `kept` (the bad-set
//! estimator kept and updated between asks), [`truncnorm`] (normal-CDF
//! numerics). This file holds the sampler: configuration, fitting l(x) and
//! g(x), and choosing among candidates.

mod kept;
mod motpe;
mod observations;
pub mod parzen;
#[cfg(test)]
mod sequence_tests;
mod split;
#[cfg(test)]
mod tests;
pub mod truncnorm;

use std::collections::HashMap;
use std::sync::Arc;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::History;
use crate::rng::Rng;
use crate::samplers::bohb::Budgets;
use crate::space::{Condition, Distribution, Param};
use kept::Kept;
use observations::Dims;
use parzen::{ConstMemo, Parzen, ParzenSettings};

pub use motpe::hypervolume;
pub(crate) use motpe::split_multi;
pub use split::{default_gamma, default_gamma_multi, default_weights};

/// A user-supplied gamma: number of finished trials -> size of the good set.
pub type GammaFn = Box<dyn Fn(usize) -> std::result::Result<usize, String> + Send>;
/// A user-supplied weighting: number of observations -> one weight each, oldest first.
pub type WeightsFn = Box<dyn Fn(usize) -> std::result::Result<Vec<f64>, String> + Send>;

/// Settings of the sampler; see the Python `TPESampler` for their meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TpeConfig {
    pub n_startup_trials: usize,
    pub n_ei_candidates: usize,
    pub multivariate: bool,
    pub group: bool,
    pub constant_liar: bool,
    /// Split on intermediate values at the highest well-populated budget
    /// (see [`TpeSampler::split_at_budget`]) instead of Optuna's order.
    pub budget_aware: bool,
    pub parzen: ParzenSettings,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            multivariate: true,
            group: false,
            constant_liar: true,
            budget_aware: false,
            parzen: ParzenSettings {
                prior_weight: 1.0,
                consider_magic_clip: true,
                consider_endpoints: false,
            },
        }
    }
}

/// The TPE sampler.
pub struct TpeSampler {
    pub cfg: TpeConfig,
    pub rng: Rng,
    gamma: Option<GammaFn>,
    weights: Option<WeightsFn>,
    /// Kernel constants by (param, good set?), reused across asks while the
    /// parameter keeps its distribution (fingerprint); see [`ConstMemo`].
    /// One entry per parameter and side, so memory stays linear in the trials
    /// even when ranges change from trial to trial.
    memo: HashMap<(u32, bool), (u64, ConstMemo)>,
    /// The bad set's estimator per modelled space (parameters and
    /// distribution fingerprints), updated in place from one ask to the next.
    kept: HashMap<Vec<(u32, u64)>, Kept>,
    /// Bad-set fits so far, to find the least recently used kept estimator.
    fits: u64,
    /// Observations per budget, for `budget_aware` (updated with new trials only).
    budgets: Budgets,
    /// The history the caches above index ([`History::id`]): the sampler object
    /// reused for another study drops them (its parameter indices are another
    /// study's; they panicked out of bounds).
    history: Option<u64>,
}

/// A fingerprint of a distribution's arguments (kernel constants depend on the range).
fn fingerprint(d: &Distribution) -> u64 {
    let (a, b, c) = match *d {
        Distribution::Float {
            low,
            high,
            step,
            log,
        } => (
            low.to_bits(),
            high.to_bits(),
            step.map_or(0, f64::to_bits) ^ log as u64,
        ),
        Distribution::Int {
            low,
            high,
            step,
            log,
        } => (low as u64, high as u64, (step as u64) << 1 | log as u64),
        Distribution::Categorical { n } => (n as u64, 0, 0),
    };
    a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.rotate_left(21).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ c
}

impl std::fmt::Debug for TpeSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpeSampler")
            .field("cfg", &self.cfg)
            .finish()
    }
}

impl TpeSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: TpeConfig, seed: u64) -> Result<Self> {
        if cfg.n_ei_candidates == 0 {
            return Err(Error::InvalidArgument(
                "n_ei_candidates must be >= 1".into(),
            ));
        }
        if !(cfg.parzen.prior_weight.is_finite() && cfg.parzen.prior_weight >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "prior_weight must be a finite number >= 0, got {}",
                cfg.parzen.prior_weight
            )));
        }
        Ok(TpeSampler {
            cfg,
            rng: Rng::new(seed),
            gamma: None,
            weights: None,
            memo: HashMap::new(),
            kept: HashMap::new(),
            fits: 0,
            budgets: Budgets::default(),
            history: None,
        })
    }

    /// Replaces the default gamma.
    pub fn set_gamma(&mut self, f: Option<GammaFn>) {
        self.gamma = f;
    }

    /// Replaces the default weights.
    pub fn set_weights(&mut self, f: Option<WeightsFn>) {
        self.weights = f;
    }

    fn gamma(&self, n: usize, multi: bool) -> Result<usize> {
        match &self.gamma {
            Some(f) => f(n).map_err(|e| Error::InvalidArgument(format!("gamma: {e}"))),
            None if multi => Ok(default_gamma_multi(n)),
            None => Ok(default_gamma(n)),
        }
    }

    fn weights(&self, n: usize) -> Result<Vec<f64>> {
        let w = match &self.weights {
            Some(f) => f(n).map_err(|e| Error::InvalidArgument(format!("weights: {e}")))?,
            None => return Ok(default_weights(n)),
        };
        if w.len() < n {
            return Err(Error::InvalidArgument(format!(
                "weights({n}) returned {} values",
                w.len()
            )));
        }
        let w = w[..n].to_vec();
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || (n > 0 && w.iter().sum::<f64>() <= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "weights({n}) must be finite, non-negative and not all zero"
            )));
        }
        Ok(w)
    }

    fn fit(
        &mut self,
        h: &History,
        below: &[usize],
        above: &[usize],
        dims: &Dims,
    ) -> Result<(Parzen, Arc<Parzen>)> {
        let dists: Vec<Distribution> = dims.iter().map(|d| d.1.clone()).collect();
        let (ob, rb) = Self::gather(h, below, dims);
        let wb = if h.n_objectives() > 1 {
            vec![1.0; rb.len()]
        } else {
            self.weights(rb.len())?
        };
        let ordb = Self::orders(h, &rb, dims, &ob);
        let s = self.cfg.parzen;
        let keys: Vec<Option<(u32, u64)>> = dims
            .iter()
            .map(|(p, d)| p.map(|p| (p, fingerprint(d))))
            .collect();
        let mut take = |below: bool| -> Vec<ConstMemo> {
            keys.iter()
                .map(|k| {
                    k.and_then(|(p, f)| {
                        self.memo
                            .remove(&(p, below))
                            .filter(|(fp, _)| *fp == f)
                            .map(|(_, m)| m)
                    })
                    .unwrap_or_default()
                })
                .collect()
        };
        let mut mb = take(true);
        let l = Parzen::with_orders(&dists, &ob, &wb, &s, Some(&ordb), Some((&rb, &mut mb)));
        for (k, m) in keys.iter().zip(mb) {
            if let Some((p, f)) = k {
                self.memo.insert((*p, true), (*f, m));
            }
        }
        let g = self.fit_bad(h, above, dims)?;
        Ok((l, g))
    }

    /// Samples `dims` jointly: the best of `n_ei_candidates` draws from l(x).
    fn sample_joint(
        &mut self,
        h: &History,
        below: &[usize],
        above: &[usize],
        dims: &Dims,
    ) -> Result<Vec<f64>> {
        let (l, g) = self.fit(h, below, above, dims)?;
        let m = self.cfg.n_ei_candidates;
        let cands = l.sample(&mut self.rng, m);
        let (lb, la) = (l.log_pdf(&cands), g.log_pdf(&cands));
        let best = argmax((0..m).map(|i| lb[i] - la[i]));
        let d = dims.len();
        Ok(cands[best * d..(best + 1) * d].to_vec())
    }

    fn startup(&self, h: &History) -> bool {
        h.n_complete_or_pruned() < self.cfg.n_startup_trials
    }
}

fn argmax(scores: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, s) in scores.enumerate() {
        if s > best.1 || (best.1 == f64::NEG_INFINITY && i == 0) {
            best = (i, s);
        }
    }
    best.0
}

impl TpeSampler {
    /// Drops the caches indexed by another history's parameters.
    fn follow(&mut self, h: &History) {
        if self.history != Some(h.id()) {
            self.memo.clear();
            self.kept.clear();
            self.budgets = Budgets::default();
            self.history = Some(h.id());
        }
    }
}

impl Sampler for TpeSampler {
    fn independent_is_cheap(&self) -> bool {
        false
    }

    fn sample_independent(
        &mut self,
        h: &History,
        trial: usize,
        name: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        self.follow(h);
        if self.startup(h) || dist.is_single() {
            return Ok(dist.from_unit(self.rng.uniform()));
        }
        let dims = [(h.param_index(name), dist.clone())];
        let (below, above) = self.split_at_budget(h, trial)?;
        Ok(self.sample_joint(h, &below, &above, &dims)?[0])
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        self.follow(h);
        if !self.cfg.multivariate || self.startup(h) {
            return Ok(Vec::new());
        }
        let spaces: Vec<Vec<(u32, u32)>> = if self.cfg.group {
            h.groups()
        } else {
            vec![h.intersection_space()]
        };
        let (below, above) = self.split_at_budget(h, trial)?;
        let mut out = Vec::new();
        for space in spaces {
            let space: Vec<(u32, u32)> = space
                .into_iter()
                .filter(|&(p, d)| !h.dist(p, d).is_single())
                .collect();
            if space.is_empty() {
                continue;
            }
            let dims: Vec<(Option<u32>, Distribution)> = space
                .iter()
                .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
                .collect();
            let vals = self.sample_joint(h, &below, &above, &dims)?;
            out.extend(space.iter().zip(vals).map(|(&(p, d), v)| (p, d, v)));
        }
        Ok(out)
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.follow(h);
        if self.startup(h) {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        let params = space.params();
        let groups = condition_groups(params);
        let (below, above) = self.split_at_budget(h, trial)?;
        let mut models = Vec::with_capacity(groups.len());
        for (_, g) in &groups {
            let dims: Vec<(Option<u32>, Distribution)> = g
                .iter()
                .map(|&i| (h.param_index(&params[i].name), params[i].dist.clone()))
                .collect();
            models.push(self.fit(h, &below, &above, &dims)?);
        }
        let mut cands = self.draw_feasible(space, &groups, &models, max_draws, accept)?;
        let m = self.cfg.n_ei_candidates;
        let mut scores = vec![0.0; m];
        for ((_, idx), (l, g)) in groups.iter().zip(&models) {
            let rows: Vec<usize> = (0..m).filter(|&c| !cands[c][idx[0]].is_nan()).collect();
            if rows.is_empty() {
                continue;
            }
            let pts: Vec<f64> = rows
                .iter()
                .flat_map(|&c| idx.iter().map(move |&i| (c, i)))
                .map(|(c, i)| cands[c][i])
                .collect();
            let (lb, la) = (l.log_pdf(&pts), g.log_pdf(&pts));
            for (r, &c) in rows.iter().enumerate() {
                scores[c] += lb[r] - la[r];
            }
        }
        let best = argmax(scores.into_iter());
        Ok(cands.swap_remove(best))
    }

    /// The generator's four words (the kernel caches are rebuilt from the
    /// history).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        self.budgets = Budgets::default();
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

/// Parameters of a declared space that are active together (same
/// condition; single-valued ones left out), each group modelled jointly on
/// the trials where it was active: (condition, parameter indices).
fn condition_groups(params: &[Param]) -> Vec<(Option<&Condition>, Vec<usize>)> {
    let mut groups: Vec<(Option<&Condition>, Vec<usize>)> = Vec::new();
    for (i, p) in params.iter().enumerate() {
        if p.dist.is_single() {
            continue;
        }
        let key = p.condition.as_ref();
        match groups.iter().position(|g| g.0 == key) {
            Some(g) => groups[g].1.push(i),
            None => groups.push((key, vec![i])),
        }
    }
    groups
}

impl TpeSampler {
    /// `n_ei_candidates` feasible points of `space`: each group drawn from its
    /// l(x) (`models`) where its condition holds, within a budget of draws;
    /// where l(x) keeps proposing infeasible points, the batch is completed
    /// from the constrained uniform sampler.
    fn draw_feasible(
        &mut self,
        space: &SearchSpace,
        groups: &[(Option<&Condition>, Vec<usize>)],
        models: &[(Parzen, Arc<Parzen>)],
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<Vec<f64>>> {
        let params = space.params();
        let m = self.cfg.n_ei_candidates;
        let mut cands: Vec<Vec<f64>> = Vec::with_capacity(m);
        let mut x = vec![f64::NAN; params.len()];
        let mut draws = 0;
        let budget = max_draws.clamp(m, 50 * m);
        while cands.len() < m && draws < budget {
            draws += 1;
            for (i, p) in params.iter().enumerate() {
                x[i] = if p.dist.is_single() {
                    p.dist.from_unit(0.5)
                } else {
                    f64::NAN
                };
            }
            for ((cond, idx), (l, _)) in groups.iter().zip(models) {
                let active = match cond {
                    None => true,
                    Some(c) => c.holds(params, &x),
                };
                if active {
                    let v = l.sample(&mut self.rng, 1);
                    for (j, &i) in idx.iter().enumerate() {
                        x[i] = v[j];
                    }
                }
            }
            space.apply_conditions(&mut x);
            if space.is_feasible(&x) && accept(&x)? {
                cands.push(x.clone());
            }
        }
        while cands.len() < m {
            cands.push(space.sample_uniform(&mut self.rng, max_draws, &mut *accept)?);
        }
        Ok(cands)
    }
}

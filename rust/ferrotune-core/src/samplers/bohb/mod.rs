//! BOHB's model-based sampling (Falkner, Klein and Hutter 2018, "BOHB:
//! Robust and Efficient Hyperparameter Optimization at Scale", ICML,
//! Algorithm 2 and section 4), the configuration generator that Hyperband
//! (or successive halving) runs with to make BOHB.
//!
//! Budgets are the steps at which trials reported intermediate values
//! ([`budgets`]): the rungs of `SuccessiveHalvingPruner` / `HyperbandPruner`
//! are the natural ones, and any pruner's reports work. Each ask:
//!
//! 1. The model budget is the largest budget with at least N_min + 2
//!    observations, N_min = max(`min_points_in_model`, d + 1) for d
//!    modelled dimensions. Until one exists the
//!    configuration is uniform, so start-up is counted over the whole study,
//!    never once per Hyperband bracket.
//! 2. With probability `random_fraction` the configuration is uniform anyway
//!    (as every proposal of HpBandSter's, a model or not).
//! 3. Otherwise the observations at that budget, sorted by loss, give a good
//!    set of the best n_good = max(N_min, floor(top_n_percent n / 100)) and a
//!    bad set of the worst n_bad = max(N_min, n - n_good) (the paper's sizes;
//!    the two share observations while n < 2 N_min, where HpBandSter waits
//!    instead),
//!    one product-kernel density each ([`kde`]: l(x) and g(x)).
//! 4. `num_samples` candidates are drawn from l(x) with its bandwidths times
//!    `bandwidth_factor`, and the one maximising l(x)/g(x) is returned
//!    (densities floored at 1e-32 as HpBandSter).
//!
//! Dimensions: floats and ints are modelled in their unit representation
//! ([`Distribution::to_unit`]: log-scaled in log space, stepped and integer
//! ranges as grid cells), categoricals as choice indices; a drawn unit value
//! is mapped back with [`Distribution::from_unit`], so values land on their
//! grid. A parameter inactive in an observation (conditional, or absent from
//! a define-by-run trial) is imputed as HpBandSter does: the value of a
//! random observation of the same set that has it, else a uniform draw.
//!
//! Define-by-run: the intersection search space of the finished trials is
//! modelled jointly at the ask ([`Sampler::relative_values`]); parameters
//! outside it are uniform. A declared space is modelled whole, candidates
//! that break a condition's or a hard constraint are discarded, and when no
//! candidate is feasible the constrained uniform sampler answers.
//!
//! Deviations from the paper's defaults, measured with `HyperbandPruner`
//! (1 to 27 steps, eta 3) at 100 full-budget evaluations of compute: a
//! bandwidth floor of 0.05 instead of 1e-3 (with 1e-3 the good density
//! narrows onto the first good region it finds and stays there: no better
//! than random sampling on 2-3 dimensions), and a random fraction of 0.2
//! instead of 1/3 (the wider floor already explores), and `pruned_in_bad`:
//! the bad set also holds the trials pruned below the model budget (Hyperband
//! judged them worse than those it let go on; TPE likewise ranks pruned trials
//! low), so g(x) knows the regions stopped early. [`BohbConfig::paper`] has
//! the paper's. Options off by default: `magic_clip` (Optuna TPE's
//! bandwidth floor) and `prior_weight` (TPE's uniform component).
//!
//! Other deviations from HpBandSter: FAIL trials and NaN reports are not
//! observations (HpBandSter counts a crashed run as an infinite loss); the
//! Aitchison-Aitken kernel uses the parameter's number of choices
//! (statsmodels counts the levels present in the data, infinite densities
//! when only one is).

pub mod budgets;
pub mod kde;
#[cfg(test)]
mod tests;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::Distribution;
pub use budgets::{Budgets, FINAL_BUDGET};
use kde::{Kde, Kind};

/// Densities below this count as this (HpBandSter's floor of l(x) and g(x)).
const MIN_DENSITY_LN: f64 = -73.682_722_998_622_8; // ln(1e-32)

/// Settings of the sampler (defaults: the paper's but for `min_bandwidth`
/// and `random_fraction`; see the module documentation).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BohbConfig {
    /// N_min; None for d + 1, and never below d + 1.
    pub min_points_in_model: Option<usize>,
    /// Percentage of the observations in the good set (15).
    pub top_n_percent: f64,
    /// Candidates drawn from l(x) per proposal (64).
    pub num_samples: usize,
    /// Fraction of proposals drawn uniformly (0.2; the paper's 1/3).
    pub random_fraction: f64,
    /// Factor on l(x)'s bandwidths when drawing candidates (3).
    pub bandwidth_factor: f64,
    /// Floor of every bandwidth (0.05; the paper's 1e-3).
    pub min_bandwidth: f64,
    /// Also floor continuous bandwidths at 1 / min(100, n + 1) (Optuna's
    /// TPE's magic clip; a deviation from the paper).
    pub magic_clip: bool,
    /// Weight of a uniform component in l(x) and g(x), in observations
    /// (TPE's prior; 0, the paper's, for none).
    pub prior_weight: f64,
    /// Add the trials pruned below the model budget to the bad set (true; a
    /// deviation from the paper, which models one budget only).
    pub pruned_in_bad: bool,
}

impl Default for BohbConfig {
    fn default() -> Self {
        BohbConfig {
            min_points_in_model: None,
            top_n_percent: 15.0,
            num_samples: 64,
            random_fraction: 0.2,
            bandwidth_factor: 3.0,
            min_bandwidth: 0.05,
            magic_clip: false,
            prior_weight: 0.0,
            pruned_in_bad: true,
        }
    }
}

impl BohbConfig {
    /// The paper's and HpBandSter's settings.
    pub fn paper() -> Self {
        BohbConfig {
            random_fraction: 1.0 / 3.0,
            min_bandwidth: 1e-3,
            pruned_in_bad: false,
            ..BohbConfig::default()
        }
    }

    fn check(&self) -> Result<()> {
        let bad = |what: String| Err(Error::InvalidArgument(what));
        if !(self.top_n_percent > 0.0 && self.top_n_percent < 100.0) {
            return bad(format!(
                "top_n_percent must be in (0, 100), got {}",
                self.top_n_percent
            ));
        }
        if self.num_samples == 0 {
            return bad("num_samples must be >= 1, got 0".into());
        }
        if !(0.0..=1.0).contains(&self.random_fraction) {
            return bad(format!(
                "random_fraction must be in [0, 1], got {}",
                self.random_fraction
            ));
        }
        if !(self.bandwidth_factor.is_finite() && self.bandwidth_factor > 0.0) {
            return bad(format!(
                "bandwidth_factor must be a finite number > 0, got {}",
                self.bandwidth_factor
            ));
        }
        if !(self.min_bandwidth.is_finite() && self.min_bandwidth > 0.0) {
            return bad(format!(
                "min_bandwidth must be a finite number > 0, got {}",
                self.min_bandwidth
            ));
        }
        if !(self.prior_weight.is_finite() && self.prior_weight >= 0.0) {
            return bad(format!(
                "prior_weight must be a finite number >= 0, got {}",
                self.prior_weight
            ));
        }
        Ok(())
    }
}

/// The fitted model of one proposal: l(x), g(x) and the budget they model.
#[derive(Debug, Clone)]
pub struct Model {
    pub budget: i64,
    pub good: Kde,
    pub bad: Kde,
}

/// One dimension of a modelled space: the study's parameter index (None when
/// no trial has it yet) and its distribution.
type Dim = (Option<u32>, Distribution);

/// The BOHB sampler.
#[derive(Debug, Clone)]
pub struct BohbSampler {
    pub cfg: BohbConfig,
    pub rng: Rng,
    budgets: Budgets,
    /// Proposals made from a model and uniformly while a model existed.
    pub n_model_based: u64,
    pub n_random_while_modelled: u64,
}

impl BohbSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: BohbConfig, seed: u64) -> Result<Self> {
        cfg.check()?;
        Ok(BohbSampler {
            cfg,
            rng: Rng::new(seed),
            budgets: Budgets::default(),
            n_model_based: 0,
            n_random_while_modelled: 0,
        })
    }

    /// N_min for `d` dimensions.
    pub fn min_points(&self, d: usize) -> usize {
        self.cfg.min_points_in_model.unwrap_or(0).max(d + 1)
    }

    /// The model of `dims` fitted at the largest budget with N_min + 2
    /// observations, or None while no budget has that many.
    pub fn fit(&mut self, h: &History, dims: &[Dim]) -> Result<Option<Model>> {
        Ok(self
            .observations(h, dims.len())?
            .map(|(budget, obs)| self.fit_at(h, dims, budget, &obs)))
    }

    /// The model budget for `d` dimensions and its trials, best first: the
    /// largest budget with N_min + 2 observations, or None.
    fn observations(&mut self, h: &History, d: usize) -> Result<Option<(i64, Vec<u32>)>> {
        single_objective(h)?;
        self.budgets.update(h);
        Ok(self.budgets.largest_with(self.min_points(d) + 2))
    }

    /// l(x) and g(x) of `dims` fitted to the observations `obs` (best first)
    /// at `budget`.
    fn fit_at(&mut self, h: &History, dims: &[Dim], budget: i64, obs: &[u32]) -> Model {
        let (n_good, n_bad) = self.split_sizes(obs.len(), self.min_points(dims.len()));
        let kinds: Vec<Kind> = dims.iter().map(|(_, d)| kind(d)).collect();
        let good = self.rows(h, &obs[..n_good], dims);
        let mut bad_trials = obs[obs.len() - n_bad..].to_vec();
        if self.cfg.pruned_in_bad {
            bad_trials.extend(pruned_below(h, budget));
        }
        let bad = self.rows(h, &bad_trials, dims);
        let (min_bw, clip) = (self.cfg.min_bandwidth, self.cfg.magic_clip);
        Model {
            budget,
            good: Kde::fit(&kinds, good, min_bw, clip).with_prior(self.cfg.prior_weight),
            bad: Kde::fit(&kinds, bad, min_bw, clip).with_prior(self.cfg.prior_weight),
        }
    }

    /// (n_good, n_bad) for `n` observations: eq. 3 of the paper with
    /// HpBandSter's rounding down of the percentage.
    pub fn split_sizes(&self, n: usize, n_min: usize) -> (usize, usize) {
        let top = (self.cfg.top_n_percent * n as f64 / 100.0).floor() as usize;
        let n_good = n_min.max(top).min(n);
        let n_bad = n_min.max(n - n_good).min(n);
        (n_good, n_bad)
    }

    /// Model-space rows of `trials` over `dims`, inactive values imputed
    /// (HpBandSter's `impute_conditional_data`): from a random row of the
    /// same set that has the dimension, else uniformly.
    fn rows(&mut self, h: &History, trials: &[u32], dims: &[Dim]) -> Vec<f64> {
        let d = dims.len();
        let mut data = Vec::with_capacity(trials.len() * d);
        for &t in trials {
            for (p, dist) in dims {
                let v = p.and_then(|p| h.value(p, t as usize));
                data.push(match v {
                    Some(v) if dist.contains(v) => to_model(dist, v),
                    _ => f64::NAN,
                });
            }
        }
        let n = trials.len();
        for j in 0..d {
            let have: Vec<usize> = (0..n).filter(|&i| !data[i * d + j].is_nan()).collect();
            for i in 0..n {
                if data[i * d + j].is_nan() {
                    data[i * d + j] = if have.is_empty() {
                        to_model(&dims[j].1, dims[j].1.from_unit(self.rng.uniform()))
                    } else {
                        data[have[self.rng.below(have.len() as u64) as usize] * d + j]
                    };
                }
            }
        }
        data
    }

    /// Whether this proposal is uniform although a model exists
    /// (probability `random_fraction`), counted.
    fn random_pick(&mut self) -> bool {
        let random = self.rng.uniform() < self.cfg.random_fraction;
        if random {
            self.n_random_while_modelled += 1;
        } else {
            self.n_model_based += 1;
        }
        random
    }

    /// log l(x) - log g(x) with both densities floored (HpBandSter).
    fn score(m: &Model, x: &[f64]) -> f64 {
        m.good.log_pdf(x).max(MIN_DENSITY_LN) - m.bad.log_pdf(x).max(MIN_DENSITY_LN)
    }

    /// The best of `num_samples` draws from l(x) over `dims`, as values.
    fn propose(&mut self, m: &Model, dims: &[Dim]) -> Vec<f64> {
        let mut best = (f64::NEG_INFINITY, Vec::new());
        let mut u = Vec::with_capacity(dims.len());
        for _ in 0..self.cfg.num_samples {
            m.good
                .sample(&mut self.rng, self.cfg.bandwidth_factor, &mut u);
            let s = Self::score(m, &u);
            if best.1.is_empty() || s > best.0 {
                best = (s, u.clone());
            }
        }
        dims.iter()
            .zip(&best.1)
            .map(|((_, d), &v)| from_model(d, v))
            .collect()
    }
}

/// The PRUNED trials whose last report is below `budget`: Hyperband stopped
/// them as worse than the trials it let go on.
fn pruned_below(h: &History, budget: i64) -> impl Iterator<Item = u32> + '_ {
    h.trials().iter().enumerate().filter_map(move |(t, rec)| {
        let low = rec.last_intermediate().is_some_and(|(s, _)| s < budget);
        (rec.state == TrialState::Pruned && low).then_some(t as u32)
    })
}

/// An error for a study with several objectives (the model ranks one loss).
fn single_objective(h: &History) -> Result<()> {
    if h.n_objectives() > 1 {
        return Err(Error::InvalidArgument(format!(
            "BOHBSampler models one objective; this study has {}",
            h.n_objectives()
        )));
    }
    Ok(())
}

/// How a distribution is modelled.
fn kind(d: &Distribution) -> Kind {
    match *d {
        Distribution::Categorical { n } => Kind::Categorical(n),
        _ => Kind::Continuous,
    }
}

/// A value's model-space coordinate: its choice index, or its unit value.
fn to_model(d: &Distribution, v: f64) -> f64 {
    match d {
        Distribution::Categorical { .. } => v,
        _ => d.to_unit(v).clamp(0.0, 1.0),
    }
}

/// The value of a model-space coordinate (on the grid, inside the bounds).
fn from_model(d: &Distribution, u: f64) -> f64 {
    match d {
        Distribution::Categorical { n } => u.clamp(0.0, (*n - 1) as f64),
        _ => d.from_unit(u),
    }
}

impl Sampler for BohbSampler {
    /// Uniform: BOHB models jointly at the ask, and a parameter outside the
    /// modelled space (or a proposal of the random fraction) is drawn uniformly.
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn relative_values(&mut self, h: &History, _trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        single_objective(h)?;
        let space: Vec<(u32, u32)> = h
            .intersection_space()
            .into_iter()
            .filter(|&(p, d)| !h.dist(p, d).is_single())
            .collect();
        if space.is_empty() {
            return Ok(Vec::new());
        }
        let dims: Vec<Dim> = space
            .iter()
            .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
            .collect();
        let Some((budget, obs)) = self.observations(h, dims.len())? else {
            return Ok(Vec::new());
        };
        if self.random_pick() {
            return Ok(Vec::new());
        }
        let model = self.fit_at(h, &dims, budget, &obs);
        let vals = self.propose(&model, &dims);
        Ok(space
            .iter()
            .zip(vals)
            .map(|(&(p, d), v)| (p, d, v))
            .collect())
    }

    fn sample_space(
        &mut self,
        h: &History,
        _trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        single_objective(h)?;
        let params = space.params();
        let idx: Vec<usize> = (0..params.len())
            .filter(|&i| !params[i].dist.is_single())
            .collect();
        let dims: Vec<Dim> = idx
            .iter()
            .map(|&i| (h.param_index(&params[i].name), params[i].dist.clone()))
            .collect();
        let at = if dims.is_empty() {
            None
        } else {
            self.observations(h, dims.len())?
        };
        let Some((budget, obs)) = at.filter(|_| !self.random_pick()) else {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        };
        let model = self.fit_at(h, &dims, budget, &obs);
        let mut best: Option<(f64, Vec<f64>)> = None;
        let (mut found, mut draws) = (0, 0);
        let budget = max_draws.clamp(self.cfg.num_samples, 50 * self.cfg.num_samples);
        let mut u = Vec::with_capacity(dims.len());
        while found < self.cfg.num_samples && draws < budget {
            draws += 1;
            model
                .good
                .sample(&mut self.rng, self.cfg.bandwidth_factor, &mut u);
            let mut x: Vec<f64> = params.iter().map(|p| p.dist.from_unit(0.5)).collect();
            for (k, &i) in idx.iter().enumerate() {
                x[i] = from_model(&params[i].dist, u[k]);
            }
            space.apply_conditions(&mut x);
            if !(space.is_feasible(&x) && accept(&x)?) {
                continue;
            }
            found += 1;
            let s = Self::score(&model, &u);
            if best.as_ref().is_none_or(|b| s > b.0) {
                best = Some((s, x));
            }
        }
        match best {
            Some((_, x)) => Ok(x),
            None => space.sample_uniform(&mut self.rng, max_draws, accept),
        }
    }

    /// The generator's four words (the observation lists are rebuilt from
    /// the history; the counters are statistics, not state).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        // The restored sampler may have seen another history: rebuild.
        self.budgets = Budgets::default();
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

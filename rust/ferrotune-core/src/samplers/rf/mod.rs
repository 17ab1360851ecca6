//! SMAC: sequential model-based algorithm configuration with a random-forest
//! surrogate (Hutter, Hoos and Leyton-Brown 2011), as SMAC3's
//! `HyperparameterOptimizationFacade` runs it.
//!
//! Each ask after the initial design:
//!
//! 1. with probability `random_fraction` (SMAC's `ProbabilityRandomDesign`, 0.2) the
//!    configuration is drawn uniformly from the space;
//! 2. otherwise a [`crate::forest::Forest`] ([`ForestConfig::smac`]) is fitted to the
//!    finished trials, the objective scaled as SMAC's `RunHistoryLogScaledEncoder` does
//!    (`model::log_scale`), and the configuration maximising log expected improvement
//!    (Hutter et al. 2009, sec. 4.3; `model::log_ei`) over the incumbent's predicted
//!    value (the lowest forest mean over the evaluated configurations, SMAC3's
//!    `ConfigSelector._get_x_best`) is searched as SMAC's
//!    `LocalAndSortedRandomSearch` does (`search`): `n_candidates` random configurations
//!    scored and sorted, then a local search (one-exchange neighbourhood) from the best
//!    `n_local_search` of them and from the `n_local_search` best observed configurations.
//!
//! The initial design is SMAC's Sobol design (`SobolInitialDesign`, scrambled) on a declared
//! space; define-by-run parameters are drawn uniformly until the model starts.
//! Every proposal on a declared space satisfies its conditions and hard constraints: the
//! random and local-search candidates are checked with the space's feasibility test and
//! the caller's `accept` before they are scored.
//!
//! Trials other than COMPLETE ones: RUNNING trials (other workers) enter the forest with
//! the worst observed value (a constant liar, Ginsbourger et al. 2010), so parallel
//! workers do not propose the same point; PRUNED trials enter with their last reported
//! value, raised to the worst complete value (a pruned trial was judged worse than its
//! peers), or are left out without a report; FAIL trials are left out.

mod model;
mod search;

#[cfg(test)]
mod tests;

use super::{rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::forest::ForestConfig;
use crate::history::History;
use crate::rng::Rng;
use crate::samplers::qmc::{QmcKind, QmcSequence};
use crate::space::{Distribution, Param};

/// Settings of [`RfSampler`] (defaults: SMAC3's HPO facade).
#[derive(Debug, Clone, PartialEq)]
pub struct RfConfig {
    /// Trials of the initial design; `None`: `min(10 * d, 20)` for `d` parameters (SMAC:
    /// 10 per hyperparameter, at most a quarter of the trial budget, which a sampler does
    /// not know: 20 is that cap for 80 trials).
    pub n_startup_trials: Option<usize>,
    /// Probability of a uniformly random configuration after the initial design (0.2).
    pub random_fraction: f64,
    /// Random configurations scored per ask (SMAC's `challengers`, 10,000).
    pub n_candidates: usize,
    /// Local searches from the best random and the best observed configurations each
    /// (SMAC's `local_search_iterations`, 10).
    pub n_local_search: usize,
    /// Consecutive non-improving (plateau) steps before a local search stops (SMAC's
    /// `n_steps_plateau_walk`, 10).
    pub n_plateau_steps: usize,
    /// Scale the objective as SMAC's log-scaled encoder (true); otherwise the forest
    /// models the raw values and plain expected improvement is used.
    pub log_y: bool,
    /// Add RUNNING trials to the data with the worst observed value (true).
    pub constant_liar: bool,
    /// A proposal with the same categorical values as an evaluated (or running)
    /// configuration and every numeric value within this distance of it on the unit
    /// scale (the log scale for log parameters) counts as evaluated and is skipped, as
    /// an exact repeat is (0.003; 0 skips exact repeats only). Not in SMAC3, which skips
    /// exact repeats only: the spread of the trees' predictions does not shrink near
    /// data, so where the objective steps between two evaluated configurations (a
    /// tabulated or discretised objective, the edge of a plateau) the trees disagree on
    /// the split point however close the two are, the expected improvement stays high
    /// in the gap and the search bisects it trial after trial (measured on
    /// `benches/rf_quality.py`'s `cancer_models`: over 100 of the 180 trials after the
    /// initial design went to its one-parameter logistic-regression branch, most of
    /// them on the edges of its plateau).
    pub min_distance: f64,
    /// The forest (seed replaced per ask).
    pub forest: ForestConfig,
}

impl Default for RfConfig {
    fn default() -> Self {
        RfConfig {
            n_startup_trials: None,
            random_fraction: 0.2,
            n_candidates: 10_000,
            n_local_search: 10,
            n_plateau_steps: 10,
            log_y: true,
            constant_liar: true,
            min_distance: 0.003,
            forest: ForestConfig::smac(0),
        }
    }
}

/// Standard deviation of a local-search step of a numeric parameter on its unit scale
/// (SMAC's `LocalSearch` `stdev_init`, 0.05).
pub(crate) const STEP_SD: f64 = 0.05;

/// The SMAC sampler.
#[derive(Debug, Clone)]
pub struct RfSampler {
    cfg: RfConfig,
    rng: Rng,
    /// Seed of the scrambled Sobol initial design.
    sobol_seed: u64,
}

impl RfSampler {
    /// A sampler; an invalid setting is an [`Error::InvalidArgument`] naming it.
    pub fn new(cfg: RfConfig, seed: u64) -> Result<Self> {
        let bad = |m: &str| Err(Error::InvalidArgument(m.to_string()));
        if !(0.0..=1.0).contains(&cfg.random_fraction) {
            return bad("random_fraction must be in [0, 1]");
        }
        if !(0.0..1.0).contains(&cfg.min_distance) {
            return bad("min_distance must be in [0, 1)");
        }
        if cfg.n_candidates == 0 && cfg.n_local_search == 0 {
            return bad("n_candidates and n_local_search cannot both be 0");
        }
        if cfg.forest.n_trees == 0 {
            return bad("n_trees must be at least 1");
        }
        let mut rng = Rng::new(seed);
        let sobol_seed = rng.next_u64();
        Ok(RfSampler {
            cfg,
            rng,
            sobol_seed,
        })
    }

    fn n_startup(&self, d: usize) -> usize {
        self.cfg.n_startup_trials.unwrap_or((10 * d).min(20))
    }

    /// The initial design's configuration for trial `trial`: a point of the scrambled
    /// Sobol sequence, or a uniform draw when it is infeasible.
    fn initial(
        &mut self,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        let d = space.params().len();
        if let Ok(seq) = QmcSequence::new(QmcKind::Sobol, d.max(1), true, self.sobol_seed) {
            let mut u = vec![0.0; d.max(1)];
            seq.point(trial as u64, &mut u);
            let mut x = Vec::with_capacity(d);
            space.from_unit(&u[..d], &mut x);
            if space.passes_rejection(&x) && space.is_feasible(&x) && accept(&x)? {
                return Ok(x);
            }
        }
        space.sample_uniform(&mut self.rng, max_draws, accept)
    }

    /// One configuration of `space` for trial `trial`.
    fn propose(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
        sobol: bool,
    ) -> Result<Vec<f64>> {
        if h.n_objectives() != 1 {
            return Err(Error::InvalidArgument(
                "RFSampler optimises one objective; this study has several".into(),
            ));
        }
        let data = model::gather(h, trial, space.params(), self.cfg.constant_liar);
        if data.n_observed() < self.n_startup(space.params().len()) {
            return if sobol {
                self.initial(trial, space, max_draws, accept)
            } else {
                space.sample_uniform(&mut self.rng, max_draws, accept)
            };
        }
        if self.rng.uniform() < self.cfg.random_fraction {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        let forest_cfg = ForestConfig {
            seed: self.rng.next_u64(),
            ..self.cfg.forest.clone()
        };
        let Some(surrogate) =
            model::Surrogate::fit(&data, space.params(), &forest_cfg, self.cfg.log_y)?
        else {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        };
        let found = search::maximise(self, &surrogate, &data, space, max_draws, accept)?;
        match found {
            Some(x) => Ok(x),
            None => space.sample_uniform(&mut self.rng, max_draws, accept),
        }
    }
}

impl Sampler for RfSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.propose(h, trial, space, max_draws, accept, true)
    }

    /// Define-by-run: the parameters every finished trial has (the intersection
    /// space), modelled jointly; nothing until the initial design is complete.
    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        if h.n_objectives() != 1 {
            // As the declared-space path and the other single-objective samplers:
            // a study with several objectives would otherwise run without a model.
            return Err(Error::InvalidArgument(
                "RFSampler optimises one objective; this study has several".into(),
            ));
        }
        let dims = h.intersection_space();
        if dims.is_empty() || h.n_complete_or_pruned() < self.n_startup(dims.len()) {
            return Ok(Vec::new());
        }
        let params: Vec<Param> = dims
            .iter()
            .map(|&(p, di)| Param {
                name: h.params()[p as usize].name.clone(),
                dist: h.dist(p, di).clone(),
                condition: None,
                choice_values: None,
            })
            .collect();
        let space = SearchSpace::new(params, Vec::new())?;
        let x = self.propose(
            h,
            trial,
            &space,
            super::DEFAULT_MAX_DRAWS,
            &mut |_| Ok(true),
            false,
        )?;
        Ok(dims.iter().zip(x).map(|(&(p, di), v)| (p, di, v)).collect())
    }

    fn independent_is_cheap(&self) -> bool {
        true
    }

    /// The generator's four words and the Sobol design's seed.
    fn state(&self) -> SamplerState {
        let mut s = rng_words(&self.rng);
        s.push(self.sobol_seed);
        s
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        super::expect_words(state, 5)?;
        self.rng = rng_from_words(state)?;
        self.sobol_seed = state[4];
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
        self.sobol_seed = self.rng.next_u64();
    }
}

//! One search: the distribution of the current run, its update from a
//! ranked generation, and the restarts (IPOP, Auger & Hansen 2005; BIPOP,
//! Hansen 2009) when a termination criterion holds.

use super::catcma::CatDist;
use super::gaussian::Gaussian;
use super::lr_adapt::LrAdapt;
use super::margin::Margin;
use super::strategy::{default_popsize, Strategy, Variant};
use super::terminate::{check, FunHistory, Stop};
use crate::rng::Rng;
use crate::space::Distribution;

/// What to do when a run meets a termination criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartStrategy {
    /// Go on with the converged distribution (Optuna's behaviour).
    #[default]
    None,
    /// Restart with the population times `inc_popsize` (Auger & Hansen 2005).
    Ipop,
    /// Alternate large and small populations by budget (Hansen 2009).
    Bipop,
}

/// The settings a run needs (a subset of the sampler's configuration).
#[derive(Debug, Clone, PartialEq)]
pub struct RunConfig {
    pub popsize: Option<usize>,
    pub sigma0: f64,
    pub x0: Vec<f64>,
    pub separable: bool,
    pub with_margin: bool,
    pub lr_adapt: bool,
    pub restart: RestartStrategy,
    pub inc_popsize: usize,
}

/// A sample: the unit-space point told to the update and the categories.
#[derive(Debug, Clone, PartialEq)]
pub struct Solution {
    pub x: Vec<f64>,
    pub cats: Vec<usize>,
    pub value: f64,
    /// Sampled from an earlier generation's distribution (an extra carried
    /// over): injected, its step clipped (Hansen 2011).
    pub injected: bool,
}

/// A restart: the global generation at which it happened, why, the new
/// population size and whether it starts a small-population (BIPOP) run.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RestartEvent {
    pub generation: u64,
    pub stop: Stop,
    pub popsize: usize,
    pub small: bool,
}

/// The state of the whole search over one relative space.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub cfg: RunConfig,
    /// Numeric dims (unit space) and the category counts of categorical dims.
    pub dists: Vec<Distribution>,
    pub ks: Vec<usize>,
    pub strategy: Strategy,
    pub gauss: Gaussian,
    pub margin: Option<Margin>,
    pub cat: Option<CatDist>,
    pub lr: Option<LrAdapt>,
    hist: FunHistory,
    /// Generations told over all runs, restarts so far, and their log.
    pub generation: u64,
    pub restarts: Vec<RestartEvent>,
    // BIPOP bookkeeping: large restarts made, evaluations per regime, and
    // whether the current run is a small-population one.
    n_large: u32,
    budget_large: u64,
    budget_small: u64,
    small: bool,
}

impl Search {
    /// A first run at `cfg.x0` with step `cfg.sigma0`.
    pub fn new(cfg: RunConfig, dists: Vec<Distribution>, ks: Vec<usize>) -> Self {
        let lambda = cfg
            .popsize
            .unwrap_or_else(|| default_popsize(dists.len() + ks.len()));
        let (mean, sigma) = (cfg.x0.clone(), cfg.sigma0);
        let mut s = Search {
            strategy: Strategy::new(1, 2, Variant::Full),
            gauss: Gaussian::new(mean.clone(), sigma, cfg.separable),
            margin: None,
            cat: None,
            lr: None,
            hist: FunHistory::default(),
            cfg,
            dists,
            ks,
            generation: 0,
            restarts: Vec::new(),
            n_large: 0,
            budget_large: 0,
            budget_small: 0,
            small: false,
        };
        s.start_run(mean, sigma, lambda);
        s
    }

    fn start_run(&mut self, mean: Vec<f64>, sigma: f64, lambda: usize) {
        let n = self.dists.len();
        let variant = if self.cfg.separable {
            Variant::Separable
        } else if self.ks.is_empty() {
            Variant::Full
        } else {
            Variant::Positive
        };
        self.strategy = Strategy::new(n, lambda, variant);
        self.gauss = Gaussian::new(mean, sigma, self.cfg.separable);
        self.margin = if self.cfg.with_margin {
            Margin::new(&self.dists, self.strategy.lambda)
        } else {
            None
        };
        self.cat = (!self.ks.is_empty()).then(|| CatDist::new(&self.ks));
        self.lr = (self.cfg.lr_adapt && !self.cfg.separable).then(|| LrAdapt::new(n));
        self.hist = FunHistory::new(n, self.strategy.lambda);
    }

    /// The population size of the current run.
    pub fn popsize(&self) -> usize {
        self.strategy.lambda
    }

    /// Draws one sample: the Gaussian part, resampled up to 10 n times while
    /// a continuous coordinate leaves [0, 1] and then clipped (as Optuna and
    /// the `cmaes` package); discrete coordinates under a margin are not
    /// bounded (their encoding rounds to the nearest grid value).
    pub fn sample(&self, rng: &mut Rng) -> (Vec<f64>, Vec<usize>) {
        let n = self.dists.len();
        let bounded: Vec<bool> = (0..n)
            .map(|j| {
                self.margin
                    .as_ref()
                    .is_none_or(|m| !m.discrete.iter().any(|(i, _)| *i == j))
            })
            .collect();
        let inside = |x: &[f64]| {
            x.iter()
                .zip(&bounded)
                .all(|(v, b)| !b || (0.0..=1.0).contains(v))
        };
        let mut x = self.gauss.sample(rng);
        let mut tries = 1;
        while !inside(&x) && tries < 10 * n.max(1) {
            x = self.gauss.sample(rng);
            tries += 1;
        }
        for (v, b) in x.iter_mut().zip(&bounded) {
            if *b {
                *v = v.clamp(0.0, 1.0);
            }
        }
        let cats = self.cat.as_ref().map_or_else(Vec::new, |c| c.sample(rng));
        (x, cats)
    }

    /// The unit point at which sample `x` is evaluated (the margin's encoding).
    pub fn encode(&self, x: &[f64]) -> Vec<f64> {
        match &self.margin {
            Some(m) => m.encode(&self.gauss, x),
            None => x.to_vec(),
        }
    }

    /// Tells one generation (exactly `popsize` solutions, any order).
    pub fn tell(&mut self, mut sols: Vec<Solution>) {
        sols.sort_by(|a, b| a.value.total_cmp(&b.value));
        let (best, worst) = (sols[0].value, sols[sols.len() - 1].value);
        self.hist.push(best, worst);
        let xs: Vec<Vec<f64>> = sols.iter().map(|s| s.x.clone()).collect();
        let injected: Vec<bool> = sols.iter().map(|s| s.injected).collect();
        let old = self.lr.as_ref().map(|_| self.gauss.clone());
        self.gauss.tell(&self.strategy, &xs, &injected);
        if let (Some(lr), Some(old)) = (self.lr.as_mut(), old) {
            lr.adapt(&old, &mut self.gauss);
        }
        if let Some(cat) = self.cat.as_mut() {
            let cs: Vec<Vec<usize>> = sols.iter().map(|s| s.cats.clone()).collect();
            cat.tell(&self.strategy.weights, &cs);
        }
        if let Some(m) = self.margin.as_mut() {
            m.correct(&mut self.gauss);
        }
        self.generation += 1;
        let spent = self.strategy.lambda as u64;
        if self.small {
            self.budget_small += spent;
        } else {
            self.budget_large += spent;
        }
        if self.cfg.restart != RestartStrategy::None {
            if let Some(stop) = check(&self.gauss, self.cfg.sigma0, &self.hist) {
                self.restart(stop, best);
            }
        }
    }

    /// A new run after `stop`: a uniform random mean (Auger & Hansen 2005),
    /// σ₀, C = I and the population of the strategy. The random numbers come
    /// from the search's own history (the generation and the best value), so
    /// every worker replaying the same trials restarts the same way.
    fn restart(&mut self, stop: Stop, best: f64) {
        let mut rng = Rng::new(self.generation ^ best.to_bits().rotate_left(17));
        let n = self.dists.len();
        let mean: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
        let lambda_def = self
            .cfg
            .popsize
            .unwrap_or_else(|| default_popsize(n + self.ks.len()));
        let inc = self.cfg.inc_popsize as f64;
        let (lambda, sigma) = match self.cfg.restart {
            RestartStrategy::Ipop | RestartStrategy::None => {
                ((self.popsize() as f64 * inc) as usize, self.cfg.sigma0)
            }
            RestartStrategy::Bipop if self.budget_small < self.budget_large => {
                // Small regime (Hansen 2009): λ_s = ⌊λ_def (½ λ_l / λ_def)^(U²)⌋,
                // σ_s = σ₀ 10^(-2U), with λ_l the last large population.
                let u = rng.uniform();
                let lambda_l = lambda_def as f64 * inc.powi(self.n_large as i32);
                let ratio = 0.5 * lambda_l / lambda_def as f64;
                self.small = true;
                let l = (lambda_def as f64 * ratio.powf(u * u)).floor() as usize;
                (l.max(2), self.cfg.sigma0 * 10f64.powf(-2.0 * u))
            }
            RestartStrategy::Bipop => {
                self.n_large += 1;
                self.small = false;
                let l = lambda_def as f64 * inc.powi(self.n_large as i32);
                (l as usize, self.cfg.sigma0)
            }
        };
        self.restarts.push(RestartEvent {
            generation: self.generation,
            stop,
            popsize: lambda,
            small: self.small,
        });
        self.start_run(mean, sigma, lambda);
    }
}

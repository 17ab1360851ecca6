//! Optuna's `PercentilePruner` (and `MedianPruner`, its 50th percentile):
//! prune a trial whose best intermediate value so far is worse than the given
//! percentile of the values COMPLETE trials reported at the same step.

use super::{at_least, first_in_interval, maximize_single, Pruner, StepStats};
use crate::error::{Error, Result};
use crate::history::History;

/// Arguments of [`PercentilePruner`], with Optuna's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PercentileConfig {
    /// Percentile in [0, 100] of the kept trials (25.0 keeps the best quarter).
    pub percentile: f64,
    /// No pruning until this many trials are COMPLETE (default 5).
    pub n_startup_trials: i64,
    /// No pruning before this step (default 0).
    pub n_warmup_steps: i64,
    /// Steps between checks, counted from the warm-up (default 1).
    pub interval_steps: i64,
    /// No pruning when fewer COMPLETE trials reported at the step (default 1).
    pub n_min_trials: i64,
}

impl PercentileConfig {
    /// Optuna's `MedianPruner` defaults.
    pub fn median() -> Self {
        PercentileConfig {
            percentile: 50.0,
            n_startup_trials: 5,
            n_warmup_steps: 0,
            interval_steps: 1,
            n_min_trials: 1,
        }
    }
}

/// The percentile rule with its per-step statistics kept between calls.
///
/// A decision, for the last reported step `s` of the trial:
/// no pruning with fewer than `n_startup_trials` COMPLETE trials (or none),
/// before `n_warmup_steps`, or when `s` is not the first report of its
/// interval; prune when every value the trial reported is NaN; otherwise
/// compare the trial's best value over all its steps with the percentile (the
/// `100 - percentile`-th when maximising) of the COMPLETE trials' values at
/// `s`, which needs at least `n_min_trials` of them (NaN ones count) and one
/// that is not NaN: prune when the trial's is strictly worse.
#[derive(Debug, Clone, PartialEq)]
pub struct PercentilePruner {
    config: PercentileConfig,
    stats: StepStats,
}

impl PercentilePruner {
    /// Checks the arguments (each error names its parameter).
    pub fn new(config: PercentileConfig) -> Result<Self> {
        let p = config.percentile;
        if !(0.0..=100.0).contains(&p) {
            return Err(Error::InvalidArgument(format!(
                "percentile must be between 0 and 100 inclusive, got {p}"
            )));
        }
        at_least("n_startup_trials", config.n_startup_trials, 0)?;
        at_least("n_warmup_steps", config.n_warmup_steps, 0)?;
        at_least("interval_steps", config.interval_steps, 1)?;
        at_least("n_min_trials", config.n_min_trials, 1)?;
        Ok(PercentilePruner {
            config,
            stats: StepStats::default(),
        })
    }

    /// The arguments.
    pub fn config(&self) -> &PercentileConfig {
        &self.config
    }
}

/// The best of a trial's intermediate values (NaN ignored; NaN when all are).
pub(crate) fn best_intermediate(values: &[(i64, f64)], maximize: bool) -> f64 {
    let finite = values.iter().map(|s| s.1).filter(|v| !v.is_nan());
    if maximize {
        finite.fold(f64::NAN, f64::max)
    } else {
        finite.fold(f64::NAN, f64::min)
    }
}

impl Pruner for PercentilePruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        let maximize = maximize_single(history)?;
        let record = history.trial(trial)?;
        self.stats.update(history);
        let c = &self.config;
        let n = self.stats.n_complete() as i64;
        if n == 0 || n < c.n_startup_trials {
            return Ok(false);
        }
        let Some((step, _)) = record.last_intermediate() else {
            return Ok(false);
        };
        if step < c.n_warmup_steps {
            return Ok(false);
        }
        let steps = record.intermediate.iter().map(|s| s.0);
        if !first_in_interval(step, steps, c.n_warmup_steps, c.interval_steps) {
            return Ok(false);
        }
        let best = best_intermediate(&record.intermediate, maximize);
        if best.is_nan() {
            return Ok(true);
        }
        if (self.stats.count(step) as i64) < c.n_min_trials {
            return Ok(false);
        }
        let q = if maximize {
            100.0 - c.percentile
        } else {
            c.percentile
        };
        let p = self.stats.percentile(step, q);
        if p.is_nan() {
            return Ok(false);
        }
        Ok(if maximize { best < p } else { best > p })
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        Box::new(PercentilePruner {
            config: self.config,
            stats: StepStats::default(),
        })
    }
}

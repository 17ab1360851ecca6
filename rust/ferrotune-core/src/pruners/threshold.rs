//! Optuna's `ThresholdPruner`: prune a trial whose last intermediate value
//! leaves `[lower, upper]` (or is NaN).

use super::{at_least, first_in_interval, Pruner};
use crate::error::{Error, Result};
use crate::history::History;

/// The threshold rule. A decision, for the last reported step `s`: no pruning
/// before `n_warmup_steps` or when `s` is not the first report of its interval
/// (as [`super::PercentilePruner`]); prune when the value at `s` is NaN, below
/// `lower` or above `upper`. Direction plays no part.
#[derive(Debug, Clone, PartialEq)]
pub struct ThresholdPruner {
    lower: f64,
    upper: f64,
    n_warmup_steps: i64,
    interval_steps: i64,
}

impl ThresholdPruner {
    /// `lower` and `upper` may be infinite (an unbounded side); neither may be
    /// NaN, and `lower <= upper`.
    pub fn new(lower: f64, upper: f64, n_warmup_steps: i64, interval_steps: i64) -> Result<Self> {
        for (name, v) in [("lower", lower), ("upper", upper)] {
            if v.is_nan() {
                return Err(Error::InvalidArgument(format!("{name} must not be NaN")));
            }
        }
        if lower > upper {
            return Err(Error::InvalidArgument(format!(
                "lower must not be greater than upper, got lower={lower}, upper={upper}"
            )));
        }
        at_least("n_warmup_steps", n_warmup_steps, 0)?;
        at_least("interval_steps", interval_steps, 1)?;
        Ok(ThresholdPruner {
            lower,
            upper,
            n_warmup_steps,
            interval_steps,
        })
    }
}

impl Pruner for ThresholdPruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        let record = history.trial(trial)?;
        let Some((step, value)) = record.last_intermediate() else {
            return Ok(false);
        };
        if step < self.n_warmup_steps {
            return Ok(false);
        }
        let steps = record.intermediate.iter().map(|s| s.0);
        if !first_in_interval(step, steps, self.n_warmup_steps, self.interval_steps) {
            return Ok(false);
        }
        Ok(value.is_nan() || value < self.lower || value > self.upper)
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        Box::new(self.clone())
    }
}

//! Optuna's `PatientPruner`: tolerate `patience` steps without improvement
//! before asking a wrapped pruner (or pruning, without one).

use super::{maximize_single, Pruner};
use crate::error::{Error, Result};
use crate::history::History;

/// The patience rule. With the trial's reported steps in order, the best value
/// (NaN ignored) of the last `patience + 1` steps is compared with the best of
/// the steps before them: when it has not improved by more than `min_delta`
/// (minimising: `best_before + min_delta < best_after`; maximising:
/// `best_before - min_delta > best_after`), the wrapped pruner decides, or
/// the trial is pruned when there is none. Fewer than `patience + 2` reported
/// steps never prune, and a side whose values are all NaN never prunes.
pub struct PatientPruner {
    wrapped: Option<Box<dyn Pruner>>,
    patience: i64,
    min_delta: f64,
}

impl PatientPruner {
    /// `patience >= 0`; `min_delta >= 0` and not NaN.
    pub fn new(wrapped: Option<Box<dyn Pruner>>, patience: i64, min_delta: f64) -> Result<Self> {
        super::at_least("patience", patience, 0)?;
        if min_delta.is_nan() || min_delta < 0.0 {
            return Err(Error::InvalidArgument(format!(
                "min_delta must be a number >= 0, got {min_delta}"
            )));
        }
        Ok(PatientPruner {
            wrapped,
            patience,
            min_delta,
        })
    }

    fn stalled(&self, history: &History, trial: usize) -> Result<bool> {
        let maximize = maximize_single(history)?;
        let mut values = history.trial(trial)?.intermediate.clone();
        let keep = self.patience as usize + 1;
        if values.len() <= keep {
            return Ok(false);
        }
        values.sort_unstable_by_key(|s| s.0);
        let (before, after) = values.split_at(values.len() - keep);
        let best = |side: &[(i64, f64)]| super::percentile::best_intermediate(side, maximize);
        let (b, a) = (best(before), best(after));
        // NaN on either side makes the comparison false, as numpy's nanmin does.
        Ok(if maximize {
            b - self.min_delta > a
        } else {
            b + self.min_delta < a
        })
    }
}

impl Pruner for PatientPruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        if !self.stalled(history, trial)? {
            return Ok(false);
        }
        match self.wrapped.as_mut() {
            Some(p) => p.prune(history, trial),
            None => Ok(true),
        }
    }

    fn set_study_name(&mut self, name: &str) {
        if let Some(p) = self.wrapped.as_mut() {
            p.set_study_name(name);
        }
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        Box::new(PatientPruner {
            wrapped: self.wrapped.as_ref().map(|p| p.boxed_clone()),
            patience: self.patience,
            min_delta: self.min_delta,
        })
    }
}

//! Pruners: decide from a running trial's intermediate values whether it should
//! stop early. One rule a module, all behind [`Pruner`].
//!
//! The rules and their arguments follow Optuna's pruners of the same names.

#[cfg(test)]
mod conformance;
pub mod hyperband;
pub mod pareto_rank;
pub mod patient;
pub mod percentile;
pub mod step_stats;
pub mod successive_halving;
pub mod threshold;
pub mod wilcoxon;

use crate::error::{Error, Result};
use crate::history::History;

pub use hyperband::{HyperbandConfig, HyperbandPruner};
pub use patient::PatientPruner;
pub use percentile::PercentilePruner;
pub use step_stats::StepStats;
pub use successive_halving::{HalvingConfig, SuccessiveHalvingPruner};
pub use threshold::ThresholdPruner;
pub use wilcoxon::WilcoxonPruner;

/// What the study asks of a Rust pruner. Every implementation guarantees:
///
/// - **A decision from the history alone.** [`Pruner::prune`] reads trial
///   `trial` (running, with the intermediate values it has reported) and the
///   other trials of `history`, and answers whether the trial should stop at
///   its last reported step. A trial without a reported value is never pruned.
/// - **Incremental.** The cost of one decision does not grow with the number
///   of trials: statistics over other trials are kept between calls and take
///   in only the trials finished since the last call (read through
///   [`History::finished_order`]). A pruner given a different history (one
///   whose finished-trial log is shorter than the part it has read) starts its
///   statistics again.
/// - **Single objective, except successive halving.** The rules are defined
///   for one objective (as in Optuna); a history with several objectives is
///   an [`Error::InvalidArgument`]. [`SuccessiveHalvingPruner`] and
///   [`HyperbandPruner`] also take several objectives: they compare the
///   vectors reported at a rung by non-dominated rank ([`pareto_rank`]).
/// - **Configuration only as state.** A pruner's kept statistics are a cache
///   of the history, so a pruner is saved and rebuilt from its arguments;
///   [`Pruner::boxed_clone`] gives a pruner with the same arguments. The
///   decisions of rung-based pruners are not in the history: they leave as
///   [`RungRecord`]s ([`Pruner::take_records`]), which the study stores, and a
///   new pruner takes them back ([`Pruner::add_record`]).
/// - **Threads.** A pruner is `Send`: the binding keeps one per study behind
///   the study's mutex.
pub trait Pruner: Send {
    /// True when trial `trial` should stop now.
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool>;

    /// A new pruner with the same arguments and no kept statistics.
    fn boxed_clone(&self) -> Box<dyn Pruner>;

    /// Tells the pruner the name of its study (Hyperband assigns trials to
    /// brackets from it); the default ignores it.
    fn set_study_name(&mut self, _name: &str) {}

    /// What [`Pruner::prune`] needs before it can answer for `trial` now (the
    /// default, for rules over other trials' finished values: [`Check::Sync`]).
    fn check(&mut self, _history: &History, _trial: usize) -> Result<Check> {
        Ok(Check::Sync)
    }

    /// The rung records made by [`Pruner::prune`] since the last call, in the
    /// order they were made (`order` left 0: the study numbers them); none
    /// for pruners without rungs.
    fn take_records(&mut self) -> Vec<RungRecord> {
        Vec::new()
    }

    /// Takes in a rung record made elsewhere (another worker, a saved study):
    /// its value joins the rung and its decision is the trial's. A record the
    /// pruner already holds (same trial and rung) is ignored.
    fn add_record(&mut self, _history: &History, _record: &RungRecord) -> Result<()> {
        Ok(())
    }
}

/// What a pruner needs before it can answer for a trial (see [`Pruner::check`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// It answers from what this process holds and records nothing.
    Local,
    /// It records the trial's value at a rung it has just reached: on a
    /// storage shared by workers, decide in one serialized step that first
    /// takes in every record made before it.
    Record,
    /// It needs the other workers' finished trials first (a sync).
    Sync,
}

/// A trial's value at a rung of successive halving, with the decision taken
/// there (`promoted`: it went on; otherwise it was pruned there). `order` is
/// the record's place in the study's serialized order of records.
#[derive(Debug, Clone, PartialEq)]
pub struct RungRecord {
    /// The trial's number.
    pub trial: usize,
    /// The rung (within the trial's bracket for Hyperband).
    pub rung: usize,
    /// The trial's value at the rung, one per objective.
    pub values: Vec<f64>,
    /// Whether the trial was promoted at the rung (else pruned there).
    pub promoted: bool,
    /// Place in the study's order of records.
    pub order: u64,
}

/// True when objective 0 is maximised; an error for a study with several
/// objectives.
pub(crate) fn maximize_single(history: &History) -> Result<bool> {
    if history.n_objectives() != 1 {
        return Err(Error::InvalidArgument(
            "this pruner is defined for single-objective studies only; \
             SuccessiveHalvingPruner and HyperbandPruner also prune studies with \
             several objectives"
                .into(),
        ));
    }
    Ok(history.maximize()[0])
}

/// Optuna's pruning interval: with `n_warmup_steps` warm-up steps and checks
/// every `interval_steps` after them, true when `step` (the trial's last step)
/// is the first reported step at or after the latest check point at or before
/// it, i.e. no other reported step lies between that check point and `step`.
pub(crate) fn first_in_interval(
    step: i64,
    steps: impl Iterator<Item = i64>,
    n_warmup_steps: i64,
    interval_steps: i64,
) -> bool {
    let check_point =
        (step - n_warmup_steps).div_euclid(interval_steps) * interval_steps + n_warmup_steps;
    let previous = steps.filter(|s| *s != step).max().unwrap_or(-1);
    previous < check_point
}

/// Checks an argument that must be at least `min`.
pub(crate) fn at_least(name: &str, value: i64, min: i64) -> Result<()> {
    if value < min {
        return Err(Error::InvalidArgument(format!(
            "{name} must be at least {min}, got {value}"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_follows_the_check_points() {
        // Warm-up 2, every 3 steps: check points 2, 5, 8, ...
        assert!(first_in_interval(2, [0, 1, 2].into_iter(), 2, 3));
        assert!(!first_in_interval(3, [0, 1, 2, 3].into_iter(), 2, 3));
        assert!(first_in_interval(5, [0, 1, 2, 3, 4, 5].into_iter(), 2, 3));
        // A check point without a report is postponed to the next report.
        assert!(first_in_interval(7, [0, 4, 7].into_iter(), 2, 3));
        assert!(!first_in_interval(7, [0, 6, 7].into_iter(), 2, 3));
        // The first report is always first in its interval.
        assert!(first_in_interval(0, [0].into_iter(), 0, 1));
    }
}

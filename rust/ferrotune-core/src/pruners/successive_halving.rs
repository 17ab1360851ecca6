//! Asynchronous successive halving (ASHA: Li, Jamieson, Rostamizadeh, Gonina,
//! Ben-tzur, Hardt, Recht and Talwalkar, "A System for Massively Parallel
//! Hyperparameter Tuning", MLSys 2020, Algorithm 2), with Optuna's
//! `SuccessiveHalvingPruner` arguments and promotion rule.
//!
//! Rung `k` is reached at step `r * eta^(s + k)` (`r` the minimum resource,
//! `eta` the reduction factor, `s` the minimum early-stopping rate). A trial
//! that reaches a rung records its value there and is promoted when it ranks
//! in the top `1/eta` of the values recorded at that rung so far (by all
//! trials, whatever their state); otherwise it is pruned. With fewer than
//! `eta` values at the rung, only the best so far is promoted (Optuna's rule:
//! trials cannot be paused and resumed).
//!
//! With several objectives, a trial records the vector it reported and is
//! promoted by non-dominated rank among the rung's vectors (MO-ASHA; see
//! [`super::pareto_rank`]).
//!
//! Each decision is a [`RungRecord`] (value and decision), handed to the
//! study ([`Pruner::take_records`]) so that a storage shared by workers can
//! store it; records made elsewhere join the rungs through
//! [`Pruner::add_record`]. A trial's decision at a rung is final: asked again,
//! a pruned trial stays pruned.

use std::collections::{HashMap, HashSet};

use super::pareto_rank::VectorRungs;
use super::{at_least, Check, Pruner, RungRecord};
use crate::error::{Error, Result};
use crate::history::{sort_key, History, TrialState};

/// Arguments of [`SuccessiveHalvingPruner`], with Optuna's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HalvingConfig {
    /// Steps before the first rung; None estimates it (Optuna's "auto") as
    /// the largest last step of the COMPLETE trials divided by 100 (at least
    /// 1), once the first COMPLETE trial with a reported value exists.
    pub min_resource: Option<i64>,
    /// `eta` (default 4).
    pub reduction_factor: i64,
    /// `s` (default 0).
    pub min_early_stopping_rate: i64,
    /// A trial is pruned at a rung while at most this many values are
    /// recorded there, its own included (default 0).
    pub bootstrap_count: i64,
}

impl Default for HalvingConfig {
    fn default() -> Self {
        HalvingConfig {
            min_resource: None,
            reduction_factor: 4,
            min_early_stopping_rate: 0,
            bootstrap_count: 0,
        }
    }
}

/// The rung bookkeeping of asynchronous successive halving: per rung, the
/// recorded values in order (a promotion check is a binary search and one
/// insertion); per trial, the number of rungs it has completed.
#[derive(Debug, Clone, PartialEq)]
pub struct SuccessiveHalvingPruner {
    config: HalvingConfig,
    /// Fixed once known (given, or estimated on the first check that can).
    min_resource: Option<i64>,
    /// Largest last step of the COMPLETE trials read so far, for "auto".
    max_complete_step: Option<i64>,
    cursor: usize,
    /// Per rung, the sort keys of the values recorded there, ascending.
    rungs: Vec<Vec<u64>>,
    /// Per trial, the number of rungs it has completed.
    completed: HashMap<usize, usize>,
    /// Per rung, the vectors recorded there (studies with several objectives).
    vectors: VectorRungs,
    /// Trials pruned at a rung (the decision is final).
    pruned: HashSet<usize>,
    /// Records made by `prune` and not yet taken.
    new_records: Vec<RungRecord>,
}

impl SuccessiveHalvingPruner {
    /// Checks the arguments (each error names its parameter).
    pub fn new(config: HalvingConfig) -> Result<Self> {
        if let Some(r) = config.min_resource {
            at_least("min_resource", r, 1)?;
        }
        at_least("reduction_factor", config.reduction_factor, 2)?;
        at_least("min_early_stopping_rate", config.min_early_stopping_rate, 0)?;
        at_least("bootstrap_count", config.bootstrap_count, 0)?;
        if config.bootstrap_count > 0 && config.min_resource.is_none() {
            return Err(Error::InvalidArgument(
                "bootstrap_count > 0 needs an explicit min_resource, not \"auto\"".into(),
            ));
        }
        Ok(SuccessiveHalvingPruner {
            config,
            min_resource: config.min_resource,
            max_complete_step: None,
            cursor: 0,
            rungs: Vec::new(),
            completed: HashMap::new(),
            vectors: VectorRungs::default(),
            pruned: HashSet::new(),
            new_records: Vec::new(),
        })
    }

    /// The minimum resource, estimating it from the COMPLETE trials finished
    /// since the last call when it is "auto" and not yet known.
    fn min_resource(&mut self, history: &History) -> Option<i64> {
        if self.min_resource.is_none() {
            let order = history.finished_order();
            for &n in &order[self.cursor.min(order.len())..] {
                let t = &history.trials()[n as usize];
                if t.state == TrialState::Complete {
                    if let Some((s, _)) = t.last_intermediate() {
                        self.max_complete_step = self.max_complete_step.max(Some(s));
                    }
                }
            }
            self.cursor = order.len();
            self.min_resource = self.max_complete_step.map(|s| (s / 100).max(1));
        }
        self.min_resource
    }

    /// The step at which `rung` is reached; None past `i64`.
    fn rung_step(&self, min_resource: i64, rung: usize) -> Option<i64> {
        let e = u32::try_from(self.config.min_early_stopping_rate as u64 + rung as u64).ok()?;
        self.config
            .reduction_factor
            .checked_pow(e)?
            .checked_mul(min_resource)
    }

    /// Records `value` at `rung` and tells whether it is promoted.
    fn record(&mut self, rung: usize, value: f64, maximize: bool) -> bool {
        if self.rungs.len() <= rung {
            self.rungs.resize(rung + 1, Vec::new());
        }
        let values = &mut self.rungs[rung];
        let k = sort_key(value);
        let pos = values.partition_point(|x| *x < k);
        values.insert(pos, k);
        let n = values.len();
        if n as i64 <= self.config.bootstrap_count {
            return false;
        }
        let idx = (n / self.config.reduction_factor as usize).saturating_sub(1);
        if maximize {
            k >= values[n - 1 - idx]
        } else {
            k <= values[idx]
        }
    }

    /// The values recorded at each rung, ascending (for tests and inspection).
    pub fn rung_values(&self) -> Vec<Vec<f64>> {
        self.rungs
            .iter()
            .map(|r| r.iter().map(|k| super::step_stats::from_key(*k)).collect())
            .collect()
    }
}

impl Pruner for SuccessiveHalvingPruner {
    fn prune(&mut self, history: &History, trial: usize) -> Result<bool> {
        let maximize = history.maximize();
        let Some((step, value)) = history.trial(trial)?.last_intermediate() else {
            return Ok(false);
        };
        if self.pruned.contains(&trial) {
            return Ok(true);
        }
        // Several objectives: the whole vector reported at `step`.
        let vector = match maximize.len() {
            1 => None,
            _ => history.intermediate_vector(trial, step)?,
        };
        let Some(r) = self.min_resource(history) else {
            return Ok(false);
        };
        let mut rung = self.completed.get(&trial).copied().unwrap_or(0);
        loop {
            match self.rung_step(r, rung) {
                Some(at) if step >= at => {}
                _ => return Ok(false),
            }
            if value.is_nan() || vector.iter().flatten().any(|v| v.is_nan()) {
                return Ok(true);
            }
            self.completed.insert(trial, rung + 1);
            let c = &self.config;
            let promoted = match &vector {
                None => self.record(rung, value, maximize[0]),
                Some(v) => {
                    self.vectors
                        .record(rung, v, maximize, c.reduction_factor, c.bootstrap_count)
                }
            };
            self.new_records.push(RungRecord {
                trial,
                rung,
                values: vector.clone().unwrap_or_else(|| vec![value]),
                promoted,
                order: 0,
            });
            if !promoted {
                self.pruned.insert(trial);
                return Ok(true);
            }
            rung += 1;
        }
    }

    fn check(&mut self, history: &History, trial: usize) -> Result<Check> {
        let Some((step, value)) = history.trial(trial)?.last_intermediate() else {
            return Ok(Check::Local);
        };
        if self.pruned.contains(&trial) || value.is_nan() {
            return Ok(Check::Local);
        }
        let Some(r) = self.min_resource(history) else {
            return Ok(Check::Sync);
        };
        let rung = self.completed.get(&trial).copied().unwrap_or(0);
        Ok(match self.rung_step(r, rung) {
            Some(at) if step >= at => Check::Record,
            _ => Check::Local,
        })
    }

    fn take_records(&mut self) -> Vec<RungRecord> {
        std::mem::take(&mut self.new_records)
    }

    fn add_record(&mut self, history: &History, record: &RungRecord) -> Result<()> {
        let done = self.completed.entry(record.trial).or_insert(0);
        if record.rung < *done {
            return Ok(());
        }
        *done = record.rung + 1;
        let Some(&value) = record.values.first() else {
            return Ok(());
        };
        // The decision is the record's; `record` only inserts the value here.
        let maximize = history.maximize();
        if record.values.len() > 1 && record.values.len() == maximize.len() {
            let c = &self.config;
            self.vectors.record(
                record.rung,
                &record.values,
                maximize,
                c.reduction_factor,
                c.bootstrap_count,
            );
        } else {
            self.record(
                record.rung,
                value,
                maximize.first().copied().unwrap_or(false),
            );
        }
        if !record.promoted {
            self.pruned.insert(record.trial);
        }
        Ok(())
    }

    fn boxed_clone(&self) -> Box<dyn Pruner> {
        Box::new(SuccessiveHalvingPruner::new(self.config).expect("checked arguments"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Trials reporting value `v` at steps 1..=max_step, checked after each
    /// report (and stopped when pruned); returns (last step, pruned) each.
    fn run(p: &mut SuccessiveHalvingPruner, h: &mut History, v: f64, max_step: i64) -> (i64, bool) {
        let t = h.create_trial(TrialState::Running);
        for s in 1..=max_step {
            h.report(t, s, v).unwrap();
            if p.prune(h, t).unwrap() {
                h.finish(t, TrialState::Pruned, vec![]).unwrap();
                return (s, true);
            }
        }
        h.finish(t, TrialState::Complete, vec![v]).unwrap();
        (max_step, false)
    }

    #[test]
    fn hand_computed_schedule() {
        // r = 1, eta = 2, s = 0: rungs at steps 1, 2, 4, 8.
        let c = HalvingConfig {
            min_resource: Some(1),
            reduction_factor: 2,
            ..Default::default()
        };
        let mut p = SuccessiveHalvingPruner::new(c).unwrap();
        let mut h = History::new(1);
        // First trial: alone at every rung, always the best: runs to the end.
        assert_eq!(run(&mut p, &mut h, 5.0, 10), (10, false));
        // 3.0 beats 5.0 at each rung: promoted everywhere.
        assert_eq!(run(&mut p, &mut h, 3.0, 10), (10, false));
        // 4.0: rung 0 holds {3, 4, 5}: top half is index 3/2-1 = 0 -> 3.0 only: pruned at 1.
        assert_eq!(run(&mut p, &mut h, 4.0, 10), (1, true));
        // 1.0: best at each rung.
        assert_eq!(run(&mut p, &mut h, 1.0, 10), (10, false));
        // 2.0: rung 0 {1,2,3,4,5}: idx 5/2-1 = 1 -> 2.0 kept; rung 1 {1,2,3,5}: idx 1 -> 2.0
        // kept; rung 2 {1,2,3,5}: kept; rung 3 {1,2,3,5}: kept.
        assert_eq!(run(&mut p, &mut h, 2.0, 10), (10, false));
        // 2.5: rung 0 {1,2,2.5,3,4,5}: idx 2 -> 2.5 kept; rung 1 {1,2,2.5,3,5}: idx 1 -> 2.0:
        // pruned at step 2.
        assert_eq!(run(&mut p, &mut h, 2.5, 10), (2, true));
        let rungs = p.rung_values();
        assert_eq!(rungs[0], [1.0, 2.0, 2.5, 3.0, 4.0, 5.0]);
        assert_eq!(rungs[1], [1.0, 2.0, 2.5, 3.0, 5.0]);
        assert_eq!(rungs[3], [1.0, 2.0, 3.0, 5.0]);
    }

    #[test]
    fn auto_resource_bootstrap_and_early_stopping_rate() {
        // "auto": nothing before a COMPLETE trial; then last step 300 // 100 = 3.
        let mut p = SuccessiveHalvingPruner::new(HalvingConfig::default()).unwrap();
        let mut h = History::new(1);
        let t = h.create_trial(TrialState::Running);
        h.report(t, 50, 9.0).unwrap();
        assert!(!p.prune(&h, t).unwrap());
        assert_eq!(p.min_resource, None);
        h.finish(t, TrialState::Fail, vec![]).unwrap();
        let t = h.create_trial(TrialState::Running);
        h.report(t, 300, 1.0).unwrap();
        h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
        let t = h.create_trial(TrialState::Running);
        h.report(t, 2, 9.0).unwrap();
        assert!(!p.prune(&h, t).unwrap());
        assert_eq!(p.min_resource, Some(3));
        // s = 1, eta = 3, r = 2: first rung at step 6; bootstrap 2 prunes the first two there.
        let c = HalvingConfig {
            min_resource: Some(2),
            reduction_factor: 3,
            min_early_stopping_rate: 1,
            bootstrap_count: 2,
        };
        let mut p = SuccessiveHalvingPruner::new(c).unwrap();
        let mut h = History::new(1);
        assert_eq!(run(&mut p, &mut h, 1.0, 20), (6, true));
        assert_eq!(run(&mut p, &mut h, 1.0, 20), (6, true));
        assert_eq!(run(&mut p, &mut h, 0.5, 20), (18, true)); // rung 1 at 18: bootstrap again
                                                              // NaN at a rung prunes; maximising keeps the largest.
        let c = HalvingConfig {
            min_resource: Some(1),
            reduction_factor: 2,
            ..Default::default()
        };
        let mut p = SuccessiveHalvingPruner::new(c).unwrap();
        let mut h = History::new(1);
        assert_eq!(run(&mut p, &mut h, f64::NAN, 5), (1, true));
        let mut h = History::with_directions(vec![true]);
        let mut p = SuccessiveHalvingPruner::new(c).unwrap();
        assert_eq!(run(&mut p, &mut h, 1.0, 4), (4, false));
        assert_eq!(run(&mut p, &mut h, 0.5, 4), (1, true));
        assert_eq!(run(&mut p, &mut h, 2.0, 4), (4, false));
    }

    #[test]
    fn records_replayed_into_a_new_pruner_give_the_same_rungs_and_decisions() {
        let c = HalvingConfig {
            min_resource: Some(1),
            reduction_factor: 2,
            ..Default::default()
        };
        let mut p = SuccessiveHalvingPruner::new(c).unwrap();
        let mut h = History::new(1);
        let mut records = Vec::new();
        for v in [5.0, 3.0, 4.0, 1.0, 2.0, 2.5] {
            run(&mut p, &mut h, v, 10);
            records.extend(p.take_records());
        }
        // One record per rung reached; a pruned trial's last record says so.
        let of = |t: usize| -> Vec<bool> {
            let rs = records.iter().filter(|r| r.trial == t);
            rs.map(|r| r.promoted).collect()
        };
        assert_eq!(of(0), [true; 4]);
        assert_eq!(of(2), [false]);
        assert_eq!(of(5), [true, false]);
        let mut q = SuccessiveHalvingPruner::new(c).unwrap();
        for r in records.iter().chain(records.iter()) {
            q.add_record(&h, r).unwrap(); // a record taken twice counts once
        }
        assert_eq!(q.rung_values(), p.rung_values());
        assert!(q.take_records().is_empty());
        // The replayed pruner holds the decisions: trial 2 stays pruned, and a new
        // trial meets the same rungs in both.
        assert!(q.prune(&h, 2).unwrap());
        let mut h2 = h.clone();
        assert_eq!(run(&mut p, &mut h, 1.5, 10), run(&mut q, &mut h2, 1.5, 10));
    }

    #[test]
    fn check_says_when_a_rung_is_reached() {
        let mut p = SuccessiveHalvingPruner::new(HalvingConfig {
            reduction_factor: 2,
            ..Default::default()
        })
        .unwrap();
        let mut h = History::new(1);
        let t = h.create_trial(TrialState::Running);
        assert_eq!(p.check(&h, t).unwrap(), Check::Local); // nothing reported
        h.report(t, 1, 1.0).unwrap();
        assert_eq!(p.check(&h, t).unwrap(), Check::Sync); // "auto": no COMPLETE trial
        let done = h.create_trial(TrialState::Running);
        h.report(done, 100, 1.0).unwrap();
        h.finish(done, TrialState::Complete, vec![1.0]).unwrap();
        // min_resource 1: rungs at 1, 2, 4.
        assert_eq!(p.check(&h, t).unwrap(), Check::Record);
        assert!(!p.prune(&h, t).unwrap());
        assert_eq!(p.check(&h, t).unwrap(), Check::Local); // rung 0 done, rung 1 at 2
        h.report(t, 3, 1.0).unwrap();
        assert_eq!(p.check(&h, t).unwrap(), Check::Record);
        let u = h.create_trial(TrialState::Running);
        h.report(u, 1, 9.0).unwrap();
        assert!(p.prune(&h, u).unwrap());
        // A pruned trial stays pruned, whatever it reports next.
        h.report(u, 2, 0.0).unwrap();
        assert_eq!(p.check(&h, u).unwrap(), Check::Local);
        assert!(p.prune(&h, u).unwrap());
        assert_eq!(p.take_records().len(), 2);
    }

    #[test]
    fn arguments_are_checked() {
        let bad = |c: HalvingConfig| SuccessiveHalvingPruner::new(c).unwrap_err().to_string();
        let d = HalvingConfig::default();
        assert!(bad(HalvingConfig {
            min_resource: Some(0),
            ..d
        })
        .contains("min_resource"));
        assert!(bad(HalvingConfig {
            reduction_factor: 1,
            ..d
        })
        .contains("reduction_factor"));
        assert!(bad(HalvingConfig {
            min_early_stopping_rate: -1,
            ..d
        })
        .contains("min_early_stopping_rate"));
        assert!(bad(HalvingConfig {
            bootstrap_count: 1,
            ..d
        })
        .contains("bootstrap_count"));
    }
}

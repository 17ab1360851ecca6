//! The trial records of one study, owned by Rust so that samplers read them as
//! flat f64 columns that grow by one entry per trial (no rebuild on each ask).

use std::cell::{Ref, RefCell};
use std::collections::{BTreeSet, HashMap};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};
use crate::space::Distribution;

/// Life cycle of a trial, numbered as in Optuna.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TrialState {
    Running = 0,
    Complete = 1,
    Pruned = 2,
    Fail = 3,
    Waiting = 4,
}

impl TrialState {
    /// From Optuna's numbering.
    pub fn from_u8(v: u8) -> Result<Self> {
        Ok(match v {
            0 => TrialState::Running,
            1 => TrialState::Complete,
            2 => TrialState::Pruned,
            3 => TrialState::Fail,
            4 => TrialState::Waiting,
            _ => return Err(Error::InvalidArgument(format!("unknown trial state {v}"))),
        })
    }

    /// The name Python's `TrialState` gives it ("COMPLETE", ...), for messages.
    pub fn name(self) -> &'static str {
        match self {
            TrialState::Running => "RUNNING",
            TrialState::Complete => "COMPLETE",
            TrialState::Pruned => "PRUNED",
            TrialState::Fail => "FAIL",
            TrialState::Waiting => "WAITING",
        }
    }

    /// True for COMPLETE, PRUNED and FAIL.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            TrialState::Complete | TrialState::Pruned | TrialState::Fail
        )
    }
}

/// One parameter value of a trial.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParamValue {
    /// Index of the parameter in the study.
    pub param: u32,
    /// Index of the distribution among those the parameter has had.
    pub dist: u32,
    /// Internal representation.
    pub value: f64,
}

/// One trial.
#[derive(Debug, Clone, PartialEq)]
pub struct TrialRecord {
    pub state: TrialState,
    pub values: Vec<f64>,
    pub params: Vec<ParamValue>,
    pub intermediate: Vec<(i64, f64)>,
    /// For a study with several objectives: (step, values of objectives 1,
    /// 2, ...) of each step reported as a vector, in the order reported.
    /// Objective 0 of that step is in `intermediate`, so single-objective
    /// readers see the same column whatever the number of objectives; empty
    /// for a single-objective study.
    pub intermediate_rest: Vec<(i64, Vec<f64>)>,
    /// Unix seconds; NaN when not started / not finished.
    pub started: f64,
    pub completed: f64,
    /// Black-box constraint values (<= 0 is feasible), set while running.
    pub constraints: Vec<f64>,
    /// The sampler's tag: numbers a sampler attaches to a trial it proposes
    /// (a population method's generation and place in it; see
    /// [`crate::samplers::Sampler::take_tag`]). Stored with the trial in
    /// every storage, so each worker's sampler reads the tags of all trials.
    /// Empty when the sampler set none.
    pub tag: Vec<f64>,
}

impl TrialRecord {
    /// Sum of the positive constraint values (0 for a feasible trial).
    pub fn violation(&self) -> f64 {
        self.constraints.iter().filter(|c| **c > 0.0).sum()
    }

    /// (step, value) of the last reported intermediate value.
    pub fn last_intermediate(&self) -> Option<(i64, f64)> {
        self.intermediate.iter().copied().max_by_key(|s| s.0)
    }
}

/// Why `values` cannot be the values of a COMPLETE trial of a study with
/// `n_objectives` objectives (one finite or infinite number per objective; NaN
/// is not a value), or None when they can.
pub fn invalid_complete_values(n_objectives: usize, values: &[f64]) -> Option<String> {
    if values.len() != n_objectives {
        return Some(format!(
            "{} value(s) for a study with {n_objectives} objective(s)",
            values.len()
        ));
    }
    if values.iter().any(|v| v.is_nan()) {
        return Some(format!("a NaN value in {values:?}"));
    }
    None
}

/// The most trial numbers a remote record may skip ahead of the trials this
/// history knows (each skipped number becomes a RUNNING placeholder); a record
/// beyond it is garbage, refused instead of allocating without bound.
pub const MAX_REMOTE_GAP: usize = 1 << 20;

/// A trial as read from a shared storage, for [`History::apply_remote_batch`].
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteTrial {
    pub number: usize,
    pub state: TrialState,
    pub values: Vec<f64>,
    /// (name, distribution, internal value), in the order to record them.
    pub params: Vec<(String, Distribution, f64)>,
    pub intermediate: Vec<(i64, f64)>,
    /// (step, values of objectives 1, 2, ...): see [`TrialRecord::intermediate_rest`].
    pub intermediate_rest: Vec<(i64, Vec<f64>)>,
    pub constraints: Vec<f64>,
    /// Unix seconds; NaN when not started / not finished.
    pub started: f64,
    pub completed: f64,
}

/// A study-wide parameter: the distributions it has had and a column of its
/// internal values over all trials (NaN where a trial lacks it).
#[derive(Debug, Clone, PartialEq)]
pub struct ParamColumn {
    pub name: String,
    pub dists: Vec<Distribution>,
    pub values: Vec<f64>,
    /// (sort key of the value, trial) for every recorded value, ascending, as
    /// of the last [`ParamColumn::sorted`] call; newer entries wait in `tail`.
    /// Samplers that need the order (TPE) merge the tail when they read it;
    /// others never pay for it.
    sorted: RefCell<Vec<(u64, u32)>>,
    tail: RefCell<Vec<(u64, u32)>>,
}

impl ParamColumn {
    /// (sort key, trial) of every recorded value, ascending. Merges entries
    /// recorded since the last call: a few by insertion, many by a merge.
    pub fn sorted(&self) -> Ref<'_, Vec<(u64, u32)>> {
        let mut tail = self.tail.borrow_mut();
        if !tail.is_empty() && tail.len() * 32 < self.sorted.borrow().len() {
            // A few new entries (one per ask, typically): insert them in place.
            let mut sorted = self.sorted.borrow_mut();
            for &e in tail.iter() {
                let pos = sorted.partition_point(|x| *x < e);
                sorted.insert(pos, e);
            }
            tail.clear();
        } else if !tail.is_empty() {
            tail.sort_unstable();
            let mut sorted = self.sorted.borrow_mut();
            let old = std::mem::take(&mut *sorted);
            let mut merged = Vec::with_capacity(old.len() + tail.len());
            let (mut i, mut j) = (0, 0);
            while i < old.len() || j < tail.len() {
                if j == tail.len() || (i < old.len() && old[i] <= tail[j]) {
                    merged.push(old[i]);
                    i += 1;
                } else {
                    merged.push(tail[j]);
                    j += 1;
                }
            }
            *sorted = merged;
            tail.clear();
        }
        drop(tail);
        self.sorted.borrow()
    }
}

/// An integer key that orders like the float (IEEE total order).
#[inline]
pub fn sort_key(f: f64) -> u64 {
    let b = f.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// An identity of a [`History`] (its copies share it), for samplers that keep
/// caches indexed by its parameters: a sampler object reused for another study
/// sees another identity and drops them. Not part of a history's value: two
/// histories holding the same trials compare equal whatever their identities.
#[derive(Debug, Clone, Copy, Default)]
pub struct HistoryId(u64);

impl PartialEq for HistoryId {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl HistoryId {
    fn fresh() -> Self {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        HistoryId(NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed))
    }
}

/// All trials of a study.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct History {
    id: HistoryId,
    params: Vec<ParamColumn>,
    by_name: HashMap<String, u32>,
    trials: Vec<TrialRecord>,
    n_objectives: usize,
    /// Per objective, true when it is maximised.
    maximize: Vec<bool>,
    /// Values a joint sampler chose for a running trial before the objective
    /// asked for them: (param, dist, value). Gone when the trial finishes.
    pending: HashMap<usize, Vec<(u32, u32, f64)>>,
    /// Optuna's intersection search space over COMPLETE trials, kept up to date.
    intersection: Option<Vec<(u32, u32)>>,
    /// Group decomposition of the COMPLETE trials' spaces (Optuna's `group=True`).
    groups: Vec<Vec<(u32, u32)>>,
    n_complete_or_pruned: usize,
    any_constraints: bool,
    /// Numbers of the WAITING trials: `first_waiting` is O(log n), not a scan of
    /// every trial at each ask.
    waiting: BTreeSet<usize>,
    /// Numbers of the finished trials in the order they finished, so that a
    /// pruner's kept statistics take in new trials only.
    finished: Vec<u32>,
    /// True once a trial came from another copy of the study
    /// ([`History::apply_remote`]): see [`History::is_mirror`].
    mirror: bool,
    /// Names of parameters the study holds fixed for every trial (a partially
    /// fixed sampler): left out of the intersection space and its groups, so
    /// joint samplers model the free parameters only, as Optuna's
    /// `PartialFixedSampler` removes them from the relative search space.
    held: Vec<String>,
    /// While a declared space is sampled with fixed values (enqueued, grid
    /// points, partially fixed): the fixed internal value of each of the
    /// space's parameters (None = free), for samplers that leave them out of
    /// their model (see [`History::space_fixed`]).
    space_fixed: Option<Vec<Option<f64>>>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(f64::NAN)
}

impl History {
    /// An empty history for a study with `n_objectives` objectives, all minimised.
    pub fn new(n_objectives: usize) -> Self {
        Self::with_directions(vec![false; n_objectives.max(1)])
    }

    /// An empty history; `maximize[k]` tells whether objective k is maximised.
    pub fn with_directions(maximize: Vec<bool>) -> Self {
        let maximize = if maximize.is_empty() {
            vec![false]
        } else {
            maximize
        };
        History {
            id: HistoryId::fresh(),
            n_objectives: maximize.len(),
            maximize,
            ..Default::default()
        }
    }

    /// This history's identity (module [`HistoryId`]): the same for its copies,
    /// another for every history made with [`History::new`] or
    /// [`History::with_directions`].
    pub fn id(&self) -> u64 {
        self.id.0
    }

    /// Per objective, whether it is maximised.
    pub fn maximize(&self) -> &[bool] {
        &self.maximize
    }

    /// True when this history mirrors a shared storage (a trial has come
    /// through [`History::apply_remote`]): other copies, each read by its own
    /// sampler, may lag behind it. False for the only copy of a study (the
    /// in-memory storage), where every proposal reads this history as it is,
    /// so a running trial without a tag is one whose proposal is still to come
    /// from a sampler that reads what this one reads now, or more.
    pub fn is_mirror(&self) -> bool {
        self.mirror
    }

    /// Number of COMPLETE or PRUNED trials.
    pub fn n_complete_or_pruned(&self) -> usize {
        self.n_complete_or_pruned
    }

    /// Numbers of the finished trials (COMPLETE, PRUNED or FAIL) in the order
    /// they finished: grows by one entry per finished trial and never changes
    /// otherwise, so a reader that remembers its length reads new trials only.
    pub fn finished_order(&self) -> &[u32] {
        &self.finished
    }

    /// True once any trial has reported black-box constraint values.
    pub fn has_constraints(&self) -> bool {
        self.any_constraints
    }

    /// Internal value of parameter `param` in trial `t`: recorded, or pending
    /// from a joint sampler while the trial runs.
    #[inline]
    pub fn value(&self, param: u32, t: usize) -> Option<f64> {
        if let Some(v) = self.params[param as usize].values.get(t) {
            if !v.is_nan() {
                return Some(*v);
            }
        }
        self.pending
            .get(&t)
            .and_then(|p| p.iter().find(|e| e.0 == param).map(|e| e.2))
    }

    /// Stores values a joint sampler chose for running trial `number`.
    pub fn set_pending(&mut self, number: usize, values: Vec<(u32, u32, f64)>) {
        if values.is_empty() {
            self.pending.remove(&number);
        } else {
            self.pending.insert(number, values);
        }
    }

    /// The pending value for `param` in trial `number` when `dist` contains it.
    pub fn pending_value(&self, number: usize, param: u32, dist: &Distribution) -> Option<f64> {
        self.pending
            .get(&number)?
            .iter()
            .find(|e| e.0 == param)
            .map(|e| e.2)
            .filter(|v| dist.contains(*v))
    }

    /// Distribution `dist` of parameter `param`.
    pub fn dist(&self, param: u32, dist: u32) -> &Distribution {
        &self.params[param as usize].dists[dist as usize]
    }

    /// Records black-box constraint values for a running trial.
    pub fn set_constraints(&mut self, number: usize, values: Vec<f64>) -> Result<()> {
        if values.iter().any(|v| v.is_nan()) {
            return Err(Error::InvalidArgument(
                "constraint values must not be NaN".into(),
            ));
        }
        let t = self.running_mut(number)?;
        t.constraints = values;
        self.any_constraints = true;
        Ok(())
    }

    /// Sets the sampler's tag of trial `number` (any state: a worker learns
    /// the tags of other workers' trials when it syncs). Setting it again
    /// replaces it; a NaN or infinite number is refused.
    pub fn set_tag(&mut self, number: usize, tag: Vec<f64>) -> Result<()> {
        if let Some(v) = tag.iter().find(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!(
                "a sampler's tag holds finite numbers, got {v}"
            )));
        }
        let n = self.trials.len();
        let t = self.trials.get_mut(number).ok_or_else(|| {
            Error::InvalidArgument(format!("trial {number} does not exist ({n} trials)"))
        })?;
        t.tag = tag;
        Ok(())
    }

    /// The sampler's tag of trial `number`; empty when none was set or the
    /// trial does not exist.
    pub fn tag(&self, number: usize) -> &[f64] {
        self.trials.get(number).map_or(&[], |t| t.tag.as_slice())
    }

    /// The group decomposition of the COMPLETE trials' search spaces, without
    /// the held parameters (see [`History::set_held`]).
    pub fn groups(&self) -> Vec<Vec<(u32, u32)>> {
        if self.held.is_empty() {
            return self.groups.clone();
        }
        self.groups
            .iter()
            .map(|g| {
                g.iter()
                    .copied()
                    .filter(|&(p, _)| !self.is_held(p))
                    .collect::<Vec<_>>()
            })
            .filter(|g| !g.is_empty())
            .collect()
    }

    /// Names of parameters the study holds fixed for every trial: the
    /// intersection space and its groups leave them out from now on.
    pub fn set_held(&mut self, names: Vec<String>) {
        self.held = names;
    }

    /// Whether parameter `p` is held fixed (see [`History::set_held`]).
    pub fn is_held(&self, p: u32) -> bool {
        !self.held.is_empty()
            && self
                .params
                .get(p as usize)
                .is_some_and(|c| self.holds(&c.name))
    }

    /// Whether the parameter named `name` is held fixed (see [`History::set_held`]).
    pub fn holds(&self, name: &str) -> bool {
        self.held.iter().any(|n| n == name)
    }

    /// Sets (or, with None, clears) the fixed values of the declared space
    /// being sampled: one entry per parameter of that space, None = free.
    pub fn set_space_fixed(&mut self, fixed: Option<Vec<Option<f64>>>) {
        self.space_fixed = fixed;
    }

    /// The fixed values of the declared space being sampled now, when some
    /// are fixed: a sampler's `sample_space` may leave those parameters out
    /// of its model (they take these values whatever it proposes).
    pub fn space_fixed(&self) -> Option<&[Option<f64>]> {
        self.space_fixed.as_deref()
    }

    /// Number of objectives.
    pub fn n_objectives(&self) -> usize {
        self.n_objectives
    }

    /// All trials, by number.
    pub fn trials(&self) -> &[TrialRecord] {
        &self.trials
    }

    /// The study's parameters.
    pub fn params(&self) -> &[ParamColumn] {
        &self.params
    }

    /// Index of a parameter by name.
    pub fn param_index(&self, name: &str) -> Option<u32> {
        self.by_name.get(name).copied()
    }

    /// One trial, or an error naming the number.
    pub fn trial(&self, number: usize) -> Result<&TrialRecord> {
        self.trials
            .get(number)
            .ok_or_else(|| Error::InvalidTrial(format!("no trial with number {number}")))
    }

    fn running_mut(&mut self, number: usize) -> Result<&mut TrialRecord> {
        let t = self
            .trials
            .get_mut(number)
            .ok_or_else(|| Error::InvalidTrial(format!("no trial with number {number}")))?;
        if t.state.is_finished() {
            return Err(Error::UpdateFinishedTrial(format!(
                "trial {number} has already finished ({}): it cannot be changed",
                t.state.name()
            )));
        }
        if t.state != TrialState::Running {
            return Err(Error::InvalidTrial(format!(
                "trial {number} is {}, not RUNNING: it cannot be changed",
                t.state.name()
            )));
        }
        Ok(t)
    }

    /// Adds a trial in `state` (RUNNING or WAITING) and returns its number.
    pub fn create_trial(&mut self, state: TrialState) -> usize {
        let started = if state == TrialState::Running {
            now()
        } else {
            f64::NAN
        };
        self.push_trial(state, started)
    }

    fn push_trial(&mut self, state: TrialState, started: f64) -> usize {
        if state == TrialState::Waiting {
            self.waiting.insert(self.trials.len());
        }
        self.trials.push(TrialRecord {
            state,
            values: Vec::new(),
            params: Vec::new(),
            intermediate: Vec::new(),
            intermediate_rest: Vec::new(),
            started,
            completed: f64::NAN,
            constraints: Vec::new(),
            tag: Vec::new(),
        });
        self.trials.len() - 1
    }

    /// Moves a WAITING trial to RUNNING; false when it was not WAITING.
    pub fn start_waiting(&mut self, number: usize) -> bool {
        match self.trials.get_mut(number) {
            Some(t) if t.state == TrialState::Waiting => {
                t.state = TrialState::Running;
                t.started = now();
                self.waiting.remove(&number);
                true
            }
            _ => false,
        }
    }

    /// The first WAITING trial, if any.
    pub fn first_waiting(&self) -> Option<usize> {
        self.waiting.first().copied()
    }

    /// The error [`History::intern`] would give for `dist` under `name`, without
    /// registering anything (callers that check a whole trial before writing).
    pub fn check_dist(&self, name: &str, dist: &Distribution) -> Result<()> {
        let last = self
            .by_name
            .get(name)
            .and_then(|&p| self.params[p as usize].dists.last());
        match last {
            Some(last) if !last.same_kind(dist) => Err(other_kind(name, last, dist)),
            _ => Ok(()),
        }
    }

    /// Registers `dist` for parameter `name`, returning (param, dist) indices.
    /// A parameter keeps its kind for the whole study (ranges may change
    /// between trials, as in Optuna).
    pub fn intern(&mut self, name: &str, dist: &Distribution) -> Result<(u32, u32)> {
        if let Some(&p) = self.by_name.get(name) {
            let col = &mut self.params[p as usize];
            if let Some(last) = col.dists.last() {
                if last == dist {
                    return Ok((p, col.dists.len() as u32 - 1));
                }
                if !last.same_kind(dist) {
                    return Err(other_kind(name, last, dist));
                }
            }
            if let Some(i) = col.dists.iter().position(|d| d == dist) {
                return Ok((p, i as u32));
            }
            col.dists.push(dist.clone());
            return Ok((p, col.dists.len() as u32 - 1));
        }
        let p = self.params.len() as u32;
        self.params.push(ParamColumn {
            name: name.to_string(),
            dists: vec![dist.clone()],
            values: Vec::new(),
            sorted: RefCell::new(Vec::new()),
            tail: RefCell::new(Vec::new()),
        });
        self.by_name.insert(name.to_string(), p);
        Ok((p, 0))
    }

    /// The value trial `number` already has for `name`, if any, checking that
    /// it was drawn from the same distribution.
    pub fn existing(&self, number: usize, name: &str, dist: &Distribution) -> Result<Option<f64>> {
        let Some(&p) = self.by_name.get(name) else {
            return Ok(None);
        };
        let t = self.trial(number)?;
        match t.params.iter().find(|v| v.param == p) {
            None => Ok(None),
            Some(v) => {
                let old = &self.params[p as usize].dists[v.dist as usize];
                if old == dist {
                    Ok(Some(v.value))
                } else {
                    Err(Error::IncompatibleDistribution {
                        param: name.to_string(),
                        msg: format!(
                            "already suggested in trial {number} with {old}; cannot suggest it again with {dist}"
                        ),
                    })
                }
            }
        }
    }

    /// Records `value` (internal) for `name` in a running trial.
    pub fn set_param(
        &mut self,
        number: usize,
        name: &str,
        dist: &Distribution,
        value: f64,
    ) -> Result<()> {
        if !dist.contains(value) {
            return Err(Error::dist(
                name,
                format!("value {value} is not a value of {dist}"),
            ));
        }
        if self.existing(number, name, dist)?.is_some() {
            return Err(Error::IncompatibleDistribution {
                param: name.to_string(),
                msg: format!("trial {number} already has a value"),
            });
        }
        self.running_mut(number)?;
        let (p, d) = self.intern(name, dist)?;
        let column = &mut self.params[p as usize];
        let col = &mut column.values;
        if col.len() <= number {
            col.resize(number + 1, f64::NAN);
        }
        col[number] = value;
        let entry = (sort_key(value), number as u32);
        column.tail.get_mut().push(entry);
        self.trials[number].params.push(ParamValue {
            param: p,
            dist: d,
            value,
        });
        Ok(())
    }

    /// Stores an intermediate value; a step reported twice keeps the first value.
    pub fn report(&mut self, number: usize, step: i64, value: f64) -> Result<()> {
        let t = self.running_mut(number)?;
        if !t.intermediate.iter().any(|s| s.0 == step) {
            t.intermediate.push((step, value));
        }
        Ok(())
    }

    /// Stores an intermediate vector, one value per objective (objective 0 in
    /// `intermediate`, the others in `intermediate_rest`); a step reported
    /// twice keeps the first vector. The wrong number of values is an error.
    pub fn report_vector(&mut self, number: usize, step: i64, values: &[f64]) -> Result<()> {
        if values.len() != self.n_objectives {
            return Err(Error::InvalidArgument(format!(
                "report: {} value(s) for a study with {} objective(s)",
                values.len(),
                self.n_objectives
            )));
        }
        let t = self.running_mut(number)?;
        if !t.intermediate.iter().any(|s| s.0 == step) {
            t.intermediate.push((step, values[0]));
            if values.len() > 1 {
                t.intermediate_rest.push((step, values[1..].to_vec()));
            }
        }
        Ok(())
    }

    /// The vector trial `number` reported at `step` (one value per
    /// objective), or None when it reported nothing there. An objective
    /// missing from the record (a row written without it) is NaN.
    pub fn intermediate_vector(&self, number: usize, step: i64) -> Result<Option<Vec<f64>>> {
        let t = self.trial(number)?;
        let Some(&(_, first)) = t.intermediate.iter().find(|s| s.0 == step) else {
            return Ok(None);
        };
        let mut v = Vec::with_capacity(self.n_objectives);
        v.push(first);
        if let Some((_, rest)) = t.intermediate_rest.iter().find(|s| s.0 == step) {
            v.extend(rest.iter().take(self.n_objectives - 1));
        }
        v.resize(self.n_objectives, f64::NAN);
        Ok(Some(v))
    }

    /// Finishes a running trial; a COMPLETE trial needs one value per objective.
    pub fn finish(&mut self, number: usize, state: TrialState, values: Vec<f64>) -> Result<()> {
        let n_obj = self.n_objectives;
        if !state.is_finished() {
            return Err(Error::InvalidArgument(format!(
                "a trial can only be finished as COMPLETE, PRUNED or FAIL, not {}",
                state.name()
            )));
        }
        if state == TrialState::Complete {
            if let Some(problem) = invalid_complete_values(n_obj, &values) {
                return Err(Error::InvalidArgument(format!(
                    "trial {number} cannot be COMPLETE: {problem}"
                )));
            }
        }
        let t = self.running_mut(number)?;
        t.state = state;
        t.values = values;
        t.completed = now();
        self.on_finished(number);
        Ok(())
    }

    /// Bookkeeping once trial `number` has reached a finished state.
    fn on_finished(&mut self, number: usize) {
        let state = self.trials[number].state;
        self.pending.remove(&number);
        self.finished.push(number as u32);
        if matches!(state, TrialState::Complete | TrialState::Pruned) {
            self.n_complete_or_pruned += 1;
        }
        if matches!(state, TrialState::Complete | TrialState::Pruned) {
            let here: Vec<(u32, u32)> = self.trials[number]
                .params
                .iter()
                .map(|p| (p.param, p.dist))
                .collect();
            self.intersection = Some(match self.intersection.take() {
                None => here.clone(),
                Some(prev) => prev.into_iter().filter(|x| here.contains(x)).collect(),
            });
            // Group decomposition: split each group into its parts inside and
            // outside this trial's space, and add what no group covered yet.
            let mut next: Vec<Vec<(u32, u32)>> = Vec::new();
            let mut covered: Vec<(u32, u32)> = Vec::new();
            for g in self.groups.drain(..) {
                let (inside, outside): (Vec<_>, Vec<_>) =
                    g.into_iter().partition(|x| here.contains(x));
                covered.extend(inside.iter().copied());
                for part in [inside, outside] {
                    if !part.is_empty() {
                        next.push(part);
                    }
                }
            }
            let fresh: Vec<(u32, u32)> =
                here.into_iter().filter(|x| !covered.contains(x)).collect();
            if !fresh.is_empty() {
                next.push(fresh);
            }
            self.groups = next;
        }
    }

    /// An error for a trial number more than [`MAX_REMOTE_GAP`] past the
    /// known trials (not a trial of this study: placeholders up to it would
    /// take memory without bound).
    fn check_gap(&self, number: usize) -> Result<()> {
        if number > self.trials.len().saturating_add(MAX_REMOTE_GAP) {
            return Err(Error::InvalidArgument(format!(
                "trial number {number} is far beyond the {} trials of the study: \
                 the record is not a trial of this study",
                self.trials.len()
            )));
        }
        Ok(())
    }

    /// Sets trial `number`'s start and completion times (seconds since the
    /// epoch; None keeps a time as it is), for a trial copied with its
    /// history (`Study.add_trial`). A time that is not finite is an error.
    pub fn set_times(
        &mut self,
        number: usize,
        started: Option<f64>,
        completed: Option<f64>,
    ) -> Result<()> {
        if let Some(bad) = [started, completed]
            .into_iter()
            .flatten()
            .find(|t| !t.is_finite())
        {
            return Err(Error::InvalidArgument(format!(
                "trial {number}: a time must be finite, got {bad}"
            )));
        }
        let n = self.trials.len();
        let t = self
            .trials
            .get_mut(number)
            .ok_or_else(|| Error::InvalidArgument(format!("no trial {number} (of {n})")))?;
        if let Some(s) = started {
            t.started = s;
        }
        if let Some(c) = completed {
            t.completed = c;
        }
        Ok(())
    }

    /// Makes sure trial `number` exists: numbers up to it that this history
    /// has not seen become RUNNING placeholders (trials other workers of a
    /// shared storage started; [`History::apply_remote`] fills them in).
    /// A number more than [`MAX_REMOTE_GAP`] past the known trials is an error.
    pub fn ensure_trial(&mut self, number: usize, state: TrialState) -> Result<()> {
        self.check_gap(number)?;
        while self.trials.len() <= number {
            let s = if self.trials.len() == number {
                state
            } else {
                TrialState::Running
            };
            self.create_trial(s);
        }
        Ok(())
    }

    /// Brings trial `number` up to date with a record read from a shared
    /// storage: adds parameters it lacks, reported intermediate values and
    /// constraints, and its state and values once it has finished there.
    /// Idempotent: a trial already finished here is left as it is.
    ///
    /// The record is checked as `finish` checks a told trial: a COMPLETE record
    /// without one value per objective, or with a NaN value (written by another
    /// tool, or by a crash), is recorded as FAIL without values, and the reason
    /// is returned (None for a sound record). A number more than
    /// [`MAX_REMOTE_GAP`] past the known trials is an error.
    pub fn apply_remote(
        &mut self,
        number: usize,
        state: TrialState,
        values: Vec<f64>,
        params: Vec<(String, Distribution, f64)>,
        intermediate: Vec<(i64, f64)>,
        constraints: Vec<f64>,
        started: f64,
        completed: f64,
    ) -> Result<Option<String>> {
        self.check_gap(number)?;
        self.mirror = true;
        if number > 0 {
            self.ensure_trial(number - 1, TrialState::Running)?;
        }
        if self.trials.len() == number {
            // Its start time is the remote one (no clock read: loads add many trials).
            self.push_trial(TrialState::Running, started);
        }
        if self.trials[number].state.is_finished() {
            return Ok(None);
        }
        // Parameters are recorded as RUNNING, whatever the remote state.
        self.trials[number].state = TrialState::Running;
        self.waiting.remove(&number);
        let left_out = self.record_remote_params(number, params)?;
        let t = &mut self.trials[number];
        for (step, v) in intermediate {
            if !t.intermediate.iter().any(|s| s.0 == step) {
                t.intermediate.push((step, v));
            }
        }
        if !constraints.is_empty() {
            t.constraints = constraints;
            self.any_constraints = true;
        }
        self.trials[number].started = started;
        if let Some(problem) = match state {
            TrialState::Complete => invalid_complete_values(self.n_objectives, &values),
            _ => None,
        } {
            self.set_remote_state(number, TrialState::Fail, Vec::new(), completed);
            let failed = format!("trial {number} is COMPLETE with {problem}: loaded as FAIL");
            return Ok(Some(match left_out {
                Some(l) => format!("{failed}; {l}"),
                None => failed,
            }));
        }
        self.set_remote_state(number, state, values, completed);
        Ok(left_out)
    }

    /// Records a remote trial's parameters. A parameter this history cannot
    /// hold (another worker gave the name a distribution of another kind, or a
    /// value outside its distribution) is left out of the trial, with a reason
    /// (returned): the rest of the study must stay readable.
    fn record_remote_params(
        &mut self,
        number: usize,
        params: Vec<(String, Distribution, f64)>,
    ) -> Result<Option<String>> {
        let mut left_out: Vec<String> = Vec::new();
        for (name, dist, v) in params {
            let recorded = match self.existing(number, &name, &dist) {
                Ok(Some(_)) => Ok(()),
                Ok(None) => self.set_param(number, &name, &dist, v),
                Err(e) => Err(e),
            };
            match recorded {
                Ok(()) => {}
                Err(
                    e
                    @ (Error::IncompatibleDistribution { .. } | Error::InvalidDistribution { .. }),
                ) => left_out.push(e.to_string()),
                Err(e) => return Err(e),
            }
        }
        Ok((!left_out.is_empty()).then(|| {
            format!(
                "trial {number}: parameter(s) left out of the loaded record: {}",
                left_out.join("; ")
            )
        }))
    }

    /// Sets a remote trial's state (its parameters recorded): a finished one
    /// takes its values and completion time, a WAITING one joins the queue.
    fn set_remote_state(
        &mut self,
        number: usize,
        state: TrialState,
        values: Vec<f64>,
        completed: f64,
    ) {
        let t = &mut self.trials[number];
        t.state = state;
        if state.is_finished() {
            t.values = values;
            t.completed = completed;
            self.on_finished(number);
        } else if state == TrialState::Waiting {
            self.waiting.insert(number);
        }
    }

    /// [`History::apply_remote`] for each trial, in order; stops at the first
    /// error (the trials before it stay applied: applying is idempotent, so the
    /// caller may apply the whole batch again). Returns the reasons of the
    /// records loaded as FAIL, by trial number.
    pub fn apply_remote_batch(&mut self, trials: Vec<RemoteTrial>) -> Result<Vec<(usize, String)>> {
        let mut rejected = Vec::new();
        for t in trials {
            let number = t.number;
            let was_finished = self
                .trials
                .get(number)
                .is_some_and(|r| r.state.is_finished());
            let rest = t.intermediate_rest;
            if let Some(why) = self.apply_remote(
                t.number,
                t.state,
                t.values,
                t.params,
                t.intermediate,
                t.constraints,
                t.started,
                t.completed,
            )? {
                rejected.push((number, why));
            }
            if !was_finished {
                let known = &mut self.trials[number].intermediate_rest;
                for (step, r) in rest {
                    if !known.iter().any(|s| s.0 == step) {
                        known.push((step, r));
                    }
                }
            }
        }
        Ok(rejected)
    }

    /// Number of the best COMPLETE trial for a single objective; `maximize`
    /// flips the order. Ties keep the earliest trial. Trials that violate a
    /// black-box constraint do not count (as in Optuna).
    pub fn best_trial(&self, maximize: bool) -> Option<usize> {
        let mut best: Option<(usize, f64)> = None;
        for (i, t) in self.trials.iter().enumerate() {
            if t.state != TrialState::Complete || t.violation() > 0.0 {
                continue;
            }
            // A COMPLETE trial has one value per objective (`finish` and
            // `apply_remote` see to it); a missing one is skipped, never a panic.
            let Some(&v) = t.values.first() else { continue };
            let v = if maximize { -v } else { v };
            if best.is_none_or(|(_, b)| v < b) {
                best = Some((i, v));
            }
        }
        best.map(|b| b.0)
    }

    /// Numbers of the COMPLETE trials on the Pareto front (`maximize[k]` per objective).
    pub fn pareto_front(&self, maximize: &[bool]) -> Vec<usize> {
        let (numbers, signed): (Vec<usize>, Vec<Vec<f64>>) = self
            .trials
            .iter()
            .enumerate()
            .filter(|(_, t)| t.state == TrialState::Complete && t.violation() <= 0.0)
            .map(|(i, t)| (i, crate::pareto::minimised(&t.values, maximize)))
            .unzip();
        let on_front = crate::pareto::non_dominated(&signed);
        numbers
            .into_iter()
            .zip(on_front)
            .filter_map(|(i, f)| f.then_some(i))
            .collect()
    }

    /// Parameters present, with the same distribution, in every COMPLETE or
    /// PRUNED trial (Optuna's intersection search space), in first-seen order.
    /// Without the held parameters (see [`History::set_held`]): the joint space
    /// the samplers model; [`History::full_intersection_space`] keeps them.
    pub fn intersection_space(&self) -> Vec<(u32, u32)> {
        let mut out = self.full_intersection_space();
        if !self.held.is_empty() {
            out.retain(|&(p, _)| !self.is_held(p));
        }
        out
    }

    /// Optuna's intersection search space with the held parameters too (what a
    /// study reports as its intersection search space).
    pub fn full_intersection_space(&self) -> Vec<(u32, u32)> {
        self.intersection.clone().unwrap_or_default()
    }
}

/// A parameter asked for under another kind of distribution than the study's.
fn other_kind(name: &str, last: &Distribution, dist: &Distribution) -> Error {
    Error::IncompatibleDistribution {
        param: name.to_string(),
        msg: format!("already used with {last} in this study; cannot switch to {dist}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_kept_replaced_and_checked() {
        let mut h = History::new(1);
        let a = h.create_trial(TrialState::Running);
        let b = h.create_trial(TrialState::Running);
        assert!(h.tag(a).is_empty() && h.tag(7).is_empty());
        h.set_tag(b, vec![2.0, 1.0]).unwrap();
        h.finish(b, TrialState::Complete, vec![0.5]).unwrap();
        assert_eq!(h.tag(b), &[2.0, 1.0]); // finished trials keep theirs
        h.set_tag(b, vec![3.0]).unwrap();
        assert_eq!(h.tag(b), &[3.0]);
        assert!(h.set_tag(a, vec![f64::NAN]).is_err());
        assert!(h.set_tag(9, vec![1.0]).is_err());
        assert!(h.tag(a).is_empty());
    }

    #[test]
    fn lifecycle_and_errors() {
        let mut h = History::new(1);
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let t = h.create_trial(TrialState::Running);
        h.set_param(t, "x", &d, 0.5).unwrap();
        assert_eq!(h.existing(t, "x", &d).unwrap(), Some(0.5));
        let d2 = Distribution::float("x", 0.0, 2.0, None, false).unwrap();
        assert!(h.existing(t, "x", &d2).is_err());
        let c = Distribution::categorical("x", 2).unwrap();
        let t2 = h.create_trial(TrialState::Running);
        assert!(matches!(
            h.set_param(t2, "x", &c, 0.0),
            Err(Error::IncompatibleDistribution { .. })
        ));
        assert!(h.set_param(t2, "y", &d, 2.0).is_err());
        h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
        assert!(h.finish(t, TrialState::Complete, vec![1.0]).is_err());
        assert!(h.finish(t2, TrialState::Complete, vec![]).is_err());
        h.finish(t2, TrialState::Complete, vec![0.5]).unwrap();
        assert_eq!(h.best_trial(false), Some(t2));
        assert_eq!(h.best_trial(true), Some(t));
        assert_eq!(h.params()[0].values, vec![0.5]);
    }

    #[test]
    fn waiting_trials_are_found_in_order_through_every_path() {
        // The kept set of WAITING trials agrees with a scan of the states.
        let scan = |h: &History| {
            h.trials()
                .iter()
                .position(|t| t.state == TrialState::Waiting)
        };
        let mut h = History::new(1);
        let a = h.create_trial(TrialState::Running);
        let w1 = h.create_trial(TrialState::Waiting);
        let w2 = h.create_trial(TrialState::Waiting);
        assert_eq!((h.first_waiting(), scan(&h)), (Some(w1), Some(w1)));
        assert!(h.start_waiting(w1));
        assert!(!h.start_waiting(a));
        assert_eq!((h.first_waiting(), scan(&h)), (Some(w2), Some(w2)));
        // A remote record moves trial 5 to WAITING (and fills 3..5 as RUNNING),
        // then another worker starts w2.
        h.apply_remote(
            5,
            TrialState::Waiting,
            vec![],
            vec![],
            vec![],
            vec![],
            0.0,
            f64::NAN,
        )
        .unwrap();
        h.apply_remote(
            w2,
            TrialState::Running,
            vec![],
            vec![],
            vec![],
            vec![],
            0.0,
            f64::NAN,
        )
        .unwrap();
        assert_eq!((h.first_waiting(), scan(&h)), (Some(5), Some(5)));
        h.apply_remote(
            5,
            TrialState::Complete,
            vec![1.0],
            vec![],
            vec![],
            vec![],
            0.0,
            1.0,
        )
        .unwrap();
        assert_eq!((h.first_waiting(), scan(&h)), (None, None));
    }

    #[test]
    fn remote_params_of_another_kind_are_left_out_not_fatal() {
        // Two workers gave "p" different kinds; the history keeps the first and
        // loads the second trial without it, with a reason.
        let mut h = History::new(1);
        let int = Distribution::int("p", 0, 10, 1, false).unwrap();
        let float = Distribution::float("p", 0.0, 1.0, None, false).unwrap();
        let x = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let first = h.apply_remote(
            0,
            TrialState::Complete,
            vec![1.0],
            vec![("p".into(), int.clone(), 3.0)],
            vec![],
            vec![],
            0.0,
            1.0,
        );
        assert_eq!(first, Ok(None));
        let why = h
            .apply_remote(
                1,
                TrialState::Complete,
                vec![2.0],
                vec![("p".into(), float, 0.5), ("x".into(), x.clone(), 0.25)],
                vec![],
                vec![],
                0.0,
                1.0,
            )
            .unwrap()
            .expect("a reason");
        assert!(why.contains("trial 1") && why.contains("'p'"), "{why}");
        assert_eq!(h.trials()[1].state, TrialState::Complete);
        assert_eq!(h.existing(1, "x", &x).unwrap(), Some(0.25));
        assert_eq!(h.trials()[1].params.len(), 1);
        // A value outside its distribution is left out too.
        let why = h
            .apply_remote(
                2,
                TrialState::Complete,
                vec![3.0],
                vec![("p".into(), int, 42.0)],
                vec![],
                vec![],
                0.0,
                1.0,
            )
            .unwrap();
        assert!(why.is_some());
        assert_eq!(h.best_trial(false), Some(0));
    }

    #[test]
    fn remote_trials_fill_gaps_and_are_idempotent() {
        let mut h = History::new(1);
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let mine = h.create_trial(TrialState::Running);
        // Another worker's trial 2 finished; trial 1 is still unknown here.
        let params = vec![("x".to_string(), d.clone(), 0.25)];
        h.apply_remote(
            2,
            TrialState::Complete,
            vec![3.0],
            params.clone(),
            vec![(1, 4.0)],
            vec![],
            1.0,
            2.0,
        )
        .unwrap();
        assert_eq!(h.trials().len(), 3);
        assert_eq!(h.trials()[1].state, TrialState::Running);
        assert_eq!(h.value(0, 2), Some(0.25));
        assert_eq!(h.n_complete_or_pruned(), 1);
        assert_eq!(h.intersection_space(), vec![(0, 0)]);
        // Seeing it again changes nothing.
        h.apply_remote(
            2,
            TrialState::Complete,
            vec![3.0],
            params,
            vec![(1, 4.0)],
            vec![],
            1.0,
            2.0,
        )
        .unwrap();
        assert_eq!(h.n_complete_or_pruned(), 1);
        assert_eq!(h.trials()[2].params.len(), 1);
        assert_eq!(h.trials()[mine].state, TrialState::Running);
    }

    #[test]
    fn remote_batch_equals_one_by_one() {
        let x = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let k = Distribution::int("k", 0, 9, 1, false).unwrap();
        let trials = vec![
            RemoteTrial {
                number: 0,
                state: TrialState::Complete,
                values: vec![1.5],
                params: vec![("x".into(), x.clone(), 0.5), ("k".into(), k.clone(), 3.0)],
                intermediate: vec![(0, 2.0), (1, f64::NAN)],
                intermediate_rest: vec![],
                constraints: vec![-1.0],
                started: 1.0,
                completed: 2.0,
            },
            // Trial 1 is unseen: a RUNNING placeholder.
            RemoteTrial {
                number: 2,
                state: TrialState::Pruned,
                values: vec![],
                params: vec![("k".into(), k.clone(), 7.0)],
                intermediate: vec![(3, 0.25)],
                intermediate_rest: vec![],
                constraints: vec![],
                started: 3.0,
                completed: 4.0,
            },
            RemoteTrial {
                number: 3,
                state: TrialState::Running,
                values: vec![],
                params: vec![("x".into(), x.clone(), 0.75)],
                intermediate: vec![],
                intermediate_rest: vec![],
                constraints: vec![],
                started: 5.0,
                completed: f64::NAN,
            },
        ];
        let mut one = History::new(1);
        for t in trials.clone() {
            one.apply_remote(
                t.number,
                t.state,
                t.values,
                t.params,
                t.intermediate,
                t.constraints,
                t.started,
                t.completed,
            )
            .unwrap();
        }
        let mut batch = History::new(1);
        batch.apply_remote_batch(trials.clone()).unwrap();
        assert_eq!(batch.trials().len(), 4);
        // Debug strings (NaN equals NaN there); a placeholder's start time is "now".
        let dump = |h: &History| {
            let mut t = h.trials().to_vec();
            t[1].started = 0.0;
            format!("{t:?} {:?}", h.params())
        };
        assert_eq!(dump(&one), dump(&batch));
        assert_eq!(batch.n_complete_or_pruned(), 2);
        // Idempotent as a whole.
        batch.apply_remote_batch(trials).unwrap();
        assert_eq!(dump(&one), dump(&batch));
        // An incompatible distribution leaves the parameter out of that trial, with
        // a reason (another worker's record must not make the study unreadable).
        let c = Distribution::categorical("x", 3).unwrap();
        let bad = vec![RemoteTrial {
            number: 4,
            state: TrialState::Complete,
            values: vec![0.0],
            params: vec![("x".into(), c, 1.0)],
            intermediate: vec![],
            intermediate_rest: vec![],
            constraints: vec![],
            started: 6.0,
            completed: 7.0,
        }];
        let rejected = batch.apply_remote_batch(bad).unwrap();
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].0, 4);
        assert!(batch.trials()[4].params.is_empty());
        assert_eq!(batch.trials()[4].state, TrialState::Complete);
    }

    /// A COMPLETE record (another worker's, or a row another tool wrote) without one
    /// value per objective, or with NaN, is loaded as FAIL (never a panic in
    /// `best_trial` later).
    #[test]
    fn remote_records_with_bad_values_load_as_fail() {
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let mut h = History::new(1);
        let bad: [Vec<f64>; 3] = [vec![], vec![1.0, 2.0], vec![f64::NAN]];
        for (number, values) in bad.into_iter().enumerate() {
            let why = h
                .apply_remote(
                    number,
                    TrialState::Complete,
                    values,
                    vec![("x".into(), d.clone(), 0.5)],
                    vec![],
                    vec![],
                    1.0,
                    2.0,
                )
                .unwrap();
            assert!(why.unwrap().contains(&format!("trial {number}")));
            assert_eq!(h.trials()[number].state, TrialState::Fail);
            assert!(h.trials()[number].values.is_empty());
        }
        assert_eq!(h.best_trial(false), None);
        assert_eq!(h.pareto_front(&[false]), Vec::<usize>::new());
        assert_eq!(h.n_complete_or_pruned(), 0);
        // Infinite values are values (as in Optuna); a sound record gives no reason.
        let ok = h
            .apply_remote(
                3,
                TrialState::Complete,
                vec![f64::INFINITY],
                vec![],
                vec![],
                vec![],
                1.0,
                2.0,
            )
            .unwrap();
        assert_eq!(ok, None);
        assert_eq!(h.best_trial(false), Some(3));
        // The batch reports each rejected record by number.
        let mut two = History::new(2);
        let rec = |number, values: Vec<f64>| RemoteTrial {
            number,
            state: TrialState::Complete,
            values,
            params: vec![],
            intermediate: vec![],
            intermediate_rest: vec![],
            constraints: vec![],
            started: 1.0,
            completed: 2.0,
        };
        let rejected = two
            .apply_remote_batch(vec![
                rec(0, vec![1.0]),
                rec(1, vec![1.0, 2.0]),
                rec(2, vec![]),
            ])
            .unwrap();
        assert_eq!(rejected.iter().map(|r| r.0).collect::<Vec<_>>(), vec![0, 2]);
        assert_eq!(two.pareto_front(&[false, false]), vec![1]);
        // A number far past the known trials is refused, not allocated.
        assert!(matches!(
            two.apply_remote_batch(vec![rec(usize::MAX / 2, vec![1.0, 2.0])]),
            Err(Error::InvalidArgument(_))
        ));
        // `finish` refuses the same values.
        let t = h.create_trial(TrialState::Running);
        assert!(h.finish(t, TrialState::Complete, vec![f64::NAN]).is_err());
        assert!(h.finish(t, TrialState::Complete, vec![]).is_err());
        h.finish(t, TrialState::Complete, vec![-1.0]).unwrap();
        assert_eq!(h.best_trial(false), Some(t));
    }

    #[test]
    fn pareto_front_of_two_objectives() {
        let mut h = History::new(2);
        for v in [[1.0, 3.0], [2.0, 2.0], [3.0, 3.0], [0.5, 4.0]] {
            let t = h.create_trial(TrialState::Running);
            h.finish(t, TrialState::Complete, v.to_vec()).unwrap();
        }
        assert_eq!(h.pareto_front(&[false, false]), vec![0, 1, 3]);
        assert_eq!(h.pareto_front(&[true, true]), vec![2, 3]);
    }

    #[test]
    fn intersection_space_keeps_common_params() {
        let mut h = History::new(1);
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        for (i, names) in [vec!["a", "b"], vec!["b", "c"]].into_iter().enumerate() {
            let t = h.create_trial(TrialState::Running);
            for n in names {
                h.set_param(t, n, &d, 0.1).unwrap();
            }
            h.finish(t, TrialState::Complete, vec![i as f64]).unwrap();
        }
        let s = h.intersection_space();
        assert_eq!(s.len(), 1);
        assert_eq!(h.params()[s[0].0 as usize].name, "b");
    }

    #[test]
    fn held_parameters_leave_the_intersection_space_and_its_groups() {
        let mut h = History::new(1);
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        for i in 0..2 {
            let t = h.create_trial(TrialState::Running);
            for n in ["a", "held", "b"] {
                h.set_param(t, n, &d, 0.1).unwrap();
            }
            h.finish(t, TrialState::Complete, vec![i as f64]).unwrap();
        }
        fn names(h: &History, s: Vec<(u32, u32)>) -> Vec<String> {
            s.iter()
                .map(|&(p, _)| h.params()[p as usize].name.clone())
                .collect()
        }
        assert_eq!(names(&h, h.intersection_space()), ["a", "held", "b"]);
        h.set_held(vec!["held".into(), "never seen".into()]);
        assert!(h.holds("held") && !h.holds("a"));
        assert_eq!(names(&h, h.intersection_space()), ["a", "b"]);
        assert_eq!(names(&h, h.full_intersection_space()), ["a", "held", "b"]);
        let groups: Vec<Vec<String>> = h.groups().into_iter().map(|g| names(&h, g)).collect();
        assert_eq!(groups, [["a", "b"]]);
        h.set_held(Vec::new());
        assert_eq!(names(&h, h.intersection_space()), ["a", "held", "b"]);
    }

    #[test]
    fn intermediate_vectors() {
        let mut h = History::new(3);
        let t = h.create_trial(TrialState::Running);
        let e = h.report_vector(t, 0, &[1.0, 2.0]).unwrap_err().to_string();
        assert!(
            e.contains("2 value(s) for a study with 3 objective(s)"),
            "{e}"
        );
        h.report_vector(t, 0, &[1.0, 2.0, 3.0]).unwrap();
        h.report_vector(t, 0, &[9.0, 9.0, 9.0]).unwrap(); // a step keeps its first vector
        h.report_vector(t, 2, &[4.0, f64::NAN, 6.0]).unwrap();
        assert_eq!(h.trials()[t].intermediate, [(0, 1.0), (2, 4.0)]);
        assert_eq!(
            h.intermediate_vector(t, 0).unwrap(),
            Some(vec![1.0, 2.0, 3.0])
        );
        assert_eq!(h.intermediate_vector(t, 1).unwrap(), None);
        assert!(h.intermediate_vector(t, 2).unwrap().unwrap()[1].is_nan());
        // A single-objective history keeps no rest.
        let mut one = History::new(1);
        let u = one.create_trial(TrialState::Running);
        one.report_vector(u, 5, &[0.5]).unwrap();
        assert_eq!(one.trials()[u].intermediate, [(5, 0.5)]);
        assert!(one.trials()[u].intermediate_rest.is_empty());
        // A remote record brings its rest; a missing objective reads as NaN.
        let rec = |number, state, rest: Vec<(i64, Vec<f64>)>| RemoteTrial {
            number,
            state,
            values: vec![],
            params: vec![],
            intermediate: vec![(0, 1.0), (1, 2.0)],
            intermediate_rest: rest,
            constraints: vec![],
            started: 1.0,
            completed: 2.0,
        };
        let mut r = History::new(2);
        let rest = vec![(0, vec![10.0])];
        r.apply_remote_batch(vec![rec(0, TrialState::Running, rest.clone())])
            .unwrap();
        assert_eq!(r.intermediate_vector(0, 0).unwrap(), Some(vec![1.0, 10.0]));
        assert!(r.intermediate_vector(0, 1).unwrap().unwrap()[1].is_nan());
        // Idempotent; later rows join a running trial, a finished one is left as is.
        let more = vec![(0, vec![99.0]), (1, vec![20.0])];
        r.apply_remote_batch(vec![rec(0, TrialState::Pruned, more.clone())])
            .unwrap();
        assert_eq!(
            r.trials()[0].intermediate_rest,
            [(0, vec![10.0]), (1, vec![20.0])]
        );
        r.apply_remote_batch(vec![rec(0, TrialState::Pruned, vec![(7, vec![1.0])])])
            .unwrap();
        assert_eq!(r.trials()[0].intermediate_rest.len(), 2);
    }
}

//! A study's trial records and its Rust sampler, behind one lock.
//!
//! Every per-trial call (ask, suggest, tell) is one crossing. Those calls do
//! O(1) work and keep the GIL (releasing it would cost more than the work);
//! calls that search a declared space release it.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::ops::{Deref, DerefMut};
use std::sync::{Mutex, MutexGuard};

use ferrotune_core::history::{RemoteTrial, TrialRecord};
use ferrotune_core::pruners::{Check, Pruner, RungRecord};
use ferrotune_core::samplers::{Sampler, DEFAULT_MAX_DRAWS};
use ferrotune_core::{rng::Rng, Param};
use ferrotune_core::{Distribution, Error, History, TrialState};
use pyo3::prelude::*;

use crate::pruners::pruner_of;
use crate::samplers::{handle_of, SamplerHandle};
use crate::space::{Dist, Space};
use crate::{conv, detached, guard, lock, lock_py, to_pyerr, PyRes};

/// A trial's state, numbered as `ferrotune.trial.TrialState` (Optuna's numbers):
/// what `StudyCore.tell`, `state`, `ensure_trial` and `apply_remote` take and give.
#[pyclass(
    name = "TrialState",
    module = "ferrotune._core",
    eq,
    eq_int,
    hash,
    frozen,
    from_py_object
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum PyTrialState {
    #[pyo3(name = "RUNNING")]
    Running = 0,
    #[pyo3(name = "COMPLETE")]
    Complete = 1,
    #[pyo3(name = "PRUNED")]
    Pruned = 2,
    #[pyo3(name = "FAIL")]
    Fail = 3,
    #[pyo3(name = "WAITING")]
    Waiting = 4,
}

impl From<TrialState> for PyTrialState {
    fn from(s: TrialState) -> Self {
        match s {
            TrialState::Running => PyTrialState::Running,
            TrialState::Complete => PyTrialState::Complete,
            TrialState::Pruned => PyTrialState::Pruned,
            TrialState::Fail => PyTrialState::Fail,
            TrialState::Waiting => PyTrialState::Waiting,
        }
    }
}

impl From<PyTrialState> for TrialState {
    fn from(s: PyTrialState) -> Self {
        match s {
            PyTrialState::Running => TrialState::Running,
            PyTrialState::Complete => TrialState::Complete,
            PyTrialState::Pruned => TrialState::Pruned,
            PyTrialState::Fail => TrialState::Fail,
            PyTrialState::Waiting => TrialState::Waiting,
        }
    }
}

/// One trial as the core holds it (a snapshot; read-only). Each parameter is
/// (key, internal value): `StudyCore.param_dist(key)` gives its name and
/// distribution, so a reader converts each distinct key once.
#[pyclass(name = "TrialRecord", module = "ferrotune._core", frozen)]
pub struct PyTrialRecord {
    #[pyo3(get)]
    state: PyTrialState,
    /// One value per objective (empty unless COMPLETE, or PRUNED with a last
    /// intermediate value).
    #[pyo3(get)]
    values: Vec<f64>,
    /// (parameter key, internal value), in the order they were recorded.
    #[pyo3(get)]
    params: Vec<(u64, f64)>,
    /// (step, value), by step.
    #[pyo3(get)]
    intermediate: Vec<(i64, f64)>,
    /// With several objectives: (step, values of objectives 1, 2, ...) of each
    /// step (objective 0 is in `intermediate`), in the order reported.
    #[pyo3(get)]
    intermediate_rest: Vec<(i64, Vec<f64>)>,
    /// Unix seconds; NaN when not started.
    #[pyo3(get)]
    started: f64,
    /// Unix seconds; NaN when not finished.
    #[pyo3(get)]
    completed: f64,
}

impl PyTrialRecord {
    fn of(t: &TrialRecord) -> Self {
        PyTrialRecord {
            state: t.state.into(),
            values: t.values.clone(),
            params: t
                .params
                .iter()
                .map(|p| (param_key(p.param, p.dist), p.value))
                .collect(),
            intermediate: t.intermediate.clone(),
            intermediate_rest: t.intermediate_rest.clone(),
            started: t.started,
            completed: t.completed,
        }
    }
}

/// The key of a (parameter, distribution) pair in `StudyCore.records`.
fn param_key(param: u32, dist: u32) -> u64 {
    (u64::from(param) << 32) | u64::from(dist)
}

/// The trials of a `StudyCore.apply_remote_batch` call, grouped by trial:
/// `trials` rows are (trial id, number, state, started, completed), `params`
/// rows (trial id, name, distribution key, internal value) and `intermediate`
/// rows (trial id, step, value or None for NaN), `intermediate_rest` rows
/// (trial id, step, values of objectives 1, 2, ...). Rows of a trial id not in
/// `trials` are ignored. A trial of an unknown state becomes FAIL, with the
/// reason in the second list.
#[allow(clippy::type_complexity)]
fn remote_trials(
    trials: Vec<(i64, usize, i64, Option<f64>, Option<f64>)>,
    values: Vec<Vec<f64>>,
    constraints: Vec<Vec<f64>>,
    dists: Vec<(String, Dist)>,
    params: Vec<(i64, String, String, f64)>,
    intermediate: Vec<(i64, i64, Option<f64>)>,
    intermediate_rest: Vec<(i64, i64, Vec<f64>)>,
) -> ferrotune_core::Result<(Vec<RemoteTrial>, Vec<(usize, String)>)> {
    if values.len() != trials.len() || constraints.len() != trials.len() {
        return Err(Error::InvalidArgument(format!(
            "{} trials but {} values and {} constraints",
            trials.len(),
            values.len(),
            constraints.len()
        )));
    }
    let dists: HashMap<String, Distribution> =
        dists.into_iter().map(|(k, d)| (k, d.inner)).collect();
    let mut index = HashMap::with_capacity(trials.len());
    let mut out = Vec::with_capacity(trials.len());
    let mut rejected = Vec::new();
    for (((tid, number, state, started, completed), values), constraints) in
        trials.into_iter().zip(values).zip(constraints)
    {
        index.insert(tid, out.len());
        // Any code, even one outside u8, loads: an unknown one as FAIL.
        let known = u8::try_from(state)
            .ok()
            .and_then(|c| TrialState::from_u8(c).ok());
        let (state, values) = match known {
            Some(s) => (s, values),
            None => {
                rejected.push((
                    number,
                    format!("trial {number} has an unknown state {state}: loaded as FAIL"),
                ));
                (TrialState::Fail, Vec::new())
            }
        };
        out.push(RemoteTrial {
            number,
            state,
            values,
            params: Vec::new(),
            intermediate: Vec::new(),
            intermediate_rest: Vec::new(),
            constraints,
            started: started.unwrap_or(f64::NAN),
            completed: completed.unwrap_or(f64::NAN),
        });
    }
    for (tid, name, key, value) in params {
        let Some(&i) = index.get(&tid) else { continue };
        let Some(dist) = dists.get(&key) else {
            return Err(Error::InvalidArgument(format!(
                "parameter {name:?} has an unknown distribution {key:?}"
            )));
        };
        out[i].params.push((name, dist.clone(), value));
    }
    for (tid, step, value) in intermediate {
        if let Some(&i) = index.get(&tid) {
            out[i].intermediate.push((step, value.unwrap_or(f64::NAN)));
        }
    }
    for (tid, step, rest) in intermediate_rest {
        if let Some(&i) = index.get(&tid) {
            out[i].intermediate_rest.push((step, rest));
        }
    }
    for t in &mut out {
        t.intermediate.sort_by_key(|s| s.0);
    }
    Ok((out, rejected))
}

/// Adds the types that cross the study core's boundary to the module.
pub(crate) fn register_types(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTrialState>()?;
    m.add_class::<PyTrialRecord>()?;
    m.add_class::<crate::space::DistKind>()?;
    Ok(())
}

fn dist_of(d: &Distribution) -> Dist {
    Dist { inner: d.clone() }
}

thread_local! {
    /// The study cores whose lock this thread holds (innermost last). The core
    /// calls user Python while holding it (a space's predicates, TPE's `gamma`
    /// and `weights`); such a callable that calls back into its study would
    /// wait forever for a lock its own thread holds, so it gets an error
    /// instead (see [`StudyCore::hold_for_callbacks`]).
    static HELD: RefCell<Vec<usize>> = const { RefCell::new(Vec::new()) };
}

/// The locked state of a study core; marked in [`HELD`] while it lives when
/// `key` is set (the lock is held around calls that can run user Python).
struct Held<'a> {
    guard: MutexGuard<'a, Inner>,
    key: Option<usize>,
}

impl Deref for Held<'_> {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.guard
    }
}

impl DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut Inner {
        &mut self.guard
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        HELD.with(|h| {
            let mut h = h.borrow_mut();
            if let Some(i) = h.iter().rposition(|&k| k == key) {
                h.remove(i);
            }
        });
    }
}

struct Inner {
    history: History,
    sampler: Option<SamplerHandle>,
    /// The study's own Rust pruner (its kept statistics follow this history).
    pruner: Option<Box<dyn Pruner>>,
    /// Whether the sampler's independent draws are O(1) (suggest keeps the GIL).
    cheap: bool,
    /// Every rung record of the study (this process's and those taken in), in
    /// the order taken: a new pruner takes them all in.
    rungs: RungLog,
}

/// A rung record as Python sees it: (trial, rung, values, promoted, order).
type PyRungRecord = (usize, usize, Vec<f64>, bool, u64);

/// The study's rung records (see [`RungRecord`]), each (trial, rung) once.
#[derive(Default)]
struct RungLog {
    records: Vec<RungRecord>,
    known: HashSet<(usize, usize)>,
    /// The order the next record made here gets when none is given.
    next_order: u64,
}

impl RungLog {
    /// Adds `record` unless one for its trial and rung is held; true if added.
    fn add(&mut self, record: RungRecord) -> bool {
        if !self.known.insert((record.trial, record.rung)) {
            return false;
        }
        self.next_order = self.next_order.max(record.order.saturating_add(1));
        self.records.push(record);
        true
    }
}

fn to_py_record(r: &RungRecord) -> PyRungRecord {
    (r.trial, r.rung, r.values.clone(), r.promoted, r.order)
}

/// Decides for trial `number` with the study's pruner and logs the records
/// the decision made, numbered from `order` (else from the log's counter).
fn prune_logged(
    inner: &mut Inner,
    number: usize,
    order: Option<u64>,
) -> ferrotune_core::Result<(bool, Vec<PyRungRecord>)> {
    let Inner {
        history,
        pruner,
        rungs,
        ..
    } = inner;
    let p = pruner.as_mut().ok_or_else(not_rust_pruner)?;
    let pruned = p.prune(history, number)?;
    let mut made = Vec::new();
    for mut r in p.take_records() {
        r.order = order.unwrap_or(rungs.next_order);
        made.push(to_py_record(&r));
        rungs.add(r);
    }
    Ok((pruned, made))
}

fn not_rust_pruner() -> Error {
    Error::InvalidArgument("this study's pruner is not a Rust pruner".into())
}

/// Trial records of one study plus the Rust sampler used on the fast path.
#[pyclass(name = "StudyCore", module = "ferrotune._core", frozen)]
pub struct StudyCore {
    inner: Mutex<Inner>,
}

impl StudyCore {
    /// The error of a callable that calls back into the study whose lock its
    /// thread holds (instead of waiting forever).
    fn reentered() -> Error {
        let why = "it runs while the study is locked (read what it needs before asking)";
        Error::InvalidArgument(format!(
            "a predicate/gamma/weights callable may not call back into its study: {why}"
        ))
    }

    /// The address that identifies this core in [`HELD`], or the error of a
    /// re-entrant call when this thread already holds its lock.
    fn free_key(&self) -> ferrotune_core::Result<usize> {
        let key = self as *const Self as usize;
        if HELD.with(|h| h.borrow().contains(&key)) {
            return Err(Self::reentered());
        }
        Ok(key)
    }

    /// Locks the core from code that does not hold the GIL.
    fn hold(&self) -> ferrotune_core::Result<Held<'_>> {
        self.free_key()?;
        let guard = lock(&self.inner);
        Ok(Held { guard, key: None })
    }

    /// [`StudyCore::hold`] around core work that can run user Python (the
    /// sampler's callbacks, a space's predicates): marked in [`HELD`].
    fn hold_for_callbacks(&self) -> ferrotune_core::Result<Held<'_>> {
        let key = self.free_key()?;
        let guard = lock(&self.inner);
        HELD.with(|h| h.borrow_mut().push(key));
        Ok(Held {
            guard,
            key: Some(key),
        })
    }

    /// Locks the core from code that holds the GIL (see [`lock_py`]).
    fn hold_py(&self, py: Python<'_>) -> PyRes<Held<'_>> {
        conv(py, self.free_key())?;
        let guard = lock_py(py, &self.inner);
        Ok(Held { guard, key: None })
    }

    fn suggest(&self, py: Python<'_>, number: usize, name: &str, dist: Distribution) -> PyRes<f64> {
        let mut g = self.hold_py(py)?;
        if g.cheap {
            // O(1) work (random, QMC): releasing the GIL would cost more than it saves.
            let Inner {
                history, sampler, ..
            } = &mut *g;
            // The sampler may be shared with a study whose detached
            // `sample_space` holds it while waiting for the GIL (a predicate):
            // wait for it without the GIL.
            let r = suggest_in(
                history,
                sampler.as_ref(),
                |s| lock_py(py, s),
                number,
                name,
                &dist,
            );
            conv(py, r)
        } else {
            drop(g);
            detached(py, || {
                let mut g = self.hold_for_callbacks()?;
                let Inner {
                    history, sampler, ..
                } = &mut *g;
                suggest_in(history, sampler.as_ref(), lock, number, name, &dist)
            })
        }
    }
}

/// A locked Rust sampler.
type SamplerGuard<'a> = MutexGuard<'a, dyn Sampler + 'static>;

fn not_rust() -> Error {
    Error::InvalidArgument("this study's sampler is not a Rust sampler".into())
}

/// The reasons of rejected records, as Python receives them, by trial number.
fn by_number(mut rejected: Vec<(usize, String)>) -> Vec<(usize, String)> {
    rejected.sort_by_key(|r| r.0);
    rejected
}

/// The value trial `number` gets for `name`: the one it already has, the one a
/// joint sample chose for it, or a fresh draw from the sampler; recorded.
/// `lock_sampler` locks the sampler ([`lock_py`] when the caller holds the GIL).
fn suggest_in(
    history: &mut History,
    sampler: Option<&SamplerHandle>,
    lock_sampler: impl for<'a> FnOnce(&'a Mutex<dyn Sampler>) -> SamplerGuard<'a>,
    number: usize,
    name: &str,
    dist: &Distribution,
) -> ferrotune_core::Result<f64> {
    if let Some(v) = history.existing(number, name, dist)? {
        return Ok(v);
    }
    let pending = history
        .param_index(name)
        .and_then(|p| history.pending_value(number, p, dist));
    let v = match pending {
        Some(v) => v,
        None => lock_sampler(&**sampler.ok_or_else(not_rust)?)
            .sample_independent(history, number, name, dist)?,
    };
    history.set_param(number, name, dist, v)?;
    Ok(v)
}

#[pymethods]
impl StudyCore {
    /// A study whose objective k is maximised when `maximize[k]`.
    #[new]
    fn new(py: Python<'_>, maximize: Vec<bool>) -> PyRes<Self> {
        guard(py, || {
            Ok(StudyCore {
                inner: Mutex::new(Inner {
                    history: History::with_directions(maximize),
                    sampler: None,
                    pruner: None,
                    cheap: true,
                    rungs: RungLog::default(),
                }),
            })
        })
    }

    /// Names of parameters a partially fixed sampler holds for every trial:
    /// the joint samplers leave them out of their space (empty: none).
    fn set_held_params(&self, py: Python<'_>, names: Vec<String>) -> PyRes<()> {
        guard(py, || {
            self.hold_py(py)?.history.set_held(names);
            Ok(())
        })
    }

    /// Lets the Rust sampler choose values jointly for a new trial (TPE's
    /// multivariate mode); they are used when the objective suggests them.
    /// Returns how many parameters were chosen.
    fn relative(&self, py: Python<'_>, number: usize) -> PyRes<usize> {
        guard(py, || {
            detached(py, || {
                let mut g = self.hold_for_callbacks()?;
                let Inner {
                    history, sampler, ..
                } = &mut *g;
                let Some(s) = sampler else { return Ok(0) };
                let mut s = lock(s);
                let vals = s.relative_values(history, number)?;
                let n = vals.len();
                history.set_pending(number, vals);
                keep_tag(history, &mut *s, number)?;
                Ok(n)
            })
        })
    }

    /// Makes sure trial `number` exists (placeholders for unseen numbers).
    fn ensure_trial(&self, py: Python<'_>, number: usize, state: PyTrialState) -> PyRes<()> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            conv(py, g.history.ensure_trial(number, state.into()))
        })
    }

    /// Sets a trial's start and completion times (seconds since the epoch;
    /// None keeps one), see `History::set_times`.
    #[pyo3(signature = (number, started = None, completed = None))]
    fn set_times(
        &self,
        py: Python<'_>,
        number: usize,
        started: Option<f64>,
        completed: Option<f64>,
    ) -> PyRes<()> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            conv(py, g.history.set_times(number, started, completed))
        })
    }

    /// Brings a trial up to date with a record read from a shared storage
    /// (idempotent; see `History::apply_remote`). Returns why the record was
    /// loaded as FAIL (a COMPLETE record without one value per objective, or
    /// with NaN), or None.
    #[pyo3(signature = (number, state, values, params, intermediate, constraints, started, completed))]
    fn apply_remote(
        &self,
        py: Python<'_>,
        number: usize,
        state: PyTrialState,
        values: Vec<f64>,
        params: Vec<(String, Dist, f64)>,
        intermediate: Vec<(i64, f64)>,
        constraints: Vec<f64>,
        started: f64,
        completed: f64,
    ) -> PyRes<Option<String>> {
        guard(py, || {
            let params = params
                .into_iter()
                .map(|(n, d, v)| (n, d.inner, v))
                .collect();
            conv(
                py,
                self.hold_py(py)?.history.apply_remote(
                    number,
                    state.into(),
                    values,
                    params,
                    intermediate,
                    constraints,
                    started,
                    completed,
                ),
            )
        })
    }

    /// `apply_remote` for many trials in one call, with the GIL released while
    /// the core applies them (in order; the first error stops the batch).
    ///
    /// `trials`: (trial id, number, state, started or None, completed or None);
    /// `values` and `constraints`: one list per trial; `dists`: (key, Dist) for
    /// the keys `params` uses; `params`: (trial id, name, key, internal value),
    /// recorded in this order; `intermediate`: (trial id, step, value or None
    /// for NaN); `intermediate_rest`: (trial id, step, values of objectives 1,
    /// 2, ...) for studies with several objectives. The trial id only ties the
    /// rows together; rows whose trial id is not in `trials` are ignored.
    ///
    /// Returns (number, reason) of each record loaded as FAIL: a COMPLETE one
    /// without one value per objective or with NaN, or one of unknown state.
    #[allow(clippy::type_complexity)]
    #[pyo3(signature = (trials, values, constraints, dists, params, intermediate, intermediate_rest = Vec::new()))]
    fn apply_remote_batch(
        &self,
        py: Python<'_>,
        trials: Vec<(i64, usize, i64, Option<f64>, Option<f64>)>,
        values: Vec<Vec<f64>>,
        constraints: Vec<Vec<f64>>,
        dists: Vec<(String, Dist)>,
        params: Vec<(i64, String, String, f64)>,
        intermediate: Vec<(i64, i64, Option<f64>)>,
        intermediate_rest: Vec<(i64, i64, Vec<f64>)>,
    ) -> PyRes<Vec<(usize, String)>> {
        guard(py, || {
            detached(py, || {
                let (batch, mut rejected) = remote_trials(
                    trials,
                    values,
                    constraints,
                    dists,
                    params,
                    intermediate,
                    intermediate_rest,
                )?;
                rejected.extend(self.hold()?.history.apply_remote_batch(batch)?);
                Ok(by_number(rejected))
            })
        })
    }

    /// Records black-box constraint values (<= 0 feasible) of a running trial.
    fn set_constraints(&self, py: Python<'_>, number: usize, values: Vec<f64>) -> PyRes<()> {
        guard(py, || {
            conv(
                py,
                self.hold_py(py)?.history.set_constraints(number, values),
            )
        })
    }

    /// The sampler's tag of trial `number` (`History::tag`): empty when none.
    fn tag(&self, py: Python<'_>, number: usize) -> PyRes<Vec<f64>> {
        guard(py, || Ok(self.hold_py(py)?.history.tag(number).to_vec()))
    }

    /// Sets the samplers' tags of trials read from a shared storage or a saved
    /// state: (number, tag) pairs.
    fn set_tags(&self, py: Python<'_>, tags: Vec<(usize, Vec<f64>)>) -> PyRes<()> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            for (number, tag) in tags {
                conv(py, g.history.set_tag(number, tag))?;
            }
            Ok(())
        })
    }

    /// The tag of every trial, in trial order (empty lists for none).
    fn all_tags(&self, py: Python<'_>) -> PyRes<Vec<Vec<f64>>> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(g.history.trials().iter().map(|t| t.tag.clone()).collect())
        })
    }

    /// Uses `sampler` (a Rust sampler core) on the fast path, told the
    /// study's name (DEHB follows Hyperband's brackets, which depend on it);
    /// returns False (and clears the fast path) for anything else.
    #[pyo3(signature = (sampler, study_name = ""))]
    fn set_sampler(
        &self,
        py: Python<'_>,
        sampler: &Bound<'_, PyAny>,
        study_name: &str,
    ) -> PyRes<bool> {
        guard(py, || {
            let h = handle_of(sampler);
            if let Some(s) = h.as_ref() {
                lock_py(py, s).set_study_name(study_name);
            }
            let ok = h.is_some();
            let cheap = h
                .as_ref()
                .is_none_or(|s| lock_py(py, s).independent_is_cheap());
            let mut g = self.hold_py(py)?;
            g.sampler = h;
            g.cheap = cheap;
            Ok(ok)
        })
    }

    /// Uses a fresh copy of `pruner` (a Rust pruner core) for `should_prune`,
    /// told the study's name (Hyperband's brackets depend on it); returns
    /// False (and clears the study's Rust pruner) for anything else.
    #[pyo3(signature = (pruner, study_name = ""))]
    fn set_pruner(
        &self,
        py: Python<'_>,
        pruner: &Bound<'_, PyAny>,
        study_name: &str,
    ) -> PyRes<bool> {
        guard(py, || {
            let mut p = pruner_of(py, pruner);
            let mut g = self.hold_py(py)?;
            if let Some(p) = p.as_mut() {
                p.set_study_name(study_name);
                // The study's rung records so far (a resumed or unpickled study).
                for r in &g.rungs.records {
                    conv(py, p.add_record(&g.history, r))?;
                }
            }
            let ok = p.is_some();
            g.pruner = p;
            Ok(ok)
        })
    }

    /// Whether trial `number` should stop at its last reported step, as the
    /// study's Rust pruner decides (O(steps of the trial) once the pruner's
    /// statistics have taken in the trials finished since the last call).
    fn should_prune(&self, py: Python<'_>, number: usize) -> PyRes<bool> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            Ok(conv(py, prune_logged(&mut g, number, None))?.0)
        })
    }

    /// [`StudyCore::should_prune`] that also returns the rung records the
    /// decision made, each `(trial, rung, values, promoted, order)`, numbered
    /// from `order` (None: the study's own counter), for the storage to keep.
    #[pyo3(signature = (number, order = None))]
    fn prune(
        &self,
        py: Python<'_>,
        number: usize,
        order: Option<u64>,
    ) -> PyRes<(bool, Vec<PyRungRecord>)> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            conv(py, prune_logged(&mut g, number, order))
        })
    }

    /// What the study's pruner needs to answer for trial `number` now: 0 or 1,
    /// its answer (keep, prune), made without recording anything; 2, it records
    /// a rung value (decide in the storage's serialized step, with `prune`);
    /// 3, it needs the other workers' finished trials first (sync, then ask).
    fn prune_check(&self, py: Python<'_>, number: usize) -> PyRes<u8> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            let Inner {
                history, pruner, ..
            } = &mut *g;
            let p = pruner
                .as_mut()
                .ok_or_else(|| to_pyerr(py, not_rust_pruner()))?;
            Ok(match conv(py, p.check(history, number))? {
                Check::Local => u8::from(conv(py, p.prune(history, number))?),
                Check::Record => 2,
                Check::Sync => 3,
            })
        })
    }

    /// Takes in rung records made elsewhere, each `(trial, rung, values,
    /// promoted, order)`, in their order; records already held are skipped.
    fn add_rung_records(&self, py: Python<'_>, records: Vec<PyRungRecord>) -> PyRes<()> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            let Inner {
                history,
                pruner,
                rungs,
                ..
            } = &mut *g;
            for (trial, rung, values, promoted, order) in records {
                let r = RungRecord {
                    trial,
                    rung,
                    values,
                    promoted,
                    order,
                };
                if let Some(p) = pruner.as_mut() {
                    if !rungs.known.contains(&(trial, rung)) {
                        conv(py, p.add_record(history, &r))?;
                    }
                }
                rungs.add(r);
            }
            Ok(())
        })
    }

    /// Every rung record the study holds, `(trial, rung, values, promoted,
    /// order)`, in the order taken in.
    fn rung_records(&self, py: Python<'_>) -> PyRes<Vec<PyRungRecord>> {
        guard(py, || {
            Ok(self
                .hold_py(py)?
                .rungs
                .records
                .iter()
                .map(to_py_record)
                .collect())
        })
    }

    /// Starts a new RUNNING trial and returns its number.
    fn ask(&self, py: Python<'_>) -> PyRes<usize> {
        guard(py, || {
            Ok(self.hold_py(py)?.history.create_trial(TrialState::Running))
        })
    }

    /// Adds a WAITING trial (an enqueued one) and returns its number.
    fn create_waiting(&self, py: Python<'_>) -> PyRes<usize> {
        guard(py, || {
            Ok(self.hold_py(py)?.history.create_trial(TrialState::Waiting))
        })
    }

    /// Moves the first WAITING trial to RUNNING and returns its number.
    fn pop_waiting(&self, py: Python<'_>) -> PyRes<Option<usize>> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            let Some(n) = g.history.first_waiting() else {
                return Ok(None);
            };
            g.history.start_waiting(n);
            Ok(Some(n))
        })
    }

    /// Samples and records a float parameter; returns its value.
    #[pyo3(signature = (number, name, low, high, step=None, log=false))]
    fn suggest_float(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        low: f64,
        high: f64,
        step: Option<f64>,
        log: bool,
    ) -> PyRes<f64> {
        guard(py, || {
            let d = conv(py, Distribution::float(name, low, high, step, log))?;
            self.suggest(py, number, name, d)
        })
    }

    /// Samples and records an integer parameter; returns its value.
    #[pyo3(signature = (number, name, low, high, step=1, log=false))]
    fn suggest_int(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        low: i64,
        high: i64,
        step: i64,
        log: bool,
    ) -> PyRes<i64> {
        guard(py, || {
            let d = conv(py, Distribution::int(name, low, high, step, log))?;
            Ok(self.suggest(py, number, name, d)? as i64)
        })
    }

    /// Samples and records a categorical parameter; returns the choice index.
    fn suggest_categorical(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        n: usize,
    ) -> PyRes<usize> {
        guard(py, || {
            let d = conv(py, Distribution::categorical(name, n))?;
            Ok(self.suggest(py, number, name, d)? as usize)
        })
    }

    /// A value for `name` from the Rust sampler, without recording it; the
    /// GIL is released while the sampler works (its model may be refitted).
    fn sample_independent(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        dist: &Dist,
    ) -> PyRes<f64> {
        guard(py, || {
            detached(py, || {
                let mut g = self.hold_for_callbacks()?;
                let Inner {
                    history, sampler, ..
                } = &mut *g;
                let s = sampler.as_ref().ok_or_else(not_rust)?;
                let v = lock(s).sample_independent(history, number, name, &dist.inner)?;
                Ok(v)
            })
        })
    }

    /// Samples and records a parameter of any distribution with the Rust sampler.
    fn suggest_dist(&self, py: Python<'_>, number: usize, name: &str, dist: &Dist) -> PyRes<f64> {
        guard(py, || self.suggest(py, number, name, dist.inner.clone()))
    }

    /// An IncompatibleDistributionError when `dist` cannot be recorded for
    /// `name` in this study (another kind of distribution), recording nothing.
    fn check_dist(&self, py: Python<'_>, name: &str, dist: &Dist) -> PyRes<()> {
        guard(py, || {
            conv(py, self.hold_py(py)?.history.check_dist(name, &dist.inner))
        })
    }

    /// The value a trial already has for `name` under `dist`, or None; an
    /// error when it has one under another distribution.
    fn existing(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        dist: &Dist,
    ) -> PyRes<Option<f64>> {
        guard(py, || {
            conv(
                py,
                self.hold_py(py)?
                    .history
                    .existing(number, name, &dist.inner),
            )
        })
    }

    /// The joint value that `relative` chose for `name` in trial `number` and that no
    /// suggest has used yet, when `dist` contains it; None otherwise.
    fn pending_value(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        dist: &Dist,
    ) -> PyRes<Option<f64>> {
        guard(py, || {
            let g = self.hold_py(py)?;
            let history = &g.history;
            Ok(history
                .param_index(name)
                .and_then(|p| history.pending_value(number, p, &dist.inner)))
        })
    }

    /// Records a value chosen elsewhere (a Python sampler, a relative sample, an enqueued trial).
    fn set_param(
        &self,
        py: Python<'_>,
        number: usize,
        name: &str,
        dist: &Dist,
        value: f64,
    ) -> PyRes<()> {
        guard(py, || {
            conv(
                py,
                self.hold_py(py)?
                    .history
                    .set_param(number, name, &dist.inner, value),
            )
        })
    }

    /// Samples a whole declared space for a trial; returns the configuration
    /// (NaN = inactive). `accept`, when given, is a Python callable row ->
    /// bool holding the space's Python predicates, asked about each candidate
    /// that satisfies the space, so no configuration a predicate rejects is
    /// returned.
    ///
    /// Without `fixed` and `propose`, the Rust sampler draws the whole row
    /// (`Sampler::sample_space`). Otherwise the core's constrained sampler
    /// (`SearchSpace::sample_with_fixed`) keeps the values of `fixed` (one
    /// entry per parameter, internal representation, None = free) and draws
    /// the free ones: for the first candidates from `propose`, a Python
    /// callable index -> internal value (a Python sampler), or, without it,
    /// from the Rust sampler's `sample_independent`; then uniformly from a
    /// generator seeded by `seed` and the trial's number. An exception
    /// `accept` or `propose` raises is re-raised unchanged.
    #[pyo3(signature = (number, space, max_draws=DEFAULT_MAX_DRAWS, accept=None, fixed=None,
                        propose=None, seed=0))]
    #[allow(clippy::too_many_arguments)]
    fn sample_space(
        &self,
        py: Python<'_>,
        number: usize,
        space: &Space,
        max_draws: usize,
        accept: Option<Py<PyAny>>,
        fixed: Option<Vec<Option<f64>>>,
        propose: Option<Py<PyAny>>,
        seed: u64,
    ) -> PyRes<Vec<f64>> {
        guard(py, || {
            let mut raised: Option<PyErr> = None;
            let out = detached(py, || {
                // Python errors are kept to re-raise; the core gets a stand-in.
                let raised = std::cell::RefCell::new(&mut raised);
                let keep = |e: PyErr, what: &str| {
                    **raised.borrow_mut() = Some(e);
                    Error::InvalidArgument(format!("{what} raised"))
                };
                let mut check = |row: &[f64]| -> ferrotune_core::Result<bool> {
                    let Some(f) = &accept else { return Ok(true) };
                    Python::attach(|py| f.call1(py, (row.to_vec(),))?.extract::<bool>(py))
                        .map_err(|e| keep(e, "a predicate"))
                };
                let fixed = match (fixed, &propose) {
                    (None, None) => {
                        let mut g = self.hold_for_callbacks()?;
                        let Inner {
                            history, sampler, ..
                        } = &mut *g;
                        let sampler = sampler.as_ref().ok_or_else(not_rust)?;
                        let mut s = lock(sampler);
                        let row =
                            s.sample_space(history, number, &space.inner, max_draws, &mut check)?;
                        keep_tag(history, &mut *s, number)?;
                        return Ok(row);
                    }
                    (fixed, _) => fixed.unwrap_or_else(|| vec![None; space.inner.params().len()]),
                };
                let mut rng = Rng::new(seed ^ (number as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
                if let Some(f) = &propose {
                    // A Python sampler reads the study: the study's lock stays free.
                    let mut from_python = |i: usize, _: &Param| -> ferrotune_core::Result<f64> {
                        Python::attach(|py| f.call1(py, (i,))?.extract::<f64>(py))
                            .map_err(|e| keep(e, "the sampler"))
                    };
                    return space.inner.sample_with_fixed(
                        &fixed,
                        max_draws,
                        &mut from_python,
                        &mut rng,
                        &mut check,
                    );
                }
                let mut g = self.hold_for_callbacks()?;
                let Inner {
                    history, sampler, ..
                } = &mut *g;
                let sampler = sampler.as_ref().ok_or_else(not_rust)?;
                // The sampler's joint proposal gives the free values of the first
                // candidate (its model sees which values are fixed); later ones
                // come from its independent draws, then uniform ones.
                // Only when every fixed value is held for every trial (a partially
                // fixed sampler): a value fixed for this trial alone (enqueued) would
                // replace a coordinate of the proposal, and a population sampler's tag
                // would record a position never evaluated.
                let held_only = space
                    .inner
                    .params()
                    .iter()
                    .zip(&fixed)
                    .all(|(p, v)| v.is_none() || history.holds(&p.name));
                history.set_space_fixed(Some(fixed.clone()));
                let proposal = if !held_only || fixed.iter().all(Option::is_some) {
                    history.set_space_fixed(None);
                    None
                } else {
                    let mut s = lock(sampler);
                    let row =
                        s.sample_space(history, number, &space.inner, max_draws, &mut |_| Ok(true));
                    history.set_space_fixed(None);
                    match row {
                        Ok(row) => {
                            keep_tag(history, &mut *s, number)?;
                            Some(row)
                        }
                        Err(Error::Infeasible(_)) => None,
                        Err(e) => return Err(e),
                    }
                };
                let history: &History = history;
                let mut first = vec![true; fixed.len()];
                let mut from_rust = |i: usize, p: &Param| -> ferrotune_core::Result<f64> {
                    if std::mem::take(&mut first[i]) {
                        if let Some(v) = proposal.as_ref().map(|r| r[i]).filter(|v| !v.is_nan()) {
                            return Ok(v);
                        }
                    }
                    lock(sampler).sample_independent(history, number, &p.name, &p.dist)
                };
                space.inner.sample_with_fixed(
                    &fixed,
                    max_draws,
                    &mut from_rust,
                    &mut rng,
                    &mut check,
                )
            });
            match (out, raised) {
                (_, Some(e)) => Err(e),
                (r, None) => r,
            }
        })
    }

    /// Records a configuration of a declared space (NaN = inactive, skipped).
    fn set_space_params(
        &self,
        py: Python<'_>,
        number: usize,
        space: &Space,
        values: Vec<f64>,
    ) -> PyRes<()> {
        guard(py, || {
            let mut g = self.hold_py(py)?;
            for ((p, name), v) in space.inner.params().iter().zip(&space.names).zip(values) {
                if !v.is_nan() && conv(py, g.history.existing(number, name, &p.dist))?.is_none() {
                    conv(py, g.history.set_param(number, name, &p.dist, v))?;
                }
            }
            Ok(())
        })
    }

    /// Stores an intermediate value.
    fn report(&self, py: Python<'_>, number: usize, step: i64, value: f64) -> PyRes<()> {
        guard(py, || {
            conv(py, self.hold_py(py)?.history.report(number, step, value))
        })
    }

    /// Stores an intermediate vector, one value per objective (a study with
    /// several objectives).
    fn report_vector(
        &self,
        py: Python<'_>,
        number: usize,
        step: i64,
        values: Vec<f64>,
    ) -> PyRes<()> {
        guard(py, || {
            conv(
                py,
                self.hold_py(py)?
                    .history
                    .report_vector(number, step, &values),
            )
        })
    }

    /// Finishes a running trial (COMPLETE, PRUNED or FAIL).
    fn tell(
        &self,
        py: Python<'_>,
        number: usize,
        state: PyTrialState,
        values: Vec<f64>,
    ) -> PyRes<()> {
        guard(py, || {
            conv(
                py,
                self.hold_py(py)?
                    .history
                    .finish(number, state.into(), values),
            )
        })
    }

    /// Number of trials.
    fn n_trials(&self, py: Python<'_>) -> PyRes<usize> {
        guard(py, || Ok(self.hold_py(py)?.history.trials().len()))
    }

    /// State of one trial.
    fn state(&self, py: Python<'_>, number: usize) -> PyRes<PyTrialState> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(conv(py, g.history.trial(number))?.state.into())
        })
    }

    /// Whether trial `number` is RUNNING (`state` without building a state
    /// object: the check of every `tell`).
    fn is_running(&self, py: Python<'_>, number: usize) -> PyRes<bool> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(conv(py, g.history.trial(number))?.state == TrialState::Running)
        })
    }

    /// One trial.
    fn record(&self, py: Python<'_>, number: usize) -> PyRes<PyTrialRecord> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(PyTrialRecord::of(conv(py, g.history.trial(number))?))
        })
    }

    /// Trials `start..stop` (clipped to the study) in one call; the GIL is
    /// released while they are copied.
    fn records(&self, py: Python<'_>, start: usize, stop: usize) -> PyRes<Vec<PyTrialRecord>> {
        guard(py, || {
            detached(py, || {
                let g = self.hold()?;
                let trials = g.history.trials();
                let stop = stop.min(trials.len());
                let start = start.min(stop);
                Ok(trials[start..stop].iter().map(PyTrialRecord::of).collect())
            })
        })
    }

    /// The black-box constraint values of every trial, in trial order (empty
    /// lists where none were reported): what `records` leaves out, for pickling.
    fn all_constraints(&self, py: Python<'_>) -> PyRes<Vec<Vec<f64>>> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(g.history
                .trials()
                .iter()
                .map(|t| t.constraints.clone())
                .collect())
        })
    }

    /// (name, distribution) of a parameter key of a `TrialRecord`.
    fn param_dist(&self, py: Python<'_>, key: u64) -> PyRes<(String, Dist)> {
        guard(py, || {
            let g = self.hold_py(py)?;
            let (p, d) = ((key >> 32) as usize, (key & 0xffff_ffff) as usize);
            match g
                .history
                .params()
                .get(p)
                .and_then(|c| Some((c, c.dists.get(d)?)))
            {
                Some((c, dist)) => Ok((c.name.clone(), dist_of(dist))),
                None => Err(to_pyerr(
                    py,
                    Error::InvalidArgument(format!("no parameter key {key}")),
                )),
            }
        })
    }

    /// Number of the best COMPLETE trial (single objective), or None.
    fn best_trial(&self, py: Python<'_>, maximize: bool) -> PyRes<Option<usize>> {
        guard(py, || Ok(self.hold_py(py)?.history.best_trial(maximize)))
    }

    /// Numbers of the COMPLETE trials on the Pareto front.
    fn pareto_front(&self, py: Python<'_>, maximize: Vec<bool>) -> PyRes<Vec<usize>> {
        guard(py, || Ok(self.hold_py(py)?.history.pareto_front(&maximize)))
    }

    /// Optuna's intersection search space: [(name, dist)] present with the
    /// same distribution in every COMPLETE trial.
    fn intersection_space(&self, py: Python<'_>) -> PyRes<Vec<(String, Dist)>> {
        guard(py, || {
            let g = self.hold_py(py)?;
            let cols = g.history.params();
            Ok(g.history
                .full_intersection_space()
                .into_iter()
                .map(|(p, d)| {
                    let c = &cols[p as usize];
                    (c.name.clone(), dist_of(&c.dists[d as usize]))
                })
                .collect())
        })
    }

    /// The names of every parameter any trial has (in first-seen order): more than
    /// the intersection space holds means conditional or changing parameters.
    fn param_names(&self, py: Python<'_>) -> PyRes<Vec<String>> {
        guard(py, || {
            let g = self.hold_py(py)?;
            Ok(g.history.params().iter().map(|c| c.name.clone()).collect())
        })
    }
}

/// Stores the tag the sampler attaches to the trial it has just proposed
/// (`Sampler::take_tag`), if any.
fn keep_tag(
    history: &mut History,
    sampler: &mut dyn Sampler,
    number: usize,
) -> ferrotune_core::Result<()> {
    let tag = sampler.take_tag(number);
    if tag.is_empty() {
        Ok(())
    } else {
        history.set_tag(number, tag)
    }
}

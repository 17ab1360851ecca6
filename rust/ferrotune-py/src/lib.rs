//! The compiled module `ferrotune._core`: converts Python values, releases the
//! GIL around heavy work, and maps core errors onto `ferrotune.exceptions`.
//! All logic lives in `ferrotune-core`.

use std::any::Any;
use std::cell::RefCell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard};

use ferrotune_core::Error;
use pyo3::exceptions::{PyException, PyRuntimeError};
use pyo3::prelude::*;

mod forest;
mod grid;
mod importance;
mod pruners;
mod samplers;
mod space;
mod study;

/// Maps a core error onto the matching `ferrotune.exceptions` class.
pub(crate) fn to_pyerr(py: Python<'_>, e: Error) -> PyErr {
    let class = match &e {
        Error::InvalidDistribution { .. } => "InvalidDistributionError",
        Error::IncompatibleDistribution { .. } => "IncompatibleDistributionError",
        Error::InvalidSpace(_) => "InvalidSpaceError",
        Error::Infeasible(_) => "InfeasibleSpaceError",
        Error::InvalidTrial(_) => "InvalidTrialError",
        Error::UpdateFinishedTrial(_) => "UpdateFinishedTrialError",
        Error::InvalidArgument(_) => "InvalidArgumentError",
    };
    ferrotune_error(py, class, e.to_string())
}

/// An instance of `ferrotune.exceptions.<class>` with `msg`.
fn ferrotune_error(py: Python<'_>, class: &str, msg: String) -> PyErr {
    match py
        .import("ferrotune.exceptions")
        .and_then(|m| m.getattr(class))
    {
        Ok(cls) => match cls.cast_into() {
            Ok(cls) => PyErr::from_type(cls, msg),
            Err(_) => PyRuntimeError::new_err(msg),
        },
        Err(err) => err,
    }
}

/// `ferrotune.exceptions.InternalError` for a panic of the Rust code: a bug,
/// reported as an exception instead of unwinding into the interpreter.
fn internal_error(py: Python<'_>, payload: &(dyn Any + Send)) -> PyErr {
    let what = payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic".to_string());
    ferrotune_error(
        py,
        "InternalError",
        format!("internal error in ferrotune's Rust core (a bug: please report it): {what}"),
    )
}

/// Result of the binding.
pub(crate) type PyRes<T> = PyResult<T>;

/// Converts a core result.
pub(crate) fn conv<T>(py: Python<'_>, r: ferrotune_core::Result<T>) -> PyRes<T> {
    r.map_err(|e| to_pyerr(py, e))
}

thread_local! {
    /// The exception a user callable raised when the core called it (on this
    /// thread) and turned its failure into an `Error`: [`guard`] chains it
    /// onto the error the call returns.
    static RAISED: RefCell<Option<PyErr>> = const { RefCell::new(None) };
}

/// Calls a user's Python callable from core code (the GIL is taken if the
/// caller released it). On failure the exception is kept for [`guard`],
/// which sets it as `__cause__` of the error the core returns, and the core
/// gets the exception's text ("ValueError: ...") to put in that error.
pub(crate) fn call_user<T>(
    f: impl FnOnce(Python<'_>) -> PyResult<T>,
) -> std::result::Result<T, String> {
    Python::attach(|py| {
        f(py).map_err(|e| {
            let msg = e.to_string();
            RAISED.with(|r| *r.borrow_mut() = Some(e));
            msg
        })
    })
}

/// Every binding entry point runs its body in `guard`: a panic becomes
/// `ferrotune.exceptions.InternalError` (never a `PanicException`, which
/// `except Exception` does not catch), and an error caused by a user callable
/// keeps that callable's exception as `__cause__` (a `BaseException` that is
/// no `Exception`, such as `KeyboardInterrupt`, is re-raised unchanged).
pub(crate) fn guard<T>(py: Python<'_>, f: impl FnOnce() -> PyRes<T>) -> PyRes<T> {
    // A stale exception of a callable whose failure the core absorbed.
    drop(take_raised());
    let out = match catch_unwind(AssertUnwindSafe(f)) {
        Ok(r) => r,
        Err(payload) => Err(internal_error(py, payload.as_ref())),
    };
    let raised = take_raised();
    match (out, raised) {
        (Err(e), Some(cause)) => {
            if !cause.is_instance_of::<PyException>(py) {
                return Err(cause);
            }
            if e.cause(py).is_none() && !e.value(py).is(cause.value(py)) {
                e.set_cause(py, Some(cause));
            }
            Err(e)
        }
        (out, _) => out,
    }
}

fn take_raised() -> Option<PyErr> {
    RAISED.with(|r| r.borrow_mut().take())
}

/// Runs heavy core work with the GIL released; a panic becomes
/// `ferrotune.exceptions.InternalError` instead of unwinding into the
/// interpreter.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> ferrotune_core::Result<T> + Send,
) -> PyRes<T> {
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match out {
        Ok(r) => conv(py, r),
        Err(payload) => Err(internal_error(py, payload.as_ref())),
    }
}

/// Locks a mutex, recovering the data if a panic poisoned it: every core
/// operation leaves its data consistent before it can panic.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// The exact hypervolume of the rows of `points` (minimised) up to
/// `reference_point`, computed with the GIL released.
#[pyfunction]
fn hypervolume(
    py: Python<'_>,
    points: numpy::PyReadonlyArray2<'_, f64>,
    reference_point: Vec<f64>,
) -> PyRes<f64> {
    guard(py, || {
        use numpy::PyUntypedArrayMethods;
        let width = points.shape()[1];
        let flat: Vec<f64> = points.as_array().iter().copied().collect();
        detached(py, move || {
            let rows: Vec<Vec<f64>> = flat.chunks(width.max(1)).map(<[f64]>::to_vec).collect();
            ferrotune_core::hypervolume::hypervolume(&rows, &reference_point)
        })
    })
}

/// log Φ(x) of the core's truncated-normal numerics (exposed for tests).
#[pyfunction]
fn log_ndtr(py: Python<'_>, x: f64) -> PyRes<f64> {
    guard(py, || {
        Ok(ferrotune_core::samplers::tpe::truncnorm::log_ndtr(x))
    })
}

/// Φ⁻¹(p) (AS 241).
#[pyfunction]
fn ndtri(py: Python<'_>, p: f64) -> PyRes<f64> {
    guard(py, || {
        Ok(ferrotune_core::samplers::tpe::truncnorm::ndtri(p))
    })
}

/// log density of N(mu, sigma²) truncated to [low, high].
#[pyfunction]
fn truncnorm_logpdf(
    py: Python<'_>,
    x: f64,
    mu: f64,
    sigma: f64,
    low: f64,
    high: f64,
) -> PyRes<f64> {
    guard(py, || {
        Ok(ferrotune_core::samplers::tpe::truncnorm::truncnorm_logpdf(
            x, mu, sigma, low, high,
        ))
    })
}

/// Quantile at u of the standard normal truncated to [a, b].
#[pyfunction]
fn truncnorm_ppf(py: Python<'_>, u: f64, a: f64, b: f64) -> PyRes<f64> {
    guard(py, || {
        Ok(ferrotune_core::samplers::tpe::truncnorm::truncnorm_ppf(
            u, a, b,
        ))
    })
}

/// Panics inside the binding's guard, with the GIL held (`detached=False`)
/// or released (`detached=True`): lets tests prove that a panic reaches Python
/// as `ferrotune.exceptions.InternalError`. Not part of the API.
#[pyfunction]
#[pyo3(signature = (detached=false))]
fn _panic_for_tests(py: Python<'_>, detached: bool) -> PyRes<()> {
    guard(py, || {
        if detached {
            crate::detached(py, || -> ferrotune_core::Result<()> {
                panic!("a test panic, GIL released")
            })
        } else {
            panic!("a test panic, GIL held")
        }
    })
}

/// Locks a mutex from code that holds the GIL. If the lock is taken, the GIL
/// is released while waiting: the holder may be detached Rust work that needs
/// the GIL to call back into Python (a predicate, a user's gamma), and waiting
/// with the GIL would deadlock.
pub(crate) fn lock_py<'a, T: ?Sized + Send>(py: Python<'_>, m: &'a Mutex<T>) -> MutexGuard<'a, T> {
    loop {
        match m.try_lock() {
            Ok(g) => return g,
            Err(std::sync::TryLockError::Poisoned(p)) => return p.into_inner(),
            Err(std::sync::TryLockError::WouldBlock) => py.detach(|| drop(lock(m))),
        }
    }
}

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<space::Dist>()?;
    m.add_class::<space::Space>()?;
    m.add_class::<study::StudyCore>()?;
    study::register_types(m)?;
    samplers::add_classes(m)?;
    pruners::add_classes(m)?;
    m.add_class::<grid::GridOrderCore>()?;
    m.add_class::<grid::GridPointsCore>()?;
    m.add_class::<grid::GridFitCore>()?;
    m.add_class::<forest::ForestCore>()?;
    m.add_function(wrap_pyfunction!(hypervolume, m)?)?;
    m.add_function(wrap_pyfunction!(log_ndtr, m)?)?;
    m.add_function(wrap_pyfunction!(ndtri, m)?)?;
    m.add_function(wrap_pyfunction!(truncnorm_logpdf, m)?)?;
    m.add_function(wrap_pyfunction!(truncnorm_ppf, m)?)?;
    m.add_function(wrap_pyfunction!(_panic_for_tests, m)?)?;
    importance::add_functions(m)?;
    Ok(())
}

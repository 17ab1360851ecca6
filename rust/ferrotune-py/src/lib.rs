//! The compiled module `ferrotune._core`: converts Python values, releases the
//! GIL around heavy work, and maps core errors onto `ferrotune.exceptions`.
//! All logic lives in `ferrotune-core`.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Mutex, MutexGuard};

use ferrotune_core::Error;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;

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
    let msg = e.to_string();
    match py
        .import("ferrotune.exceptions")
        .and_then(|m| m.getattr(class))
    {
        Ok(cls) => PyErr::from_type(cls.cast_into().expect("exception class"), msg),
        Err(err) => err,
    }
}

/// Result of the binding.
pub(crate) type PyRes<T> = PyResult<T>;

/// Converts a core result.
pub(crate) fn conv<T>(py: Python<'_>, r: ferrotune_core::Result<T>) -> PyRes<T> {
    r.map_err(|e| to_pyerr(py, e))
}

/// Runs heavy core work with the GIL released; a panic becomes a Python
/// `RuntimeError` instead of unwinding into the interpreter.
pub(crate) fn detached<T: Send>(
    py: Python<'_>,
    f: impl FnOnce() -> ferrotune_core::Result<T> + Send,
) -> PyRes<T> {
    let out = py.detach(|| catch_unwind(AssertUnwindSafe(f)));
    match out {
        Ok(r) => conv(py, r),
        Err(_) => Err(PyRuntimeError::new_err(
            "internal error in ferrotune's Rust core (a bug: please report it)",
        )),
    }
}

/// Locks a mutex, recovering the data if a panic poisoned it: every core
/// operation leaves its data consistent before it can panic.
pub(crate) fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// log Φ(x) of the core's truncated-normal numerics (exposed for tests).
#[pyfunction]
fn log_ndtr(x: f64) -> f64 {
    ferrotune_core::samplers::tpe::truncnorm::log_ndtr(x)
}

/// Φ⁻¹(p) (AS 241).
#[pyfunction]
fn ndtri(p: f64) -> f64 {
    ferrotune_core::samplers::tpe::truncnorm::ndtri(p)
}

/// log density of N(mu, sigma²) truncated to [low, high].
#[pyfunction]
fn truncnorm_logpdf(x: f64, mu: f64, sigma: f64, low: f64, high: f64) -> f64 {
    ferrotune_core::samplers::tpe::truncnorm::truncnorm_logpdf(x, mu, sigma, low, high)
}

/// Quantile at u of the standard normal truncated to [a, b].
#[pyfunction]
fn truncnorm_ppf(u: f64, a: f64, b: f64) -> f64 {
    ferrotune_core::samplers::tpe::truncnorm::truncnorm_ppf(u, a, b)
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
    m.add_class::<samplers::RandomSamplerCore>()?;
    m.add_class::<samplers::QmcSamplerCore>()?;
    m.add_class::<samplers::GridOrderCore>()?;
    m.add_class::<samplers::TpeSamplerCore>()?;
    m.add_class::<samplers::GpSamplerCore>()?;
    m.add_function(wrap_pyfunction!(log_ndtr, m)?)?;
    m.add_function(wrap_pyfunction!(ndtri, m)?)?;
    m.add_function(wrap_pyfunction!(truncnorm_logpdf, m)?)?;
    m.add_function(wrap_pyfunction!(truncnorm_ppf, m)?)?;
    Ok(())
}

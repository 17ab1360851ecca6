//! The one error type of the core. The binding maps each variant onto a
//! `ferrotune.exceptions` class (all `ValueError` subclasses); the binding
//! reports a panic as `InternalError`, a `RuntimeError`.

use thiserror::Error;

/// Everything that can go wrong in the core, with the parameter it concerns.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// A distribution's arguments are invalid (low > high, log with low <= 0, ...).
    /// An empty `param` (a distribution built on its own) is left out of the message.
    #[error("{}{msg}", if param.is_empty() { String::new() } else { format!("parameter '{param}': ") })]
    InvalidDistribution { param: String, msg: String },
    /// The same name was suggested with an incompatible distribution.
    #[error("parameter '{param}': {msg}")]
    IncompatibleDistribution { param: String, msg: String },
    /// A declared search space, condition or constraint is malformed.
    #[error("{0}")]
    InvalidSpace(String),
    /// No feasible configuration could be found.
    #[error("{0}")]
    Infeasible(String),
    /// An operation on a trial that does not allow it (unknown, already finished, ...).
    #[error("{0}")]
    InvalidTrial(String),
    /// A change to a trial that has already finished (Optuna's `UpdateFinishedTrialError`).
    #[error("{0}")]
    UpdateFinishedTrial(String),
    /// An argument outside its documented range.
    #[error("{0}")]
    InvalidArgument(String),
}

/// Result alias of the core.
pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub(crate) fn dist(param: &str, msg: impl Into<String>) -> Self {
        Error::InvalidDistribution {
            param: param.to_string(),
            msg: msg.into(),
        }
    }
}

//! Samplers: one algorithm a module, all behind [`Sampler`].

pub mod grid;
pub mod qmc;
pub mod random;

use crate::constraints::SearchSpace;
use crate::error::Result;
use crate::history::History;
use crate::space::Distribution;

pub use grid::GridOrder;
pub use qmc::{QmcKind, QmcSampler};
pub use random::RandomSampler;

/// Default number of candidate draws before a declared space is reported infeasible.
pub const DEFAULT_MAX_DRAWS: usize = 100_000;

/// What the study asks of a Rust sampler.
pub trait Sampler: Send {
    /// A value (internal representation) for one parameter of a running trial,
    /// drawn without regard to the other parameters.
    fn sample_independent(
        &mut self,
        history: &History,
        trial: usize,
        name: &str,
        dist: &Distribution,
    ) -> f64;

    /// A whole configuration of a declared space: active parameters set,
    /// inactive ones NaN, every hard constraint satisfied.
    fn sample_space(
        &mut self,
        history: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
    ) -> Result<Vec<f64>>;

    /// Joint values for `dists` (the relative search space inferred from the
    /// history); `None` when the sampler has no joint model.
    fn sample_relative(
        &mut self,
        _history: &History,
        _trial: usize,
        _dists: &[Distribution],
    ) -> Option<Vec<f64>> {
        None
    }
}

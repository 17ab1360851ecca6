//! Samplers: one algorithm a module, all behind [`Sampler`].

pub mod gp;
pub mod grid;
pub mod qmc;
pub mod random;
pub mod tpe;

use crate::constraints::{Accept, SearchSpace};
use crate::error::Result;
use crate::history::History;
use crate::space::Distribution;

pub use grid::GridOrder;
pub use qmc::{QmcKind, QmcSampler};
pub use random::RandomSampler;
pub use tpe::{TpeConfig, TpeSampler};

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
    ) -> Result<f64>;

    /// A whole configuration of a declared space: active parameters set,
    /// inactive ones NaN, every hard constraint satisfied.
    /// `accept` adds the caller's own constraints to the space's.
    fn sample_space(
        &mut self,
        history: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>>;

    /// Values the sampler chooses jointly for a new trial before the
    /// objective asks for them: (param, dist, internal value), where (param,
    /// dist) index into the history. Empty for samplers without a joint model.
    fn relative_values(
        &mut self,
        _history: &History,
        _trial: usize,
    ) -> Result<Vec<(u32, u32, f64)>> {
        Ok(Vec::new())
    }

    /// True when `sample_independent` is O(1) work (no model to fit): the
    /// binding then keeps the GIL for it, as releasing it would cost more.
    fn independent_is_cheap(&self) -> bool {
        true
    }
}

/// Starts a trial in `h` and draws a value for each of `dims` (named
/// `names`) the way a study does: the sampler's joint values first, then an
/// independent draw for any parameter they do not cover. Returns the trial's
/// number and its internal values, with the trial still RUNNING. For Rust
/// callers without the Python study (tests, examples, benchmarks).
pub fn start_trial(
    sampler: &mut dyn Sampler,
    h: &mut History,
    names: &[String],
    dims: &[Distribution],
) -> Result<(usize, Vec<f64>)> {
    let t = h.create_trial(crate::history::TrialState::Running);
    let rel = sampler.relative_values(h, t)?;
    h.set_pending(t, rel);
    let mut x = Vec::with_capacity(dims.len());
    for (name, d) in names.iter().zip(dims) {
        let p = h.param_index(name);
        let v = match p.and_then(|p| h.pending_value(t, p, d)) {
            Some(v) => v,
            None => sampler.sample_independent(h, t, name, d)?,
        };
        h.set_param(t, name, d, v)?;
        x.push(v);
    }
    Ok((t, x))
}

/// Runs `n` trials of `f` (minimised) over `dims` through [`start_trial`]
/// and returns the best value: the tests' optimisation loop.
#[cfg(test)]
pub(crate) fn run_minimising(
    sampler: &mut dyn Sampler,
    h: &mut History,
    f: impl Fn(&[f64]) -> f64,
    dims: &[Distribution],
    n: usize,
) -> f64 {
    let names: Vec<String> = (0..dims.len()).map(|i| format!("x{i}")).collect();
    let mut best = f64::INFINITY;
    for _ in 0..n {
        // set_param rejects a value outside its distribution.
        let (t, x) = start_trial(sampler, h, &names, dims).unwrap();
        let y = f(&x);
        best = best.min(y);
        h.finish(t, crate::history::TrialState::Complete, vec![y])
            .unwrap();
    }
    best
}

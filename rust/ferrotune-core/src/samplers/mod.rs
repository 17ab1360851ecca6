//! Samplers: one algorithm a module, all behind [`Sampler`].

pub mod bohb;
pub mod cmaes;
#[cfg(test)]
pub mod conformance;
pub mod de;
pub mod dehb;
pub mod ga;
pub mod gp;
pub mod grid;
pub mod hypergradient;
pub mod nsga;
pub mod pso;
pub mod qmc;
pub mod random;
pub mod reinforce;
pub mod rf;
pub mod tpe;
pub mod trust;

use crate::constraints::{Accept, SearchSpace};
use crate::error::Result;
use crate::history::History;
use crate::rng::Rng;
use crate::space::Distribution;

pub use bohb::{BohbConfig, BohbSampler};
pub use cmaes::{CmaEsConfig, CmaEsSampler};
pub use de::{Adaptation, DeConfig, DeSampler, DeStrategy};
pub use dehb::{DehbConfig, DehbSampler};
pub use ga::{GaConfig, GaMode, GaSampler};
pub use grid::GridOrder;
pub use hypergradient::{HypergradientConfig, HypergradientSampler};
pub use nsga::{NsgaConfig, NsgaSampler};
pub use pso::{PsoConfig, PsoSampler, Topology};
pub use qmc::{QmcKind, QmcSampler};
pub use random::RandomSampler;
pub use reinforce::{ReinforceConfig, ReinforceSampler};
pub use rf::{RfConfig, RfSampler};
pub use tpe::{TpeConfig, TpeSampler};
pub use trust::{TrustConfig, TrustSampler};

/// Default number of candidate draws before a declared space is reported infeasible.
pub const DEFAULT_MAX_DRAWS: usize = 100_000;

/// A sampler's saved state: plain 64-bit words (floats as their bit
/// patterns), so that any binding can pickle it as a list of integers.
pub type SamplerState = Vec<u64>;

/// What the study asks of a Rust sampler: the contract every sampler module
/// implements, checked for each of them by `conformance::check` (a test module).
///
/// Values cross this trait in a distribution's internal representation
/// ([`Distribution`]: floats and ints as `f64`, a categorical as its choice
/// index). Every method must guarantee:
///
/// - **In the distribution.** A value returned for `dist` satisfies
///   `dist.contains(v)`: inside `[low, high]`, on the step grid of ints and
///   stepped floats, a valid choice index; never NaN or infinite.
/// - **Declared spaces.** [`Sampler::sample_space`] returns one row of
///   `space.params().len()` values with each parameter active (a value as
///   above) exactly where its condition holds and inactive (NaN) elsewhere,
///   satisfying every hard constraint of the space
///   ([`SearchSpace::is_valid`]) and the caller's `accept`. When no such row
///   is found within `max_draws` candidates it returns
///   [`crate::Error::Infeasible`], never panics and never loops without end;
///   an error from `accept` is returned as is.
/// - **Determinism.** Two samplers built with the same seed, given the same
///   calls on the same histories, return the same values.
/// - **State.** [`Sampler::state`] captures everything that decides the
///   values of later calls apart from the history (the generator, a sequence
///   position, fitted hyperparameters); [`Sampler::set_state`] on a sampler
///   of the same kind and configuration, used or not, gives that state back
///   from [`Sampler::state`] and continues exactly where the saved one would
///   have. One exemption: the GP saves its fitted hyperparameters, not its
///   models, and refits from them on the next ask, which may end elsewhere
///   than the kept model (it is checked with `exact_restore` false).
///   [`Sampler::reseed`] restarts the random stream from a new seed, so that
///   later draws differ from those the old seed gives.
/// - **Threads.** A sampler is `Send`: the binding keeps it behind a mutex
///   and calls it from whichever thread asks. The GIL is released around
///   model work; the O(1) `sample_independent` of a sampler whose
///   [`Sampler::independent_is_cheap`] is true runs with the GIL held.
/// - **Callbacks.** User code the sampler calls (`accept`, TPE's `gamma` and
///   `weights`) runs while the study's lock and the sampler's are held: it
///   must not call back into its study (the binding turns such a call into
///   an error instead of a deadlock).
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
    /// inactive ones NaN, every hard constraint satisfied, `accept` (the
    /// caller's own constraints) holding; [`crate::Error::Infeasible`] after
    /// `max_draws` candidates without one.
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
    /// dist) index into the history and each value lies in that
    /// distribution. Empty for samplers without a joint model.
    fn relative_values(
        &mut self,
        _history: &History,
        _trial: usize,
    ) -> Result<Vec<(u32, u32, f64)>> {
        Ok(Vec::new())
    }

    /// Numbers to attach to trial `trial`, for which the sampler has just
    /// returned values from [`Sampler::relative_values`] or
    /// [`Sampler::sample_space`]: a population method's generation and the
    /// trial's place in it. The study asks right after that call (under the
    /// same locks), stores a non-empty tag with the trial in its storage
    /// (trial system attribute `ferrotune:tag`) and gives every worker's
    /// history the tags of all trials ([`History::tag`]), so that state kept
    /// per generation lives in the study, not in one process. Empty (the
    /// default): no tag.
    fn take_tag(&mut self, _trial: usize) -> Vec<f64> {
        Vec::new()
    }

    /// Tells the sampler the name of its study (a sampler that follows
    /// Hyperband's brackets needs it: they hash the name); the default
    /// ignores it.
    fn set_study_name(&mut self, _name: &str) {}

    /// True when `sample_independent` is O(1) work (no model to fit): the
    /// binding then keeps the GIL for it, as releasing it would cost more.
    fn independent_is_cheap(&self) -> bool {
        true
    }

    /// The state to save (see the trait's contract).
    fn state(&self) -> SamplerState;

    /// Restores a state from [`Sampler::state`] of a sampler of the same kind;
    /// a malformed state is an [`crate::Error::InvalidArgument`].
    fn set_state(&mut self, state: &[u64]) -> Result<()>;

    /// Restarts the sampler's random stream from `seed` (the configuration,
    /// and a QMC sequence's scrambling, stay).
    fn reseed(&mut self, seed: u64);
}

/// The generator state as the first four words of a [`SamplerState`].
pub(crate) fn rng_words(rng: &Rng) -> SamplerState {
    rng.state().to_vec()
}

/// A generator from the first four words of `state`, or an error naming
/// what was expected.
pub(crate) fn rng_from_words(state: &[u64]) -> Result<Rng> {
    match state.get(..4) {
        Some(&[a, b, c, d]) => Ok(Rng::from_state([a, b, c, d])),
        _ => Err(crate::Error::InvalidArgument(format!(
            "a sampler state starts with the 4 words of its generator, got {} words",
            state.len()
        ))),
    }
}

/// Checks that a state has exactly `n` words.
pub(crate) fn expect_words(state: &[u64], n: usize) -> Result<()> {
    if state.len() == n {
        Ok(())
    } else {
        Err(crate::Error::InvalidArgument(format!(
            "this sampler's state has {n} words, got {}",
            state.len()
        )))
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
    let tag = sampler.take_tag(t);
    if !tag.is_empty() {
        h.set_tag(t, tag)?;
    }
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

/// Records one COMPLETE trial per tag, each with value `y`: the proposals of
/// population samplers whose workers asked at the same moment (tests).
#[cfg(test)]
pub(crate) fn finish_tagged(h: &mut History, tags: Vec<Vec<f64>>, y: f64) {
    for tag in tags {
        let t = h.create_trial(crate::history::TrialState::Running);
        h.set_tag(t, tag).unwrap();
        h.finish(t, crate::history::TrialState::Complete, vec![y])
            .unwrap();
    }
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

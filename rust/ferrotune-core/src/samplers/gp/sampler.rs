//! The GP sampler: Bayesian optimisation with the model of [`super::model`]
//! and the acquisition functions of [`super::acquisition`].
//!
//! Each ask after `n_startup_trials` COMPLETE trials:
//! 1. Data: the COMPLETE trials that have every modelled parameter (the
//!    history's intersection space, single-valued parameters skipped; or the
//!    parameters of a declared space, NaN where inactive), FAIL trials at the
//!    worst value and, with one objective, PRUNED ones at their last reported
//!    value (see `data`). Inputs are mapped by
//!    [`Distribution::to_unit`] (log scale and the half-step widening of ints
//!    and stepped floats are handled there), categoricals enter as choice
//!    indices (Hamming kernel). The objective is minimised: maximised ones are
//!    negated. Several objectives are scalarised afresh each ask with random
//!    weights by ParEGO's augmented Chebyshev function (Knowles 2006, "ParEGO",
//!    IEEE TEC 10(1), eq. 2, ρ = 0.05) on objectives normalised to [0, 1].
//! 2. Model: the two-sided lengthscale prior of [`Priors::two_sided`] (the
//!    log-normal prior of Hvarfner et al. let the MAP end in degenerate fits
//!    with some lengthscales near 10⁻³), the signal prior of [`super::model`]
//!    and the noise prior [`NOISE_PRIOR`]. Refit schedule: a warm
//!    single-start MAP refit on every ask up to [`REFIT_EVERY_ASK_UP_TO`]
//!    observations; beyond, a warm refit once n has grown by
//!    [`REFIT_GROWTH`] since the last one and O(n²) appends
//!    ([`Gp::add_observation`]) in between; a multi-start fit (prior mode +
//!    two prior draws + the warm start) whenever n has doubled since the last
//!    one. Hyperparameters are kept across asks. With
//!    [`GpOutputTransform::Power`] and a single objective, the values are
//!    first power-transformed ([`super::power`]: Box-Cox or Yeo-Johnson,
//!    maximum-likelihood λ); λ is estimated at each (multi-start or warm)
//!    fit and kept for the appends in between, and a value the kept
//!    transform cannot map (≤ 0 under Box-Cox) brings the refit forward.
//!    The incumbent of the acquisition is on the transformed scale (the
//!    transform is increasing, so it is the same trial). Constraint models
//!    and ParEGO's scalarisation are not transformed. With
//!    `input_warping`, the objective's model (also ParEGO's scalarisation
//!    with several objectives) warps each numeric input by a Kumaraswamy
//!    CDF ([`super::warp`]) whose (a, b) are fitted with the other
//!    hyperparameters at every (multi-start or warm) fit, starting from the
//!    identity or the kept warp, and kept for the appends in between.
//!    Constraint models are not warped (each would add 2 parameters per
//!    dimension to fit for a feasibility boundary, rarely where the
//!    objective is non-stationary). The `Auto` settings
//!    ([`GpOutputTransform::Auto`], [`GpInputWarping::Auto`]) decide at each
//!    ask by [`transforms_apply`]; the kept model is dropped when the
//!    decision changes (it is part of the cache's key).
//! 3. Black-box constraints (the trials' constraint values, `<= 0`
//!    feasible, ordered by name): one GP per constraint, fitted like the
//!    objective's (same kernel, priors and refit schedule, its own warm-started
//!    hyperparameters) on the rows whose value is finite; a trial that reported
//!    fewer constraints than the most any did cannot be aligned by position
//!    and is left out of every constraint model (it still counts in the
//!    objective's). A constraint whose values are all equal is not modelled.
//!    The acquisition is combined with Σ log P(c_k <= 0) as in
//!    [`Constrained`]; the incumbent is the best *feasible* observation (a
//!    trial with no positive constraint value, as for `History::best_trial`),
//!    and with none, feasibility alone is maximised. With no feasible trial
//!    and no constraint to model, the constraints are left out.
//! 4. Parallel workers: RUNNING trials of other workers whose point is known
//!    (recorded or pending values) are added with the posterior mean as
//!    their observation (in the constraint models too) — the Kriging
//!    believer of Ginsbourger, Le Riche & Carraro 2010, "Kriging is
//!    well-suited to parallelize optimization" — so the variance, and the
//!    acquisition, collapse there. A fantasy's mean (of a point predicted
//!    feasible) also counts in the incumbent, as the believer's observations
//!    do: without it, a pending point whose mean improves on the best keeps
//!    that improvement as its expected improvement and is proposed again.
//! 5. Acquisition optimisation: a scrambled Sobol batch plus perturbations of
//!    the best observed points, scored by [`Gp::predict_batch`]. The Sobol
//!    batch is kept from ask to ask while every model only gains
//!    observations by appends (between refits), its posterior updated in
//!    O(n m) through a [`Pool`] per model; a refit draws a new batch. Local
//!    searches from the best candidate and from candidates drawn with
//!    probability proportional to their acquisition relative to the best's
//!    (`N_REFINE` in all, on up to `REFINE_THREADS` threads): projected
//!    L-BFGS on the continuous dimensions (discrete ones held), then a
//!    coordinate-wise search over neighbouring grid values of integer /
//!    stepped dimensions and the choices of categoricals. On a
//!    declared space only feasible configurations (constraints and the
//!    caller's `accept`) are ever scored, so no infeasible point is proposed.
//!    The search runs in the unwarped coordinates: a warped model maps
//!    every point it is asked about through its warp, and its gradient is
//!    chained by ∂w/∂x ([`Gp::predict_with_grad`]). We chose this over a
//!    search in the warped coordinates because each model (objective,
//!    constraints, fantasies, candidate pools) keeps its own warp, or none,
//!    while the candidates, the declared space's feasibility and the
//!    rounding of integer and stepped values stay in the one coordinate
//!    system they share; the price is that Sobol candidates are uniform in
//!    x rather than in w(x), which the perturbations of the incumbents
//!    make up for near the best points.
//! 6. Trust region (`trust_region`, single objective only): TuRBO-1's state
//!    ([`super::trust_region::replay`]) is replayed from the COMPLETE trials
//!    of step 1 in trial order, infeasible ones counting as failures. Only
//!    the current run's trials are modelled (RUNNING ones as fantasies when
//!    numbered after the trial that ended the previous run); while the run
//!    has fewer than `n_startup_trials` observations, the trial gets the
//!    seeded uniform draw. At the first ask of a new run the kept models
//!    are dropped and their hyperparameters kept as warm starts, as an
//!    unpickled sampler's, so that both continue alike. Step 5 then runs in
//!    the box of [`super::trust_region::bounds`] around the run's best
//!    observation: Sobol candidates of the box under TuRBO's perturbation
//!    mask (drawn afresh every ask, since the box moves), perturbations of
//!    the incumbents scaled to the box and clipped to it, L-BFGS bounded by
//!    it, and a coordinate search among the grid values it admits (an int
//!    or stepped value inside the box, or the centre's; categoricals are
//!    free). On a declared space the Sobol points and perturbations are
//!    drawn in the box's unit coordinates before the space maps them, so
//!    rounding to a grid can move a value by up to half a step out of it;
//!    feasibility is checked as without the region. By default the
//!    configured acquisition is maximised in the box; with `thompson` the
//!    paper's choice is made instead: one joint posterior draw
//!    ([`Gp::joint_sample`]) of the objective and of each constraint at
//!    `THOMPSON_PER_DIM * d` candidates of the box (256 to 1,024), the
//!    smallest drawn value among the candidates drawn feasible (or the
//!    smallest drawn violation), with no local search. The draw costs
//!    O(m³/6 + n m²) per ask; the comparison of the two is in
//!    benches/README.md.
//!
//! While every observation has the same value there is nothing to model, and
//! the trial gets the seeded uniform draw of the start-up phase.
//!
//! Submodules, in the order of an ask: `data` (step 1), `fit` (steps 2-4:
//! the kept models, their refit schedule and the fantasies), `region` (step
//! 6: the run and its box), `search` (step 5 on the box of an intersection
//! space) and `space` (step 5 on a declared space).

mod data;
mod fit;
mod region;
mod search;
mod space;

use super::acquisition::Constrained;
use super::kernel::DimKind;
#[cfg(doc)]
use super::model::Priors;
use super::model::{Gp, NoisePrior, Pool};
use super::power::PowerTransform;
use super::trust_region::TrustRegion;
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::samplers::{rng_from_words, rng_words, Sampler, SamplerState};
use crate::space::Distribution;
#[cfg(test)]
use data::clip_infinite;
use data::encode;

/// Up to this many observations the hyperparameters are refitted on every ask.
pub const REFIT_EVERY_ASK_UP_TO: usize = 200;
/// Beyond it, a refit once n has grown by this fraction since the last one.
pub const REFIT_GROWTH: f64 = 0.05;
/// Sobol candidates scored per ask (intersection space).
const N_SOBOL: usize = 2048;
/// Perturbations of the best observed points scored per ask.
const N_LOCAL: usize = 256;
/// Best observed points that are perturbed.
const N_INCUMBENTS: usize = 4;
/// Local searches (L-BFGS, then the coordinate search) per ask: from the
/// best scored candidate and candidates drawn
/// without replacement with probability proportional to their acquisition
/// relative to the best's (see `search::selection_weights`).
const N_REFINE: usize = 10;
/// Threads the local searches use at most.
const REFINE_THREADS: usize = 2;
/// Observations from which the local searches are split over threads (below,
/// a search is too short for a thread to pay).
const REFINE_THREADS_FROM: usize = 32;
/// Feasible candidates scored per ask on a declared space.
const N_SPACE_CANDIDATES: usize = 512;
/// Categoricals with at most this many choices are scanned in full.
const MAX_CHOICES_SCANNED: usize = 32;
/// Grid values on each side tried by the coordinate search of a discrete dimension.
const GRID_NEIGHBOURS: i64 = 2;
/// Standard deviation (unit cube) of the perturbations of incumbents.
const LOCAL_SD: f64 = 0.05;
/// Thompson sampling draws f jointly at this many candidates per dimension
/// (the paper's `min(100 d, 5000)`), between [`THOMPSON_MIN`] and
/// [`THOMPSON_MAX`]: the draw costs O(m^3 / 6 + n m^2).
const THOMPSON_PER_DIM: usize = 100;
const THOMPSON_MIN: usize = 256;
const THOMPSON_MAX: usize = 1024;
/// In a trust region, candidates move each dimension with probability
/// `min(1, MASK_DIMS / d)` (TuRBO's perturbation mask, 20 in the paper).
const MASK_DIMS: f64 = 20.0;
/// Noise variance (standardised units) of a deterministic objective.
const DETERMINISTIC_NOISE: f64 = 1e-6;
/// Prior of the log noise variance (standardised units): N(-6, 1), i.e. a
/// median noise of 2.5e-3 of the output variance, where the model's default
/// (BoTorch's N(-4, 1)) has 0.018. With the two-sided lengthscale prior a
/// little noise helps on rugged objectives, and the likelihood still raises
/// it where the data are noisy. The comparisons behind this choice (against
/// N(-4, 1), N(-10, 1) and Optuna's Gamma prior) are in benches/README.md.
pub const NOISE_PRIOR: NoisePrior = NoisePrior::LogNormal {
    mean: -6.0,
    sd: 1.0,
};
/// ParEGO's augmentation coefficient ρ.
const PAREGO_RHO: f64 = 0.05;

/// Which acquisition function the sampler maximises.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GpAcquisition {
    LogEi,
    Ei,
    Pi,
    /// UCB with a fixed β, or the schedule of Srinivas et al. 2010 when None.
    Ucb {
        beta: Option<f64>,
    },
}

/// How the objective values are transformed before the model is fitted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum GpOutputTransform {
    /// Standardised only.
    #[default]
    None,
    /// Box-Cox or Yeo-Johnson with the maximum-likelihood λ ([`super::power`]),
    /// then standardised; single-objective studies only.
    Power,
    /// [`GpOutputTransform::Power`] where [`transforms_apply`] holds at the
    /// ask, [`GpOutputTransform::None`] elsewhere.
    Auto,
}

/// Whether the objective's model warps its numeric inputs ([`super::warp`]).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum GpInputWarping {
    #[default]
    Off,
    On,
    /// On where [`transforms_apply`] holds at the ask, off elsewhere.
    Auto,
}

/// Below this many modelled parameters the `Auto` settings may apply.
pub const AUTO_TRANSFORMS_MAX_DIMS: usize = 10;

/// Where the `Auto` settings turn the power transform and the input warp on:
/// one objective, fewer than [`AUTO_TRANSFORMS_MAX_DIMS`] modelled parameters,
/// all of them numeric and active in every observation (no categorical or
/// conditional parameter), no black-box constraint, no trust region. That is
/// where both options together were measured better than the plain model
/// (12 wins and one loss in 21 problem-budget pairs; benches/README.md, the
/// entry on the GP's defaults); on categorical,
/// conditional, constrained and 10- to 40-dimensional problems each won some
/// problems and lost others (a run stuck in a local basin or on a wrong
/// choice), so the plain model stays there.
pub fn transforms_apply(
    n_objectives: usize,
    kinds: &[DimKind],
    x: &[f64],
    constrained: bool,
    trust_region: bool,
) -> bool {
    n_objectives == 1
        && kinds.len() < AUTO_TRANSFORMS_MAX_DIMS
        && kinds.iter().all(|k| *k != DimKind::Categorical)
        && !x.iter().any(|v| v.is_nan())
        && !constrained
        && !trust_region
}

/// Settings of the sampler; see the Python `GPSampler` for their meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpConfig {
    pub acquisition: GpAcquisition,
    pub n_startup_trials: usize,
    pub deterministic_objective: bool,
    pub output_transform: GpOutputTransform,
    /// Fit a Kumaraswamy input warp ([`super::warp`]) in the objective's model.
    pub input_warping: GpInputWarping,
    /// Search inside TuRBO-1's trust region ([`super::trust_region`]; the
    /// module docs, step 6).
    pub trust_region: bool,
    /// In the trust region, choose by Thompson sampling on a candidate set
    /// (as the paper) instead of maximising the acquisition.
    pub thompson: bool,
}

impl Default for GpConfig {
    fn default() -> Self {
        GpConfig {
            acquisition: GpAcquisition::LogEi,
            n_startup_trials: 10,
            deterministic_objective: false,
            output_transform: GpOutputTransform::None,
            input_warping: GpInputWarping::Off,
            trust_region: false,
            thompson: false,
        }
    }
}

/// What the cached model was fitted on.
#[derive(Debug, Clone, PartialEq)]
struct Key {
    params: Vec<Option<u32>>,
    dists: Vec<Distribution>,
    /// The power transform and the input warp of the objective's model
    /// (which the `Auto` settings may change from one ask to the next).
    transforms: (bool, bool),
}

/// The model kept between asks (without the Kriging-believer fantasies).
#[derive(Debug, Clone)]
struct Cache {
    key: Key,
    rows: Vec<usize>,
    y: Vec<f64>,
    gp: Gp,
    /// The output transform `gp` was fitted under (None: the values as they
    /// are); estimated at each refit, kept for the appends between refits.
    tf: Option<PowerTransform>,
    /// n at the last MAP refit and at the last multi-start fit.
    n_fit: usize,
    n_multi: usize,
}

/// Which cached model: the objective's or constraint k's.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Slot {
    Objective,
    Constraint(usize),
}

/// What one ask optimises: the acquisition with its models (Kriging-believer
/// fantasies included) and incumbent, and the best observed inputs (best
/// feasible first, then the least violating; row-major).
struct Prepared {
    scorer: Constrained,
    inc: Vec<f64>,
    /// What the models were fitted on, and their numbers of observations
    /// before the fantasies (objective, then each constraint).
    key: Key,
    n_base: Vec<usize>,
    /// The trust region's box, when the option is on.
    region: Option<Region>,
}

/// The trust region of an ask: its box in kernel coordinates (the whole of
/// [0, 1] on categorical dimensions, which it leaves free) and its centre.
#[derive(Debug, Clone)]
struct Region {
    lo: Vec<f64>,
    hi: Vec<f64>,
    /// Internal values of the centre, the run's best observation.
    centre: Vec<f64>,
}

/// The Sobol candidates of the last ask on the box, with a [`Pool`] per
/// model (objective, then each constraint) holding its posterior there:
/// while the models only gain observations by appends (between refits) the
/// next ask extends the pools in O(n m) rather than scoring new candidates
/// in O(n² m).
#[derive(Debug, Clone)]
struct Candidates {
    key: Key,
    /// Internal values, m×d.
    vals: Vec<f64>,
    pools: Vec<Pool>,
}

/// Fitted hyperparameters of one model, kept across pickling: θ and the
/// numbers of observations at its last MAP refit and last multi-start fit.
#[derive(Debug, Clone, PartialEq)]
pub struct FitState {
    pub theta: Vec<f64>,
    pub n_fit: usize,
    pub n_multi: usize,
}

/// Gaussian-process Bayesian optimisation.
#[derive(Debug, Clone)]
pub struct GpSampler {
    pub cfg: GpConfig,
    pub rng: Rng,
    cache: Option<Cache>,
    /// One cache per black-box constraint, by its position in the trials'
    /// constraint vectors.
    con_cache: Vec<Option<Cache>>,
    candidates: Option<Candidates>,
    /// Restored fits (objective, then each constraint), used once as warm
    /// starts where no model is kept ([`GpSampler::restore_fits`]).
    restored: Vec<Option<FitState>>,
    /// Whether the objective's model is fitted on power-transformed values
    /// in the current ask (the option is on and there is one objective).
    power_now: bool,
    /// Whether the objective's model warps its inputs in the current ask.
    warp_now: bool,
    /// The trust region replayed at the last ask that used it.
    last_region: Option<TrustRegion>,
    /// The joint values proposed for the last trials (trial, (parameter,
    /// internal value)), at most [`MAX_PROPOSALS`]: a trial that fails before
    /// it suggests every parameter is placed at the point proposed for it.
    proposed: std::collections::VecDeque<(usize, Vec<(u32, f64)>)>,
}

/// Proposals remembered for trials that fail early (see `GpSampler::proposed`).
const MAX_PROPOSALS: usize = 64;

impl GpSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: GpConfig, seed: u64) -> Result<Self> {
        if let GpAcquisition::Ucb { beta: Some(b) } = cfg.acquisition {
            if !(b.is_finite() && b >= 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "beta must be a finite number >= 0, got {b}"
                )));
            }
        }
        Ok(GpSampler {
            cfg,
            rng: Rng::new(seed),
            cache: None,
            con_cache: Vec::new(),
            candidates: None,
            restored: Vec::new(),
            power_now: false,
            warp_now: false,
            last_region: None,
            proposed: std::collections::VecDeque::new(),
        })
    }

    /// The fitted hyperparameters of the kept models (objective, then each
    /// constraint; None where there is none), e.g. for pickling.
    pub fn fits(&self) -> Vec<Option<FitState>> {
        std::iter::once(&self.cache)
            .chain(&self.con_cache)
            .map(|c| {
                c.as_ref().map(|c| FitState {
                    theta: c.gp.params(),
                    n_fit: c.n_fit,
                    n_multi: c.n_multi,
                })
            })
            .collect()
    }

    /// The trust region's state as replayed at the last ask that used it
    /// (None before, or with the option off).
    pub fn trust_region(&self) -> Option<&TrustRegion> {
        self.last_region.as_ref()
    }

    /// Restores fits from [`GpSampler::fits`]: the next ask of each model
    /// without a kept model runs one warm refit from them (instead of a
    /// multi-start fit) and continues their refit schedule. A fit whose θ
    /// does not match the space's dimension is ignored.
    pub fn restore_fits(&mut self, fits: Vec<Option<FitState>>) {
        self.restored = fits;
    }

    fn startup(&self, h: &History) -> bool {
        let n = h
            .trials()
            .iter()
            .filter(|t| t.state == TrialState::Complete)
            .count();
        n < self.cfg.n_startup_trials
    }

    /// Joint values for `dims`, or None when there is no data yet.
    fn propose(
        &mut self,
        h: &History,
        trial: usize,
        dims: &[(Option<u32>, Distribution)],
    ) -> Result<Option<Vec<f64>>> {
        let Some(prep) = self.prepare(h, trial, dims, false)? else {
            return Ok(None);
        };
        let dists: Vec<Distribution> = dims.iter().map(|p| p.1.clone()).collect();
        let v = self.optimise_box(&prep, &dists, others_unseen(h, trial))?;
        // Internal values always inside their distribution.
        Ok(Some(
            v.iter()
                .zip(&dists)
                .map(|(&x, dist)| {
                    if dist.contains(x) {
                        x
                    } else {
                        dist.from_unit(encode(dist, x))
                    }
                })
                .collect(),
        ))
    }
}

/// Whether a trial other than `trial` runs with no parameter known yet:
/// another worker's, being set up at the same moment (its values are written
/// once they are suggested), which the Kriging believer cannot place.
fn others_unseen(h: &History, trial: usize) -> bool {
    h.trials()
        .iter()
        .enumerate()
        .any(|(i, t)| i != trial && t.state == TrialState::Running && t.params.is_empty())
}

/// The fits of [`Sampler::state`] after the generator's words, or None when
/// the words do not hold exactly that.
fn decode_fits(words: &[u64]) -> Option<Vec<Option<FitState>>> {
    let mut it = words.iter().copied();
    let count = |it: &mut dyn Iterator<Item = u64>| usize::try_from(it.next()?).ok();
    let mut fits = Vec::new();
    for _ in 0..count(&mut it)? {
        if count(&mut it)? == 0 {
            fits.push(None);
            continue;
        }
        let (n_fit, n_multi, len) = (count(&mut it)?, count(&mut it)?, count(&mut it)?);
        let theta = (0..len)
            .map(|_| it.next().map(f64::from_bits))
            .collect::<Option<Vec<f64>>>()?;
        fits.push(Some(FitState {
            theta,
            n_fit,
            n_multi,
        }));
    }
    it.next().is_none().then_some(fits)
}

impl Sampler for GpSampler {
    fn sample_independent(
        &mut self,
        _: &History,
        _: usize,
        _: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        Ok(dist.from_unit(self.rng.uniform()))
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        if self.startup(h) {
            return Ok(Vec::new());
        }
        let space: Vec<(u32, u32)> = h
            .intersection_space()
            .into_iter()
            .filter(|&(p, d)| !h.dist(p, d).is_single())
            .collect();
        if space.is_empty() {
            return Ok(Vec::new());
        }
        let dims: Vec<(Option<u32>, Distribution)> = space
            .iter()
            .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
            .collect();
        // A numerical failure of the model leaves the trial to the seeded
        // uniform draws of `sample_independent` rather than aborting the study.
        let vals = match self.propose(h, trial, &dims) {
            Ok(Some(v)) => v,
            Ok(None) | Err(_) => return Ok(Vec::new()),
        };
        if self.proposed.len() >= MAX_PROPOSALS {
            self.proposed.pop_front();
        }
        let pairs = space.iter().zip(&vals).map(|(&(p, _), &v)| (p, v));
        self.proposed.push_back((trial, pairs.collect()));
        Ok(space
            .iter()
            .zip(vals)
            .map(|(&(p, d), v)| (p, d, v))
            .collect())
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        self.sample_declared(h, trial, space, max_draws, accept)
    }

    /// The generator's four words, then the fitted hyperparameters of each
    /// kept model ([`GpSampler::fits`]): their count, then per model 0 (none)
    /// or 1, `n_fit`, `n_multi`, the length of θ and θ's bit patterns. The
    /// models themselves are refitted on the next ask, warm-started from θ;
    /// fits restored and not used yet are saved as they were restored.
    fn state(&self) -> SamplerState {
        let mut s = rng_words(&self.rng);
        let mut fits = self.fits();
        fits.resize(fits.len().max(self.restored.len()), None);
        for (f, r) in fits.iter_mut().zip(&self.restored) {
            if f.is_none() {
                f.clone_from(r);
            }
        }
        s.push(fits.len() as u64);
        for f in fits {
            match f {
                None => s.push(0),
                Some(f) => {
                    s.extend([1, f.n_fit as u64, f.n_multi as u64, f.theta.len() as u64]);
                    s.extend(f.theta.iter().map(|t| t.to_bits()));
                }
            }
        }
        s
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        let rng = rng_from_words(state)?;
        // A state of the generator alone restores no fits.
        let fits = if state.len() > 4 {
            decode_fits(&state[4..])
                .ok_or_else(|| Error::InvalidArgument("malformed GPSampler state".into()))?
        } else {
            Vec::new()
        };
        self.rng = rng;
        // The models and candidates this sampler kept from its own trials
        // would be preferred over the restored fits: drop them.
        self.cache = None;
        self.con_cache.clear();
        self.candidates = None;
        self.restore_fits(fits);
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constraints::Constraint;
    use crate::space::Param;

    #[test]
    fn infinite_values_become_the_extreme_finite_ones() {
        let mut raw = vec![
            vec![1.0, f64::INFINITY],
            vec![f64::INFINITY, 2.0],
            vec![f64::NEG_INFINITY, f64::INFINITY],
            vec![3.0, -1.0],
        ];
        clip_infinite(&mut raw);
        assert_eq!(
            raw,
            vec![
                vec![1.0, 2.0],
                vec![3.0, 2.0],
                vec![1.0, 2.0],
                vec![3.0, -1.0]
            ]
        );
        let mut all_inf = vec![vec![f64::INFINITY], vec![f64::INFINITY]];
        clip_infinite(&mut all_inf);
        assert_eq!(all_inf, vec![vec![0.0], vec![0.0]]);
    }

    /// Branin on [-5, 10] × [0, 15]; minimum 0.397887.
    fn branin(x: &[f64]) -> f64 {
        let pi = std::f64::consts::PI;
        let b = 5.1 / (4.0 * pi * pi);
        let c = 5.0 / pi;
        let t = 1.0 / (8.0 * pi);
        (x[1] - b * x[0] * x[0] + c * x[0] - 6.0).powi(2) + 10.0 * (1.0 - t) * x[0].cos() + 10.0
    }

    #[test]
    fn branin_small_regret_in_40_trials() {
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        let mut s = GpSampler::new(GpConfig::default(), 7).unwrap();
        let best = crate::samplers::run_minimising(&mut s, &mut History::new(1), branin, &dims, 40);
        assert!(best - 0.397_887 < 0.01, "best {best}");
    }

    #[test]
    fn power_transform_is_fitted_on_the_objective() {
        use crate::samplers::gp::power::PowerFamily;
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        let cfg = GpConfig {
            output_transform: GpOutputTransform::Power,
            ..GpConfig::default()
        };
        let mut s = GpSampler::new(cfg, 7).unwrap();
        let mut h = History::new(1);
        let f = |x: &[f64]| (branin(x) / 30.0).exp();
        let best = crate::samplers::run_minimising(&mut s, &mut h, f, &dims, 30);
        assert!(best.ln() * 30.0 - 0.397_887 < 0.05, "best {best}");
        // Positive values: Box-Cox, with a λ that compresses the long tail.
        let tf = s.cache.as_ref().and_then(|c| c.tf).unwrap();
        assert_eq!(tf.family, PowerFamily::BoxCox);
        assert!(tf.lambda < 0.5, "lambda {}", tf.lambda);
        // A negative value cannot be mapped by Box-Cox: Yeo-Johnson next.
        let f2 = |x: &[f64]| f(x) - 5.0;
        crate::samplers::run_minimising(&mut s, &mut h, f2, &dims, 2);
        let tf = s.cache.as_ref().and_then(|c| c.tf).unwrap();
        assert_eq!(tf.family, PowerFamily::YeoJohnson);
        // Constraint models are not transformed.
        assert!(s.con_cache.iter().flatten().all(|c| c.tf.is_none()));
    }

    #[test]
    fn auto_settings_follow_the_space_and_the_constraints() {
        use crate::samplers::gp::kernel::DimKind::{Categorical, Continuous};
        // The rule itself: (objectives, kinds, x, constrained, trust region).
        let two = [Continuous; 2];
        let rule = transforms_apply;
        assert!(rule(1, &two, &[0.1, 0.2], false, false));
        assert!(!rule(2, &two, &[0.1, 0.2], false, false));
        assert!(!rule(
            1,
            &[Continuous, Categorical],
            &[0.1, 1.0],
            false,
            false
        ));
        assert!(!rule(1, &two, &[0.5, f64::NAN], false, false));
        assert!(!rule(1, &two, &[0.1, 0.2], true, false));
        assert!(!rule(1, &two, &[0.1, 0.2], false, true));
        let wide = vec![Continuous; AUTO_TRANSFORMS_MAX_DIMS];
        assert!(!transforms_apply(
            1,
            &wide,
            &vec![0.5; wide.len()],
            false,
            false
        ));
        assert!(transforms_apply(
            1,
            &wide[1..],
            &vec![0.5; wide.len() - 1],
            false,
            false
        ));
        let auto = GpConfig {
            input_warping: GpInputWarping::Auto,
            output_transform: GpOutputTransform::Auto,
            ..GpConfig::default()
        };
        // A numeric space without constraints: both on (θ: 2 lengthscales,
        // signal, noise, then (a, b) per dimension).
        let dims = unit_square();
        let mut s = GpSampler::new(auto, 5).unwrap();
        let mut h = History::new(1);
        let f = |u: &[f64]| branin(&[-5.0 + 15.0 * u[0], 15.0 * u[1]]);
        crate::samplers::run_minimising(&mut s, &mut h, f, &dims, 15);
        let c = s.cache.as_ref().unwrap();
        assert!(c.tf.is_some() && c.gp.warp().is_some());
        assert_eq!(s.fits()[0].as_ref().unwrap().theta.len(), 8);
        // With a black-box constraint: the plain model.
        let mut s = GpSampler::new(auto, 5).unwrap();
        let mut h = History::new(1);
        run_constrained(&mut s, &mut h, f, |x| vec![0.5 - x[0] - x[1]], &dims, 15);
        let c = s.cache.as_ref().unwrap();
        assert!(c.tf.is_none() && c.gp.warp().is_none());
        // With a categorical parameter: the plain model.
        let mixed = vec![
            Distribution::float("x0", 0.0, 1.0, None, false).unwrap(),
            Distribution::categorical("x1", 3).unwrap(),
        ];
        let mut s = GpSampler::new(auto, 5).unwrap();
        let mut h = History::new(1);
        let g = |x: &[f64]| (x[0] - 0.3).powi(2) + x[1] + 1.0;
        crate::samplers::run_minimising(&mut s, &mut h, g, &mixed, 15);
        let c = s.cache.as_ref().unwrap();
        assert!(c.tf.is_none() && c.gp.warp().is_none());
    }

    #[test]
    fn input_warp_is_fitted_on_the_objective_and_kept_between_refits() {
        // Branin read at x^4 in the unit square: fast variation near 1, flat
        // near 0. With warping the objective's model has a warp (b < 1 on
        // some dimension stretches the region near 1); the constraint's has none.
        let dims = unit_square();
        let f = |u: &[f64]| branin(&[-5.0 + 15.0 * u[0].powi(4), 15.0 * u[1].powi(4)]);
        let cfg = GpConfig {
            input_warping: GpInputWarping::On,
            output_transform: GpOutputTransform::Power,
            ..GpConfig::default()
        };
        let mut s = GpSampler::new(cfg, 3).unwrap();
        let mut h = History::new(1);
        run_constrained(&mut s, &mut h, f, |x| vec![x[0] - 0.98], &dims, 30);
        let gp = &s.cache.as_ref().unwrap().gp;
        let w = gp.warp().expect("a warped objective model");
        assert_eq!(w.dims(), &[0, 1]);
        assert!(
            w.shapes().iter().any(|&(a, b)| a > 1.2 || b < 0.8),
            "{:?}",
            w.shapes()
        );
        assert_eq!(s.fits()[0].as_ref().unwrap().theta.len(), 8);
        assert!(s.con_cache.iter().flatten().all(|c| c.gp.warp().is_none()));
        // The state round-trips the warp; a restored sampler refits from it.
        let mut t = GpSampler::new(cfg, 3).unwrap();
        t.set_state(&s.state()).unwrap();
        assert_eq!(t.restored[0].as_ref().unwrap().theta, gp.params());
        // Past the refit threshold, appends keep the warp unchanged.
        let names = vec!["x0".to_string(), "x1".to_string()];
        let mut r = crate::samplers::RandomSampler::new(1);
        while h.trials().len() < REFIT_EVERY_ASK_UP_TO + 2 {
            let (k, x) = crate::samplers::start_trial(&mut r, &mut h, &names, &dims).unwrap();
            h.finish(k, TrialState::Complete, vec![f(&x)]).unwrap();
        }
        let mut kept = Vec::new();
        for _ in 0..3 {
            let (k, x) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
            assert!(x.iter().all(|v| (0.0..=1.0).contains(v)));
            kept.push(s.cache.as_ref().unwrap().gp.params());
            h.finish(k, TrialState::Complete, vec![f(&x)]).unwrap();
        }
        assert!(kept.windows(2).all(|w| w[0] == w[1]));
    }

    #[test]
    fn mixed_values_stay_inside_their_distributions() {
        let dims = vec![
            Distribution::float("a", 1e-5, 1e-1, None, true).unwrap(),
            Distribution::int("b", 1, 1000, 1, true).unwrap(),
            Distribution::int("c", -3, 9, 3, false).unwrap(),
            Distribution::float("d", 0.0, 1.0, Some(0.25), false).unwrap(),
            Distribution::categorical("e", 3).unwrap(),
            Distribution::float("f", 2.0, 2.0, None, false).unwrap(),
        ];
        let f = |x: &[f64]| x[0].ln().abs() + (x[1] - 30.0).abs() + x[2] + x[3] + x[4];
        let cfg = GpConfig {
            n_startup_trials: 3,
            acquisition: GpAcquisition::Ucb { beta: None },
            ..GpConfig::default()
        };
        let mut s = GpSampler::new(cfg, 1).unwrap();
        crate::samplers::run_minimising(&mut s, &mut History::new(1), f, &dims, 25);
    }

    #[test]
    fn declared_space_constraint_is_never_violated() {
        let p = |name: &str, dist: Distribution, vals: Option<Vec<Option<f64>>>| Param {
            name: name.into(),
            dist,
            condition: None,
            choice_values: vals,
        };
        let choices = |v: &[f64]| Some(v.iter().map(|x| Some(*x)).collect());
        let space = SearchSpace::new(
            vec![
                p(
                    "d_model",
                    Distribution::categorical("d_model", 5).unwrap(),
                    choices(&[96.0, 128.0, 192.0, 256.0, 512.0]),
                ),
                p(
                    "heads",
                    Distribution::categorical("heads", 5).unwrap(),
                    choices(&[3.0, 4.0, 6.0, 8.0, 16.0]),
                ),
                p(
                    "x",
                    Distribution::float("x", 0.0, 1.0, None, false).unwrap(),
                    None,
                ),
            ],
            vec![Constraint::Divisible { num: 0, den: 1 }],
        )
        .unwrap();
        let vals = [96.0, 128.0, 192.0, 256.0, 512.0];
        let heads = [3.0, 4.0, 6.0, 8.0, 16.0];
        let mut s = GpSampler::new(
            GpConfig {
                n_startup_trials: 4,
                ..GpConfig::default()
            },
            3,
        )
        .unwrap();
        let mut h = History::new(1);
        for _ in 0..25 {
            let t = h.create_trial(TrialState::Running);
            let x = s
                .sample_space(&h, t, &space, 10_000, &mut |_| Ok(true))
                .unwrap();
            assert!(space.is_valid(&x));
            let (dm, nh) = (vals[x[0] as usize], heads[x[1] as usize]);
            assert_eq!(dm % nh, 0.0, "{dm} % {nh}");
            for (i, prm) in space.params().iter().enumerate() {
                h.set_param(t, &prm.name, &prm.dist, x[i]).unwrap();
            }
            h.finish(
                t,
                TrialState::Complete,
                vec![(x[2] - 0.3).powi(2) + dm / nh / 100.0],
            )
            .unwrap();
        }
    }

    #[test]
    fn parallel_asks_differ() {
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        let mut s = GpSampler::new(GpConfig::default(), 11).unwrap();
        let mut h = History::new(1);
        crate::samplers::run_minimising(&mut s, &mut h, branin, &dims, 15);
        // Two asks before either finishes: the first is RUNNING with its values pending.
        let a = h.create_trial(TrialState::Running);
        let ra = s.relative_values(&h, a).unwrap();
        assert_eq!(ra.len(), 2);
        h.set_pending(a, ra.clone());
        let b = h.create_trial(TrialState::Running);
        let rb = s.relative_values(&h, b).unwrap();
        assert_eq!(rb.len(), 2);
        let dist = ((ra[0].2 - rb[0].2) / 15.0).powi(2) + ((ra[1].2 - rb[1].2) / 15.0).powi(2);
        assert!(dist.sqrt() > 1e-3, "{ra:?} vs {rb:?}");
    }

    #[test]
    fn a_batch_of_pending_asks_spreads_out() {
        // Eight asks before any finishes (eight workers): each sees the others
        // as Kriging-believer fantasies, incumbent included, so none lands on
        // another's point, also where the model predicts an improvement.
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        for seed in 0..3 {
            let mut s = GpSampler::new(GpConfig::default(), seed).unwrap();
            let mut h = History::new(1);
            crate::samplers::run_minimising(&mut s, &mut h, branin, &dims, 16);
            let mut points: Vec<[f64; 2]> = Vec::new();
            for _ in 0..8 {
                let t = h.create_trial(TrialState::Running);
                let r = s.relative_values(&h, t).unwrap();
                points.push([(r[0].2 + 5.0) / 15.0, r[1].2 / 15.0]);
                h.set_pending(t, r);
            }
            let mut closest = f64::INFINITY;
            for (i, a) in points.iter().enumerate() {
                for b in &points[i + 1..] {
                    closest = closest.min(((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt());
                }
            }
            // Without the fantasies in the incumbent: 1e-4, 1.6e-5 and 7.6e-5
            // for seeds 0-2; with them 3.0e-3, 0.044 and 5.6e-4.
            assert!(closest > 3e-4, "seed {seed}: {closest} in {points:?}");
        }
    }

    #[test]
    fn restored_fits_warm_start_the_next_ask() {
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        let mut s = GpSampler::new(GpConfig::default(), 2).unwrap();
        let mut h = History::new(1);
        crate::samplers::run_minimising(&mut s, &mut h, branin, &dims, 25);
        let fits = s.fits();
        assert_eq!(fits.len(), 1);
        let f = fits[0].clone().expect("a fitted objective model");
        assert_eq!(f.theta.len(), 4);
        // A fresh sampler given the fits refits once, warm, on the same data:
        // the multi-start bookkeeping carries over and θ stays close.
        let mut t = GpSampler::new(GpConfig::default(), 2).unwrap();
        t.restore_fits(fits.clone());
        let names = vec!["x0".to_string(), "x1".to_string()];
        let (k, _) = crate::samplers::start_trial(&mut t, &mut h, &names, &dims).unwrap();
        let g = t.fits()[0].clone().unwrap();
        assert_eq!(g.n_multi, f.n_multi);
        for (a, b) in g.theta.iter().zip(&f.theta) {
            assert!((a - b).abs() < 0.5, "{:?} vs {:?}", g.theta, f.theta);
        }
        h.finish(k, TrialState::Complete, vec![1.0]).unwrap();
        // Fits of another dimension are ignored (a cold multi-start fit).
        let mut u = GpSampler::new(GpConfig::default(), 2).unwrap();
        u.restore_fits(vec![Some(FitState {
            theta: vec![0.0; 7],
            n_fit: 3,
            n_multi: 3,
        })]);
        crate::samplers::start_trial(&mut u, &mut h, &names, &dims).unwrap();
        let n = u.cache.as_ref().unwrap().rows.len();
        assert_eq!(u.fits()[0].as_ref().unwrap().n_multi, n);
    }

    #[test]
    fn sobol_candidates_are_kept_between_refits_and_dropped_at_one() {
        // Past REFIT_EVERY_ASK_UP_TO observations, asks between refits reuse
        // the Sobol batch through pools extended by the new rows (and by a
        // RUNNING trial's fantasy); a refit draws a new batch.
        let dims = vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        ];
        let names = vec!["x0".to_string(), "x1".to_string()];
        let mut h = History::new(1);
        let mut r = crate::samplers::RandomSampler::new(3);
        let n0 = REFIT_EVERY_ASK_UP_TO + 5;
        for _ in 0..n0 {
            let (t, x) = crate::samplers::start_trial(&mut r, &mut h, &names, &dims).unwrap();
            h.finish(t, TrialState::Complete, vec![branin(&x)]).unwrap();
        }
        let mut s = GpSampler::new(GpConfig::default(), 5).unwrap();
        // A RUNNING trial of another worker, with its point known.
        let (_, _) = crate::samplers::start_trial(&mut r, &mut h, &names, &dims).unwrap();
        let mut batches = Vec::new();
        for _ in 0..4 {
            let (t, x) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
            assert!((-5.0..=10.0).contains(&x[0]) && (0.0..=15.0).contains(&x[1]));
            let c = s.candidates.as_ref().expect("candidates are kept");
            let n_complete = h
                .trials()
                .iter()
                .filter(|t| t.state == TrialState::Complete)
                .count();
            assert!(c.pools.iter().all(|p| p.rows() == n_complete));
            batches.push(c.vals.clone());
            h.finish(t, TrialState::Complete, vec![branin(&x)]).unwrap();
        }
        // The first ask fitted (new batch); the next ones only appended.
        assert!(batches.windows(2).all(|w| w[0] == w[1]));
        // Enough new observations for a refit: a new batch.
        let c = s.cache.as_ref().unwrap();
        let refit_at = (c.n_fit as f64 * (1.0 + REFIT_GROWTH)).ceil() as usize;
        let done = c.rows.len();
        for _ in done..refit_at {
            let (t, x) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
            h.finish(t, TrialState::Complete, vec![branin(&x)]).unwrap();
        }
        let (t, x) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
        h.finish(t, TrialState::Complete, vec![branin(&x)]).unwrap();
        assert_ne!(s.candidates.as_ref().unwrap().vals, batches[0]);
    }

    /// Asks `n` trials of `f` subject to black-box constraints `c` (values
    /// `<= 0` feasible) over `dims`, as [`run`]; returns the points.
    fn run_constrained(
        s: &mut GpSampler,
        h: &mut History,
        f: impl Fn(&[f64]) -> f64,
        c: impl Fn(&[f64]) -> Vec<f64>,
        dims: &[Distribution],
        n: usize,
    ) -> Vec<Vec<f64>> {
        let names: Vec<String> = (0..dims.len()).map(|i| format!("x{i}")).collect();
        let mut points = Vec::new();
        for _ in 0..n {
            let (t, x) = crate::samplers::start_trial(s, h, &names, dims).unwrap();
            h.set_constraints(t, c(&x)).unwrap();
            h.finish(t, TrialState::Complete, vec![f(&x)]).unwrap();
            points.push(x);
        }
        points
    }

    fn unit_square() -> Vec<Distribution> {
        vec![
            Distribution::float("x0", 0.0, 1.0, None, false).unwrap(),
            Distribution::float("x1", 0.0, 1.0, None, false).unwrap(),
        ]
    }

    /// P(c <= 0) under the cached GP of constraint k at `x` (unit square).
    fn pof(s: &GpSampler, k: usize, x: &[f64]) -> f64 {
        let gp = &s.con_cache[k].as_ref().expect("a constraint model").gp;
        let (m, v) = gp.predict(x).unwrap();
        crate::samplers::tpe::truncnorm::ndtr(-m / v.sqrt().max(1e-10))
    }

    #[test]
    fn chosen_point_is_predicted_feasible() {
        // Two basins: the deeper at (0.2, 0.3) is infeasible (x0 < 0.5), the
        // other, at (0.8, 0.7), lies inside the feasible region x0 >= 0.5;
        // on the boundary f >= 0.09, so the constrained optimum is (0.8, 0.7).
        let f = |x: &[f64]| {
            let a = 10.0 * ((x[0] - 0.2).powi(2) + (x[1] - 0.3).powi(2)) - 0.3;
            let b = (x[0] - 0.8).powi(2) + (x[1] - 0.7).powi(2);
            a.min(b)
        };
        let c = |x: &[f64]| vec![0.5 - x[0]];
        let dims = unit_square();
        let mut s = GpSampler::new(GpConfig::default(), 5).unwrap();
        let mut h = History::new(1);
        run_constrained(&mut s, &mut h, f, c, &dims, 20);
        let mut feasible_asks = 0;
        for _ in 0..5 {
            let t = h.create_trial(TrialState::Running);
            let rel = s.relative_values(&h, t).unwrap();
            let x = [rel[0].2, rel[1].2];
            let p = pof(&s, 0, &x);
            // Unconstrained, LogEI would search the infeasible basin, where
            // P(feasible) is about 0.
            assert!(p > 0.9, "P(feasible) = {p} at {x:?}");
            feasible_asks += usize::from(c(&x)[0] <= 0.0);
            for (k, (name, d)) in ["x0", "x1"].iter().zip(&dims).enumerate() {
                h.set_param(t, name, d, x[k]).unwrap();
            }
            h.set_constraints(t, c(&x)).unwrap();
            h.finish(t, TrialState::Complete, vec![f(&x)]).unwrap();
        }
        assert_eq!(feasible_asks, 5);
        let best = h.best_trial(false).unwrap();
        assert!(h.trials()[best].values[0] < 1e-3, "{:?}", h.trials()[best]);
    }

    #[test]
    fn optimum_on_the_constraint_boundary_is_approached() {
        // The objective falls towards x0 = 0; x0 >= 0.6 is feasible: the
        // constrained optimum is (0.6, 0.3), value 0.6.
        let f = |x: &[f64]| x[0] + (x[1] - 0.3).powi(2);
        let c = |x: &[f64]| vec![0.6 - x[0]];
        let mut s = GpSampler::new(GpConfig::default(), 5).unwrap();
        let mut h = History::new(1);
        let pts = run_constrained(&mut s, &mut h, f, c, &unit_square(), 25);
        let late_feasible = pts[10..].iter().filter(|x| c(x)[0] <= 1e-3).count();
        assert!(late_feasible >= 12, "{late_feasible} of 15");
        let best = h.trials()[h.best_trial(false).unwrap()].values[0];
        assert!(best - 0.6 < 0.02, "best feasible {best}");
    }

    #[test]
    fn without_a_feasible_point_feasibility_is_sought() {
        // Twelve infeasible observations with x0 <= 0.5; feasible is x0 >= 0.7.
        let dims = unit_square();
        let mut h = History::new(1);
        let mut rng = Rng::new(1);
        for _ in 0..12 {
            let t = h.create_trial(TrialState::Running);
            let x = [0.5 * rng.uniform(), rng.uniform()];
            h.set_param(t, "x0", &dims[0], x[0]).unwrap();
            h.set_param(t, "x1", &dims[1], x[1]).unwrap();
            h.set_constraints(t, vec![0.7 - x[0]]).unwrap();
            // The objective alone would pull towards x0 = 0.
            h.finish(t, TrialState::Complete, vec![x[0] + x[1]])
                .unwrap();
        }
        let mut s = GpSampler::new(GpConfig::default(), 2).unwrap();
        let t = h.create_trial(TrialState::Running);
        let rel = s.relative_values(&h, t).unwrap();
        let x = [rel[0].2, rel[1].2];
        assert!(x[0] > 0.6, "{x:?}");
        // More likely feasible than at any observation.
        let p = pof(&s, 0, &x);
        for u in 0..12 {
            let xo = [h.value(0, u).unwrap(), h.value(1, u).unwrap()];
            assert!(p > pof(&s, 0, &xo), "{p} at {x:?} vs {xo:?}");
        }
    }

    #[test]
    fn missing_constraint_values_are_left_out_of_that_model() {
        let dims = unit_square();
        let mut h = History::new(1);
        let mut rng = Rng::new(4);
        for i in 0..14 {
            let t = h.create_trial(TrialState::Running);
            let x = [rng.uniform(), rng.uniform()];
            h.set_param(t, "x0", &dims[0], x[0]).unwrap();
            h.set_param(t, "x1", &dims[1], x[1]).unwrap();
            match i % 7 {
                // Unset, and one of the two names only: both left out.
                0 => {}
                1 => h.set_constraints(t, vec![0.5 - x[0]]).unwrap(),
                // Not finite: left out of that constraint only.
                2 => h
                    .set_constraints(t, vec![f64::INFINITY, x[1] - 0.5])
                    .unwrap(),
                _ => h.set_constraints(t, vec![0.5 - x[0], x[1] - 0.5]).unwrap(),
            }
            h.finish(t, TrialState::Complete, vec![x[0] * x[1]])
                .unwrap();
        }
        let mut s = GpSampler::new(GpConfig::default(), 2).unwrap();
        let t = h.create_trial(TrialState::Running);
        assert_eq!(s.relative_values(&h, t).unwrap().len(), 2);
        let rows = |k: usize| s.con_cache[k].as_ref().unwrap().rows.clone();
        let full: Vec<usize> = (0..14).filter(|i| i % 7 > 1).collect();
        let finite: Vec<usize> = (0..14).filter(|i| i % 7 > 2).collect();
        assert_eq!(rows(0), finite);
        assert_eq!(rows(1), full);
        assert_eq!(s.cache.as_ref().unwrap().rows, (0..14).collect::<Vec<_>>());
    }

    /// A 4-D mixed space: a float, a log int, a stepped float, a categorical.
    fn mixed_dims() -> Vec<Distribution> {
        vec![
            Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
            Distribution::int("x1", 1, 64, 1, true).unwrap(),
            Distribution::float("x2", 0.0, 1.0, Some(0.1), false).unwrap(),
            Distribution::categorical("x3", 3).unwrap(),
        ]
    }

    fn mixed_objective(x: &[f64]) -> f64 {
        (x[0] - 1.3).powi(2) + (x[1].log2() - 2.5).powi(2) + (x[2] - 0.7).abs() + x[3]
    }

    fn trust_region_config() -> GpConfig {
        GpConfig {
            n_startup_trials: 5,
            trust_region: true,
            ..GpConfig::default()
        }
    }

    #[test]
    fn trust_region_proposals_stay_in_the_box() {
        proposals_stay_in_the_box(false);
    }

    #[test]
    fn thompson_proposals_stay_in_the_box() {
        proposals_stay_in_the_box(true);
    }

    fn proposals_stay_in_the_box(thompson: bool) {
        let dims = mixed_dims();
        let names: Vec<String> = (0..4).map(|i| format!("x{i}")).collect();
        let cfg = GpConfig {
            thompson,
            ..trust_region_config()
        };
        let mut s = GpSampler::new(cfg, 7).unwrap();
        let mut h = History::new(1);
        crate::samplers::run_minimising(&mut s, &mut h, mixed_objective, &dims, 8);
        let mut narrow = 0;
        for _ in 0..12 {
            let t = h.create_trial(TrialState::Running);
            let keyed: Vec<(Option<u32>, Distribution)> = dims
                .iter()
                .zip(&names)
                .map(|(d, n)| (h.param_index(n), d.clone()))
                .collect();
            let prep = s.prepare(&h, t, &keyed, false).unwrap().expect("a model");
            let r = prep.region.clone().expect("a trust region");
            let v = s.optimise_box(&prep, &dims, false).unwrap();
            // The box is centred at the run's best observation.
            let best = h.best_trial(false).unwrap();
            for (j, n) in names.iter().enumerate() {
                let p = h.param_index(n).unwrap();
                assert_eq!(r.centre[j], h.value(p, best).unwrap());
            }
            for j in 0..3 {
                let u = encode(&dims[j], v[j]);
                assert!(dims[j].contains(v[j]), "{j}: {}", v[j]);
                assert!(
                    (r.lo[j] - 1e-9..=r.hi[j] + 1e-9).contains(&u) || v[j] == r.centre[j],
                    "dimension {j}: {u} outside [{}, {}]",
                    r.lo[j],
                    r.hi[j]
                );
                narrow += usize::from(r.hi[j] - r.lo[j] < 0.99);
            }
            assert!(dims[3].contains(v[3]));
            for (j, n) in names.iter().enumerate() {
                h.set_param(t, n, &dims[j], v[j]).unwrap();
            }
            h.finish(t, TrialState::Complete, vec![mixed_objective(&v)])
                .unwrap();
        }
        // The box did constrain the search.
        assert!(narrow > 0);
    }

    #[test]
    fn trust_region_restarts_with_a_model_of_the_new_run_only() {
        // d = 2: tau_fail = 4; after the 5 initial points, every value is
        // worse than the last, so 7 rounds of 4 failures take L from 0.8 to
        // 0.8 / 128 < 2^-7: trial 32 ends the first run.
        let dims = unit_square();
        let names = vec!["x0".to_string(), "x1".to_string()];
        let mut h = History::new(1);
        let mut r = crate::samplers::RandomSampler::new(1);
        for i in 0..33 {
            let (t, _) = crate::samplers::start_trial(&mut r, &mut h, &names, &dims).unwrap();
            h.finish(t, TrialState::Complete, vec![i as f64]).unwrap();
        }
        let mut s = GpSampler::new(trust_region_config(), 3).unwrap();
        let first = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
        let tr = s.trust_region().unwrap().clone();
        assert_eq!((tr.restarts, tr.run_start, tr.run_len), (1, 33, 0));
        // The new run's initial design: no model yet.
        assert!(s.cache.is_none());
        h.finish(first.0, TrialState::Complete, vec![50.0]).unwrap();
        for i in 0..4 {
            let (t, _) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
            h.finish(t, TrialState::Complete, vec![40.0 - i as f64])
                .unwrap();
        }
        assert!(s.cache.is_none());
        // The sixth trial of the run is proposed by a GP on the run's five.
        let (t, _) = crate::samplers::start_trial(&mut s, &mut h, &names, &dims).unwrap();
        let c = s.cache.as_ref().expect("a model of the new run");
        assert_eq!(c.rows, (33..38).collect::<Vec<_>>());
        assert_eq!(c.gp.n(), 5);
        assert_eq!(s.trust_region().unwrap().run_len, 5);
        h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
        // Without the option, the same history gives a model of all 39.
        let mut plain = GpSampler::new(GpConfig::default(), 3).unwrap();
        crate::samplers::start_trial(&mut plain, &mut h, &names, &dims).unwrap();
        assert_eq!(plain.cache.as_ref().unwrap().gp.n(), 39);
    }

    #[test]
    fn trust_region_seeds_reproduce() {
        let dims = mixed_dims();
        let run = |seed: u64, thompson: bool| {
            let cfg = GpConfig {
                thompson,
                ..trust_region_config()
            };
            let mut s = GpSampler::new(cfg, seed).unwrap();
            let mut h = History::new(1);
            crate::samplers::run_minimising(&mut s, &mut h, mixed_objective, &dims, 14);
            (0..h.trials().len())
                .map(|t| (0..4).map(|p| h.value(p, t).unwrap()).collect::<Vec<_>>())
                .collect::<Vec<_>>()
        };
        let a = run(4, false);
        assert_eq!(a, run(4, false));
        assert_ne!(a, run(5, false));
        let b = run(4, true);
        assert_eq!(b, run(4, true));
        assert_ne!(b, a);
        // The option changes the proposals.
        let mut s = GpSampler::new(
            GpConfig {
                n_startup_trials: 5,
                ..GpConfig::default()
            },
            4,
        )
        .unwrap();
        let mut h = History::new(1);
        crate::samplers::run_minimising(&mut s, &mut h, mixed_objective, &dims, 14);
        let plain: Vec<Vec<f64>> = (0..14)
            .map(|t| (0..4).map(|p| h.value(p, t).unwrap()).collect())
            .collect();
        assert_eq!(plain[..5], a[..5]);
        assert_ne!(plain, a);
    }

    #[test]
    fn bad_beta_is_rejected() {
        let cfg = GpConfig {
            acquisition: GpAcquisition::Ucb {
                beta: Some(f64::NAN),
            },
            ..GpConfig::default()
        };
        assert!(GpSampler::new(cfg, 0).is_err());
    }
}

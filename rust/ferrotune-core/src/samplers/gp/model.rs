//! A Gaussian-process regression model with standardised outputs and
//! hyperparameters fitted by maximum a posteriori.
//!
//! Model (Rasmussen & Williams 2006, "Gaussian Processes for Machine
//! Learning", §2.2): y = f(x) + ε, f ~ GP(0, k) with the kernel of
//! [`super::kernel`], ε ~ N(0, σ_n²), on outputs standardised to mean 0 and
//! standard deviation 1 (the scale is undone in every prediction).
//!
//! Hyperparameters θ = (log ℓ_1..d, log σ_f², log σ_n²). The fit minimises
//! the negative log posterior
//!
//! ```text
//! L(θ) = ½ yᵀK⁻¹y + ½ log|K| + (n/2) log 2π  -  log p(θ)       (R&W eq. 5.8)
//! ∂L/∂θ_p = -½ tr((ααᵀ - K⁻¹) ∂K/∂θ_p) - ∂ log p/∂θ_p,  α = K⁻¹y  (R&W eq. 5.9)
//! ```
//!
//! with K = K_f + σ_n² I, so ∂K/∂log σ_n² = σ_n² I. When K is numerically
//! singular the Cholesky adds a diagonal jitter ([`super::linalg`]); it is
//! treated as a constant (no gradient), so L(θ) may jump slightly where the
//! jitter switches on, which the line search tolerates. The trace is contracted
//! pair by pair ([`super::kernel::Kernel::contract_param_grad`]) so that no
//! n×n derivative matrix is stored: O(n³) for K⁻¹ plus O(n² d).
//!
//! Priors (on the log-parameters, where we optimise; the mode is taken in
//! those coordinates):
//! - lengthscales, one of two [`LengthscalePrior`]s:
//!   - [`LengthscalePrior::LogNormal`]: log ℓ_i ~ N(√2 + ½ log d, 3), the
//!     dimension-scaled prior of Hvarfner, Hellsten & Nardi 2024, "Vanilla
//!     Bayesian Optimization Performs Great in High Dimensions" (ICML 2024,
//!     arXiv 2402.02229), their proposed lengthscale prior
//!     ℓ ~ LogNormal(μ₀ + log(d)/2, σ₀) with μ₀ = √2, σ₀ = √3 (so the variance
//!     of log ℓ is 3); the same constants as BoTorch's default since it
//!     adopted the paper. Its median lengthscale grows like √d. d counts every
//!     dimension the kernel sees (continuous and categorical). The default of
//!     [`FitConfig`] ([`Priors::hvarfner`]).
//!   - [`LengthscalePrior::TwoSided`]: -log p(ℓ) = a (ℓ² + ℓ⁻²) + const,
//!     i.e. 2a cosh(2 log ℓ): mode ℓ = 1 (the width of the unit cube),
//!     nearly flat for ℓ in [0.3, 3] and rising steeply outside
//!     (a = 0.1: +10 nats at ℓ = 0.1 or 10, +100 at 0.03 or 30). Up to the
//!     parameterisation, the penalty Optuna's `GPSampler` puts on its inverse
//!     squared lengthscales. Unlike the log-normal prior it rules out
//!     lengthscales far below the spacing of the data, the degenerate fits
//!     in which one dimension decorrelates every pair of points (the model
//!     is then white noise and the acquisition search close to random); the
//!     sampler's default ([`Priors::two_sided`]).
//! - signal variance: log σ_f² ~ N(0, 1), a weak prior centred on the variance
//!   of the standardised outputs (Hvarfner et al. fix σ_f² = 1; we keep it
//!   free but anchored).
//! - noise variance: log σ_n² ~ N(-4, 1) (σ_n² ≈ 0.018 of the output variance
//!   at the median), the log-normal noise prior BoTorch adopted alongside the
//!   Hvarfner et al. lengthscale prior, bounded below by a floor (default
//!   10⁻⁶); [`NoisePrior::Gamma`] is the alternative (Optuna's form). For
//!   deterministic objectives use [`Noise::Fixed`] with a tiny value: the
//!   noise is then not fitted at all.
//!
//! Optimisation: projected L-BFGS ([`super::lbfgs`]) in a box
//! (log ℓ ∈ [log 10⁻³, log 10³], log σ_f² ∈ [log 10⁻³, log 10³],
//! log σ_n² ∈ [log floor, log 10]) from the previous fit (warm start), the
//! prior mode, and `n_random_starts` draws from the prior; the objective is
//! divided by n so that the tolerances are per observation. Beyond
//! [`FIT_SUBSET`] observations the starts run on a random subset of that
//! size and only the best of their winner and the warm start is refined on
//! all the data (a deviation for speed: every evaluation is O(n³)).
//!
//! Updates: [`Gp::add_observation`] appends one point without refitting the
//! hyperparameters or re-standardising: the Cholesky factor grows by one row in
//! O(n²) ([`super::linalg::Cholesky::append`]) and α = K⁻¹y is re-solved in
//! O(n²). Refitting is left to the caller's schedule.

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::samplers::tpe::truncnorm::ndtri;
use crate::space::fit_in;
use std::sync::atomic::{AtomicU64, Ordering};

use super::kernel::{Columns, DimKind, Kernel};
use super::lbfgs::{multi_start, LbfgsConfig};
use super::linalg::Cholesky;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

/// Prior of every lengthscale (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LengthscalePrior {
    /// log ℓ ~ N(mean, sd²).
    LogNormal { mean: f64, sd: f64 },
    /// -log p(ℓ) = a (ℓ² + ℓ⁻²) + const (a > 0): mode ℓ = 1.
    TwoSided { a: f64 },
}

impl LengthscalePrior {
    /// -log p at log ℓ = t up to a constant, and its derivative in t.
    fn neg_log_density(&self, t: f64) -> (f64, f64) {
        match *self {
            LengthscalePrior::LogNormal { mean, sd } => {
                let z = (t - mean) / sd;
                (0.5 * z * z, z / sd)
            }
            LengthscalePrior::TwoSided { a } => {
                let (up, down) = ((2.0 * t).exp(), (-2.0 * t).exp());
                (a * (up + down), 2.0 * a * (up - down))
            }
        }
    }

    /// Mode of log ℓ.
    pub fn mode(&self) -> f64 {
        match *self {
            LengthscalePrior::LogNormal { mean, .. } => mean,
            LengthscalePrior::TwoSided { .. } => 0.0,
        }
    }

    /// Normal approximation of log ℓ used to draw random starts: the prior
    /// itself, or for [`LengthscalePrior::TwoSided`] the Laplace
    /// approximation at the mode (curvature 8a, so sd = 1/√(8a)).
    pub fn start_distribution(&self) -> (f64, f64) {
        match *self {
            LengthscalePrior::LogNormal { mean, sd } => (mean, sd),
            LengthscalePrior::TwoSided { a } => (0.0, 1.0 / (8.0 * a).sqrt()),
        }
    }
}

/// Prior of the log noise variance t = log σ_n².
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NoisePrior {
    /// t ~ N(mean, sd²).
    LogNormal { mean: f64, sd: f64 },
    /// t = log X with X ~ Gamma(shape, rate), so that -log p(t) is
    /// rate·eᵗ - shape·t up to a constant; mode eᵗ = shape / rate. Below the
    /// mode it rises only linearly in t (shape 0.1: 1 nat per factor e^10
    /// less noise), above it exponentially. With shape 0.1 and rate 30 it is
    /// Optuna's noise prior, Gamma(1.1, 30) on σ_n², as Optuna applies it to
    /// its log-parametrised fit (the density of σ_n², without the change of
    /// variables). Shape and rate must be positive.
    Gamma { shape: f64, rate: f64 },
}

impl NoisePrior {
    /// -log p at t up to a constant, and its derivative in t.
    fn neg_log_density(&self, t: f64) -> (f64, f64) {
        match *self {
            NoisePrior::LogNormal { mean, sd } => {
                let z = (t - mean) / sd;
                (0.5 * z * z, z / sd)
            }
            NoisePrior::Gamma { shape, rate } => {
                let e = t.exp();
                (-shape * t + rate * e, -shape + rate * e)
            }
        }
    }

    /// Mode of t.
    pub fn mode(&self) -> f64 {
        match *self {
            NoisePrior::LogNormal { mean, .. } => mean,
            NoisePrior::Gamma { shape, rate } => (shape / rate).ln(),
        }
    }

    /// Normal approximation of t used to draw random starts: the prior
    /// itself, or the Laplace approximation at the mode (curvature = shape).
    pub fn start_distribution(&self) -> (f64, f64) {
        match *self {
            NoisePrior::LogNormal { mean, sd } => (mean, sd),
            NoisePrior::Gamma { shape, .. } => (self.mode(), 1.0 / shape.sqrt()),
        }
    }
}

/// Priors of the hyperparameters: the lengthscales', a normal prior on the
/// log signal variance, (mean, standard deviation), and the noise prior.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Priors {
    /// Prior of every lengthscale of a continuous dimension.
    pub lengthscale: LengthscalePrior,
    /// Prior of every lengthscale of a categorical dimension (Hamming term).
    pub categorical_lengthscale: LengthscalePrior,
    /// Prior of the log signal variance.
    pub log_signal: (f64, f64),
    /// Prior of the log noise variance (ignored when the noise is fixed).
    pub noise: NoisePrior,
}

impl Priors {
    /// The log-normal priors of Hvarfner et al. documented in the module docs
    /// for `d` input dimensions; the default of [`FitConfig`].
    pub fn hvarfner(d: usize) -> Self {
        let d = d.max(1) as f64;
        let lengthscale = LengthscalePrior::LogNormal {
            mean: std::f64::consts::SQRT_2 + 0.5 * d.ln(),
            sd: 3f64.sqrt(),
        };
        Priors {
            lengthscale,
            categorical_lengthscale: lengthscale,
            log_signal: (0.0, 1.0),
            noise: NoisePrior::LogNormal {
                mean: -4.0,
                sd: 1.0,
            },
        }
    }

    /// [`LengthscalePrior::TwoSided`] with a = 0.1 on continuous dimensions,
    /// and the other priors of [`Priors::hvarfner`] for `d` dimensions. The
    /// Hamming term keeps the log-normal prior: exp(-δ/ℓ) needs ℓ ≫ 1 to
    /// ignore an irrelevant categorical, which the two-sided prior forbids
    /// (measured: a declared space with two categoricals and a black-box
    /// constraint on the float, seed 4, 11 of 26 trials feasible with the
    /// two-sided prior on every dimension).
    pub fn two_sided(d: usize) -> Self {
        Priors {
            lengthscale: LengthscalePrior::TwoSided { a: 0.1 },
            ..Priors::hvarfner(d)
        }
    }

    /// The prior of a dimension of kind `kind`.
    pub fn for_kind(&self, kind: DimKind) -> LengthscalePrior {
        match kind {
            DimKind::Continuous => self.lengthscale,
            DimKind::Categorical => self.categorical_lengthscale,
        }
    }

    /// -log p(θ) up to a constant, and its gradient (written into `g`, added).
    pub(super) fn neg_log_density(
        &self,
        kinds: &[DimKind],
        theta: &[f64],
        g: &mut [f64],
        fixed_noise: bool,
    ) -> f64 {
        let d = theta.len() - 2;
        let mut v = 0.0;
        for (i, &kind) in kinds.iter().enumerate().take(d) {
            let (val, dval) = self.for_kind(kind).neg_log_density(theta[i]);
            v += val;
            g[i] += dval;
        }
        let (m, s) = self.log_signal;
        let z = (theta[d] - m) / s;
        g[d] += z / s;
        v += 0.5 * z * z;
        if !fixed_noise {
            let (val, dval) = self.noise.neg_log_density(theta[d + 1]);
            v += val;
            g[d + 1] += dval;
        }
        v
    }
}

/// How the observation noise is treated.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Noise {
    /// Fitted, with variance at least `floor` (standardised units).
    Inferred { floor: f64 },
    /// Held at this variance (standardised units); for deterministic objectives.
    Fixed(f64),
}

impl Default for Noise {
    fn default() -> Self {
        Noise::Inferred { floor: 1e-6 }
    }
}

/// Settings of [`Gp::fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    pub noise: Noise,
    /// None: [`Priors::hvarfner`] for the data's dimension.
    pub priors: Option<Priors>,
    /// Starts drawn from the prior, besides the warm start and the prior mode.
    pub n_random_starts: usize,
    /// Also start from the prior mode when a warm start is given (it is
    /// always used without one). Off makes a warm refit a single local run.
    pub prior_mode_start: bool,
    /// The optimiser's settings. The objective it sees is L(θ)/n, so `gtol`
    /// is a tolerance per observation and means the same at every n.
    pub lbfgs: LbfgsConfig,
}

impl Default for FitConfig {
    fn default() -> Self {
        FitConfig {
            noise: Noise::default(),
            priors: None,
            n_random_starts: 2,
            prior_mode_start: true,
            lbfgs: LbfgsConfig {
                max_iter: 100,
                gtol: 1e-4,
                ftol: 1e-9,
                ..Default::default()
            },
        }
    }
}

/// Posterior mean and variance at a point with their gradients w.r.t. x
/// (original output units; zero on categorical and inactive dimensions).
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub mean: f64,
    pub var: f64,
    pub d_mean: Vec<f64>,
    pub d_var: Vec<f64>,
}
/// A fit with several starts on more observations than this runs them on a
/// random subset of this size and refines only the best on all the data
/// (each start costs O(n³) per evaluation: at n = 1,000 a three-start fit
/// took 35 s, one warm run about a third of that).
pub const FIT_SUBSET: usize = 256;

/// Candidates per block of right-hand sides in [`Gp::predict_batch`].
const PREDICT_BLOCK: usize = 64;
/// Threads [`Gp::predict_batch`] uses at most on large batches.
const PREDICT_THREADS: usize = 2;

/// A fitted GP.
#[derive(Debug, Clone, PartialEq)]
pub struct Gp {
    kernel: Kernel,
    log_noise: f64,
    noise: Noise,
    /// Inputs, n×d row-major.
    x: Vec<f64>,
    /// The same inputs by dimension, for the batched kernel routines.
    cols: Columns,
    /// Standardised outputs.
    y: Vec<f64>,
    y_mean: f64,
    y_std: f64,
    chol: Cholesky,
    alpha: Vec<f64>,
    /// Identifies the factor: new for every factorisation from scratch, kept
    /// by appends (rows already in L never change then), so a [`Pool`] knows
    /// whether it can be extended.
    factor_id: u64,
}

/// A fresh [`Gp::factor_id`].
fn next_factor_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// The posterior at a fixed set of m points, kept up to date as the model
/// gains observations by appends ([`Gp::add_observation`]): each new
/// observation costs O(n m) instead of the O(n² m) of scoring the points
/// afresh ([`Gp::predict_batch`]). With L the Cholesky factor of K and
/// C the points, it keeps V = L⁻¹ K(X, C) (n×m, one row per observation)
/// and Σ_j V_jc²; since appending observation n adds row
/// (k(x_n, C) - l_nᵀ V) / λ_n to V and leaves the other rows alone (the
/// bordering of [`super::linalg`]), the posterior variance
/// σ_f² - Σ_j V_jc² and the mean (L⁻¹y)ᵀ V follow.
#[derive(Debug, Clone)]
pub struct Pool {
    cands: Columns,
    /// V, n×m row-major.
    v: Vec<f64>,
    /// Σ_j V_jc² over the rows so far.
    sq: Vec<f64>,
    /// The factor the rows belong to and how many there are.
    factor_id: u64,
    n: usize,
}

impl Pool {
    /// Number of points.
    pub fn len(&self) -> usize {
        self.cands.len()
    }

    /// True when the pool has no point.
    pub fn is_empty(&self) -> bool {
        self.cands.is_empty()
    }

    /// Number of observations whose rows the pool holds.
    pub fn rows(&self) -> usize {
        self.n
    }

    /// Keeps the rows of the first `n` observations only (the pool of the
    /// model before its last appends).
    pub fn truncate(&mut self, n: usize) {
        if n >= self.n {
            return;
        }
        let m = self.len();
        self.v.truncate(n * m);
        self.sq.iter_mut().for_each(|s| *s = 0.0);
        for row in self.v.chunks_exact(m.max(1)) {
            for (s, r) in self.sq.iter_mut().zip(row) {
                *s += r * r;
            }
        }
        self.n = n;
    }
}

fn check_inputs(kinds: &[DimKind], x: &[f64], y: &[f64]) -> Result<usize> {
    let d = kinds.len();
    let n = y.len();
    if n == 0 {
        return Err(Error::InvalidArgument(
            "a GP needs at least one observation".into(),
        ));
    }
    if x.len() != n * d {
        return Err(Error::InvalidArgument(format!(
            "inputs have {} entries, expected {n} observations x {d} dimensions",
            x.len()
        )));
    }
    if let Some(v) = y.iter().find(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(format!(
            "observed values must be finite, got {v}"
        )));
    }
    if let Some(v) = x.iter().find(|v| v.is_infinite()) {
        return Err(Error::InvalidArgument(format!(
            "inputs must be finite or NaN (inactive), got {v}"
        )));
    }
    Ok(n)
}

fn check_point(d: usize, x: &[f64]) -> Result<()> {
    if x.len() != d {
        return Err(Error::InvalidArgument(format!(
            "point has {} coordinates, expected {d}",
            x.len()
        )));
    }
    if x.iter().any(|v| v.is_infinite()) {
        return Err(Error::InvalidArgument(
            "point coordinates must be finite or NaN (inactive)".into(),
        ));
    }
    Ok(())
}

fn standardise(y: &[f64]) -> (Vec<f64>, f64, f64) {
    let n = y.len() as f64;
    let mean = y.iter().sum::<f64>() / n;
    let var = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    let std = var.sqrt();
    let std = if std.is_finite() && std > 1e-12 * mean.abs().max(1e-300) && std > 0.0 {
        std
    } else {
        1.0
    };
    (y.iter().map(|v| (v - mean) / std).collect(), mean, std)
}

/// Box of the log-hyperparameters for `d` dimensions under `noise`.
pub fn param_bounds(d: usize, noise: Noise) -> Result<(Vec<f64>, Vec<f64>)> {
    let (nlo, nhi) = match noise {
        Noise::Inferred { floor } => {
            if !(floor.is_finite() && floor > 0.0 && floor < 10.0) {
                return Err(Error::InvalidArgument(format!(
                    "noise floor must lie in (0, 10), got {floor}"
                )));
            }
            (floor.ln(), 10f64.ln())
        }
        Noise::Fixed(v) => {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "fixed noise variance must be finite and > 0, got {v}"
                )));
            }
            (v.ln(), v.ln())
        }
    };
    let (a, b) = (1e-3f64.ln(), 1e3f64.ln());
    let mut lo = vec![a; d + 1];
    let mut hi = vec![b; d + 1];
    lo.push(nlo);
    hi.push(nhi);
    Ok((lo, hi))
}

/// The negative log posterior L(θ) of standardised data and its gradient
/// (see the module docs), θ = (log ℓ_1..d, log σ_f², log σ_n²).
pub fn neg_log_posterior(
    kinds: &[DimKind],
    x: &[f64],
    y: &[f64],
    theta: &[f64],
    priors: &Priors,
    fixed_noise: bool,
) -> Result<(f64, Vec<f64>)> {
    let n = check_inputs(kinds, x, y)?;
    let cols = Columns::new(kinds, x, n)?;
    neg_log_posterior_columns(kinds, &cols, y, theta, priors, fixed_noise)
}

/// [`neg_log_posterior`] on inputs already laid out by dimension (the fit
/// builds them once for all its evaluations).
fn neg_log_posterior_columns(
    kinds: &[DimKind],
    cols: &Columns,
    y: &[f64],
    theta: &[f64],
    priors: &Priors,
    fixed_noise: bool,
) -> Result<(f64, Vec<f64>)> {
    let n = y.len();
    let d = kinds.len();
    if theta.len() != d + 2 {
        return Err(Error::InvalidArgument(format!(
            "{} hyperparameters given, expected {}",
            theta.len(),
            d + 2
        )));
    }
    let kernel = Kernel::new(kinds.to_vec(), theta[..d].to_vec(), theta[d])?;
    let noise = theta[d + 1].exp();
    if !(noise.is_finite() && noise > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "log noise variance {} is out of range",
            theta[d + 1]
        )));
    }
    let (mut k, terms) = kernel.matrix_columns(cols)?;
    for i in 0..n {
        k[i * n + i] += noise;
    }
    let chol = Cholesky::factor_with_jitter(&k, n)?;
    let alpha = chol.solve(y)?;
    let data_fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let mut value = 0.5 * data_fit + 0.5 * chol.log_det() + 0.5 * n as f64 * LN_2PI;
    // W = ααᵀ - K⁻¹ (lower triangle), reusing the inverse's storage.
    let mut w = chol.inverse();
    for i in 0..n {
        for j in 0..=i {
            w[i * n + j] = alpha[i] * alpha[j] - w[i * n + j];
        }
    }
    let gk = kernel.contract_columns(cols, &terms, &w)?;
    let mut grad: Vec<f64> = gk.iter().map(|v| -0.5 * v).collect();
    let trace_w: f64 = (0..n).map(|i| w[i * n + i]).sum();
    grad.push(if fixed_noise {
        0.0
    } else {
        -0.5 * noise * trace_w
    });
    value += priors.neg_log_density(kinds, theta, &mut grad, fixed_noise);
    if !value.is_finite() || grad.iter().any(|v| !v.is_finite()) {
        return Err(Error::InvalidArgument(
            "the marginal likelihood is not finite at these hyperparameters".into(),
        ));
    }
    Ok((value, grad))
}

/// The fit's objective: L(θ)/n and its gradient (infinite where L is not
/// defined), for the optimiser.
fn per_observation<'a>(
    kinds: &'a [DimKind],
    cols: &'a Columns,
    ys: &'a [f64],
    priors: &'a Priors,
    fixed: bool,
) -> impl Fn(&[f64], &mut [f64]) -> f64 + 'a {
    let inv_n = 1.0 / ys.len().max(1) as f64;
    move |theta, g| match neg_log_posterior_columns(kinds, cols, ys, theta, priors, fixed) {
        Ok((v, grad)) => {
            for (gi, v) in g.iter_mut().zip(&grad) {
                *gi = v * inv_n;
            }
            v * inv_n
        }
        Err(_) => f64::INFINITY,
    }
}

impl Gp {
    /// A GP with the given hyperparameters θ = (log ℓ_1..d, log σ_f², log σ_n²),
    /// no fitting. `x` is n×d row-major (continuous dimensions in [0, 1],
    /// categorical ones as choice indices, NaN for inactive), `y` the n raw
    /// observations.
    pub fn with_params(
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        theta: &[f64],
        noise: Noise,
    ) -> Result<Self> {
        let n = check_inputs(&kinds, &x, y)?;
        let d = kinds.len();
        if theta.len() != d + 2 {
            return Err(Error::InvalidArgument(format!(
                "{} hyperparameters given, expected {}",
                theta.len(),
                d + 2
            )));
        }
        let kernel = Kernel::new(kinds, theta[..d].to_vec(), theta[d])?;
        let log_noise = match noise {
            Noise::Fixed(v) if v.is_finite() && v > 0.0 => v.ln(),
            Noise::Fixed(v) => {
                return Err(Error::InvalidArgument(format!(
                    "fixed noise variance must be finite and > 0, got {v}"
                )))
            }
            // The floor holds here too, whatever θ says.
            Noise::Inferred { floor } => theta[d + 1].max(floor.ln()),
        };
        let nv = log_noise.exp();
        if !(nv.is_finite() && nv > 0.0) {
            return Err(Error::InvalidArgument(format!(
                "log noise variance {log_noise} is out of range"
            )));
        }
        let (ys, y_mean, y_std) = standardise(y);
        let cols = Columns::new(kernel.kinds(), &x, n)?;
        let (mut k, _) = kernel.matrix_columns(&cols)?;
        for i in 0..n {
            k[i * n + i] += nv;
        }
        let chol = Cholesky::factor_with_jitter(&k, n)?;
        let alpha = chol.solve(&ys)?;
        Ok(Gp {
            kernel,
            log_noise,
            noise,
            x,
            cols,
            y: ys,
            y_mean,
            y_std,
            chol,
            alpha,
            factor_id: next_factor_id(),
        })
    }

    /// Fits the hyperparameters by MAP (see the module docs) and returns the
    /// model. `warm_start` (a previous [`Gp::params`]) is tried first when its
    /// length fits; `rng` draws the random starts.
    pub fn fit(
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        config: &FitConfig,
        warm_start: Option<&[f64]>,
        rng: &mut Rng,
    ) -> Result<Self> {
        check_inputs(&kinds, &x, y)?;
        let d = kinds.len();
        let priors = config.priors.unwrap_or_else(|| Priors::hvarfner(d));
        let (lo, hi) = param_bounds(d, config.noise)?;
        let fixed = matches!(config.noise, Noise::Fixed(_));
        let (ys, _, _) = standardise(y);

        let clip = |t: Vec<f64>| -> Vec<f64> {
            t.iter()
                .enumerate()
                .map(|(i, v)| fit_in(*v, lo[i], hi[i]))
                .collect()
        };
        let mut starts = Vec::new();
        if let Some(w) = warm_start {
            if w.len() == d + 2 && w.iter().all(|v| v.is_finite()) {
                starts.push(clip(w.to_vec()));
            }
        }
        let warm_given = !starts.is_empty();
        if starts.is_empty() || config.prior_mode_start {
            let mut mode: Vec<f64> = kinds.iter().map(|&k| priors.for_kind(k).mode()).collect();
            mode.push(priors.log_signal.0);
            mode.push(priors.noise.mode());
            starts.push(clip(mode));
        }
        for _ in 0..config.n_random_starts {
            let mut draw = |(m, s): (f64, f64)| m + s * ndtri(rng.uniform());
            let mut t: Vec<f64> = kinds
                .iter()
                .map(|&k| draw(priors.for_kind(k).start_distribution()))
                .collect();
            t.push(draw(priors.log_signal));
            t.push(draw(priors.noise.start_distribution()));
            starts.push(clip(t));
        }

        let cols = Columns::new(&kinds, &x, ys.len())?;
        let objective = per_observation(&kinds, &cols, &ys, &priors, fixed);
        let n = ys.len();
        if starts.len() > 1 && n > FIT_SUBSET {
            // Several starts on a random subset, then the best of their
            // winner and the warm start (by one evaluation each on all the
            // data) refined on all the data.
            let mut idx: Vec<usize> = (0..n).collect();
            for i in 0..FIT_SUBSET {
                let j = i + rng.below((n - i) as u64) as usize;
                idx.swap(i, j);
            }
            let d = kinds.len();
            let (mut xs, mut ss) = (Vec::with_capacity(FIT_SUBSET * d), Vec::new());
            for &i in &idx[..FIT_SUBSET] {
                xs.extend_from_slice(&x[i * d..(i + 1) * d]);
                ss.push(ys[i]);
            }
            let sub_cols = Columns::new(&kinds, &xs, FIT_SUBSET)?;
            let sub_objective = per_observation(&kinds, &sub_cols, &ss, &priors, fixed);
            let sub = multi_start(sub_objective, &starts, Some((&lo, &hi)), &config.lbfgs)?;
            let mut g = vec![0.0; lo.len()];
            let mut first = sub.x;
            if warm_given {
                let (a, b) = (objective(&first, &mut g), objective(&starts[0], &mut g));
                if b < a || !a.is_finite() {
                    first = starts[0].clone();
                }
            }
            let best = multi_start(objective, &[first], Some((&lo, &hi)), &config.lbfgs)?;
            return Gp::with_params(kinds, x, y, &best.x, config.noise);
        }
        let best = multi_start(objective, &starts, Some((&lo, &hi)), &config.lbfgs)?;
        Gp::with_params(kinds, x, y, &best.x, config.noise)
    }

    /// A MAP refit on the model's current data (including appended points),
    /// warm-started from its hyperparameters; the outputs are standardised
    /// afresh.
    pub fn refit(&self, config: &FitConfig, rng: &mut Rng) -> Result<Self> {
        Gp::fit(
            self.kernel.kinds().to_vec(),
            self.x.clone(),
            &self.observations(),
            config,
            Some(&self.params()),
            rng,
        )
    }

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of input dimensions.
    pub fn dim(&self) -> usize {
        self.kernel.dim()
    }

    /// θ = (log ℓ_1..d, log σ_f², log σ_n²), e.g. to warm-start the next fit.
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.kernel.params();
        p.push(self.log_noise);
        p
    }

    /// The kernel with its fitted hyperparameters.
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Lengthscales ℓ.
    pub fn lengthscales(&self) -> Vec<f64> {
        self.kernel.lengthscales()
    }

    /// Noise variance in standardised units.
    pub fn noise_variance(&self) -> f64 {
        self.log_noise.exp()
    }

    /// How the noise is treated.
    pub fn noise(&self) -> Noise {
        self.noise
    }

    /// Mean and standard deviation used to standardise the outputs.
    pub fn standardisation(&self) -> (f64, f64) {
        (self.y_mean, self.y_std)
    }

    /// The observations in original units.
    pub fn observations(&self) -> Vec<f64> {
        self.y
            .iter()
            .map(|v| self.y_mean + self.y_std * v)
            .collect()
    }

    /// Posterior mean and variance of f at `x` (original units).
    pub fn predict(&self, x: &[f64]) -> Result<(f64, f64)> {
        check_point(self.dim(), x)?;
        let point = Columns::new(self.kernel.kinds(), x, 1)?;
        let (mut k, _) = self.kernel.cross_point(&point, &self.cols)?;
        let mean: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        self.chol.solve_lower_in_place(&mut k)?;
        let var = (self.kernel.signal_variance() - super::linalg::dot(&k, &k)).max(0.0);
        Ok((
            self.y_mean + self.y_std * mean,
            self.y_std * self.y_std * var,
        ))
    }

    /// Posterior means and variances at the m rows of `xs` (m×d row-major),
    /// e.g. to score a batch of candidates: triangular solves with 64
    /// right-hand sides at a time, which read L once per block.
    pub fn predict_batch(&self, xs: &[f64], m: usize) -> Result<(Vec<f64>, Vec<f64>)> {
        let d = self.dim();
        if Some(xs.len()) != m.checked_mul(d) {
            return Err(Error::InvalidArgument(format!(
                "points have {} entries, expected {m} x {d}",
                xs.len()
            )));
        }
        if xs.iter().any(|v| v.is_infinite()) {
            return Err(Error::InvalidArgument(
                "point coordinates must be finite or NaN (inactive)".into(),
            ));
        }
        let mut mean = vec![0.0; m];
        let mut var = vec![self.kernel.signal_variance(); m];
        // Large batches are split over up to PREDICT_THREADS threads (each
        // candidate's arithmetic is the same either way: results do not
        // depend on the split).
        let threads = std::thread::available_parallelism()
            .map_or(1, |t| t.get())
            .min(PREDICT_THREADS)
            .min(m / PREDICT_BLOCK)
            .max(1);
        if threads == 1 || self.n() < 64 {
            self.predict_rows(xs, &mut mean, &mut var)?;
        } else {
            let per = m.div_ceil(threads).div_ceil(PREDICT_BLOCK) * PREDICT_BLOCK;
            std::thread::scope(|scope| -> Result<()> {
                let handles: Vec<_> = mean
                    .chunks_mut(per)
                    .zip(var.chunks_mut(per))
                    .zip(xs.chunks(per * d))
                    .map(|((mc, vc), xc)| scope.spawn(move || self.predict_rows(xc, mc, vc)))
                    .collect();
                for h in handles {
                    // A panic goes on in this thread, as without threads.
                    h.join().unwrap_or_else(|e| std::panic::resume_unwind(e))?;
                }
                Ok(())
            })?;
        }
        let s2 = self.y_std * self.y_std;
        Ok((
            mean.iter().map(|v| self.y_mean + self.y_std * v).collect(),
            var.iter().map(|v| s2 * v.max(0.0)).collect(),
        ))
    }

    /// Standardised posterior means (added to `mean`, zeros on entry) and
    /// variances (subtracted from `var`, the signal variance on entry) at the
    /// rows of `xs`, in blocks of candidates whose n×block right-hand side
    /// stays in cache: triangular solves with a block of right-hand sides
    /// read L once per block.
    fn predict_rows(&self, xs: &[f64], mean: &mut [f64], var: &mut [f64]) -> Result<()> {
        let (n, d, m) = (self.n(), self.dim(), mean.len());
        let mut b = Vec::with_capacity(n * PREDICT_BLOCK);
        for c0 in (0..m).step_by(PREDICT_BLOCK) {
            let w = PREDICT_BLOCK.min(m - c0);
            // B[j][c] = k(X_j, x_{c0+c}): n×w, row-major.
            b.clear();
            b.resize(n * w, 0.0);
            let cands = Columns::new(self.kernel.kinds(), &xs[c0 * d..(c0 + w) * d], w)?;
            self.kernel.cross_columns(&self.cols, &cands, &mut b)?;
            let (mb, vb) = (&mut mean[c0..c0 + w], &mut var[c0..c0 + w]);
            for j in 0..n {
                let a = self.alpha[j];
                for (mc, bc) in mb.iter_mut().zip(&b[j * w..(j + 1) * w]) {
                    *mc += a * bc;
                }
            }
            self.chol.solve_lower_matrix(&mut b, w)?;
            for j in 0..n {
                for (vc, bc) in vb.iter_mut().zip(&b[j * w..(j + 1) * w]) {
                    *vc -= bc * bc;
                }
            }
        }
        Ok(())
    }

    /// Posterior mean and variance at `x` with their gradients w.r.t. x:
    /// ∂μ/∂x = (∂k*/∂x)ᵀα and ∂s²/∂x = -2 (∂k*/∂x)ᵀK⁻¹k* (R&W eqs. 2.25-2.26
    /// differentiated; k(x, x) = σ_f² does not depend on x).
    pub fn predict_with_grad(&self, x: &[f64]) -> Result<Prediction> {
        let d = self.dim();
        check_point(d, x)?;
        let point = Columns::new(self.kernel.kinds(), x, 1)?;
        let (k, dk_dr2) = self.kernel.cross_point(&point, &self.cols)?;
        let mean: f64 = k.iter().zip(&self.alpha).map(|(a, b)| a * b).sum();
        let mut v = k;
        self.chol.solve_lower_in_place(&mut v)?;
        let raw_var = self.kernel.signal_variance() - super::linalg::dot(&v, &v);
        self.chol.solve_upper_in_place(&mut v)?;
        // ∂k(x, X_j)/∂x_i = ∂k/∂(r²) · 2 (x_i - X_ji) / ℓ_i² on active
        // continuous dimensions (X_ji = 1/2 where X_j is inactive), so
        // Σ_j a_j ∂k_j/∂x_i = 2/ℓ_i² (x_i Σ_j a_j ∂k_j/∂r² - Σ_j a_j ∂k_j/∂r² X_ji).
        let a: Vec<f64> = dk_dr2.iter().zip(&self.alpha).map(|(g, a)| g * a).collect();
        let b: Vec<f64> = dk_dr2.iter().zip(&v).map(|(g, v)| -2.0 * g * v).collect();
        let (sa, sb) = (a.iter().sum::<f64>(), b.iter().sum::<f64>());
        let mut d_mean = vec![0.0; d];
        let mut d_var = vec![0.0; d];
        for i in 0..d {
            if self.kernel.kinds()[i] != DimKind::Continuous || x[i].is_nan() {
                continue;
            }
            let col = self.cols.column(i);
            let s = 2.0 * self.kernel.inv_scale(i);
            d_mean[i] = s * (x[i] * sa - super::linalg::dot(&a, col));
            d_var[i] = s * (x[i] * sb - super::linalg::dot(&b, col));
        }
        let s2 = self.y_std * self.y_std;
        let clamped = raw_var <= 0.0;
        Ok(Prediction {
            mean: self.y_mean + self.y_std * mean,
            var: s2 * raw_var.max(0.0),
            d_mean: d_mean.iter().map(|g| g * self.y_std).collect(),
            d_var: d_var
                .iter()
                .map(|g| if clamped { 0.0 } else { g * s2 })
                .collect(),
        })
    }

    /// A [`Pool`] of the m rows of `xs` (m×d row-major): O(n² m), as
    /// [`Gp::predict_batch`].
    pub fn pool(&self, xs: &[f64], m: usize) -> Result<Pool> {
        let d = self.dim();
        if Some(xs.len()) != m.checked_mul(d) || xs.iter().any(|v| v.is_infinite()) {
            return Err(Error::InvalidArgument(format!(
                "pool points must be {m} x {d} finite (or NaN) coordinates"
            )));
        }
        let cands = Columns::new(self.kernel.kinds(), xs, m)?;
        let n = self.n();
        let mut v = vec![0.0; n * m];
        self.kernel.cross_columns(&self.cols, &cands, &mut v)?;
        self.chol.solve_lower_matrix(&mut v, m)?;
        let mut sq = vec![0.0; m];
        for row in v.chunks_exact(m.max(1)) {
            for (s, r) in sq.iter_mut().zip(row) {
                *s += r * r;
            }
        }
        Ok(Pool {
            cands,
            v,
            sq,
            factor_id: self.factor_id,
            n,
        })
    }

    /// Brings `pool` up to this model's first `upto` observations (all when
    /// None), O(n m) per observation. Errors when the pool was built on
    /// another factor (a refit, or an append that had to refactorise) or
    /// already holds more observations; the caller then builds a new one.
    pub fn extend_pool(&self, pool: &mut Pool, upto: Option<usize>) -> Result<()> {
        let upto = upto.unwrap_or(self.n());
        if pool.factor_id != self.factor_id || pool.n > upto || upto > self.n() {
            return Err(Error::InvalidArgument(
                "the pool belongs to another factor of the model".into(),
            ));
        }
        let m = pool.len();
        let mut l = Vec::new();
        let mut row = vec![0.0; m];
        for i in pool.n..upto {
            // Row i of L: l_i (i entries) and λ_i.
            l.clear();
            l.extend((0..=i).map(|j| self.chol.get(i, j).unwrap_or(0.0)));
            let point = Columns::new(
                self.kernel.kinds(),
                &self.x[i * self.dim()..(i + 1) * self.dim()],
                1,
            )?;
            let k = {
                let mut k = vec![0.0; m];
                self.kernel.cross_columns(&point, &pool.cands, &mut k)?;
                k
            };
            row.copy_from_slice(&k);
            for (j, vj) in pool.v.chunks_exact(m.max(1)).enumerate().take(i) {
                let lij = l[j];
                for (r, v) in row.iter_mut().zip(vj) {
                    *r -= lij * v;
                }
            }
            let lam = l[i];
            for (r, s) in row.iter_mut().zip(pool.sq.iter_mut()) {
                *r /= lam;
                *s += *r * *r;
            }
            pool.v.extend_from_slice(&row);
            pool.n = i + 1;
        }
        Ok(())
    }

    /// Posterior means and variances (as [`Gp::predict_batch`]) at the
    /// points of `pool`, which must hold exactly this model's observations
    /// ([`Gp::extend_pool`]).
    pub fn pool_predict(&self, pool: &Pool) -> Result<(Vec<f64>, Vec<f64>)> {
        let n = self.n();
        if pool.factor_id != self.factor_id || pool.n != n {
            return Err(Error::InvalidArgument(
                "the pool does not hold this model's observations".into(),
            ));
        }
        let m = pool.len();
        let mut z = self.y.clone();
        self.chol.solve_lower_in_place(&mut z)?;
        let mut mean = vec![0.0; m];
        for (zj, vj) in z.iter().zip(pool.v.chunks_exact(m.max(1))) {
            for (mc, v) in mean.iter_mut().zip(vj) {
                *mc += zj * v;
            }
        }
        let (sf, s2) = (self.kernel.signal_variance(), self.y_std * self.y_std);
        Ok((
            mean.iter().map(|v| self.y_mean + self.y_std * v).collect(),
            pool.sq.iter().map(|q| s2 * (sf - q).max(0.0)).collect(),
        ))
    }

    /// Adds one observation without refitting: O(n²) through the Cholesky
    /// append, keeping the hyperparameters and the standardisation. Should
    /// the appended pivot not be positive (a duplicate point with tiny noise),
    /// the factor is recomputed with jitter instead (O(n³)). On error the
    /// model is unchanged.
    pub fn add_observation(&mut self, x: &[f64], y: f64) -> Result<()> {
        check_point(self.dim(), x)?;
        if !y.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "observed values must be finite, got {y}"
            )));
        }
        let n = self.n();
        let point = Columns::new(self.kernel.kinds(), x, 1)?;
        let (col, _) = self.kernel.cross_point(&point, &self.cols)?;
        let diag = self.kernel.signal_variance() + self.noise_variance();
        let mut chol = self.chol.clone();
        let mut cols = self.cols.clone();
        cols.push(self.kernel.kinds(), x)?;
        let mut factor_id = self.factor_id;
        if chol.append(&col, diag).is_err() {
            factor_id = next_factor_id();
            let (mut k, _) = self.kernel.matrix_columns(&cols)?;
            for i in 0..=n {
                k[i * (n + 1) + i] += self.noise_variance();
            }
            chol = Cholesky::factor_with_jitter(&k, n + 1)?;
        }
        let mut ys = self.y.clone();
        ys.push((y - self.y_mean) / self.y_std);
        let alpha = chol.solve(&ys)?;
        self.chol = chol;
        self.alpha = alpha;
        self.y = ys;
        self.x.extend_from_slice(x);
        self.cols = cols;
        self.factor_id = factor_id;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mixed_data(n: usize, seed: u64) -> (Vec<DimKind>, Vec<f64>, Vec<f64>) {
        let kinds = vec![
            DimKind::Continuous,
            DimKind::Categorical,
            DimKind::Continuous,
        ];
        let mut rng = Rng::new(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..n {
            let a = rng.uniform();
            let c = rng.below(3) as f64;
            let b = if i % 4 == 0 { f64::NAN } else { rng.uniform() };
            x.extend([a, c, b]);
            y.push((5.0 * a).sin() + 0.5 * c + if b.is_nan() { 0.0 } else { b * b });
        }
        (kinds, x, y)
    }

    #[test]
    fn marginal_likelihood_gradient_matches_finite_differences() {
        let (kinds, x, y) = mixed_data(15, 1);
        let (ys, _, _) = standardise(&y);
        let theta = vec![-1.0, 0.3, -0.4, 0.2, -3.0];
        for priors in [Priors::hvarfner(3), Priors::two_sided(3)] {
            for fixed in [false, true] {
                let (_, g) = neg_log_posterior(&kinds, &x, &ys, &theta, &priors, fixed).unwrap();
                let h = 1e-5;
                for p in 0..theta.len() {
                    let mut tp = theta.clone();
                    tp[p] += h;
                    let mut tm = theta.clone();
                    tm[p] -= h;
                    let fp = neg_log_posterior(&kinds, &x, &ys, &tp, &priors, fixed)
                        .unwrap()
                        .0;
                    let fm = neg_log_posterior(&kinds, &x, &ys, &tm, &priors, fixed)
                        .unwrap()
                        .0;
                    let fd = if fixed && p == theta.len() - 1 {
                        0.0
                    } else {
                        (fp - fm) / (2.0 * h)
                    };
                    assert!(
                        (fd - g[p]).abs() < 1e-6 * (1.0 + fd.abs()),
                        "param {p}: fd {fd} vs {}",
                        g[p]
                    );
                }
            }
        }
    }

    #[test]
    fn two_sided_prior_has_its_mode_at_one_and_steep_tails() {
        let p = LengthscalePrior::TwoSided { a: 0.1 };
        assert_eq!(p.mode(), 0.0);
        let at = |l: f64| p.neg_log_density(f64::ln(l)).0 - p.neg_log_density(0.0).0;
        assert!(p.neg_log_density(0.0).1.abs() < 1e-15);
        assert!((at(0.1) - at(10.0)).abs() < 1e-9);
        assert!(at(0.5) < 0.5 && at(2.0) < 0.5, "flat near the mode");
        assert!(at(0.1) > 9.0 && at(0.03) > 100.0, "steep tails");
        // The log-normal prior of Hvarfner et al. in 10-D charges far less
        // for ℓ = 10⁻³, the degenerate fits it allowed.
        let h = Priors::hvarfner(10).lengthscale;
        let lo = f64::ln(1e-3);
        assert!(h.neg_log_density(lo).0 - h.neg_log_density(h.mode()).0 < 20.0);
        assert!(p.neg_log_density(lo).0 > 1e4);
    }

    #[test]
    fn noise_priors_have_their_documented_modes_and_gradients() {
        for p in [
            NoisePrior::LogNormal {
                mean: -6.0,
                sd: 1.0,
            },
            NoisePrior::Gamma {
                shape: 0.1,
                rate: 30.0,
            },
        ] {
            let m = p.mode();
            assert!(p.neg_log_density(m).1.abs() < 1e-12, "{p:?}");
            assert!(p.neg_log_density(m - 1.0).0 > p.neg_log_density(m).0);
            assert!(p.neg_log_density(m + 1.0).0 > p.neg_log_density(m).0);
            for t in [-14.0, -6.0, -2.0, 1.0] {
                let h = 1e-6;
                let fd = (p.neg_log_density(t + h).0 - p.neg_log_density(t - h).0) / (2.0 * h);
                let g = p.neg_log_density(t).1;
                assert!((fd - g).abs() < 1e-5 * (1.0 + g.abs()), "{p:?} at {t}");
            }
        }
        // Optuna's form: 1 nat per factor e^10 below the mode, steep above.
        let g = NoisePrior::Gamma {
            shape: 0.1,
            rate: 30.0,
        };
        let m = g.mode();
        assert!((m - (0.1f64 / 30.0).ln()).abs() < 1e-12);
        let rise = |t: f64| g.neg_log_density(t).0 - g.neg_log_density(m).0;
        assert!(rise(m - 10.0) < 1.5 && rise(m + 5.0) > 10.0);
    }

    #[test]
    fn many_observations_fit_starts_on_a_subset_and_refine_on_all() {
        // Past FIT_SUBSET points a multi-start fit picks its start on a
        // subset; the result must still be a good model of all the data and
        // the warm start must win when it is better.
        let n = FIT_SUBSET + 64;
        let mut rng = Rng::new(8);
        let x: Vec<f64> = (0..2 * n).map(|_| rng.uniform()).collect();
        let f = |p: &[f64]| (5.0 * p[0]).sin() + p[1] * p[1];
        let y: Vec<f64> = x.chunks(2).map(f).collect();
        let kinds = vec![DimKind::Continuous; 2];
        let cfg = FitConfig {
            priors: Some(Priors::two_sided(2)),
            ..FitConfig::default()
        };
        let gp = Gp::fit(kinds.clone(), x.clone(), &y, &cfg, None, &mut rng).unwrap();
        let mut worst = 0.0f64;
        for i in 0..50 {
            let p = [(i as f64 + 0.5) / 50.0, ((i * 7) % 50) as f64 / 50.0];
            worst = worst.max((gp.predict(&p).unwrap().0 - f(&p)).abs());
        }
        assert!(worst < 0.02, "largest error {worst}");
        // The fitted θ is a stationary point of the full-data objective.
        let (ys, _, _) = standardise(&y);
        let prior = Priors::two_sided(2);
        let (_, g) = neg_log_posterior(&kinds, &x, &ys, &gp.params(), &prior, false).unwrap();
        let (lo, hi) = param_bounds(2, Noise::default()).unwrap();
        for (i, gi) in g.iter().enumerate() {
            let t = gp.params()[i];
            let at_bound = (t - lo[i]).abs() < 1e-9 || (t - hi[i]).abs() < 1e-9;
            assert!(at_bound || gi.abs() / n as f64 <= 1e-3, "gradient {g:?}");
        }
        // Warm-started from that optimum, the refit stays there.
        let again = Gp::fit(kinds, x, &y, &cfg, Some(&gp.params()), &mut rng).unwrap();
        for (a, b) in again.params().iter().zip(gp.params()) {
            assert!(
                (a - b).abs() < 1e-3,
                "{:?} vs {:?}",
                again.params(),
                gp.params()
            );
        }
    }

    #[test]
    fn two_sided_prior_fits_sensible_lengthscales_in_10d() {
        // A rugged function of 10 dimensions seen at 30 points.
        let (d, n) = (10, 30);
        let mut rng = Rng::new(3);
        let x: Vec<f64> = (0..n * d).map(|_| rng.uniform()).collect();
        let y: Vec<f64> = x
            .chunks(d)
            .map(|p| p.iter().map(|v| (9.0 * v).sin() + 4.0 * v * v).sum())
            .collect();
        let cfg = FitConfig {
            priors: Some(Priors::two_sided(d)),
            ..FitConfig::default()
        };
        let gp = Gp::fit(vec![DimKind::Continuous; d], x, &y, &cfg, None, &mut rng).unwrap();
        for l in gp.lengthscales() {
            assert!(
                (0.05..20.0).contains(&l),
                "lengthscales {:?}",
                gp.lengthscales()
            );
        }
    }

    #[test]
    fn fit_recovers_a_smooth_function_and_interpolates() {
        let f = |x: f64| (6.0 * x).sin() + 0.5 * x;
        let n = 15;
        let x: Vec<f64> = (0..n).map(|i| (i as f64 + 0.5) / n as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| f(*v)).collect();
        let mut rng = Rng::new(7);
        let gp = Gp::fit(
            vec![DimKind::Continuous],
            x.clone(),
            &y,
            &FitConfig::default(),
            None,
            &mut rng,
        )
        .unwrap();
        let ls = gp.lengthscales()[0];
        // sin(6x) has a length scale of order 1/6: a sensible ℓ lies in [0.05, 1].
        assert!((0.05..1.0).contains(&ls), "lengthscale {ls}");
        assert!(gp.noise_variance() < 1e-2, "noise {}", gp.noise_variance());
        let (_, s) = gp.standardisation();
        for i in 0..n {
            let (m, v) = gp.predict(&[x[i]]).unwrap();
            assert!((m - y[i]).abs() < 0.05 * s, "at {}: {m} vs {}", x[i], y[i]);
            assert!(v < 0.01 * s * s, "variance {v} at data");
        }
        // Between the training points the fit is close, and far from them the
        // variance is larger than at the data.
        for t in [0.2, 0.45, 0.71] {
            let (m, _) = gp.predict(&[t]).unwrap();
            assert!((m - f(t)).abs() < 0.05, "at {t}: {m} vs {}", f(t));
        }
        let (_, v_data) = gp.predict(&[x[3]]).unwrap();
        let (_, v_mid) = gp.predict(&[(x[3] + x[4]) / 2.0]).unwrap();
        assert!(v_mid > v_data);
        // A warm-started refit lands at the same place.
        let again = Gp::fit(
            vec![DimKind::Continuous],
            x,
            &y,
            &FitConfig {
                n_random_starts: 0,
                prior_mode_start: false,
                ..Default::default()
            },
            Some(&gp.params()),
            &mut rng,
        )
        .unwrap();
        assert!((again.lengthscales()[0] / ls - 1.0).abs() < 1e-3);
    }

    #[test]
    fn deterministic_objective_uses_the_fixed_noise() {
        let (kinds, x, y) = mixed_data(20, 2);
        let mut rng = Rng::new(3);
        let cfg = FitConfig {
            noise: Noise::Fixed(1e-6),
            ..Default::default()
        };
        let gp = Gp::fit(kinds, x.clone(), &y, &cfg, None, &mut rng).unwrap();
        assert!((gp.noise_variance() - 1e-6).abs() < 1e-18);
        for i in 0..20 {
            let (m, _) = gp.predict(&x[i * 3..i * 3 + 3]).unwrap();
            assert!((m - y[i]).abs() < 1e-2, "{m} vs {}", y[i]);
        }
    }

    #[test]
    fn add_observation_equals_a_model_built_on_all_points() {
        let (kinds, x, y) = mixed_data(30, 4);
        let theta = vec![-1.0, 0.3, -0.4, 0.2, -5.0];
        let noise = Noise::Inferred { floor: 1e-6 };
        let full = Gp::with_params(kinds.clone(), x.clone(), &y, &theta, noise).unwrap();
        let mut grown =
            Gp::with_params(kinds, x[..20 * 3].to_vec(), &y[..20], &theta, noise).unwrap();
        // Use the full model's standardisation so both describe the same data.
        let (m, s) = full.standardisation();
        grown.y_mean = m;
        grown.y_std = s;
        grown.y = y[..20].iter().map(|v| (v - m) / s).collect();
        for i in 20..30 {
            grown.add_observation(&x[i * 3..i * 3 + 3], y[i]).unwrap();
        }
        assert_eq!(grown.n(), 30);
        for t in [[0.1, 0.0, 0.3], [0.8, 2.0, f64::NAN], [0.5, 1.0, 0.5]] {
            let (a, b) = (full.predict(&t).unwrap(), grown.predict(&t).unwrap());
            assert!(
                (a.0 - b.0).abs() < 1e-8 && (a.1 - b.1).abs() < 1e-8,
                "{a:?} vs {b:?}"
            );
        }
        // A duplicate point with tiny noise still works (jitter fallback).
        let mut g = Gp::with_params(
            vec![DimKind::Continuous],
            vec![0.2, 0.4],
            &[1.0, 2.0],
            &[0.0, 0.0, -30.0],
            Noise::Inferred { floor: 1e-14 },
        )
        .unwrap();
        g.add_observation(&[0.2], 1.0).unwrap();
        assert!(g.predict(&[0.3]).unwrap().0.is_finite());
    }

    /// Relative difference of two prediction vectors.
    fn assert_close(a: &[f64], b: &[f64], tol: f64, what: &str) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert!(
                (x - y).abs() <= tol * (1.0 + x.abs().max(y.abs())),
                "{what} {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn pool_follows_appends_and_refuses_another_factor() {
        let (kinds, x, y) = mixed_data(40, 11);
        let theta = vec![-1.0, 0.3, -0.4, 0.2, -5.0];
        let noise = Noise::Inferred { floor: 1e-6 };
        let mut gp =
            Gp::with_params(kinds.clone(), x[..25 * 3].to_vec(), &y[..25], &theta, noise).unwrap();
        // Candidates: some inactive, categorical values in and out of the data.
        let mut rng = Rng::new(5);
        let m = 70;
        let mut c = Vec::new();
        for i in 0..m {
            c.extend([
                rng.uniform(),
                rng.below(4) as f64,
                if i % 5 == 0 { f64::NAN } else { rng.uniform() },
            ]);
        }
        let mut pool = gp.pool(&c, m).unwrap();
        let (mu, var) = gp.pool_predict(&pool).unwrap();
        let (mu0, var0) = gp.predict_batch(&c, m).unwrap();
        assert_close(&mu, &mu0, 1e-10, "mean");
        assert_close(&var, &var0, 1e-10, "variance");
        for i in 25..40 {
            gp.add_observation(&x[i * 3..i * 3 + 3], y[i]).unwrap();
            // A pool behind the model cannot predict until extended.
            assert!(gp.pool_predict(&pool).is_err());
            if i % 2 == 0 {
                gp.extend_pool(&mut pool, None).unwrap();
                let (mu, var) = gp.pool_predict(&pool).unwrap();
                let (mu0, var0) = gp.predict_batch(&c, m).unwrap();
                assert_close(&mu, &mu0, 1e-9, "mean after appends");
                assert_close(&var, &var0, 1e-9, "variance after appends");
            }
        }
        // Extended part way, then cut back: the pool of the smaller model.
        let mut part = pool.clone();
        gp.extend_pool(&mut part, None).unwrap();
        part.truncate(39);
        assert!(gp.extend_pool(&mut part, Some(38)).is_err());
        gp.extend_pool(&mut part, None).unwrap();
        assert_close(
            &gp.pool_predict(&part).unwrap().1,
            &gp.predict_batch(&c, m).unwrap().1,
            1e-9,
            "variance after truncate",
        );
        // A refit (new factor) is refused; so is a model with fewer rows.
        let refit = Gp::with_params(kinds, x.clone(), &y, &theta, noise).unwrap();
        assert!(refit.extend_pool(&mut part, None).is_err());
        assert!(gp.pool(&c[1..], m).is_err());
    }

    #[test]
    fn prediction_gradients_match_finite_differences() {
        let (kinds, x, y) = mixed_data(25, 5);
        let theta = vec![-1.2, 0.0, -0.8, 0.1, -4.0];
        let gp = Gp::with_params(kinds, x, &y, &theta, Noise::default()).unwrap();
        for p in [[0.33, 1.0, 0.61], [0.05, 0.0, f64::NAN]] {
            let pr = gp.predict_with_grad(&p).unwrap();
            let (m0, v0) = gp.predict(&p).unwrap();
            assert!((pr.mean - m0).abs() < 1e-12 && (pr.var - v0).abs() < 1e-12);
            for i in [0usize, 2] {
                if p[i].is_nan() {
                    assert_eq!(pr.d_mean[i], 0.0);
                    continue;
                }
                let h = 1e-6;
                let mut a = p;
                a[i] += h;
                let mut b = p;
                b[i] -= h;
                let (ma, va) = gp.predict(&a).unwrap();
                let (mb, vb) = gp.predict(&b).unwrap();
                let (fm, fv) = ((ma - mb) / (2.0 * h), (va - vb) / (2.0 * h));
                assert!(
                    (fm - pr.d_mean[i]).abs() < 1e-6 * (1.0 + fm.abs()),
                    "{fm} vs {}",
                    pr.d_mean[i]
                );
                assert!(
                    (fv - pr.d_var[i]).abs() < 1e-6 * (1.0 + fv.abs()),
                    "{fv} vs {}",
                    pr.d_var[i]
                );
            }
            assert_eq!(pr.d_mean[1], 0.0);
        }
        // The batch prediction agrees with the one-point one.
        let pts = [0.33, 1.0, 0.61, 0.05, 0.0, f64::NAN, 0.9, 2.0, 0.2];
        let (mb, vb) = gp.predict_batch(&pts, 3).unwrap();
        for c in 0..3 {
            let (m, v) = gp.predict(&pts[c * 3..c * 3 + 3]).unwrap();
            assert!((m - mb[c]).abs() < 1e-12 && (v - vb[c]).abs() < 1e-12);
        }
        assert!(gp.predict_batch(&pts, 2).is_err());
        assert_eq!(gp.predict_batch(&[], 0).unwrap().0.len(), 0);
    }

    #[test]
    fn batch_prediction_split_over_threads_matches_one_point_predictions() {
        // Enough observations and candidates for predict_batch to use threads.
        let (kinds, x, y) = mixed_data(90, 8);
        let theta = vec![-1.2, 0.0, -0.8, 0.1, -4.0];
        let gp = Gp::with_params(kinds, x, &y, &theta, Noise::default()).unwrap();
        let mut rng = Rng::new(3);
        let m = 301;
        let pts: Vec<f64> = (0..m)
            .flat_map(|_| [rng.uniform(), (rng.uniform() * 3.0).floor(), rng.uniform()])
            .collect();
        let (mb, vb) = gp.predict_batch(&pts, m).unwrap();
        for c in 0..m {
            let (mu, v) = gp.predict(&pts[c * 3..c * 3 + 3]).unwrap();
            assert!(
                (mu - mb[c]).abs() < 1e-10 && (v - vb[c]).abs() < 1e-10,
                "{c}"
            );
        }
    }

    #[test]
    fn bad_input_is_an_error_not_a_panic() {
        let k = vec![DimKind::Continuous];
        let mut rng = Rng::new(0);
        let cfg = FitConfig::default();
        assert!(Gp::fit(k.clone(), vec![], &[], &cfg, None, &mut rng).is_err());
        assert!(Gp::fit(k.clone(), vec![0.1], &[f64::NAN], &cfg, None, &mut rng).is_err());
        assert!(Gp::fit(k.clone(), vec![f64::INFINITY], &[1.0], &cfg, None, &mut rng).is_err());
        assert!(Gp::fit(k.clone(), vec![0.1, 0.2], &[1.0], &cfg, None, &mut rng).is_err());
        let bad_noise = FitConfig {
            noise: Noise::Inferred { floor: -1.0 },
            ..Default::default()
        };
        assert!(Gp::fit(k.clone(), vec![0.1], &[1.0], &bad_noise, None, &mut rng).is_err());
        // One point, constant outputs, huge values: all fit.
        let gp = Gp::fit(k.clone(), vec![0.1], &[3.0], &cfg, None, &mut rng).unwrap();
        assert!((gp.predict(&[0.1]).unwrap().0 - 3.0).abs() < 1e-3);
        let gp = Gp::fit(
            k.clone(),
            vec![0.1, 0.5, 0.9],
            &[2.0; 3],
            &cfg,
            None,
            &mut rng,
        )
        .unwrap();
        assert!((gp.predict(&[0.3]).unwrap().0 - 2.0).abs() < 1e-9);
        let gp = Gp::fit(
            k.clone(),
            vec![0.1, 0.5, 0.9],
            &[1e300, -1e300, 0.0],
            &cfg,
            None,
            &mut rng,
        );
        if let Ok(gp) = gp {
            assert!(gp.predict(&[0.3]).unwrap().0.is_finite());
        }
        let gp = Gp::fit(k, vec![0.1, 0.5], &[1.0, 2.0], &cfg, None, &mut rng).unwrap();
        assert!(gp.predict(&[0.1, 0.2]).is_err());
        assert!(gp.predict(&[f64::NEG_INFINITY]).is_err());
        let mut gp = gp;
        assert!(gp.add_observation(&[0.3], f64::INFINITY).is_err());
        assert_eq!(gp.n(), 2);
    }
}

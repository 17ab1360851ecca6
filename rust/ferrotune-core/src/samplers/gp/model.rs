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
//!
//! Input warping ([`FitConfig::input_warping`]): θ is followed by (log a,
//! log b) of the Kumaraswamy warp of each continuous dimension
//! ([`super::warp`]); the kernel sees the warped inputs, L(θ) gains the
//! warp's prior, and its gradient in (log a, log b) follows from the
//! gradient in the warped inputs by the chain rule (see `fit`). Predictions
//! take unwarped points and return gradients in them.
//!
//! Submodules: `priors`, `fit` (the likelihood and the MAP fit), `predict`
//! (posterior at points and batches) and `pool` (candidate pools kept up to
//! date by appends).

mod fit;
mod pool;
mod predict;
mod priors;

pub use fit::{neg_log_posterior, param_bounds, FIT_SUBSET};
pub use pool::Pool;
pub use priors::{LengthscalePrior, NoisePrior, Priors};

use crate::error::{Error, Result};
use std::sync::atomic::{AtomicU64, Ordering};

use super::kernel::{Columns, DimKind, Kernel};
use super::lbfgs::LbfgsConfig;
use super::linalg::Cholesky;
use super::warp::{warped_dims, Warp};
use std::borrow::Cow;

const LN_2PI: f64 = 1.837_877_066_409_345_5;

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
    /// Fit a Kumaraswamy input warp ([`super::warp`]) of every continuous
    /// dimension with the other hyperparameters.
    pub input_warping: bool,
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
            input_warping: false,
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
/// A fitted GP.
#[derive(Debug, Clone, PartialEq)]
pub struct Gp {
    kernel: Kernel,
    log_noise: f64,
    noise: Noise,
    /// The input warp (None: inputs as given).
    warp: Option<Warp>,
    /// Inputs, n×d row-major (before the warp).
    x: Vec<f64>,
    /// The same inputs by dimension, warped, for the batched kernel routines.
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

/// The input warp θ asks for: none when θ has d + 2 entries, a warp of
/// every continuous dimension of `kinds` when it has 2 more per such
/// dimension (see [`Gp::with_params`]).
fn warp_of(kinds: &[DimKind], theta: &[f64]) -> Result<Option<Warp>> {
    let d = kinds.len();
    let dims = warped_dims(kinds);
    if theta.len() == d + 2 {
        Ok(None)
    } else if !dims.is_empty() && theta.len() == d + 2 + 2 * dims.len() {
        Ok(Some(Warp::new(dims, &theta[d + 2..])?))
    } else {
        Err(Error::InvalidArgument(format!(
            "{} hyperparameters given, expected {} (or {} with input warping)",
            theta.len(),
            d + 2,
            d + 2 + 2 * dims.len()
        )))
    }
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

impl Gp {
    /// A GP with the given hyperparameters θ = (log ℓ_1..d, log σ_f², log σ_n²),
    /// optionally followed by the input warp's (log a, log b) of each
    /// continuous dimension in turn ([`super::warp`]), no fitting. `x` is n×d
    /// row-major (continuous dimensions in [0, 1], categorical ones as choice
    /// indices, NaN for inactive), `y` the n raw observations.
    pub fn with_params(
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        theta: &[f64],
        noise: Noise,
    ) -> Result<Self> {
        let n = check_inputs(&kinds, &x, y)?;
        let d = kinds.len();
        let warp = warp_of(&kinds, theta)?;
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
        let xw = warp
            .as_ref()
            .map_or(Cow::Borrowed(&x[..]), |w| Cow::Owned(w.apply(&x, d)));
        let cols = Columns::new(kernel.kinds(), &xw, n)?;
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
            warp,
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

    /// Number of observations.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// Number of input dimensions.
    pub fn dim(&self) -> usize {
        self.kernel.dim()
    }

    /// θ = (log ℓ_1..d, log σ_f², log σ_n²), then the warp's parameters if
    /// any (see [`Gp::with_params`]), e.g. to warm-start the next fit.
    pub fn params(&self) -> Vec<f64> {
        let mut p = self.kernel.params();
        p.push(self.log_noise);
        if let Some(w) = &self.warp {
            p.extend_from_slice(w.params());
        }
        p
    }

    /// The input warp, if the model has one.
    pub fn warp(&self) -> Option<&Warp> {
        self.warp.as_ref()
    }

    /// The m rows of `xs` (m×d) as the kernel sees them: warped when the
    /// model has a warp.
    pub(in crate::samplers::gp) fn warped<'a>(&self, xs: &'a [f64]) -> Cow<'a, [f64]> {
        match &self.warp {
            Some(w) => Cow::Owned(w.apply(xs, self.dim())),
            None => Cow::Borrowed(xs),
        }
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
        let xw = self.warped(x);
        let point = Columns::new(self.kernel.kinds(), &xw, 1)?;
        let (col, _) = self.kernel.cross_point(&point, &self.cols)?;
        let diag = self.kernel.signal_variance() + self.noise_variance();
        let mut chol = self.chol.clone();
        let mut cols = self.cols.clone();
        cols.push(self.kernel.kinds(), &xw)?;
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
    use crate::rng::Rng;

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
    fn warped_likelihood_gradient_matches_finite_differences() {
        // Mixed data with inactive values: θ then (log a, log b) of the two
        // continuous dimensions, away from the identity.
        let (kinds, x, y) = mixed_data(18, 2);
        let (ys, _, _) = standardise(&y);
        let theta = vec![-1.0, 0.3, -0.4, 0.2, -3.0, -0.7, 0.4, 0.5, -0.3];
        for fixed in [false, true] {
            let priors = Priors::two_sided(3);
            let (_, g) = neg_log_posterior(&kinds, &x, &ys, &theta, &priors, fixed).unwrap();
            assert_eq!(g.len(), theta.len());
            let h = 1e-5;
            for p in 0..theta.len() {
                let at = |t: f64| {
                    let mut tp = theta.clone();
                    tp[p] += t;
                    neg_log_posterior(&kinds, &x, &ys, &tp, &priors, fixed)
                        .unwrap()
                        .0
                };
                let fd = if fixed && p == 4 {
                    0.0
                } else {
                    (at(h) - at(-h)) / (2.0 * h)
                };
                assert!(
                    (fd - g[p]).abs() < 1e-6 * (1.0 + fd.abs()),
                    "param {p}: fd {fd} vs {}",
                    g[p]
                );
            }
        }
    }

    #[test]
    fn identity_warp_reproduces_the_unwarped_model() {
        let (kinds, x, y) = mixed_data(20, 3);
        let (ys, _, _) = standardise(&y);
        let theta = vec![-1.0, 0.3, -0.4, 0.2, -3.0];
        let mut warped = theta.clone();
        warped.extend([0.0; 4]);
        let p = Priors::two_sided(3);
        let (a, _) = neg_log_posterior(&kinds, &x, &ys, &theta, &p, false).unwrap();
        let (b, _) = neg_log_posterior(&kinds, &x, &ys, &warped, &p, false).unwrap();
        // The warp's prior is 0 at the identity: the same value to the bit.
        assert_eq!(a, b);
        let noise = Noise::default();
        let g0 = Gp::with_params(kinds.clone(), x.clone(), &y, &theta, noise).unwrap();
        let g1 = Gp::with_params(kinds, x, &y, &warped, noise).unwrap();
        assert_eq!(g1.params(), warped);
        for t in [[0.1, 0.0, 0.3], [0.8, 2.0, f64::NAN]] {
            assert_eq!(g0.predict(&t).unwrap(), g1.predict(&t).unwrap());
            assert_eq!(
                g0.predict_with_grad(&t).unwrap(),
                g1.predict_with_grad(&t).unwrap()
            );
        }
        // A θ of another length is refused.
        assert!(Gp::with_params(
            vec![DimKind::Continuous],
            vec![0.5],
            &[1.0],
            &[0.0; 4],
            noise
        )
        .is_err());
    }

    #[test]
    fn warped_model_predicts_appends_and_pools_consistently() {
        let (kinds, x, y) = mixed_data(30, 6);
        let theta = vec![-1.2, 0.0, -0.8, 0.1, -4.0, -0.9, 0.3, 0.6, -0.5];
        let noise = Noise::default();
        let full = Gp::with_params(kinds.clone(), x.clone(), &y, &theta, noise).unwrap();
        // Prediction gradients in the raw coordinates.
        for p in [[0.33, 1.0, 0.61], [0.05, 0.0, f64::NAN], [0.93, 2.0, 0.02]] {
            let pr = full.predict_with_grad(&p).unwrap();
            for i in [0usize, 2] {
                if p[i].is_nan() {
                    continue;
                }
                let h = 1e-6;
                let (mut a, mut b) = (p, p);
                a[i] += h;
                b[i] -= h;
                let (ma, va) = full.predict(&a).unwrap();
                let (mb, vb) = full.predict(&b).unwrap();
                let (fm, fv) = ((ma - mb) / (2.0 * h), (va - vb) / (2.0 * h));
                assert!(
                    (fm - pr.d_mean[i]).abs() < 1e-5 * (1.0 + fm.abs()),
                    "{fm} vs {pr:?}"
                );
                assert!(
                    (fv - pr.d_var[i]).abs() < 1e-5 * (1.0 + fv.abs()),
                    "{fv} vs {pr:?}"
                );
            }
        }
        // Appends, batches and pools agree with the model built on all points.
        let mut grown =
            Gp::with_params(kinds, x[..20 * 3].to_vec(), &y[..20], &theta, noise).unwrap();
        let (m, s) = full.standardisation();
        grown.y_mean = m;
        grown.y_std = s;
        grown.y = y[..20].iter().map(|v| (v - m) / s).collect();
        let cands = [0.1, 0.0, 0.3, 0.8, 2.0, f64::NAN, 0.5, 1.0, 0.97];
        let mut pool = grown.pool(&cands, 3).unwrap();
        for i in 20..30 {
            grown.add_observation(&x[i * 3..i * 3 + 3], y[i]).unwrap();
        }
        grown.extend_pool(&mut pool, None).unwrap();
        let (pm, pv) = grown.pool_predict(&pool).unwrap();
        let (bm, bv) = full.predict_batch(&cands, 3).unwrap();
        for c in 0..3 {
            let (mu, v) = full.predict(&cands[c * 3..c * 3 + 3]).unwrap();
            assert!((mu - bm[c]).abs() < 1e-10 && (v - bv[c]).abs() < 1e-10);
            assert!((mu - pm[c]).abs() < 1e-8 && (v - pv[c]).abs() < 1e-8, "{c}");
        }
    }

    #[test]
    fn fitted_warp_stretches_a_function_that_varies_fast_near_zero() {
        // f(x) = x^0.2 (steep near 0, flat elsewhere), at 25 points: the
        // fitted warp has a < 1 and a higher posterior than the unwarped fit.
        let mut rng = Rng::new(11);
        let x: Vec<f64> = (0..25).map(|_| rng.uniform()).collect();
        let y: Vec<f64> = x
            .iter()
            .map(|v| v.powf(0.2) + (12.0 * v.powf(0.2)).sin() * 0.3)
            .collect();
        let kinds = vec![DimKind::Continuous];
        let base = FitConfig {
            priors: Some(Priors::two_sided(1)),
            ..FitConfig::default()
        };
        let warped_cfg = FitConfig {
            input_warping: true,
            ..base.clone()
        };
        let plain = Gp::fit(kinds.clone(), x.clone(), &y, &base, None, &mut rng).unwrap();
        let warped = Gp::fit(kinds.clone(), x.clone(), &y, &warped_cfg, None, &mut rng).unwrap();
        let (a, _) = warped.warp().unwrap().shapes()[0];
        assert!(a < 0.8, "a = {a}");
        let (ys, _, _) = standardise(&y);
        let p = Priors::two_sided(1);
        let lp = neg_log_posterior(&kinds, &x, &ys, &plain.params(), &p, false)
            .unwrap()
            .0;
        let lw = neg_log_posterior(&kinds, &x, &ys, &warped.params(), &p, false)
            .unwrap()
            .0;
        assert!(lw < lp - 1.0, "warped {lw} vs plain {lp}");
        // The unwarped refit of a warped model drops the warp; a warped refit
        // of an unwarped one starts from the identity.
        assert!(warped.refit(&base, &mut rng).unwrap().warp().is_none());
        assert!(plain.refit(&warped_cfg, &mut rng).unwrap().warp().is_some());
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

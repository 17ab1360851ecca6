//! Input warping: a Kumaraswamy CDF per numeric input dimension, fitted
//! with the kernel's other hyperparameters.
//!
//! Snoek, Swersky, Zemel & Adams 2014, "Input Warping for Bayesian
//! Optimization of Non-stationary Functions" (ICML 2014), warp each input
//! x ∈ [0, 1] by a Beta CDF whose two shape parameters are learnt with the
//! GP, so that a function that varies fast in one part of its range and
//! slowly in another becomes stationary in the warped coordinate. As
//! BoTorch's `Warp` input transform and HEBO do, we use the Kumaraswamy CDF
//! in its place, which has a closed form (Kumaraswamy 1980, eq. 1):
//!
//! ```text
//! w(x) = 1 - (1 - x^a)^b,     a, b > 0
//! ```
//!
//! a = b = 1 is the identity; a < 1 stretches the region near 0 (for a
//! function that varies fast there, e.g. a log-like shape), b < 1 the
//! region near 1. With s = x^a and t = 1 - s, the derivatives the fit and
//! the acquisition need are
//!
//! ```text
//! ∂w/∂x     = a b x^(a-1) t^(b-1)
//! ∂w/∂log a = a b t^(b-1) s log x
//! ∂w/∂log b = -b t^b log t
//! ```
//!
//! ∂w/∂x is unbounded at x = 0 when a < 1 (and at x = 1 when b < 1), and
//! log x, log t diverge at the ends: x is clamped to [ε, 1 - ε] with
//! ε = 10⁻⁷ (BoTorch's ε; it squeezes x affinely into that interval
//! instead, which would make the identity warp inexact) and the derivatives
//! are those of the clamped map (∂w/∂x = 0 outside). The identity a = b = 1
//! returns x itself, so an identity warp reproduces the unwarped model
//! exactly.
//!
//! Prior: log a, log b ~ N(0, 0.1) independently, a log-normal prior with
//! median 1 (the identity), and the fit starts from the identity. This is
//! tighter than the `LogNormalPrior(0.0, 0.75 ** 0.5)` that BoTorch's
//! examples and Ax's warped models put on the Kumaraswamy concentrations,
//! a deliberate deviation: Snoek et al. integrate the warp's parameters out
//! by slice sampling, while we take the MAP estimate, and with BoTorch's
//! variance the MAP warps fitted to 20-50 points overfitted (median regret
//! of the sampler 19x higher on Hartmann6 at 50 trials, 3x on Levy 10-D at
//! 100, 4x on Rosenbrock 10-D at 50 than without warping; variance 0.25
//! reduced these losses, 0.1 removed them while keeping most of the gain on
//! a warped Branin; benches/README.md). With variance 0.1 a = 2 costs
//! 2.4 nats and a = 4 costs 9.6. Bounds: log a, log b ∈ [log 1/20,
//! log 20].
//!
//! Only [`DimKind::Continuous`] dimensions are warped (floats and integers in
//! the unit cube of the sampler's encoding); categorical ones are not, and
//! an inactive (NaN) coordinate stays NaN.

use super::kernel::DimKind;
use crate::error::{Error, Result};

/// Clamp of x before warping: [EPS, 1 - EPS].
pub const EPS: f64 = 1e-7;
/// Variance of the normal prior on log a and on log b.
pub const PRIOR_VAR: f64 = 0.1;
/// Bound of |log a| and |log b| in the fit.
pub const LOG_BOUND: f64 = 2.995_732_273_553_991; // ln 20

/// The Kumaraswamy warps of some dimensions of the inputs.
#[derive(Debug, Clone, PartialEq)]
pub struct Warp {
    /// The warped dimensions, increasing.
    dims: Vec<usize>,
    /// (a, b) of each warped dimension.
    ab: Vec<(f64, f64)>,
    /// (log a, log b) of each warped dimension, as given.
    log_ab: Vec<f64>,
}

/// The dimensions of `kinds` that input warping applies to.
pub fn warped_dims(kinds: &[DimKind]) -> Vec<usize> {
    (0..kinds.len())
        .filter(|&i| kinds[i] == DimKind::Continuous)
        .collect()
}

/// w(x) for one coordinate (NaN stays NaN).
#[inline]
pub fn cdf(x: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() || (a == 1.0 && b == 1.0) {
        return x;
    }
    let x = x.clamp(EPS, 1.0 - EPS);
    1.0 - (1.0 - x.powf(a)).powf(b)
}

/// ∂w/∂x at x (0 outside the clamp interval and at NaN).
#[inline]
pub fn cdf_dx(x: f64, a: f64, b: f64) -> f64 {
    if x.is_nan() {
        return 0.0;
    }
    if a == 1.0 && b == 1.0 {
        return 1.0;
    }
    if !(EPS..=1.0 - EPS).contains(&x) {
        return 0.0;
    }
    let t = 1.0 - x.powf(a);
    a * b * x.powf(a - 1.0) * t.powf(b - 1.0)
}

/// (∂w/∂log a, ∂w/∂log b) at x (zero at NaN).
#[inline]
pub fn cdf_dlog(x: f64, a: f64, b: f64) -> (f64, f64) {
    if x.is_nan() {
        return (0.0, 0.0);
    }
    let x = x.clamp(EPS, 1.0 - EPS);
    let s = x.powf(a);
    let t = 1.0 - s;
    let tb1 = t.powf(b - 1.0);
    (a * b * tb1 * s * x.ln(), -b * tb1 * t * t.ln())
}

impl Warp {
    /// The warp of dimensions `dims` with parameters
    /// `log_ab` = (log a, log b) of each in turn.
    pub fn new(dims: Vec<usize>, log_ab: &[f64]) -> Result<Self> {
        if log_ab.len() != 2 * dims.len() {
            return Err(Error::InvalidArgument(format!(
                "{} warping parameters for {} warped dimensions",
                log_ab.len(),
                dims.len()
            )));
        }
        let mut ab = Vec::with_capacity(dims.len());
        for p in log_ab.chunks_exact(2) {
            let (a, b) = (p[0].exp(), p[1].exp());
            if !(a.is_finite() && a > 0.0 && b.is_finite() && b > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "warping parameters (log a, log b) = ({}, {}) are out of range",
                    p[0], p[1]
                )));
            }
            ab.push((a, b));
        }
        Ok(Warp {
            dims,
            ab,
            log_ab: log_ab.to_vec(),
        })
    }

    /// The identity warp of dimensions `dims`.
    pub fn identity(dims: Vec<usize>) -> Self {
        let n = dims.len();
        Warp {
            dims,
            ab: vec![(1.0, 1.0); n],
            log_ab: vec![0.0; 2 * n],
        }
    }

    /// The warped dimensions.
    pub fn dims(&self) -> &[usize] {
        &self.dims
    }

    /// (log a, log b) of each warped dimension in turn.
    pub fn params(&self) -> &[f64] {
        &self.log_ab
    }

    /// (a, b) of each warped dimension.
    pub fn shapes(&self) -> &[(f64, f64)] {
        &self.ab
    }

    /// The rows of `xs` (row-major, `d` columns) with the warped dimensions
    /// mapped through their CDFs.
    pub fn apply(&self, xs: &[f64], d: usize) -> Vec<f64> {
        let mut out = xs.to_vec();
        if d == 0 {
            return out;
        }
        for row in out.chunks_exact_mut(d) {
            for (&j, &(a, b)) in self.dims.iter().zip(&self.ab) {
                row[j] = cdf(row[j], a, b);
            }
        }
        out
    }

    /// ∂w_j/∂x_j at the point `x` for every dimension j (1 where unwarped).
    pub fn jacobian_diag(&self, x: &[f64]) -> Vec<f64> {
        let mut g = vec![1.0; x.len()];
        for (&j, &(a, b)) in self.dims.iter().zip(&self.ab) {
            g[j] = cdf_dx(x[j], a, b);
        }
        g
    }

    /// -log p of the warping parameters up to a constant (the module's
    /// prior), its gradient added into `g` (one entry per parameter).
    pub fn neg_log_prior(log_ab: &[f64], g: &mut [f64]) -> f64 {
        let mut v = 0.0;
        for (t, gi) in log_ab.iter().zip(g.iter_mut()) {
            v += 0.5 * t * t / PRIOR_VAR;
            *gi += t / PRIOR_VAR;
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derivatives_match_finite_differences() {
        for &(a, b) in &[(0.3, 1.0), (1.0, 2.5), (0.6, 0.4), (2.0, 3.0), (1.0, 1.0)] {
            for &x in &[0.01, 0.2, 0.5, 0.77, 0.98] {
                let h = 1e-6;
                let fd = (cdf(x + h, a, b) - cdf(x - h, a, b)) / (2.0 * h);
                let g = cdf_dx(x, a, b);
                assert!((fd - g).abs() < 1e-6 * (1.0 + g.abs()), "dx {a} {b} {x}");
                let (la, lb) = (f64::ln(a), f64::ln(b));
                let fa = (cdf(x, (la + h).exp(), b) - cdf(x, (la - h).exp(), b)) / (2.0 * h);
                let fb = (cdf(x, a, (lb + h).exp()) - cdf(x, a, (lb - h).exp())) / (2.0 * h);
                let (ga, gb) = cdf_dlog(x, a, b);
                assert!((fa - ga).abs() < 1e-6, "dlog a {a} {b} {x}: {fa} vs {ga}");
                assert!((fb - gb).abs() < 1e-6, "dlog b {a} {b} {x}: {fb} vs {gb}");
            }
        }
    }

    #[test]
    fn warp_is_an_increasing_bijection_of_the_unit_interval() {
        for &(a, b) in &[(0.2, 1.0), (3.0, 0.5), (1.0, 1.0)] {
            let mut prev = -1.0;
            for i in 0..=1000 {
                let w = cdf(i as f64 / 1000.0, a, b);
                assert!((0.0..=1.0).contains(&w) && w >= prev, "{a} {b} {i}");
                prev = w;
            }
        }
        // Identity is exact; NaN (inactive) passes through.
        assert_eq!(cdf(0.123_456_789, 1.0, 1.0), 0.123_456_789);
        assert!(cdf(f64::NAN, 0.5, 2.0).is_nan());
        // a < 1 stretches the region near 0.
        assert!(cdf(0.01, 0.2, 1.0) > 0.3);
        let w = Warp::new(vec![0, 2], &[f64::ln(0.5), 0.0, 0.0, f64::ln(2.0)]).unwrap();
        let out = w.apply(&[0.25, 3.0, 0.5, f64::NAN, 1.0, 0.5], 3);
        assert!((out[0] - 0.5).abs() < 1e-12 && out[1] == 3.0 && (out[2] - 0.75).abs() < 1e-12);
        assert!(out[3].is_nan() && out[4] == 1.0);
        assert!(Warp::new(vec![0], &[0.0]).is_err());
        assert!(Warp::new(vec![0], &[0.0, 1e300]).is_err());
    }
}

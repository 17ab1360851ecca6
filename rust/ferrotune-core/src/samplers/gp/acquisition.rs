//! Acquisition functions for *minimisation*, each to be maximised, with
//! derivatives w.r.t. the posterior mean μ and variance s² (the chain rule
//! through the model's ∂μ/∂x and ∂s²/∂x gives the gradient in x).
//!
//! With σ = sqrt(s²), incumbent f* (best value so far) and z = (f* - μ)/σ:
//!
//! - EI (Jones, Schonlau & Welch 1998, eq. 15): EI = σ h(z), h(z) = φ(z) + zΦ(z);
//!   ∂EI/∂μ = -Φ(z), ∂EI/∂σ = φ(z).
//! - LogEI (Ament, Daulton, Eriksson, Balandat & Bakshy 2023, "Unexpected
//!   Improvements to Expected Improvement for Bayesian Optimization", arXiv
//!   2310.20708, §4.1, the piecewise log_h of LogEI; equation number not
//!   checked against the published text): log EI = log_h(z) + log σ, with
//!   ```text
//!   log_h(z) = log(φ(z) + zΦ(z))                                 z > -1
//!            = -z²/2 - c₁ + log1mexp(log(erfcx(-z/√2)|z|) + c₂)   -1/√ε < z <= -1
//!            = -z²/2 - c₁ - 2 log|z|                              z <= -1/√ε
//!   ```
//!   c₁ = log(2π)/2, c₂ = log(π/2)/2, log1mexp(x) = log(1 - eˣ) (evaluated as
//!   in Mächler 2012, "Accurately Computing log(1 - exp(-|a|))"), ε the
//!   machine epsilon. The middle branch follows from Φ(z) = erfcx(-z/√2)
//!   e^{-z²/2}/2, which factors φ(z) out of h(z) with no cancellation.
//!   Refinement of ours: in the last branch we keep two more terms of the
//!   asymptotic series h(z)/φ(z) = z⁻² - 3z⁻⁴ + 15z⁻⁶ - ... (from the Mills
//!   ratio, Abramowitz & Stegun 26.2.12), -2 log|z| + log1p(-3/z² + 15/z⁴),
//!   and switch to it at |z| >= 10³ rather than 1/√ε: there the truncation
//!   error (105 z⁻⁸ relative) is below ε, whereas the middle branch loses
//!   about log10(z²) digits to the cancellation inside log1mexp.
//!   The derivative is d log_h/dz = Φ(z)/h(z) (since h' = Φ), computed as
//!   exp(log Φ(z) - log_h(z)), and asymptotically as |z|(1 + 2/z² - 6/z⁴)
//!   below z = -10³, where the two logs are too large to subtract.
//! - PI (Kushner 1964): PI = Φ(z); ∂PI/∂μ = -φ(z)/σ, ∂PI/∂σ = -zφ(z)/σ.
//! - log probability of feasibility of a black-box constraint c(x) <= 0 with
//!   its own GP (Gardner, Kusner, Xu, Weinberger & Cunningham 2014,
//!   "Bayesian Optimization with Inequality Constraints", ICML; Gelbart,
//!   Snoek & Adams 2014): log PoF = log Φ(-μ_c/σ_c), added to LogEI.
//!   With w = -μ_c/σ_c, ∂/∂μ_c = -r/σ_c and ∂/∂σ_c = -w r/σ_c, where
//!   r = φ(w)/Φ(w) = exp(log φ(w) - log Φ(w)) stays finite far in the tail.
//! - UCB (Srinivas, Krause, Kakade & Seeger 2010, "Gaussian Process
//!   Optimization in the Bandit Setting"), written for minimisation as the
//!   negated lower confidence bound -(μ - √β σ), so that larger is better
//!   like the others. See [`srinivas_beta`] for the default schedule.
//!
//! [`Constrained`] puts an acquisition and the constraints' log PoF together.
//! With L(x) = Σ_k log PoF_k(x) (the constraints modelled as independent):
//! LogEI + L (Gardner et al.'s EI × Π PoF, in log space); EI × e^L and
//! PI × e^L; for UCB, which is not a probability or an expectation that a
//! PoF could weight, UCB/s_y + L, the bound in units of the objective's
//! standard deviation s_y plus L as a soft penalty that is about 0 where
//! feasibility is near-certain and falls like -w²/2 deep in the infeasible
//! region (our choice; neither paper defines constrained UCB). When no
//! observed point is feasible there is no incumbent and L alone is maximised
//! (as in Gelbart et al. 2014, §3.2, and BoTorch/Optuna).
//!
//! Variances below [`MIN_VARIANCE`] are raised to it (the posterior at a data
//! point of a noise-free GP is 0 up to round-off); the variance derivative is
//! then 0.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2, PI as PI_F64};

use super::model::Gp;
use crate::error::{Error, Result};
use crate::samplers::tpe::truncnorm::{log_ndtr, ndtr, HALF_LN_2PI};

/// Smallest posterior variance the acquisition functions use.
pub const MIN_VARIANCE: f64 = 1e-20;

/// log(π/2)/2.
const HALF_LN_HALF_PI: f64 = 0.225_791_352_644_727_4;
/// Beyond this |z| (z < 0) log_h uses its asymptotic series.
const ASYMPTOTIC_Z: f64 = 1e3;

/// Which acquisition function to maximise.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Acquisition {
    /// log of the expected improvement (the default).
    LogEi,
    /// Expected improvement.
    Ei,
    /// Probability of improvement.
    Pi,
    /// Upper confidence bound (for minimisation) with this β.
    Ucb { beta: f64 },
}

/// An acquisition value with its derivatives w.r.t. the posterior mean and
/// variance.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AcqValue {
    pub value: f64,
    pub d_mean: f64,
    pub d_var: f64,
}

/// φ(z).
#[inline]
fn npdf(z: f64) -> f64 {
    (-0.5 * z * z - HALF_LN_2PI).exp()
}

/// erfcx(x) = exp(x²) erfc(x) for x >= 0 (clamped to x >= 0).
///
/// Below 5: the product, whose relative error is about x²·ε. From 5 up: the
/// continued fraction √π erfcx(x) = 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...))))
/// (Abramowitz & Stegun 7.1.14), evaluated bottom-up with 60 terms; past 10⁸
/// its two leading terms 1/(x√π)·(1 - 1/(2x²)) are exact to double precision.
pub fn erfcx(x: f64) -> f64 {
    let x = x.max(0.0);
    if x < 5.0 {
        (x * x).exp() * libm::erfc(x)
    } else if x < 1e8 {
        let mut t = x;
        for k in (1..=60).rev() {
            t = x + 0.5 * k as f64 / t;
        }
        1.0 / (PI_F64.sqrt() * t)
    } else {
        (1.0 - 0.5 / (x * x)) / (x * PI_F64.sqrt())
    }
}

/// log(1 - eˣ) for x <= 0 (Mächler 2012: expm1 near 0, log1p further out).
pub fn log1mexp(x: f64) -> f64 {
    if x > -LN_2 {
        (-x.exp_m1()).ln()
    } else {
        (-x.exp()).ln_1p()
    }
}

/// log h(z) = log(φ(z) + zΦ(z)), accurate for every finite z (see module docs).
pub fn log_h(z: f64) -> f64 {
    if z > -1.0 {
        (npdf(z) + z * ndtr(z)).ln()
    } else if z > -ASYMPTOTIC_Z {
        -0.5 * z * z - HALF_LN_2PI
            + log1mexp((erfcx(-z * FRAC_1_SQRT_2) * -z).ln() + HALF_LN_HALF_PI)
    } else {
        let w = 1.0 / (z * z);
        -0.5 * z * z - HALF_LN_2PI - 2.0 * (-z).ln() + (w * (-3.0 + 15.0 * w)).ln_1p()
    }
}

/// d log_h / dz = Φ(z)/h(z).
pub fn log_h_grad(z: f64) -> f64 {
    if z > -ASYMPTOTIC_Z {
        (log_ndtr(z) - log_h(z)).exp()
    } else {
        let w = 1.0 / (z * z);
        -z * (1.0 + w * (2.0 - 6.0 * w))
    }
}

/// σ and whether the variance was raised to the floor.
fn sigma(var: f64) -> (f64, bool) {
    if var > MIN_VARIANCE {
        (var.sqrt(), false)
    } else {
        (MIN_VARIANCE.sqrt(), true)
    }
}

fn check(mean: f64, var: f64, best: f64) -> Result<()> {
    if !mean.is_finite() || var.is_nan() || var == f64::INFINITY || !best.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "acquisition needs a finite mean, variance and incumbent, got mean={mean}, var={var}, best={best}"
        )));
    }
    Ok(())
}

/// z = (best - mean)/σ, or an error when it overflows (a variance at the
/// floor with an enormous gap between mean and incumbent).
fn improvement_z(mean: f64, s: f64, best: f64) -> Result<f64> {
    let z = (best - mean) / s;
    if !z.is_finite() {
        return Err(Error::InvalidArgument(format!(
            "standardised improvement overflows (mean={mean}, sigma={s}, best={best})"
        )));
    }
    Ok(z)
}

/// Converts (∂a/∂μ, ∂a/∂σ) into (∂a/∂μ, ∂a/∂s²).
fn finish(value: f64, d_mean: f64, d_sigma: f64, s: f64, floored: bool) -> AcqValue {
    AcqValue {
        value,
        d_mean,
        d_var: if floored { 0.0 } else { d_sigma / (2.0 * s) },
    }
}

/// log EI for minimisation below `best`.
pub fn log_ei(mean: f64, var: f64, best: f64) -> Result<AcqValue> {
    check(mean, var, best)?;
    let (s, floored) = sigma(var);
    let z = improvement_z(mean, s, best)?;
    let g = log_h_grad(z);
    Ok(finish(
        log_h(z) + s.ln(),
        -g / s,
        (1.0 - g * z) / s,
        s,
        floored,
    ))
}

/// EI for minimisation below `best`.
pub fn ei(mean: f64, var: f64, best: f64) -> Result<AcqValue> {
    check(mean, var, best)?;
    let (s, floored) = sigma(var);
    let z = improvement_z(mean, s, best)?;
    let value = s * log_h(z).exp();
    Ok(finish(value, -ndtr(z), npdf(z), s, floored))
}

/// Probability of improving on `best` (minimisation).
pub fn pi(mean: f64, var: f64, best: f64) -> Result<AcqValue> {
    check(mean, var, best)?;
    let (s, floored) = sigma(var);
    let z = improvement_z(mean, s, best)?;
    let p = npdf(z);
    Ok(finish(ndtr(z), -p / s, -z * p / s, s, floored))
}

/// log P(c(x) <= 0) for a constraint whose GP posterior at x has mean
/// `mean` and variance `var` (see the module docs).
pub fn log_pof(mean: f64, var: f64) -> Result<AcqValue> {
    check(mean, var, 0.0)?;
    let (s, floored) = sigma(var);
    let w = improvement_z(mean, s, 0.0)?;
    let lp = log_ndtr(w);
    let r = (-0.5 * w * w - HALF_LN_2PI - lp).exp();
    Ok(finish(lp, -r / s, -w * r / s, s, floored))
}

/// Negated lower confidence bound -(μ - √β σ).
pub fn ucb(mean: f64, var: f64, beta: f64) -> Result<AcqValue> {
    check(mean, var, 0.0)?;
    if !(beta.is_finite() && beta >= 0.0) {
        return Err(Error::InvalidArgument(format!(
            "beta must be finite and >= 0, got {beta}"
        )));
    }
    let (s, floored) = sigma(var);
    let rb = beta.sqrt();
    Ok(finish(-mean + rb * s, -1.0, rb, s, floored))
}

/// β_t of Srinivas et al. 2010, Theorem 1: β_t = 2 log(|D| t² π² / (6δ)).
///
/// Theorem 1 is stated for a finite domain D; for a continuous d-dimensional
/// domain (Theorem 2) the constants depend on unknown Lipschitz bounds, so, as
/// is common in practice, |D| is replaced by the dimension d (clamped to >= 1).
/// `t` is the 1-based iteration (number of observations + 1), `delta` the
/// failure probability (0.1 is the usual choice).
pub fn srinivas_beta(t: usize, d: usize, delta: f64) -> Result<f64> {
    if !(delta > 0.0 && delta < 1.0) {
        return Err(Error::InvalidArgument(format!(
            "delta must lie in (0, 1), got {delta}"
        )));
    }
    let t = t.max(1) as f64;
    let d = d.max(1) as f64;
    Ok(2.0 * (d * t * t * PI_F64 * PI_F64 / (6.0 * delta)).ln())
}

impl Acquisition {
    /// The acquisition at a point with posterior mean `mean` and variance
    /// `var`, given the incumbent `best` (ignored by UCB).
    pub fn eval(&self, mean: f64, var: f64, best: f64) -> Result<AcqValue> {
        match *self {
            Acquisition::LogEi => log_ei(mean, var, best),
            Acquisition::Ei => ei(mean, var, best),
            Acquisition::Pi => pi(mean, var, best),
            Acquisition::Ucb { beta } => ucb(mean, var, beta),
        }
    }

    /// Value and gradient w.r.t. x, given ∂μ/∂x and ∂s²/∂x.
    pub fn value_and_grad(
        &self,
        mean: f64,
        var: f64,
        d_mean: &[f64],
        d_var: &[f64],
        best: f64,
    ) -> Result<(f64, Vec<f64>)> {
        if d_mean.len() != d_var.len() {
            return Err(Error::InvalidArgument(format!(
                "mean and variance gradients have {} and {} entries",
                d_mean.len(),
                d_var.len()
            )));
        }
        let a = self.eval(mean, var, best)?;
        let g = d_mean
            .iter()
            .zip(d_var)
            .map(|(dm, dv)| a.d_mean * dm + a.d_var * dv)
            .collect();
        Ok((a.value, g))
    }

    /// The acquisition of `gp`'s posterior at `x` and its gradient w.r.t. x
    /// (zero on categorical and inactive dimensions).
    pub fn at(&self, gp: &Gp, x: &[f64], best: f64) -> Result<(f64, Vec<f64>)> {
        let p = gp.predict_with_grad(x)?;
        self.value_and_grad(p.mean, p.var, &p.d_mean, &p.d_var, best)
    }
}

/// An acquisition function with black-box constraints c_k(x) <= 0, each
/// with its own GP (see the module docs for how they are combined).
#[derive(Debug, Clone)]
pub struct Constrained {
    /// The acquisition of the objective.
    pub acq: Acquisition,
    /// The objective's GP.
    pub objective: Gp,
    /// The incumbent: the best feasible observed value; None when no
    /// observation is feasible, and then only feasibility is maximised.
    pub best: Option<f64>,
    /// One GP per modelled constraint.
    pub constraints: Vec<Gp>,
}

impl Constrained {
    /// The combined value and gradient from the objective's acquisition
    /// (value and gradient; unused without an incumbent) and L with its
    /// gradient (empty gradients for values alone).
    fn combine(&self, obj: Option<(f64, &[f64])>, l: f64, dl: &[f64]) -> (f64, Vec<f64>) {
        let (v, g) = match (obj, self.best) {
            (Some(o), Some(_)) => o,
            _ => return (l, dl.to_vec()),
        };
        if self.constraints.is_empty() {
            return (v, g.to_vec());
        }
        match self.acq {
            Acquisition::LogEi => (v + l, g.iter().zip(dl).map(|(a, b)| a + b).collect()),
            Acquisition::Ei | Acquisition::Pi => {
                // (v e^L)' = e^L (v' + v L').
                let p = l.exp();
                (
                    v * p,
                    g.iter().zip(dl).map(|(a, b)| p * (a + v * b)).collect(),
                )
            }
            Acquisition::Ucb { .. } => {
                let s = self.objective.standardisation().1;
                (
                    v / s + l,
                    g.iter().zip(dl).map(|(a, b)| a / s + b).collect(),
                )
            }
        }
    }

    /// The acquisition's value at `x` and its gradient w.r.t. x (zero on
    /// categorical and inactive dimensions).
    pub fn at(&self, x: &[f64]) -> Result<(f64, Vec<f64>)> {
        let d = x.len();
        let mut l = 0.0;
        let mut dl = vec![0.0; d];
        for gp in &self.constraints {
            let (v, g) = log_pof_at(gp, x)?;
            l += v;
            dl.iter_mut().zip(&g).for_each(|(a, b)| *a += b);
        }
        match self.best {
            Some(best) => {
                let (v, g) = self.acq.at(&self.objective, x, best)?;
                Ok(self.combine(Some((v, &g)), l, &dl))
            }
            None => Ok(self.combine(None, l, &dl)),
        }
    }

    /// Values at the m rows of `pts` (m×d row-major); -∞ where a value is
    /// undefined (NaN or an evaluation error at that point).
    pub fn value_batch(&self, pts: &[f64], m: usize) -> Result<Vec<f64>> {
        let cons = self
            .constraints
            .iter()
            .map(|gp| gp.predict_batch(pts, m))
            .collect::<Result<Vec<_>>>()?;
        let obj = match self.best {
            Some(_) => Some(self.objective.predict_batch(pts, m)?),
            None => None,
        };
        Ok(self.values_from(m, obj.as_ref(), &cons))
    }

    /// Values at m points from the posterior means and variances there: the
    /// objective's (needed only with an incumbent) and each constraint's, in
    /// the order of `constraints`. -∞ where a value is undefined.
    pub fn values_from(
        &self,
        m: usize,
        obj: Option<&(Vec<f64>, Vec<f64>)>,
        cons: &[(Vec<f64>, Vec<f64>)],
    ) -> Vec<f64> {
        let mut l = vec![0.0; m];
        for (mean, var) in cons {
            for (li, (mu, v)) in l.iter_mut().zip(mean.iter().zip(var)) {
                *li += log_pof(*mu, *v).map(|a| a.value).unwrap_or(f64::NAN);
            }
        }
        let obj: Vec<f64> = match (self.best, obj) {
            (Some(best), Some((mean, var))) => mean
                .iter()
                .zip(var)
                .map(|(&mu, &v)| {
                    self.acq
                        .eval(mu, v, best)
                        .map(|a| a.value)
                        .unwrap_or(f64::NAN)
                })
                .collect(),
            (Some(_), None) => vec![f64::NAN; m],
            (None, _) => vec![0.0; m],
        };
        obj.iter()
            .zip(&l)
            .map(|(&v, &li)| {
                let s = self.combine(Some((v, &[])), li, &[]).0;
                if s.is_nan() {
                    f64::NEG_INFINITY
                } else {
                    s
                }
            })
            .collect()
    }
}

/// log P(c(x) <= 0) under `gp`'s posterior at `x`, with its gradient w.r.t.
/// x through the chain rule.
pub fn log_pof_at(gp: &Gp, x: &[f64]) -> Result<(f64, Vec<f64>)> {
    let p = gp.predict_with_grad(x)?;
    let a = log_pof(p.mean, p.var)?;
    let g = p
        .d_mean
        .iter()
        .zip(&p.d_var)
        .map(|(dm, dv)| a.d_mean * dm + a.d_var * dv)
        .collect();
    Ok((a.value, g))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// log h(z) by quadrature: h(z) = φ(z) ∫₀^∞ u exp(z u - u²/2) du, with
    /// the integrand's scale 1/max(1, |z|) resolved by composite Simpson.
    fn log_h_quadrature(z: f64) -> f64 {
        let scale = 1.0 / z.abs().max(1.0);
        let upper = 60.0 * scale + 12.0;
        let n = 200_000;
        let hstep = upper / n as f64;
        let f = |u: f64| u * (z * u - 0.5 * u * u).exp();
        let mut s = f(0.0) + f(upper);
        for i in 1..n {
            let w = if i % 2 == 1 { 4.0 } else { 2.0 };
            s += w * f(i as f64 * hstep);
        }
        -0.5 * z * z - HALF_LN_2PI + (s * hstep / 3.0).ln()
    }

    #[test]
    fn erfcx_branches_agree() {
        // Continued fraction against the product where both are accurate.
        for x in [5.0f64, 6.0, 8.0] {
            let prod = (x * x).exp() * libm::erfc(x);
            assert!((erfcx(x) / prod - 1.0).abs() < 1e-13, "{x}");
        }
        let a = erfcx(1e8 * (1.0 - 1e-12));
        let b = erfcx(1e8);
        assert!((a / b - 1.0).abs() < 1e-10);
        assert_eq!(erfcx(0.0), 1.0);
    }

    #[test]
    fn log_h_matches_direct_formula_and_quadrature() {
        for z in [-0.99f64, -0.5, 0.0, 0.7, 2.0, 5.0] {
            let direct = (npdf(z) + z * ndtr(z)).ln();
            assert!((log_h(z) - direct).abs() < 1e-13 * direct.abs().max(1.0));
        }
        for z in [
            -1.0f64, -1.5, -3.0, -8.0, -25.0, -40.0, -300.0, -999.0, -1000.0, -1e4,
        ] {
            let q = log_h_quadrature(z);
            let got = log_h(z);
            assert!(
                (got - q).abs() < 1e-9 * q.abs(),
                "z = {z}: {got} vs quadrature {q}"
            );
        }
        // Continuity across the branch points.
        for b in [-1.0f64, -ASYMPTOTIC_Z] {
            let (l, r) = (log_h(b * (1.0 + 1e-12)), log_h(b * (1.0 - 1e-12)));
            assert!(
                (l - r).abs() < 1e-8 * l.abs().max(1.0),
                "at {b}: {l} vs {r}"
            );
        }
    }

    #[test]
    fn log_ei_equals_log_of_ei_where_representable() {
        for (mean, var, best) in [
            (0.0, 1.0, 0.0),
            (0.3, 0.04, 0.1),
            (-1.0, 2.0, 0.5),
            (2.0, 0.25, 0.0),
            (5.0, 1.0, 0.0),
        ] {
            let l = log_ei(mean, var, best).unwrap().value;
            let s = f64::sqrt(var);
            let z = (best - mean) / s;
            // The textbook formula, fine while it does not cancel (z > -6).
            let e = s * (npdf(z) + z * ndtr(z));
            assert!((l - e.ln()).abs() < 1e-10, "{l} vs {}", e.ln());
            let e2 = ei(mean, var, best).unwrap().value;
            assert!((e2 - e).abs() <= 1e-12 * e, "{e2} vs {e}");
        }
    }

    #[test]
    fn log_ei_finite_and_monotone_far_below_the_incumbent() {
        // z = -40 and z = -1000 (σ = 1): EI itself underflows to 0 at -1000.
        let mut prev = f64::INFINITY;
        let mut zs: Vec<f64> = vec![-10.0, -39.0, -40.0, -41.0, -500.0, -999.0, -1000.0, -1001.0];
        zs.extend([-1e5, -1e7, -1e9]);
        for z in zs {
            let a = log_ei(-z, 1.0, 0.0).unwrap();
            assert!(
                a.value.is_finite() && a.d_mean.is_finite() && a.d_var.is_finite(),
                "z = {z}"
            );
            assert!(a.value < prev, "not decreasing at z = {z}");
            // Worse mean, lower LogEI: ∂/∂μ < 0; more variance helps: ∂/∂s² > 0.
            assert!(a.d_mean < 0.0 && a.d_var > 0.0, "z = {z}: {a:?}");
            prev = a.value;
        }
        assert_eq!(ei(1000.0, 1.0, 0.0).unwrap().value, 0.0);
        let a = log_ei(40.0, 1.0, 0.0).unwrap().value;
        assert!((a - log_h_quadrature(-40.0)).abs() < 1e-9 * a.abs());
    }

    #[test]
    fn derivatives_match_finite_differences() {
        let cases = [
            (0.2, 0.5, 0.0),
            (1.5, 0.09, 0.3),
            (-0.4, 1.3, 0.0),
            (3.0, 0.2, 0.1),
            (40.0, 1.0, 0.0),
            (1500.0, 1.0, 0.0),
        ];
        let acqs = [
            Acquisition::LogEi,
            Acquisition::Ei,
            Acquisition::Pi,
            Acquisition::Ucb { beta: 2.5 },
        ];
        for acq in acqs {
            for (m, v, b) in cases {
                let a = acq.eval(m, v, b).unwrap();
                let h = 1e-6 * (1.0f64).max(m.abs());
                let fd_m = (acq.eval(m + h, v, b).unwrap().value
                    - acq.eval(m - h, v, b).unwrap().value)
                    / (2.0 * h);
                let hv = 1e-6 * v;
                let fd_v = (acq.eval(m, v + hv, b).unwrap().value
                    - acq.eval(m, v - hv, b).unwrap().value)
                    / (2.0 * hv);
                let tol = |x: f64| 1e-6 * (1.0 + x.abs());
                assert!(
                    (fd_m - a.d_mean).abs() < tol(fd_m),
                    "{acq:?} {m} {v}: {fd_m} vs {}",
                    a.d_mean
                );
                assert!(
                    (fd_v - a.d_var).abs() < tol(fd_v),
                    "{acq:?} {m} {v}: {fd_v} vs {}",
                    a.d_var
                );
            }
        }
        // The chain rule into x.
        let (val, g) = Acquisition::LogEi
            .value_and_grad(0.2, 0.5, &[1.0, 0.0], &[0.0, 1.0], 0.0)
            .unwrap();
        let a = log_ei(0.2, 0.5, 0.0).unwrap();
        assert_eq!(val, a.value);
        assert_eq!(g, vec![a.d_mean, a.d_var]);
    }

    #[test]
    fn gradients_in_x_through_a_gp_match_finite_differences() {
        use super::super::kernel::DimKind;
        use super::super::model::Noise;
        let kinds = vec![
            DimKind::Continuous,
            DimKind::Continuous,
            DimKind::Categorical,
        ];
        let mut rng = crate::rng::Rng::new(11);
        let n = 20;
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let (a, b, c) = (rng.uniform(), rng.uniform(), rng.below(2) as f64);
            x.extend([a, b, c]);
            y.push((a - 0.3).powi(2) + (3.0 * b).sin() + 0.2 * c);
        }
        let best = y.iter().copied().fold(f64::INFINITY, f64::min);
        let theta = [-1.0, -0.5, 0.0, 0.0, -6.0];
        let gp = Gp::with_params(kinds, x, &y, &theta, Noise::default()).unwrap();
        let acqs = [
            Acquisition::LogEi,
            Acquisition::Ei,
            Acquisition::Pi,
            Acquisition::Ucb {
                beta: srinivas_beta(n + 1, 3, 0.1).unwrap(),
            },
        ];
        for acq in acqs {
            for p in [[0.31, 0.72, 0.0], [0.9, 0.1, 1.0], [0.5, 0.5, 1.0]] {
                let (v, g) = acq.at(&gp, &p, best).unwrap();
                assert!(v.is_finite());
                assert_eq!(g[2], 0.0);
                for i in 0..2 {
                    let h = 1e-6;
                    let mut a = p;
                    a[i] += h;
                    let mut b = p;
                    b[i] -= h;
                    let fd = (acq.at(&gp, &a, best).unwrap().0 - acq.at(&gp, &b, best).unwrap().0)
                        / (2.0 * h);
                    assert!(
                        (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                        "{acq:?} at {p:?} dim {i}: fd {fd} vs {}",
                        g[i]
                    );
                }
            }
        }
        assert!(Acquisition::Ei
            .value_and_grad(0.0, 1.0, &[1.0], &[], 0.0)
            .is_err());
    }

    #[test]
    fn log_pof_is_stable_with_matching_derivatives() {
        for (m, v) in [
            (0.0, 1.0),
            (-2.0, 0.5),
            (1.5, 0.3),
            (30.0, 1.0),
            (-30.0, 1.0),
            (800.0, 1.0),
        ] {
            let a = log_pof(m, v).unwrap();
            assert!(a.value.is_finite() && a.d_mean.is_finite() && a.d_var.is_finite());
            let s = f64::sqrt(v);
            if m / s < 5.0 {
                assert!((a.value - ndtr(-m / s).ln()).abs() < 1e-12 * (1.0 + a.value.abs()));
            }
            let h = 1e-6 * (1.0f64).max(m.abs());
            let fd_m =
                (log_pof(m + h, v).unwrap().value - log_pof(m - h, v).unwrap().value) / (2.0 * h);
            let hv = 1e-6 * v;
            let fd_v = (log_pof(m, v + hv).unwrap().value - log_pof(m, v - hv).unwrap().value)
                / (2.0 * hv);
            assert!(
                (fd_m - a.d_mean).abs() < 1e-5 * (1.0 + fd_m.abs()),
                "{m}: {fd_m} vs {}",
                a.d_mean
            );
            assert!(
                (fd_v - a.d_var).abs() < 1e-5 * (1.0 + fd_v.abs()),
                "{m}: {fd_v} vs {}",
                a.d_var
            );
        }
        // Feasibility falls as the constraint's mean rises.
        assert!(log_pof(1.0, 1.0).unwrap().value < log_pof(0.0, 1.0).unwrap().value);
        assert!(log_pof(f64::NAN, 1.0).is_err());
    }

    /// A GP on 20 random points of [0, 1]² × {0, 1} observing `f`.
    fn gp_of(f: impl Fn(f64, f64, f64) -> f64, seed: u64) -> Gp {
        use super::super::kernel::DimKind;
        use super::super::model::Noise;
        let kinds = vec![
            DimKind::Continuous,
            DimKind::Continuous,
            DimKind::Categorical,
        ];
        let mut rng = crate::rng::Rng::new(seed);
        let (mut x, mut y) = (Vec::new(), Vec::new());
        for _ in 0..20 {
            let (a, b, c) = (rng.uniform(), rng.uniform(), rng.below(2) as f64);
            x.extend([a, b, c]);
            y.push(f(a, b, c));
        }
        let theta = [-1.0, -0.5, 0.0, 0.0, -6.0];
        Gp::with_params(kinds, x, &y, &theta, Noise::default()).unwrap()
    }

    /// Central differences of `f` in the two continuous coordinates of `p`
    /// against the analytic gradient `g`.
    fn check_fd(f: impl Fn(&[f64]) -> f64, p: [f64; 3], g: &[f64], what: &str) {
        assert_eq!(g[2], 0.0, "{what}: categorical gradient");
        for i in 0..2 {
            let h = 1e-6;
            let (mut a, mut b) = (p, p);
            a[i] += h;
            b[i] -= h;
            let fd = (f(&a) - f(&b)) / (2.0 * h);
            assert!(
                (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                "{what} at {p:?} dim {i}: fd {fd} vs analytic {}",
                g[i]
            );
        }
    }

    #[test]
    fn feasibility_gradient_in_x_matches_finite_differences() {
        // c(x) = x0 + x1 - 0.8 <= 0, and a second constraint on the other corner.
        let c1 = gp_of(|a, b, _| a + b - 0.8, 5);
        let c2 = gp_of(|a, b, c| 0.6 - a * b - 0.1 * c, 6);
        let obj = gp_of(|a, b, c| (a - 0.3).powi(2) + (3.0 * b).sin() + 0.2 * c, 11);
        let best = obj
            .observations()
            .iter()
            .copied()
            .fold(f64::INFINITY, f64::min);
        // Inside, on the boundary and deep outside the feasible region (where
        // log PoF is far in the Gaussian tail).
        let points = [
            [0.1, 0.2, 0.0],
            [0.45, 0.35, 1.0],
            [0.8, 0.7, 0.0],
            [0.97, 0.99, 1.0],
        ];
        for p in points {
            let (v, g) = log_pof_at(&c1, &p).unwrap();
            assert!(v.is_finite() && v <= 0.0);
            check_fd(|q| log_pof_at(&c1, q).unwrap().0, p, &g, "log PoF");
        }
        let acqs = [
            Acquisition::LogEi,
            Acquisition::Ei,
            Acquisition::Pi,
            Acquisition::Ucb { beta: 4.0 },
        ];
        for acq in acqs {
            for inc in [Some(best), None] {
                let scorer = Constrained {
                    acq,
                    objective: obj.clone(),
                    best: inc,
                    constraints: vec![c1.clone(), c2.clone()],
                };
                for p in points {
                    let (v, g) = scorer.at(&p).unwrap();
                    assert!(v.is_finite(), "{acq:?} {inc:?} at {p:?}");
                    let what = format!("{acq:?} incumbent {inc:?}");
                    check_fd(|q| scorer.at(q).unwrap().0, p, &g, &what);
                    // The batch path gives the same value.
                    let b = scorer.value_batch(&p, 1).unwrap()[0];
                    assert!((b - v).abs() < 1e-9 * (1.0 + v.abs()), "{what}: {b} vs {v}");
                }
            }
        }
    }

    #[test]
    fn constrained_value_is_the_documented_combination() {
        let c = gp_of(|a, b, _| a + b - 0.8, 5);
        let obj = gp_of(|a, b, _| a - b, 11);
        let p = [0.6, 0.5, 0.0];
        let l = log_pof_at(&c, &p).unwrap().0;
        let (mu, var) = obj.predict(&p).unwrap();
        let make = |acq, best| Constrained {
            acq,
            objective: obj.clone(),
            best,
            constraints: vec![c.clone()],
        };
        let v = |acq: Acquisition| acq.eval(mu, var, 0.1).unwrap().value;
        let got = |acq, best| make(acq, best).at(&p).unwrap().0;
        let close = |a: f64, b: f64| (a - b).abs() < 1e-12 * (1.0 + b.abs());
        assert!(close(
            got(Acquisition::LogEi, Some(0.1)),
            v(Acquisition::LogEi) + l
        ));
        assert!(close(
            got(Acquisition::Ei, Some(0.1)),
            v(Acquisition::Ei) * l.exp()
        ));
        assert!(close(
            got(Acquisition::Pi, Some(0.1)),
            v(Acquisition::Pi) * l.exp()
        ));
        let ucb = Acquisition::Ucb { beta: 2.0 };
        let s = obj.standardisation().1;
        assert!(close(got(ucb, Some(0.1)), v(ucb) / s + l));
        for acq in [Acquisition::LogEi, Acquisition::Ei, ucb] {
            assert!(close(got(acq, None), l));
        }
        // Without constraints the acquisition is unchanged.
        let plain = Constrained {
            acq: ucb,
            objective: obj.clone(),
            best: Some(0.1),
            constraints: Vec::new(),
        };
        assert_eq!(plain.at(&p).unwrap(), ucb.at(&obj, &p, 0.1).unwrap());
    }

    #[test]
    fn zero_variance_and_bad_input() {
        let a = log_ei(0.0, 0.0, 1.0).unwrap();
        assert!(a.value.is_finite() && a.d_var == 0.0);
        let a = log_ei(1.0, 0.0, 0.0).unwrap();
        assert!(a.value.is_finite() && a.value < -1e15);
        assert!(log_ei(f64::NAN, 1.0, 0.0).is_err());
        assert!(ei(0.0, f64::INFINITY, 0.0).is_err());
        assert!(pi(0.0, 1.0, f64::NEG_INFINITY).is_err());
        assert!(ucb(0.0, 1.0, -1.0).is_err());
        assert!(log_ei(-1e300, 0.0, 1e300).is_err());
        assert!(ei(1e300, 0.0, -1e300).is_err());
    }

    #[test]
    fn srinivas_schedule() {
        // 2 log(d t² π² / (6δ)) at d = 2, t = 10, δ = 0.1.
        let want = 2.0 * (2.0 * 100.0 * PI_F64 * PI_F64 / 0.6).ln();
        assert!((srinivas_beta(10, 2, 0.1).unwrap() - want).abs() < 1e-12);
        assert!(srinivas_beta(11, 2, 0.1).unwrap() > srinivas_beta(10, 2, 0.1).unwrap());
        assert!(srinivas_beta(10, 2, 0.0).is_err());
    }
}

//! Power transforms of the objective values before the GP is fitted: Box-Cox
//! (Box & Cox 1964, "An analysis of transformations", JRSS B 26(2)) when every
//! value is positive, Yeo-Johnson (Yeo & Johnson 2000, "A new family of power
//! transformations to improve normality or symmetry", Biometrika 87(4))
//! otherwise, as HEBO does (Cowen-Rivers et al. 2022, "HEBO: Pushing the
//! limits of sample-efficient hyper-parameter optimisation", JAIR 74, the
//! section on output transformations).
//!
//! λ is the maximum-likelihood estimate under a normal model of the
//! transformed values: the profile log-likelihood (Box & Cox 1964; Yeo &
//! Johnson 2000 for their family)
//!
//!   ℓ(λ) = -n/2 · log σ̂²(λ) + (λ - 1) Σᵢ J(yᵢ),
//!
//! with σ̂² the (biased) variance of the transformed values and the log
//! Jacobian J(y) = log y (Box-Cox) or sign(y) log(1 + |y|) (Yeo-Johnson).
//! It is maximised over λ ∈ [-3, 3] (HEBO relies on scikit-learn, whose
//! search starts from the bracket (-2, 2); |λ| > 3 would be an extreme
//! reshaping of a handful of observations) by a grid scan followed by
//! Brent's bounded minimisation (Brent 1973, "Algorithms for minimization
//! without derivatives", ch. 5) of -ℓ around the best grid point, so a
//! likelihood with several local maxima still gives the best of them.
//!
//! As in HEBO, the values are first divided by their standard deviation (the
//! Box-Cox λ does not depend on the scale; Yeo-Johnson's does, and this puts
//! it on a unit scale).
//!
//! One deviation from HEBO: positive values whose lowest ones span decades
//! (the 10% quantile more than [`NEAR_ZERO_RATIO`] times the minimum: an
//! objective whose minimum is 0, such as a squared error, sampled near it)
//! are shifted by their minimum first, and Yeo-Johnson is fitted to
//! (y - min) / sd. Box-Cox there acts as a logarithm near 0 and turns the
//! smooth bowl r² into the cusp r^{2λ}, which a Matérn kernel models badly:
//! the GP then explores almost at random (median regret 3.7e-3 after 60
//! trials on a two-dimensional quadratic, against 8.4e-6 untransformed;
//! benches/README.md). The shifted Yeo-Johnson is smooth at the minimum,
//! still compresses a heavy right tail, and does not depend on a constant
//! added to the objective. When Box-Cox gives a degenerate result (non-finite or
//! equal transformed values) Yeo-Johnson is tried, and when that fails too
//! the caller keeps the values as they are (HEBO falls back to plain
//! standardisation the same way).

/// The ratio of the 10% quantile of positive values to their minimum above
/// which the values are shifted by their minimum (module docs).
pub const NEAR_ZERO_RATIO: f64 = 10.0;

/// Bounds of λ.
pub const LAMBDA_BOUNDS: (f64, f64) = (-3.0, 3.0);
/// Grid points of the scan over [`LAMBDA_BOUNDS`] (spacing 0.25).
const GRID: usize = 25;
/// Absolute tolerance of Brent's search on λ.
const LAMBDA_TOL: f64 = 1e-7;

/// The transform family.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PowerFamily {
    /// Box-Cox, for positive values.
    BoxCox,
    /// Yeo-Johnson, for any real values.
    YeoJohnson,
}

impl PowerFamily {
    /// The transform of `x` with parameter `lambda`; NaN outside the domain
    /// (x <= 0 for Box-Cox).
    pub fn apply(self, x: f64, lambda: f64) -> f64 {
        match self {
            PowerFamily::BoxCox => box_cox(x, lambda),
            PowerFamily::YeoJohnson => yeo_johnson(x, lambda),
        }
    }

    /// The log Jacobian term J(x) of the profile likelihood.
    fn log_jacobian(self, x: f64) -> f64 {
        match self {
            PowerFamily::BoxCox => x.ln(),
            PowerFamily::YeoJohnson => x.signum() * x.abs().ln_1p(),
        }
    }

    /// The profile log-likelihood ℓ(λ) of `x` (module docs); -∞ where the
    /// transformed values overflow or are all equal.
    pub fn log_likelihood(self, x: &[f64], lambda: f64) -> f64 {
        let n = x.len() as f64;
        let t: Vec<f64> = x.iter().map(|&v| self.apply(v, lambda)).collect();
        let var = variance(&t);
        if !(var.is_finite() && var > 0.0) {
            return f64::NEG_INFINITY;
        }
        let jac: f64 = x.iter().map(|&v| self.log_jacobian(v)).sum();
        -0.5 * n * var.ln() + (lambda - 1.0) * jac
    }

    /// The maximum-likelihood λ of `x` in [`LAMBDA_BOUNDS`]; None when the
    /// likelihood is -∞ everywhere on the grid.
    pub fn normmax(self, x: &[f64]) -> Option<f64> {
        let (lo, hi) = LAMBDA_BOUNDS;
        let step = (hi - lo) / (GRID - 1) as f64;
        let neg = |l: f64| -self.log_likelihood(x, l);
        let (best, value) = (0..GRID)
            .map(|i| {
                let l = lo + step * i as f64;
                (l, neg(l))
            })
            .min_by(|a, b| a.1.total_cmp(&b.1))?;
        if !value.is_finite() {
            return None;
        }
        let (a, b) = ((best - step).max(lo), (best + step).min(hi));
        let (l, v) = brent_bounded(neg, a, b, LAMBDA_TOL);
        Some(if v <= value { l } else { best })
    }
}

/// Box-Cox: (x^λ - 1) / λ, log x at λ = 0 (written with expm1 so that it is
/// continuous in λ); NaN for x <= 0.
pub fn box_cox(x: f64, lambda: f64) -> f64 {
    if x <= 0.0 {
        return f64::NAN;
    }
    if lambda == 0.0 {
        x.ln()
    } else {
        (lambda * x.ln()).exp_m1() / lambda
    }
}

/// Yeo-Johnson (Yeo & Johnson 2000): ((x + 1)^λ - 1) / λ for
/// x >= 0, -((1 - x)^(2 - λ) - 1) / (2 - λ) for x < 0, with the logarithms
/// at λ = 0 and λ = 2.
pub fn yeo_johnson(x: f64, lambda: f64) -> f64 {
    if x >= 0.0 {
        if lambda == 0.0 {
            x.ln_1p()
        } else {
            (lambda * x.ln_1p()).exp_m1() / lambda
        }
    } else if lambda == 2.0 {
        -(-x).ln_1p()
    } else {
        -((2.0 - lambda) * (-x).ln_1p()).exp_m1() / (2.0 - lambda)
    }
}

/// Biased (1/n) variance, two-pass.
fn variance(t: &[f64]) -> f64 {
    let n = t.len() as f64;
    let mean = t.iter().sum::<f64>() / n;
    t.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n
}

/// The shift of positive values `y` (module docs): their minimum when their
/// 10% quantile (by rank, rounded down) is above [`NEAR_ZERO_RATIO`] times
/// it, so that the minimum lands at 0; else 0.
fn near_zero_shift(y: &[f64]) -> f64 {
    let mut sorted = y.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (min, q10) = (sorted[0], sorted[(sorted.len() - 1) / 10]);
    if q10 > NEAR_ZERO_RATIO * min {
        min
    } else {
        0.0
    }
}

/// Brent's minimisation of `f` on [a, b] without derivatives (golden
/// sections with parabolic steps; Brent 1973, ch. 5, procedure `localmin`).
/// Returns the minimiser and its value.
fn brent_bounded(f: impl Fn(f64) -> f64, mut a: f64, mut b: f64, tol: f64) -> (f64, f64) {
    const C: f64 = 0.381_966_011_250_105_1; // (3 - √5) / 2
    let eps = f64::EPSILON.sqrt();
    let mut x = a + C * (b - a);
    let (mut w, mut v) = (x, x);
    let mut fx = f(x);
    let (mut fw, mut fv) = (fx, fx);
    let (mut d, mut e) = (0.0_f64, 0.0_f64);
    for _ in 0..200 {
        let m = 0.5 * (a + b);
        let tol1 = eps * x.abs() + tol / 3.0;
        let tol2 = 2.0 * tol1;
        if (x - m).abs() <= tol2 - 0.5 * (b - a) {
            break;
        }
        let mut golden = true;
        if e.abs() > tol1 && fx.is_finite() && fw.is_finite() && fv.is_finite() {
            // Parabola through (v, fv), (w, fw), (x, fx).
            let r = (x - w) * (fx - fv);
            let mut q = (x - v) * (fx - fw);
            let mut p = (x - v) * q - (x - w) * r;
            q = 2.0 * (q - r);
            if q > 0.0 {
                p = -p;
            }
            q = q.abs();
            if p.abs() < (0.5 * q * e).abs() && p > q * (a - x) && p < q * (b - x) {
                e = d;
                d = p / q;
                let u = x + d;
                if u - a < tol2 || b - u < tol2 {
                    d = if x < m { tol1 } else { -tol1 };
                }
                golden = false;
            }
        }
        if golden {
            e = if x < m { b - x } else { a - x };
            d = C * e;
        }
        let u = if d.abs() >= tol1 {
            x + d
        } else if d > 0.0 {
            x + tol1
        } else {
            x - tol1
        };
        let fu = f(u);
        if fu <= fx {
            if u < x {
                b = x;
            } else {
                a = x;
            }
            (v, fv, w, fw, x, fx) = (w, fw, x, fx, u, fu);
        } else {
            if u < x {
                a = u;
            } else {
                b = u;
            }
            if fu <= fw || w == x {
                (v, fv, w, fw) = (w, fw, u, fu);
            } else if fu <= fv || v == x || v == w {
                (v, fv) = (u, fu);
            }
        }
    }
    (x, fx)
}

/// A power transform fitted to a set of objective values, applied to them
/// and to values observed later (with the same λ and scale).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PowerTransform {
    pub family: PowerFamily,
    pub lambda: f64,
    /// Values are multiplied by it before the transform (1 / their standard
    /// deviation at the fit).
    pub scale: f64,
    /// Subtracted from values before the scaling (the minimum at the fit for
    /// values near 0, else 0; module docs).
    pub shift: f64,
}

impl PowerTransform {
    /// The transform of `y` (module docs): Box-Cox when every value is
    /// positive, else (or when Box-Cox degenerates) Yeo-Johnson; None when
    /// neither gives distinct finite values, or the values are not finite or
    /// all equal.
    pub fn fit(y: &[f64]) -> Option<Self> {
        if y.len() < 2 || y.iter().any(|v| !v.is_finite()) {
            return None;
        }
        let sd = variance(y).sqrt();
        if !(sd.is_finite() && sd > 0.0) {
            return None;
        }
        let scale = 1.0 / sd;
        let positive = y.iter().all(|&v| v > 0.0);
        let shift = if positive { near_zero_shift(y) } else { 0.0 };
        let x: Vec<f64> = y.iter().map(|v| (v - shift) * scale).collect();
        let families: &[PowerFamily] = if positive && shift == 0.0 {
            &[PowerFamily::BoxCox, PowerFamily::YeoJohnson]
        } else {
            &[PowerFamily::YeoJohnson]
        };
        families.iter().find_map(|&family| {
            let lambda = family.normmax(&x)?;
            let t = PowerTransform {
                family,
                lambda,
                scale,
                shift,
            };
            let out = t.apply_all(y)?;
            (variance(&out) > 1e-12 * out.iter().fold(0.0_f64, |m, v| m.max(v * v))).then_some(t)
        })
    }

    /// The transformed value of `y`; None outside the domain (a value <= 0
    /// under Box-Cox) or when it is not finite.
    pub fn apply(&self, y: f64) -> Option<f64> {
        let t = self
            .family
            .apply((y - self.shift) * self.scale, self.lambda);
        t.is_finite().then_some(t)
    }

    /// Every value of `y` transformed; None when one of them cannot be.
    pub fn apply_all(&self, y: &[f64]) -> Option<Vec<f64>> {
        y.iter().map(|&v| self.apply(v)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn normals(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = Rng::new(seed);
        // Box-Muller.
        (0..n)
            .map(|_| {
                let (u, v) = (1.0 - rng.uniform(), rng.uniform());
                (-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()
            })
            .collect()
    }

    /// Inverse Box-Cox.
    fn box_cox_inv(t: f64, lambda: f64) -> f64 {
        if lambda == 0.0 {
            t.exp()
        } else {
            (1.0 + lambda * t).powf(1.0 / lambda)
        }
    }

    /// Inverse Yeo-Johnson.
    fn yeo_johnson_inv(t: f64, lambda: f64) -> f64 {
        if t >= 0.0 {
            if lambda == 0.0 {
                t.exp_m1()
            } else {
                (1.0 + lambda * t).powf(1.0 / lambda) - 1.0
            }
        } else if lambda == 2.0 {
            1.0 - (-t).exp()
        } else {
            1.0 - (1.0 - (2.0 - lambda) * t).powf(1.0 / (2.0 - lambda))
        }
    }

    #[test]
    fn transforms_are_strictly_increasing() {
        let xs: Vec<f64> = (-400..=400).map(|i| i as f64 * 0.025).collect();
        for lambda in [-3.0, -1.3, 0.0, 0.5, 1.0, 2.0, 2.7, 3.0] {
            for w in xs.windows(2) {
                assert!(yeo_johnson(w[1], lambda) > yeo_johnson(w[0], lambda));
                if w[0] > 0.0 {
                    assert!(box_cox(w[1], lambda) > box_cox(w[0], lambda));
                }
            }
        }
        assert!(box_cox(0.0, 1.0).is_nan() && box_cox(-1.0, 0.5).is_nan());
    }

    #[test]
    fn lambda_one_is_affine() {
        for x in [-7.5, -1.0, -0.2, 0.0, 0.3, 1.0, 12.0] {
            // Yeo-Johnson at λ = 1 is the identity.
            assert!((yeo_johnson(x, 1.0) - x).abs() < 1e-12, "{x}");
            if x > 0.0 {
                // Box-Cox at λ = 1 is the shift x - 1.
                assert!((box_cox(x, 1.0) - (x - 1.0)).abs() < 1e-12, "{x}");
            }
        }
    }

    #[test]
    fn transforms_are_continuous_in_lambda() {
        for x in [-3.0, -0.5, 0.5, 4.0] {
            assert!((yeo_johnson(x, 1e-9) - yeo_johnson(x, 0.0)).abs() < 1e-7);
            assert!((yeo_johnson(x, 2.0 + 1e-9) - yeo_johnson(x, 2.0)).abs() < 1e-7);
            if x > 0.0 {
                assert!((box_cox(x, 1e-9) - box_cox(x, 0.0)).abs() < 1e-7);
            }
        }
    }

    #[test]
    fn mle_recovers_lambda_from_inverse_transformed_normals() {
        for (k, lambda) in [-1.0_f64, 0.0, 0.5, 1.5, 2.0].into_iter().enumerate() {
            // Box-Cox: t of sd 0.2 / max(|λ|, 1) keeps 1 + λ t > 0 within
            // five standard deviations.
            let z = normals(4000, 10 + k as u64);
            let sd = 0.2 / lambda.abs().max(1.0);
            let y: Vec<f64> = z.iter().map(|&t| box_cox_inv(sd * t, lambda)).collect();
            // (Box-Cox's λ = 2 needs so small a spread that it is poorly
            // identified.)
            let est = PowerFamily::BoxCox.normmax(&y).unwrap();
            if lambda < 2.0 {
                assert!((est - lambda).abs() < 0.25, "box-cox {lambda}: {est}");
            }
            // Yeo-Johnson on normals of sd 0.5 (the inverse exists for all t
            // when 0 <= λ <= 2).
            if (0.0..=2.0).contains(&lambda) {
                let y: Vec<f64> = z
                    .iter()
                    .map(|&t| yeo_johnson_inv(0.5 * t, lambda))
                    .collect();
                let est = PowerFamily::YeoJohnson.normmax(&y).unwrap();
                assert!((est - lambda).abs() < 0.25, "yeo-johnson {lambda}: {est}");
            }
        }
    }

    #[test]
    fn mle_matches_scipy() {
        // scipy 1.17.1 stats.yeojohnson_normmax / boxcox_normmax(method="mle")
        // on these arrays, computed once.
        let a = [0.1, 0.4, 0.5, 1.2, 2.0, 3.5, 7.0, 15.0];
        let b = [-2.0, -0.5, 0.0, 0.3, 0.9, 1.7, 4.0, 9.5, 20.0];
        let c = [-30.0, -12.0, -5.0, -4.0, -3.5, -1.0, 0.0, 0.2];
        for (x, want) in [(&a[..], YJ_A), (&b[..], YJ_B), (&c[..], YJ_C)] {
            let got = PowerFamily::YeoJohnson.normmax(x).unwrap();
            assert!((got - want).abs() < 1e-4, "yeo-johnson: {got} vs {want}");
        }
        let got = PowerFamily::BoxCox.normmax(&a).unwrap();
        assert!((got - BC_A).abs() < 1e-4, "box-cox: {got} vs {BC_A}");
    }

    const YJ_A: f64 = -0.452_829_546_758_227_2;
    const YJ_B: f64 = 0.289_176_642_908_216_9;
    const YJ_C: f64 = 2.071_441_878_770_654;
    const BC_A: f64 = 0.052_642_822_844_345_54;

    #[test]
    fn fit_chooses_the_family_and_maps_new_values() {
        // Log-normal values: Box-Cox with λ near 0, transformed values close
        // to normal. (A spread of 0.7 keeps the lowest values within a decade
        // of the 10% quantile: no shift.)
        let y: Vec<f64> = normals(500, 3).iter().map(|z| (0.7 * z).exp()).collect();
        assert_eq!(near_zero_shift(&y), 0.0);
        let t = PowerTransform::fit(&y).unwrap();
        assert_eq!(t.family, PowerFamily::BoxCox);
        assert!(t.lambda.abs() < 0.2, "{}", t.lambda);
        assert!(t.apply(-1.0).is_none(), "outside Box-Cox's domain");
        // A non-positive value: Yeo-Johnson, defined everywhere.
        let mut y2 = y.clone();
        y2[0] = -0.5;
        let t2 = PowerTransform::fit(&y2).unwrap();
        assert_eq!(t2.family, PowerFamily::YeoJohnson);
        assert!(t2.apply(-100.0).is_some());
        // Order kept.
        let out = t2.apply_all(&y2).unwrap();
        for i in 0..y2.len() {
            for j in 0..y2.len() {
                assert_eq!(y2[i] < y2[j], out[i] < out[j]);
            }
        }
        assert!(PowerTransform::fit(&[2.0, 2.0, 2.0]).is_none());
        assert!(PowerTransform::fit(&[1.0, f64::INFINITY]).is_none());
    }

    #[test]
    fn values_near_zero_are_shifted_by_their_minimum() {
        // A squared distance sampled ever closer to its minimum 0: the lowest
        // values span decades below the 10% quantile.
        let mut rng = Rng::new(5);
        let y: Vec<f64> = (0..60)
            .map(|i| {
                let r = if i % 4 == 0 {
                    10f64.powi(-(i / 8))
                } else {
                    1.0 + 4.0 * rng.uniform()
                };
                r * r
            })
            .collect();
        let min = y.iter().copied().fold(f64::INFINITY, f64::min);
        let t = PowerTransform::fit(&y).unwrap();
        assert_eq!(t.family, PowerFamily::YeoJohnson);
        assert_eq!(t.shift, min);
        // The minimum maps to 0 with a finite slope (Yeo-Johnson's slope at 0 is 1 on
        // the scaled values): no cusp at the optimum.
        assert_eq!(t.apply(min), Some(0.0));
        let h = 1e-9 * (1.0 / t.scale);
        let slope = (t.apply(min + h).unwrap() - t.apply(min).unwrap()) / h;
        assert!(
            (slope - t.scale).abs() < 1e-3 * t.scale,
            "{slope} {}",
            t.scale
        );
        // A later value below the minimum still maps, below it, in order.
        let below = t.apply(min / 2.0).unwrap();
        assert!(below < 0.0);
        // Lifted away from 0 by a constant, the values are not near zero any
        // more: Box-Cox as before.
        let lifted: Vec<f64> = y.iter().map(|v| v + 100.0).collect();
        let t_lifted = PowerTransform::fit(&lifted).unwrap();
        assert_eq!(t_lifted.shift, 0.0);
        assert_eq!(t_lifted.family, PowerFamily::BoxCox);
    }
}

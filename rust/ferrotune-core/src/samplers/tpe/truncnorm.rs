//! Numerics of the (truncated) normal distribution, stable far into the tails.
//!
//! - `log_ndtr`: log Φ(x), through erfc for moderate x and the asymptotic series
//!   of the Mills ratio (Abramowitz & Stegun 26.2.12) below -37.
//! - `log_gauss_mass`: log(Φ(b) - Φ(a)), computed on the tail side so that
//!   neither term cancels.
//! - `ndtri`: Φ⁻¹(p) by Wichura's algorithm AS 241 (PPND16, about 1e-16
//!   relative accuracy), with an entry point taking log p for deep tails.
//! - sampling of a truncated normal by inversion of its CDF.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2, PI};

use crate::rng::Rng;

/// 0.5 * ln(2π).
pub const HALF_LN_2PI: f64 = 0.918_938_533_204_672_8;

/// Φ(x), the standard normal CDF.
#[inline]
pub fn ndtr(x: f64) -> f64 {
    0.5 * libm::erfc(-x * FRAC_1_SQRT_2)
}

/// log Φ(x).
pub fn log_ndtr(x: f64) -> f64 {
    if x > 0.0 {
        // Φ(x) = 1 - Φ(-x): log1p keeps the digits that ln(Φ(x)) would lose.
        (-ndtr(-x)).ln_1p()
    } else if x > -37.0 {
        ndtr(x).ln()
    } else {
        // Mills ratio: Φ(x) = φ(x)/|x| * (1 - 1/x² + 3/x⁴ - 15/x⁶ + ...).
        let x2 = x * x;
        let series = 1.0 - 1.0 / x2 + 3.0 / (x2 * x2) - 15.0 / (x2 * x2 * x2);
        -0.5 * x2 - HALF_LN_2PI - (-x).ln() + series.ln()
    }
}

/// log(exp(p) - exp(q)) for p >= q.
#[inline]
fn log_diff_exp(p: f64, q: f64) -> f64 {
    if q == f64::NEG_INFINITY {
        return p;
    }
    let d = q - p;
    if d > -LN_2 {
        p + (-d.exp_m1()).ln()
    } else {
        p + (-d.exp()).ln_1p()
    }
}

/// log(Φ(b) - Φ(a)) for a <= b.
pub fn log_gauss_mass(a: f64, b: f64) -> f64 {
    if a < -8.5 && b > 8.5 {
        // Φ(-8.5) < 1e-17: the mass is 1 to double precision.
        return 0.0;
    }
    if b <= 0.0 {
        log_diff_exp(log_ndtr(b), log_ndtr(a))
    } else if a >= 0.0 {
        log_diff_exp(log_ndtr(-a), log_ndtr(-b))
    } else {
        // Both tails are small: 1 - Φ(a) - Φ(-b) has no cancellation.
        (-ndtr(a) - ndtr(-b)).ln_1p()
    }
}

/// Φ⁻¹(p) for p in (0, 1) (AS 241, PPND16).
pub fn ndtri(p: f64) -> f64 {
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let q = p - 0.5;
    if q.abs() <= 0.425 {
        let r = 0.180_625 - q * q;
        return q * central(r);
    }
    let r = if q < 0.0 { p } else { 1.0 - p };
    let x = tail((-r.ln()).sqrt());
    if q < 0.0 {
        -x
    } else {
        x
    }
}

/// Φ⁻¹(exp(log_p)), accurate also where p underflows.
pub fn ndtri_log(log_p: f64) -> f64 {
    if log_p >= -2.0 {
        return ndtri(log_p.exp());
    }
    // Lower tail: q = p - 0.5 < -0.425, r = sqrt(-ln p).
    let mut x = -tail((-log_p).sqrt());
    if log_p < -600.0 {
        // Beyond AS 241's range (p < 1e-260): Newton steps on log Φ, whose
        // derivative is φ(x) / Φ(x).
        for _ in 0..4 {
            let lx = log_ndtr(x);
            let slope = (-0.5 * x * x - HALF_LN_2PI - lx).exp();
            x -= (lx - log_p) / slope;
        }
    }
    x
}

/// Evaluates a polynomial with coefficients from the highest degree down.
#[inline]
fn horner(coeffs: &[f64], r: f64) -> f64 {
    coeffs.iter().fold(0.0, |acc, c| acc * r + c)
}

// Coefficients of AS 241 (Wichura 1988), highest degree first, as published.
#[allow(clippy::excessive_precision)]
mod as241 {
    pub const A: [f64; 8] = [
        2_509.080_928_730_122_7,
        33_430.575_583_588_128,
        67_265.770_927_008_7,
        45_921.953_931_549_87,
        13_731.693_765_509_461,
        1_971.590_950_306_551_3,
        133.141_667_891_784_38,
        3.387_132_872_796_366_5,
    ];
    pub const B: [f64; 8] = [
        5_226.495_278_852_545,
        28_729.085_735_721_943,
        39_307.895_800_092_71,
        21_213.794_301_586_597,
        5_394.196_021_424_751,
        687.187_007_492_057_9,
        42.313_330_701_600_91,
        1.0,
    ];
    pub const C: [f64; 8] = [
        7.745_450_142_783_414e-4,
        0.022_723_844_989_269_184,
        0.241_780_725_177_450_6,
        1.270_458_252_452_368_4,
        3.647_848_324_763_204_5,
        5.769_497_221_460_691,
        4.630_337_846_156_546,
        1.423_437_110_749_683_5,
    ];
    pub const D: [f64; 8] = [
        1.050_750_071_644_416_9e-9,
        5.475_938_084_995_345e-4,
        0.015_198_666_563_616_457,
        0.148_103_976_427_480_08,
        0.689_767_334_985_1,
        1.676_384_830_183_803_8,
        2.053_191_626_637_759,
        1.0,
    ];
    pub const E: [f64; 8] = [
        2.010_334_399_292_288e-7,
        2.711_555_568_743_487_6e-5,
        0.001_242_660_947_388_078_4,
        0.026_532_189_526_576_124,
        0.296_560_571_828_504_9,
        1.784_826_539_917_291_3,
        5.463_784_911_164_114,
        6.657_904_643_501_103,
    ];
    pub const F: [f64; 8] = [
        2.044_263_103_389_939_7e-15,
        1.421_511_758_316_446e-7,
        1.846_318_317_510_054_8e-5,
        7.868_691_311_456_133e-4,
        0.014_875_361_290_850_615,
        0.136_929_880_922_735_8,
        0.599_832_206_555_888,
        1.0,
    ];
}
use as241::{A, B, C, D, E, F};

fn central(r: f64) -> f64 {
    horner(&A, r) / horner(&B, r)
}

/// AS 241's tail branches for r = sqrt(-ln(min(p, 1 - p))); returns |x|.
fn tail(r: f64) -> f64 {
    if r <= 5.0 {
        let r = r - 1.6;
        horner(&C, r) / horner(&D, r)
    } else {
        let r = r - 5.0;
        horner(&E, r) / horner(&F, r)
    }
}

/// log density of N(mu, sigma²) truncated to [low, high], at x in the range.
pub fn truncnorm_logpdf(x: f64, mu: f64, sigma: f64, low: f64, high: f64) -> f64 {
    if x < low || x > high {
        return f64::NEG_INFINITY;
    }
    let z = (x - mu) / sigma;
    -0.5 * z * z
        - HALF_LN_2PI
        - sigma.ln()
        - log_gauss_mass((low - mu) / sigma, (high - mu) / sigma)
}

/// Quantile of the standard normal truncated to [a, b], at u in [0, 1].
pub fn truncnorm_ppf(u: f64, a: f64, b: f64) -> f64 {
    if a > 0.0 {
        // Work in the lower tail, where log Φ is accurate.
        return -truncnorm_ppf(1.0 - u, -b, -a);
    }
    if b > -5.0 && a > -8.0 {
        // No deep tail on either side: plain probabilities are accurate.
        let (pa, pb) = (ndtr(a), ndtr(b));
        let x = ndtri(pa + u * (pb - pa));
        if x.is_finite() {
            return crate::space::fit_in(x, a, b);
        }
    }
    let la = log_ndtr(a);
    let lb = log_ndtr(b);
    // log(Φ(a) + u (Φ(b) - Φ(a))).
    let lm = log_diff_exp(lb, la);
    let lu = if u > 0.0 {
        u.ln() + lm
    } else {
        f64::NEG_INFINITY
    };
    let lp = if lu > la {
        lu + (la - lu).exp().ln_1p()
    } else {
        la + (lu - la).exp().ln_1p()
    };
    crate::space::fit_in(ndtri_log(lp), a, b)
}

/// One draw of N(mu, sigma²) truncated to [low, high].
#[inline]
pub fn truncnorm_sample(rng: &mut Rng, mu: f64, sigma: f64, low: f64, high: f64) -> f64 {
    let u = rng.uniform();
    if !(sigma > 0.0 && sigma.is_finite()) {
        return crate::space::fit_in(mu, low, high);
    }
    let a = (low - mu) / sigma;
    let b = (high - mu) / sigma;
    crate::space::fit_in(mu + sigma * truncnorm_ppf(u, a, b), low, high)
}

/// log(Σ exp(v)), stable; -inf for an empty slice.
pub fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if m == f64::NEG_INFINITY {
        return m;
    }
    m + v.iter().map(|x| (x - m).exp()).sum::<f64>().ln()
}

/// Standard normal density (for tests and callers that need it).
pub fn norm_pdf(x: f64) -> f64 {
    (-0.5 * x * x).exp() / (2.0 * PI).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ndtri_inverts_ndtr() {
        for i in 1..1000 {
            let p = i as f64 / 1000.0;
            let x = ndtri(p);
            assert!((ndtr(x) - p).abs() < 1e-14, "{p} {x}");
        }
        for lp in [-5.0, -50.0, -500.0, -5000.0] {
            let x = ndtri_log(lp);
            assert!((log_ndtr(x) - lp).abs() < 1e-9 * lp.abs(), "{lp} {x}");
        }
    }

    #[test]
    fn log_ndtr_is_continuous_across_branches() {
        for x in [-37.0f64, 6.0] {
            let (l, r) = (log_ndtr(x - 1e-9), log_ndtr(x + 1e-9));
            assert!((l - r).abs() < 1e-6 * l.abs().max(1e-12), "{x}: {l} {r}");
        }
        assert!((log_ndtr(0.0) + LN_2).abs() < 1e-15);
    }

    #[test]
    fn gauss_mass_matches_direct_difference_where_that_is_accurate() {
        for (a, b) in [(-1.0, 1.0), (-3.0, -2.0), (0.5, 2.5), (-0.1, 0.1)] {
            let direct = (ndtr(b) - ndtr(a)).ln();
            assert!((log_gauss_mass(a, b) - direct).abs() < 1e-12);
        }
        // Far tails stay finite and ordered.
        let far = log_gauss_mass(40.0, 41.0);
        assert!(far.is_finite() && far < -790.0);
        assert_eq!(log_gauss_mass(-50.0, -49.0), log_gauss_mass(49.0, 50.0));
    }

    #[test]
    fn truncated_samples_stay_in_range_with_right_mean() {
        let mut rng = Rng::new(1);
        let (mu, sigma, low, high) = (0.2, 0.5, 0.0, 1.0);
        let n = 50_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let x = truncnorm_sample(&mut rng, mu, sigma, low, high);
            assert!((low..=high).contains(&x));
            sum += x;
        }
        // Mean of the truncated normal: mu + sigma (φ(a) - φ(b)) / (Φ(b) - Φ(a)).
        let (a, b) = ((low - mu) / sigma, (high - mu) / sigma);
        let mean = mu + sigma * (norm_pdf(a) - norm_pdf(b)) / (ndtr(b) - ndtr(a));
        assert!((sum / n as f64 - mean).abs() < 0.005);
    }

    #[test]
    fn ppf_in_far_tail() {
        let x = truncnorm_ppf(0.5, 10.0, 11.0);
        assert!((10.0..=11.0).contains(&x));
        let y = truncnorm_ppf(0.5, -11.0, -10.0);
        assert!((x + y).abs() < 1e-9);
    }
    /// log ∫_a^b φ(x) dx by composite Simpson's rule, written around the
    /// point x* of [a, b] nearest 0 (where φ is largest): log φ(x*) + log ∫
    /// exp((x*² - x²) / 2) dx over the part of [a, b] within 60 / max(1, |x*|)
    /// of x* (the rest adds under e^-30 relative), 20,000 intervals.
    fn log_mass_by_quadrature(a: f64, b: f64) -> f64 {
        let xs = 0.0f64.max(a).min(b);
        let reach = 60.0 / xs.abs().max(1.0);
        let (lo, hi) = (a.max(xs - reach), b.min(xs + reach));
        let n = 20_000;
        let h = (hi - lo) / n as f64;
        let f = |x: f64| (0.5 * (xs * xs - x * x)).exp();
        let mut sum = f(lo) + f(hi);
        for i in 1..n {
            sum += f(lo + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
        }
        -0.5 * xs * xs - HALF_LN_2PI + (sum * h / 3.0).ln()
    }

    #[test]
    fn gauss_mass_matches_quadrature_on_random_intervals() {
        // Including the far tails and the shortcut for |a|, |b| > 8.5. The
        // quadrature is good to about 1e-11 relative; 1e-9 leaves room.
        let mut rng = Rng::new(3);
        for _ in 0..300 {
            let a = rng.uniform_in(-40.0, 40.0);
            let b = a + 10f64.powf(rng.uniform_in(-6.0, 1.7));
            let (fast, slow) = (log_gauss_mass(a, b), log_mass_by_quadrature(a, b));
            assert!(
                (fast - slow).abs() <= 1e-9 * slow.abs().max(1.0),
                "[{a}, {b}]: {fast} {slow}"
            );
        }
    }
}

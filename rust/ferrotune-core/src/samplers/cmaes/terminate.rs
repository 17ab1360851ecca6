//! Termination criteria that end a run and trigger a restart (Hansen's
//! tutorial, arXiv:1604.00772, Appendix B.3, with the thresholds of its text
//! and of the `cmaes` package).

use super::gaussian::Gaussian;
use std::collections::VecDeque;

/// Why a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// Range of the best and worst values of the last 10 + ⌈30n/λ⌉
    /// generations below 1e-12 (TolFun with TolHistFun).
    TolFun,
    /// Range of the best values over those generations exactly zero.
    EqualFunValues,
    /// σ √C_ii and σ p_c,i below 1e-12 σ₀ in every coordinate.
    TolX,
    /// σ max(D) grew beyond 1e4 σ₀.
    TolXUp,
    /// Adding 0.2 standard deviations in a coordinate leaves the mean unchanged.
    NoEffectCoord,
    /// Adding 0.1 σ d_i b_i along axis i = g mod n leaves the mean unchanged.
    NoEffectAxis,
    /// Condition number of C above 1e14.
    ConditionCov,
}

/// The best and worst value of each recent generation.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunHistory {
    len: usize,
    recent: VecDeque<(f64, f64)>,
}

impl FunHistory {
    /// A history of 10 + ⌈30n/λ⌉ generations (tutorial B.3, TolHistFun).
    pub fn new(n: usize, lambda: usize) -> Self {
        FunHistory {
            len: 10 + (30.0 * n as f64 / lambda as f64).ceil() as usize,
            recent: VecDeque::new(),
        }
    }

    /// Records a generation's best and worst values.
    pub fn push(&mut self, best: f64, worst: f64) {
        if self.recent.len() == self.len {
            self.recent.pop_front();
        }
        self.recent.push_back((best, worst));
    }
}

/// The first criterion that holds, if any (checked after each generation).
pub fn check(gauss: &Gaussian, sigma0: f64, hist: &FunHistory) -> Option<Stop> {
    let n = gauss.n;
    let s = gauss.sigma;
    if hist.recent.len() == hist.len {
        let (lo, hi) = hist
            .recent
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &(b, w)| {
                (a.0.min(b).min(w), a.1.max(b).max(w))
            });
        let (blo, bhi) = hist
            .recent
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |a, &(b, _)| {
                (a.0.min(b), a.1.max(b))
            });
        if bhi - blo == 0.0 {
            return Some(Stop::EqualFunValues);
        }
        if hi - lo < 1e-12 {
            return Some(Stop::TolFun);
        }
    }
    let tolx = 1e-12 * sigma0;
    if (0..n).all(|i| s * gauss.c_diag(i).sqrt() < tolx && (s * gauss.p_c[i]).abs() < tolx) {
        return Some(Stop::TolX);
    }
    let dmax = gauss.d.iter().copied().fold(0.0, f64::max);
    let dmin = gauss.d.iter().copied().fold(f64::INFINITY, f64::min);
    if s * dmax > 1e4 * sigma0 {
        return Some(Stop::TolXUp);
    }
    let m = &gauss.mean;
    if (0..n).any(|i| m[i] == m[i] + 0.2 * s * gauss.c_diag(i).sqrt()) {
        return Some(Stop::NoEffectCoord);
    }
    let k = (gauss.g % n.max(1) as u64) as usize;
    let axis_no_effect = (0..n).all(|i| {
        let bik = if gauss.separable {
            f64::from(u8::from(i == k))
        } else {
            gauss.b[i * n + k]
        };
        m[i] == m[i] + 0.1 * s * gauss.d[k] * bik
    });
    if n > 0 && axis_no_effect {
        return Some(Stop::NoEffectAxis);
    }
    if dmin > 0.0 && (dmax / dmin).powi(2) > 1e14 {
        return Some(Stop::ConditionCov);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fresh(n: usize) -> Gaussian {
        Gaussian::new(vec![0.5; n], 0.2, false)
    }

    #[test]
    fn a_fresh_run_does_not_stop() {
        assert_eq!(check(&fresh(3), 0.2, &FunHistory::new(3, 7)), None);
    }

    #[test]
    fn each_criterion_triggers_on_a_constructed_case() {
        let h = FunHistory::new(3, 7);
        let mut full = FunHistory::new(3, 7);
        for g in 0..30 {
            full.push(1.0 + 1e-14 * g as f64, 1.0 + 2e-14 * g as f64);
        }
        assert_eq!(check(&fresh(3), 0.2, &full), Some(Stop::TolFun));
        let mut flat = FunHistory::new(3, 7);
        for g in 0..30 {
            flat.push(1.0, 1.0 + g as f64);
        }
        assert_eq!(check(&fresh(3), 0.2, &flat), Some(Stop::EqualFunValues));

        let mut g = fresh(3);
        g.sigma = 1e-14;
        assert_eq!(check(&g, 0.2, &h), Some(Stop::TolX));

        let mut g = fresh(3);
        g.sigma = 1e4;
        assert_eq!(check(&g, 0.2, &h), Some(Stop::TolXUp));

        // A mean so large that a step of 0.2 standard deviations vanishes in
        // coordinate 1 only.
        let mut g = fresh(3);
        g.mean[1] = 1e20;
        assert_eq!(check(&g, 0.2, &h), Some(Stop::NoEffectCoord));

        // A mean of 2e15 (ulp 0.25): the coordinate steps (0.2 √C_ii ≈ 141)
        // move it, the step along the short axis (0.1 · 1 · 1/√2) does not.
        let mut g = Gaussian::new(vec![2e15; 2], 1.0, false);
        let c = std::f64::consts::FRAC_1_SQRT_2;
        // C with eigenvalues 1e6 (axis (1, 1)/√2) and 1 (axis (1, -1)/√2).
        let (a, b) = (0.5 * (1e6 + 1.0), 0.5 * (1e6 - 1.0));
        g.cov = vec![a, b, b, a];
        g.decompose();
        g.sigma = 1.0;
        let k = (0..2).min_by(|&i, &j| g.d[i].total_cmp(&g.d[j])).unwrap();
        g.g = k as u64;
        assert!((g.b[k].abs() - c).abs() < 1e-9);
        assert_eq!(check(&g, 1e5, &h), Some(Stop::NoEffectAxis));

        let mut g = fresh(2);
        g.cov = vec![1e15, 0.0, 0.0, 1.0];
        g.decompose();
        g.sigma = 1e-8;
        assert_eq!(check(&g, 0.2, &h), Some(Stop::ConditionCov));
    }
}

//! CMA-ES with margin (Hamano, Saito, Nomura & Shirakawa 2022, "CMA-ES with
//! Margin: Lower-Bounding Marginal Probability for Mixed-Integer Black-Box
//! Optimization", GECCO; Algorithm 1): for each integer or stepped dimension
//! the probability of leaving the grid cell of the mean is kept at least α/2
//! on each side by correcting the mean and a diagonal scaling A of the
//! sample, so the search never freezes on one grid value.
//!
//! Cells live in the unit space of [`Distribution::to_unit`]: the value
//! `v_k` owns the interval between the midpoints to its neighbours.

use super::gaussian::Gaussian;
use crate::samplers::tpe::truncnorm::{ndtr, ndtri};
use crate::space::Distribution;

/// The margin state: A (eq. 10's diagonal matrix) and the discrete dims.
#[derive(Debug, Clone, PartialEq)]
pub struct Margin {
    /// (index among the numeric dims, its distribution) of each discrete dim.
    pub discrete: Vec<(usize, Distribution)>,
    /// Diagonal of A, one entry per numeric dim (1 for continuous ones).
    pub a: Vec<f64>,
    /// α = 1 / (n λ) (the paper's recommendation).
    pub alpha: f64,
}

/// The most values a dim may have to get a margin (2^40).
pub const MAX_CARDINALITY: u64 = 1 << 40;

/// The unit-space boundary between grid values k and k + 1.
fn limit(dist: &Distribution, k: u64) -> f64 {
    dist.to_unit(0.5 * (dist.discrete_value(k) + dist.discrete_value(k + 1)))
}

/// The boundaries of the cell containing unit value `u` (the lower one of
/// the first cell and the upper one of the last are their neighbours').
pub fn cell_limits(dist: &Distribution, u: f64) -> (f64, f64) {
    let size = dist.cardinality().unwrap_or(2).max(2);
    let k = dist.position(dist.from_unit(u)).unwrap_or(0);
    let lo = k.saturating_sub(1).min(size - 2);
    let up = k.min(size - 2);
    (limit(dist, lo), limit(dist, up))
}

impl Margin {
    /// A margin for the discrete ones among `dists` (numeric dims), or None
    /// when all are continuous. A dim of more than [`MAX_CARDINALITY`] values
    /// counts as continuous: its cells, narrower than about 1e-12 of the unit
    /// range, come too close to the resolution of a float for the margin's
    /// cell limits (an integer in ±2^52 has cells of 1e-16, and the limits of
    /// a cell could coincide, giving A = NaN).
    pub fn new(dists: &[Distribution], lambda: usize) -> Option<Self> {
        let discrete: Vec<(usize, Distribution)> = dists
            .iter()
            .enumerate()
            .filter(|(_, d)| {
                d.cardinality()
                    .is_some_and(|c| (2..=MAX_CARDINALITY).contains(&c))
            })
            .map(|(i, d)| (i, d.clone()))
            .collect();
        (!discrete.is_empty()).then(|| Margin {
            discrete,
            a: vec![1.0; dists.len()],
            alpha: 1.0 / (dists.len() as f64 * lambda as f64),
        })
    }

    /// The unit point a sample `x` is evaluated at: m + A (x - m) in the
    /// discrete dims, x elsewhere (the encoding before rounding to the grid).
    pub fn encode(&self, gauss: &Gaussian, x: &[f64]) -> Vec<f64> {
        let mut u = x.to_vec();
        for &(j, _) in &self.discrete {
            u[j] = gauss.mean[j] + self.a[j] * (x[j] - gauss.mean[j]);
        }
        u
    }

    /// Algorithm 1, lines 12-20: after the CMA update, correct the mean and A
    /// of each discrete dim so each side's probability is at least α / 2.
    pub fn correct(&mut self, gauss: &mut Gaussian) {
        let alpha = self.alpha;
        for (j, dist) in &self.discrete {
            let j = *j;
            let m = gauss.mean[j];
            let (lo, up) = cell_limits(dist, m);
            let sd = gauss.sigma * self.a[j] * gauss.c_diag(j).sqrt();
            let p_lo = ndtr((lo - m) / sd);
            let p_up = 1.0 - ndtr((up - m) / sd);
            let p_mid = 1.0 - p_lo - p_up;
            if p_lo.max(p_up) > 0.5 {
                // The mean sits at an edge cell: move it so the smaller side keeps α.
                if p_lo.min(p_up) < alpha {
                    let sign = (m - up).signum();
                    let step =
                        gauss.sigma * self.a[j] * ndtri(1.0 - alpha) * gauss.c_diag(j).sqrt();
                    gauss.mean[j] = up + sign * step;
                }
                continue;
            }
            // Interior: raise each side to α/2, taking the excess from the others.
            let (l, u) = (p_lo.max(alpha / 2.0), p_up.max(alpha / 2.0));
            let spare = l + p_mid + u - 1.5 * alpha;
            let excess = 1.0 - l - u - p_mid;
            let l2 = (l + excess * (l - alpha / 2.0) / spare).clamp(1e-10, 0.5 - 1e-10);
            let u2 = (u + excess * (u - alpha / 2.0) / spare).clamp(1e-10, 0.5 - 1e-10);
            let (ql, qu) = (ndtri(1.0 - l2), ndtri(1.0 - u2));
            self.a[j] = (up - lo) / ((ql + qu) * gauss.sigma * gauss.c_diag(j).sqrt());
            gauss.mean[j] = (lo * qu + up * ql) / (ql + qu);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_integer_finer_than_a_float_gets_no_margin() {
        let wide = Distribution::int("c", -(1 << 52), 1 << 52, 1, false).unwrap();
        let small = Distribution::int("k", 0, 9, 1, false).unwrap();
        assert!(Margin::new(std::slice::from_ref(&wide), 6).is_none());
        let m = Margin::new(&[wide, small], 6).unwrap();
        assert_eq!(m.discrete.len(), 1);
        assert_eq!(m.discrete[0].0, 1);
    }

    #[test]
    fn a_collapsed_integer_dimension_keeps_its_margin() {
        // Two ints of 0..=4; a tiny σ centred on value 2 would never move.
        let d = Distribution::int("k", 0, 4, 1, false).unwrap();
        let dists = vec![d.clone(), d.clone()];
        let mut m = Margin::new(&dists, 6).unwrap();
        let mut g = Gaussian::new(vec![d.to_unit(2.0), d.to_unit(0.0)], 1e-4, false);
        m.correct(&mut g);
        for j in 0..2 {
            let (lo, up) = cell_limits(&d, g.mean[j]);
            let sd = g.sigma * m.a[j] * g.c_diag(j).sqrt();
            let p_lo = ndtr((lo - g.mean[j]) / sd);
            let p_up = 1.0 - ndtr((up - g.mean[j]) / sd);
            // The interior dim gets α/2 on each side; at the edge value 0 the
            // mean moves so that the inner side gets α.
            let need = if j == 0 { m.alpha / 2.0 } else { m.alpha };
            assert!(
                p_lo.min(p_up) >= need * (1.0 - 1e-6),
                "dim {j}: {p_lo} {p_up}"
            );
        }
        assert!(m.a[0] > 1.0);
    }

    #[test]
    fn cells_of_a_log_int_split_at_half_integers() {
        let d = Distribution::int("n", 1, 100, 1, true).unwrap();
        let (lo, up) = cell_limits(&d, d.to_unit(10.0));
        assert!((d.from_unit(lo - 1e-9) - 9.0).abs() < 1e-12);
        assert!((d.from_unit(lo + 1e-9) - 10.0).abs() < 1e-12);
        assert!((d.from_unit(up + 1e-9) - 11.0).abs() < 1e-12);
    }
}

//! Recombination of two parents for the NSGA samplers, on numerical
//! parameters in the unit cube of [`Distribution::to_unit`] (log parameters
//! in log space, integer and stepped ones widened by half a step), where
//! each operator's bounds are [0, 1]:
//!
//! - uniform crossover (Syswerda 1989): each parameter from either parent;
//! - BLX-alpha (Eshelman and Schaffer, "Real-Coded Genetic Algorithms and
//!   Interval-Schemata", FOGA 1992, Eq. 1): uniform in the parents' box
//!   widened by `alpha` times its width on each side;
//! - SBX (Deb and Agrawal, "Simulated Binary Crossover for Continuous Search
//!   Space", Complex Systems 9, 1995, Eqs. 3-5, in the bounded form of Deb's
//!   NSGA-II code): two children spread around the parents by a polynomial
//!   distribution of index `eta`, one of them returned, as Optuna's
//!   `SBXCrossover` does.
//!
//! [`Distribution::to_unit`]: crate::space::Distribution::to_unit

use crate::error::{Error, Result};
use crate::rng::Rng;

/// A crossover operator and its arguments (Optuna's names and defaults).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Crossover {
    /// Each parameter from the second parent with probability
    /// `swapping_prob` (the sampler's), else from the first.
    #[default]
    Uniform,
    /// BLX-alpha; Optuna's default `alpha` is 0.5.
    BlxAlpha { alpha: f64 },
    /// SBX: `eta` the distribution index (None: 20 with several objectives,
    /// 2 with one, as Optuna), `uniform_crossover_prob` (0.5) the chance of
    /// swapping the two children's values of a parameter,
    /// `use_child_gene_prob` (0.5) the chance of taking a child's value
    /// rather than the parents'.
    Sbx {
        eta: Option<f64>,
        uniform_crossover_prob: f64,
        use_child_gene_prob: f64,
    },
}

impl Crossover {
    /// Checks the operator's arguments (Optuna's ranges).
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::InvalidArgument(m));
        match *self {
            Crossover::Uniform => Ok(()),
            Crossover::BlxAlpha { alpha } if !(alpha.is_finite() && alpha >= 0.0) => bad(format!(
                "BLX-alpha's alpha must be finite and >= 0, got {alpha}"
            )),
            Crossover::Sbx { eta: Some(e), .. } if !(e.is_finite() && e >= 0.0) => {
                bad(format!("SBX's eta must be finite and >= 0, got {e}"))
            }
            Crossover::Sbx {
                uniform_crossover_prob: p,
                ..
            } if !(0.0..=1.0).contains(&p) => bad(format!(
                "SBX's uniform_crossover_prob must be in [0, 1], got {p}"
            )),
            Crossover::Sbx {
                use_child_gene_prob: p,
                ..
            } if !(p > 0.0 && p <= 1.0) => bad(format!(
                "SBX's use_child_gene_prob must be in (0, 1], got {p}"
            )),
            _ => Ok(()),
        }
    }

    /// One child of parents `a` and `b` (unit coordinates of the numerical
    /// parameters); the result may leave [0, 1] (BLX-alpha, SBX), which the
    /// caller checks. `multi` tells whether the study has several objectives
    /// (SBX's default `eta`).
    pub fn child(
        &self,
        a: &[f64],
        b: &[f64],
        swapping_prob: f64,
        multi: bool,
        rng: &mut Rng,
    ) -> Vec<f64> {
        match *self {
            Crossover::Uniform => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| if rng.uniform() < swapping_prob { y } else { x })
                .collect(),
            Crossover::BlxAlpha { alpha } => a
                .iter()
                .zip(b)
                .map(|(&x, &y)| {
                    // Eq. 1: [min - alpha d, max + alpha d], d = max - min.
                    let (lo, hi) = (x.min(y), x.max(y));
                    let d = alpha * (hi - lo);
                    (lo - d) + rng.uniform() * ((hi + d) - (lo - d))
                })
                .collect(),
            Crossover::Sbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            } => {
                let eta = eta.unwrap_or(if multi { 20.0 } else { 2.0 });
                sbx(a, b, eta, uniform_crossover_prob, use_child_gene_prob, rng)
            }
        }
    }
}

/// The spread factor of SBX for a child on the side of a bound `beta`
/// (Deb and Agrawal 1995, Eq. 3, with the probability mass beyond the
/// bound removed: `alpha = 2 - beta^-(eta + 1)`).
fn beta_q(u: f64, beta: f64, eta: f64) -> f64 {
    let alpha = 2.0 - beta.powf(-(eta + 1.0));
    if u <= 1.0 / alpha {
        (u * alpha).powf(1.0 / (eta + 1.0))
    } else {
        (1.0 / (2.0 - u * alpha)).powf(1.0 / (eta + 1.0))
    }
}

/// SBX in the unit cube: per parameter, children `c1, c2 = (x_min + x_max
/// -/+ beta_q * d) / 2` (Eqs. 4-5), mixed per parameter with the parents'
/// values as Optuna's `SBXCrossover`, and one of the two children returned.
fn sbx(a: &[f64], b: &[f64], eta: f64, swap: f64, use_child: f64, rng: &mut Rng) -> Vec<f64> {
    let mut c1 = Vec::with_capacity(a.len());
    let mut c2 = Vec::with_capacity(a.len());
    for (&x1, &x2) in a.iter().zip(b) {
        let (lo, hi) = (x1.min(x2), x1.max(x2));
        let d = (hi - lo).max(1e-10);
        let u = rng.uniform();
        // Distances to the bounds 0 and 1, in units of half the parents' gap.
        let bq1 = beta_q(u, 1.0 + 2.0 * lo / d, eta);
        let bq2 = beta_q(u, 1.0 + 2.0 * (1.0 - hi) / d, eta);
        let (y1, y2) = if rng.uniform() < use_child {
            (0.5 * ((lo + hi) - bq1 * d), 0.5 * ((lo + hi) + bq2 * d))
        } else {
            (x1, x2)
        };
        if rng.uniform() < swap {
            c1.push(y2);
            c2.push(y1);
        } else {
            c1.push(y1);
            c2.push(y2);
        }
    }
    if rng.uniform() < 0.5 {
        c1
    } else {
        c2
    }
}

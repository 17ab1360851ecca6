//! Recombination of parents for the NSGA samplers, on numerical
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
//!   `SBXCrossover` does;
//! - vSBX (Ballester and Carter, "Real-Parameter Genetic Algorithms for
//!   Finding Multiple Optimal Solutions in Multi-modal Optimization", GECCO
//!   2003, Section 3.2, in the form of Optuna's `VSBXCrossover`): SBX whose
//!   spread factors are unbounded, so no region is excluded;
//! - UNDX (Ono and Kobayashi, ICGA 1997; Kita, Ono and Kobayashi, "Multi-
//!   parental Extension of the Unimodal Normal Distribution Crossover for
//!   Real-coded Genetic Algorithms", CEC 1999, Section 2): a normal
//!   distribution along the line of two parents and, scaled by a third
//!   parent's distance to that line, across it;
//! - SPX (Tsutsui, Yamamura and Higuchi, "Multi-parent Recombination with
//!   Simplex Crossover in Real Coded Genetic Algorithms", GECCO 1999; Eqs.
//!   1-5 as restated by Tsutsui, Goldberg and Sastry, IlliGAL report 2000):
//!   uniform in the parents' simplex expanded by `epsilon` about its
//!   centroid, with three parents as Optuna.
//!
//! Every operator may leave [0, 1] (all but uniform crossover); the sampler
//! then makes the child again from newly chosen parents, as Optuna does, and
//! clips it to [0, 1] after 64 tries (Optuna retries without limit).
//!
//! [`Distribution::to_unit`]: crate::space::Distribution::to_unit

use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::samplers::de::encoding::standard_normal;

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
    /// vSBX: the arguments of [`Crossover::Sbx`] (same defaults).
    Vsbx {
        eta: Option<f64>,
        uniform_crossover_prob: f64,
        use_child_gene_prob: f64,
    },
    /// UNDX, three parents: `sigma_xi` (0.5) the standard deviation of the
    /// step along the first two parents' line, in units of their distance;
    /// `sigma_eta` (None: `0.35 / sqrt(n)`) that across it, in units of the
    /// third parent's distance to the line. These are the paper's standard
    /// deviations; Optuna draws with `sigma_xi^2` and `sigma_eta^2` as
    /// standard deviations instead.
    Undx {
        sigma_xi: f64,
        sigma_eta: Option<f64>,
    },
    /// SPX, three parents: `epsilon` the expansion rate (None:
    /// `sqrt(n + 2)`, `n` the number of numerical parameters, as Optuna).
    Spx { epsilon: Option<f64> },
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
            Crossover::Sbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            } => check_sbx("SBX", eta, uniform_crossover_prob, use_child_gene_prob),
            Crossover::Vsbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            } => check_sbx("vSBX", eta, uniform_crossover_prob, use_child_gene_prob),
            Crossover::Undx {
                sigma_xi,
                sigma_eta,
            } => {
                check_scale("UNDX's sigma_xi", Some(sigma_xi))?;
                check_scale("UNDX's sigma_eta", sigma_eta)
            }
            Crossover::Spx { epsilon } => check_scale("SPX's epsilon", epsilon),
            Crossover::BlxAlpha { .. } => Ok(()),
        }
    }

    /// The number of parents the operator recombines (Optuna's `n_parents`).
    pub fn n_parents(&self) -> usize {
        match self {
            Crossover::Undx { .. } | Crossover::Spx { .. } => 3,
            _ => 2,
        }
    }

    /// One child of `parents` ([`Crossover::n_parents`] rows of the unit
    /// coordinates of the numerical parameters); the result may leave
    /// [0, 1], which the caller checks. `multi` tells whether the study has
    /// several objectives (the default `eta` of SBX and vSBX).
    pub fn child(
        &self,
        parents: &[Vec<f64>],
        swapping_prob: f64,
        multi: bool,
        rng: &mut Rng,
    ) -> Vec<f64> {
        let (a, b) = (&parents[0], &parents[1]);
        let default_eta = if multi { 20.0 } else { 2.0 };
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
                let eta = eta.unwrap_or(default_eta);
                sbx(a, b, eta, uniform_crossover_prob, use_child_gene_prob, rng)
            }
            Crossover::Vsbx {
                eta,
                uniform_crossover_prob,
                use_child_gene_prob,
            } => {
                let eta = eta.unwrap_or(default_eta);
                vsbx(a, b, eta, uniform_crossover_prob, use_child_gene_prob, rng)
            }
            Crossover::Undx {
                sigma_xi,
                sigma_eta,
            } => {
                let sigma_eta = sigma_eta.unwrap_or(0.35 / (a.len() as f64).sqrt());
                undx(parents, sigma_xi, sigma_eta, rng)
            }
            Crossover::Spx { epsilon } => {
                let epsilon = epsilon.unwrap_or(((a.len() + 2) as f64).sqrt());
                spx(parents, epsilon, rng)
            }
        }
    }
}

/// The checks of SBX's and vSBX's arguments (Optuna's ranges).
fn check_sbx(op: &str, eta: Option<f64>, swap: f64, use_child: f64) -> Result<()> {
    check_scale(&format!("{op}'s eta"), eta)?;
    if !(0.0..=1.0).contains(&swap) {
        return Err(Error::InvalidArgument(format!(
            "{op}'s uniform_crossover_prob must be in [0, 1], got {swap}"
        )));
    }
    if !(use_child > 0.0 && use_child <= 1.0) {
        return Err(Error::InvalidArgument(format!(
            "{op}'s use_child_gene_prob must be in (0, 1], got {use_child}"
        )));
    }
    Ok(())
}

/// `value`, when given, must be finite and >= 0.
fn check_scale(name: &str, value: Option<f64>) -> Result<()> {
    match value {
        Some(v) if !(v.is_finite() && v >= 0.0) => Err(Error::InvalidArgument(format!(
            "{name} must be finite and >= 0, got {v}"
        ))),
        _ => Ok(()),
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

/// Per parameter, one of the two children `y1`, `y2` (probability
/// `use_child`) or else of the parents `x1`, `x2`, the pair swapped with
/// probability `swap`; then one of the two assembled children at random (the
/// mixing by which Optuna makes one child of SBX's and vSBX's two).
fn mix_children(
    x: (&[f64], &[f64]),
    y: (&[f64], &[f64]),
    swap: f64,
    use_child: f64,
    rng: &mut Rng,
) -> Vec<f64> {
    let n = x.0.len();
    let (mut c1, mut c2) = (Vec::with_capacity(n), Vec::with_capacity(n));
    for i in 0..n {
        let (v1, v2) = if rng.uniform() < use_child {
            (y.0[i], y.1[i])
        } else {
            (x.0[i], x.1[i])
        };
        if rng.uniform() < swap {
            c1.push(v2);
            c2.push(v1);
        } else {
            c1.push(v1);
            c2.push(v2);
        }
    }
    if rng.uniform() < 0.5 {
        c1
    } else {
        c2
    }
}

/// vSBX (Ballester and Carter 2003, Section 3.2, as Optuna's
/// `VSBXCrossover`): per parameter a uniform `u` gives the spread factors
/// `beta1 = (2u)^(-1/(eta+1))` and `beta2 = (2(1-u))^(-1/(eta+1))`, unbounded
/// above, so any point can be reached; the first child is
/// `((1 + beta1) x1 + (1 - beta2) x2) / 2` or, mirrored about the parents'
/// mean, `((1 - beta1) x1 + (1 + beta2) x2) / 2`, and the second
/// `((3 - beta1) x1 - (1 - beta2) x2) / 2` or its mirror
/// `(-(1 - beta1) x1 + (3 - beta2) x2) / 2`, each side chosen with
/// probability 1/2 once for the whole child. Both are thus symmetric about
/// the parents' mean in distribution.
fn vsbx(x1: &[f64], x2: &[f64], eta: f64, swap: f64, use_child: f64, rng: &mut Rng) -> Vec<f64> {
    const EPS: f64 = 1e-10;
    let e = 1.0 / (eta + 1.0);
    let betas: Vec<(f64, f64)> = (0..x1.len())
        .map(|_| {
            let u = rng.uniform();
            (
                (1.0 / (2.0 * u).max(EPS)).powf(e),
                (1.0 / (2.0 * (1.0 - u)).max(EPS)).powf(e),
            )
        })
        .collect();
    let first_low = rng.uniform() <= 0.5;
    let second_low = rng.uniform() <= 0.5;
    let mut y1 = Vec::with_capacity(x1.len());
    let mut y2 = Vec::with_capacity(x1.len());
    for ((&a, &b), &(b1, b2)) in x1.iter().zip(x2).zip(&betas) {
        y1.push(if first_low {
            0.5 * ((1.0 + b1) * a + (1.0 - b2) * b)
        } else {
            0.5 * ((1.0 - b1) * a + (1.0 + b2) * b)
        });
        y2.push(if second_low {
            0.5 * ((3.0 - b1) * a - (1.0 - b2) * b)
        } else {
            0.5 * (-(1.0 - b1) * a + (3.0 - b2) * b)
        });
    }
    mix_children((x1, x2), (&y1, &y2), swap, use_child, rng)
}

/// UNDX (Kita, Ono and Kobayashi 1999, Section 2): with the parents' midpoint
/// `x_p = (x1 + x2) / 2` (Eq. 2), their difference `d = x1 - x2` (Eq. 3) and
/// the distance `D` of `x3` from the line through `x1` and `x2` (Eq. 4), the
/// child is `x_p + xi d + D sum_i eta_i e_i` (Eq. 5), `e_i` an orthonormal
/// basis of the complement of `d`, `xi ~ N(0, sigma_xi^2)`,
/// `eta_i ~ N(0, sigma_eta^2)`.
fn undx(parents: &[Vec<f64>], sigma_xi: f64, sigma_eta: f64, rng: &mut Rng) -> Vec<f64> {
    let (x1, x2, x3) = (&parents[0], &parents[1], &parents[2]);
    let n = x1.len();
    let d: Vec<f64> = x1.iter().zip(x2).map(|(a, b)| a - b).collect();
    let norm = dot(&d, &d).sqrt();
    let xi = sigma_xi * standard_normal(rng);
    let mut child: Vec<f64> = (0..n).map(|i| 0.5 * (x1[i] + x2[i]) + xi * d[i]).collect();
    if n < 2 {
        return child;
    }
    // Unit vector of the primary search line (none when x1 = x2).
    let e12: Option<Vec<f64>> = (norm > 1e-10).then(|| d.iter().map(|v| v / norm).collect());
    // Eq. 4: the part of x3 - x1 orthogonal to the line.
    let mut v: Vec<f64> = x3.iter().zip(x1.iter()).map(|(a, b)| a - b).collect();
    if let Some(e) = &e12 {
        let p = dot(&v, e);
        v.iter_mut().zip(e).for_each(|(vi, ei)| *vi -= p * ei);
    }
    let big_d = dot(&v, &v).sqrt();
    // Eq. 5's last term: D times an isotropic normal step of standard
    // deviation sigma_eta in the complement of the line (n - 1 dimensions),
    // the same as summing over an orthonormal basis of that complement.
    let mut z: Vec<f64> = (0..n).map(|_| sigma_eta * standard_normal(rng)).collect();
    match &e12 {
        Some(e) => {
            let p = dot(&z, e);
            z.iter_mut().zip(e).for_each(|(zi, ei)| *zi -= p * ei);
        }
        // No line: the complement of Optuna's basis is the last n - 1 axes.
        None => z[0] = 0.0,
    }
    child
        .iter_mut()
        .zip(&z)
        .for_each(|(c, zi)| *c += big_d * zi);
    child
}

/// SPX (Tsutsui, Yamamura and Higuchi 1999) with `m` parents `x_k`: centroid
/// `G` (Eq. 1), `r_k = u_k^(1/(k+1))` (Eq. 2), expanded vertices
/// `y_k = G + epsilon (x_k - G)` (Eq. 3), `C_0 = 0`,
/// `C_k = r_(k-1) (y_(k-1) - y_k + C_(k-1))` (Eq. 4), child
/// `y_(m-1) + C_(m-1)` (Eq. 5): uniform in the simplex of the `y_k`.
fn spx(parents: &[Vec<f64>], epsilon: f64, rng: &mut Rng) -> Vec<f64> {
    let m = parents.len();
    let n = parents[0].len();
    let g: Vec<f64> = (0..n)
        .map(|i| parents.iter().map(|p| p[i]).sum::<f64>() / m as f64)
        .collect();
    let y: Vec<Vec<f64>> = parents
        .iter()
        .map(|p| (0..n).map(|i| g[i] + epsilon * (p[i] - g[i])).collect())
        .collect();
    let mut c = vec![0.0; n];
    for k in 1..m {
        let r = rng.uniform().powf(1.0 / k as f64);
        for i in 0..n {
            c[i] = r * (y[k - 1][i] - y[k][i] + c[i]);
        }
    }
    (0..n).map(|i| y[m - 1][i] + c[i]).collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

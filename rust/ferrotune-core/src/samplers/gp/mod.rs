//! Numerical core of Gaussian-process Bayesian optimisation.
//!
//! One concern a module, each citing its maths:
//! - [`linalg`]: Cholesky factor (with jitter and an O(n²) append), triangular
//!   solves, log-determinant, inverse;
//! - [`kernel`]: Matérn 5/2 with ARD lengthscales × a categorical Hamming
//!   term, inactive (NaN) dimensions handled, gradients in θ and in x;
//! - [`model`]: the GP with standardised outputs, MAP hyperparameters under
//!   the dimension-scaled priors of Hvarfner et al. 2024 or a two-sided
//!   lengthscale prior with mode 1 (the sampler's), posterior mean/variance
//!   with gradients, and observation appends without a refit;
//! - [`lbfgs`]: L-BFGS with Armijo backtracking and box bounds by projection,
//!   plus a multi-start helper;
//! - [`acquisition`]: LogEI (Ament et al. 2023), EI, PI and UCB (Srinivas et
//!   al. 2010), and the log probability of feasibility of a constraint, each
//!   with derivatives; [`acquisition::Constrained`] combines them;
//! - [`warp`]: the Kumaraswamy input warp of Snoek et al. 2014, its
//!   derivatives and prior, fitted with the other hyperparameters when
//!   [`FitConfig::input_warping`] is on;
//! - [`trust_region`]: TuRBO-1's trust region (Eriksson et al. 2019): its
//!   state replayed from the observations, and its box;
//! - [`sampler`]: the sampler that puts them together (data, refit schedule,
//!   acquisition optimisation).
//!
//! Conventions: the objective is *minimised*; inputs are in the unit cube of
//! [`crate::space::Distribution::to_unit`] for floats and integers, choice
//! indices for categoricals, NaN for inactive parameters; acquisition values
//! are *maximised*.
//!
//! Costs, for n observations in d dimensions: one evaluation of the MAP
//! objective with its gradient O(n³) (Cholesky n³/6 + inverse n³/3
//! multiply-adds) + O(n² d) kernel work; an append O(n²); a prediction with
//! its gradient O(n²); a batch of m candidates O(n² m), or O(n m) per new
//! observation through a [`Pool`]. The sampler's refit schedule follows from
//! these (see [`sampler`]); timings are in benches/README.md.
//!
//! Beside the fast routines, `reference` (compiled for tests) holds the
//! textbook versions of the algebra, the kernel and the posterior (Rasmussen
//! & Williams 2006, Alg. 2.1) that the tests compare them with.

pub mod acquisition;
pub mod kernel;
pub mod lbfgs;
pub mod linalg;
pub mod model;
pub mod power;
pub mod sampler;
pub mod trust_region;
pub mod warp;

#[cfg(test)]
mod golden_tests;
#[cfg(test)]
pub(crate) mod reference;
#[cfg(test)]
mod reference_tests;

pub use acquisition::Acquisition;
pub use kernel::{DimKind, Kernel};
pub use model::{FitConfig, Gp, LengthscalePrior, Noise, NoisePrior, Pool, Prediction, Priors};
pub use sampler::{
    transforms_apply, FitState, GpAcquisition, GpConfig, GpInputWarping, GpOutputTransform,
    GpSampler, AUTO_TRANSFORMS_MAX_DIMS,
};

#[cfg(test)]
mod tests {
    //! The pieces together: a bare BO loop (random candidates, then L-BFGS
    //! refinement of LogEI in the unit box) on Branin. The sampler's own
    //! acquisition optimiser is richer; this checks the numerics agree.

    use super::lbfgs::{multi_start, LbfgsConfig};
    use super::*;
    use crate::rng::Rng;

    /// Branin on [-5, 10] × [0, 15], from unit coordinates; minimum 0.397887.
    fn branin(u: &[f64]) -> f64 {
        let (x, y) = (-5.0 + 15.0 * u[0], 15.0 * u[1]);
        let pi = std::f64::consts::PI;
        let b = 5.1 / (4.0 * pi * pi);
        let c = 5.0 / pi;
        let t = 1.0 / (8.0 * pi);
        (y - b * x * x + c * x - 6.0).powi(2) + 10.0 * (1.0 - t) * x.cos() + 10.0
    }

    #[test]
    fn logei_loop_finds_the_branin_minimum() {
        let mut rng = Rng::new(2024);
        let kinds = vec![DimKind::Continuous; 2];
        let mut x: Vec<f64> = (0..16).map(|_| rng.uniform()).collect();
        let mut y: Vec<f64> = x.chunks(2).map(branin).collect();
        let cfg = FitConfig {
            noise: Noise::Fixed(1e-6),
            n_random_starts: 1,
            ..Default::default()
        };
        let mut gp = Gp::fit(kinds, x.clone(), &y, &cfg, None, &mut rng).unwrap();
        let (lo, hi) = ([0.0; 2], [1.0; 2]);
        for it in 0..30 {
            let best = y.iter().copied().fold(f64::INFINITY, f64::min);
            // Negated LogEI, for minimisation.
            let objective = |p: &[f64], g: &mut [f64]| match Acquisition::LogEi.at(&gp, p, best) {
                Ok((v, grad)) => {
                    g[0] = -grad[0];
                    g[1] = -grad[1];
                    -v
                }
                Err(_) => f64::INFINITY,
            };
            let mut cands: Vec<(f64, Vec<f64>)> = (0..256)
                .map(|_| {
                    let p = vec![rng.uniform(), rng.uniform()];
                    let mut g = [0.0; 2];
                    (objective(&p, &mut g), p)
                })
                .collect();
            cands.sort_by(|a, b| a.0.total_cmp(&b.0));
            let starts: Vec<Vec<f64>> = cands.into_iter().take(4).map(|c| c.1).collect();
            let r = multi_start(
                objective,
                &starts,
                Some((&lo, &hi)),
                &LbfgsConfig::default(),
            )
            .unwrap();
            let v = branin(&r.x);
            y.push(v);
            x.extend_from_slice(&r.x);
            // A refit schedule of the kind the sampler will use: a full MAP
            // refit every third step, a cheap append in between.
            gp.add_observation(&r.x, v).unwrap();
            if it % 3 == 2 {
                gp = gp.refit(&cfg, &mut rng).unwrap();
            }
        }
        let best = y.iter().copied().fold(f64::INFINITY, f64::min);
        assert!(best - 0.397_887 < 1e-2, "best found {best}");
    }
}

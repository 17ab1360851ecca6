//! The MAP fit: the negative log posterior L(θ) with its gradient
//! (Rasmussen & Williams eqs. 5.8-5.9) and its minimisation by projected
//! L-BFGS from a warm start, the prior mode and draws from the prior.

use super::{check_inputs, standardise, FitConfig, Gp, Noise, Priors, LN_2PI};
use crate::error::{Error, Result};
use crate::rng::Rng;
use crate::samplers::gp::kernel::{Columns, DimKind, Kernel, PairTerms};
use crate::samplers::gp::lbfgs::multi_start;
use crate::samplers::gp::linalg::Cholesky;
use crate::samplers::gp::warp::{cdf_dlog, warped_dims, Warp, LOG_BOUND};
use crate::samplers::tpe::truncnorm::ndtri;
use crate::space::fit_in;

/// A fit with several starts on more observations than this runs them on a
/// random subset of this size and refines only the best on all the data
/// (each start costs O(n³) per evaluation).
pub const FIT_SUBSET: usize = 256;

/// Box of the log-hyperparameters for `d` dimensions under `noise`.
pub fn param_bounds(d: usize, noise: Noise) -> Result<(Vec<f64>, Vec<f64>)> {
    let (nlo, nhi) = match noise {
        Noise::Inferred { floor } => {
            if !(floor.is_finite() && floor > 0.0 && floor < 10.0) {
                return Err(Error::InvalidArgument(format!(
                    "noise floor must lie in (0, 10), got {floor}"
                )));
            }
            (floor.ln(), 10f64.ln())
        }
        Noise::Fixed(v) => {
            if !(v.is_finite() && v > 0.0) {
                return Err(Error::InvalidArgument(format!(
                    "fixed noise variance must be finite and > 0, got {v}"
                )));
            }
            (v.ln(), v.ln())
        }
    };
    let (a, b) = (1e-3f64.ln(), 1e3f64.ln());
    let mut lo = vec![a; d + 1];
    let mut hi = vec![b; d + 1];
    lo.push(nlo);
    hi.push(nhi);
    Ok((lo, hi))
}

/// The negative log posterior L(θ) of standardised data and its gradient
/// (see the module docs), θ = (log ℓ_1..d, log σ_f², log σ_n²), optionally
/// followed by the input warp's (log a, log b) of each continuous dimension
/// ([`Gp::with_params`]).
pub fn neg_log_posterior(
    kinds: &[DimKind],
    x: &[f64],
    y: &[f64],
    theta: &[f64],
    priors: &Priors,
    fixed_noise: bool,
) -> Result<(f64, Vec<f64>)> {
    let n = check_inputs(kinds, x, y)?;
    let warping = theta.len() > kinds.len() + 2;
    Likelihood::new(kinds, x, n, y, priors, fixed_noise, warping)?.eval(theta)
}

/// The quantities of one evaluation of L(θ) that the warp's gradient reuses.
struct Parts {
    kernel: Kernel,
    /// W = ααᵀ - K⁻¹ (lower triangle).
    w: Vec<f64>,
    terms: PairTerms,
}

/// L(θ) on inputs already laid out by dimension (and warped), for
/// θ = (log ℓ_1..d, log σ_f², log σ_n²).
fn neg_log_posterior_columns(
    kinds: &[DimKind],
    cols: &Columns,
    y: &[f64],
    theta: &[f64],
    priors: &Priors,
    fixed_noise: bool,
) -> Result<(f64, Vec<f64>, Parts)> {
    let n = y.len();
    let d = kinds.len();
    if theta.len() != d + 2 {
        return Err(Error::InvalidArgument(format!(
            "{} hyperparameters given, expected {}",
            theta.len(),
            d + 2
        )));
    }
    let kernel = Kernel::new(kinds.to_vec(), theta[..d].to_vec(), theta[d])?;
    let noise = theta[d + 1].exp();
    if !(noise.is_finite() && noise > 0.0) {
        return Err(Error::InvalidArgument(format!(
            "log noise variance {} is out of range",
            theta[d + 1]
        )));
    }
    let (mut k, terms) = kernel.matrix_columns(cols)?;
    for i in 0..n {
        k[i * n + i] += noise;
    }
    let chol = Cholesky::factor_with_jitter(&k, n)?;
    let alpha = chol.solve(y)?;
    let data_fit: f64 = y.iter().zip(&alpha).map(|(a, b)| a * b).sum();
    let mut value = 0.5 * data_fit + 0.5 * chol.log_det() + 0.5 * n as f64 * LN_2PI;
    // W = ααᵀ - K⁻¹ (lower triangle), reusing the inverse's storage.
    let mut w = chol.inverse();
    for i in 0..n {
        for j in 0..=i {
            w[i * n + j] = alpha[i] * alpha[j] - w[i * n + j];
        }
    }
    let gk = kernel.contract_columns(cols, &terms, &w)?;
    let mut grad: Vec<f64> = gk.iter().map(|v| -0.5 * v).collect();
    let trace_w: f64 = (0..n).map(|i| w[i * n + i]).sum();
    grad.push(if fixed_noise {
        0.0
    } else {
        -0.5 * noise * trace_w
    });
    value += priors.neg_log_density(kinds, theta, &mut grad, fixed_noise);
    Ok((value, grad, Parts { kernel, w, terms }))
}

/// The fit's data and priors, evaluating L(θ) with its gradient.
struct Likelihood<'a> {
    kinds: &'a [DimKind],
    /// Inputs n×d before any warp.
    x: &'a [f64],
    y: &'a [f64],
    priors: &'a Priors,
    fixed: bool,
    /// The warped dimensions (empty without input warping).
    dims: Vec<usize>,
    /// The inputs by dimension when they are not warped (built once).
    cols: Option<Columns>,
}

impl<'a> Likelihood<'a> {
    fn new(
        kinds: &'a [DimKind],
        x: &'a [f64],
        n: usize,
        y: &'a [f64],
        priors: &'a Priors,
        fixed: bool,
        warping: bool,
    ) -> Result<Self> {
        let dims = if warping {
            warped_dims(kinds)
        } else {
            Vec::new()
        };
        let cols = if dims.is_empty() {
            Some(Columns::new(kinds, x, n)?)
        } else {
            None
        };
        Ok(Likelihood {
            kinds,
            x,
            y,
            priors,
            fixed,
            dims,
            cols,
        })
    }

    /// Number of hyperparameters.
    fn n_params(&self) -> usize {
        self.kinds.len() + 2 + 2 * self.dims.len()
    }

    /// L(θ) and its gradient. With a warp, the inputs are warped by θ's
    /// last 2|dims| entries and the gradient in them follows by the chain
    /// rule: ∂L/∂w_pi = -Σ_q W_pq ∂k_pq/∂w_pi
    /// ([`Kernel::contract_input_grad`]), times ∂w_pi/∂log a_i (or log b_i)
    /// of [`super::super::warp::cdf_dlog`], summed over the points p; plus
    /// the warp's prior.
    fn eval(&self, theta: &[f64]) -> Result<(f64, Vec<f64>)> {
        let (kinds, y, d) = (self.kinds, self.y, self.kinds.len());
        if theta.len() != self.n_params() {
            return Err(Error::InvalidArgument(format!(
                "{} hyperparameters given, expected {}",
                theta.len(),
                self.n_params()
            )));
        }
        let base = &theta[..d + 2];
        let (value, grad) = if let Some(cols) = &self.cols {
            let (v, g, _) =
                neg_log_posterior_columns(kinds, cols, y, base, self.priors, self.fixed)?;
            (v, g)
        } else {
            let warp = Warp::new(self.dims.clone(), &theta[d + 2..])?;
            let cols = Columns::new(kinds, &warp.apply(self.x, d), y.len())?;
            let (mut v, mut g, parts) =
                neg_log_posterior_columns(kinds, &cols, y, base, self.priors, self.fixed)?;
            let s = parts
                .kernel
                .contract_input_grad(&cols, &parts.terms, &parts.w, &self.dims)?;
            let mut gw = vec![0.0; 2 * self.dims.len()];
            for (k, (&j, &(a, b))) in self.dims.iter().zip(warp.shapes()).enumerate() {
                for (p, sp) in s[k].iter().enumerate() {
                    let (da, db) = cdf_dlog(self.x[p * d + j], a, b);
                    gw[2 * k] -= sp * da;
                    gw[2 * k + 1] -= sp * db;
                }
            }
            v += Warp::neg_log_prior(&theta[d + 2..], &mut gw);
            g.extend(gw);
            (v, g)
        };
        if !value.is_finite() || grad.iter().any(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(
                "the marginal likelihood is not finite at these hyperparameters".into(),
            ));
        }
        Ok((value, grad))
    }

    /// The fit's objective: L(θ)/n and its gradient (infinite where L is
    /// not defined), for the optimiser.
    fn per_observation(&self) -> impl Fn(&[f64], &mut [f64]) -> f64 + '_ {
        let inv_n = 1.0 / self.y.len().max(1) as f64;
        move |theta, g| match self.eval(theta) {
            Ok((v, grad)) => {
                for (gi, v) in g.iter_mut().zip(&grad) {
                    *gi = v * inv_n;
                }
                v * inv_n
            }
            Err(_) => f64::INFINITY,
        }
    }
}

/// The box of the fit: [`param_bounds`], then [-LOG_BOUND, LOG_BOUND] for
/// each of `n_warp` warping parameters.
fn fit_bounds(d: usize, noise: Noise, n_warp: usize) -> Result<(Vec<f64>, Vec<f64>)> {
    let (mut lo, mut hi) = param_bounds(d, noise)?;
    lo.extend(std::iter::repeat_n(-LOG_BOUND, n_warp));
    hi.extend(std::iter::repeat_n(LOG_BOUND, n_warp));
    Ok((lo, hi))
}

impl Gp {
    /// Fits the hyperparameters by MAP (see the module docs) and returns the
    /// model. `warm_start` (a previous [`Gp::params`]) is tried first when its
    /// length fits (an unwarped one is extended by the identity warp when
    /// `config.input_warping`); `rng` draws the random starts.
    pub fn fit(
        kinds: Vec<DimKind>,
        x: Vec<f64>,
        y: &[f64],
        config: &FitConfig,
        warm_start: Option<&[f64]>,
        rng: &mut Rng,
    ) -> Result<Self> {
        let n = check_inputs(&kinds, &x, y)?;
        let d = kinds.len();
        let priors = config.priors.unwrap_or_else(|| Priors::hvarfner(d));
        let (ys, _, _) = standardise(y);
        let fixed = matches!(config.noise, Noise::Fixed(_));
        let lik = Likelihood::new(&kinds, &x, n, &ys, &priors, fixed, config.input_warping)?;
        let n_warp = lik.n_params() - (d + 2);
        let (lo, hi) = fit_bounds(d, config.noise, n_warp)?;
        let (starts, warm_given) = fit_starts(&kinds, &priors, config, warm_start, (&lo, &hi), rng);
        let objective = lik.per_observation();
        let first = if starts.len() > 1 && n > FIT_SUBSET {
            // Several starts on a random subset, then the best of their
            // winner and the warm start (by one evaluation each on all the
            // data) refined on all the data.
            let sub = fit_subset(&kinds, &x, &ys, &priors, config, &starts, rng)?;
            let mut g = vec![0.0; lo.len()];
            let warm_wins = warm_given && {
                let (a, b) = (objective(&sub, &mut g), objective(&starts[0], &mut g));
                b < a || !a.is_finite()
            };
            vec![if warm_wins { starts[0].clone() } else { sub }]
        } else {
            starts
        };
        let best = multi_start(objective, &first, Some((&lo, &hi)), &config.lbfgs)?;
        Gp::with_params(kinds, x, y, &best.x, config.noise)
    }

    /// A MAP refit on the model's current data (including appended points),
    /// warm-started from its hyperparameters; the outputs are standardised
    /// afresh.
    pub fn refit(&self, config: &FitConfig, rng: &mut Rng) -> Result<Self> {
        Gp::fit(
            self.kernel.kinds().to_vec(),
            self.x.clone(),
            &self.observations(),
            config,
            Some(&self.params()),
            rng,
        )
    }
}

/// The starts of a fit, clipped to the box (`lo`, `hi`): the warm start
/// when it fits, the prior mode (without a warm start or when
/// `config.prior_mode_start`), then `config.n_random_starts` draws from the
/// prior. Also whether the first start is the warm one.
fn fit_starts(
    kinds: &[DimKind],
    priors: &Priors,
    config: &FitConfig,
    warm_start: Option<&[f64]>,
    (lo, hi): (&[f64], &[f64]),
    rng: &mut Rng,
) -> (Vec<Vec<f64>>, bool) {
    let clip = |t: Vec<f64>| -> Vec<f64> {
        t.iter()
            .enumerate()
            .map(|(i, v)| fit_in(*v, lo[i], hi[i]))
            .collect()
    };
    let d = kinds.len();
    // The warp's parameters, identity in every start but a warm one.
    let n_warp = lo.len() - (d + 2);
    let mut starts = Vec::new();
    if let Some(w) = warm_start {
        if w.iter().all(|v| v.is_finite()) {
            if w.len() == lo.len() {
                starts.push(clip(w.to_vec()));
            } else if w.len() == d + 2 {
                let mut t = w.to_vec();
                t.resize(lo.len(), 0.0);
                starts.push(clip(t));
            }
        }
    }
    let warm_given = !starts.is_empty();
    if starts.is_empty() || config.prior_mode_start {
        let mut mode: Vec<f64> = kinds.iter().map(|&k| priors.for_kind(k).mode()).collect();
        mode.push(priors.log_signal.0);
        mode.push(priors.noise.mode());
        mode.resize(mode.len() + n_warp, 0.0);
        starts.push(clip(mode));
    }
    for _ in 0..config.n_random_starts {
        let mut draw = |(m, s): (f64, f64)| m + s * ndtri(rng.uniform());
        let mut t: Vec<f64> = kinds
            .iter()
            .map(|&k| draw(priors.for_kind(k).start_distribution()))
            .collect();
        t.push(draw(priors.log_signal));
        t.push(draw(priors.noise.start_distribution()));
        t.resize(t.len() + n_warp, 0.0);
        starts.push(clip(t));
    }
    (starts, warm_given)
}

/// The winner of a multi-start fit from `starts` on a random subset of
/// [`FIT_SUBSET`] of the observations (`x`, standardised `ys`).
fn fit_subset(
    kinds: &[DimKind],
    x: &[f64],
    ys: &[f64],
    priors: &Priors,
    config: &FitConfig,
    starts: &[Vec<f64>],
    rng: &mut Rng,
) -> Result<Vec<f64>> {
    let (n, d) = (ys.len(), kinds.len());
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..FIT_SUBSET {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let (mut xs, mut ss) = (Vec::with_capacity(FIT_SUBSET * d), Vec::new());
    for &i in &idx[..FIT_SUBSET] {
        xs.extend_from_slice(&x[i * d..(i + 1) * d]);
        ss.push(ys[i]);
    }
    let fixed = matches!(config.noise, Noise::Fixed(_));
    let lik = Likelihood::new(
        kinds,
        &xs,
        FIT_SUBSET,
        &ss,
        priors,
        fixed,
        config.input_warping,
    )?;
    let (lo, hi) = fit_bounds(d, config.noise, lik.n_params() - (d + 2))?;
    Ok(multi_start(
        lik.per_observation(),
        starts,
        Some((&lo, &hi)),
        &config.lbfgs,
    )?
    .x)
}

//! The Parzen estimator of TPE: a mixture of product kernels, one kernel per
//! observation plus a prior kernel (Bergstra et al. 2011; Watanabe 2023,
//! arXiv 2304.11127, section 3 and appendix C; numerically as Optuna 5
//! builds it):
//!
//!   p(x) = Σ_k w_k Π_j k_kj(x_j),  w_k = weight_k / Σ weights (prior: `prior_weight`).
//!
//! Numerical dimensions live in a *model space*: log-scaled for log
//! parameters, and widened by half a step on each side for stepped and
//! integer ones. Kernels there are truncated Gaussians; a stepped or integer
//! value x has the kernel's mass of the cell [x - step/2, x + step/2].
//! Bandwidths come from the gaps to the neighbouring observations (the
//! endpoints of the range count as neighbours), clipped to
//! [range / min(100, 1 + n_kernels), range] (the "magic clip"). The prior
//! kernel sits at the centre of the range with the range as its bandwidth.
//! Categorical kernels put `1 + prior_weight / K` on the observed choice and
//! `prior_weight / K` on every other one, normalised (K = observations + 1).
//!
//! Modules: `kernels` (the definition: weights, bandwidths, kernel masses),
//! `density` (`log_pdf`), `cache` (the performance caches), `update`
//! (incremental insertion and removal of observations) and, for tests,
//! `reference` (the textbook log-density the fast path is checked against).
//! This file builds an estimator and samples from it.

mod cache;
mod density;
mod kernels;
#[cfg(test)]
pub(super) mod reference;
#[cfg(test)]
mod tests;
mod update;

use std::collections::HashMap;

use super::truncnorm::truncnorm_sample;
use crate::rng::Rng;
use crate::space::{fit_in, Distribution};
use cache::{distinct_kernels, memoised_consts, OffsetTable};
use kernels::{ascending, cont_const, mixture_weights, neighbour_sigmas, prior_kernel};

pub use cache::ConstMemo;
pub(crate) use kernels::{neighbour_sigma, same_clip};

/// Estimator settings shared by all dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParzenSettings {
    /// Weight of the prior kernel (Optuna's `prior_weight`, default 1).
    pub prior_weight: f64,
    /// Clip bandwidths from below at range / min(100, 1 + n_kernels).
    pub consider_magic_clip: bool,
    /// Let the first and last observations use the gap to the range's end.
    pub consider_endpoints: bool,
}

/// One dimension of the estimator.
#[derive(Debug, Clone, PartialEq)]
enum Dim {
    /// Continuous float: precomputed per kernel mu, 1/sigma and the constant
    /// part of the log density.
    Cont {
        log: bool,
        low: f64,
        high: f64,
        mus: Vec<f64>,
        inv_sigmas: Vec<f64>,
        consts: Vec<f64>,
        sigmas: Vec<f64>,
        mlow: f64,
        mhigh: f64,
    },
    /// Stepped float or integer. Kernels on a grid repeat their (mu, sigma):
    /// `uniq` holds each distinct (mu, 1/sigma, -log mass) once and `map` sends
    /// every kernel to its entry, so densities are computed once per pair.
    Disc {
        log: bool,
        low: f64,
        high: f64,
        step: f64,
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        uniq: Vec<(f64, f64, f64)>,
        map: Vec<u32>,
        /// (mu bits, 1/sigma bits) -> entry of `uniq`; built on the first
        /// incremental update (entries no kernel uses any more stay).
        index: HashMap<(u64, u64), u32>,
        mlow: f64,
        mhigh: f64,
        /// Set on linear scales with a small enough grid: see [`OffsetTable`].
        table: Option<Box<OffsetTable>>,
    },
    /// Categorical: `obs[k]` is the observed choice of kernel k (the prior
    /// kernel has none).
    Cat {
        n: usize,
        obs: Vec<usize>,
        /// `obs` as floats, for a vectorisable comparison in `log_pdf`.
        obs_f: Vec<f64>,
        log_hit: f64,
        log_miss: f64,
        log_prior: f64,
        cum_hit: f64,
        cum_miss: f64,
    },
}

/// A fitted Parzen estimator over a fixed list of distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Parzen {
    log_weights: Vec<f64>,
    cum_weights: Vec<f64>,
    dims: Vec<Dim>,
    /// Indices of the stepped dimensions without an offset table, whose
    /// terms need the normal CDF kernel by kernel.
    disc: Vec<usize>,
}

/// Stepped dimensions whose terms `log_pdf` computes kernel by kernel (those
/// without an [`OffsetTable`]).
fn stepped_without_table(dims: &[Dim]) -> Vec<usize> {
    (0..dims.len())
        .filter(|&j| matches!(dims[j], Dim::Disc { table: None, .. }))
        .collect()
}

/// Per continuous dimension, what the constants memo needs: the observation
/// id of each row, and the dimension's memo.
type DimMemo<'a> = Option<(&'a [usize], &'a mut ConstMemo)>;

impl Parzen {
    /// Fits an estimator. `obs` is row-major, one row of internal values per
    /// observation (all inside their distributions); `weights` has one
    /// non-negative weight per observation.
    pub fn new(dists: &[Distribution], obs: &[f64], weights: &[f64], s: &ParzenSettings) -> Self {
        Self::with_orders(dists, obs, weights, s, None, None)
    }

    /// As [`Parzen::new`], with the rows of `obs` already ordered by each
    /// dimension's value (`orders[j]`), which saves the sorts, and with a
    /// memo of continuous kernel constants per dimension (`memo`: the
    /// observation id of each row, and one [`ConstMemo`] per dimension).
    pub fn with_orders(
        dists: &[Distribution],
        obs: &[f64],
        weights: &[f64],
        s: &ParzenSettings,
        orders: Option<&[Vec<u32>]>,
        mut memo: Option<(&[usize], &mut [ConstMemo])>,
    ) -> Self {
        let d = dists.len();
        let n = obs.len().checked_div(d).unwrap_or(0);
        let (log_weights, cum_weights) = mixture_weights(weights, n, s);
        let mut dims: Vec<Dim> = Vec::with_capacity(d);
        for (j, dist) in dists.iter().enumerate() {
            let col: Vec<f64> = (0..n).map(|i| obs[i * d + j]).collect();
            // The rows in ascending order of `values` (given, or sorted).
            let order_of = |values: &[f64]| match orders {
                Some(o) => o[j].clone(),
                None => ascending(values),
            };
            dims.push(match *dist {
                Distribution::Categorical { n: n_choices } => Dim::categorical(col, n_choices, s),
                Distribution::Float {
                    low,
                    high,
                    step: None,
                    log,
                } => {
                    let dim_memo = memo.as_mut().map(|(ids, m)| (*ids, &mut m[j]));
                    Dim::continuous(col, order_of, low, high, log, s, dim_memo)
                }
                Distribution::Float {
                    low,
                    high,
                    step: Some(step),
                    log,
                } => {
                    let order = order_of(&col);
                    Dim::stepped(col, &order, low, high, step, log, s)
                }
                Distribution::Int {
                    low,
                    high,
                    step,
                    log,
                } => {
                    let order = order_of(&col);
                    Dim::stepped(col, &order, low as f64, high as f64, step as f64, log, s)
                }
            });
        }
        let disc = stepped_without_table(&dims);
        Parzen {
            log_weights,
            cum_weights,
            dims,
            disc,
        }
    }

    /// Number of kernels (observations + prior).
    pub fn n_kernels(&self) -> usize {
        self.log_weights.len()
    }

    /// Number of observations (kernels but the prior).
    pub(crate) fn n_obs(&self) -> usize {
        self.log_weights.len() - 1
    }

    /// Model-space bounds of dimension `j` (None for a categorical one).
    pub(crate) fn model_bounds(&self, j: usize) -> Option<(f64, f64)> {
        match &self.dims[j] {
            Dim::Cont { mlow, mhigh, .. } | Dim::Disc { mlow, mhigh, .. } => Some((*mlow, *mhigh)),
            Dim::Cat { .. } => None,
        }
    }

    /// The model-space value of internal value `v` in dimension `j`.
    pub(crate) fn to_model(&self, j: usize, v: f64) -> f64 {
        match &self.dims[j] {
            Dim::Cont { log: true, .. } | Dim::Disc { log: true, .. } => v.ln(),
            _ => v,
        }
    }

    /// Draws `size` points (row-major internal values) from the mixture: per
    /// point a kernel by its weight, then one value per dimension from it.
    pub fn sample(&self, rng: &mut Rng, size: usize) -> Vec<f64> {
        let d = self.dims.len();
        let mut out = vec![0.0; size * d];
        let prior = self.n_kernels() - 1;
        for i in 0..size {
            let u = rng.uniform();
            let k = self
                .cum_weights
                .iter()
                .position(|&c| u < c)
                .unwrap_or(prior);
            for (j, dim) in self.dims.iter().enumerate() {
                out[i * d + j] = dim.sample(rng, k);
            }
        }
        out
    }

    /// The log density term of dimension `j` for kernel `kk` at value `v`,
    /// computed directly from the fitted kernel.
    #[cfg(test)]
    fn term(&self, j: usize, kk: usize, v: f64) -> f64 {
        match &self.dims[j] {
            Dim::Cont {
                log,
                mus,
                inv_sigmas,
                consts,
                ..
            } => {
                let v = if *log { v.ln() } else { v };
                let z = (v - mus[kk]) * inv_sigmas[kk];
                consts[kk] - 0.5 * z * z
            }
            Dim::Cat {
                obs,
                log_hit,
                log_miss,
                log_prior,
                ..
            } => match obs.get(kk) {
                Some(&o) if o == v as usize => *log_hit,
                Some(_) => *log_miss,
                None => *log_prior,
            },
            Dim::Disc { .. } => self.disc_term(j, kk, v),
        }
    }
}

impl Dim {
    /// A categorical dimension with observed choices `col`.
    fn categorical(col: Vec<f64>, n_choices: usize, s: &ParzenSettings) -> Dim {
        let n_obs = col.len();
        let mut dim = Dim::Cat {
            n: n_choices,
            obs: col.iter().map(|&v| v as usize).collect(),
            obs_f: col,
            log_hit: 0.0,
            log_miss: 0.0,
            log_prior: -(n_choices as f64).ln(),
            cum_hit: 0.0,
            cum_miss: 0.0,
        };
        dim.set_cat_masses(n_obs, s);
        dim
    }

    /// A continuous dimension on [low, high] with observations `col`;
    /// `order_of` orders model-space values ascending.
    fn continuous(
        col: Vec<f64>,
        order_of: impl Fn(&[f64]) -> Vec<u32>,
        low: f64,
        high: f64,
        log: bool,
        s: &ParzenSettings,
        memo: DimMemo<'_>,
    ) -> Dim {
        let (mlow, mhigh) = if log {
            (low.ln(), high.ln())
        } else {
            (low, high)
        };
        let mut mus: Vec<f64> = col
            .into_iter()
            .map(|v| if log { v.ln() } else { v })
            .collect();
        let order = order_of(&mus);
        let mut sigmas = neighbour_sigmas(&mus, &order, mlow, mhigh, s);
        let (pm, ps) = prior_kernel(mlow, mhigh);
        mus.push(pm);
        sigmas.push(ps);
        let constant = |m: f64, sg: f64| cont_const(m, sg, mlow, mhigh);
        let consts = match memo {
            // Observations keep their (mu, sigma) from one ask to the next,
            // mostly: reuse the constant when both match.
            Some((ids, mm)) => memoised_consts(&mus, &sigmas, ids, mm, constant),
            None => mus
                .iter()
                .zip(&sigmas)
                .map(|(&m, &sg)| constant(m, sg))
                .collect(),
        };
        Dim::Cont {
            log,
            low,
            high,
            inv_sigmas: sigmas.iter().map(|x| 1.0 / x).collect(),
            mus,
            consts,
            sigmas,
            mlow,
            mhigh,
        }
    }

    /// A stepped (float with a step, or integer) dimension with observations
    /// `obs`, ordered ascending by `order`.
    fn stepped(
        obs: Vec<f64>,
        order: &[u32],
        low: f64,
        high: f64,
        step: f64,
        log: bool,
        s: &ParzenSettings,
    ) -> Dim {
        let (alow, ahigh) = (low - step / 2.0, high + step / 2.0);
        let (mlow, mhigh) = if log {
            (alow.ln(), ahigh.ln())
        } else {
            (alow, ahigh)
        };
        let mut mus: Vec<f64> = obs
            .into_iter()
            .map(|v| if log { v.ln() } else { v })
            .collect();
        let mut sigmas = neighbour_sigmas(&mus, order, mlow, mhigh, s);
        let (pm, ps) = prior_kernel(mlow, mhigh);
        mus.push(pm);
        sigmas.push(ps);
        let (uniq, map) = distinct_kernels(&mus, &sigmas, order, mlow, mhigh);
        let table = if log {
            None
        } else {
            let nlm: Vec<f64> = map.iter().map(|&u| uniq[u as usize].2).collect();
            OffsetTable::build(&mus, &sigmas, &nlm, low, high, step).map(Box::new)
        };
        Dim::Disc {
            log,
            low,
            high,
            step,
            mus,
            sigmas,
            uniq,
            map,
            index: HashMap::new(),
            mlow,
            mhigh,
            table,
        }
    }

    /// One value (internal representation) from kernel `k` of this dimension.
    fn sample(&self, rng: &mut Rng, k: usize) -> f64 {
        match self {
            Dim::Cont {
                log,
                low,
                high,
                mus,
                sigmas,
                mlow,
                mhigh,
                ..
            } => {
                let v = truncnorm_sample(rng, mus[k], sigmas[k], *mlow, *mhigh);
                let v = if *log { v.exp() } else { v };
                fit_in(v, *low, *high)
            }
            Dim::Disc {
                log,
                low,
                high,
                step,
                mus,
                sigmas,
                mlow,
                mhigh,
                ..
            } => {
                let v = truncnorm_sample(rng, mus[k], sigmas[k], *mlow, *mhigh);
                let v = if *log { v.exp() } else { v };
                fit_in(low + ((v - low) / step).round() * step, *low, *high)
            }
            Dim::Cat {
                n,
                obs,
                cum_hit,
                cum_miss,
                ..
            } => {
                let u = rng.uniform();
                match obs.get(k) {
                    None => ((u * *n as f64) as usize).min(n - 1) as f64,
                    // Walk the row: `cum_miss` for each choice, plus
                    // `cum_hit - cum_miss` extra at the observed one.
                    Some(&o) => {
                        let mut acc = 0.0;
                        for c in 0..*n {
                            acc += if c == o { *cum_hit } else { *cum_miss };
                            if u < acc {
                                return c as f64;
                            }
                        }
                        (n - 1) as f64
                    }
                }
            }
        }
    }
}

//! The Parzen estimator of TPE: a mixture of product kernels, one kernel per
//! observation plus a prior kernel (Bergstra et al. 2011; Watanabe 2023,
//! arXiv 2304.11127, sections 3-4; numerically as Optuna 5 builds it).
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

use super::truncnorm::{log_gauss_mass, truncnorm_sample, HALF_LN_2PI};
use crate::rng::Rng;
use crate::space::Distribution;

/// Estimator settings shared by all dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParzenSettings {
    pub prior_weight: f64,
    pub consider_magic_clip: bool,
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
        mlow: f64,
        mhigh: f64,
    },
    /// Categorical: `obs[k]` is the observed choice of kernel k (the prior
    /// kernel has none).
    Cat {
        n: usize,
        obs: Vec<usize>,
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
}

/// An integer key that sorts like the float (total order).
#[inline]
pub(crate) fn sort_key(f: f64) -> u64 {
    let b = f.to_bits();
    if b >> 63 == 1 {
        !b
    } else {
        b | (1 << 63)
    }
}

/// Kernels whose log density is this far below the best one's contribute
/// less than e^-40 (4e-18) of the mixture: they are left out of sums.
const NEGLIGIBLE: f64 = 40.0;

/// Bandwidths from neighbour gaps, as Optuna's `compute_sigmas`.
fn neighbour_sigmas(mus: &[f64], low: f64, high: f64, s: &ParzenSettings) -> Vec<f64> {
    let n = mus.len();
    let mut keys: Vec<(u64, u32)> = mus
        .iter()
        .enumerate()
        .map(|(i, &m)| (sort_key(m), i as u32))
        .collect();
    keys.sort_unstable();
    let order: Vec<usize> = keys.iter().map(|p| p.1 as usize).collect();
    let mut ext = Vec::with_capacity(n + 2);
    ext.push(low);
    ext.extend(order.iter().map(|&i| mus[i]));
    ext.push(high);
    let mut sorted: Vec<f64> = (1..=n)
        .map(|i| (ext[i] - ext[i - 1]).max(ext[i + 1] - ext[i]))
        .collect();
    if !s.consider_endpoints && ext.len() >= 4 {
        sorted[0] = ext[2] - ext[1];
        sorted[n - 1] = ext[n] - ext[n - 1];
    }
    let range = high - low;
    let max_sigma = range;
    let min_sigma = if s.consider_magic_clip {
        range / (100.0f64).min(1.0 + (n + 1) as f64)
    } else {
        1e-12
    };
    let mut sigmas = vec![0.0; n];
    for (j, &i) in order.iter().enumerate() {
        sigmas[i] = sorted[j].clamp(min_sigma, max_sigma);
    }
    sigmas
}

impl Parzen {
    /// Fits an estimator. `obs` is row-major, one row of internal values per
    /// observation (all inside their distributions); `weights` has one
    /// non-negative weight per observation.
    pub fn new(dists: &[Distribution], obs: &[f64], weights: &[f64], s: &ParzenSettings) -> Self {
        let d = dists.len();
        let n = obs.len().checked_div(d).unwrap_or(0);
        let mut w: Vec<f64> = if n == 0 {
            vec![1.0]
        } else {
            let mut w = weights.to_vec();
            w.push(s.prior_weight);
            w
        };
        let total: f64 = w.iter().sum();
        w.iter_mut().for_each(|x| *x /= total);
        let log_weights = w.iter().map(|x| x.ln()).collect();
        let mut acc = 0.0;
        let cum_weights = w
            .iter()
            .map(|x| {
                acc += x;
                acc
            })
            .collect();
        let col = |j: usize| (0..n).map(move |i| obs[i * d + j]);
        let dims = dists
            .iter()
            .enumerate()
            .map(|(j, dist)| match *dist {
                Distribution::Categorical { n: n_choices } => {
                    let k = (n + 1) as f64;
                    let fill = s.prior_weight / k;
                    let row = 1.0 + fill * n_choices as f64;
                    Dim::Cat {
                        n: n_choices,
                        obs: col(j).map(|v| v as usize).collect(),
                        log_hit: ((1.0 + fill) / row).ln(),
                        log_miss: (fill / row).ln(),
                        log_prior: -(n_choices as f64).ln(),
                        cum_hit: (1.0 + fill) / row,
                        cum_miss: fill / row,
                    }
                }
                Distribution::Float {
                    low,
                    high,
                    step: None,
                    log,
                } => {
                    let (mlow, mhigh) = if log {
                        (low.ln(), high.ln())
                    } else {
                        (low, high)
                    };
                    let mut mus: Vec<f64> = col(j).map(|v| if log { v.ln() } else { v }).collect();
                    let mut sigmas = neighbour_sigmas(&mus, mlow, mhigh, s);
                    mus.push(0.5 * (mlow + mhigh));
                    sigmas.push(mhigh - mlow);
                    let consts = mus
                        .iter()
                        .zip(&sigmas)
                        .map(|(&m, &sg)| {
                            -HALF_LN_2PI
                                - sg.ln()
                                - log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg)
                        })
                        .collect();
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
                Distribution::Float {
                    low,
                    high,
                    step: Some(step),
                    log,
                } => Self::disc(col(j).collect(), low, high, step, log, s),
                Distribution::Int {
                    low,
                    high,
                    step,
                    log,
                } => Self::disc(
                    col(j).collect(),
                    low as f64,
                    high as f64,
                    step as f64,
                    log,
                    s,
                ),
            })
            .collect();
        Parzen {
            log_weights,
            cum_weights,
            dims,
        }
    }

    fn disc(obs: Vec<f64>, low: f64, high: f64, step: f64, log: bool, s: &ParzenSettings) -> Dim {
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
        let mut sigmas = neighbour_sigmas(&mus, mlow, mhigh, s);
        mus.push(0.5 * (mlow + mhigh));
        sigmas.push(mhigh - mlow);
        let mut keyed: Vec<(u64, u64, u32)> = mus
            .iter()
            .zip(&sigmas)
            .enumerate()
            .map(|(i, (&m, &sg))| (sort_key(m), sort_key(sg), i as u32))
            .collect();
        keyed.sort_unstable();
        let order: Vec<usize> = keyed.iter().map(|p| p.2 as usize).collect();
        let mut uniq: Vec<(f64, f64, f64)> = Vec::new();
        let mut map = vec![0u32; mus.len()];
        let mut last: Option<(f64, f64)> = None;
        for &k in &order {
            let (m, sg) = (mus[k], sigmas[k]);
            if last != Some((m, sg)) {
                let nlm = -log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg);
                uniq.push((m, 1.0 / sg, nlm));
                last = Some((m, sg));
            }
            map[k] = (uniq.len() - 1) as u32;
        }
        Dim::Disc {
            log,
            low,
            high,
            step,
            mus,
            sigmas,
            uniq,
            map,
            mlow,
            mhigh,
        }
    }

    /// Number of kernels (observations + prior).
    pub fn n_kernels(&self) -> usize {
        self.log_weights.len()
    }

    /// Draws `size` points (row-major internal values) from the mixture.
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
                out[i * d + j] = match dim {
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
                        v.clamp(*low, *high)
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
                        (low + ((v - low) / step).round() * step).clamp(*low, *high)
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
                            Some(&o) => {
                                // Walk the row: `cum_miss` for each choice, plus
                                // `cum_hit - cum_miss` extra at the observed one.
                                let mut acc = 0.0;
                                let mut pick = n - 1;
                                for c in 0..*n {
                                    acc += if c == o { *cum_hit } else { *cum_miss };
                                    if u < acc {
                                        pick = c;
                                        break;
                                    }
                                }
                                pick as f64
                            }
                        }
                    }
                };
            }
        }
        out
    }

    /// log density of each of the row-major points `x`.
    ///
    /// Continuous and categorical dimensions are summed for every kernel
    /// first. Stepped and integer dimensions (whose cell masses need the
    /// normal CDF) only add non-positive terms, so a kernel already
    /// [`NEGLIGIBLE`] below the best fully evaluated kernel is dropped before
    /// they are computed; the masses themselves are cached per distinct value
    /// and distinct (mu, sigma).
    pub fn log_pdf(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dims.len();
        let m = x.len().checked_div(d).unwrap_or(0);
        let k = self.n_kernels();
        let disc: Vec<usize> = (0..d)
            .filter(|&j| matches!(self.dims[j], Dim::Disc { .. }))
            .collect();
        // Per stepped dimension: distinct candidate values and a lazily filled
        // table of cell log masses (value x distinct kernel), NaN = not yet.
        let mut caches: Vec<(Vec<f64>, Vec<f64>)> =
            disc.iter().map(|_| (Vec::new(), Vec::new())).collect();
        let mut acc = vec![0.0; k];
        let mut out = Vec::with_capacity(m);
        for i in 0..m {
            acc.copy_from_slice(&self.log_weights);
            for (j, dim) in self.dims.iter().enumerate() {
                match dim {
                    Dim::Cont {
                        log,
                        mus,
                        inv_sigmas,
                        consts,
                        ..
                    } => {
                        let v = x[i * d + j];
                        let v = if *log { v.ln() } else { v };
                        for (((a, &mu), &inv), &c) in
                            acc.iter_mut().zip(mus).zip(inv_sigmas).zip(consts)
                        {
                            let z = (v - mu) * inv;
                            *a += c - 0.5 * z * z;
                        }
                    }
                    Dim::Cat {
                        obs,
                        log_hit,
                        log_miss,
                        log_prior,
                        ..
                    } => {
                        let c = x[i * d + j] as usize;
                        for (a, &o) in acc.iter_mut().zip(obs) {
                            *a += if o == c { *log_hit } else { *log_miss };
                        }
                        acc[k - 1] += log_prior;
                    }
                    Dim::Disc { .. } => {}
                }
            }
            if !disc.is_empty() {
                // Rows of the caches for this point's values.
                let rows: Vec<usize> = disc
                    .iter()
                    .zip(caches.iter_mut())
                    .map(|(&j, (vals, table))| {
                        let v = x[i * d + j];
                        match vals.iter().position(|&u| u == v) {
                            Some(r) => r,
                            None => {
                                let n_uniq = match &self.dims[j] {
                                    Dim::Disc { uniq, .. } => uniq.len(),
                                    _ => 0,
                                };
                                vals.push(v);
                                table.extend(std::iter::repeat_n(f64::NAN, n_uniq));
                                vals.len() - 1
                            }
                        }
                    })
                    .collect();
                let term = |kk: usize, caches: &mut Vec<(Vec<f64>, Vec<f64>)>| -> f64 {
                    let mut t = 0.0;
                    for (c, &j) in disc.iter().enumerate() {
                        if let Dim::Disc {
                            log,
                            step,
                            uniq,
                            map,
                            ..
                        } = &self.dims[j]
                        {
                            let u = map[kk] as usize;
                            let (vals, table) = &mut caches[c];
                            let cell = &mut table[rows[c] * uniq.len() + u];
                            if cell.is_nan() {
                                let v = vals[rows[c]];
                                let (l, r) = (v - step / 2.0, v + step / 2.0);
                                let (l, r) = if *log { (l.ln(), r.ln()) } else { (l, r) };
                                let (mu, inv, nlm) = uniq[u];
                                *cell = log_gauss_mass((l - mu) * inv, (r - mu) * inv) + nlm;
                            }
                            t += *cell;
                        }
                    }
                    t
                };
                let best = (0..k).fold(0, |b, kk| if acc[kk] > acc[b] { kk } else { b });
                let best_full = acc[best] + term(best, &mut caches);
                let cutoff = best_full - NEGLIGIBLE;
                for kk in 0..k {
                    if kk == best {
                        acc[kk] = best_full;
                    } else if acc[kk] < cutoff {
                        acc[kk] = f64::NEG_INFINITY;
                    } else {
                        acc[kk] += term(kk, &mut caches);
                    }
                }
            }
            out.push(log_sum_exp_pruned(&acc));
        }
        out
    }
}

/// log(Σ exp(v)) leaving out terms [`NEGLIGIBLE`] below the largest.
fn log_sum_exp_pruned(v: &[f64]) -> f64 {
    let mx = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if mx == f64::NEG_INFINITY {
        return mx;
    }
    let floor = mx - NEGLIGIBLE;
    let mut sum = 0.0;
    for &x in v {
        if x > floor {
            sum += (x - mx).exp();
        }
    }
    mx + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: ParzenSettings = ParzenSettings {
        prior_weight: 1.0,
        consider_magic_clip: true,
        consider_endpoints: false,
    };

    fn integrate_1d(p: &Parzen, low: f64, high: f64) -> f64 {
        let n = 20_000;
        let h = (high - low) / n as f64;
        let xs: Vec<f64> = (0..n).map(|i| low + (i as f64 + 0.5) * h).collect();
        p.log_pdf(&xs).iter().map(|l| l.exp() * h).sum()
    }

    #[test]
    fn continuous_density_integrates_to_one() {
        let d = [Distribution::float("x", -1.0, 3.0, None, false).unwrap()];
        let p = Parzen::new(&d, &[0.0, 0.1, 2.5], &[1.0, 1.0, 1.0], &S);
        assert_eq!(p.n_kernels(), 4);
        assert!((integrate_1d(&p, -1.0, 3.0) - 1.0).abs() < 1e-6);
    }

    #[test]
    fn discrete_masses_sum_to_one() {
        for d in [
            Distribution::int("n", 1, 20, 1, false).unwrap(),
            Distribution::int("n", 1, 64, 1, true).unwrap(),
            Distribution::float("s", 0.0, 1.0, Some(0.1), false).unwrap(),
        ] {
            let pts: Vec<f64> = (0..d.cardinality().unwrap())
                .map(|k| d.discrete_value(k))
                .collect();
            let obs = [pts[1], pts[2], pts[pts.len() - 1]];
            let p = Parzen::new(std::slice::from_ref(&d), &obs, &[1.0; 3], &S);
            let total: f64 = p.log_pdf(&pts).iter().map(|l| l.exp()).sum();
            assert!((total - 1.0).abs() < 1e-9, "{d:?} {total}");
            let mut rng = Rng::new(4);
            for v in p.sample(&mut rng, 500) {
                assert!(d.contains(v), "{d:?} {v}");
            }
        }
    }

    #[test]
    fn categorical_probabilities_sum_to_one_and_favour_observations() {
        let d = [Distribution::categorical("c", 4).unwrap()];
        let p = Parzen::new(&d, &[2.0, 2.0, 1.0], &[1.0; 3], &S);
        let probs: Vec<f64> = p
            .log_pdf(&[0.0, 1.0, 2.0, 3.0])
            .iter()
            .map(|l| l.exp())
            .collect();
        assert!((probs.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(probs[2] > probs[1] && probs[1] > probs[0]);
        let mut rng = Rng::new(1);
        let draws = p.sample(&mut rng, 40_000);
        let freq2 = draws.iter().filter(|v| **v == 2.0).count() as f64 / 40_000.0;
        assert!((freq2 - probs[2]).abs() < 0.01, "{freq2} {}", probs[2]);
    }

    #[test]
    fn samples_concentrate_near_observations() {
        let d = [Distribution::float("x", 0.0, 100.0, None, false).unwrap()];
        // 60 observations in [45, 55]: the magic clip allows bandwidths down to
        // 100 / 61, so nearly all mass but the prior's 1/61 stays near 50.
        let obs: Vec<f64> = (0..60).map(|i| 45.0 + i as f64 / 6.0).collect();
        let p = Parzen::new(&d, &obs, &[1.0; 60], &S);
        let mut rng = Rng::new(2);
        let s = p.sample(&mut rng, 2000);
        let near = s.iter().filter(|v| (**v - 50.0).abs() < 10.0).count();
        assert!(near > 1800, "{near}");
        assert!(s.iter().all(|v| (0.0..=100.0).contains(v)));
    }
}

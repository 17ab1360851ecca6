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
use crate::space::{fit_in, Distribution};

/// Estimator settings shared by all dimensions.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ParzenSettings {
    pub prior_weight: f64,
    pub consider_magic_clip: bool,
    pub consider_endpoints: bool,
}

/// Per observation id, the (mu bits, sigma bits, constant) of its kernel in a
/// continuous dimension the last time it was computed.
pub type ConstMemo = Vec<(u64, u64, f64)>;

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
        index: std::collections::HashMap<(u64, u64), u32>,
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

/// On a linear-scale grid, a kernel's log mass of the cell around a value
/// depends only on the kernel's bandwidth and on the offset from its centre
/// to the value, a whole number of half steps (the prior kernel sits on a half
/// step when the grid has an even number of points). Kernels on a grid share
/// few bandwidths (repeated values get the clipped minimum) and few centres,
/// so `log_pdf` evaluates each distinct (bandwidth, centre) pair once per
/// point, from masses cached by (bandwidth, offset), and adds them to the
/// kernels by a gather: no normal CDF per kernel. An accelerator: `uniq` and
/// `map` stay valid beside it.
#[derive(Debug, Clone, PartialEq)]
struct OffsetTable {
    /// Per kernel: its entry in `pairs`.
    pid: Vec<u32>,
    /// Distinct (entry in `inv`, 2 (mu - low) / step, minus the log of the
    /// kernel's mass on the widened range). Entries no kernel uses any more
    /// stay until the table is rebuilt.
    pairs: Vec<(u32, i32, f64)>,
    pair_ids: std::collections::HashMap<(u32, i32), u32>,
    /// Distinct 1 / sigma, and their entries by sigma's bits.
    inv: Vec<f64>,
    ids: std::collections::HashMap<u64, u32>,
    /// Offsets in half steps run over [-half, half]; half = 2 (points - 1).
    half: i32,
    low: f64,
    step: f64,
    /// Cell log masses by (entry in `inv`, offset), computed on first use and
    /// kept with the table (a kept estimator reuses them from ask to ask).
    masses: MassCache,
}

/// Per bandwidth, a row of cell log masses by offset (NaN: not computed yet;
/// an empty row: none yet). Behind a mutex so that `log_pdf` can fill it
/// through a shared reference; a cache, so clones copy it and comparisons
/// ignore it.
#[derive(Debug, Default)]
struct MassCache(std::sync::Mutex<Vec<Vec<f64>>>);

impl MassCache {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<f64>>> {
        // A poisoned cache only holds finished entries: keep using it.
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Clone for MassCache {
    fn clone(&self) -> Self {
        MassCache(std::sync::Mutex::new(self.lock().clone()))
    }
}

impl PartialEq for MassCache {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

/// Grids with more points than this use the per-value cache only.
const MAX_TABLE_POINTS: f64 = 1024.0;
/// Cached cell masses per table at most (bandwidths x offsets, 16 MiB): past
/// it the dimension falls back to the per-value cache.
const MAX_TABLE_ENTRIES: usize = 1 << 21;

impl OffsetTable {
    /// A table for kernels (mus, sigmas) with minus log masses `nlm`.
    fn build(
        mus: &[f64],
        sigmas: &[f64],
        nlm: &[f64],
        low: f64,
        high: f64,
        step: f64,
    ) -> Option<Self> {
        let points = ((high - low) / step).round() + 1.0;
        if !(points.is_finite() && points <= MAX_TABLE_POINTS) {
            return None;
        }
        let mut t = OffsetTable {
            pid: vec![0; mus.len()],
            pairs: Vec::new(),
            pair_ids: std::collections::HashMap::new(),
            inv: Vec::new(),
            ids: std::collections::HashMap::new(),
            half: 2 * (points as i32 - 1),
            low,
            step,
            masses: MassCache::default(),
        };
        for k in 0..mus.len() {
            t.set(k, mus[k], sigmas[k], nlm[k])?;
        }
        Some(t)
    }

    /// Position of grid value `v` in half steps, if it is one.
    #[inline]
    fn index(&self, v: f64) -> Option<i32> {
        let t = 2.0 * (v - self.low) / self.step;
        let r = t.round();
        ((t - r).abs() <= 1e-6 && r >= 0.0 && r <= self.half as f64).then_some(r as i32)
    }

    /// Points kernel `k` to the pair of (mu, sg); None when mu is off the grid
    /// or the table would outgrow [`MAX_TABLE_ENTRIES`].
    fn set(&mut self, k: usize, mu: f64, sg: f64, nlm: f64) -> Option<()> {
        let m2 = self.index(mu)?;
        if self.inv.len() * self.width() > MAX_TABLE_ENTRIES {
            return None;
        }
        let inv = &mut self.inv;
        let sid = *self.ids.entry(sg.to_bits()).or_insert_with(|| {
            inv.push(1.0 / sg);
            (inv.len() - 1) as u32
        });
        let pairs = &mut self.pairs;
        self.pid[k] = *self.pair_ids.entry((sid, m2)).or_insert_with(|| {
            pairs.push((sid, m2, nlm));
            (pairs.len() - 1) as u32
        });
        Some(())
    }

    /// Width of a cache row: every offset.
    fn width(&self) -> usize {
        2 * self.half as usize + 1
    }
}

/// A fitted Parzen estimator over a fixed list of distributions.
#[derive(Debug, Clone, PartialEq)]
pub struct Parzen {
    log_weights: Vec<f64>,
    cum_weights: Vec<f64>,
    dims: Vec<Dim>,
    /// Indices of the stepped dimensions, whose terms need the normal CDF.
    disc: Vec<usize>,
}

use crate::history::sort_key;

/// Kernels whose log density is this far below the best one's contribute
/// less than e^-40 (4e-18) of the mixture: they are left out of sums.
const NEGLIGIBLE: f64 = 40.0;

/// Positions of `mus` in ascending order.
fn ascending(mus: &[f64]) -> Vec<u32> {
    let mut keys: Vec<(u64, u32)> = mus
        .iter()
        .enumerate()
        .map(|(i, &m)| (sort_key(m), i as u32))
        .collect();
    keys.sort_unstable();
    keys.into_iter().map(|p| p.1).collect()
}

/// The bandwidth of an observation at `v` whose neighbours in ascending order
/// are `prev` and `next` (`low` / `high` at the ends), among `n` observations:
/// the larger gap, except that the first and last observations take their
/// inner gap unless `consider_endpoints`; then the magic clip. The one formula
/// behind [`neighbour_sigmas`] and the incremental updates, so both agree to
/// the bit.
#[inline]
pub(crate) fn neighbour_sigma(
    prev: f64,
    v: f64,
    next: f64,
    pos: usize,
    n: usize,
    low: f64,
    high: f64,
    s: &ParzenSettings,
) -> f64 {
    let raw = if !s.consider_endpoints && n >= 2 && pos == 0 {
        next - v
    } else if !s.consider_endpoints && n >= 2 && pos == n - 1 {
        v - prev
    } else {
        (v - prev).max(next - v)
    };
    let range = high - low;
    let min_sigma = if s.consider_magic_clip {
        range / (100.0f64).min(1.0 + (n + 1) as f64)
    } else {
        1e-12
    };
    fit_in(raw, min_sigma, range).max(f64::MIN_POSITIVE)
}

/// True when the magic clip's lower bound is the same for `a` and `b`
/// observations, so bandwidths away from a change keep their values.
pub(crate) fn same_clip(a: usize, b: usize, s: &ParzenSettings) -> bool {
    !s.consider_magic_clip || a == b || (a >= 99 && b >= 99)
}

/// Constant part of a continuous kernel's log density on [mlow, mhigh].
#[inline]
fn cont_const(m: f64, sg: f64, mlow: f64, mhigh: f64) -> f64 {
    -HALF_LN_2PI - sg.ln() - log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg)
}

/// Bandwidths from neighbour gaps, as Optuna's `compute_sigmas`; `order`
/// lists the positions of `mus` in ascending order.
fn neighbour_sigmas(
    mus: &[f64],
    order: &[u32],
    low: f64,
    high: f64,
    s: &ParzenSettings,
) -> Vec<f64> {
    let n = mus.len();
    let mut sigmas = vec![0.0; n];
    for (j, &i) in order.iter().enumerate() {
        let prev = if j == 0 {
            low
        } else {
            mus[order[j - 1] as usize]
        };
        let next = if j + 1 == n {
            high
        } else {
            mus[order[j + 1] as usize]
        };
        sigmas[i as usize] = neighbour_sigma(prev, mus[i as usize], next, j, n, low, high, s);
    }
    sigmas
}

/// Stepped dimensions whose terms `log_pdf` computes kernel by kernel (those
/// without an [`OffsetTable`]).
fn stepped_without_table(dims: &[Dim]) -> Vec<usize> {
    (0..dims.len())
        .filter(|&j| matches!(dims[j], Dim::Disc { table: None, .. }))
        .collect()
}

/// Normalised log weights and their cumulative sums for `n` observations
/// (`weights[..n]`) plus the prior kernel.
fn mixture_weights(weights: &[f64], n: usize, s: &ParzenSettings) -> (Vec<f64>, Vec<f64>) {
    let mut w: Vec<f64> = if n == 0 {
        vec![1.0]
    } else {
        let mut w = weights[..n].to_vec();
        w.push(s.prior_weight);
        w
    };
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|x| *x /= total);
    let log_weights: Vec<f64> = w.iter().map(|x| x.ln()).collect();
    let mut acc = 0.0;
    let cum_weights = w
        .iter()
        .map(|x| {
            acc += x;
            acc
        })
        .collect();
    (log_weights, cum_weights)
}

impl Dim {
    /// A categorical kernel's masses with `n` observations: `1 + prior_weight
    /// / K` on its choice and `prior_weight / K` elsewhere, normalised (K =
    /// n + 1 kernels).
    fn set_cat_masses(&mut self, n_obs: usize, s: &ParzenSettings) {
        if let Dim::Cat {
            n,
            log_hit,
            log_miss,
            cum_hit,
            cum_miss,
            ..
        } = self
        {
            let fill = s.prior_weight / (n_obs + 1) as f64;
            let row = 1.0 + fill * *n as f64;
            *log_hit = ((1.0 + fill) / row).ln();
            *log_miss = (fill / row).ln();
            *cum_hit = (1.0 + fill) / row;
            *cum_miss = fill / row;
        }
    }
}

impl Parzen {
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

    /// Inserts observation `x` (internal values, one per dimension) as kernel
    /// `row`. Its bandwidths are placeholders until [`Parzen::set_sigma`] is
    /// called for every continuous and stepped dimension; weights and
    /// categorical masses until [`Parzen::finish_update`].
    pub(crate) fn insert_obs(&mut self, row: usize, x: &[f64]) {
        for (j, dim) in self.dims.iter_mut().enumerate() {
            match dim {
                Dim::Cont {
                    log,
                    mus,
                    inv_sigmas,
                    consts,
                    sigmas,
                    ..
                } => {
                    mus.insert(row, if *log { x[j].ln() } else { x[j] });
                    sigmas.insert(row, f64::NAN);
                    inv_sigmas.insert(row, f64::NAN);
                    consts.insert(row, f64::NAN);
                }
                Dim::Disc {
                    log,
                    mus,
                    sigmas,
                    map,
                    table,
                    ..
                } => {
                    mus.insert(row, if *log { x[j].ln() } else { x[j] });
                    sigmas.insert(row, f64::NAN);
                    map.insert(row, 0);
                    if let Some(tb) = table {
                        tb.pid.insert(row, u32::MAX);
                    }
                }
                Dim::Cat { obs, obs_f, .. } => {
                    obs.insert(row, x[j] as usize);
                    obs_f.insert(row, x[j]);
                }
            }
        }
        self.log_weights.insert(row, f64::NAN);
        self.cum_weights.insert(row, f64::NAN);
    }

    /// Removes the kernel of observation `row`.
    pub(crate) fn remove_obs(&mut self, row: usize) {
        for dim in &mut self.dims {
            match dim {
                Dim::Cont {
                    mus,
                    inv_sigmas,
                    consts,
                    sigmas,
                    ..
                } => {
                    mus.remove(row);
                    sigmas.remove(row);
                    inv_sigmas.remove(row);
                    consts.remove(row);
                }
                Dim::Disc {
                    mus,
                    sigmas,
                    map,
                    table,
                    ..
                } => {
                    mus.remove(row);
                    sigmas.remove(row);
                    map.remove(row);
                    if let Some(tb) = table {
                        tb.pid.remove(row);
                    }
                }
                Dim::Cat { obs, obs_f, .. } => {
                    obs.remove(row);
                    obs_f.remove(row);
                }
            }
        }
        self.log_weights.remove(row);
        self.cum_weights.remove(row);
    }

    /// Sets the bandwidth of observation `row` in dimension `j`, with what
    /// depends on it.
    pub(crate) fn set_sigma(&mut self, j: usize, row: usize, sg: f64) {
        match &mut self.dims[j] {
            Dim::Cont {
                mus,
                inv_sigmas,
                consts,
                sigmas,
                mlow,
                mhigh,
                ..
            } => {
                if sigmas[row].to_bits() != sg.to_bits() {
                    sigmas[row] = sg;
                    inv_sigmas[row] = 1.0 / sg;
                    consts[row] = cont_const(mus[row], sg, *mlow, *mhigh);
                }
            }
            Dim::Disc {
                mus,
                sigmas,
                uniq,
                map,
                index,
                mlow,
                mhigh,
                table,
                ..
            } => {
                if sigmas[row].to_bits() != sg.to_bits() {
                    sigmas[row] = sg;
                    let (m, inv) = (mus[row], 1.0 / sg);
                    if index.is_empty() {
                        for (u, e) in uniq.iter().enumerate() {
                            index.insert((e.0.to_bits(), e.1.to_bits()), u as u32);
                        }
                    }
                    map[row] = *index
                        .entry((m.to_bits(), inv.to_bits()))
                        .or_insert_with(|| {
                            let nlm = -log_gauss_mass((*mlow - m) / sg, (*mhigh - m) / sg);
                            uniq.push((m, inv, nlm));
                            (uniq.len() - 1) as u32
                        });
                    let nlm = uniq[map[row] as usize].2;
                    if table
                        .as_mut()
                        .is_some_and(|tb| tb.set(row, m, sg, nlm).is_none())
                    {
                        *table = None;
                    }
                }
            }
            Dim::Cat { .. } => {}
        }
    }

    /// Completes an update: the mixture weights for `weights` (one per
    /// observation, oldest first) and the categorical masses for the new count.
    pub(crate) fn finish_update(&mut self, weights: &[f64], s: &ParzenSettings) {
        let n = self.n_obs();
        (self.log_weights, self.cum_weights) = mixture_weights(weights, n, s);
        for dim in &mut self.dims {
            dim.set_cat_masses(n, s);
            if let Dim::Disc {
                mus,
                sigmas,
                uniq,
                map,
                table,
                low,
                high,
                step,
                ..
            } = dim
            {
                // Pairs no kernel uses pile up over many updates: start afresh.
                let bloated = table.as_ref().is_some_and(|tb| {
                    tb.pairs.len() > 2 * mus.len() + 64 || tb.inv.len() > mus.len() + 64
                });
                if bloated {
                    let nlm: Vec<f64> = map.iter().map(|&u| uniq[u as usize].2).collect();
                    *table =
                        OffsetTable::build(mus, sigmas, &nlm, *low, *high, *step).map(Box::new);
                }
            }
        }
        self.disc = stepped_without_table(&self.dims);
    }

    /// Fits an estimator. `obs` is row-major, one row of internal values per
    /// observation (all inside their distributions); `weights` has one
    /// non-negative weight per observation.
    pub fn new(dists: &[Distribution], obs: &[f64], weights: &[f64], s: &ParzenSettings) -> Self {
        Self::with_orders(dists, obs, weights, s, None, None)
    }

    /// As [`Parzen::new`], with the rows of `obs` already ordered by each
    /// dimension's value (`orders[j]`), which saves the sorts.
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
        let col = |j: usize| (0..n).map(move |i| obs[i * d + j]);
        let order_of = |j: usize, mus: &[f64]| -> Vec<u32> {
            match orders {
                Some(o) => o[j].clone(),
                None => ascending(mus),
            }
        };
        let mut dims: Vec<Dim> = Vec::with_capacity(d);
        for (j, dist) in dists.iter().enumerate() {
            dims.push(match *dist {
                Distribution::Categorical { n: n_choices } => {
                    let mut dim = Dim::Cat {
                        n: n_choices,
                        obs: col(j).map(|v| v as usize).collect(),
                        obs_f: col(j).collect(),
                        log_hit: 0.0,
                        log_miss: 0.0,
                        log_prior: -(n_choices as f64).ln(),
                        cum_hit: 0.0,
                        cum_miss: 0.0,
                    };
                    dim.set_cat_masses(n, s);
                    dim
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
                    let order = order_of(j, &mus);
                    let mut sigmas = neighbour_sigmas(&mus, &order, mlow, mhigh, s);
                    mus.push(0.5 * (mlow + mhigh));
                    sigmas.push((mhigh - mlow).max(f64::MIN_POSITIVE));
                    let constant = |m: f64, sg: f64| cont_const(m, sg, mlow, mhigh);
                    let consts = match memo.as_mut() {
                        // Observations keep their (mu, sigma) from one ask to the
                        // next, mostly: reuse the constant when both match.
                        Some((ids, memos)) => {
                            let mm = &mut memos[j];
                            let mut out = Vec::with_capacity(mus.len());
                            for (r, (&m, &sg)) in mus.iter().zip(&sigmas).enumerate() {
                                if r == n {
                                    out.push(constant(m, sg));
                                    continue;
                                }
                                let id = ids[r];
                                if mm.len() <= id {
                                    mm.resize(id + 1, (0, 0, 0.0));
                                }
                                let e = &mut mm[id];
                                if e.0 != m.to_bits() || e.1 != sg.to_bits() {
                                    *e = (m.to_bits(), sg.to_bits(), constant(m, sg));
                                }
                                out.push(e.2);
                            }
                            out
                        }
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
                Distribution::Float {
                    low,
                    high,
                    step: Some(step),
                    log,
                } => {
                    let v: Vec<f64> = col(j).collect();
                    let order = order_of(j, &v);
                    Self::disc(v, &order, low, high, step, log, s)
                }
                Distribution::Int {
                    low,
                    high,
                    step,
                    log,
                } => {
                    let v: Vec<f64> = col(j).collect();
                    let order = order_of(j, &v);
                    Self::disc(v, &order, low as f64, high as f64, step as f64, log, s)
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

    fn disc(
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
        mus.push(0.5 * (mlow + mhigh));
        sigmas.push((mhigh - mlow).max(f64::MIN_POSITIVE));
        // Walk the kernels by mu; within a run of equal mu, reuse the entry of
        // an equal sigma.
        let mut uniq: Vec<(f64, f64, f64)> = Vec::new();
        let mut map = vec![0u32; mus.len()];
        let mut run_start = 0;
        let prior = (mus.len() - 1) as u32;
        for &k in order.iter().chain(std::iter::once(&prior)) {
            let k = k as usize;
            let (m, inv) = (mus[k], 1.0 / sigmas[k]);
            if uniq.last().is_none_or(|u| u.0 != m) {
                run_start = uniq.len();
            }
            let hit = uniq[run_start..]
                .iter()
                .position(|u| u.0 == m && u.1 == inv);
            map[k] = match hit {
                Some(p) => (run_start + p) as u32,
                None => {
                    let sg = sigmas[k];
                    let nlm = -log_gauss_mass((mlow - m) / sg, (mhigh - m) / sg);
                    uniq.push((m, inv, nlm));
                    (uniq.len() - 1) as u32
                }
            };
        }
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
            index: std::collections::HashMap::new(),
            mlow,
            mhigh,
            table,
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

    /// The term of stepped dimension `j` for kernel `kk` at value `v`,
    /// computed directly.
    fn disc_term(&self, j: usize, kk: usize, v: f64) -> f64 {
        match &self.dims[j] {
            Dim::Disc {
                log,
                step,
                uniq,
                map,
                ..
            } => {
                let (l, r) = (v - step / 2.0, v + step / 2.0);
                let (l, r) = if *log { (l.ln(), r.ln()) } else { (l, r) };
                let (mu, inv, nlm) = uniq[map[kk] as usize];
                log_gauss_mass((l - mu) * inv, (r - mu) * inv) + nlm
            }
            _ => 0.0,
        }
    }

    /// The log density term of dimension `j` for kernel `kk` at value `v`,
    /// computed directly (the reference the fast path is tested against).
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

    /// log density of each of the row-major points `x`.
    ///
    /// Continuous and categorical terms are summed for every kernel (tight,
    /// vectorisable loops). Stepped terms need the normal CDF but are never
    /// positive, so once the kernel with the largest partial sum has been
    /// evaluated in full, any kernel already `NEGLIGIBLE` below it is dropped
    /// before its stepped terms are computed (its share of the mixture is under
    /// e^-40); cell masses are cached per distinct value and distinct kernel.
    pub fn log_pdf(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dims.len();
        let m = x.len().checked_div(d).unwrap_or(0);
        let k = self.n_kernels();
        let mut out = Vec::with_capacity(m);
        let mut vals = Vec::new();
        let mut cache = DiscCache::default();
        let mut masses: Vec<Option<std::sync::MutexGuard<'_, Vec<Vec<f64>>>>> = self
            .dims
            .iter()
            .map(|dim| match dim {
                Dim::Disc {
                    table: Some(tb), ..
                } => {
                    let mut g = tb.masses.lock();
                    if g.len() < tb.inv.len() {
                        g.resize(tb.inv.len(), Vec::new());
                    }
                    Some(g)
                }
                _ => None,
            })
            .collect();
        // Log weights plus every continuous kernel constant, once per call.
        let cont: Vec<usize> = (0..d)
            .filter(|&j| matches!(self.dims[j], Dim::Cont { .. }))
            .collect();
        let mut base = self.log_weights.clone();
        for &j in &cont {
            if let Dim::Cont { consts, .. } = &self.dims[j] {
                for (b, c) in base.iter_mut().zip(consts) {
                    *b += c;
                }
            }
        }
        let mut acc = vec![0.0; k];
        let mut slots = vec![0usize; self.disc.len()];
        for i in 0..m {
            let xi = &x[i * d..(i + 1) * d];
            acc.copy_from_slice(&base);
            // Continuous dimensions two at a time: -(z1² + z2²) / 2 per kernel.
            for pair in cont.chunks(2) {
                let arg = |j: usize| match &self.dims[j] {
                    Dim::Cont {
                        log,
                        mus,
                        inv_sigmas,
                        ..
                    } => {
                        let v = if *log { xi[j].ln() } else { xi[j] };
                        (v, mus.as_slice(), inv_sigmas.as_slice())
                    }
                    _ => (0.0, &[][..], &[][..]),
                };
                match *pair {
                    [a, b] => sub_half_squares2(&mut acc, arg(a), arg(b)),
                    [a] => sub_half_squares(&mut acc, arg(a)),
                    _ => {}
                }
            }
            for (j, dim) in self.dims.iter().enumerate() {
                match dim {
                    Dim::Cont { .. } => {}
                    Dim::Cat {
                        obs_f,
                        log_hit,
                        log_miss,
                        log_prior,
                        ..
                    } => {
                        let (c, hit, miss) = (xi[j], *log_hit, *log_miss);
                        let n = obs_f.len().min(acc.len());
                        let (a, o) = (&mut acc[..n], &obs_f[..n]);
                        for t in 0..n {
                            a[t] += if o[t] == c { hit } else { miss };
                        }
                        acc[k - 1] += log_prior;
                    }
                    Dim::Disc {
                        table: Some(tb), ..
                    } => match tb.index(xi[j]) {
                        Some(v2) => {
                            let Some(rows) = masses[j].as_mut() else {
                                continue;
                            };
                            vals.clear();
                            for &(sid, m2, nlm) in &tb.pairs {
                                let row = &mut rows[sid as usize];
                                if row.is_empty() {
                                    row.resize(tb.width(), f64::NAN);
                                }
                                let off = (v2 - m2 + tb.half) as usize;
                                let c = &mut row[off];
                                if c.is_nan() {
                                    let d = (off as f64 - tb.half as f64) * (0.5 * tb.step);
                                    let inv = tb.inv[sid as usize];
                                    *c = log_gauss_mass(
                                        (d - 0.5 * tb.step) * inv,
                                        (d + 0.5 * tb.step) * inv,
                                    );
                                }
                                vals.push(*c + nlm);
                            }
                            for (a, &p) in acc.iter_mut().zip(&tb.pid) {
                                *a += vals[p as usize];
                            }
                        }
                        // Off the grid (not a value of the distribution).
                        None => {
                            for (kk, a) in acc.iter_mut().enumerate() {
                                *a += self.disc_term(j, kk, xi[j]);
                            }
                        }
                    },
                    Dim::Disc { .. } => {}
                }
            }
            if self.disc.is_empty() {
                out.push(pruned_log_sum_exp(&acc));
                continue;
            }
            for (s, &j) in slots.iter_mut().zip(&self.disc) {
                if let Dim::Disc { uniq, .. } = &self.dims[j] {
                    *s = cache.slot(j, xi[j], uniq.len());
                }
            }
            // A lower bound on the largest term: the best of the few kernels with
            // the largest partial sums, evaluated in full.
            let mut top = [usize::MAX; 4];
            let mut floor_top = f64::NEG_INFINITY;
            for kk in 0..k {
                // One comparison for most kernels; insertion only into the top four.
                if acc[kk] > floor_top || top[3] == usize::MAX {
                    let pos = top
                        .iter()
                        .position(|&t| t == usize::MAX || acc[kk] > acc[t])
                        .unwrap_or(3);
                    top[pos..].rotate_right(1);
                    top[pos] = kk;
                    if top[3] != usize::MAX {
                        floor_top = acc[top[3]];
                    }
                }
            }
            let mut mx = f64::NEG_INFINITY;
            for &t in top.iter().filter(|&&t| t != usize::MAX) {
                acc[t] += self.disc_terms(t, xi, &slots, &mut cache);
                mx = mx.max(acc[t]);
            }
            let cutoff = mx - NEGLIGIBLE;
            for kk in 0..k {
                if top.contains(&kk) {
                    continue;
                }
                if acc[kk] < cutoff {
                    acc[kk] = f64::NEG_INFINITY;
                } else {
                    acc[kk] += self.disc_terms(kk, xi, &slots, &mut cache);
                    mx = mx.max(acc[kk]);
                }
            }
            out.push(pruned_log_sum_exp(&acc));
        }
        out
    }

    /// Sum of the stepped dimensions' terms for kernel `kk`.
    #[inline]
    fn disc_terms(&self, kk: usize, xi: &[f64], slots: &[usize], cache: &mut DiscCache) -> f64 {
        let mut t = 0.0;
        for (&j, &slot) in self.disc.iter().zip(slots) {
            if let Dim::Disc {
                log,
                step,
                uniq,
                map,
                ..
            } = &self.dims[j]
            {
                let u = map[kk] as usize;
                let c = &mut cache.table[slot + u];
                if c.is_nan() {
                    let v = xi[j];
                    let (l, r) = (v - step / 2.0, v + step / 2.0);
                    let (l, r) = if *log { (l.ln(), r.ln()) } else { (l, r) };
                    let (mu, inv, nlm) = uniq[u];
                    *c = log_gauss_mass((l - mu) * inv, (r - mu) * inv) + nlm;
                }
                t += *c;
            }
        }
        t
    }
}

/// log Σ exp(acc), leaving out terms [`NEGLIGIBLE`] below the largest (their
/// share is under e^-40 each), which saves most of the `exp` calls.
fn pruned_log_sum_exp(acc: &[f64]) -> f64 {
    let mx = acc.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if mx == f64::NEG_INFINITY || mx.is_nan() {
        return mx;
    }
    let floor = mx - NEGLIGIBLE;
    let sum: f64 = acc
        .iter()
        .filter(|&&a| a > floor)
        .map(|a| (a - mx).exp())
        .sum();
    mx + sum.ln()
}

/// `acc[k] -= ((v - mus[k]) * inv_sigmas[k])² / 2`: with the constants
/// summed beforehand, the hot loop of TPE. Slices cut to one length so the
/// loop has no bounds checks and vectorises.
#[inline]
fn sub_half_squares(acc: &mut [f64], (v, mus, inv): (f64, &[f64], &[f64])) {
    let n = acc.len().min(mus.len()).min(inv.len());
    let (acc, mus, inv) = (&mut acc[..n], &mus[..n], &inv[..n]);
    for i in 0..n {
        let z = (v - mus[i]) * inv[i];
        acc[i] -= 0.5 * (z * z);
    }
}

/// [`sub_half_squares`] for two dimensions in one pass over `acc`.
#[inline]
fn sub_half_squares2(
    acc: &mut [f64],
    (v1, mus1, inv1): (f64, &[f64], &[f64]),
    (v2, mus2, inv2): (f64, &[f64], &[f64]),
) {
    let n = acc
        .len()
        .min(mus1.len())
        .min(inv1.len())
        .min(mus2.len())
        .min(inv2.len());
    let (acc, m1, i1, m2, i2) = (
        &mut acc[..n],
        &mus1[..n],
        &inv1[..n],
        &mus2[..n],
        &inv2[..n],
    );
    for i in 0..n {
        let z1 = (v1 - m1[i]) * i1[i];
        let z2 = (v2 - m2[i]) * i2[i];
        acc[i] -= 0.5 * (z1 * z1 + z2 * z2);
    }
}

/// Cell log masses of stepped dimensions, per (dimension, value) row and
/// distinct kernel; NaN = not computed yet.
#[derive(Default)]
struct DiscCache {
    rows: Vec<(usize, f64, usize)>,
    table: Vec<f64>,
}

impl DiscCache {
    /// Start of the row for value `v` of dimension `j`, created on first use.
    #[inline]
    fn slot(&mut self, j: usize, v: f64, width: usize) -> usize {
        if let Some(r) = self.rows.iter().find(|r| r.0 == j && r.1 == v) {
            return r.2;
        }
        let start = self.table.len();
        self.table.extend(std::iter::repeat_n(f64::NAN, width));
        self.rows.push((j, v, start));
        start
    }
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
    fn pruned_density_equals_the_full_mixture() {
        let dists = [
            Distribution::float("a", 0.0, 1.0, None, false).unwrap(),
            Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
            Distribution::int("c", 1, 50, 1, false).unwrap(),
            Distribution::categorical("d", 3).unwrap(),
            Distribution::float("e", 0.0, 2.0, Some(0.25), false).unwrap(),
        ];
        let mut rng = Rng::new(9);
        let n = 400;
        let mut obs = Vec::new();
        for _ in 0..n {
            for d in &dists {
                // Crowd observations near the lower bounds, as optimisation does.
                obs.push(d.from_unit(rng.uniform().powi(3)));
            }
        }
        let w: Vec<f64> = (0..n).map(|i| 0.5 + i as f64 / n as f64).collect();
        let p = Parzen::new(&dists, &obs, &w, &S);
        let pts = p.sample(&mut rng, 50);
        let fast = p.log_pdf(&pts);
        for (i, f) in fast.iter().enumerate() {
            let xi = &pts[i * 5..(i + 1) * 5];
            let full: Vec<f64> = (0..p.n_kernels())
                .map(|kk| p.log_weights[kk] + (0..5).map(|j| p.term(j, kk, xi[j])).sum::<f64>())
                .collect();
            let exact = crate::samplers::tpe::truncnorm::log_sum_exp(&full);
            assert!((f - exact).abs() < 1e-12, "{f} {exact}");
        }
    }

    #[test]
    fn stepped_density_off_the_grid_is_the_direct_sum() {
        // The offset table only covers grid values; others take the direct path.
        let d = [Distribution::int("n", 1, 20, 1, false).unwrap()];
        let p = Parzen::new(&d, &[3.0, 3.0, 7.0, 15.0], &[1.0; 4], &S);
        assert!(matches!(&p.dims[0], Dim::Disc { table: Some(_), .. }));
        for v in [3.0, 4.4, 19.9] {
            let full: Vec<f64> = (0..p.n_kernels())
                .map(|kk| p.log_weights[kk] + p.term(0, kk, v))
                .collect();
            let exact = crate::samplers::tpe::truncnorm::log_sum_exp(&full);
            let got = p.log_pdf(&[v])[0];
            assert!((got - exact).abs() < 1e-12, "{v}: {got} {exact}");
        }
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

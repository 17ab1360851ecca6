//! The estimator's performance caches. None of them changes a result: each
//! holds values of the formulas in [`super::kernels`] (or of
//! [`log_gauss_mass`]) computed once and reused, and the reference tests
//! (`reference.rs`) check the cached paths against the textbook mixture.
//!
//! - [`ConstMemo`]: per observation, the constant of its continuous kernel,
//!   reused from one ask to the next while its (mu, sigma) stay the same.
//! - [`distinct_kernels`]: kernels of a stepped dimension that share (mu,
//!   sigma) share one entry, so each cell mass is computed once per pair.
//! - [`OffsetTable`]: on a linear grid, cell masses by (bandwidth, offset),
//!   kept with the estimator across asks.
//! - [`DiscCache`]: within one `log_pdf` call, cell masses per (dimension,
//!   value, distinct kernel).

use std::collections::HashMap;

use super::super::truncnorm::log_gauss_mass;
use super::kernels::neg_log_mass;

/// Per observation id, the (mu bits, sigma bits, constant) of its kernel in a
/// continuous dimension the last time it was computed.
pub type ConstMemo = Vec<(u64, u64, f64)>;

/// The constants of kernels (`mus`, `sigmas`), the last one the prior's,
/// through `memo`: observation `r` (id `ids[r]`) reuses its stored constant
/// when its (mu, sigma) are the same bits as when it was computed.
pub(super) fn memoised_consts(
    mus: &[f64],
    sigmas: &[f64],
    ids: &[usize],
    memo: &mut ConstMemo,
    constant: impl Fn(f64, f64) -> f64,
) -> Vec<f64> {
    let n = mus.len() - 1;
    let mut out = Vec::with_capacity(mus.len());
    for (r, (&m, &sg)) in mus.iter().zip(sigmas).enumerate() {
        if r == n {
            out.push(constant(m, sg));
            continue;
        }
        let id = ids[r];
        if memo.len() <= id {
            memo.resize(id + 1, (0, 0, 0.0));
        }
        let e = &mut memo[id];
        if e.0 != m.to_bits() || e.1 != sg.to_bits() {
            *e = (m.to_bits(), sg.to_bits(), constant(m, sg));
        }
        out.push(e.2);
    }
    out
}

/// The distinct (mu, 1/sigma, minus log mass on [mlow, mhigh]) of a stepped
/// dimension's kernels and, per kernel, its entry. Kernels are walked by mu
/// (`order`, then the prior, which is last); within a run of equal mu, an
/// equal sigma reuses the run's entry.
pub(super) fn distinct_kernels(
    mus: &[f64],
    sigmas: &[f64],
    order: &[u32],
    mlow: f64,
    mhigh: f64,
) -> (Vec<(f64, f64, f64)>, Vec<u32>) {
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
                uniq.push((m, inv, neg_log_mass(m, sigmas[k], mlow, mhigh)));
                (uniq.len() - 1) as u32
            }
        };
    }
    (uniq, map)
}

/// The entry of (mu, sigma) in `uniq` through `index` ((mu bits, 1/sigma
/// bits) -> entry, built on first use), added when new. Entries no kernel
/// uses any more stay.
pub(super) fn distinct_entry(
    uniq: &mut Vec<(f64, f64, f64)>,
    index: &mut HashMap<(u64, u64), u32>,
    m: f64,
    sg: f64,
    mlow: f64,
    mhigh: f64,
) -> u32 {
    let inv = 1.0 / sg;
    if index.is_empty() {
        for (u, e) in uniq.iter().enumerate() {
            index.insert((e.0.to_bits(), e.1.to_bits()), u as u32);
        }
    }
    *index
        .entry((m.to_bits(), inv.to_bits()))
        .or_insert_with(|| {
            uniq.push((m, inv, neg_log_mass(m, sg, mlow, mhigh)));
            (uniq.len() - 1) as u32
        })
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
pub(super) struct OffsetTable {
    /// Per kernel: its entry in `pairs`.
    pub(super) pid: Vec<u32>,
    /// Distinct (entry in `inv`, 2 (mu - low) / step, minus the log of the
    /// kernel's mass on the widened range). Entries no kernel uses any more
    /// stay until the table is rebuilt.
    pub(super) pairs: Vec<(u32, i32, f64)>,
    pub(super) pair_ids: HashMap<(u32, i32), u32>,
    /// Distinct 1 / sigma, and their entries by sigma's bits.
    pub(super) inv: Vec<f64>,
    pub(super) ids: HashMap<u64, u32>,
    /// Offsets in half steps run over [-half, half]; half = 2 (points - 1).
    pub(super) half: i32,
    pub(super) low: f64,
    pub(super) step: f64,
    /// Cell log masses by (entry in `inv`, offset), computed on first use and
    /// kept with the table (a kept estimator reuses them from ask to ask).
    pub(super) masses: MassCache,
}

/// Per bandwidth, a row of cell log masses by offset (NaN: not computed yet;
/// an empty row: none yet). Behind a mutex so that `log_pdf` can fill it
/// through a shared reference; a cache, so clones copy it and comparisons
/// ignore it.
#[derive(Debug, Default)]
pub(super) struct MassCache(std::sync::Mutex<Vec<Vec<f64>>>);

impl MassCache {
    pub(super) fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Vec<f64>>> {
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
    pub(super) fn build(
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
            pair_ids: HashMap::new(),
            inv: Vec::new(),
            ids: HashMap::new(),
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
    pub(super) fn index(&self, v: f64) -> Option<i32> {
        let t = 2.0 * (v - self.low) / self.step;
        let r = t.round();
        ((t - r).abs() <= 1e-6 && r >= 0.0 && r <= self.half as f64).then_some(r as i32)
    }

    /// Points kernel `k` to the pair of (mu, sg); None when mu is off the grid
    /// or the table would outgrow [`MAX_TABLE_ENTRIES`].
    pub(super) fn set(&mut self, k: usize, mu: f64, sg: f64, nlm: f64) -> Option<()> {
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
    pub(super) fn width(&self) -> usize {
        2 * self.half as usize + 1
    }

    /// Adds to `acc` every kernel's term at the grid value `v2` (in half
    /// steps): the log mass of the cell around the value, from `rows` (the
    /// locked [`MassCache`]), filled where missing, plus the kernel's
    /// normaliser. `vals` is scratch space.
    pub(super) fn add_terms(
        &self,
        v2: i32,
        rows: &mut [Vec<f64>],
        vals: &mut Vec<f64>,
        acc: &mut [f64],
    ) {
        vals.clear();
        for &(sid, m2, nlm) in &self.pairs {
            let row = &mut rows[sid as usize];
            if row.is_empty() {
                row.resize(self.width(), f64::NAN);
            }
            let off = (v2 - m2 + self.half) as usize;
            let c = &mut row[off];
            if c.is_nan() {
                let d = (off as f64 - self.half as f64) * (0.5 * self.step);
                let inv = self.inv[sid as usize];
                *c = log_gauss_mass((d - 0.5 * self.step) * inv, (d + 0.5 * self.step) * inv);
            }
            vals.push(*c + nlm);
        }
        for (a, &p) in acc.iter_mut().zip(&self.pid) {
            *a += vals[p as usize];
        }
    }

    /// True when entries no kernel uses have piled up (over many incremental
    /// updates) beyond what `n_kernels` kernels need: then rebuild.
    pub(super) fn bloated(&self, n_kernels: usize) -> bool {
        self.pairs.len() > 2 * n_kernels + 64 || self.inv.len() > n_kernels + 64
    }
}

/// Cell log masses of stepped dimensions within one `log_pdf` call, per
/// (dimension, value) row and distinct kernel; NaN = not computed yet.
#[derive(Default)]
pub(super) struct DiscCache {
    rows: Vec<(usize, f64, usize)>,
    pub(super) table: Vec<f64>,
}

impl DiscCache {
    /// Start of the row for value `v` of dimension `j`, created on first use.
    #[inline]
    pub(super) fn slot(&mut self, j: usize, v: f64, width: usize) -> usize {
        if let Some(r) = self.rows.iter().find(|r| r.0 == j && r.1 == v) {
            return r.2;
        }
        let start = self.table.len();
        self.table.extend(std::iter::repeat_n(f64::NAN, width));
        self.rows.push((j, v, start));
        start
    }
}

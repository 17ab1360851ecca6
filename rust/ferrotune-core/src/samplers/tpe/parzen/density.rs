//! Density evaluation: log p(x) = log Σ_k w_k Π_j k_kj(x_j) for a batch of
//! points, the inner loop of TPE (24 candidates against every kernel of l(x)
//! and g(x) on each ask).
//!
//! The sum over kernels is accumulated in log space, one array entry per
//! kernel: first the log weight and every continuous kernel's constant (once
//! per call), then per point the continuous quadratic terms (vectorisable
//! loops), the categorical and grid-tabled stepped terms, and last the
//! remaining stepped terms, which need the normal CDF. Those are never
//! positive, so once the kernels with the largest partial sums have been
//! evaluated in full, a kernel already [`NEGLIGIBLE`] below the best is
//! dropped without computing them: its share of the mixture is under e^-40.
//! `reference.rs` holds the textbook formula these steps are tested against.

use std::sync::MutexGuard;

use super::super::truncnorm::log_gauss_mass;
use super::cache::DiscCache;
use super::{Dim, Parzen};

/// Kernels whose log density is this far below the best one's contribute
/// less than e^-40 (4e-18) of the mixture: they are left out of sums.
pub(super) const NEGLIGIBLE: f64 = 40.0;

/// The state of one `log_pdf` call, reused from point to point.
struct Evaluation<'a> {
    p: &'a Parzen,
    /// The continuous dimensions.
    cont: Vec<usize>,
    /// Per kernel: log weight plus every continuous constant.
    base: Vec<f64>,
    /// Per kernel: the log density of the current point so far.
    acc: Vec<f64>,
    /// Per dimension, the locked cell-mass rows of its offset table.
    masses: Vec<Option<MutexGuard<'a, Vec<Vec<f64>>>>>,
    /// Scratch for the offset tables.
    vals: Vec<f64>,
    cache: DiscCache,
    /// Per stepped dimension without a table: its row in `cache`.
    slots: Vec<usize>,
}

impl Parzen {
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
        let mut ev = Evaluation::new(self);
        (0..m).map(|i| ev.point(&x[i * d..(i + 1) * d])).collect()
    }

    /// The term of stepped dimension `j` for kernel `kk` at value `v`,
    /// computed directly: the kernel's mass of the cell [v - step/2, v +
    /// step/2] (model space) over its mass on the widened range.
    pub(super) fn disc_term(&self, j: usize, kk: usize, v: f64) -> f64 {
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

    /// Sum of the stepped dimensions' terms (those without a table) for
    /// kernel `kk`, through the call's cache.
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

impl<'a> Evaluation<'a> {
    /// Locks the offset tables' caches and sums the per-kernel constants.
    fn new(p: &'a Parzen) -> Self {
        let masses = p
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
        let cont: Vec<usize> = (0..p.dims.len())
            .filter(|&j| matches!(p.dims[j], Dim::Cont { .. }))
            .collect();
        let mut base = p.log_weights.clone();
        for &j in &cont {
            if let Dim::Cont { consts, .. } = &p.dims[j] {
                for (b, c) in base.iter_mut().zip(consts) {
                    *b += c;
                }
            }
        }
        Evaluation {
            p,
            cont,
            acc: vec![0.0; base.len()],
            base,
            masses,
            vals: Vec::new(),
            cache: DiscCache::default(),
            slots: vec![0usize; p.disc.len()],
        }
    }

    /// log p(xi) for one point.
    fn point(&mut self, xi: &[f64]) -> f64 {
        self.acc.copy_from_slice(&self.base);
        self.add_continuous(xi);
        self.add_categorical_and_tabled(xi);
        if !self.p.disc.is_empty() {
            self.add_stepped_pruned(xi);
        }
        pruned_log_sum_exp(&self.acc)
    }

    /// Continuous dimensions two at a time: -(z1² + z2²) / 2 per kernel.
    fn add_continuous(&mut self, xi: &[f64]) {
        let dims = &self.p.dims;
        let arg = |j: usize| match &dims[j] {
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
        for pair in self.cont.chunks(2) {
            match *pair {
                [a, b] => sub_half_squares2(&mut self.acc, arg(a), arg(b)),
                [a] => sub_half_squares(&mut self.acc, arg(a)),
                _ => {}
            }
        }
    }

    /// Categorical terms and stepped terms read from an offset table, in
    /// dimension order.
    fn add_categorical_and_tabled(&mut self, xi: &[f64]) {
        let k = self.acc.len();
        for (j, dim) in self.p.dims.iter().enumerate() {
            match dim {
                Dim::Cat {
                    obs_f,
                    log_hit,
                    log_miss,
                    log_prior,
                    ..
                } => {
                    let (c, hit, miss) = (xi[j], *log_hit, *log_miss);
                    let n = obs_f.len().min(k);
                    let (a, o) = (&mut self.acc[..n], &obs_f[..n]);
                    for t in 0..n {
                        a[t] += if o[t] == c { hit } else { miss };
                    }
                    self.acc[k - 1] += log_prior;
                }
                Dim::Disc {
                    table: Some(tb), ..
                } => match tb.index(xi[j]) {
                    Some(v2) => {
                        if let Some(rows) = self.masses[j].as_mut() {
                            tb.add_terms(v2, rows, &mut self.vals, &mut self.acc);
                        }
                    }
                    // Off the grid (not a value of the distribution).
                    None => {
                        for (kk, a) in self.acc.iter_mut().enumerate() {
                            *a += self.p.disc_term(j, kk, xi[j]);
                        }
                    }
                },
                Dim::Cont { .. } | Dim::Disc { .. } => {}
            }
        }
    }

    /// The stepped terms without a table, skipping negligible kernels: the
    /// four kernels with the largest partial sums are evaluated in full
    /// first, which bounds the largest term from below.
    fn add_stepped_pruned(&mut self, xi: &[f64]) {
        let p = self.p;
        for (s, &j) in self.slots.iter_mut().zip(&p.disc) {
            if let Dim::Disc { uniq, .. } = &p.dims[j] {
                *s = self.cache.slot(j, xi[j], uniq.len());
            }
        }
        let (acc, slots, cache) = (&mut self.acc, &self.slots, &mut self.cache);
        let top = top_four(acc);
        let mut mx = f64::NEG_INFINITY;
        for &t in top.iter().filter(|&&t| t != usize::MAX) {
            acc[t] += p.disc_terms(t, xi, slots, cache);
            mx = mx.max(acc[t]);
        }
        let cutoff = mx - NEGLIGIBLE;
        for kk in 0..acc.len() {
            if top.contains(&kk) {
                continue;
            }
            if acc[kk] < cutoff {
                acc[kk] = f64::NEG_INFINITY;
            } else {
                acc[kk] += p.disc_terms(kk, xi, slots, cache);
                mx = mx.max(acc[kk]);
            }
        }
    }
}

/// The (up to) four positions of the largest entries of `acc`, largest first
/// (`usize::MAX` when there are fewer).
fn top_four(acc: &[f64]) -> [usize; 4] {
    let mut top = [usize::MAX; 4];
    let mut floor_top = f64::NEG_INFINITY;
    for kk in 0..acc.len() {
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
    top
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

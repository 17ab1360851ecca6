//! The bad-set estimator g(x) kept between asks and updated in place.

use std::sync::Arc;

use super::observations::Dims;
use super::parzen::{self, same_clip, Parzen, ParzenSettings};
use super::{fingerprint, TpeSampler};
use crate::error::Result;
use crate::history::{sort_key, History};
use crate::space::Distribution;

/// At most this many kept estimators (one per modelled space: one in the
/// default multivariate mode, one per parameter in univariate mode); beyond,
/// the least recently used goes, so that spaces whose ranges change from
/// trial to trial cannot pile up estimators.
pub(super) const MAX_KEPT: usize = 64;

/// A bad-set estimator kept between asks. From one ask to the next the bad
/// set gains the trial just finished (or loses one to the good set), so
/// rather than refitting n kernels, the few that joined or left are inserted
/// or removed and only their neighbours' bandwidths are recomputed (a
/// bandwidth depends on the two adjacent observations in its dimension). The
/// result equals a fresh fit (tests check it); weights, which change for
/// every old observation, are recomputed in O(n).
#[derive(Debug, Clone)]
pub(super) struct Kept {
    /// Trial of each observation kernel, ascending (the kernel order).
    rows: Vec<usize>,
    /// Row-major internal values of `rows`.
    obs: Vec<f64>,
    /// Per dimension: (sort key of the value, trial, model-space value) of
    /// every row, ascending by (key, trial) as the history orders them.
    sorted: Vec<Vec<(u64, u32, f64)>>,
    /// Per trial: 1 when a finished trial has every dimension inside its
    /// distribution, 2 when not, 0 when not yet known.
    status: Vec<u8>,
    /// Shared with the ask that uses it; unshared again by the next update.
    parzen: Arc<Parzen>,
    /// Number of asks served by an update rather than a fresh fit.
    pub(super) updates: usize,
    /// Value of `TpeSampler::fits` when last used.
    last_used: u64,
}

impl TpeSampler {
    /// g(x) for `dims` over the `above` trials: the kept estimator updated
    /// when it is close to the new set, else a fresh fit that is then kept.
    pub(super) fn fit_bad(
        &mut self,
        h: &History,
        above: &[usize],
        dims: &Dims,
    ) -> Result<Arc<Parzen>> {
        let s = self.cfg.parzen;
        let dists: Vec<Distribution> = dims.iter().map(|d| d.1.clone()).collect();
        let key: Option<Vec<(u32, u64)>> = dims
            .iter()
            .map(|(p, d)| p.map(|p| (p, fingerprint(d))))
            .collect();
        let Some(key) = key else {
            let (oa, ra) = Self::gather(h, above, dims);
            let wa = self.weights(ra.len())?;
            return Ok(Arc::new(Parzen::new(&dists, &oa, &wa, &s)));
        };
        let mut kept = self.kept.remove(&key);
        let mut status = kept
            .as_mut()
            .map(|k| std::mem::take(&mut k.status))
            .unwrap_or_default();
        let rows = bad_rows(h, above, dims, &mut status);
        let weights = self.weights(rows.len())?;
        let updated = kept.and_then(|k| k.updated(h, dims, &rows, &weights, &s));
        let mut k = match updated {
            Some(k) => k,
            None => Kept::fresh(h, &rows, dims, &dists, &weights, &s),
        };
        k.status = status;
        Ok(self.keep(key, k))
    }

    /// Stores `k` as the kept estimator of space `key` (dropping the least
    /// recently used one beyond [`MAX_KEPT`]) and returns its estimator.
    fn keep(&mut self, key: Vec<(u32, u64)>, mut k: Kept) -> Arc<Parzen> {
        self.fits += 1;
        k.last_used = self.fits;
        let g = Arc::clone(&k.parzen);
        if self.kept.len() >= MAX_KEPT {
            let oldest = self
                .kept
                .iter()
                .min_by_key(|(_, v)| v.last_used)
                .map(|(key, _)| key.clone());
            if let Some(o) = oldest {
                self.kept.remove(&o);
            }
        }
        self.kept.insert(key, k);
        g
    }
}

/// The `above` trials that have every dimension of `dims` inside its
/// distribution. Finished trials' membership is remembered in `status` (see
/// [`Kept::status`]); running trials (values may still arrive) are checked
/// on every ask.
fn bad_rows(h: &History, above: &[usize], dims: &Dims, status: &mut Vec<u8>) -> Vec<usize> {
    if status.len() < h.trials().len() {
        status.resize(h.trials().len(), 0);
    }
    let mut rows = Vec::with_capacity(above.len());
    let mut scratch = Vec::with_capacity(dims.len());
    for &t in above {
        let finished = h.trials()[t].state.is_finished();
        let ok = match status[t] {
            1 if finished => true,
            2 if finished => false,
            _ => {
                scratch.clear();
                let ok = TpeSampler::row_values(h, t, dims, &mut scratch);
                if finished {
                    status[t] = if ok { 1 } else { 2 };
                }
                ok
            }
        };
        if ok {
            rows.push(t);
        }
    }
    rows
}

impl Kept {
    /// This estimator updated to the bad set `rows` with `weights`, when few
    /// rows changed and the magic clip's bound did not; None otherwise (then
    /// the caller refits).
    fn updated(
        mut self,
        h: &History,
        dims: &Dims,
        rows: &[usize],
        weights: &[f64],
        s: &ParzenSettings,
    ) -> Option<Kept> {
        let (gone, new) = self.diff(h, rows);
        let small = gone.len() + new.len() <= 8.max(rows.len() / 8);
        if !(small && same_clip(self.rows.len(), rows.len(), s)) {
            return None;
        }
        self.update(h, dims, &gone, &new, s)?;
        Arc::make_mut(&mut self.parzen).finish_update(weights, s);
        self.updates += 1;
        Some(self)
    }

    /// Trials that left and trials that joined, from the kept rows to `rows`
    /// (both ascending). Running trials are always replaced: their values
    /// may have changed.
    fn diff(&self, h: &History, rows: &[usize]) -> (Vec<usize>, Vec<usize>) {
        let running = |t: usize| !h.trials()[t].state.is_finished();
        let (mut gone, mut new) = (Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < self.rows.len() || j < rows.len() {
            if j == rows.len() || (i < self.rows.len() && self.rows[i] < rows[j]) {
                gone.push(self.rows[i]);
                i += 1;
            } else if i == self.rows.len() || rows[j] < self.rows[i] {
                new.push(rows[j]);
                j += 1;
            } else {
                if running(rows[j]) {
                    gone.push(rows[j]);
                    new.push(rows[j]);
                }
                i += 1;
                j += 1;
            }
        }
        (gone, new)
    }

    /// A fresh fit of `rows` (trials with all of `dims`), with the sorted
    /// columns that later updates maintain.
    fn fresh(
        h: &History,
        rows: &[usize],
        dims: &Dims,
        dists: &[Distribution],
        weights: &[f64],
        s: &ParzenSettings,
    ) -> Kept {
        let d = dims.len();
        let mut obs = Vec::with_capacity(rows.len() * d);
        for &t in rows {
            let ok = TpeSampler::row_values(h, t, dims, &mut obs);
            debug_assert!(ok);
        }
        let orders = TpeSampler::orders(h, rows, dims, &obs);
        let parzen = Parzen::with_orders(dists, &obs, weights, s, Some(&orders), None);
        let sorted = orders
            .iter()
            .enumerate()
            .map(|(j, o)| {
                o.iter()
                    .map(|&r| {
                        let v = obs[r as usize * d + j];
                        (sort_key(v), rows[r as usize] as u32, parzen.to_model(j, v))
                    })
                    .collect()
            })
            .collect();
        Kept {
            rows: rows.to_vec(),
            obs,
            sorted,
            status: Vec::new(),
            parzen: Arc::new(parzen),
            updates: 0,
            last_used: 0,
        }
    }

    /// Removes the trials `gone` and inserts `new` (both ascending), then
    /// recomputes the bandwidths next to every change. None when the kept
    /// state does not match (then the caller refits).
    fn update(
        &mut self,
        h: &History,
        dims: &Dims,
        gone: &[usize],
        new: &[usize],
        s: &ParzenSettings,
    ) -> Option<()> {
        let mut touched: Vec<Vec<u32>> = vec![Vec::new(); dims.len()];
        for &t in gone {
            self.remove_trial(t, &mut touched)?;
        }
        let mut x = Vec::with_capacity(dims.len());
        for &t in new {
            x.clear();
            if !TpeSampler::row_values(h, t, dims, &mut x) {
                return None;
            }
            self.insert_trial(t, &x, &mut touched);
        }
        for (j, tj) in touched.iter_mut().enumerate() {
            self.refresh_bandwidths(j, tj, s)?;
        }
        Some(())
    }

    /// Removes trial `t`'s kernel; its neighbours in each dimension's order
    /// go to `touched`.
    fn remove_trial(&mut self, t: usize, touched: &mut [Vec<u32>]) -> Option<()> {
        let d = touched.len();
        let r = self.rows.binary_search(&t).ok()?;
        for j in 0..d {
            let e = (sort_key(self.obs[r * d + j]), t as u32);
            let col = &mut self.sorted[j];
            let pos = col.binary_search_by(|x| (x.0, x.1).cmp(&e)).ok()?;
            col.remove(pos);
            if pos > 0 {
                touched[j].push(col[pos - 1].1);
            }
            if pos < col.len() {
                touched[j].push(col[pos].1);
            }
        }
        Arc::make_mut(&mut self.parzen).remove_obs(r);
        self.rows.remove(r);
        self.obs.drain(r * d..(r + 1) * d);
        Some(())
    }

    /// Inserts trial `t` with values `x`; it and its neighbours in each
    /// dimension's order go to `touched`.
    fn insert_trial(&mut self, t: usize, x: &[f64], touched: &mut [Vec<u32>]) {
        let d = touched.len();
        let parzen = Arc::make_mut(&mut self.parzen);
        let r = self.rows.partition_point(|&u| u < t);
        self.rows.insert(r, t);
        self.obs.splice(r * d..r * d, x.iter().copied());
        parzen.insert_obs(r, x);
        for j in 0..d {
            let e = (sort_key(x[j]), t as u32);
            let col = &mut self.sorted[j];
            let pos = col.partition_point(|y| (y.0, y.1) < e);
            col.insert(pos, (e.0, e.1, parzen.to_model(j, x[j])));
            for q in pos.saturating_sub(1)..(pos + 2).min(col.len()) {
                touched[j].push(col[q].1);
            }
        }
    }

    /// Recomputes the bandwidths in dimension `j` of the trials `tj` (those
    /// next to a change) and of the first and last two, which take their
    /// inner gap without endpoints.
    fn refresh_bandwidths(
        &mut self,
        j: usize,
        tj: &mut Vec<u32>,
        s: &ParzenSettings,
    ) -> Option<()> {
        let d = self.sorted.len();
        let n = self.rows.len();
        let parzen = Arc::make_mut(&mut self.parzen);
        let Some((low, high)) = parzen.model_bounds(j) else {
            return Some(());
        };
        let col = &self.sorted[j];
        for q in [0, 1, n.saturating_sub(2), n.saturating_sub(1)] {
            if q < n {
                tj.push(col[q].1);
            }
        }
        tj.sort_unstable();
        tj.dedup();
        for &t in tj.iter() {
            let Ok(r) = self.rows.binary_search(&(t as usize)) else {
                continue;
            };
            let e = (sort_key(self.obs[r * d + j]), t);
            let pos = col.binary_search_by(|y| (y.0, y.1).cmp(&e)).ok()?;
            let prev = if pos == 0 { low } else { col[pos - 1].2 };
            let next = if pos + 1 == n { high } else { col[pos + 1].2 };
            let sg = parzen::neighbour_sigma(prev, col[pos].2, next, pos, n, low, high, s);
            parzen.set_sigma(j, r, sg);
        }
        Some(())
    }
}

//! Tree-structured Parzen Estimator (Bergstra et al. 2011, "Algorithms for
//! Hyper-Parameter Optimization"; Watanabe 2023, "Tree-structured Parzen
//! Estimator: Understanding Its Algorithm Components and Why They Matter",
//! arXiv 2304.11127), with Optuna 5's defaults and split rules.
//!
//! Each ask: the finished trials are split into a "good" set (the best
//! gamma(n) by value) and a "bad" set; one Parzen estimator l(x) is fitted to
//! the good set and one g(x) to the bad set; `n_ei_candidates` points are drawn
//! from l(x) and the one maximising log l(x) - log g(x) (the expected
//! improvement up to a monotone map) is returned.
//!
//! Split order (Optuna's): feasible COMPLETE trials by value; then PRUNED trials
//! (deeper last step first, then by last intermediate value); then trials that
//! violate black-box constraints, by total violation. With `constant_liar`,
//! RUNNING trials always join the bad set, so parallel workers spread out.
//! Several objectives (MOTPE, Ozaki et al. 2020/2022): the good set is filled by
//! non-dominated fronts, the last front tie-broken by greedy hypervolume
//! subset selection; good-set weights are uniform, as in Optuna 5.

pub mod parzen;
pub mod truncnorm;

use std::collections::HashMap;
use std::sync::Arc;

use super::{expect_words, rng_from_words, rng_words, Sampler, SamplerState};
use crate::constraints::{Accept, SearchSpace};
use crate::error::{Error, Result};
use crate::history::sort_key;
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::space::{Condition, Distribution};
use parzen::{same_clip, ConstMemo, Parzen, ParzenSettings};

/// A user-supplied gamma: number of finished trials -> size of the good set.
pub type GammaFn = Box<dyn Fn(usize) -> std::result::Result<usize, String> + Send>;
/// A user-supplied weighting: number of observations -> one weight each, oldest first.
pub type WeightsFn = Box<dyn Fn(usize) -> std::result::Result<Vec<f64>, String> + Send>;

/// Optuna's default gamma: min(ceil(0.1 n), 25).
pub fn default_gamma(n: usize) -> usize {
    n.div_ceil(10).min(25)
}

/// Optuna's default gamma for several objectives: ceil(0.1 n).
pub fn default_gamma_multi(n: usize) -> usize {
    n.div_ceil(10)
}

/// Optuna's default weights: 1 for the newest 25 observations, a linear ramp
/// from 1/n to 1 for the older ones.
pub fn default_weights(n: usize) -> Vec<f64> {
    if n < 25 {
        return vec![1.0; n];
    }
    let m = n - 25;
    let start = 1.0 / n as f64;
    let mut w: Vec<f64> = match m {
        0 => Vec::new(),
        1 => vec![start],
        _ => (0..m)
            .map(|i| start + (1.0 - start) * i as f64 / (m - 1) as f64)
            .collect(),
    };
    w.extend(std::iter::repeat_n(1.0, 25));
    w
}

/// Settings of the sampler; see the Python `TPESampler` for their meaning.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TpeConfig {
    pub n_startup_trials: usize,
    pub n_ei_candidates: usize,
    pub multivariate: bool,
    pub group: bool,
    pub constant_liar: bool,
    pub parzen: ParzenSettings,
}

impl Default for TpeConfig {
    fn default() -> Self {
        TpeConfig {
            n_startup_trials: 10,
            n_ei_candidates: 24,
            multivariate: true,
            group: false,
            constant_liar: true,
            parzen: ParzenSettings {
                prior_weight: 1.0,
                consider_magic_clip: true,
                consider_endpoints: false,
            },
        }
    }
}

/// The TPE sampler.
pub struct TpeSampler {
    pub cfg: TpeConfig,
    pub rng: Rng,
    gamma: Option<GammaFn>,
    weights: Option<WeightsFn>,
    /// Kernel constants by (param, good set?), reused across asks while the
    /// parameter keeps its distribution (fingerprint); see [`ConstMemo`].
    /// One entry per parameter and side, so memory stays linear in the trials
    /// even when ranges change from trial to trial.
    memo: HashMap<(u32, bool), (u64, ConstMemo)>,
    /// The bad set's estimator per modelled space (parameters and
    /// distribution fingerprints), updated in place from one ask to the next.
    kept: HashMap<Vec<(u32, u64)>, Kept>,
    /// Bad-set fits so far, to find the least recently used kept estimator.
    fits: u64,
}

/// At most this many kept estimators (one per modelled space: one in the
/// default multivariate mode, one per parameter in univariate mode); beyond,
/// the least recently used goes, so that spaces whose ranges change from
/// trial to trial cannot pile up estimators.
const MAX_KEPT: usize = 64;

/// A bad-set estimator kept between asks. From one ask to the next the bad
/// set gains the trial just finished (or loses one to the good set), so
/// rather than refitting n kernels, the few that joined or left are inserted
/// or removed and only their neighbours' bandwidths are recomputed (a
/// bandwidth depends on the two adjacent observations in its dimension). The
/// result equals a fresh fit (tests check it); weights, which change for
/// every old observation, are recomputed in O(n).
#[derive(Debug, Clone)]
struct Kept {
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
    updates: usize,
    /// Value of `TpeSampler::fits` when last used.
    last_used: u64,
}

/// A fingerprint of a distribution's arguments (kernel constants depend on the range).
fn fingerprint(d: &Distribution) -> u64 {
    let (a, b, c) = match *d {
        Distribution::Float {
            low,
            high,
            step,
            log,
        } => (
            low.to_bits(),
            high.to_bits(),
            step.map_or(0, f64::to_bits) ^ log as u64,
        ),
        Distribution::Int {
            low,
            high,
            step,
            log,
        } => (low as u64, high as u64, (step as u64) << 1 | log as u64),
        Distribution::Categorical { n } => (n as u64, 0, 0),
    };
    a.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        ^ b.rotate_left(21).wrapping_mul(0xBF58_476D_1CE4_E5B9)
        ^ c
}

impl std::fmt::Debug for TpeSampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TpeSampler")
            .field("cfg", &self.cfg)
            .finish()
    }
}

/// One dimension of a space to model: the study's parameter index (None for a
/// parameter no trial has yet) and its distribution.
type Dims = [(Option<u32>, Distribution)];

impl TpeSampler {
    /// A sampler with `cfg`; `seed` drives every random choice.
    pub fn new(cfg: TpeConfig, seed: u64) -> Result<Self> {
        if cfg.n_ei_candidates == 0 {
            return Err(Error::InvalidArgument(
                "n_ei_candidates must be >= 1".into(),
            ));
        }
        if !(cfg.parzen.prior_weight.is_finite() && cfg.parzen.prior_weight >= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "prior_weight must be a finite number >= 0, got {}",
                cfg.parzen.prior_weight
            )));
        }
        Ok(TpeSampler {
            cfg,
            rng: Rng::new(seed),
            gamma: None,
            weights: None,
            memo: HashMap::new(),
            kept: HashMap::new(),
            fits: 0,
        })
    }

    /// Replaces the default gamma.
    pub fn set_gamma(&mut self, f: Option<GammaFn>) {
        self.gamma = f;
    }

    /// Replaces the default weights.
    pub fn set_weights(&mut self, f: Option<WeightsFn>) {
        self.weights = f;
    }

    fn gamma(&self, n: usize, multi: bool) -> Result<usize> {
        match &self.gamma {
            Some(f) => f(n).map_err(|e| Error::InvalidArgument(format!("gamma: {e}"))),
            None if multi => Ok(default_gamma_multi(n)),
            None => Ok(default_gamma(n)),
        }
    }

    fn weights(&self, n: usize) -> Result<Vec<f64>> {
        let w = match &self.weights {
            Some(f) => f(n).map_err(|e| Error::InvalidArgument(format!("weights: {e}")))?,
            None => return Ok(default_weights(n)),
        };
        if w.len() < n {
            return Err(Error::InvalidArgument(format!(
                "weights({n}) returned {} values",
                w.len()
            )));
        }
        let w = w[..n].to_vec();
        if w.iter().any(|x| !x.is_finite() || *x < 0.0) || (n > 0 && w.iter().sum::<f64>() <= 0.0) {
            return Err(Error::InvalidArgument(format!(
                "weights({n}) must be finite, non-negative and not all zero"
            )));
        }
        Ok(w)
    }

    /// Splits the trials (all but `current`) into good and bad sets, each sorted by number.
    pub fn split(&self, h: &History, current: usize) -> Result<(Vec<usize>, Vec<usize>)> {
        let multi = h.n_objectives() > 1;
        let cons = h.has_constraints();
        let sign: Vec<f64> = h
            .maximize()
            .iter()
            .map(|&m| if m { -1.0 } else { 1.0 })
            .collect();
        let (mut complete, mut pruned, mut running, mut infeasible) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (t, rec) in h.trials().iter().enumerate() {
            if t == current {
                continue;
            }
            match rec.state {
                TrialState::Running if self.cfg.constant_liar => running.push(t),
                TrialState::Complete | TrialState::Pruned if cons && rec.violation() > 0.0 => {
                    infeasible.push(t)
                }
                TrialState::Complete => complete.push(t),
                TrialState::Pruned => pruned.push(t),
                _ => {}
            }
        }
        let n = complete.len() + pruned.len() + infeasible.len();
        let mut n_below = self.gamma(n, multi)?;
        let trials = h.trials();

        let (mut below, mut above) = if multi {
            let lvals: Vec<Vec<f64>> = complete
                .iter()
                .map(|&t| {
                    trials[t]
                        .values
                        .iter()
                        .zip(&sign)
                        .map(|(v, s)| v * s)
                        .collect()
                })
                .collect();
            let chosen = split_multi(&lvals, n_below.min(complete.len()));
            let mut b = Vec::new();
            let mut a = Vec::new();
            for (i, &t) in complete.iter().enumerate() {
                if chosen[i] {
                    b.push(t)
                } else {
                    a.push(t)
                }
            }
            (b, a)
        } else {
            let mut keyed: Vec<(u64, usize)> = complete
                .iter()
                .map(|&t| (crate::history::sort_key(trials[t].values[0] * sign[0]), t))
                .collect();
            // Only the good set needs its order: select it in O(n).
            let k = n_below.min(keyed.len());
            if k < keyed.len() {
                keyed.select_nth_unstable(k);
            }
            keyed[..k].sort_unstable();
            let above = keyed[k..].iter().map(|e| e.1).collect();
            (keyed[..k].iter().map(|e| e.1).collect(), above)
        };
        n_below = n_below.saturating_sub(below.len());

        let pruned_key = |t: usize| -> (f64, f64) {
            match trials[t].last_intermediate() {
                Some((step, v)) if v.is_nan() => (-(step as f64), f64::INFINITY),
                Some((step, v)) => (-(step as f64), v * sign[0]),
                None => (1.0, 0.0),
            }
        };
        pruned.sort_by(|&x, &y| {
            let (a, b) = (pruned_key(x), pruned_key(y));
            a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1))
        });
        let k = n_below.min(pruned.len());
        let pruned_above = pruned.split_off(k);
        below.extend(pruned);
        above.extend(pruned_above);
        n_below = n_below.saturating_sub(k);

        infeasible.sort_by(|&x, &y| trials[x].violation().total_cmp(&trials[y].violation()));
        let k = n_below.min(infeasible.len());
        let infeasible_above = infeasible.split_off(k);
        below.extend(infeasible);
        above.extend(infeasible_above);
        above.extend(running);
        below.sort_unstable();
        // In trial order, by marking rather than sorting.
        let mut mark = vec![false; trials.len()];
        for &t in &above {
            mark[t] = true;
        }
        let above = (0..trials.len()).filter(|&t| mark[t]).collect();
        Ok((below, above))
    }

    /// Row-major observations of `dims` from `trials` that have all of them,
    /// and the trial of each row.
    fn gather(h: &History, trials: &[usize], dims: &Dims) -> (Vec<f64>, Vec<usize>) {
        let mut obs = Vec::with_capacity(trials.len() * dims.len());
        let mut rows = Vec::with_capacity(trials.len());
        'trial: for &t in trials {
            let start = obs.len();
            for (p, d) in dims {
                let v = p.and_then(|p| h.value(p, t));
                match v {
                    Some(v) if d.contains(v) => obs.push(v),
                    _ => {
                        obs.truncate(start);
                        continue 'trial;
                    }
                }
            }
            rows.push(t);
        }
        (obs, rows)
    }

    /// For each dimension, the rows of `obs` in ascending order of its value,
    /// read off the history's sorted columns (values still pending for
    /// running trials are merged in).
    fn orders(h: &History, rows: &[usize], dims: &Dims, obs: &[f64]) -> Vec<Vec<u32>> {
        let d = dims.len();
        if rows.len() * 16 < h.trials().len() {
            // A few rows (the good set): sorting them beats walking columns.
            return (0..d)
                .map(|j| {
                    let mut o: Vec<u32> = (0..rows.len() as u32).collect();
                    o.sort_unstable_by_key(|&r| {
                        (sort_key(obs[r as usize * d + j]), rows[r as usize])
                    });
                    o
                })
                .collect();
        }
        let mut row_of = vec![u32::MAX; h.trials().len()];
        for (r, &t) in rows.iter().enumerate() {
            row_of[t] = r as u32;
        }
        let mut out = Vec::with_capacity(d);
        for (j, (p, _)) in dims.iter().enumerate() {
            let mut order: Vec<u32> = Vec::with_capacity(rows.len());
            if let Some(p) = p {
                for &(_, t) in h.params()[*p as usize].sorted().iter() {
                    let r = row_of[t as usize];
                    if r != u32::MAX {
                        order.push(r);
                    }
                }
            }
            if order.len() < rows.len() {
                let mut seen = vec![false; rows.len()];
                for &r in &order {
                    seen[r as usize] = true;
                }
                let mut extra: Vec<u32> = (0..rows.len() as u32)
                    .filter(|&r| !seen[r as usize])
                    .collect();
                // The history's order: by value, ties by trial number.
                let key = |r: u32| (sort_key(obs[r as usize * d + j]), rows[r as usize]);
                extra.sort_by_key(|&r| key(r));
                let mut merged = Vec::with_capacity(rows.len());
                let (mut i, mut k) = (0, 0);
                while i < order.len() || k < extra.len() {
                    if k == extra.len() || (i < order.len() && key(order[i]) <= key(extra[k])) {
                        merged.push(order[i]);
                        i += 1;
                    } else {
                        merged.push(extra[k]);
                        k += 1;
                    }
                }
                order = merged;
            }
            out.push(order);
        }
        out
    }

    /// Row-major values of `dims` for trial `t`, when it has all of them
    /// inside their distributions.
    fn row_values(h: &History, t: usize, dims: &Dims, out: &mut Vec<f64>) -> bool {
        let start = out.len();
        for (p, d) in dims {
            match p.and_then(|p| h.value(p, t)) {
                Some(v) if d.contains(v) => out.push(v),
                _ => {
                    out.truncate(start);
                    return false;
                }
            }
        }
        true
    }

    /// g(x) for `dims` over the `above` trials: the kept estimator updated
    /// when it is close to the new set, else a fresh fit that is then kept.
    fn fit_bad(&mut self, h: &History, above: &[usize], dims: &Dims) -> Result<Arc<Parzen>> {
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
        let d = dims.len();
        let mut kept = self.kept.remove(&key);
        // The new rows: finished trials' membership is remembered, running
        // trials (values may still arrive) are checked on every ask.
        let mut status = kept
            .as_mut()
            .map(|k| std::mem::take(&mut k.status))
            .unwrap_or_default();
        if status.len() < h.trials().len() {
            status.resize(h.trials().len(), 0);
        }
        let mut rows = Vec::with_capacity(above.len());
        let mut scratch = Vec::with_capacity(d);
        for &t in above {
            let finished = h.trials()[t].state.is_finished();
            let ok = match status[t] {
                1 if finished => true,
                2 if finished => false,
                _ => {
                    scratch.clear();
                    let ok = Self::row_values(h, t, dims, &mut scratch);
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
        let weights = self.weights(rows.len())?;
        let updated = kept.and_then(|mut k| {
            let running = |t: usize| !h.trials()[t].state.is_finished();
            // Trials that left, and trials that joined (running trials are
            // always replaced: their values may have changed).
            let (mut gone, mut new) = (Vec::new(), Vec::new());
            let (mut i, mut j) = (0, 0);
            while i < k.rows.len() || j < rows.len() {
                if j == rows.len() || (i < k.rows.len() && k.rows[i] < rows[j]) {
                    gone.push(k.rows[i]);
                    i += 1;
                } else if i == k.rows.len() || rows[j] < k.rows[i] {
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
            let small = gone.len() + new.len() <= 8.max(rows.len() / 8);
            if !(small && same_clip(k.rows.len(), rows.len(), &s)) {
                return None;
            }
            k.update(h, dims, &gone, &new, &s)?;
            Arc::make_mut(&mut k.parzen).finish_update(&weights, &s);
            k.updates += 1;
            Some(k)
        });
        let mut k = match updated {
            Some(k) => k,
            None => Kept::fresh(h, &rows, dims, &dists, &weights, &s),
        };
        k.status = status;
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
        Ok(g)
    }

    /// Fits l(x) and g(x) for `dims`.
    fn fit(
        &mut self,
        h: &History,
        below: &[usize],
        above: &[usize],
        dims: &Dims,
    ) -> Result<(Parzen, Arc<Parzen>)> {
        let dists: Vec<Distribution> = dims.iter().map(|d| d.1.clone()).collect();
        let (ob, rb) = Self::gather(h, below, dims);
        let wb = if h.n_objectives() > 1 {
            vec![1.0; rb.len()]
        } else {
            self.weights(rb.len())?
        };
        let ordb = Self::orders(h, &rb, dims, &ob);
        let s = self.cfg.parzen;
        let keys: Vec<Option<(u32, u64)>> = dims
            .iter()
            .map(|(p, d)| p.map(|p| (p, fingerprint(d))))
            .collect();
        let mut take = |below: bool| -> Vec<ConstMemo> {
            keys.iter()
                .map(|k| {
                    k.and_then(|(p, f)| {
                        self.memo
                            .remove(&(p, below))
                            .filter(|(fp, _)| *fp == f)
                            .map(|(_, m)| m)
                    })
                    .unwrap_or_default()
                })
                .collect()
        };
        let mut mb = take(true);
        let l = Parzen::with_orders(&dists, &ob, &wb, &s, Some(&ordb), Some((&rb, &mut mb)));
        for (k, m) in keys.iter().zip(mb) {
            if let Some((p, f)) = k {
                self.memo.insert((*p, true), (*f, m));
            }
        }
        let g = self.fit_bad(h, above, dims)?;
        Ok((l, g))
    }

    /// Samples `dims` jointly: the best of `n_ei_candidates` draws from l(x).
    fn sample_joint(
        &mut self,
        h: &History,
        below: &[usize],
        above: &[usize],
        dims: &Dims,
    ) -> Result<Vec<f64>> {
        let (l, g) = self.fit(h, below, above, dims)?;
        let m = self.cfg.n_ei_candidates;
        let cands = l.sample(&mut self.rng, m);
        let (lb, la) = (l.log_pdf(&cands), g.log_pdf(&cands));
        let best = argmax((0..m).map(|i| lb[i] - la[i]));
        let d = dims.len();
        Ok(cands[best * d..(best + 1) * d].to_vec())
    }

    fn startup(&self, h: &History) -> bool {
        h.n_complete_or_pruned() < self.cfg.n_startup_trials
    }
}

impl Kept {
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
        let d = dims.len();
        let parzen = Arc::make_mut(&mut self.parzen);
        let mut touched: Vec<Vec<u32>> = vec![Vec::new(); d];
        for &t in gone {
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
            parzen.remove_obs(r);
            self.rows.remove(r);
            self.obs.drain(r * d..(r + 1) * d);
        }
        let mut x = Vec::with_capacity(d);
        for &t in new {
            x.clear();
            if !TpeSampler::row_values(h, t, dims, &mut x) {
                return None;
            }
            let r = self.rows.partition_point(|&u| u < t);
            self.rows.insert(r, t);
            self.obs.splice(r * d..r * d, x.iter().copied());
            parzen.insert_obs(r, &x);
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
        let n = self.rows.len();
        for (j, tj) in touched.iter_mut().enumerate() {
            let Some((low, high)) = parzen.model_bounds(j) else {
                continue;
            };
            let col = &self.sorted[j];
            // The first and last two take their inner gap without endpoints.
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
        }
        Some(())
    }
}

fn argmax(scores: impl Iterator<Item = f64>) -> usize {
    let mut best = (0, f64::NEG_INFINITY);
    for (i, s) in scores.enumerate() {
        if s > best.1 || (best.1 == f64::NEG_INFINITY && i == 0) {
            best = (i, s);
        }
    }
    best.0
}

impl Sampler for TpeSampler {
    fn independent_is_cheap(&self) -> bool {
        false
    }

    fn sample_independent(
        &mut self,
        h: &History,
        trial: usize,
        name: &str,
        dist: &Distribution,
    ) -> Result<f64> {
        if self.startup(h) || dist.is_single() {
            return Ok(dist.from_unit(self.rng.uniform()));
        }
        let dims = [(h.param_index(name), dist.clone())];
        let (below, above) = self.split(h, trial)?;
        Ok(self.sample_joint(h, &below, &above, &dims)?[0])
    }

    fn relative_values(&mut self, h: &History, trial: usize) -> Result<Vec<(u32, u32, f64)>> {
        if !self.cfg.multivariate || self.startup(h) {
            return Ok(Vec::new());
        }
        let spaces: Vec<Vec<(u32, u32)>> = if self.cfg.group {
            h.groups().to_vec()
        } else {
            vec![h.intersection_space()]
        };
        let (below, above) = self.split(h, trial)?;
        let mut out = Vec::new();
        for space in spaces {
            let space: Vec<(u32, u32)> = space
                .into_iter()
                .filter(|&(p, d)| !h.dist(p, d).is_single())
                .collect();
            if space.is_empty() {
                continue;
            }
            let dims: Vec<(Option<u32>, Distribution)> = space
                .iter()
                .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
                .collect();
            let vals = self.sample_joint(h, &below, &above, &dims)?;
            out.extend(space.iter().zip(vals).map(|(&(p, d), v)| (p, d, v)));
        }
        Ok(out)
    }

    fn sample_space(
        &mut self,
        h: &History,
        trial: usize,
        space: &SearchSpace,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<f64>> {
        if self.startup(h) {
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        let params = space.params();
        // Parameters that are active together (same condition) form a group,
        // modelled jointly on the trials where the group was active.
        let mut keys: Vec<Option<&Condition>> = Vec::new();
        let mut groups: Vec<Vec<usize>> = Vec::new();
        for (i, p) in params.iter().enumerate() {
            if p.dist.is_single() {
                continue;
            }
            let key = p.condition.as_ref();
            match keys.iter().position(|k| *k == key) {
                Some(g) => groups[g].push(i),
                None => {
                    keys.push(key);
                    groups.push(vec![i]);
                }
            }
        }
        let (below, above) = self.split(h, trial)?;
        let mut models = Vec::with_capacity(groups.len());
        for g in &groups {
            let dims: Vec<(Option<u32>, Distribution)> = g
                .iter()
                .map(|&i| (h.param_index(&params[i].name), params[i].dist.clone()))
                .collect();
            models.push(self.fit(h, &below, &above, &dims)?);
        }
        let m = self.cfg.n_ei_candidates;
        let n = params.len();
        let mut cands: Vec<Vec<f64>> = Vec::with_capacity(m);
        let mut x = vec![f64::NAN; n];
        let mut draws = 0;
        let budget = max_draws.clamp(m, 50 * m);
        while cands.len() < m && draws < budget {
            draws += 1;
            for (i, p) in params.iter().enumerate() {
                x[i] = if p.dist.is_single() {
                    p.dist.from_unit(0.5)
                } else {
                    f64::NAN
                };
            }
            for (g, idx) in groups.iter().enumerate() {
                let active = match keys[g] {
                    None => true,
                    Some(c) => !x[c.parent].is_nan() && c.values.contains(&x[c.parent]),
                };
                if active {
                    let v = models[g].0.sample(&mut self.rng, 1);
                    for (j, &i) in idx.iter().enumerate() {
                        x[i] = v[j];
                    }
                }
            }
            space.apply_conditions(&mut x);
            if space.is_feasible(&x) && accept(&x)? {
                cands.push(x.clone());
            }
        }
        // Where l(x) keeps proposing infeasible points, complete the batch from
        // the constrained uniform sampler: every candidate is feasible.
        while cands.len() < m {
            cands.push(space.sample_uniform(&mut self.rng, max_draws, &mut *accept)?);
        }
        let mut scores = vec![0.0; m];
        for (g, idx) in groups.iter().enumerate() {
            let rows: Vec<usize> = (0..m).filter(|&c| !cands[c][idx[0]].is_nan()).collect();
            if rows.is_empty() {
                continue;
            }
            let pts: Vec<f64> = rows
                .iter()
                .flat_map(|&c| idx.iter().map(move |&i| (c, i)))
                .map(|(c, i)| cands[c][i])
                .collect();
            let (l, gg) = &models[g];
            let (lb, la) = (l.log_pdf(&pts), gg.log_pdf(&pts));
            for (r, &c) in rows.iter().enumerate() {
                scores[c] += lb[r] - la[r];
            }
        }
        let best = argmax(scores.into_iter());
        Ok(cands.swap_remove(best))
    }

    /// The generator's four words (the kernel caches are rebuilt from the
    /// history).
    fn state(&self) -> SamplerState {
        rng_words(&self.rng)
    }

    fn set_state(&mut self, state: &[u64]) -> Result<()> {
        expect_words(state, 4)?;
        self.rng = rng_from_words(state)?;
        Ok(())
    }

    fn reseed(&mut self, seed: u64) {
        self.rng = Rng::new(seed);
    }
}

/// Chooses `k` of the (minimised) loss vectors for the good set: whole
/// non-dominated fronts, the last one tie-broken by greedy hypervolume subset
/// selection.
fn split_multi(lvals: &[Vec<f64>], k: usize) -> Vec<bool> {
    let n = lvals.len();
    let mut chosen = vec![false; n];
    if k == 0 {
        return chosen;
    }
    if k >= n {
        return vec![true; n];
    }
    let dominates = |a: &[f64], b: &[f64]| {
        a.iter().zip(b).all(|(x, y)| x <= y) && a.iter().zip(b).any(|(x, y)| x < y)
    };
    let mut remaining: Vec<usize> = (0..n).collect();
    let mut taken = 0;
    while taken < k {
        let front: Vec<usize> = remaining
            .iter()
            .copied()
            .filter(|&i| !remaining.iter().any(|&j| dominates(&lvals[j], &lvals[i])))
            .collect();
        if taken + front.len() <= k {
            for &i in &front {
                chosen[i] = true;
            }
            taken += front.len();
            remaining.retain(|i| !front.contains(i));
            continue;
        }
        for i in hssp_greedy(lvals, &front, k - taken) {
            chosen[i] = true;
        }
        break;
    }
    chosen
}

/// Greedy hypervolume subset selection of `k` points of `front`.
fn hssp_greedy(lvals: &[Vec<f64>], front: &[usize], k: usize) -> Vec<usize> {
    if front
        .iter()
        .any(|&i| lvals[i].iter().any(|v| !v.is_finite()))
    {
        // Hypervolumes of infinite losses are infinite or NaN: select on a copy
        // whose infinite losses sit one span beyond the finite ones, which keeps
        // every comparison between the points of the front.
        let clamped = clamp_infinite_losses(lvals, front);
        let order: Vec<usize> = (0..front.len()).collect();
        return hssp_greedy(&clamped, &order, k)
            .into_iter()
            .map(|i| front[i])
            .collect();
    }
    let d = lvals[front[0]].len();
    // Optuna's reference point: 1.1 x the worst value (0.9 x when negative).
    let reference: Vec<f64> = (0..d)
        .map(|j| {
            let worst = front
                .iter()
                .map(|&i| lvals[i][j])
                .fold(f64::NEG_INFINITY, f64::max);
            let r = (1.1 * worst).max(0.9 * worst);
            if r == 0.0 {
                1e-12
            } else {
                r
            }
        })
        .collect();
    let mut selected: Vec<usize> = Vec::with_capacity(k);
    let mut pool: Vec<usize> = front.to_vec();
    // Exact hypervolumes are cheap for small fronts; beyond, use a crowding
    // distance ordering (NSGA-II), which also spreads the selection.
    if pool.len() > 64 && d > 2 {
        let mut crowd: HashMap<usize, f64> = pool.iter().map(|&i| (i, 0.0)).collect();
        for j in 0..d {
            let mut s = pool.clone();
            s.sort_by(|&a, &b| lvals[a][j].total_cmp(&lvals[b][j]));
            let span = (lvals[s[s.len() - 1]][j] - lvals[s[0]][j]).max(1e-300);
            *crowd.get_mut(&s[0]).expect("in pool") = f64::INFINITY;
            *crowd.get_mut(&s[s.len() - 1]).expect("in pool") = f64::INFINITY;
            for w in 1..s.len() - 1 {
                *crowd.get_mut(&s[w]).expect("in pool") +=
                    (lvals[s[w + 1]][j] - lvals[s[w - 1]][j]) / span;
            }
        }
        pool.sort_by(|a, b| crowd[b].total_cmp(&crowd[a]).then(a.cmp(b)));
        return pool.into_iter().take(k).collect();
    }
    let mut base = 0.0;
    for _ in 0..k {
        let mut best = (0, f64::NEG_INFINITY);
        for (pi, &i) in pool.iter().enumerate() {
            let mut pts: Vec<&[f64]> = selected.iter().map(|&s| lvals[s].as_slice()).collect();
            pts.push(&lvals[i]);
            let gain = hypervolume(&pts, &reference) - base;
            if gain > best.1 {
                best = (pi, gain);
            }
        }
        let i = pool.swap_remove(best.0);
        selected.push(i);
        base += best.1;
    }
    selected
}

/// The losses of `front` with each infinite coordinate replaced by a finite one
/// one span (plus one) beyond the finite values of its objective, in the same
/// direction; the order of the points along every objective is kept.
fn clamp_infinite_losses(lvals: &[Vec<f64>], front: &[usize]) -> Vec<Vec<f64>> {
    let d = lvals[front[0]].len();
    let mut out: Vec<Vec<f64>> = front.iter().map(|&i| lvals[i].clone()).collect();
    for j in 0..d {
        let finite = out.iter().map(|r| r[j]).filter(|v| v.is_finite());
        let (lo, hi) = finite.fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
        let (lo, hi) = if lo > hi { (0.0, 0.0) } else { (lo, hi) };
        let span = (hi - lo) + 1.0;
        for r in &mut out {
            if r[j] == f64::INFINITY {
                r[j] = hi + span;
            } else if r[j] == f64::NEG_INFINITY {
                r[j] = lo - span;
            }
        }
    }
    out
}

/// Hypervolume dominated by `points` (minimisation) up to `reference`, by
/// slicing along the first objective (exact; for small sets).
pub fn hypervolume(points: &[&[f64]], reference: &[f64]) -> f64 {
    let pts: Vec<&[f64]> = points
        .iter()
        .copied()
        .filter(|p| p.iter().zip(reference).all(|(x, r)| x < r))
        .collect();
    if pts.is_empty() {
        return 0.0;
    }
    let d = reference.len();
    if d == 1 {
        return reference[0] - pts.iter().map(|p| p[0]).fold(f64::INFINITY, f64::min);
    }
    let mut order: Vec<&[f64]> = pts;
    order.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let mut vol = 0.0;
    for i in 0..order.len() {
        let next = if i + 1 < order.len() {
            order[i + 1][0]
        } else {
            reference[0]
        };
        let width = next - order[i][0];
        if width <= 0.0 {
            continue;
        }
        let slice: Vec<&[f64]> = order[..=i].iter().map(|p| &p[1..]).collect();
        vol += width * hypervolume(&slice, &reference[1..]);
    }
    vol
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_bad_set_equals_a_fresh_fit() {
        // Every kind of dimension, running trials (constant liar) and a
        // parameter that is sometimes missing or out of range.
        let dims = vec![
            Distribution::float("a", 0.0, 1.0, None, false).unwrap(),
            Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
            Distribution::int("c", 1, 40, 1, false).unwrap(),
            Distribution::int("d", 1, 64, 1, true).unwrap(),
            Distribution::float("e", 0.0, 2.0, Some(0.25), false).unwrap(),
            Distribution::categorical("f", 3).unwrap(),
        ];
        let names = ["a", "b", "c", "d", "e", "f"];
        let mut h = History::new(1);
        let mut s = TpeSampler::new(TpeConfig::default(), 3).unwrap();
        let mut rng = Rng::new(5);
        let mut running: Vec<usize> = Vec::new();
        let mut checked = 0;
        for step in 0..420 {
            let t = h.create_trial(TrialState::Running);
            let rel = s.relative_values(&h, t).unwrap();
            h.set_pending(t, rel);
            for (i, (name, d)) in names.iter().zip(&dims).enumerate() {
                // "e" is left out of some trials; those never enter the model.
                if i == 4 && step % 7 == 3 {
                    continue;
                }
                let p = h.param_index(name);
                let v = match p.and_then(|p| h.pending_value(t, p, d)) {
                    Some(v) => v,
                    None => s.sample_independent(&h, t, name, d).unwrap(),
                };
                h.set_param(t, name, d, v).unwrap();
            }
            running.push(t);
            // Finish trials out of order, leaving a few running.
            while running.len() > 3 || (!running.is_empty() && rng.uniform() < 0.5) {
                let k = (rng.uniform() * running.len() as f64) as usize % running.len();
                let u = running.swap_remove(k);
                let x = h.trials()[u].params[0].value;
                let state = if u % 11 == 5 {
                    TrialState::Pruned
                } else {
                    TrialState::Complete
                };
                h.finish(u, state, vec![(x - 0.3).abs() + rng.uniform() * 0.01])
                    .unwrap();
            }
            if step < 110 || step % 9 != 0 {
                continue;
            }
            let space = h.intersection_space();
            let model: Vec<(Option<u32>, Distribution)> = space
                .iter()
                .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
                .collect();
            let probe = h.create_trial(TrialState::Running);
            let (_, above) = s.split(&h, probe).unwrap();
            let kept = s.fit_bad(&h, &above, &model).unwrap();
            let (oa, ra) = TpeSampler::gather(&h, &above, &model);
            let wa = s.weights(ra.len()).unwrap();
            let dists: Vec<Distribution> = model.iter().map(|m| m.1.clone()).collect();
            let fresh = Parzen::new(&dists, &oa, &wa, &s.cfg.parzen);
            assert_eq!(kept.n_kernels(), fresh.n_kernels());
            let mut r1 = Rng::new(step as u64);
            let pts = fresh.sample(&mut r1, 40);
            let mut r2 = Rng::new(step as u64);
            assert_eq!(kept.sample(&mut r2, 40), pts, "step {step}");
            for (a, b) in kept.log_pdf(&pts).iter().zip(fresh.log_pdf(&pts)) {
                assert!(
                    (a - b).abs() <= 1e-12 * b.abs().max(1.0),
                    "step {step}: {a} {b}"
                );
            }
            h.finish(probe, TrialState::Fail, vec![]).unwrap();
            checked += 1;
        }
        assert!(checked > 20);
        // The comparisons above were of updated estimators, not fresh fits.
        let updates: usize = s.kept.values().map(|k| k.updates).sum();
        assert!(updates > 250, "{updates}");
    }

    #[test]
    fn kept_estimators_stay_bounded_when_ranges_change_every_trial() {
        let mut h = History::new(1);
        let mut s = TpeSampler::new(TpeConfig::default(), 1).unwrap();
        for i in 0..200 {
            // A new upper bound each trial: a new space for the kept map.
            let d = Distribution::float("x", 0.0, 10.0 + i as f64, None, false).unwrap();
            let t = h.create_trial(TrialState::Running);
            let v = s.sample_independent(&h, t, "x", &d).unwrap();
            assert!(d.contains(v));
            h.set_param(t, "x", &d, v).unwrap();
            h.finish(t, TrialState::Complete, vec![v]).unwrap();
        }
        assert!(s.kept.len() <= MAX_KEPT, "{}", s.kept.len());
    }

    #[test]
    fn default_weights_match_optuna() {
        assert_eq!(default_weights(3), vec![1.0; 3]);
        let w = default_weights(30);
        assert_eq!(w.len(), 30);
        assert!((w[0] - 1.0 / 30.0).abs() < 1e-15 && w[4] == 1.0 && w[29] == 1.0);
        assert!(w[..5].windows(2).all(|p| p[0] < p[1]));
        assert_eq!(default_gamma(9), 1);
        assert_eq!(default_gamma(1000), 25);
        assert_eq!(default_gamma_multi(1000), 100);
    }

    #[test]
    fn beats_random_on_a_quadratic() {
        let dims = vec![Distribution::float("x", -5.0, 5.0, None, false).unwrap(); 3];
        let f = |x: &[f64]| x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum::<f64>();
        let mut tpe_best = Vec::new();
        let mut rnd_best = Vec::new();
        for seed in 0..5 {
            let mut s = TpeSampler::new(TpeConfig::default(), seed).unwrap();
            tpe_best.push(crate::samplers::run_minimising(
                &mut s,
                &mut History::new(1),
                f,
                &dims,
                80,
            ));
            let cfg = TpeConfig {
                n_startup_trials: 1000,
                ..TpeConfig::default()
            };
            let mut r = TpeSampler::new(cfg, seed).unwrap();
            rnd_best.push(crate::samplers::run_minimising(
                &mut r,
                &mut History::new(1),
                f,
                &dims,
                80,
            ));
        }
        tpe_best.sort_by(f64::total_cmp);
        rnd_best.sort_by(f64::total_cmp);
        assert!(tpe_best[2] < rnd_best[2] / 3.0, "{tpe_best:?} {rnd_best:?}");
        assert!(tpe_best[2] < 0.5, "{tpe_best:?}");
    }

    #[test]
    fn split_puts_running_in_bad_set_and_best_in_good() {
        let mut h = History::new(1);
        let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        for i in 0..20 {
            let t = h.create_trial(TrialState::Running);
            h.set_param(t, "x", &d, i as f64 / 20.0).unwrap();
            h.finish(t, TrialState::Complete, vec![(i as f64 - 7.0).abs()])
                .unwrap();
        }
        let r = h.create_trial(TrialState::Running);
        let me = h.create_trial(TrialState::Running);
        let s = TpeSampler::new(TpeConfig::default(), 0).unwrap();
        let (below, above) = s.split(&h, me).unwrap();
        assert_eq!(below, vec![6, 7]);
        assert!(above.contains(&r) && !above.contains(&me));
        assert_eq!(below.len() + above.len(), 21);
    }

    #[test]
    fn degenerate_ranges_never_panic() {
        // A subnormal width: bandwidths underflow, yet every value stays in range.
        let dims = vec![Distribution::float("x", 0.0, 5e-324, None, false).unwrap()];
        let mut s = TpeSampler::new(
            TpeConfig {
                n_startup_trials: 2,
                ..TpeConfig::default()
            },
            3,
        )
        .unwrap();
        let mut h = History::new(1);
        crate::samplers::run_minimising(&mut s, &mut h, |x| x[0], &dims, 12);
        assert!(h.params()[0].values.iter().all(|v| dims[0].contains(*v)));
    }

    #[test]
    fn multi_objective_split_with_infinite_losses() {
        // One front of four points (each better than the others somewhere), two of
        // them with an infinite loss; choosing two must give finite, valid picks.
        let lvals = vec![
            vec![0.0, f64::INFINITY],
            vec![1.0, 3.0],
            vec![2.0, 1.0],
            vec![f64::NEG_INFINITY, 10.0],
        ];
        let chosen = split_multi(&lvals, 2);
        assert_eq!(chosen.iter().filter(|&&c| c).count(), 2);
        // A point dominated by all others (infinite in both) is never chosen first.
        let lvals = vec![
            vec![f64::INFINITY, f64::INFINITY],
            vec![1.0, 1.0],
            vec![2.0, 0.5],
        ];
        assert_eq!(split_multi(&lvals, 1), vec![false, true, false]);
        assert_eq!(split_multi(&lvals, 2), vec![false, true, true]);
    }

    #[test]
    fn hypervolume_of_known_sets() {
        let a = [1.0, 2.0];
        let b = [2.0, 1.0];
        assert!((hypervolume(&[&a, &b], &[3.0, 3.0]) - 3.0).abs() < 1e-12);
        let c = [1.0, 1.0, 1.0];
        assert!((hypervolume(&[&c], &[2.0, 3.0, 4.0]) - 6.0).abs() < 1e-12);
        let chosen = split_multi(
            &[
                vec![1.0, 4.0],
                vec![2.0, 2.0],
                vec![4.0, 1.0],
                vec![3.0, 3.0],
            ],
            2,
        );
        assert!(!chosen[3]);
        assert_eq!(chosen.iter().filter(|c| **c).count(), 2);
    }
}

//! The trust region of an ask (step 6 of the module docs): the current
//! run's data, the hand-over of the kept models at a restart, and the box
//! the acquisition is searched in, with its rules for discrete and
//! categorical dimensions.

use super::data::{encode, Data};
use super::{GpSampler, Region};
use crate::history::History;
use crate::samplers::gp::trust_region::{bounds, replay, TrustRegion};
use crate::space::Distribution;

impl GpSampler {
    /// Replays the trust region over `data` (every COMPLETE trial, in trial
    /// order) and cuts `data` down to the current run: its COMPLETE trials,
    /// and the RUNNING trials numbered after the observation that ended the
    /// previous run. At the first ask of a new run the kept models' fits
    /// become warm starts ([`GpSampler::demote_models`]).
    pub(super) fn current_run(&mut self, h: &History, d: usize, data: &mut Data) -> TrustRegion {
        let trials = h.trials();
        let feasible: Vec<bool> = data
            .rows
            .iter()
            .map(|&t| trials[t].violation() <= 0.0)
            .collect();
        let tr = replay(&data.y, &feasible, self.cfg.n_startup_trials, d);
        if tr.run_start > 0 {
            let from = data.rows[tr.run_start - 1] + 1;
            data.x.drain(..tr.run_start * d);
            data.y.drain(..tr.run_start);
            data.rows.drain(..tr.run_start);
            let mut pending = Vec::with_capacity(data.pending.len());
            let mut pending_rows = Vec::with_capacity(data.pending_rows.len());
            for (p, &t) in data.pending.chunks(d.max(1)).zip(&data.pending_rows) {
                if t >= from {
                    pending.extend_from_slice(p);
                    pending_rows.push(t);
                }
            }
            data.pending = pending;
            data.pending_rows = pending_rows;
        }
        let new_run = self
            .cache
            .as_ref()
            .is_some_and(|c| c.rows.first() != data.rows.first());
        if new_run {
            self.demote_models();
        }
        tr
    }

    /// Drops the kept models and candidates, keeping their fitted
    /// hyperparameters as the restored fits of [`GpSampler::restore_fits`]:
    /// the next fit of each model is a warm refit on the new run's data,
    /// exactly as in a sampler unpickled at this point.
    fn demote_models(&mut self) {
        let fits = self.fits();
        if self.restored.len() < fits.len() {
            self.restored.resize(fits.len(), None);
        }
        for (r, f) in self.restored.iter_mut().zip(fits) {
            if f.is_some() {
                *r = f;
            }
        }
        self.cache = None;
        self.con_cache.clear();
        self.candidates = None;
    }

    /// The box of `tr` around `centre` (kernel coordinates) for a GP with
    /// `lengthscales`; `numeric` marks the float and int dimensions.
    pub(super) fn region(
        tr: &TrustRegion,
        centre: &[f64],
        lengthscales: &[f64],
        numeric: &[bool],
        dims: &[(Option<u32>, Distribution)],
    ) -> Region {
        let (lo, hi) = bounds(centre, lengthscales, numeric, tr.length);
        let centre = centre
            .iter()
            .zip(dims)
            .map(|(&c, (_, dist))| match dist {
                _ if c.is_nan() => f64::NAN,
                Distribution::Categorical { .. } => c,
                _ => dist.from_unit(c),
            })
            .collect();
        Region { lo, hi, centre }
    }
}

impl Region {
    /// True when internal value `v` of dimension `j` may be proposed: any
    /// choice of a categorical; for a float or int, a value whose unit
    /// coordinate lies in the box, or the centre's own value (so a box
    /// narrower than one grid step still holds a grid value).
    pub(super) fn admits(&self, dist: &Distribution, j: usize, v: f64) -> bool {
        match dist {
            Distribution::Categorical { .. } => true,
            _ => {
                let u = encode(dist, v);
                (self.lo[j] <= u && u <= self.hi[j]) || v == self.centre[j]
            }
        }
    }

    /// A value of dimension `j` near `v` that [`Region::admits`]: `v`
    /// itself, else the next grid value towards the box, else the centre's
    /// value. Continuous floats and categoricals are returned as they are
    /// (their values come from unit coordinates inside the box).
    pub(super) fn snap(&self, dist: &Distribution, j: usize, v: f64) -> f64 {
        let discrete =
            !matches!(dist, Distribution::Categorical { .. }) && dist.cardinality().is_some();
        if !discrete || self.admits(dist, j, v) || self.centre[j].is_nan() {
            return v;
        }
        if let Some(k) = dist.position(v) {
            let next = if encode(dist, v) < self.lo[j] {
                k.checked_add(1)
            } else {
                k.checked_sub(1)
            };
            if let Some(w) = next.and_then(|k| dist.checked_discrete_value(k)) {
                if self.admits(dist, j, w) {
                    return w;
                }
            }
        }
        self.centre[j]
    }

    /// The internal value of dimension `j` at the fraction `u` of the box's
    /// side, on the grid and admitted.
    pub(super) fn place(&self, dist: &Distribution, j: usize, u: f64) -> f64 {
        let v = dist.from_unit(self.lo[j] + (self.hi[j] - self.lo[j]) * u);
        self.snap(dist, j, v)
    }
}

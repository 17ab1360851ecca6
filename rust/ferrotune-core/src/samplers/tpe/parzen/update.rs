//! Incremental updates of a fitted estimator, for the bad-set estimator that
//! TPE keeps between asks (`Kept` in the sampler): observations are inserted
//! and removed, the bandwidths next to each change are recomputed with
//! [`super::kernels::neighbour_sigma`], and the weights and categorical
//! masses are recomputed for the new count. The result equals a fresh fit
//! (the sampler's tests check it).

use super::cache::{distinct_entry, OffsetTable};
use super::kernels::{cat_masses, cont_const, mixture_weights};
use super::{stepped_without_table, Dim, Parzen, ParzenSettings};

impl Parzen {
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
                    let m = mus[row];
                    map[row] = distinct_entry(uniq, index, m, sg, *mlow, *mhigh);
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
            match dim {
                Dim::Cat { .. } => dim.set_cat_masses(n, s),
                Dim::Disc { .. } => dim.rebuild_bloated_table(),
                Dim::Cont { .. } => {}
            }
        }
        self.disc = stepped_without_table(&self.dims);
    }
}

impl Dim {
    /// A categorical dimension's kernel masses for `n_obs` observations.
    pub(super) fn set_cat_masses(&mut self, n_obs: usize, s: &ParzenSettings) {
        if let Dim::Cat {
            n,
            log_hit,
            log_miss,
            cum_hit,
            cum_miss,
            ..
        } = self
        {
            let c = cat_masses(*n, n_obs, s);
            (*log_hit, *log_miss, *cum_hit, *cum_miss) = (c.log_hit, c.log_miss, c.hit, c.miss);
        }
    }

    /// Rebuilds a stepped dimension's offset table when entries no kernel
    /// uses have piled up over many updates.
    fn rebuild_bloated_table(&mut self) {
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
        } = self
        {
            if table.as_ref().is_some_and(|tb| tb.bloated(mus.len())) {
                let nlm: Vec<f64> = map.iter().map(|&u| uniq[u as usize].2).collect();
                *table = OffsetTable::build(mus, sigmas, &nlm, *low, *high, *step).map(Box::new);
            }
        }
    }
}

//! Acquisition optimisation on a declared search space: only feasible
//! configurations (the space's conditions and constraints, and the caller's
//! `accept`) are scored, so no infeasible point is proposed.

use super::data::encode;
use super::search::argmax;
use super::{GpSampler, Prepared, LOCAL_SD, N_SPACE_CANDIDATES};
use crate::constraints::{Accept, SearchSpace};
use crate::error::Result;
use crate::history::History;
use crate::samplers::qmc::{QmcKind, QmcSequence};
use crate::samplers::tpe::truncnorm::ndtri;
use crate::space::{fit_in, Distribution};

impl GpSampler {
    /// [`crate::samplers::Sampler::sample_space`] after the start-up phase.
    pub(super) fn sample_declared(
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
        let dims: Vec<(Option<u32>, Distribution)> = params
            .iter()
            .map(|p| (h.param_index(&p.name), p.dist.clone()))
            .collect();
        let prepared = match self.prepare(h, trial, &dims, true) {
            Ok(Some(p)) => p,
            Ok(None) | Err(_) => return space.sample_uniform(&mut self.rng, max_draws, accept),
        };
        let Prepared {
            scorer,
            inc,
            region,
            ..
        } = prepared;
        let d = params.len();
        // Feasible candidates only: scrambled Sobol points and perturbations
        // of the incumbents mapped through the space (conditions, enumerated
        // block), kept when every constraint and `accept` hold.
        let Ok(seq) = QmcSequence::new(QmcKind::Sobol, d.max(1), true, self.rng.next_u64()) else {
            // More parameters than Sobol direction numbers: no model search.
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        };
        let bounds = region.map(|r| (r.lo, r.hi));
        let mut cands =
            self.feasible_candidates(space, &seq, &inc, bounds.as_ref(), max_draws, accept)?;
        if cands.is_empty() {
            // Nothing feasible in the budget: the constrained draw decides
            // (and reports an infeasible space).
            return space.sample_uniform(&mut self.rng, max_draws, accept);
        }
        let dists: Vec<Distribution> = params.iter().map(|p| p.dist.clone()).collect();
        let enc: Vec<f64> = cands
            .iter()
            .flat_map(|c| c.iter().zip(&dists).map(|(&v, dist)| encode(dist, v)))
            .collect();
        let pick = if self.cfg.thompson && bounds.is_some() {
            self.thompson_choice(&scorer, &enc, cands.len())
        } else {
            scorer
                .value_batch(&enc, cands.len())
                .map(|scores| argmax(&scores))
        };
        match pick {
            Ok(k) => Ok(cands.swap_remove(k)),
            Err(_) => space.sample_uniform(&mut self.rng, max_draws, accept),
        }
    }

    /// Up to [`N_SPACE_CANDIDATES`] feasible configurations of `space`
    /// (internal values) within a budget of draws set by `max_draws`:
    /// points of the Sobol sequence `seq` alternating with perturbations of
    /// the incumbents `inc`, mapped through the space and kept when the
    /// space's rejection and constraints and `accept` pass. With a trust
    /// region's `bounds` (unit coordinates per parameter), both are drawn
    /// inside them.
    fn feasible_candidates(
        &mut self,
        space: &SearchSpace,
        seq: &QmcSequence,
        inc: &[f64],
        bounds: Option<&(Vec<f64>, Vec<f64>)>,
        max_draws: usize,
        accept: Accept<'_>,
    ) -> Result<Vec<Vec<f64>>> {
        let d = space.params().len();
        let mut cands: Vec<Vec<f64>> = Vec::new();
        let mut u = vec![0.0; d.max(1)];
        let mut x = Vec::with_capacity(d);
        let budget = max_draws.clamp(N_SPACE_CANDIDATES, 20 * N_SPACE_CANDIDATES);
        let n_inc = inc.len() / d.max(1);
        let mut draws = 0usize;
        while cands.len() < N_SPACE_CANDIDATES && draws < budget {
            if draws % 2 == 1 && n_inc > 0 {
                let base = &inc[(draws / 2 % n_inc) * d..(draws / 2 % n_inc + 1) * d];
                self.perturb_unit(base, space, bounds, &mut u);
            } else {
                seq.point(draws as u64, &mut u);
                if let Some((lo, hi)) = bounds {
                    for j in 0..d {
                        u[j] = fit_in(lo[j] + (hi[j] - lo[j]) * u[j], 0.0, 1.0 - 1e-12);
                    }
                }
            }
            draws += 1;
            space.from_unit(&u[..d], &mut x);
            if space.passes_rejection(&x) && space.is_feasible(&x) && accept(&x)? {
                cands.push(x.clone());
            }
        }
        Ok(cands)
    }

    /// Unit coordinates `u` of a perturbation of the incumbent `base`
    /// (kernel coordinates): a normal step of [`LOCAL_SD`] on numeric
    /// dimensions, a uniform draw where `base` is inactive, and on
    /// categorical ones the centre of the incumbent's choice or, with
    /// probability 1/d, a uniform draw. With a trust region's `bounds`, the
    /// numeric step is [`LOCAL_SD`] times the box's side and the point is
    /// clipped to the box.
    fn perturb_unit(
        &mut self,
        base: &[f64],
        space: &SearchSpace,
        bounds: Option<&(Vec<f64>, Vec<f64>)>,
        u: &mut [f64],
    ) {
        let params = space.params();
        let d = params.len();
        for j in 0..d {
            let b = if base[j].is_nan() {
                self.rng.uniform()
            } else {
                match params[j].dist {
                    Distribution::Categorical { n } => {
                        if self.rng.uniform() < 1.0 / d as f64 {
                            self.rng.uniform()
                        } else {
                            (base[j] + 0.5) / n as f64
                        }
                    }
                    _ => {
                        let (lo, hi) = bounds.map_or((0.0, 1.0), |b| (b.0[j], b.1[j]));
                        let z = ndtri(self.rng.uniform().max(1e-12));
                        (base[j] + LOCAL_SD * (hi - lo) * z).clamp(lo, hi)
                    }
                }
            };
            u[j] = fit_in(b, 0.0, 1.0 - 1e-12);
        }
    }
}

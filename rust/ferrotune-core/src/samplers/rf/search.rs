//! Acquisition maximisation as SMAC3's `LocalAndSortedRandomSearch`: random
//! configurations scored and sorted, then local searches in the one-exchange
//! neighbourhood (one parameter changed at a time, ConfigSpace's
//! `get_one_exchange_neighbourhood`) from the best random configurations and from the
//! observed configurations the model predicts best.
//!
//! Only configurations satisfying the space's conditions and hard constraints are
//! scored or walked through. The caller's `accept` (which may call back into Python)
//! is asked lazily: candidates are tried best first and the first accepted one that was
//! not already evaluated is returned.

use std::collections::HashSet;

use super::model::{Data, Surrogate};
use super::{RfSampler, STEP_SD};
use crate::constraints::{Accept, SearchSpace};
use crate::error::Result;
use crate::samplers::tpe::truncnorm::ndtri;
use crate::space::Distribution;

/// Neighbours scored per local-search step, at most (SMAC scores neighbours in
/// vectorised batches of 2 to 64).
const MAX_BATCH: usize = 32;
/// Steps of one local search, at most.
const MAX_STEPS: usize = 200;

/// The configuration maximising the acquisition, or None when no candidate passed.
pub(super) fn maximise(
    s: &mut RfSampler,
    sur: &Surrogate,
    data: &Data,
    space: &SearchSpace,
    max_draws: usize,
    accept: Accept<'_>,
) -> Result<Option<Vec<f64>>> {
    let d = space.params().len();
    // 1. Random configurations (one flat buffer), scored.
    let randoms = random_candidates(s, space, s.cfg.n_candidates, max_draws);
    let n_rand = randoms.len() / d.max(1);
    let acq = if n_rand == 0 {
        Vec::new()
    } else {
        sur.acquisition(&randoms)?
    };
    let mut order: Vec<usize> = (0..n_rand).collect();
    order.sort_by(|&a, &b| acq[b].total_cmp(&acq[a]));
    let row = |i: usize| randoms[i * d..(i + 1) * d].to_vec();
    // 2. Start points: the best random ones and the observed ones predicted best.
    let k = s.cfg.n_local_search;
    let mut starts: Vec<Vec<f64>> = order.iter().take(k).map(|&i| row(i)).collect();
    let n_obs = data.n_observed();
    if n_obs > 0 && k > 0 {
        let mean = sur.mean(&data.x[..n_obs * d])?;
        let mut obs: Vec<usize> = (0..n_obs).collect();
        obs.sort_by(|&a, &b| mean[a].total_cmp(&mean[b]));
        starts.extend(
            obs.iter()
                .take(k)
                .map(|&i| data.x[i * d..(i + 1) * d].to_vec()),
        );
    }
    // 3. Local searches; their ends compete with the random configurations.
    let mut scored: Vec<(f64, Vec<f64>)> = Vec::new();
    for start in starts {
        if let Some(found) = local_search(s, sur, space, start)? {
            scored.push(found);
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    // 4. The best accepted configuration not evaluated already, merging the two lists.
    let seen: HashSet<Vec<u64>> = data
        .x
        .chunks_exact(d.max(1))
        .chain(data.pending.chunks_exact(d.max(1)))
        .map(key)
        .collect();
    let near = Near::new(space, data, s.cfg.min_distance);
    let (mut a, mut b) = (0, 0);
    while a < scored.len() || b < order.len() {
        let take_local = b >= order.len() || (a < scored.len() && scored[a].0 > acq[order[b]]);
        let x = if take_local {
            a += 1;
            scored[a - 1].1.clone()
        } else {
            b += 1;
            row(order[b - 1])
        };
        if !seen.contains(&key(&x)) && !near.any(&x) && accept(&x)? {
            return Ok(Some(x));
        }
    }
    Ok(None)
}

fn key(x: &[f64]) -> Vec<u64> {
    x.iter()
        .map(|v| if v.is_nan() { u64::MAX } else { v.to_bits() })
        .collect()
}

/// Up to `n` configurations satisfying the space's conditions and constraints, drawn
/// uniformly, within `max(n, max_draws)` draws at most (`2 n` when the space rejects), as
/// one row-major buffer.
fn random_candidates(
    s: &mut RfSampler,
    space: &SearchSpace,
    n: usize,
    max_draws: usize,
) -> Vec<f64> {
    let d = space.params().len();
    let mut out = Vec::with_capacity(n * d);
    let mut u = vec![0.0; d];
    let mut x = Vec::with_capacity(d);
    let budget = (2 * n).min(n.max(max_draws));
    let mut found = 0;
    for _ in 0..budget {
        if found >= n {
            break;
        }
        u.iter_mut().for_each(|v| *v = s.rng.uniform());
        space.from_unit(&u, &mut x);
        if space.passes_rejection(&x) && space.is_feasible(&x) {
            out.extend_from_slice(&x);
            found += 1;
        }
    }
    out
}

/// A local search from `start`: each step scores a batch of feasible one-exchange
/// neighbours and moves to the best if it is at least as good (a plateau move counts as
/// a non-improving step); stops after `n_plateau_steps` consecutive non-improving steps.
fn local_search(
    s: &mut RfSampler,
    sur: &Surrogate,
    space: &SearchSpace,
    start: Vec<f64>,
) -> Result<Option<(f64, Vec<f64>)>> {
    let params = space.params();
    let d = params.len();
    // Every parameter holds a value in `full`; inactive ones keep a latent value that
    // becomes active when a parent changes.
    let mut full = start.clone();
    for (v, p) in full.iter_mut().zip(params) {
        if v.is_nan() {
            *v = p.dist.from_unit(s.rng.uniform());
        }
    }
    let mut cur = start;
    let mut cur_acq = sur.acquisition(&cur)?[0];
    let mut stale = 0;
    let mut batch: Vec<Vec<f64>> = Vec::new();
    let mut batch_full: Vec<Vec<f64>> = Vec::new();
    for _ in 0..MAX_STEPS {
        let active: Vec<usize> = (0..d).filter(|&j| !cur[j].is_nan()).collect();
        if active.is_empty() {
            break;
        }
        batch.clear();
        batch_full.clear();
        let size = (4 * active.len()).clamp(4, MAX_BATCH);
        for _ in 0..2 * size {
            if batch.len() >= size {
                break;
            }
            let j = active[s.rng.below(active.len() as u64) as usize];
            let mut f = full.clone();
            f[j] = neighbour(s, &params[j].dist, f[j]);
            let mut x = f.clone();
            space.apply_conditions(&mut x);
            if space.is_feasible(&x) {
                batch.push(x);
                batch_full.push(f);
            }
        }
        if batch.is_empty() {
            break;
        }
        let flat: Vec<f64> = batch.iter().flatten().copied().collect();
        let acq = sur.acquisition(&flat)?;
        let best = (0..acq.len())
            .max_by(|&a, &b| acq[a].total_cmp(&acq[b]))
            .unwrap_or(0);
        if acq[best] >= cur_acq {
            stale = if acq[best] > cur_acq { 0 } else { stale + 1 };
            cur_acq = acq[best];
            cur = batch.swap_remove(best);
            full = batch_full.swap_remove(best);
        } else {
            stale += 1;
        }
        if stale >= s.cfg.n_plateau_steps {
            break;
        }
    }
    Ok(Some((cur_acq, cur)))
}

/// A neighbour of internal value `v`: a normal step of [`STEP_SD`] on the unit scale
/// (SMAC's local search) for numeric parameters, another choice for categoricals.
fn neighbour(s: &mut RfSampler, dist: &Distribution, v: f64) -> f64 {
    match *dist {
        Distribution::Categorical { n } if n > 1 => {
            let c = s.rng.below(n as u64 - 1) as f64;
            if c >= v {
                c + 1.0
            } else {
                c
            }
        }
        Distribution::Categorical { .. } => v,
        _ => {
            let u = dist.to_unit(v) + STEP_SD * ndtri(s.rng.uniform().clamp(1e-12, 1.0 - 1e-12));
            dist.from_unit(u.clamp(0.0, 1.0))
        }
    }
}

/// The evaluated (and running) configurations on the unit scale, to find candidates
/// within `min_distance` of one of them (see [`super::RfConfig::min_distance`]).
struct Near<'a> {
    space: &'a SearchSpace,
    delta: f64,
    rows: Vec<f64>,
}

impl<'a> Near<'a> {
    fn new(space: &'a SearchSpace, data: &Data, delta: f64) -> Self {
        let d = space.params().len().max(1);
        let rows = if delta > 0.0 {
            data.x
                .chunks_exact(d)
                .chain(data.pending.chunks_exact(d))
                .flat_map(|r| Self::unit(space, r))
                .collect()
        } else {
            Vec::new()
        };
        Near { space, delta, rows }
    }

    /// Numeric values on the unit scale; categorical codes and NaN (inactive) kept.
    fn unit(space: &SearchSpace, x: &[f64]) -> Vec<f64> {
        x.iter()
            .zip(space.params())
            .map(|(&v, p)| match p.dist {
                _ if v.is_nan() => v,
                Distribution::Categorical { .. } => v,
                _ => p.dist.to_unit(v),
            })
            .collect()
    }

    /// Whether some evaluated configuration has the same active parameters, the same
    /// categorical values and every numeric value within `delta` of `x`'s.
    fn any(&self, x: &[f64]) -> bool {
        if self.rows.is_empty() {
            return false;
        }
        let params = self.space.params();
        let u = Self::unit(self.space, x);
        self.rows.chunks_exact(u.len().max(1)).any(|r| {
            r.iter().zip(&u).zip(params).all(|((&a, &b), p)| {
                if a.is_nan() || b.is_nan() {
                    return a.is_nan() && b.is_nan();
                }
                match p.dist {
                    Distribution::Categorical { .. } => a == b,
                    _ => (a - b).abs() < self.delta,
                }
            })
        })
    }
}

//! Observations of a modelled space read from the history: the rows (trials
//! with every dimension inside its distribution), their values and, per
//! dimension, their ascending order.

use super::TpeSampler;
use crate::history::{sort_key, History, TrialState};
use crate::space::Distribution;

/// One dimension of a space to model: the study's parameter index (None for a
/// parameter no trial has yet) and its distribution.
pub(super) type Dims = [(Option<u32>, Distribution)];

impl TpeSampler {
    /// and the trial of each row.
    pub(super) fn gather(h: &History, trials: &[usize], dims: &Dims) -> (Vec<f64>, Vec<usize>) {
        let mut obs = Vec::with_capacity(trials.len() * dims.len());
        let mut rows = Vec::with_capacity(trials.len());
        for &t in trials {
            if Self::row_values(h, t, dims, &mut obs) {
                rows.push(t);
            }
        }
        (obs, rows)
    }

    /// For each dimension, the rows of `obs` in ascending order of its value,
    /// read off the history's sorted columns (values still pending for
    /// running trials are merged in).
    pub(super) fn orders(h: &History, rows: &[usize], dims: &Dims, obs: &[f64]) -> Vec<Vec<u32>> {
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
    /// inside their distributions. A FAIL trial may have failed before it
    /// suggested some of them: each missing one is imputed by a uniform draw
    /// fixed by the trial and the dimension (as HpBandSter imputes inactive
    /// parameters), so that the trial still marks the region of the values it
    /// has in the bad set.
    pub(super) fn row_values(h: &History, t: usize, dims: &Dims, out: &mut Vec<f64>) -> bool {
        let start = out.len();
        let failed = h.trials()[t].state == TrialState::Fail;
        for (j, (p, d)) in dims.iter().enumerate() {
            match p.and_then(|p| h.value(p, t)) {
                Some(v) if d.contains(v) => out.push(v),
                None if failed => out.push(d.from_unit(imputed_unit(t, j))),
                _ => {
                    out.truncate(start);
                    return false;
                }
            }
        }
        true
    }
}

/// A uniform number in [0, 1) fixed by trial `t` and dimension `j`
/// (SplitMix64's finaliser over both).
fn imputed_unit(t: usize, j: usize) -> f64 {
    let mut z = (t as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add((j as u64).wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::TrialState;
    use crate::rng::Rng;

    /// The rows of `obs` sorted plainly by (value, trial), per dimension.
    fn plain_orders(rows: &[usize], d: usize, obs: &[f64]) -> Vec<Vec<u32>> {
        (0..d)
            .map(|j| {
                let mut o: Vec<u32> = (0..rows.len() as u32).collect();
                o.sort_by(|&a, &b| {
                    let (va, vb) = (obs[a as usize * d + j], obs[b as usize * d + j]);
                    va.total_cmp(&vb)
                        .then(rows[a as usize].cmp(&rows[b as usize]))
                });
                o
            })
            .collect()
    }

    #[test]
    fn orders_read_from_the_history_equal_plain_sorts() {
        // Ties, parameters missing from some trials, and running trials whose
        // values are still pending (not yet in the history's sorted columns).
        let x = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
        let k = Distribution::int("k", 0, 5, 1, false).unwrap();
        let mut rng = Rng::new(8);
        let mut h = History::new(1);
        for t in 0..300 {
            let n = h.create_trial(TrialState::Running);
            let vx = (rng.uniform() * 50.0).floor() / 50.0;
            let vk = (rng.uniform() * 6.0).floor();
            if t % 5 == 0 {
                let (px, dx) = h.intern("x", &x).unwrap();
                let (pk, dk) = h.intern("k", &k).unwrap();
                h.set_pending(n, vec![(px, dx, vx), (pk, dk, vk)]);
                continue;
            }
            h.set_param(n, "x", &x, vx).unwrap();
            if t % 7 != 3 {
                h.set_param(n, "k", &k, vk).unwrap();
            }
            h.finish(n, TrialState::Complete, vec![vx]).unwrap();
        }
        let dims = [
            (h.param_index("x"), x.clone()),
            (h.param_index("k"), k.clone()),
        ];
        let all: Vec<usize> = (0..h.trials().len()).collect();
        // All trials (the column walk) and a few (sorted directly).
        for trials in [all.clone(), all.iter().copied().step_by(40).collect()] {
            let (obs, rows) = TpeSampler::gather(&h, &trials, &dims);
            assert!(rows.len() > 5);
            let got = TpeSampler::orders(&h, &rows, &dims, &obs);
            assert_eq!(got, plain_orders(&rows, 2, &obs));
        }
    }
}

//! The training data of an ask: kernel inputs of the COMPLETE trials, the
//! minimised (and, with several objectives, ParEGO-scalarised) objective, and
//! the points of RUNNING trials for the Kriging believer. FAIL trials (and
//! COMPLETE ones with a NaN value) count as the worst observation.

use super::{GpSampler, PAREGO_RHO};
use crate::history::{History, TrialState};
use crate::samplers::gp::kernel::DimKind;
use crate::space::{fit_in, Distribution};

/// Kernel coordinate of internal value `v`: the unit cube for floats and
/// ints, the choice index for categoricals, NaN when inactive.
pub(super) fn encode(dist: &Distribution, v: f64) -> f64 {
    if v.is_nan() {
        return f64::NAN;
    }
    match dist {
        Distribution::Categorical { .. } => v,
        _ => fit_in(dist.to_unit(v), 0.0, 1.0),
    }
}

/// How the kernel treats a parameter of `dist`.
pub(super) fn kind(dist: &Distribution) -> DimKind {
    match dist {
        Distribution::Categorical { .. } => DimKind::Categorical,
        _ => DimKind::Continuous,
    }
}

/// True when every value of `y` is the same (up to round-off).
pub(super) fn constant(y: &[f64]) -> bool {
    let (lo, hi) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
            (a.min(v), b.max(v))
        });
    hi - lo <= 1e-12 * lo.abs().max(hi.abs())
}

/// Replaces infinite objective values by the worst (+inf) or best (-inf) finite
/// value of their objective, as Optuna's GPSampler does: a GP cannot fit an
/// infinite value, but the point must still count as (at least) the worst
/// observation, so that the model learns to avoid its region. An objective with
/// no finite value becomes all zeros.
pub(super) fn clip_infinite(raw: &mut [Vec<f64>]) {
    let Some(m) = raw.first().map(Vec::len) else {
        return;
    };
    for k in 0..m {
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for r in raw.iter() {
            if r[k].is_finite() {
                lo = lo.min(r[k]);
                hi = hi.max(r[k]);
            }
        }
        if lo > hi {
            (lo, hi) = (0.0, 0.0);
        }
        for r in raw.iter_mut() {
            if r[k] == f64::INFINITY {
                r[k] = hi;
            } else if r[k] == f64::NEG_INFINITY {
                r[k] = lo;
            }
        }
    }
}

/// The training data of an ask.
pub(super) struct Data {
    /// Kernel inputs of the COMPLETE, PRUNED and FAIL trials (n×d).
    pub x: Vec<f64>,
    /// Their minimised (scalarised) objective.
    pub y: Vec<f64>,
    /// The trial of each row.
    pub rows: Vec<usize>,
    /// Kernel inputs of RUNNING trials (Kriging-believer points), and their trials.
    pub pending: Vec<f64>,
    pub pending_rows: Vec<usize>,
}

impl GpSampler {
    /// Training data for `dims`: the COMPLETE, PRUNED and FAIL trials, and the
    /// RUNNING trials other than `current` ([`Data`]). `allow_inactive`:
    /// missing parameters become NaN (declared spaces); a FAIL trial's take
    /// the values this sampler proposed for it, else become NaN (it may have
    /// failed before suggesting them).
    pub(super) fn gather(
        &mut self,
        h: &History,
        current: usize,
        dims: &[(Option<u32>, Distribution)],
        allow_inactive: bool,
    ) -> Data {
        let d = dims.len();
        let sign: Vec<f64> = h
            .maximize()
            .iter()
            .map(|&m| if m { -1.0 } else { 1.0 })
            .collect();
        let mut x = Vec::new();
        let mut raw: Vec<Vec<f64>> = Vec::new();
        let mut rows = Vec::new();
        let mut pending = Vec::new();
        let mut pending_rows = Vec::new();
        let mut point = vec![0.0; d];
        for (t, rec) in h.trials().iter().enumerate() {
            let running = rec.state == TrialState::Running;
            let failed = rec.state == TrialState::Fail
                || (rec.state == TrialState::Complete && rec.values.iter().any(|v| v.is_nan()));
            // A PRUNED trial that reported a finite value is observed at its last
            // one (single objective): the pruner stopped it there, as TPE ranks
            // pruned trials by it. Left out, no observation changed between asks
            // while a pruner stopped trials, and the same point was proposed again
            // and again (35 of 60 trials with a successive-halving pruner). (As
            // Kriging-believer points instead, every ask re-added every pruned
            // trial: cubic. At the worst value, as a FAIL, a trial told PRUNED
            // without a report, which says nothing of its value, misled the
            // model.) Other PRUNED trials are left out, as Optuna's GPSampler
            // leaves them all.
            let last = rec
                .last_intermediate()
                .map(|(_, v)| v)
                .filter(|v| v.is_finite() && sign.len() == 1);
            let pruned = rec.state == TrialState::Pruned && last.is_some();
            if t == current || !(running || failed || pruned || rec.state == TrialState::Complete) {
                continue;
            }
            if !running && !failed && !pruned && rec.values.len() != sign.len() {
                continue;
            }
            let mut ok = true;
            let mut any = false;
            for (j, (p, dist)) in dims.iter().enumerate() {
                // A trial that failed before suggesting every parameter is
                // placed where this sampler proposed it, else with the
                // missing ones inactive: either way it marks its region.
                let proposed = || {
                    let (_, pairs) = self.proposed.iter().find(|e| e.0 == t)?;
                    pairs.iter().find(|e| Some(e.0) == *p).map(|e| e.1)
                };
                let value = p.and_then(|p| h.value(p, t));
                let value = if failed || pruned {
                    value.or_else(proposed)
                } else {
                    value
                };
                match value.filter(|v| dist.contains(*v)) {
                    Some(v) => {
                        point[j] = encode(dist, v);
                        any = true;
                    }
                    None if allow_inactive || failed || pruned => point[j] = f64::NAN,
                    None => ok = false,
                }
            }
            if !ok || !any {
                continue;
            }
            if running {
                pending.extend_from_slice(&point);
                pending_rows.push(t);
            } else if pruned {
                x.extend_from_slice(&point);
                raw.push(vec![last.unwrap_or(f64::INFINITY) * sign[0]]);
                rows.push(t);
            } else if failed {
                // As the worst observation (clip_infinite below), as SMAC
                // counts a crashed run and HpBandSter a failed one: left out
                // (Optuna's GPSampler), a region where the objective fails
                // stays unexplored to the model, and the acquisition's
                // maximum there was proposed again at every ask.
                x.extend_from_slice(&point);
                raw.push(vec![f64::INFINITY; sign.len()]);
                rows.push(t);
            } else {
                x.extend_from_slice(&point);
                raw.push(rec.values.iter().zip(&sign).map(|(v, s)| v * s).collect());
                rows.push(t);
            }
        }
        clip_infinite(&mut raw);
        let y = if sign.len() == 1 {
            raw.iter().map(|r| r[0]).collect()
        } else {
            self.parego(&raw)
        };
        Data {
            x,
            y,
            rows,
            pending,
            pending_rows,
        }
    }

    /// ParEGO scalarisation (Knowles 2006, eq. 2): objectives normalised to
    /// [0, 1] over the data, weights uniform on the simplex,
    /// s = max_k w_k f_k + ρ Σ_k w_k f_k.
    fn parego(&mut self, raw: &[Vec<f64>]) -> Vec<f64> {
        let Some(first) = raw.first() else {
            return Vec::new();
        };
        let m = first.len();
        let mut lo = vec![f64::INFINITY; m];
        let mut hi = vec![f64::NEG_INFINITY; m];
        for r in raw {
            for k in 0..m {
                lo[k] = lo[k].min(r[k]);
                hi[k] = hi[k].max(r[k]);
            }
        }
        // Uniform on the simplex: normalised exponential draws.
        let mut w: Vec<f64> = (0..m).map(|_| -(1.0 - self.rng.uniform()).ln()).collect();
        let total: f64 = w.iter().sum();
        w.iter_mut()
            .for_each(|v| *v /= total.max(f64::MIN_POSITIVE));
        raw.iter()
            .map(|r| {
                let f: Vec<f64> = (0..m)
                    .map(|k| {
                        let span = hi[k] - lo[k];
                        if span > 0.0 {
                            (r[k] - lo[k]) / span
                        } else {
                            0.0
                        }
                    })
                    .collect();
                let wf = f.iter().zip(&w).map(|(a, b)| a * b);
                wf.clone().fold(f64::NEG_INFINITY, f64::max) + PAREGO_RHO * wf.sum::<f64>()
            })
            .collect()
    }
}

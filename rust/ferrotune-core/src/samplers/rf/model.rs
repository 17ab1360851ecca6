//! The training data of an ask, the objective's scaling and the acquisition function.

use crate::error::Result;
use crate::forest::{Feature, Forest, ForestConfig};
use crate::history::{History, TrialState};
use crate::samplers::tpe::truncnorm::ndtr;
use crate::space::{fit_in, Distribution, Param};

/// Observed configurations (internal values, NaN where inactive) and their minimised
/// objective, then the RUNNING trials' configurations (constant liar).
pub(super) struct Data {
    pub d: usize,
    /// Rows of observed (COMPLETE, then PRUNED) trials.
    pub x: Vec<f64>,
    pub y: Vec<f64>,
    /// Rows of RUNNING trials other than the current one.
    pub pending: Vec<f64>,
}

impl Data {
    pub fn n_observed(&self) -> usize {
        self.y.len()
    }
}

/// The row of trial `t` over `params`, or None when an unconditional parameter is
/// missing (a trial of another space) or no parameter is present at all.
fn row(h: &History, t: usize, params: &[Param], cols: &[Option<u32>]) -> Option<Vec<f64>> {
    let mut out = Vec::with_capacity(params.len());
    let mut any = false;
    for (p, col) in params.iter().zip(cols) {
        match col
            .and_then(|c| h.value(c, t))
            .filter(|v| p.dist.contains(*v))
        {
            Some(v) => {
                out.push(v);
                any = true;
            }
            None if p.condition.is_some() => out.push(f64::NAN),
            None => return None,
        }
    }
    any.then_some(out)
}

/// Gathers the data over `params` (see the module documentation of the sampler for how
/// RUNNING and PRUNED trials are used).
pub(super) fn gather(h: &History, current: usize, params: &[Param], liar: bool) -> Data {
    let cols: Vec<Option<u32>> = params.iter().map(|p| h.param_index(&p.name)).collect();
    let sign = if h.maximize().first().copied().unwrap_or(false) {
        -1.0
    } else {
        1.0
    };
    let mut data = Data {
        d: params.len(),
        x: Vec::new(),
        y: Vec::new(),
        pending: Vec::new(),
    };
    let mut pruned: Vec<(Vec<f64>, f64)> = Vec::new();
    for (t, rec) in h.trials().iter().enumerate() {
        if t == current {
            continue;
        }
        let value = match rec.state {
            TrialState::Complete => rec.values.first().copied().filter(|v| !v.is_nan()),
            TrialState::Pruned => rec
                .last_intermediate()
                .map(|(_, v)| v)
                .filter(|v| !v.is_nan()),
            TrialState::Running if liar => Some(f64::NAN),
            _ => None,
        };
        let Some(value) = value else { continue };
        let Some(r) = row(h, t, params, &cols) else {
            continue;
        };
        match rec.state {
            TrialState::Complete => {
                data.x.extend(r);
                data.y.push(sign * value);
            }
            TrialState::Pruned => pruned.push((r, sign * value)),
            _ => data.pending.extend(r),
        }
    }
    clip_infinite(&mut data.y);
    let worst = data.y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    for (r, v) in pruned {
        data.x.extend(r);
        data.y
            .push(if worst.is_finite() { v.max(worst) } else { v });
    }
    clip_infinite(&mut data.y);
    data
}

/// Infinite values become the worst (+inf) or best (-inf) finite value; all zeros when
/// none is finite.
fn clip_infinite(y: &mut [f64]) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in y.iter().filter(|v| v.is_finite()) {
        lo = lo.min(*v);
        hi = hi.max(*v);
    }
    if lo > hi {
        (lo, hi) = (0.0, 0.0);
    }
    for v in y.iter_mut() {
        if *v == f64::INFINITY {
            *v = hi;
        } else if *v == f64::NEG_INFINITY {
            *v = lo;
        }
    }
}

/// SMAC's `RunHistoryLogScaledEncoder` (SMAC3, `runhistory/encoder`): with `m` the
/// minimum, `M` the maximum and `p` the 5th percentile of `y`, the lower end is moved to
/// `m' = m - (p - m) - 1e-10` and `y' = ln((y - m') / (M - m'))`, so every value is
/// positive before the logarithm whatever its sign, the best values are spread out and
/// the worst compressed.
///
/// Deviation from SMAC3: when more than 5% of the values tie at the minimum (a plateau,
/// common with tabulated or discrete objectives and after a sampler has refined one
/// region), SMAC3's `p - m` is 0 and the minimum maps to `ln(1e-10 / (M - m))`, about
/// -23, while every other value lies within a few units of 0. The trees then average
/// -23 with -3 wherever they disagree, the expected improvement is largest on the edges
/// of the plateau and the search stays there (measured on the `cancer_models` task of
/// `benches/rf_quality.py`, where SMAC3 stalls the same way). Here `p` is then the 5th
/// percentile of the values above the minimum, so the tied minima sit below the rest
/// by the spread of the best other values, as a single best value does; without ties
/// the scaling is SMAC3's.
pub(super) fn log_scale(y: &[f64]) -> Vec<f64> {
    let mut s = y.to_vec();
    s.sort_by(f64::total_cmp);
    let n = s.len();
    let (m, big) = (s[0], s[n - 1]);
    // numpy's default (linear) percentile.
    let pos = 0.05 * (n - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos - pos.floor());
    let mut p = s[i] + frac * (s[(i + 1).min(n - 1)] - s[i]);
    if p <= m {
        // Tied minima: the same percentile over the values above the minimum (none when
        // all are equal).
        let above = &s[s.partition_point(|&v| v <= m)..];
        if !above.is_empty() {
            let pos = 0.05 * (above.len() - 1) as f64;
            let (i, frac) = (pos.floor() as usize, pos - pos.floor());
            p = above[i] + frac * (above[(i + 1).min(above.len() - 1)] - above[i]);
        }
    }
    let low = m - (p - m) - 1e-10;
    let span = (big - low).max(1e-300);
    if low.is_finite() && span.is_finite() {
        return y.iter().map(|v| ((v - low) / span).ln()).collect();
    }
    // Values near the largest double (-1e308 and 1): the same in units of the
    // largest magnitude, where the differences do not overflow.
    let k = s.iter().fold(1.0f64, |a, v| a.max(v.abs()));
    let (m, p, big) = (m / k, p / k, big / k);
    let low = m - (p - m) - 1e-10 / k;
    let span = (big - low).max(1e-300);
    y.iter().map(|v| ((v / k - low) / span).ln()).collect()
}

/// Log expected improvement (Hutter, Hoos, Leyton-Brown and Murphy 2009, sec. 4.3, as
/// SMAC3's `EI(log=True)`): the model is of `ln f`, Gaussian with mean `m` and variance
/// `s^2`; the improvement is on the original scale, `E[max(0, f_min - exp(Y))]` =
/// `f_min Phi(v) - exp(m + s^2/2) Phi(v - s)`, `v = (ln f_min - m) / s`, with `eta` =
/// `ln f_min`. Zero where the trees agree (`s = 0`), as in SMAC.
pub(super) fn log_ei(eta: f64, m: f64, var: f64) -> f64 {
    let s = var.sqrt();
    if s <= 0.0 {
        return 0.0;
    }
    let v = (eta - m) / s;
    (eta.exp() * ndtr(v) - (0.5 * var + m).exp() * ndtr(v - s)).max(0.0)
}

/// Expected improvement on the raw scale (Jones et al. 1998, eq. 15).
pub(super) fn ei(eta: f64, m: f64, var: f64) -> f64 {
    let s = var.sqrt();
    if s <= 0.0 {
        return 0.0;
    }
    let z = (eta - m) / s;
    let pdf = (-0.5 * z * z).exp() / (2.0 * std::f64::consts::PI).sqrt();
    ((eta - m) * ndtr(z) + s * pdf).max(0.0)
}

/// The forest's coordinate of internal value `v`: the unit scale (log scale for log
/// parameters) for numeric parameters, the choice index for categoricals, NaN inactive.
pub(super) fn encode(dist: &Distribution, v: f64) -> f64 {
    if v.is_nan() {
        return f64::NAN;
    }
    match dist {
        Distribution::Categorical { .. } => v,
        _ => fit_in(dist.to_unit(v), 0.0, 1.0),
    }
}

/// A fitted forest and the incumbent's scaled value.
pub(super) struct Surrogate {
    forest: Forest,
    dists: Vec<Distribution>,
    eta: f64,
    log_y: bool,
}

impl Surrogate {
    /// Fits the forest; None without data.
    pub fn fit(
        data: &Data,
        params: &[Param],
        cfg: &ForestConfig,
        log_y: bool,
    ) -> Result<Option<Self>> {
        if data.y.is_empty() {
            return Ok(None);
        }
        let features: Vec<Feature> = params
            .iter()
            .map(|p| match p.dist {
                Distribution::Categorical { n } => Feature::categorical(n, p.condition.is_some()),
                _ => Feature::numeric(0.0, 1.0, p.condition.is_some()),
            })
            .collect();
        let dists: Vec<Distribution> = params.iter().map(|p| p.dist.clone()).collect();
        let mut y = if log_y {
            log_scale(&data.y)
        } else {
            data.y.clone()
        };
        let worst = y.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let n_pending = data.pending.len() / data.d.max(1);
        y.extend(std::iter::repeat_n(worst, n_pending));
        let x: Vec<f64> = data
            .x
            .iter()
            .chain(&data.pending)
            .enumerate()
            .map(|(k, &v)| encode(&dists[k % data.d], v))
            .collect();
        let forest = Forest::fit(&features, &x, &y, cfg)?;
        // The incumbent's value is the forest's lowest predicted mean over the observed
        // configurations (SMAC3's `ConfigSelector._get_x_best`, `predict_x_best=True`),
        // not the lowest observation: on the log scale the best observation is an
        // extreme value the trees' average rarely reaches (trees whose bootstrap sample
        // left it out predict worse there), and against it the expected improvement
        // would credit little but the incumbent's immediate neighbourhood.
        let n_obs = data.n_observed();
        let (mean, _) = forest.predict(&x[..n_obs * data.d])?;
        let eta = mean.iter().copied().fold(f64::INFINITY, f64::min);
        Ok(Some(Surrogate {
            forest,
            dists,
            eta,
            log_y,
        }))
    }

    /// The acquisition value of each row of `rows` (internal values).
    pub fn acquisition(&self, rows: &[f64]) -> Result<Vec<f64>> {
        let d = self.dists.len();
        let x: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(k, &v)| encode(&self.dists[k % d], v))
            .collect();
        let (mean, var) = self.forest.predict(&x)?;
        let f = if self.log_y { log_ei } else { ei };
        Ok(mean
            .iter()
            .zip(&var)
            .map(|(&m, &v)| f(self.eta, m, v))
            .collect())
    }

    /// The predicted (scaled) mean of each row.
    pub fn mean(&self, rows: &[f64]) -> Result<Vec<f64>> {
        let d = self.dists.len();
        let x: Vec<f64> = rows
            .iter()
            .enumerate()
            .map(|(k, &v)| encode(&self.dists[k % d], v))
            .collect();
        Ok(self.forest.predict(&x)?.0)
    }
}

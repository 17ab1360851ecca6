//! The textbook Parzen estimator, for tests: the same model as [`Parzen`]
//! written straight from its definition (Watanabe 2023, section 3 and
//! appendix C; Optuna 5's `_ParzenEstimator`), with no caches, no
//! incremental state, no pruning of negligible kernels and no loop tricks.
//! The fast path is compared against it on random inputs.
//!
//! Tolerance: 1e-12 × (1 + |log p|). The two paths evaluate the same
//! formulas in a different order (the fast one sums every constant first,
//! multiplies by 1/σ instead of dividing by σ, pairs dimensions, reads cell
//! masses from caches), which moves each term by a few units in the last
//! place of its magnitude; and the fast path leaves out kernels more than 40
//! nats below the best, which changes log p by less than K e^-40 (under 1e-14
//! for K ≤ 2000 kernels). Log-densities here are at most a few thousand in
//! magnitude, so a few ulp of each term stays well inside the bound; an error
//! in a weight, a bandwidth, a normaliser or a cached mass shows up at 1e-6
//! or more.

use super::super::truncnorm::{log_gauss_mass, log_sum_exp, truncnorm_logpdf};
use super::{ConstMemo, Parzen, ParzenSettings};
use crate::rng::Rng;
use crate::space::Distribution;

/// One dimension's kernels, textbook form.
enum RefDim {
    /// Truncated normals N(mu_k, sigma_k²) on model-space [low, high];
    /// `step` for stepped dimensions (a value's mass is that of its cell).
    Numeric {
        log: bool,
        step: Option<f64>,
        mus: Vec<f64>,
        sigmas: Vec<f64>,
        low: f64,
        high: f64,
    },
    /// `probs[k][c]`: kernel k's probability of choice c.
    Categorical { probs: Vec<Vec<f64>> },
}

/// log p(x) for each row of `x` under the estimator fitted to `obs` (row-major,
/// `dists.len()` values a row) with `weights`, from the definition.
pub(in crate::samplers::tpe) fn log_pdf(
    dists: &[Distribution],
    obs: &[f64],
    weights: &[f64],
    s: &ParzenSettings,
    x: &[f64],
) -> Vec<f64> {
    let d = dists.len();
    let n = obs.len() / d;
    // Mixture weights: the observations' weights and the prior's, normalised.
    let mut w: Vec<f64> = weights[..n].to_vec();
    w.push(if n == 0 { 1.0 } else { s.prior_weight });
    let total: f64 = w.iter().sum();
    let log_w: Vec<f64> = w.iter().map(|v| (v / total).ln()).collect();
    let dims: Vec<RefDim> = (0..d)
        .map(|j| {
            let col: Vec<f64> = (0..n).map(|i| obs[i * d + j]).collect();
            fit_dim(&dists[j], &col, s)
        })
        .collect();
    x.chunks(d)
        .map(|xi| {
            let terms: Vec<f64> = (0..=n)
                .map(|k| log_w[k] + (0..d).map(|j| term(&dims[j], k, xi[j])).sum::<f64>())
                .collect();
            log_sum_exp(&terms)
        })
        .collect()
}

/// The kernels of one dimension fitted to the values `col`.
fn fit_dim(dist: &Distribution, col: &[f64], s: &ParzenSettings) -> RefDim {
    let (low, high, step, log) = match *dist {
        Distribution::Categorical { n: choices } => {
            return RefDim::Categorical {
                probs: categorical_probs(col, choices, s),
            }
        }
        Distribution::Float {
            low,
            high,
            step,
            log,
        } => (low, high, step, log),
        Distribution::Int {
            low,
            high,
            step,
            log,
        } => (low as f64, high as f64, Some(step as f64), log),
    };
    // Model space: log scale for log parameters; stepped ranges widened by
    // half a step on each side.
    let half = step.map_or(0.0, |st| st / 2.0);
    let to_model = |v: f64| if log { v.ln() } else { v };
    let (mlow, mhigh) = (to_model(low - half), to_model(high + half));
    let mut mus: Vec<f64> = col.iter().map(|&v| to_model(v)).collect();
    let mut sigmas = bandwidths(&mus, mlow, mhigh, s);
    // The prior kernel: the centre of the range, the range as bandwidth.
    mus.push(0.5 * (mlow + mhigh));
    sigmas.push((mhigh - mlow).max(f64::MIN_POSITIVE));
    RefDim::Numeric {
        log,
        step,
        mus,
        sigmas,
        low: mlow,
        high: mhigh,
    }
}

/// Each observation's bandwidth: the larger gap to its neighbours in sorted
/// order (the range's ends count as neighbours; without `consider_endpoints`
/// the first and last take their inner gap), clipped to [range / min(100,
/// n + 2), range] with the magic clip, else to [1e-12, range].
fn bandwidths(mus: &[f64], low: f64, high: f64, s: &ParzenSettings) -> Vec<f64> {
    let n = mus.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| mus[a].total_cmp(&mus[b]));
    let range = high - low;
    let min_sigma = if s.consider_magic_clip {
        range / (n as f64 + 2.0).min(100.0)
    } else {
        1e-12
    };
    let mut sigmas = vec![0.0; n];
    for (pos, &i) in order.iter().enumerate() {
        let prev = if pos == 0 { low } else { mus[order[pos - 1]] };
        let next = if pos + 1 == n {
            high
        } else {
            mus[order[pos + 1]]
        };
        let (left, right) = (mus[i] - prev, next - mus[i]);
        let raw = match (s.consider_endpoints || n < 2, pos) {
            (false, 0) => right,
            (false, p) if p == n - 1 => left,
            _ => left.max(right),
        };
        sigmas[i] = raw.max(min_sigma).min(range).max(f64::MIN_POSITIVE);
    }
    sigmas
}

/// Probabilities of each observation's categorical kernel: (1 + a) on the
/// observed choice and a elsewhere, a = prior_weight / (n + 1), normalised;
/// and the prior kernel's, uniform.
fn categorical_probs(col: &[f64], choices: usize, s: &ParzenSettings) -> Vec<Vec<f64>> {
    let a = s.prior_weight / (col.len() + 1) as f64;
    let mut probs: Vec<Vec<f64>> = col
        .iter()
        .map(|&v| {
            let row: Vec<f64> = (0..choices)
                .map(|c| if c == v as usize { 1.0 + a } else { a })
                .collect();
            let total: f64 = row.iter().sum();
            row.iter().map(|p| p / total).collect()
        })
        .collect();
    probs.push(vec![1.0 / choices as f64; choices]);
    probs
}

/// log k(v) of kernel `k` of a dimension.
fn term(dim: &RefDim, k: usize, v: f64) -> f64 {
    match dim {
        RefDim::Categorical { probs } => probs[k][v as usize].ln(),
        RefDim::Numeric {
            log,
            step: None,
            mus,
            sigmas,
            low,
            high,
        } => {
            let v = if *log { v.ln() } else { v };
            truncnorm_logpdf(v, mus[k], sigmas[k], *low, *high)
        }
        RefDim::Numeric {
            log,
            step: Some(step),
            mus,
            sigmas,
            low,
            high,
        } => {
            // Mass of the cell around v over the mass of the widened range.
            let to_model = |u: f64| if *log { u.ln() } else { u };
            let (l, r) = (to_model(v - step / 2.0), to_model(v + step / 2.0));
            let (m, sg) = (mus[k], sigmas[k]);
            log_gauss_mass((l - m) / sg, (r - m) / sg)
                - log_gauss_mass((low - m) / sg, (high - m) / sg)
        }
    }
}

/// A random distribution of any kind the estimator handles.
fn random_dist(rng: &mut Rng) -> Distribution {
    let pick = |rng: &mut Rng, n: usize| (rng.uniform() * n as f64) as usize % n;
    loop {
        let low = rng.uniform_in(-10.0, 10.0);
        let span = 10f64.powf(rng.uniform_in(-3.0, 3.0));
        let k = (rng.uniform_in(-20.0, 20.0)).round() as i64;
        let d = match pick(rng, 8) {
            0 => Distribution::float("x", low, low + span, None, false),
            1 => {
                let lo = 10f64.powf(rng.uniform_in(-6.0, 0.0));
                Distribution::float(
                    "x",
                    lo,
                    lo * 10f64.powf(rng.uniform_in(0.5, 4.0)),
                    None,
                    true,
                )
            }
            2 => {
                let step = [0.25, 0.5, 1.0, 0.1][pick(rng, 4)];
                let points = 1 + pick(rng, 60) as i64;
                let lo = k as f64 * step;
                Distribution::float("x", lo, lo + points as f64 * step, Some(step), false)
            }
            3 => Distribution::int("x", k, k + 1 + pick(rng, 200) as i64, 1, false),
            // Too many points for the offset table: the per-kernel path.
            4 => Distribution::int("x", k, k + 1500 + pick(rng, 500) as i64, 1, false),
            5 => {
                let step = 2 + pick(rng, 4) as i64;
                Distribution::int("x", k, k + step * (1 + pick(rng, 40) as i64), step, false)
            }
            6 => {
                let lo = 1 + pick(rng, 10) as i64;
                Distribution::int("x", lo, lo * (2 + pick(rng, 500) as i64), 1, true)
            }
            _ => Distribution::categorical("x", 2 + pick(rng, 5)),
        };
        if let Ok(d) = d {
            return d;
        }
    }
}

/// `n` random rows over `dists`: crowded towards the low end, as
/// optimisation crowds observations, with repeated values (ties).
fn random_rows(rng: &mut Rng, dists: &[Distribution], n: usize) -> Vec<f64> {
    let d = dists.len();
    let mut rows: Vec<f64> = Vec::with_capacity(n * d);
    for i in 0..n {
        for (j, dist) in dists.iter().enumerate() {
            let v = if i > 0 && rng.uniform() < 0.2 {
                rows[(i - 1) * d + j]
            } else {
                dist.from_unit(rng.uniform().powi(3))
            };
            rows.push(v);
        }
    }
    rows
}

/// Random estimator settings.
fn random_settings(rng: &mut Rng) -> ParzenSettings {
    ParzenSettings {
        prior_weight: [1.0, 0.5, 2.0, 0.0][(rng.uniform() * 4.0) as usize % 4],
        consider_magic_clip: rng.uniform() < 0.7,
        consider_endpoints: rng.uniform() < 0.3,
    }
}

/// Points to evaluate: draws from the estimator, uniform draws, the range's
/// ends and the observations themselves.
fn probe_points(rng: &mut Rng, p: &Parzen, dists: &[Distribution], obs: &[f64]) -> Vec<f64> {
    let mut x = p.sample(rng, 20);
    x.extend(random_rows(rng, dists, 10));
    for u in [0.0, 1.0] {
        x.extend(dists.iter().map(|dist| dist.from_unit(u)));
    }
    x.extend(obs.iter().take(5 * dists.len()));
    x
}

/// Asserts that the fast and reference log-densities agree to the tolerance
/// justified above. Densities below e^-1e6 count as equal: far in a
/// kernel's tail (z ~ 1e12, with bandwidths near the unclipped 1e-12 and no
/// prior weight) the two ends of a cell round to the same log Φ, and either
/// path may then return -inf for a cell mass of e^-1e24.
fn assert_close(fast: &[f64], reference: &[f64], what: &str) {
    assert_eq!(fast.len(), reference.len());
    for (i, (f, r)) in fast.iter().zip(reference).enumerate() {
        let ok = (f - r).abs() <= 1e-12 * (1.0 + r.abs()) || f == r || (*f < -1e6 && *r < -1e6);
        assert!(ok, "{what}, point {i}: fast {f}, reference {r}");
    }
}

#[test]
fn log_pdf_matches_the_textbook_mixture_on_random_inputs() {
    let mut rng = Rng::new(2026);
    let mut checked = 0;
    for case in 0..300 {
        let n = [0, 1, 2, 3, 10, 40, 150, 400][case % 8];
        let dists: Vec<Distribution> = (0..1 + case % 5).map(|_| random_dist(&mut rng)).collect();
        let obs = random_rows(&mut rng, &dists, n);
        let weights: Vec<f64> = (0..n)
            .map(|_| {
                if rng.uniform() < 0.1 {
                    0.0
                } else {
                    rng.uniform_in(0.05, 2.0)
                }
            })
            .collect();
        let mut s = random_settings(&mut rng);
        if weights.iter().sum::<f64>() == 0.0 {
            // The mixture needs some weight.
            s.prior_weight = 1.0;
        }
        let p = Parzen::new(&dists, &obs, &weights, &s);
        let x = probe_points(&mut rng, &p, &dists, &obs);
        let want = log_pdf(&dists, &obs, &weights, &s, &x);
        assert_close(
            &p.log_pdf(&x),
            &want,
            &format!("case {case} {dists:?} n={n} {s:?}"),
        );
        // Again: the offset tables' kept cell masses are now filled.
        assert_close(&p.log_pdf(&x), &want, &format!("case {case}, second call"));
        checked += x.len();
    }
    assert!(checked > 10_000, "{checked}");
}

#[test]
fn memoised_constants_match_the_textbook_mixture() {
    // A sliding window of observations, fitted ask after ask through the
    // memo of continuous kernel constants, as the sampler fits l(x).
    let mut rng = Rng::new(11);
    let dists = vec![
        Distribution::float("a", 0.0, 1.0, None, false).unwrap(),
        Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
        Distribution::int("c", 0, 30, 1, false).unwrap(),
    ];
    let s = ParzenSettings {
        prior_weight: 1.0,
        consider_magic_clip: true,
        consider_endpoints: false,
    };
    let all = random_rows(&mut rng, &dists, 140);
    let mut memos: Vec<ConstMemo> = vec![Vec::new(); 3];
    for start in 0..60 {
        let ids: Vec<usize> = (start..start + 1 + start % 40).collect();
        let obs: Vec<f64> = ids
            .iter()
            .flat_map(|&i| all[i * 3..i * 3 + 3].to_vec())
            .collect();
        let weights = vec![1.0; ids.len()];
        let p = Parzen::with_orders(&dists, &obs, &weights, &s, None, Some((&ids, &mut memos)));
        let x = probe_points(&mut rng, &p, &dists, &obs);
        let want = log_pdf(&dists, &obs, &weights, &s, &x);
        assert_close(&p.log_pdf(&x), &want, &format!("window at {start}"));
    }
    assert!(memos[0].len() >= 60, "the memo was used");
}

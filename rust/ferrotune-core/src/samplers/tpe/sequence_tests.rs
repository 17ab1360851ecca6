//! Seeded suggestion sequences of [`TpeSampler`], pinned by hash: the
//! estimator's fast paths (kept bad-set estimator, memoised constants, offset
//! tables, pruning of negligible kernels) may be restructured, but a seed must
//! keep giving the same suggestions to the bit. Each scenario runs 200 trials
//! and hashes the bits of every suggested internal value.
//!
//! The hashes were recorded on x86-64 Linux. Log-scaled parameters go through
//! the platform's `ln` / `exp`, whose last bits may differ elsewhere (see
//! `crate::rng`), so the hash comparison runs only there; everywhere, the
//! test checks that two runs with the same seed agree and that every value
//! lies in its distribution.

use super::{TpeConfig, TpeSampler};
use crate::constraints::{Constraint, SearchSpace};
use crate::history::{History, TrialState};
use crate::rng::Rng;
use crate::samplers::Sampler;
use crate::space::{Condition, Distribution, Param};

/// FNV-1a over the bits of `values`.
fn hash(values: &[f64]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for v in values {
        for b in v.to_bits().to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    h
}

/// Every kind of dimension: linear, log and stepped floats, linear, stepped
/// and log integers, a categorical.
fn mixed_dims() -> Vec<(String, Distribution)> {
    let d = vec![
        Distribution::float("a", -2.0, 3.0, None, false),
        Distribution::float("b", 1e-5, 1e-1, None, true),
        Distribution::float("c", 0.0, 2.0, Some(0.25), false),
        Distribution::int("d", 1, 60, 1, false),
        Distribution::int("e", 0, 30, 3, false),
        Distribution::int("f", 1, 256, 1, true),
        Distribution::categorical("g", 4),
    ];
    let names = ["a", "b", "c", "d", "e", "f", "g"];
    names
        .iter()
        .zip(d)
        .map(|(n, d)| (n.to_string(), d.unwrap()))
        .collect()
}

/// A value for `name` in running trial `t`, as a study asks it: the pending
/// joint value if there is one, else an independent draw.
fn suggest(s: &mut TpeSampler, h: &mut History, t: usize, name: &str, d: &Distribution) -> f64 {
    let p = h.param_index(name);
    let v = match p.and_then(|p| h.pending_value(t, p, d)) {
        Some(v) => v,
        None => s.sample_independent(h, t, name, d).unwrap(),
    };
    assert!(d.contains(v), "{name}: {v}");
    h.set_param(t, name, d, v).unwrap();
    v
}

/// An objective mixing every dimension.
fn objective(x: &[f64]) -> f64 {
    (x[0] - 0.5).powi(2) + (x[1].ln() + 7.0).abs() + x[2] + 0.01 * x[3] + 0.1 * x[4]
        - 0.02 * x[5].ln()
        + if x[6] == 2.0 { 0.0 } else { 0.5 }
}

/// Sequential trials over [`mixed_dims`]; with `concurrent`, up to four trials
/// run at once and finish out of order (constant liar), some pruned after
/// reporting and some failing.
fn run_mixed(cfg: TpeConfig, seed: u64, concurrent: bool) -> Vec<f64> {
    let dims = mixed_dims();
    let mut s = TpeSampler::new(cfg, seed).unwrap();
    let mut h = History::new(1);
    let mut order = Rng::new(seed ^ 0x5eed);
    let mut out = Vec::new();
    let mut running: Vec<(usize, Vec<f64>)> = Vec::new();
    for _ in 0..200 {
        let t = h.create_trial(TrialState::Running);
        let rel = s.relative_values(&h, t).unwrap();
        h.set_pending(t, rel);
        let x: Vec<f64> = dims
            .iter()
            .map(|(n, d)| suggest(&mut s, &mut h, t, n, d))
            .collect();
        out.extend(&x);
        running.push((t, x));
        let keep = if concurrent { 3 } else { 0 };
        while running.len() > keep {
            let k = if concurrent {
                (order.uniform() * running.len() as f64) as usize % running.len()
            } else {
                0
            };
            let (u, x) = running.swap_remove(k);
            let y = objective(&x);
            match u % 13 {
                4 => {
                    h.report(u, 1, y + 1.0).unwrap();
                    h.report(u, 2, y).unwrap();
                    h.finish(u, TrialState::Pruned, vec![]).unwrap();
                }
                9 if concurrent => h.finish(u, TrialState::Fail, vec![]).unwrap(),
                _ => h.finish(u, TrialState::Complete, vec![y]).unwrap(),
            }
        }
    }
    out
}

/// Group mode: a categorical chooses which of two parameter sets a trial
/// uses, so the groups are {branch, shared}, {p, q} and {r, s}.
fn run_group(seed: u64) -> Vec<f64> {
    let cfg = TpeConfig {
        group: true,
        ..TpeConfig::default()
    };
    let mut s = TpeSampler::new(cfg, seed).unwrap();
    let mut h = History::new(1);
    let branch = Distribution::categorical("branch", 2).unwrap();
    let shared = Distribution::float("shared", 0.0, 1.0, None, false).unwrap();
    let p = Distribution::float("p", 1e-3, 1.0, None, true).unwrap();
    let q = Distribution::int("q", 0, 20, 2, false).unwrap();
    let r = Distribution::float("r", -1.0, 1.0, Some(0.1), false).unwrap();
    let s_ = Distribution::categorical("s", 3).unwrap();
    let mut out = Vec::new();
    for _ in 0..200 {
        let t = h.create_trial(TrialState::Running);
        let rel = s.relative_values(&h, t).unwrap();
        h.set_pending(t, rel);
        let b = suggest(&mut s, &mut h, t, "branch", &branch);
        let x0 = suggest(&mut s, &mut h, t, "shared", &shared);
        let y = if b == 0.0 {
            let v1 = suggest(&mut s, &mut h, t, "p", &p);
            let v2 = suggest(&mut s, &mut h, t, "q", &q);
            out.extend([b, x0, v1, v2]);
            x0 + (v1.ln() + 3.0).abs() + 0.05 * v2
        } else {
            let v1 = suggest(&mut s, &mut h, t, "r", &r);
            let v2 = suggest(&mut s, &mut h, t, "s", &s_);
            out.extend([b, x0, v1, v2]);
            x0 + v1.abs() + v2
        };
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
    out
}

/// Two objectives (one maximised), with black-box constraints on some trials.
fn run_multi_objective(seed: u64) -> Vec<f64> {
    let dims = mixed_dims();
    let mut s = TpeSampler::new(TpeConfig::default(), seed).unwrap();
    let mut h = History::with_directions(vec![false, true]);
    let mut out = Vec::new();
    for _ in 0..200 {
        let t = h.create_trial(TrialState::Running);
        let rel = s.relative_values(&h, t).unwrap();
        h.set_pending(t, rel);
        let x: Vec<f64> = dims
            .iter()
            .map(|(n, d)| suggest(&mut s, &mut h, t, n, d))
            .collect();
        out.extend(&x);
        h.set_constraints(t, vec![x[0] - 2.5]).unwrap();
        let (f1, f2) = (objective(&x), x[0] * x[0] + x[3] / 60.0);
        h.finish(t, TrialState::Complete, vec![f1, -f2]).unwrap();
    }
    out
}

/// A declared space with a condition and hard constraints, through
/// [`Sampler::sample_space`].
fn run_declared_space(seed: u64) -> Vec<f64> {
    let param = |name: &str, dist: Distribution, condition: Option<Condition>| Param {
        name: name.into(),
        dist,
        condition,
        choice_values: None,
    };
    let params = vec![
        param("n", Distribution::int("n", 1, 24, 1, false).unwrap(), None),
        param("m", Distribution::int("m", 1, 6, 1, false).unwrap(), None),
        param("opt", Distribution::categorical("opt", 2).unwrap(), None),
        param(
            "lr",
            Distribution::float("lr", 1e-4, 1.0, None, true).unwrap(),
            Some(Condition {
                parent: 2,
                values: vec![0.0],
            }),
        ),
        param(
            "x",
            Distribution::float("x", 0.0, 5.0, None, false).unwrap(),
            None,
        ),
    ];
    let cons = vec![
        Constraint::Divisible { num: 0, den: 1 },
        Constraint::Linear {
            terms: vec![(0, 0.1), (4, 1.0)],
            rhs: 5.0,
        },
    ];
    let space = SearchSpace::new(params.clone(), cons).unwrap();
    let mut s = TpeSampler::new(TpeConfig::default(), seed).unwrap();
    let mut h = History::new(1);
    let mut out = Vec::new();
    for _ in 0..200 {
        let t = h.create_trial(TrialState::Running);
        let x = s
            .sample_space(&h, t, &space, 10_000, &mut |_| Ok(true))
            .unwrap();
        assert!(space.is_feasible(&x));
        for (p, &v) in params.iter().zip(&x) {
            if !v.is_nan() {
                h.set_param(t, &p.name, &p.dist, v).unwrap();
            }
        }
        out.extend(&x);
        let lr = if x[3].is_nan() { 0.5 } else { x[3].ln().abs() };
        let y = (x[0] / 24.0 - 0.3).abs() + lr + (x[4] - 1.0).powi(2);
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
    out
}

fn univariate() -> TpeConfig {
    let mut cfg = TpeConfig {
        multivariate: false,
        constant_liar: false,
        ..TpeConfig::default()
    };
    // Settings other than the defaults, to cover their branches.
    cfg.parzen.prior_weight = 0.5;
    cfg.parzen.consider_endpoints = true;
    cfg.parzen.consider_magic_clip = false;
    cfg
}

/// A scenario's name and its runner, which returns every suggested value.
type Scenario = (&'static str, Box<dyn Fn(u64) -> Vec<f64>>);

/// Every scenario.
fn scenarios() -> Vec<Scenario> {
    vec![
        (
            "univariate",
            Box::new(|s| run_mixed(univariate(), s, false)),
        ),
        (
            "multivariate",
            Box::new(|s| run_mixed(TpeConfig::default(), s, false)),
        ),
        (
            "constant_liar",
            Box::new(|s| run_mixed(TpeConfig::default(), s, true)),
        ),
        (
            "univariate_liar",
            Box::new(|s| {
                let cfg = TpeConfig {
                    constant_liar: true,
                    ..univariate()
                };
                run_mixed(cfg, s, true)
            }),
        ),
        ("group", Box::new(run_group)),
        ("multi_objective", Box::new(run_multi_objective)),
        ("declared_space", Box::new(run_declared_space)),
    ]
}

/// Hashes recorded before the estimator was split into its modules; the two
/// concurrent scenarios, which fail some trials, re-recorded when FAIL trials
/// joined the bad set.
const EXPECTED: [(&str, u64); 7] = [
    ("univariate", 0xad43_33e3_5a2c_6f6d),
    ("multivariate", 0x8bb0_9683_f13a_0f41),
    ("constant_liar", 0x1737_2e81_6baf_1cb6),
    ("univariate_liar", 0xfd65_3d51_d89e_1318),
    ("group", 0xb6bb_283c_dfa9_6aed),
    ("multi_objective", 0x0ea0_bb15_f3d3_0632),
    ("declared_space", 0x8ad2_9611_a687_aa8d),
];

#[test]
fn seeded_suggestions_are_unchanged() {
    let mut got = Vec::new();
    for (name, run) in scenarios() {
        let values = run(7);
        assert!(values.len() >= 800, "{name}: {}", values.len());
        assert_eq!(hash(&values), hash(&run(7)), "{name}: not reproducible");
        got.push((name, hash(&values)));
    }
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        assert_eq!(got, EXPECTED.to_vec());
    }
}

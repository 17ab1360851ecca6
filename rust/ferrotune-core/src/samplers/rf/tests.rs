use super::model::{log_ei, log_scale};
use super::*;
use crate::history::TrialState;
use crate::samplers::{run_minimising, RandomSampler};
use crate::space::Distribution;

fn small(n_startup: usize) -> RfConfig {
    RfConfig {
        n_startup_trials: Some(n_startup),
        n_candidates: 500,
        ..RfConfig::default()
    }
}

fn branin(x: &[f64]) -> f64 {
    let pi = std::f64::consts::PI;
    let c = x[1] - 5.1 / (4.0 * pi * pi) * x[0] * x[0] + 5.0 / pi * x[0] - 6.0;
    c * c + 10.0 * (1.0 - 1.0 / (8.0 * pi)) * x[0].cos() + 10.0
}

#[test]
fn log_scale_keeps_the_order_and_spreads_the_best() {
    let y = [3.0, -1.0, 10.0, 0.5, 2.0, 2.0];
    let s = log_scale(&y);
    for i in 0..y.len() {
        assert!(s[i].is_finite() && s[i] <= 1e-12);
        for j in 0..y.len() {
            assert_eq!(y[i] < y[j], s[i] < s[j]);
        }
    }
    // The maximum maps to ln(1) = 0.
    assert!(s[2].abs() < 1e-12);
    // Constant values do not break it.
    assert!(log_scale(&[1.0, 1.0]).iter().all(|v| v.is_finite()));
}

#[test]
fn log_ei_matches_numerical_integration() {
    // E[max(0, exp(eta) - exp(Y))], Y ~ N(m, s^2), by the midpoint rule.
    for &(eta, m, var) in &[
        (-1.0f64, -0.5f64, 0.3f64),
        (0.0, 0.2, 1.0),
        (-3.0, -3.5, 0.05),
    ] {
        let s: f64 = f64::sqrt(var);
        let n = 200_000;
        let (lo, hi) = (m - 10.0 * s, m + 10.0 * s);
        let h = (hi - lo) / n as f64;
        let mut sum = 0.0;
        for i in 0..n {
            let y = lo + (i as f64 + 0.5) * h;
            let pdf = (-(y - m) * (y - m) / (2.0 * var)).exp()
                / (s * (2.0 * std::f64::consts::PI).sqrt());
            sum += (eta.exp() - y.exp()).max(0.0) * pdf * h;
        }
        assert!(
            (log_ei(eta, m, var) - sum).abs() < 1e-6,
            "{} vs {sum}",
            log_ei(eta, m, var)
        );
    }
    assert_eq!(log_ei(0.0, 0.0, 0.0), 0.0);
}

#[test]
fn beats_random_search_on_branin_with_a_categorical_noise_dimension() {
    let dims = [
        Distribution::float("x0", -5.0, 10.0, None, false).unwrap(),
        Distribution::float("x1", 0.0, 15.0, None, false).unwrap(),
        Distribution::categorical("c", 4).unwrap(),
    ];
    let f = |x: &[f64]| branin(x) - 0.397887;
    let mut rf = Vec::new();
    let mut rnd = Vec::new();
    for seed in 0..5 {
        let mut s = RfSampler::new(small(10), seed).unwrap();
        rf.push(run_minimising(&mut s, &mut History::new(1), f, &dims, 60));
        let mut r = RandomSampler::new(seed);
        rnd.push(run_minimising(&mut r, &mut History::new(1), f, &dims, 60));
    }
    rf.sort_by(f64::total_cmp);
    rnd.sort_by(f64::total_cmp);
    assert!(
        rf[2] < 0.5 * rnd[2],
        "median regret {} vs random {}",
        rf[2],
        rnd[2]
    );
    assert!(rf[2] < 0.5, "median regret {}", rf[2]);
}

fn conditional_space() -> SearchSpace {
    let p = |name: &str, dist: Distribution, condition: Option<Condition>| Param {
        name: name.into(),
        dist,
        condition,
        choice_values: None,
    };
    SearchSpace::new(
        vec![
            p(
                "model",
                Distribution::categorical("model", 2).unwrap(),
                None,
            ),
            p(
                "a",
                Distribution::float("a", 1e-3, 1.0, None, true).unwrap(),
                Some(Condition {
                    parent: 0,
                    values: vec![0.0],
                }),
            ),
            p(
                "b",
                Distribution::int("b", 1, 20, 1, false).unwrap(),
                Some(Condition {
                    parent: 0,
                    values: vec![1.0],
                }),
            ),
        ],
        vec![],
    )
    .unwrap()
}

use crate::space::Condition;

/// model 0: (log10 a + 2)^2 (best 0 at a = 0.01); model 1: 1 + |b - 7| / 10.
fn conditional_objective(x: &[f64]) -> f64 {
    if x[0] == 0.0 {
        (x[1].log10() + 2.0).powi(2)
    } else {
        1.0 + (x[2] - 7.0).abs() / 10.0
    }
}

#[test]
fn conditional_spaces_are_modelled_and_respected() {
    let space = conditional_space();
    let mut best = Vec::new();
    for seed in 0..3 {
        let mut s = RfSampler::new(small(8), seed).unwrap();
        let mut h = History::new(1);
        let names: Vec<String> = space.params().iter().map(|p| p.name.clone()).collect();
        let mut b = f64::INFINITY;
        for _ in 0..40 {
            let t = h.create_trial(TrialState::Running);
            let x = s
                .sample_space(&h, t, &space, 1000, &mut |_| Ok(true))
                .unwrap();
            assert!(space.is_valid(&x), "{x:?}");
            for (j, name) in names.iter().enumerate() {
                if !x[j].is_nan() {
                    h.set_param(t, name, &space.params()[j].dist, x[j]).unwrap();
                }
            }
            let y = conditional_objective(&x);
            b = b.min(y);
            h.finish(t, TrialState::Complete, vec![y]).unwrap();
        }
        best.push(b);
    }
    best.sort_by(f64::total_cmp);
    // Within 0.1 decades of the optimum a = 0.01.
    assert!(best[1] < 0.01, "median best {}", best[1]);
}

#[test]
fn a_running_trial_is_not_proposed_again() {
    // Constant liar: with the model's favourite running, the next ask goes elsewhere.
    let space = conditional_space();
    let cfg = RfConfig {
        random_fraction: 0.0,
        ..small(6)
    };
    let mut h = History::new(1);
    let mut s = RfSampler::new(cfg.clone(), 0).unwrap();
    let names: Vec<String> = space.params().iter().map(|p| p.name.clone()).collect();
    let record = |h: &mut History, t: usize, x: &[f64]| {
        for (j, name) in names.iter().enumerate() {
            if !x[j].is_nan() {
                h.set_param(t, name, &space.params()[j].dist, x[j]).unwrap();
            }
        }
    };
    for _ in 0..15 {
        let t = h.create_trial(TrialState::Running);
        let x = s
            .sample_space(&h, t, &space, 1000, &mut |_| Ok(true))
            .unwrap();
        record(&mut h, t, &x);
        h.finish(t, TrialState::Complete, vec![conditional_objective(&x)])
            .unwrap();
    }
    let t1 = h.create_trial(TrialState::Running);
    let x1 = s
        .sample_space(&h, t1, &space, 1000, &mut |_| Ok(true))
        .unwrap();
    record(&mut h, t1, &x1);
    let t2 = h.create_trial(TrialState::Running);
    let x2 = s
        .sample_space(&h, t2, &space, 1000, &mut |_| Ok(true))
        .unwrap();
    assert!(x1.iter().zip(&x2).any(|(a, b)| a.to_bits() != b.to_bits()));
}

#[test]
fn bad_settings_are_refused() {
    let bad = RfConfig {
        random_fraction: 1.5,
        ..RfConfig::default()
    };
    assert!(RfSampler::new(bad, 0).is_err());
}

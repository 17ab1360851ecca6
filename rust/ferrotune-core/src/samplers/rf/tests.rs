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
fn log_scale_of_values_near_the_largest_double_stays_finite() {
    // -1e308 and ordinary values: the range overflowed to infinity and every
    // log became NaN, which failed RFSampler's trials.
    for y in [
        vec![-1e308, 0.3, 0.5, 0.9, 0.1],
        vec![-1.7e308, 1.7e308, 0.0],
    ] {
        let s = log_scale(&y);
        for i in 0..y.len() {
            assert!(s[i].is_finite(), "{y:?} -> {s:?}");
            // Values far below the span may tie, never swap.
            for j in 0..y.len() {
                assert!(y[i] >= y[j] || s[i] <= s[j], "{y:?} -> {s:?}");
            }
        }
    }
}

#[test]
fn tied_minima_are_not_sent_to_an_extreme() {
    // 40 of 100 values tie at the minimum (a plateau): SMAC3's 5th percentile equals the
    // minimum, which then maps to ln(1e-10 / span) ~ -23 while the rest stays near 0.
    // Here the percentile is taken over the values above the minimum.
    let mut y = vec![0.0733; 40];
    y.extend((0..60).map(|k| 0.0783 + 0.01 * k as f64));
    let s = log_scale(&y);
    assert!(s[0] > -10.0, "tied minimum scaled to {}", s[0]);
    // 5th percentile of the 60 values above: position 2.95 -> 0.0783 + 0.0295.
    let (m, big, p): (f64, f64, f64) = (0.0733, 0.0783 + 0.59, 0.0783 + 0.0295);
    let low = m - (p - m) - 1e-10;
    assert!((s[0] - ((m - low) / (big - low)).ln()).abs() < 1e-9);
    for i in 0..y.len() {
        for j in 0..y.len() {
            assert_eq!(y[i] < y[j], s[i] < s[j]);
        }
    }
    // Without ties the scaling is SMAC3's: m' = m - (p - m) - 1e-10.
    let z: Vec<f64> = (0..21).map(|k| k as f64).collect();
    let low: f64 = -1.0 - 1e-10;
    assert!((log_scale(&z)[0] - ((0.0 - low) / (20.0 - low)).ln()).abs() < 1e-12);
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
    for min_distance in [-0.1, 1.0, f64::NAN] {
        let bad = RfConfig {
            min_distance,
            ..RfConfig::default()
        };
        assert!(RfSampler::new(bad, 0).is_err());
    }
}

/// Model-based proposals (after the initial design) within `within` of an earlier
/// trial's value on a step objective of one parameter on [0, 1].
fn step_repeats(min_distance: f64, within: f64) -> usize {
    let dims = [Distribution::float("x0", 0.0, 1.0, None, false).unwrap()];
    let cfg = RfConfig {
        random_fraction: 0.0,
        min_distance,
        ..small(5)
    };
    let mut s = RfSampler::new(cfg, 3).unwrap();
    let mut h = History::new(1);
    // A plateau and a step at 0.37: every value ties with one of two.
    run_minimising(
        &mut s,
        &mut h,
        |x| if x[0] < 0.37 { 1.0 } else { 2.0 },
        &dims,
        40,
    );
    let col = h.param_index("x0").unwrap();
    let xs: Vec<f64> = (0..h.trials().len())
        .map(|t| h.value(col, t).unwrap())
        .collect();
    (5..xs.len())
        .filter(|&t| xs[..t].iter().any(|v| (v - xs[t]).abs() < within))
        .count()
}

#[test]
fn a_step_between_two_evaluations_is_not_bisected() {
    // Without a minimum distance the trees' disagreement on the step's position keeps
    // the expected improvement high between the closest evaluations on either side.
    let bisected = step_repeats(0.0, 1e-3);
    assert!(bisected >= 10, "{bisected}");
    assert_eq!(step_repeats(RfConfig::default().min_distance, 0.003), 0);
}

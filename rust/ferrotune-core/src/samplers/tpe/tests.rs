//! Tests of the sampler: the kept bad-set estimator against fresh fits and
//! the reference, the split, the multi-objective good set, optimisation.

use super::kept::MAX_KEPT;
use super::motpe::split_multi;
use super::*;
use crate::history::TrialState;

/// Starts a trial and suggests `dims` (named `names`) as a study does,
/// leaving parameter 4 out of some trials.
fn start(s: &mut TpeSampler, h: &mut History, names: &[&str], dims: &[Distribution], step: usize) {
    let t = h.create_trial(TrialState::Running);
    let rel = s.relative_values(h, t).unwrap();
    h.set_pending(t, rel);
    for (i, (name, d)) in names.iter().zip(dims).enumerate() {
        if i == 4 && step % 7 == 3 {
            continue;
        }
        let p = h.param_index(name);
        let v = match p.and_then(|p| h.pending_value(t, p, d)) {
            Some(v) => v,
            None => s.sample_independent(h, t, name, d).unwrap(),
        };
        h.set_param(t, name, d, v).unwrap();
    }
}

/// Checks the kept (incrementally updated) bad-set estimator against a
/// fresh fit and against the textbook mixture.
fn check_kept(s: &mut TpeSampler, h: &mut History, step: usize) {
    let space = h.intersection_space();
    let model: Vec<(Option<u32>, Distribution)> = space
        .iter()
        .map(|&(p, d)| (Some(p), h.dist(p, d).clone()))
        .collect();
    let probe = h.create_trial(TrialState::Running);
    let (_, above) = s.split(h, probe).unwrap();
    let kept = s.fit_bad(h, &above, &model).unwrap();
    let (oa, ra) = TpeSampler::gather(h, &above, &model);
    let wa = s.weights(ra.len()).unwrap();
    let dists: Vec<Distribution> = model.iter().map(|m| m.1.clone()).collect();
    let fresh = Parzen::new(&dists, &oa, &wa, &s.cfg.parzen);
    assert_eq!(kept.n_kernels(), fresh.n_kernels());
    let mut r1 = Rng::new(step as u64);
    let pts = fresh.sample(&mut r1, 40);
    let mut r2 = Rng::new(step as u64);
    assert_eq!(kept.sample(&mut r2, 40), pts, "step {step}");
    let textbook = parzen::reference::log_pdf(&dists, &oa, &wa, &s.cfg.parzen, &pts);
    for ((a, b), c) in kept
        .log_pdf(&pts)
        .iter()
        .zip(fresh.log_pdf(&pts))
        .zip(textbook)
    {
        assert!(
            (a - b).abs() <= 1e-12 * b.abs().max(1.0),
            "step {step}: {a} {b}"
        );
        assert!(
            (a - c).abs() <= 1e-12 * (1.0 + c.abs()),
            "step {step}: {a} {c}"
        );
    }
    h.finish(probe, TrialState::Fail, vec![]).unwrap();
}

#[test]
fn kept_bad_set_equals_a_fresh_fit() {
    // Every kind of dimension, running trials (constant liar) and a
    // parameter that is sometimes missing or out of range.
    let dims = vec![
        Distribution::float("a", 0.0, 1.0, None, false).unwrap(),
        Distribution::float("b", 1e-4, 1.0, None, true).unwrap(),
        Distribution::int("c", 1, 40, 1, false).unwrap(),
        Distribution::int("d", 1, 64, 1, true).unwrap(),
        Distribution::float("e", 0.0, 2.0, Some(0.25), false).unwrap(),
        Distribution::categorical("f", 3).unwrap(),
    ];
    let names = ["a", "b", "c", "d", "e", "f"];
    let mut h = History::new(1);
    let mut s = TpeSampler::new(TpeConfig::default(), 3).unwrap();
    let mut rng = Rng::new(5);
    let mut running: Vec<usize> = Vec::new();
    let mut checked = 0;
    for step in 0..420 {
        start(&mut s, &mut h, &names, &dims, step);
        running.push(h.trials().len() - 1);
        // Finish trials out of order, leaving a few running.
        while running.len() > 3 || (!running.is_empty() && rng.uniform() < 0.5) {
            let k = (rng.uniform() * running.len() as f64) as usize % running.len();
            let u = running.swap_remove(k);
            let x = h.trials()[u].params[0].value;
            let state = if u % 11 == 5 {
                TrialState::Pruned
            } else {
                TrialState::Complete
            };
            h.finish(u, state, vec![(x - 0.3).abs() + rng.uniform() * 0.01])
                .unwrap();
        }
        if step >= 110 && step % 9 == 0 {
            check_kept(&mut s, &mut h, step);
            checked += 1;
        }
    }
    assert!(checked > 20);
    // The comparisons above were of updated estimators, not fresh fits.
    let updates: usize = s.kept.values().map(|k| k.updates).sum();
    assert!(updates > 250, "{updates}");
}

#[test]
fn kept_estimators_stay_bounded_when_ranges_change_every_trial() {
    let mut h = History::new(1);
    let mut s = TpeSampler::new(TpeConfig::default(), 1).unwrap();
    for i in 0..200 {
        // A new upper bound each trial: a new space for the kept map.
        let d = Distribution::float("x", 0.0, 10.0 + i as f64, None, false).unwrap();
        let t = h.create_trial(TrialState::Running);
        let v = s.sample_independent(&h, t, "x", &d).unwrap();
        assert!(d.contains(v));
        h.set_param(t, "x", &d, v).unwrap();
        h.finish(t, TrialState::Complete, vec![v]).unwrap();
    }
    assert!(s.kept.len() <= MAX_KEPT, "{}", s.kept.len());
}

#[test]
fn default_weights_match_optuna() {
    assert_eq!(default_weights(3), vec![1.0; 3]);
    let w = default_weights(30);
    assert_eq!(w.len(), 30);
    assert!((w[0] - 1.0 / 30.0).abs() < 1e-15 && w[4] == 1.0 && w[29] == 1.0);
    assert!(w[..5].windows(2).all(|p| p[0] < p[1]));
    assert_eq!(default_gamma(9), 1);
    assert_eq!(default_gamma(1000), 25);
    assert_eq!(default_gamma_multi(1000), 100);
}

#[test]
fn beats_random_on_a_quadratic() {
    let dims = vec![Distribution::float("x", -5.0, 5.0, None, false).unwrap(); 3];
    let f = |x: &[f64]| x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum::<f64>();
    let mut tpe_best = Vec::new();
    let mut rnd_best = Vec::new();
    for seed in 0..5 {
        let mut s = TpeSampler::new(TpeConfig::default(), seed).unwrap();
        tpe_best.push(crate::samplers::run_minimising(
            &mut s,
            &mut History::new(1),
            f,
            &dims,
            80,
        ));
        let cfg = TpeConfig {
            n_startup_trials: 1000,
            ..TpeConfig::default()
        };
        let mut r = TpeSampler::new(cfg, seed).unwrap();
        rnd_best.push(crate::samplers::run_minimising(
            &mut r,
            &mut History::new(1),
            f,
            &dims,
            80,
        ));
    }
    tpe_best.sort_by(f64::total_cmp);
    rnd_best.sort_by(f64::total_cmp);
    assert!(tpe_best[2] < rnd_best[2] / 3.0, "{tpe_best:?} {rnd_best:?}");
    assert!(tpe_best[2] < 0.5, "{tpe_best:?}");
}

#[test]
fn split_puts_running_in_bad_set_and_best_in_good() {
    let mut h = History::new(1);
    let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
    for i in 0..20 {
        let t = h.create_trial(TrialState::Running);
        h.set_param(t, "x", &d, i as f64 / 20.0).unwrap();
        h.finish(t, TrialState::Complete, vec![(i as f64 - 7.0).abs()])
            .unwrap();
    }
    let r = h.create_trial(TrialState::Running);
    let me = h.create_trial(TrialState::Running);
    let s = TpeSampler::new(TpeConfig::default(), 0).unwrap();
    let (below, above) = s.split(&h, me).unwrap();
    assert_eq!(below, vec![6, 7]);
    assert!(above.contains(&r) && !above.contains(&me));
    assert_eq!(below.len() + above.len(), 21);
}

#[test]
fn degenerate_ranges_never_panic() {
    // A subnormal width: bandwidths underflow, yet every value stays in range.
    let dims = vec![Distribution::float("x", 0.0, 5e-324, None, false).unwrap()];
    let mut s = TpeSampler::new(
        TpeConfig {
            n_startup_trials: 2,
            ..TpeConfig::default()
        },
        3,
    )
    .unwrap();
    let mut h = History::new(1);
    crate::samplers::run_minimising(&mut s, &mut h, |x| x[0], &dims, 12);
    assert!(h.params()[0].values.iter().all(|v| dims[0].contains(*v)));
}

#[test]
fn multi_objective_split_with_infinite_losses() {
    // One front of four points (each better than the others somewhere), two of
    // them with an infinite loss; choosing two must give finite, valid picks.
    let lvals = vec![
        vec![0.0, f64::INFINITY],
        vec![1.0, 3.0],
        vec![2.0, 1.0],
        vec![f64::NEG_INFINITY, 10.0],
    ];
    let chosen = split_multi(&lvals, 2);
    assert_eq!(chosen.iter().filter(|&&c| c).count(), 2);
    // A point dominated by all others (infinite in both) is never chosen first.
    let lvals = vec![
        vec![f64::INFINITY, f64::INFINITY],
        vec![1.0, 1.0],
        vec![2.0, 0.5],
    ];
    assert_eq!(split_multi(&lvals, 1), vec![false, true, false]);
    assert_eq!(split_multi(&lvals, 2), vec![false, true, true]);
}

#[test]
fn hypervolume_of_known_sets() {
    let a = [1.0, 2.0];
    let b = [2.0, 1.0];
    assert!((hypervolume(&[&a, &b], &[3.0, 3.0]) - 3.0).abs() < 1e-12);
    let c = [1.0, 1.0, 1.0];
    assert!((hypervolume(&[&c], &[2.0, 3.0, 4.0]) - 6.0).abs() < 1e-12);
    let chosen = split_multi(
        &[
            vec![1.0, 4.0],
            vec![2.0, 2.0],
            vec![4.0, 1.0],
            vec![3.0, 3.0],
        ],
        2,
    );
    assert!(!chosen[3]);
    assert_eq!(chosen.iter().filter(|c| **c).count(), 2);
}

/// Ten PRUNED trials report step 1 (value i); trials 5-9 reach step 3 with
/// value 10 - i; trial 10 COMPLETE at step 1 with the best final value.
fn multi_fidelity_history() -> History {
    let x = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
    let mut h = History::new(1);
    for i in 0..11 {
        let t = h.create_trial(TrialState::Running);
        h.set_param(t, "x", &x, i as f64 / 10.0).unwrap();
        h.report(t, 1, i as f64).unwrap();
        if (5..10).contains(&i) {
            h.report(t, 3, 10.0 - i as f64).unwrap();
        }
        if i == 10 {
            h.finish(t, TrialState::Complete, vec![-1.0]).unwrap();
        } else {
            h.finish(t, TrialState::Pruned, vec![]).unwrap();
        }
    }
    h
}

#[test]
fn budget_aware_splits_at_the_highest_well_populated_step() {
    let h = multi_fidelity_history();
    let cfg = |budget_aware, n_startup_trials| TpeConfig {
        budget_aware,
        n_startup_trials,
        ..TpeConfig::default()
    };
    // Optuna's order: the COMPLETE trial first, then the deepest PRUNED
    // one; gamma(11) = 2.
    let mut plain = TpeSampler::new(cfg(false, 4), 0).unwrap();
    assert_eq!(plain.split_at_budget(&h, 11).unwrap().0, vec![9, 10]);
    // Step 3 has 5 >= 4 observations: the best there (trial 9) is good, all
    // other finished trials are bad.
    let mut aware = TpeSampler::new(cfg(true, 4), 0).unwrap();
    let (below, above) = aware.split_at_budget(&h, 11).unwrap();
    assert_eq!(below, vec![9]);
    assert_eq!(above, (0..11).filter(|&t| t != 9).collect::<Vec<_>>());
    // Needing 6 observations, step 1 (11 of them, trial 10's final value
    // counted there) is the model budget: gamma(11) = 2.
    let mut aware = TpeSampler::new(cfg(true, 6), 0).unwrap();
    assert_eq!(aware.split_at_budget(&h, 11).unwrap().0, vec![0, 10]);
    // Needing more than any step has: Optuna's split.
    let mut aware = TpeSampler::new(cfg(true, 12), 0).unwrap();
    assert_eq!(aware.split_at_budget(&h, 11).unwrap().0, vec![9, 10]);
}

#[test]
fn budget_aware_tpe_conforms() {
    crate::samplers::conformance::check(|seed| {
        let cfg = TpeConfig {
            budget_aware: true,
            n_startup_trials: 4,
            ..TpeConfig::default()
        };
        Box::new(TpeSampler::new(cfg, seed).unwrap())
    });
}

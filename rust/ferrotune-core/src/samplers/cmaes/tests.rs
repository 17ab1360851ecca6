//! Tests of the sampler as a whole: runs on small problems, generation
//! bookkeeping through tags, restarts.

use super::*;
use crate::samplers::{run_minimising, start_trial};

fn floats(n: usize) -> Vec<Distribution> {
    (0..n)
        .map(|_| Distribution::float("x", -5.0, 5.0, None, false).unwrap())
        .collect()
}

fn names(n: usize) -> Vec<String> {
    (0..n).map(|i| format!("x{i}")).collect()
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum()
}

fn rosenbrock(x: &[f64]) -> f64 {
    x.windows(2)
        .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
        .sum()
}

fn sampler(cfg: CmaEsConfig, seed: u64) -> CmaEsSampler {
    CmaEsSampler::new(cfg, seed).unwrap()
}

fn assert_spd(g: &gaussian::Gaussian) {
    let n = g.n;
    if g.separable {
        assert!(g.cov.iter().all(|&c| c > 0.0));
        return;
    }
    for i in 0..n {
        for j in 0..n {
            assert_eq!(g.cov[i * n + j], g.cov[j * n + i], "C not symmetric");
        }
    }
    let (w, _) = eigen::sym_eigen(&g.cov, n);
    assert!(w.iter().all(|&v| v > 0.0), "C not positive definite: {w:?}");
}

#[test]
fn covariance_stays_symmetric_positive_definite_and_the_sphere_converges() {
    for cfg in [
        CmaEsConfig::default(),
        CmaEsConfig {
            use_separable_cma: true,
            ..Default::default()
        },
        CmaEsConfig {
            lr_adapt: true,
            ..Default::default()
        },
    ] {
        let mut s = sampler(cfg.clone(), 1);
        let mut h = History::new(1);
        let dims = floats(4);
        let nm = names(4);
        let mut best = f64::INFINITY;
        for _ in 0..500 {
            let (t, x) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
            best = best.min(sphere(&x));
            h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
            if let Some(search) = s.search() {
                assert_spd(&search.gauss);
            }
        }
        // Learning-rate adaptation trades speed on the sphere for robustness.
        let tol = if cfg.lr_adapt { 1e-2 } else { 1e-4 };
        assert!(best < tol, "{cfg:?}: best {best}");
        assert!(s.search().unwrap().generation > 40);
    }
}

#[test]
fn rosenbrock_beats_random_search() {
    let dims = floats(5);
    let (mut wins, n_seeds) = (0usize, 5u64);
    for seed in 0..n_seeds {
        let mut h = History::new(1);
        let cma = run_minimising(
            &mut sampler(Default::default(), seed),
            &mut h,
            rosenbrock,
            &dims,
            600,
        );
        let mut h = History::new(1);
        let mut r = crate::samplers::RandomSampler::new(seed);
        let rnd = run_minimising(&mut r, &mut h, rosenbrock, &dims, 600);
        wins += usize::from(cma < rnd);
    }
    assert_eq!(wins as u64, n_seeds);
}

#[test]
fn two_samplers_sharing_a_history_build_one_run_of_generations() {
    let dims = floats(3);
    let nm = names(3);
    let mut a = sampler(Default::default(), 1);
    let mut b = sampler(Default::default(), 2);
    let mut h = History::new(1);
    let mut running = Vec::new();
    for k in 0..120 {
        // Interleave asks, with two trials in flight at a time.
        let s = if k % 2 == 0 { &mut a } else { &mut b };
        running.push(start_trial(s, &mut h, &nm, &dims).unwrap());
        if running.len() == 2 {
            let (t, x) = running.remove(0);
            h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
        }
    }
    let lambda = a.search().unwrap().popsize();
    // Generation g has λ members, plus at most one extra: with two trials in
    // flight, the ask made while the last member runs cannot wait for it.
    let mut per_gen = std::collections::BTreeMap::<u64, usize>::new();
    for t in 0..h.trials().len() {
        let tag = h.tag(t);
        if !tag.is_empty() {
            assert_eq!(tag[0], TAG_KIND);
            *per_gen.entry(tag[2] as u64).or_default() += 1;
        }
    }
    let last = *per_gen.keys().last().unwrap();
    for (g, n) in &per_gen {
        if *g < last {
            assert!((lambda..=lambda + 1).contains(n), "generation {g}: {n}");
        }
    }
    // Both replay the same distribution.
    a.advance(&h);
    b.advance(&h);
    let (sa, sb) = (a.search().unwrap(), b.search().unwrap());
    assert_eq!(sa.gauss, sb.gauss);
    assert!(sa.generation >= 10);
}

#[test]
fn failed_members_are_replaced_and_extras_wait_their_turn() {
    let dims = floats(2);
    let nm = names(2);
    let mut s = sampler(Default::default(), 3);
    let mut h = History::new(1);
    // The start-up trial.
    let (t, x) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
    h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
    let mut gen0 = vec![start_trial(&mut s, &mut h, &nm, &dims).unwrap()];
    let lambda = s.search().unwrap().popsize();
    while gen0.len() < lambda + 2 {
        gen0.push(start_trial(&mut s, &mut h, &nm, &dims).unwrap());
    }
    // All λ + 2 asked while the generation was open belong to generation 0.
    for (i, (t, _)) in gen0.iter().enumerate() {
        assert_eq!(&h.tag(*t)[2..4], &[0.0, i as f64]);
    }
    // One member fails: the generation closes with the first λ that completed.
    h.finish(gen0[1].0, TrialState::Fail, vec![]).unwrap();
    for (t, x) in &gen0[..lambda + 1] {
        if *t != gen0[1].0 {
            h.finish(*t, TrialState::Complete, vec![sphere(x)]).unwrap();
        }
    }
    let (t, _) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
    assert_eq!(
        h.tag(t)[2],
        1.0,
        "generation 0 closed without the last extra"
    );
    assert_eq!(s.search().unwrap().generation, 1);
}

#[test]
fn a_failed_member_does_not_stall_a_generation() {
    let dims = floats(2);
    let nm = names(2);
    let mut s = sampler(Default::default(), 4);
    let mut h = History::new(1);
    for k in 0..200 {
        let (t, x) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
        if k % 3 == 1 {
            h.finish(t, TrialState::Fail, vec![]).unwrap();
        } else {
            h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
        }
    }
    let lambda = s.search().unwrap().popsize() as u64;
    // About 133 complete trials, λ a generation.
    assert!(s.search().unwrap().generation >= 130 / lambda - 1);
}

#[test]
fn ipop_restarts_on_equal_values_with_double_the_population() {
    let dims = floats(2);
    let cfg = CmaEsConfig {
        restart_strategy: RestartStrategy::Ipop,
        ..Default::default()
    };
    let mut s = sampler(cfg, 5);
    let mut h = History::new(1);
    run_minimising(&mut s, &mut h, |_| 1.0, &dims, 600);
    let search = s.search().unwrap();
    let l0 = strategy::default_popsize(2);
    let ev = &search.restarts;
    assert!(ev.len() >= 2, "{ev:?}");
    assert_eq!(ev[0].stop, Stop::EqualFunValues);
    // EqualFunValues needs 10 + ⌈30 n / λ⌉ generations of equal best values.
    assert_eq!(ev[0].generation, 10 + (60.0 / l0 as f64).ceil() as u64);
    assert_eq!(ev[0].popsize, 2 * l0);
    assert_eq!(ev[1].popsize, 4 * l0);
    assert_eq!(search.popsize(), ev.last().unwrap().popsize);
}

#[test]
fn bipop_alternates_regimes_by_budget() {
    let dims = floats(2);
    let cfg = CmaEsConfig {
        restart_strategy: RestartStrategy::Bipop,
        ..Default::default()
    };
    let mut s = sampler(cfg, 6);
    let mut h = History::new(1);
    run_minimising(&mut s, &mut h, |_| 1.0, &dims, 3000);
    let ev = &s.search().unwrap().restarts;
    let l0 = strategy::default_popsize(2);
    assert!(ev.len() >= 6, "{ev:?}");
    // Replay the budget rule: each restart is small exactly when the small
    // regime has spent fewer evaluations than the large one (the first run
    // counts as large); large populations double, small ones stay below
    // half the last large one.
    let (mut budget, mut last_g, mut lambda, mut small) = ([0u64; 2], 0, l0, false);
    let mut large = l0;
    for e in ev {
        budget[usize::from(small)] += (e.generation - last_g) * lambda as u64;
        assert_eq!(e.small, budget[1] < budget[0], "{ev:?}");
        if e.small {
            assert!(e.popsize <= (large / 2).max(l0), "{ev:?}");
        } else {
            large *= 2;
            assert_eq!(e.popsize, large);
        }
        (last_g, lambda, small) = (e.generation, e.popsize, e.small);
    }
    assert!(ev.iter().any(|e| e.small) && ev.iter().any(|e| !e.small));
}

#[test]
fn tolx_restarts_a_converged_run() {
    // A sharp minimum inside the box: σ shrinks until TolX (or TolFun) holds.
    let dims = floats(2);
    let cfg = CmaEsConfig {
        restart_strategy: RestartStrategy::Ipop,
        ..Default::default()
    };
    let mut s = sampler(cfg, 7);
    let mut h = History::new(1);
    run_minimising(&mut s, &mut h, |x| sphere(x).sqrt(), &dims, 3000);
    let ev = &s.search().unwrap().restarts;
    assert!(!ev.is_empty());
    assert!(matches!(ev[0].stop, Stop::TolX | Stop::TolFun), "{ev:?}");
}

#[test]
fn margin_keeps_integers_on_their_grid_and_moving() {
    let d = Distribution::int("k", -10, 10, 1, false).unwrap();
    let dims = vec![d.clone(), d.clone(), d];
    let cfg = CmaEsConfig {
        with_margin: true,
        ..Default::default()
    };
    let mut s = sampler(cfg, 8);
    let mut h = History::new(1);
    let best = run_minimising(&mut s, &mut h, |x| sphere(x) + 0.5, &dims, 300);
    assert_eq!(best, 0.5);
    // Late proposals still differ from each other (the margin keeps a spread).
    let m = s.search().unwrap();
    assert!(m
        .margin
        .as_ref()
        .unwrap()
        .a
        .iter()
        .all(|a| a.is_finite() && *a > 0.0));
}

#[test]
fn categorical_parameters_are_learnt() {
    // x in [-5, 5]² and a choice of 4 where only choice 2 is good.
    let mut dims = floats(2);
    dims.push(Distribution::categorical("c", 4).unwrap());
    let f = |x: &[f64]| sphere(&x[..2]) + if x[2] == 2.0 { 0.0 } else { 10.0 };
    let mut s = sampler(Default::default(), 9);
    let mut h = History::new(1);
    let best = run_minimising(&mut s, &mut h, f, &dims, 300);
    assert!(best < 0.1, "{best}");
    let q = &s.search().unwrap().cat.as_ref().unwrap().q[0];
    assert!(q[2] > 0.5, "{q:?}");
}

#[test]
fn an_enqueued_value_replaces_the_tagged_sample() {
    let dims = floats(2);
    let nm = names(2);
    let mut s = sampler(Default::default(), 10);
    let mut h = History::new(1);
    let (t, x) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
    h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
    // A trial whose x0 was fixed to 4.0 although the sampler proposed another value.
    let t = h.create_trial(TrialState::Running);
    let rel = s.relative_values(&h, t).unwrap();
    h.set_tag(t, s.take_tag(t)).unwrap();
    h.set_param(t, "x0", &dims[0], 4.0).unwrap();
    h.set_param(t, "x1", &dims[1], rel[1].2).unwrap();
    h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
    let search = s.search().unwrap();
    let dims_now = s.dims.as_ref().unwrap();
    let sol = solution(&h, dims_now, search, t, 1.0, false);
    assert!((sol.x[0] - dims[0].to_unit(4.0)).abs() < 1e-12);
    assert_eq!(sol.x[1], h.tag(t)[TAG_HEAD + 1]);
}

#[test]
fn arguments_are_checked() {
    let bad = [
        CmaEsConfig {
            sigma0: Some(0.0),
            ..Default::default()
        },
        CmaEsConfig {
            popsize: Some(1),
            ..Default::default()
        },
        CmaEsConfig {
            lr_adapt: true,
            use_separable_cma: true,
            ..Default::default()
        },
        CmaEsConfig {
            with_margin: true,
            use_separable_cma: true,
            ..Default::default()
        },
    ];
    for cfg in bad {
        assert!(matches!(
            CmaEsSampler::new(cfg, 0),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn untagged_and_malformed_trials_are_left_out() {
    let dims = floats(2);
    let nm = names(2);
    let mut s = sampler(Default::default(), 11);
    let mut other = crate::samplers::RandomSampler::new(11);
    let mut h = History::new(1);
    for k in 0..90 {
        // Every third trial comes from another sampler (no tag), and every
        // fifth CMA-ES trial gets a malformed tag of CMA-ES's kind.
        let (t, x) = if k % 3 == 0 {
            start_trial(&mut other, &mut h, &nm, &dims).unwrap()
        } else {
            start_trial(&mut s, &mut h, &nm, &dims).unwrap()
        };
        if k % 5 == 1 && !h.tag(t).is_empty() {
            let mut bad = h.tag(t)[..3].to_vec();
            bad[2] = 0.0;
            h.set_tag(t, bad).unwrap();
        }
        h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
    }
    let lambda = s.search().unwrap().popsize();
    let mut per_gen = std::collections::BTreeMap::<u64, usize>::new();
    for t in 0..h.trials().len() {
        let tag = h.tag(t);
        if tag.len() == TAG_HEAD + 2 {
            *per_gen.entry(tag[2] as u64).or_default() += 1;
        }
    }
    // Only well-formed tags count: each told generation had exactly λ of them.
    let told = s.search().unwrap().generation;
    assert!(told >= 5);
    for g in 0..told {
        assert_eq!(per_gen[&g], lambda, "generation {g}");
    }
}

#[test]
fn four_workers_with_stale_views_agree_on_every_generation() {
    let mut truth = History::new(1);
    let mut workers: Vec<(CmaEsSampler, History)> = (0..4)
        .map(|w| (sampler(Default::default(), 100 + w), History::new(1)))
        .collect();
    crate::samplers::conformance::stale_workers(&mut workers, &mut truth, &floats(3), 400, sphere);
    let mut searches = Vec::new();
    for (s, h) in &mut workers {
        crate::samplers::conformance::sync_history(&truth, h, true);
        s.advance(h);
        searches.push(s.search().unwrap().clone());
    }
    assert!(searches.iter().all(|m| *m == searches[0]));
    let told = searches[0].generation;
    let lambda = searches[0].popsize() as u64;
    // Most evaluations entered an update: at most a third were extras.
    assert!(
        told * lambda * 3 >= 2 * 399,
        "{told} generations of {lambda}"
    );
}

#[test]
fn an_injected_far_sample_moves_the_mean_by_a_clipped_step() {
    let n = 3;
    let s = strategy::Strategy::new(n, 6, strategy::Variant::Full);
    let start = gaussian::Gaussian::new(vec![0.5; n], 0.1, false);
    // The best sample lies 100 standard deviations away; the others at the mean.
    let mut xs = vec![vec![0.5; n]; 6];
    xs[0] = vec![10.5, 0.5, 0.5];
    let c_y = (n as f64).sqrt() + 2.0 * n as f64 / (n as f64 + 2.0);
    let (mut plain, mut injected) = (start.clone(), start.clone());
    plain.tell(&s, &xs, &[false; 6]);
    let mut flags = [false; 6];
    flags[0] = true;
    injected.tell(&s, &xs, &flags);
    let step = injected.mean[0] - 0.5;
    assert!((step - 0.1 * s.weights[0] * c_y).abs() < 1e-12, "{step}");
    assert!((plain.mean[0] - 0.5 - 10.0 * s.weights[0]).abs() < 1e-12);
    assert_spd(&injected);
}

#[test]
fn a_sampler_moved_to_another_study_starts_again() {
    let dims = floats(3);
    let nm = names(3);
    let mut s = sampler(Default::default(), 1);
    let mut long = History::new(1);
    for _ in 0..40 {
        let (t, x) = start_trial(&mut s, &mut long, &nm, &dims).unwrap();
        long.finish(t, TrialState::Complete, vec![sphere(&x)])
            .unwrap();
    }
    assert!(s.search().unwrap().generation > 0);
    // A shorter, new study: it used to index past the end of its finished trials.
    let mut short = History::new(1);
    for _ in 0..5 {
        let (t, x) = start_trial(&mut s, &mut short, &nm, &dims).unwrap();
        short
            .finish(t, TrialState::Complete, vec![sphere(&x)])
            .unwrap();
    }
    let fresh = {
        let mut f = sampler(Default::default(), 2);
        f.startup_done(&short);
        f.advance(&short);
        f.use_dims(Dims::new(
            nm.iter().cloned().zip(dims.iter().cloned()),
            true,
        ));
        f.advance(&short);
        f.search().unwrap().generation
    };
    assert_eq!(s.search().unwrap().generation, fresh);
}

/// A sampler that has read `h` from scratch, as a worker joining the study.
fn reader(h: &History, dims: &[Distribution], seed: u64) -> CmaEsSampler {
    let mut f = sampler(Default::default(), seed);
    f.startup_done(h);
    f.advance(h);
    f.use_dims(Dims::new(
        names(dims.len()).into_iter().zip(dims.iter().cloned()),
        true,
    ));
    f.advance(h);
    f
}

#[test]
fn a_thread_slow_to_reach_its_ask_holds_no_generation() {
    // `n_jobs` threads on the in-memory storage, replayed: thread A creates
    // trial 0 and is descheduled before its ask; thread B meanwhile runs 80
    // trials, every 4th PRUNED and every 4th + 2 FAIL (by trial number).
    let dims = floats(2);
    let nm = names(2);
    let mut s = sampler(Default::default(), 5);
    let mut h = History::new(1);
    let slow = h.create_trial(TrialState::Running);
    for _ in 0..80 {
        let (t, x) = start_trial(&mut s, &mut h, &nm, &dims).unwrap();
        match t % 4 {
            1 => h.finish(t, TrialState::Pruned, vec![]).unwrap(),
            2 => h.finish(t, TrialState::Fail, vec![]).unwrap(),
            _ => h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap(),
        }
    }
    // About 40 COMPLETE trials, λ = 6 a generation, after the start-up trial:
    // the generations advanced (before, the untagged trial 0 held generation 0
    // and every trial joined it).
    let told = s.search().unwrap().generation;
    assert!(told >= 5, "{told}");
    let mut mirror = History::new(1);
    crate::samplers::conformance::sync_history(&h, &mut mirror, true);
    // A's ask: its trial joins the open generation, not a told one.
    let rel = s.relative_values(&h, slow).unwrap();
    h.set_pending(slow, rel);
    let tag = s.take_tag(slow);
    assert_eq!(tag[2], told as f64);
    h.set_tag(slow, tag).unwrap();
    let mut x = Vec::new();
    for (name, d) in nm.iter().zip(&dims) {
        let p = h.param_index(name).unwrap();
        let v = h.pending_value(slow, p, d).unwrap();
        h.set_param(slow, name, d, v).unwrap();
        x.push(v);
    }
    h.finish(slow, TrialState::Complete, vec![sphere(&x)])
        .unwrap();
    // A sampler reading the finished study tells the same generations.
    s.advance(&h);
    assert_eq!(reader(&h, &dims, 9).search(), s.search());
    // A shared storage's copy still waits for the untagged trial: another
    // worker may yet tag it with generation 0.
    assert_eq!(reader(&mirror, &dims, 10).search().unwrap().generation, 0);
}

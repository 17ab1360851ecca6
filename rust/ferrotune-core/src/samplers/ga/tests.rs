use super::*;
use crate::constraints::Constraint;
use crate::samplers::{run_minimising, start_trial, RandomSampler};
use crate::space::{Condition, Param};

fn cfg(mode: GaMode, p: usize) -> GaConfig {
    GaConfig {
        mode,
        population_size: Some(p),
        ..GaConfig::default()
    }
}

fn dims(d: usize) -> Vec<Distribution> {
    (0..d)
        .map(|_| Distribution::float("x", -5.0, 5.0, None, false).unwrap())
        .collect()
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum()
}

fn rastrigin(x: &[f64]) -> f64 {
    let pi2 = 2.0 * std::f64::consts::PI;
    x.iter()
        .map(|v| v * v - 10.0 * (pi2 * v).cos() + 10.0)
        .sum()
}

#[test]
fn seeds_reproduce() {
    for mode in [GaMode::Generational, GaMode::Aging] {
        let run = |seed| {
            let mut s = GaSampler::new(cfg(mode, 8), seed).unwrap();
            let mut h = History::new(1);
            run_minimising(&mut s, &mut h, sphere, &dims(3), 60);
            h.params()[0].values.clone()
        };
        assert_eq!(run(4), run(4));
        assert_ne!(run(4), run(5));
    }
}

#[test]
fn better_than_random_search() {
    // Median over 5 seeds, 5-D sphere and Rastrigin, 800 evaluations.
    for f in [sphere as fn(&[f64]) -> f64, rastrigin] {
        for mode in [GaMode::Generational, GaMode::Aging] {
            let mut ga = Vec::new();
            let mut rs = Vec::new();
            for seed in 0..5 {
                let mut s = GaSampler::new(cfg(mode, 20), seed).unwrap();
                let mut r = RandomSampler::new(seed);
                ga.push(run_minimising(
                    &mut s,
                    &mut History::new(1),
                    f,
                    &dims(5),
                    800,
                ));
                rs.push(run_minimising(
                    &mut r,
                    &mut History::new(1),
                    f,
                    &dims(5),
                    800,
                ));
            }
            ga.sort_by(f64::total_cmp);
            rs.sort_by(f64::total_cmp);
            assert!(ga[2] < 0.5 * rs[2], "{mode:?}: {ga:?} vs random {rs:?}");
        }
    }
}

/// Runs one trial of `s` on `h` with `dims` and finishes it with `state`.
fn one(s: &mut GaSampler, h: &mut History, d: &[Distribution], state: TrialState) -> usize {
    let names: Vec<String> = (0..d.len()).map(|i| format!("x{i}")).collect();
    let (t, x) = start_trial(s, h, &names, d).unwrap();
    let values = if state == TrialState::Complete {
        vec![sphere(&x)]
    } else {
        vec![]
    };
    h.finish(t, state, values).unwrap();
    t
}

#[test]
fn two_samplers_sharing_a_history_fill_one_generation() {
    let d = dims(2);
    let mut h = History::new(1);
    let mut a = GaSampler::new(cfg(GaMode::Generational, 4), 1).unwrap();
    let mut b = GaSampler::new(cfg(GaMode::Generational, 4), 2).unwrap();
    for i in 0..20 {
        let s = if i % 2 == 0 { &mut a } else { &mut b };
        one(s, &mut h, &d, TrialState::Complete);
    }
    // Trials 0-3 are generation 0, 4-7 generation 1, ...: together, no gaps.
    for t in 0..20 {
        assert_eq!(
            h.tag(t)[..2],
            [TAG_GENERATIONAL, (t / 4) as f64],
            "trial {t}"
        );
    }
    a.update(&h).unwrap();
    b.update(&h).unwrap();
    assert_eq!(a.generation(), 5);
    assert_eq!(a.population(), b.population());
    // The pools written plainly, (mu + lambda): the best 4 of the previous pool and
    // the generation's 4 members (best first, the newest first among equal losses).
    let pools = |elites: Option<usize>| {
        let mut pool: Vec<(f64, u32)> = Vec::new();
        for g in 0..5u32 {
            pool.truncate(elites.unwrap_or(4));
            pool.extend((4 * g..4 * g + 4).map(|t| (h.trials()[t as usize].values[0], t)));
            pool.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
        }
        pool.truncate(if elites.is_none() { 4 } else { pool.len() });
        pool.iter().map(|e| e.1).collect::<Vec<_>>()
    };
    assert_eq!(a.population(), pools(None));
    // Generational replacement with 2 elites: their 2 and the generation's 4.
    let mut c = GaSampler::new(
        GaConfig {
            n_elites: Some(2),
            ..cfg(GaMode::Generational, 4)
        },
        3,
    )
    .unwrap();
    c.update(&h).unwrap();
    assert_eq!(c.population().len(), 6);
    assert_eq!(c.population(), pools(Some(2)));
}

#[test]
fn failed_and_pruned_members_do_not_stall_and_elites_survive() {
    let d = dims(2);
    let mut h = History::new(1);
    let mut s = GaSampler::new(cfg(GaMode::Generational, 4), 3).unwrap();
    let mut best = f64::INFINITY;
    for i in 0..40 {
        let state = match i % 5 {
            1 => TrialState::Fail,
            3 => TrialState::Pruned,
            _ => TrialState::Complete,
        };
        let t = one(&mut s, &mut h, &d, state);
        if state == TrialState::Complete {
            best = best.min(h.trials()[t].values[0]);
        }
    }
    s.update(&h).unwrap();
    // 24 COMPLETE trials, 4 a generation: 6 generations closed.
    assert_eq!(s.generation(), 6);
    let pool = s.population();
    assert!(pool
        .iter()
        .all(|&t| h.trials()[t as usize].state == TrialState::Complete));
    // Elitism: the best trial so far is always in the pool.
    let first = h.trials()[pool[0] as usize].values[0];
    assert_eq!(first, best);
}

#[test]
fn aging_evolution_removes_the_oldest() {
    let d = dims(2);
    let mut h = History::new(1);
    let mut s = GaSampler::new(
        GaConfig {
            tournament_size: Some(2),
            ..cfg(GaMode::Aging, 5)
        },
        7,
    )
    .unwrap();
    let mut complete = Vec::new();
    for i in 0..30 {
        let state = if i % 7 == 3 {
            TrialState::Fail
        } else {
            TrialState::Complete
        };
        let t = one(&mut s, &mut h, &d, state);
        if state == TrialState::Complete {
            complete.push(t as u32);
        }
        s.update(&h).unwrap();
        let want = &complete[complete.len().saturating_sub(5)..];
        assert_eq!(s.population(), want, "after trial {t}");
    }
    // The first 5 live individuals are initial (one failed, so 6 were asked), the rest children
    // whose parent was in the population when they were asked.
    let initial = (0..30).filter(|&t| h.tag(t)[1] == 0.0).count();
    assert_eq!(initial, 6);
    for t in 7..30 {
        let parent = h.tag(t)[2] as usize;
        assert!(parent < t && h.trials()[parent].state == TrialState::Complete);
        // Exactly one parameter changed.
        let changed = (0..2)
            .filter(|&p| h.params()[p].values[t] != h.params()[p].values[parent])
            .count();
        assert!(changed <= 1, "trial {t} changed {changed} parameters");
    }
}

fn param(name: &str, dist: Distribution, condition: Option<Condition>) -> Param {
    Param {
        name: name.into(),
        dist,
        condition,
        choice_values: None,
    }
}

#[test]
fn declared_spaces_with_conditions_and_constraints_stay_valid() {
    // kind in {a, b}; x active for a, y for b; x + z <= 1.
    let params = vec![
        param("kind", Distribution::categorical("kind", 2).unwrap(), None),
        param(
            "x",
            Distribution::float("x", 0.0, 1.0, None, false).unwrap(),
            Some(Condition {
                parent: 0,
                values: vec![0.0],
            }),
        ),
        param(
            "y",
            Distribution::int("y", 0, 9, 1, false).unwrap(),
            Some(Condition {
                parent: 0,
                values: vec![1.0],
            }),
        ),
        param(
            "z",
            Distribution::float("z", 0.0, 1.0, Some(0.1), false).unwrap(),
            None,
        ),
    ];
    let lin = Constraint::Linear {
        terms: vec![(1, 1.0), (3, 1.0)],
        rhs: 1.0,
    };
    let space = SearchSpace::new(params, vec![lin]).unwrap();
    for mode in [GaMode::Generational, GaMode::Aging] {
        let mut s = GaSampler::new(cfg(mode, 6), 11).unwrap();
        let mut h = History::new(1);
        for _ in 0..120 {
            let t = h.create_trial(TrialState::Running);
            let x = s
                .sample_space(&h, t, &space, 1000, &mut |_| Ok(true))
                .unwrap();
            assert!(space.is_valid(&x), "{x:?}");
            let tag = s.take_tag(t);
            assert_eq!(tag.len(), 3);
            h.set_tag(t, tag).unwrap();
            for (p, v) in space.params().iter().zip(&x) {
                if !v.is_nan() {
                    h.set_param(t, &p.name, &p.dist, *v).unwrap();
                }
            }
            let y = x[1].max(0.0) + x[2].max(0.0) * 0.1 - x[3];
            let y = if y.is_nan() { 5.0 } else { y };
            h.finish(t, TrialState::Complete, vec![y]).unwrap();
        }
        // Evolution found a good region: the best is near -1 (z = 1, x = 0 or y = 0).
        let best = h.best_trial(false).unwrap();
        assert!(h.trials()[best].values[0] < -0.8, "{mode:?}");
    }
}

#[test]
fn conditional_define_by_run_children_inherit_or_draw() {
    let kind = Distribution::categorical("kind", 2).unwrap();
    let xa = Distribution::float("a", -1.0, 1.0, None, false).unwrap();
    let xb = Distribution::int("b", 1, 50, 1, true).unwrap();
    let mut s = GaSampler::new(cfg(GaMode::Generational, 6), 5).unwrap();
    let mut h = History::new(1);
    for _ in 0..80 {
        let t = h.create_trial(TrialState::Running);
        let rel = s.relative_values(&h, t).unwrap();
        for &(p, d, v) in &rel {
            assert!(h.dist(p, d).contains(v));
        }
        h.set_pending(t, rel);
        let tag = s.take_tag(t);
        h.set_tag(t, tag).unwrap();
        let mut draw = |h: &mut History, name: &str, d: &Distribution| {
            let v = match h.param_index(name).and_then(|p| h.pending_value(t, p, d)) {
                Some(v) => v,
                None => s.sample_independent(h, t, name, d).unwrap(),
            };
            h.set_param(t, name, d, v).unwrap();
            v
        };
        let k = draw(&mut h, "kind", &kind);
        let y = if k == 0.0 {
            draw(&mut h, "a", &xa).abs()
        } else {
            (draw(&mut h, "b", &xb) - 1.0) / 10.0
        };
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
    let best = h.best_trial(false).unwrap();
    assert!(h.trials()[best].values[0] < 0.05);
}

#[test]
fn arguments_are_checked() {
    let bad = |c: GaConfig| GaSampler::new(c, 0).unwrap_err().to_string();
    let d = GaConfig::default();
    assert!(bad(GaConfig {
        population_size: Some(1),
        ..d
    })
    .contains("population_size"));
    assert!(bad(GaConfig {
        tournament_size: Some(0),
        ..d
    })
    .contains("tournament_size"));
    assert!(bad(GaConfig {
        crossover_prob: 1.5,
        ..d
    })
    .contains("crossover_prob"));
    assert!(bad(GaConfig {
        eta_m: f64::NAN,
        ..d
    })
    .contains("eta_m"));
    let mut s = GaSampler::new(d, 0).unwrap();
    let h = History::new(2);
    assert!(s.relative_values(&h, 0).is_err());
}

#[test]
fn a_discrete_mutation_moves_at_least_one_grid_step() {
    let d = Distribution::int("n", 0, 4, 1, false).unwrap();
    let x = d.to_unit(2.0);
    // A perturbation within the cell moves one step its way; at the ends, inwards.
    assert_eq!(d.from_unit(discrete_step(&d, x, x + 0.01)), 3.0);
    assert_eq!(d.from_unit(discrete_step(&d, x, x - 0.01)), 1.0);
    let top = d.to_unit(4.0);
    assert_eq!(d.from_unit(discrete_step(&d, top, top + 0.01)), 3.0);
    let low = d.to_unit(0.0);
    assert_eq!(d.from_unit(discrete_step(&d, low, low - 0.01)), 1.0);
    // A perturbation that already moves, a continuous float, no perturbation: unchanged.
    assert_eq!(discrete_step(&d, x, x + 0.3), x + 0.3);
    let f = Distribution::float("f", 0.0, 1.0, None, false).unwrap();
    assert_eq!(discrete_step(&f, 0.5, 0.51), 0.51);
    assert_eq!(discrete_step(&d, x, x), x);
}

#[test]
fn interleaved_asks_and_tells_keep_every_member() {
    // Two "threads" on one sampler: trials are created, proposed and finished in a
    // random interleaving; the kept bookkeeping equals a fresh sampler's reading.
    let d = Distribution::float("x", -1.0, 1.0, None, false).unwrap();
    let mut rng = Rng::new(4);
    let mut s = GaSampler::new(cfg(GaMode::Generational, 5), 1).unwrap();
    let mut h = History::new(1);
    let mut created: Vec<usize> = Vec::new();
    let mut proposed: Vec<usize> = Vec::new();
    for _ in 0..400 {
        match rng.below(3) {
            0 if created.len() + proposed.len() < 3 => {
                created.push(h.create_trial(TrialState::Running))
            }
            1 if !created.is_empty() => {
                let t = created.remove(rng.below(created.len() as u64) as usize);
                let rel = s.relative_values(&h, t).unwrap();
                h.set_pending(t, rel);
                let tag = s.take_tag(t);
                h.set_tag(t, tag).unwrap();
                let v = match h.param_index("x").and_then(|p| h.pending_value(t, p, &d)) {
                    Some(v) => v,
                    None => s.sample_independent(&h, t, "x", &d).unwrap(),
                };
                h.set_param(t, "x", &d, v).unwrap();
                proposed.push(t);
            }
            2 if !proposed.is_empty() => {
                let t = proposed.remove(rng.below(proposed.len() as u64) as usize);
                let x = h.params()[0].values[t];
                match t % 4 {
                    1 => h.finish(t, TrialState::Pruned, vec![]).unwrap(),
                    2 => h.finish(t, TrialState::Fail, vec![]).unwrap(),
                    _ => h.finish(t, TrialState::Complete, vec![x * x]).unwrap(),
                }
            }
            _ => {}
        }
    }
    s.update(&h).unwrap();
    let mut fresh = GaSampler::new(cfg(GaMode::Generational, 5), 1).unwrap();
    fresh.update(&h).unwrap();
    assert!(fresh.generation() >= 5, "{}", fresh.generation());
    assert_eq!(s.generation(), fresh.generation());
    assert_eq!(s.population(), fresh.population());
}

#[test]
fn a_running_member_holds_its_generation_and_counts_when_it_finishes() {
    let d = dims(2);
    let names: Vec<String> = vec!["x0".into(), "x1".into()];
    let mut h = History::new(1);
    let mut s = GaSampler::new(cfg(GaMode::Generational, 4), 2).unwrap();
    // Trial 0 runs throughout (another worker's long evaluation).
    let (slow, _) = start_trial(&mut s, &mut h, &names, &d).unwrap();
    for _ in 0..16 {
        one(&mut s, &mut h, &d, TrialState::Complete);
    }
    s.update(&h).unwrap();
    // Every trial asked meanwhile is a member (an extra) of generation 0.
    assert_eq!(s.generation(), 0);
    assert_eq!(h.tag(16)[..2], [TAG_GENERATIONAL, 0.0]);
    // When it finishes, generation 0 closes with trials 0-3, by number, and the
    // extras 4-7 make generation 1 at once; 8-16 are dropped (left out twice).
    h.finish(slow, TrialState::Complete, vec![-1.0]).unwrap();
    s.update(&h).unwrap();
    assert_eq!(s.generation(), 2);
    let pool = s.population();
    assert_eq!(pool[0], slow as u32, "the best member leads the pool");
    assert!(pool.iter().all(|&t| t < 8), "{pool:?}");
    let t = one(&mut s, &mut h, &d, TrialState::Complete);
    assert_eq!(h.tag(t)[..2], [TAG_GENERATIONAL, 2.0]);
}

#[test]
fn four_workers_with_stale_views_build_one_population() {
    let mut truth = History::new(1);
    let mut workers: Vec<(GaSampler, History)> = (0..4)
        .map(|w| {
            let s = GaSampler::new(cfg(GaMode::Generational, 6), 100 + w).unwrap();
            (s, History::new(1))
        })
        .collect();
    crate::samplers::conformance::stale_workers(&mut workers, &mut truth, &dims(3), 1000, sphere);
    let mut fresh = GaSampler::new(cfg(GaMode::Generational, 6), 7).unwrap();
    fresh.update(&truth).unwrap();
    for (s, h) in &mut workers {
        crate::samplers::conformance::sync_history(&truth, h, true);
        s.update(h).unwrap();
        assert_eq!(s.generation(), fresh.generation());
        assert_eq!(s.population(), fresh.population());
    }
    // Most trials entered a generation: at most a third were left out.
    assert!(
        fresh.generation() * 6 * 3 >= 2 * 1000,
        "{}",
        fresh.generation()
    );
}

#[test]
fn a_thread_slow_to_reach_its_ask_holds_no_generation() {
    // `n_jobs` threads on the in-memory storage, replayed: thread A creates
    // trial 0 and is descheduled before its ask; thread B meanwhile runs 40
    // trials, every 4th PRUNED and every 4th + 2 FAIL (by trial number).
    let d = dims(2);
    let mut h = History::new(1);
    let mut s = GaSampler::new(cfg(GaMode::Generational, 5), 5).unwrap();
    let slow = h.create_trial(TrialState::Running);
    for _ in 0..40 {
        let state = match h.trials().len() % 4 {
            1 => TrialState::Pruned,
            2 => TrialState::Fail,
            _ => TrialState::Complete,
        };
        one(&mut s, &mut h, &d, state);
    }
    s.update(&h).unwrap();
    // 20 COMPLETE trials, 5 a generation: the generations advanced (before,
    // the untagged trial 0 held generation 0 and all 40 joined it).
    assert_eq!(s.generation(), 4);
    let mut mirror = History::new(1);
    crate::samplers::conformance::sync_history(&h, &mut mirror, true);
    // A's ask: its trial joins the open generation, not a closed one.
    let rel = s.relative_values(&h, slow).unwrap();
    h.set_pending(slow, rel);
    let tag = s.take_tag(slow);
    assert_eq!(tag[..2], [TAG_GENERATIONAL, 4.0]);
    h.set_tag(slow, tag).unwrap();
    h.finish(slow, TrialState::Complete, vec![0.5]).unwrap();
    // A sampler reading the finished study closes the same generations.
    let mut fresh = GaSampler::new(cfg(GaMode::Generational, 5), 9).unwrap();
    fresh.update(&h).unwrap();
    s.update(&h).unwrap();
    assert_eq!(fresh.generation(), s.generation());
    assert_eq!(fresh.population(), s.population());
    // A shared storage's copy still waits for the untagged trial: another
    // worker may yet tag it with generation 0.
    let mut worker = GaSampler::new(cfg(GaMode::Generational, 5), 10).unwrap();
    worker.update(&mirror).unwrap();
    assert_eq!(worker.generation(), 0);
}

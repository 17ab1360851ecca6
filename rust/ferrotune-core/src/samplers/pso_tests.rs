use super::*;
use crate::constraints::Constraint;
use crate::history::TrialState;
use crate::samplers::{finish_tagged, run_minimising, start_trial, RandomSampler};
use crate::space::Param;

fn floats(d: usize) -> (Vec<String>, Vec<Distribution>) {
    let dims = (0..d)
        .map(|_| Distribution::float("x", -5.0, 5.0, None, false).unwrap())
        .collect();
    ((0..d).map(|i| format!("x{i}")).collect(), dims)
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum()
}

fn cfg(s: usize) -> PsoConfig {
    PsoConfig {
        swarm_size: s,
        ..PsoConfig::default()
    }
}

#[test]
fn constriction_of_clerc_and_kennedy() {
    // φ = 4.1: χ = 2 / (φ - 2 + sqrt(φ² - 4φ)) = 0.72984...
    assert!((constriction(4.1) - 0.729_843_788).abs() < 1e-8);
    let s = PsoSampler::new(PsoConfig::default(), 0).unwrap();
    assert_eq!(s.chi, constriction(4.1));
}

#[test]
fn velocity_update_is_the_constricted_formula_with_clamp_and_absorbing_walls() {
    let s = PsoSampler::new(cfg(4), 0).unwrap();
    let chi = constriction(4.1);
    let x = [0.5, 0.5, 0.9, 0.1];
    let v = [0.1, -0.2, 0.05, 0.0];
    let p = [0.6, 0.4, 1.0, 0.0];
    let g = [0.7, 0.1, 1.0, 0.0];
    let r = [(0.3, 0.8), (0.5, 0.5), (1.0, 1.0), (0.2, 0.9)];
    let (nx, nv) = s.move_particle(&x, &v, &p, &g, &r);
    for j in 0..4 {
        let raw = chi * (v[j] + 2.05 * r[j].0 * (p[j] - x[j]) + 2.05 * r[j].1 * (g[j] - x[j]));
        let vj = raw.clamp(-0.5, 0.5);
        let xj = x[j] + vj;
        let (wx, wv) = if xj > 1.0 {
            (1.0, 0.0)
        } else if xj < 0.0 {
            (0.0, 0.0)
        } else {
            (xj, vj)
        };
        assert!(
            (nx[j] - wx).abs() < 1e-15 && (nv[j] - wv).abs() < 1e-15,
            "{j}"
        );
    }
    // Component 2 hits the upper wall and stops.
    assert_eq!((nx[2], nv[2]), (1.0, 0.0));
}

#[test]
fn a_move_uses_the_particles_best_and_the_swarms_best() {
    let (names, dims) = floats(3);
    for topology in [Topology::Global, Topology::Ring] {
        let c = PsoConfig {
            swarm_size: 4,
            topology,
            ..PsoConfig::default()
        };
        let mut h = History::new(1);
        let mut s = PsoSampler::new(c, 9).unwrap();
        for _ in 0..14 {
            let (t, x) = start_trial(&mut s, &mut h, &names, &dims).unwrap();
            h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
        }
        // The next move is that of one of the two particles with 3 moves so far
        // (14 = 4 + 4 + 3 + 3), its fourth.
        s.refresh(&h).unwrap();
        let mut probe = s.clone();
        let (k, m) = probe.next_particle();
        assert_eq!(m, 3);
        let mut rng = probe.rng.clone();
        let r: Vec<(f64, f64)> = (0..3).map(|_| (rng.uniform(), rng.uniform())).collect();
        let tag = |t: usize| h.tag(t).to_vec();
        let of = |j: usize| (0..h.trials().len()).filter(move |&t| tag(t)[1] == j as f64);
        let last = of(k).max().unwrap();
        let best = |ts: Vec<usize>| {
            *ts.iter()
                .min_by(|&&a, &&b| h.trials()[a].values[0].total_cmp(&h.trials()[b].values[0]))
                .unwrap()
        };
        let pb = best(of(k).collect());
        let gb = match topology {
            Topology::Global => best((0..h.trials().len()).collect()),
            Topology::Ring => best(
                of((k + 3) % 4)
                    .chain(of(k))
                    .chain(of((k + 1) % 4))
                    .collect(),
            ),
        };
        let (x, v) = state_of(h.tag(last), 3).unwrap();
        let want = s.move_particle(
            &x,
            &v,
            &state_of(h.tag(pb), 3).unwrap().0,
            &state_of(h.tag(gb), 3).unwrap().0,
            &r,
        );
        let (t, _) = start_trial(&mut s, &mut h, &names, &dims).unwrap();
        assert_eq!(h.tag(t)[1..3], [k as f64, 3.0]);
        assert_eq!(state_of(h.tag(t), 3).unwrap(), want, "{topology:?}");
        // The recorded values are the decoded position.
        for j in 0..3 {
            let got = h.trials()[t].params[j].value;
            assert_eq!(got, dims[j].from_unit(want.0[j]));
        }
    }
}

#[test]
fn two_samplers_sharing_a_history_move_one_swarm() {
    let (names, dims) = floats(2);
    let mut h = History::new(1);
    let mut a = PsoSampler::new(cfg(5), 1).unwrap();
    let mut b = PsoSampler::new(cfg(5), 2).unwrap();
    let mut running = Vec::new();
    for i in 0..50 {
        let s: &mut PsoSampler = if i % 2 == 0 { &mut a } else { &mut b };
        let (t, x) = start_trial(s, &mut h, &names, &dims).unwrap();
        running.push((t, sphere(&x)));
        if running.len() == 3 {
            let (t, y) = running.remove(0);
            let state = if t % 6 == 1 {
                TrialState::Pruned
            } else {
                TrialState::Complete
            };
            let vals = if state == TrialState::Complete {
                vec![y]
            } else {
                vec![]
            };
            h.finish(t, state, vals).unwrap();
        }
    }
    a.refresh(&h).unwrap();
    b.refresh(&h).unwrap();
    for (sweep, ts) in (0..h.trials().len())
        .collect::<Vec<_>>()
        .chunks(5)
        .enumerate()
    {
        // Each sweep moves every particle once, each move numbered.
        let mut moved: Vec<usize> = ts.iter().map(|&t| h.tag(t)[1] as usize).collect();
        moved.sort_unstable();
        assert_eq!(moved, (0..ts.len()).collect::<Vec<_>>(), "sweep {sweep}");
        assert!(ts.iter().all(|&t| h.tag(t)[2] == sweep as f64));
    }
    for j in 0..5 {
        assert_eq!(a.particle(j), b.particle(j));
        let (_, best) = a.particle(j);
        let best = best.unwrap();
        assert_eq!(h.trials()[best].state, TrialState::Complete);
    }
}

#[test]
fn seeds_reproduce_and_values_stay_on_their_grids() {
    let dims = vec![
        Distribution::float("a", 1e-4, 1.0, None, true).unwrap(),
        Distribution::int("b", 0, 40, 4, false).unwrap(),
        Distribution::float("c", -1.0, 1.0, Some(0.1), false).unwrap(),
        Distribution::categorical("d", 5).unwrap(),
        Distribution::int("e", 1, 512, 1, true).unwrap(),
    ];
    let f = |x: &[f64]| x[0].ln().abs() + (x[1] - 12.0).abs() + x[2] * x[2] + x[3] + x[4].ln();
    for topology in [Topology::Global, Topology::Ring] {
        let c = PsoConfig {
            swarm_size: 8,
            topology,
            ..PsoConfig::default()
        };
        let mut runs = (0..2).map(|_| {
            let mut h = History::new(1);
            run_minimising(&mut PsoSampler::new(c, 4).unwrap(), &mut h, f, &dims, 120);
            h.params()
                .iter()
                .flat_map(|p| p.values.iter().map(|v| v.to_bits()))
                .collect::<Vec<_>>()
        });
        assert_eq!(runs.next(), runs.next());
    }
}

#[test]
fn beats_random_search_on_rosenbrock_and_rastrigin() {
    let rosen = |x: &[f64]| {
        x.windows(2)
            .map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2))
            .sum::<f64>()
    };
    let rastrigin = |x: &[f64]| {
        10.0 * x.len() as f64
            + x.iter()
                .map(|v| v * v - 10.0 * (std::f64::consts::TAU * v).cos())
                .sum::<f64>()
    };
    let (_, dims) = floats(5);
    for (name, f) in [
        ("rosenbrock", &rosen as &dyn Fn(&[f64]) -> f64),
        ("rastrigin", &rastrigin),
    ] {
        for topology in [Topology::Global, Topology::Ring] {
            let mut wins = 0;
            for seed in 0..5 {
                let c = PsoConfig {
                    topology,
                    ..cfg(20)
                };
                let pso = run_minimising(
                    &mut PsoSampler::new(c, seed).unwrap(),
                    &mut History::new(1),
                    f,
                    &dims,
                    600,
                );
                let rnd = run_minimising(
                    &mut RandomSampler::new(seed),
                    &mut History::new(1),
                    f,
                    &dims,
                    600,
                );
                wins += usize::from(pso < rnd);
            }
            assert!(
                wins >= 4,
                "{name} {topology:?}: PSO beat random {wins}/5 times"
            );
        }
    }
}

#[test]
fn declared_space_constraints_hold_in_every_position() {
    let p = |name: &str, dist| Param {
        name: name.into(),
        dist,
        condition: None,
        choice_values: None,
    };
    let space = SearchSpace::new(
        vec![
            p(
                "x",
                Distribution::float("x", 0.0, 1.0, None, false).unwrap(),
            ),
            p(
                "y",
                Distribution::float("y", 0.0, 1.0, None, false).unwrap(),
            ),
            p("n", Distribution::int("n", 1, 6, 1, false).unwrap()),
            p("m", Distribution::int("m", 1, 12, 1, false).unwrap()),
        ],
        vec![
            Constraint::Linear {
                terms: vec![(0, 1.0), (1, 1.0)],
                rhs: 0.5,
            },
            Constraint::Divisible { num: 3, den: 2 },
        ],
    )
    .unwrap();
    let mut h = History::new(1);
    let mut s = PsoSampler::new(cfg(8), 5).unwrap();
    for _ in 0..300 {
        let t = h.create_trial(TrialState::Running);
        let row = s
            .sample_space(&h, t, &space, 10_000, &mut |_| Ok(true))
            .unwrap();
        assert!(space.is_valid(&row), "{row:?}");
        let tag = s.take_tag(t);
        assert_eq!(tag.len(), 3 + 2 * 4);
        h.set_tag(t, tag).unwrap();
        for (q, &v) in space.params().iter().zip(&row) {
            h.set_param(t, &q.name, &q.dist, v).unwrap();
        }
        let y = -(row[0] + row[1]) - row[3] / 12.0;
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
    let best = h.best_trial(false).unwrap();
    assert!(h.trials()[best].values[0] < -1.4, "{:?}", h.trials()[best]);
}

#[test]
fn bad_configurations_are_refused_naming_the_argument() {
    let bad = [
        (
            PsoConfig {
                swarm_size: 1,
                ..PsoConfig::default()
            },
            "swarm_size",
        ),
        (
            PsoConfig {
                cognitive: 1.0,
                ..PsoConfig::default()
            },
            "cognitive",
        ),
        (
            PsoConfig {
                social: f64::NAN,
                ..PsoConfig::default()
            },
            "social",
        ),
        (
            PsoConfig {
                max_velocity: 0.0,
                ..PsoConfig::default()
            },
            "max_velocity",
        ),
    ];
    for (c, name) in bad {
        match PsoSampler::new(c, 0) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(name), "{m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut h = History::new(2);
    let t = h.create_trial(TrialState::Running);
    let r = PsoSampler::new(PsoConfig::default(), 0)
        .unwrap()
        .relative_values(&h, t);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
}

#[test]
fn without_any_result_particles_are_drawn_afresh() {
    // No trial ever finishes (all RUNNING): moves would only decay the
    // initial velocities; new uniform positions keep exploring instead.
    let p = |name: &str| Param {
        name: name.into(),
        dist: Distribution::float(name, 0.0, 1.0, None, false).unwrap(),
        condition: None,
        choice_values: None,
    };
    let space = SearchSpace::new(vec![p("x"), p("y")], vec![]).unwrap();
    let mut h = History::new(1);
    let mut s = PsoSampler::new(cfg(4), 3).unwrap();
    let ask = |s: &mut PsoSampler, h: &mut History| {
        let t = h.create_trial(TrialState::Running);
        let row = s
            .sample_space(h, t, &space, 100, &mut |_| Ok(true))
            .unwrap();
        let tag = s.take_tag(t);
        h.set_tag(t, tag).unwrap();
        h.set_param(t, "x", &space.params()[0].dist, row[0])
            .unwrap();
        h.set_param(t, "y", &space.params()[1].dist, row[1])
            .unwrap();
        t
    };
    for _ in 0..200 {
        ask(&mut s, &mut h);
    }
    // The particle's previous trial.
    let prev = |h: &History, t: usize| (0..t).rev().find(|&u| h.tag(u)[1] == h.tag(t)[1]).unwrap();
    let step: f64 = (100..200)
        .map(|t| (h.tag(t)[3] - h.tag(prev(&h, t))[3]).abs())
        .sum::<f64>()
        / 100.0;
    // Independent uniform positions differ by 1/3 on average.
    assert!(step > 0.2, "mean step {step}");
    // Once a result exists, particles move on from their latest position.
    h.finish(150, TrialState::Complete, vec![1.0]).unwrap();
    let t = ask(&mut s, &mut h);
    let (x, v) = state_of(h.tag(t), 2).unwrap();
    let (px, pv) = state_of(h.tag(prev(&h, t)), 2).unwrap();
    for j in 0..2 {
        assert!((x[j] - (px[j] + v[j]).clamp(0.0, 1.0)).abs() < 1e-12);
        assert!(v[j] != pv[j]);
    }
}

#[test]
fn workers_asking_in_step_move_every_particle() {
    // Two workers see the same history at every ask (each asks before the
    // other's move is known). Moving particles in a fixed turn, both moved
    // particle 0, then 2, then 4, ... and the odd particles never moved.
    let s = 6;
    let mut h = History::new(1);
    let c = PsoConfig {
        swarm_size: s,
        ..PsoConfig::default()
    };
    let mut workers = [
        PsoSampler::new(c, 1).unwrap(),
        PsoSampler::new(c, 2).unwrap(),
    ];
    for round in 0..12 {
        let mut tags = Vec::new();
        for w in workers.iter_mut() {
            w.refresh(&h).unwrap();
            let (j, m) = w.next_particle();
            tags.push(vec![MARK, j as f64, m as f64]);
        }
        finish_tagged(&mut h, tags, round as f64);
    }
    workers[0].refresh(&h).unwrap();
    // 24 moves: every particle moved at least twice (a sweep of 6 particles
    // takes at most 6 rounds of two).
    let moves: Vec<usize> = workers[0].particles.iter().map(|p| p.moves).collect();
    assert!(moves.iter().all(|&m| m >= 2), "{moves:?}");
}

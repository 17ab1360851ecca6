use super::population::shade_means;
use super::*;
use crate::constraints::Constraint;
use crate::history::TrialState;
use crate::samplers::{finish_tagged, run_minimising, start_trial, RandomSampler};
use crate::space::Param;

fn unit_floats(d: usize) -> (Vec<String>, Vec<Distribution>) {
    let dims = (0..d)
        .map(|_| Distribution::float("x", -5.0, 5.0, None, false).unwrap())
        .collect();
    ((0..d).map(|i| format!("x{i}")).collect(), dims)
}

fn cfg(np: usize) -> DeConfig {
    DeConfig {
        population_size: np,
        ..DeConfig::default()
    }
}

fn sphere(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum()
}

#[test]
fn shade_memory_update_is_the_weighted_lehmer_and_arithmetic_mean() {
    // By hand: Δf = 1, 3 → w = 0.25, 0.75.
    // M_F = (0.25·0.4² + 0.75·0.8²) / (0.25·0.4 + 0.75·0.8) = 0.52 / 0.7.
    // M_CR = 0.25·0.2 + 0.75·0.6 = 0.5.
    let (mf, mcr) = shade_means(&[(0.4, 0.2, 1.0), (0.8, 0.6, 3.0)]);
    assert!((mf - 0.52 / 0.7).abs() < 1e-12, "{mf}");
    assert!((mcr - 0.5).abs() < 1e-12, "{mcr}");
    // An infinite improvement takes the whole weight.
    let (mf, mcr) = shade_means(&[(0.4, 0.2, f64::INFINITY), (0.8, 0.6, 3.0)]);
    assert!((mf - 0.4).abs() < 1e-12 && (mcr - 0.2).abs() < 1e-12);
}

#[test]
fn the_memory_of_a_closed_generation_holds_its_successes() {
    // A population of 4 on one float; generation 1 improves slots 0 and 2.
    let mut h = History::new(1);
    let mut s = DeSampler::new(cfg(4), 0).unwrap();
    let (names, dims) = unit_floats(1);
    let run = |s: &mut DeSampler, h: &mut History, y: f64| {
        let (t, _) = start_trial(s, h, &names, &dims).unwrap();
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
        h.tag(t).to_vec()
    };
    // The trial of generation 0 in each slot (slots are drawn in any order).
    let mut first = [0usize; 4];
    for (t, y) in [10.0, 10.0, 10.0, 10.0].into_iter().enumerate() {
        first[run(&mut s, &mut h, y)[2] as usize] = t;
    }
    let mut tags = Vec::new();
    for y in [9.0, 11.0, 4.0, 10.0] {
        tags.push(run(&mut s, &mut h, y));
    }
    s.refresh(&h).unwrap();
    assert_eq!(s.generation(), 2);
    // Trials 4 and 6 improved by 1 and 6; trial 7 tied (replaces, no record).
    let succ = [(tags[0][3], tags[0][4], 1.0), (tags[2][3], tags[2][4], 6.0)];
    let (mf, mcr) = shade_means(&succ);
    let (m_f, m_cr) = s.memory();
    assert_eq!((m_f[0], m_cr[0]), (mf, mcr));
    assert!(m_f[1..].iter().chain(&m_cr[1..]).all(|&m| m == 0.5));
    let slot = |i: usize| tags[i][2] as usize;
    let mut members: Vec<Option<usize>> = first.iter().map(|&t| Some(t)).collect();
    for i in [0, 2, 3] {
        members[slot(i)] = Some(4 + i);
    }
    assert_eq!(s.members(), members);
    // The archive holds the replaced parents of trials 4, 6 and 7.
    let mut a = s.pop.archive.clone();
    a.sort_unstable();
    let mut replaced: Vec<usize> = [0, 2, 3].iter().map(|&i| first[slot(i)]).collect();
    replaced.sort_unstable();
    assert_eq!(a, replaced);
}

#[test]
fn current_to_pbest_trial_vector_follows_jade_eq_6() {
    // CR = 1 and a fixed F: every component is the mutant (bounded as in
    // SHADE). Some admissible (pbest, r1, r2) must give the proposal.
    let np = 6;
    let c = DeConfig {
        population_size: np,
        adaptation: Adaptation::Fixed,
        mutation_factor: 0.7,
        crossover_rate: 1.0,
        p_best_rate: 0.34, // the best round(0.34 · 6) = 2 members
        ..DeConfig::default()
    };
    let (names, dims) = unit_floats(3);
    for seed in 0..20 {
        let mut h = History::new(1);
        let mut s = DeSampler::new(c, seed).unwrap();
        let mut r = RandomSampler::new(seed);
        for i in 0..np {
            let (t, x) = start_trial(&mut r, &mut h, &names, &dims).unwrap();
            h.set_tag(t, vec![MARK, 0.0, i as f64, 0.0, 0.0]).unwrap();
            h.finish(t, TrialState::Complete, vec![sphere(&x)]).unwrap();
        }
        let (t, _) = start_trial(&mut s, &mut h, &names, &dims).unwrap();
        let slot = h.tag(t)[2] as usize;
        let dd: Dims = (0..3).map(|j| (Some(j as u32), dims[j].clone())).collect();
        let u = coords(&h, t, &dd);
        let x = coords(&h, slot, &dd);
        let mut ranked: Vec<usize> = (0..np).collect();
        ranked.sort_by(|&a, &b| h.trials()[a].values[0].total_cmp(&h.trials()[b].values[0]));
        let found = ranked[..2].iter().any(|&pb| {
            (0..np).filter(|&r1| r1 != slot).any(|r1| {
                (0..np).filter(|&r2| r2 != slot && r2 != r1).any(|r2| {
                    let v = current_to_pbest_mutant(
                        &x,
                        &coords(&h, pb, &dd),
                        &coords(&h, r1, &dd),
                        &coords(&h, r2, &dd),
                        0.7,
                    );
                    let want: Vec<f64> = (0..3)
                        .map(|j| match v[j] {
                            v if v < 0.0 => x[j] / 2.0,
                            v if v > 1.0 => (1.0 + x[j]) / 2.0,
                            v => v,
                        })
                        .collect();
                    want.iter().zip(&u).all(|(a, b)| (a - b).abs() < 1e-9)
                })
            })
        });
        assert!(found, "seed {seed}: {u:?} is no current-to-pbest mutant");
    }
}

#[test]
fn two_samplers_sharing_a_history_fill_one_population() {
    let (names, dims) = unit_floats(2);
    let mut h = History::new(1);
    let mut a = DeSampler::new(cfg(5), 1).unwrap();
    let mut b = DeSampler::new(cfg(5), 2).unwrap();
    let mut running = Vec::new();
    for i in 0..60 {
        let s: &mut DeSampler = if i % 2 == 0 { &mut a } else { &mut b };
        let (t, x) = start_trial(s, &mut h, &names, &dims).unwrap();
        running.push((t, sphere(&x)));
        // Two trials in flight: finish the older one (a FAIL now and then).
        if running.len() == 2 {
            let (t, y) = running.remove(0);
            if t % 7 == 3 {
                h.finish(t, TrialState::Fail, vec![]).unwrap();
            } else {
                h.finish(t, TrialState::Complete, vec![y]).unwrap();
            }
        }
    }
    a.refresh(&h).unwrap();
    b.refresh(&h).unwrap();
    assert!(a.generation() >= 8, "generation {}", a.generation());
    assert_eq!(a.generation(), b.generation());
    assert_eq!(a.members(), b.members());
    assert_eq!(a.memory(), b.memory());
    // Each generation has every slot; extra trial vectors take slots still waiting.
    for g in 0..a.generation() {
        let mut slots: Vec<usize> = (0..h.trials().len())
            .filter(|&t| h.tag(t).get(1) == Some(&(g as f64)))
            .map(|t| h.tag(t)[2] as usize)
            .collect();
        let n = slots.len();
        slots.sort_unstable();
        slots.dedup();
        assert_eq!(slots, (0..5).collect::<Vec<_>>(), "generation {g}: {n}");
        assert!(
            n <= 5 + 2,
            "generation {g} had {n} trial vectors: {slots:?}"
        );
    }
}

#[test]
fn a_generation_waiting_for_results_proposes_extra_trial_vectors() {
    let (names, dims) = unit_floats(1);
    let mut h = History::new(1);
    let mut s = DeSampler::new(cfg(4), 3).unwrap();
    let ts: Vec<usize> = (0..6)
        .map(|_| start_trial(&mut s, &mut h, &names, &dims).unwrap().0)
        .collect();
    let slots: Vec<usize> = ts.iter().map(|&t| h.tag(t)[2] as usize).collect();
    // Each slot once, then extra trial vectors for two different slots still
    // waiting (none has finished).
    let mut first: Vec<usize> = slots[..4].to_vec();
    first.sort_unstable();
    assert_eq!(first, vec![0, 1, 2, 3], "{slots:?}");
    assert_ne!(slots[4], slots[5], "{slots:?}");
    // All fail or are pruned but one: the generation closes, its slot filled.
    for &t in &ts {
        if t == 2 {
            h.finish(t, TrialState::Complete, vec![1.0]).unwrap();
        } else if t % 2 == 0 {
            h.finish(t, TrialState::Pruned, vec![]).unwrap();
        } else {
            h.finish(t, TrialState::Fail, vec![]).unwrap();
        }
    }
    s.refresh(&h).unwrap();
    assert_eq!(s.generation(), 1);
    let mut members = vec![None; 4];
    members[slots[2]] = Some(2);
    assert_eq!(s.members(), members);
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
    for strategy in [DeStrategy::Rand1Bin, DeStrategy::CurrentToPBest1] {
        let c = DeConfig {
            population_size: 8,
            strategy,
            ..DeConfig::default()
        };
        // run_minimising records through set_param, which refuses any value
        // outside its distribution or off its grid.
        let mut runs = (0..2).map(|_| {
            let mut h = History::new(1);
            run_minimising(&mut DeSampler::new(c, 4).unwrap(), &mut h, f, &dims, 120);
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
    let (_, dims) = unit_floats(5);
    for (name, f) in [
        ("rosenbrock", &rosen as &dyn Fn(&[f64]) -> f64),
        ("rastrigin", &rastrigin),
    ] {
        for strategy in [DeStrategy::Rand1Bin, DeStrategy::CurrentToPBest1] {
            let mut wins = 0;
            for seed in 0..5 {
                let c = DeConfig {
                    strategy,
                    ..cfg(20)
                };
                let de = run_minimising(
                    &mut DeSampler::new(c, seed).unwrap(),
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
                wins += usize::from(de < rnd);
            }
            assert!(
                wins >= 4,
                "{name} {strategy:?}: DE beat random {wins}/5 times"
            );
        }
    }
}

#[test]
fn declared_space_constraints_hold_in_every_trial_vector() {
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
            // The optimum of the objective lies outside: x + y <= 0.5.
            Constraint::Linear {
                terms: vec![(0, 1.0), (1, 1.0)],
                rhs: 0.5,
            },
            Constraint::Divisible { num: 3, den: 2 },
        ],
    )
    .unwrap();
    let mut h = History::new(1);
    let mut s = DeSampler::new(cfg(8), 5).unwrap();
    let mut from_de = 0;
    for _ in 0..300 {
        let t = h.create_trial(TrialState::Running);
        let row = s
            .sample_space(&h, t, &space, 10_000, &mut |_| Ok(true))
            .unwrap();
        assert!(space.is_valid(&row), "{row:?}");
        let tag = s.take_tag(t);
        from_de += usize::from(tag[3] > 0.0);
        h.set_tag(t, tag).unwrap();
        for (q, &v) in space.params().iter().zip(&row) {
            h.set_param(t, &q.name, &q.dist, v).unwrap();
        }
        let y = -(row[0] + row[1]) - row[3] / 12.0;
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
    }
    assert!(from_de > 200, "only {from_de} trial vectors");
    let best = h.best_trial(false).unwrap();
    assert!(h.trials()[best].values[0] < -1.4, "{:?}", h.trials()[best]);
}

#[test]
fn bad_configurations_are_refused_naming_the_argument() {
    let bad = [
        DeConfig {
            population_size: 3,
            ..DeConfig::default()
        },
        DeConfig {
            mutation_factor: 0.0,
            ..DeConfig::default()
        },
        DeConfig {
            crossover_rate: 1.5,
            ..DeConfig::default()
        },
        DeConfig {
            memory_size: Some(0),
            ..DeConfig::default()
        },
        DeConfig {
            p_best_rate: f64::NAN,
            ..DeConfig::default()
        },
        DeConfig {
            archive_rate: -1.0,
            ..DeConfig::default()
        },
    ];
    let names = [
        "population_size",
        "mutation_factor",
        "crossover_rate",
        "memory_size",
        "p_best_rate",
        "archive_rate",
    ];
    for (c, name) in bad.iter().zip(names) {
        match DeSampler::new(*c, 0) {
            Err(Error::InvalidArgument(m)) => assert!(m.contains(name), "{m}"),
            other => panic!("{name}: {other:?}"),
        }
    }
    let mut h = History::new(2);
    let t = h.create_trial(TrialState::Running);
    let r = DeSampler::new(DeConfig::default(), 0)
        .unwrap()
        .relative_values(&h, t);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
}

#[test]
fn jade_moves_its_means_towards_the_successes() {
    // JADE, eqs. (8)-(10), c = 0.1: mu_CR <- 0.9 mu_CR + 0.1 mean_A(S_CR),
    // mu_F <- 0.9 mu_F + 0.1 mean_L(S_F), unweighted.
    let cfg = DeConfig {
        adaptation: Adaptation::Jade,
        ..DeConfig::default()
    };
    let mut pop = super::population::Population::new(&cfg);
    pop.update_memory(&[(0.4, 0.2, 1.0), (0.8, 0.6, 3.0)]);
    let lehmer = (0.16 + 0.64) / (0.4 + 0.8);
    assert!((pop.m_f[0] - (0.9 * 0.5 + 0.1 * lehmer)).abs() < 1e-12);
    assert!((pop.m_cr[0] - (0.9 * 0.5 + 0.1 * 0.4)).abs() < 1e-12);
    assert_eq!(pop.m_f.len(), 1);
}

#[test]
fn workers_asking_in_step_spread_over_the_slots() {
    // Two workers see the same history at every ask (each asks before the
    // other's trial vector is known) and finish together. Taking slots in a
    // fixed turn, both took slot 0, then 2, then 4, ... and the odd slots
    // never came: the generation stayed open. Each round must now fill at
    // least one waiting slot, so a generation of 6 closes within 6 rounds.
    let np = 6;
    let mut h = History::new(1);
    let mut workers = [
        DeSampler::new(cfg(np), 1).unwrap(),
        DeSampler::new(cfg(np), 2).unwrap(),
    ];
    let mut closed_at = Vec::new();
    for round in 1..=12 {
        let mut tags = Vec::new();
        for w in workers.iter_mut() {
            w.refresh(&h).unwrap();
            let slot = w.pop.next_slot(&mut w.rng);
            tags.push(vec![
                MARK,
                w.generation() as f64,
                slot as f64,
                0.5,
                0.5,
                0.5,
            ]);
        }
        finish_tagged(&mut h, tags, round as f64);
        workers[0].refresh(&h).unwrap();
        if workers[0].generation() > closed_at.len() as u64 {
            closed_at.push(round);
        }
    }
    assert!(
        closed_at.len() >= 2,
        "generations closed at rounds {closed_at:?}"
    );
    assert!(
        closed_at[0] <= 6 && closed_at[1] - closed_at[0] <= 6,
        "{closed_at:?}"
    );
}

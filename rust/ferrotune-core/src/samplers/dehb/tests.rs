use super::*;
use crate::samplers::start_trial;

#[test]
fn subpopulation_sizes_follow_the_paper() {
    // eta 3, budgets 1, 3, 9, 27: brackets start with 27, 9, 6 and 4 configurations
    // (n_0 = floor(4 / (t + 1)) 3^t) and evaluate 27 9 3 1 | 9 3 1 | 6 2 | 4.
    assert_eq!(
        subpopulation_sizes(4, 3),
        (vec![27, 9, 6, 4], vec![27, 9, 6, 4])
    );
    // eta 3, three budgets: 9 3 1 | 3 1 | 3.
    assert_eq!(subpopulation_sizes(3, 3), (vec![9, 3, 3], vec![9, 3, 3]));
    // eta 2, five budgets: 16 8 4 2 1 | 8 4 2 1 | 4 2 1 | 4 2 | 5.
    assert_eq!(
        subpopulation_sizes(5, 2),
        (vec![16, 8, 4, 4, 5], vec![16, 8, 4, 4, 5])
    );
    assert_eq!(subpopulation_sizes(1, 3), (vec![1], vec![1]));
}

#[test]
fn selection_is_one_to_one_and_promotions_take_empty_or_worst_slots() {
    let cfg = DehbConfig {
        max_resource: Some(9),
        ..DehbConfig::default()
    };
    let mut p = Subpops::new(&cfg, 3);
    assert_eq!(p.steps, vec![1, 3, 9]);
    p.select(1, 0, (5, 10));
    p.select(1, 0, (7, 11)); // worse: the slot keeps trial 10
    assert_eq!(p.slots[1][0], Some((5, 10)));
    p.select(1, 0, (5, 12)); // not worse: replaced
    assert_eq!(p.slots[1][0], Some((5, 12)));
    p.promote(1, (9, 13));
    p.promote(1, (8, 14));
    assert_eq!(
        p.slots[1],
        vec![Some((5, 12)), Some((9, 13)), Some((8, 14))]
    );
    p.promote(1, (10, 15)); // worse than the worst: out
    p.promote(1, (1, 16)); // replaces the worst (9, 13)
    assert_eq!(
        p.slots[1],
        vec![Some((5, 12)), Some((1, 16)), Some((8, 14))]
    );
    assert_eq!(p.ranked(1), vec![(1, 16), (5, 12), (8, 14)]);
}

/// A finished untagged trial with `x` reporting `values` at steps 1, 3, 9, ...
fn add(h: &mut History, x: f64, values: &[f64]) {
    let d = Distribution::float("x", 0.0, 1.0, None, false).unwrap();
    let t = h.create_trial(TrialState::Running);
    h.set_param(t, "x", &d, x).unwrap();
    let mut step = 1;
    for &v in values {
        h.report(t, step, v).unwrap();
        step *= 3;
    }
    h.finish(t, TrialState::Pruned, vec![]).unwrap();
}

#[test]
fn mutants_take_their_parents_from_the_next_lower_budget() {
    let mut h = History::new(1);
    // Budgets 3 and 9: x in [0.6, 0.7] (bad at budget 1).
    for i in 0..3 {
        add(&mut h, 0.6 + 0.05 * f64::from(i), &[10.0, 1.0, 1.0]);
    }
    // Budget 1's: x in [0.2, 0.3], better at budget 1.
    for i in 0..12 {
        add(&mut h, 0.2 + 0.1 * f64::from(i) / 11.0, &[f64::from(i)]);
    }
    let cfg = DehbConfig {
        max_resource: Some(9),
        crossover_prob: 1.0,
        ..DehbConfig::default()
    };
    let mut s = DehbSampler::new(cfg, 3).unwrap();
    s.set_study_name("s");
    let mut hb = HyperbandPruner::new(cfg.hyperband()).unwrap();
    hb.set_study_name("s");
    let names = vec!["x".to_string()];
    let d = vec![Distribution::float("x", 0.0, 1.0, None, false).unwrap()];
    let mut seen = [0usize; 3];
    for _ in 0..60 {
        let (t, x) = start_trial(&mut s, &mut h, &names, &d).unwrap();
        let b = hb.bracket_in(&h, t).unwrap().unwrap();
        seen[b] += 1;
        // x_r1 + F (x_r2 - x_r3) with the parents' range.
        let (lo, hi) = if b == 2 { (0.55, 0.75) } else { (0.15, 0.35) };
        assert!((lo..=hi).contains(&x[0]), "bracket {b}: {}", x[0]);
        assert_eq!(h.tag(t)[1], b as f64);
        // Unfinished: the subpopulations stay as built.
        h.finish(t, TrialState::Fail, vec![]).unwrap();
    }
    assert!(seen.iter().all(|&c| c > 0), "{seen:?}");
    let pops = s.subpopulations();
    assert_eq!(pops.iter().map(Vec::len).collect::<Vec<_>>(), vec![9, 3, 3]);
    // Budget 1 holds the nine best at that budget (trials 3..=11), budget 3 the first three.
    let mut low: Vec<u32> = pops[0].iter().flatten().copied().collect();
    low.sort_unstable();
    assert_eq!(low, (3..12).collect::<Vec<u32>>());
    assert_eq!(pops[1], vec![Some(0), Some(1), Some(2)]);
    assert_eq!(pops[2], vec![Some(0), Some(1), Some(2)]);
}

#[test]
fn two_samplers_sharing_a_history_cycle_through_the_slots_together() {
    let cfg = DehbConfig {
        max_resource: Some(9),
        ..DehbConfig::default()
    };
    let mut a = DehbSampler::new(cfg, 1).unwrap();
    let mut b = DehbSampler::new(cfg, 2).unwrap();
    a.set_study_name("s");
    b.set_study_name("s");
    let names = vec!["x".to_string()];
    let d = vec![Distribution::float("x", -1.0, 1.0, None, false).unwrap()];
    let mut h = History::new(1);
    for i in 0..80 {
        let s = if i % 2 == 0 { &mut a } else { &mut b };
        let (t, x) = start_trial(s, &mut h, &names, &d).unwrap();
        for step in [1, 3, 9] {
            h.report(t, step, x[0] * x[0] + 1.0 / step as f64).unwrap();
        }
        h.finish(t, TrialState::Complete, vec![x[0] * x[0]])
            .unwrap();
    }
    // Per subpopulation, its trials take the slots 0, 1, 2, ... in trial order.
    let sizes = subpopulation_sizes(3, 3).0;
    let mut next = [0usize; 3];
    for t in 0..80 {
        let tag = h.tag(t);
        let j = tag[1] as usize;
        assert_eq!(tag[2] as usize, next[j] % sizes[j], "trial {t}");
        next[j] += 1;
    }
    // Both read the whole history: the same subpopulations.
    a.plan(&h, 80).unwrap();
    b.plan(&h, 80).unwrap();
    assert_eq!(a.subpopulations(), b.subpopulations());
    let best = h.best_trial(false).unwrap();
    assert!(h.trials()[best].values[0] < 1e-3);
}

#[test]
fn before_the_brackets_are_known_trials_are_uniform_and_arguments_are_checked() {
    let mut s = DehbSampler::new(DehbConfig::default(), 0).unwrap();
    let mut h = History::new(1);
    let names = vec!["x".to_string()];
    let d = vec![Distribution::float("x", 0.0, 1.0, None, false).unwrap()];
    let (t, _) = start_trial(&mut s, &mut h, &names, &d).unwrap();
    assert_eq!(h.tag(t), [TAG_DEHB, -1.0, -1.0]);
    let bad = |c: DehbConfig| DehbSampler::new(c, 0).unwrap_err().to_string();
    let c = DehbConfig::default();
    assert!(bad(DehbConfig {
        reduction_factor: 1,
        ..c
    })
    .contains("reduction_factor"));
    assert!(bad(DehbConfig {
        mutation_factor: 0.0,
        ..c
    })
    .contains("mutation_factor"));
    assert!(bad(DehbConfig {
        crossover_prob: 2.0,
        ..c
    })
    .contains("crossover_prob"));
    assert!(s.relative_values(&History::new(2), 0).is_err());
}

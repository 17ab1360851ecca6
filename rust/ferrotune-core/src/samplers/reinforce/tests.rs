use super::policy::{Policy, Step};
use super::*;
use crate::constraints::Constraint;
use crate::space::Condition;

fn param(name: &str, dist: Distribution, condition: Option<Condition>) -> Param {
    Param {
        name: name.into(),
        dist,
        condition,
        choice_values: None,
    }
}

fn cat(name: &str, n: usize) -> Param {
    param(name, Distribution::categorical(name, n).unwrap(), None)
}

/// Asks one trial of `space`, records its values and the objective `f`'s
/// value; returns the trial's number.
fn ask_tell(
    s: &mut ReinforceSampler,
    h: &mut History,
    space: &SearchSpace,
    f: &dyn Fn(&[f64]) -> f64,
) -> usize {
    let t = h.create_trial(TrialState::Running);
    let x = s
        .sample_space(h, t, space, 1000, &mut |_| Ok(true))
        .unwrap();
    assert!(space.is_valid(&x), "{x:?}");
    for (p, v) in space.params().iter().zip(&x) {
        if !v.is_nan() {
            h.set_param(t, &p.name, &p.dist, *v).unwrap();
        }
    }
    h.finish(t, TrialState::Complete, vec![f(&x)]).unwrap();
    t
}

#[test]
fn gradient_matches_finite_differences() {
    let mut rng = Rng::new(3);
    let mut pol = Policy::new(&[3, 5, 2, 4], 3, 4, &mut rng);
    // Move every weight off its initial scale so tanh is not near-linear.
    pol.theta
        .iter_mut()
        .for_each(|t| *t = rng.uniform_in(-0.8, 0.8));
    let steps = vec![
        Step {
            d: 0,
            a: 2,
            mask: vec![],
        },
        Step {
            d: 1,
            a: 1,
            mask: vec![true, true, false, true, false],
        },
        Step {
            d: 3,
            a: 0,
            mask: vec![],
        },
        Step {
            d: 2,
            a: 1,
            mask: vec![],
        },
    ];
    let (adv, beta) = (0.7, 0.3);
    let mut grad = vec![0.0; pol.theta.len()];
    pol.loss_grad(&steps, adv, beta, 1.0, &mut grad);
    let loss = |p: &Policy| p.loss_grad(&steps, adv, beta, 0.0, &mut vec![0.0; p.theta.len()]);
    let eps = 1e-6;
    for i in 0..pol.theta.len() {
        let mut a = pol.clone();
        a.theta[i] += eps;
        let mut b = pol.clone();
        b.theta[i] -= eps;
        let fd = (loss(&a) - loss(&b)) / (2.0 * eps);
        assert!(
            (fd - grad[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
            "parameter {i}: analytic {} finite difference {fd}",
            grad[i]
        );
    }
    // The check is not vacuous: the gradient is far from zero.
    assert!(grad.iter().any(|g| g.abs() > 1e-3));
}

#[test]
fn ppo_gradient_matches_finite_differences() {
    let mut rng = Rng::new(5);
    let mut pol = Policy::new(&[4, 3, 5], 3, 5, &mut rng);
    pol.theta
        .iter_mut()
        .for_each(|t| *t = rng.uniform_in(-0.8, 0.8));
    let steps = vec![
        Step {
            d: 0,
            a: 3,
            mask: vec![],
        },
        Step {
            d: 2,
            a: 0,
            mask: vec![true, false, true, true, false],
        },
        Step {
            d: 1,
            a: 2,
            mask: vec![],
        },
    ];
    let log_p = pol.log_prob(&steps);
    // rho = 1.1 (inside the clip range), 1.5 and 0.6 (clipped for A > 0 and
    // A < 0 respectively), and 0.6 with A > 0 (the minimum is unclipped).
    for (rho, adv) in [(1.1, 0.8), (1.5, 0.8), (0.6, -0.5), (0.6, 0.8)] {
        let log_old = log_p - f64::ln(rho);
        let (eps, beta) = (0.2, 0.05);
        let mut grad = vec![0.0; pol.theta.len()];
        pol.ppo_loss_grad(&steps, adv, log_old, eps, beta, &mut grad);
        let loss = |p: &Policy| {
            p.ppo_loss_grad(
                &steps,
                adv,
                log_old,
                eps,
                beta,
                &mut vec![0.0; p.theta.len()],
            )
        };
        let h = 1e-6;
        for i in 0..pol.theta.len() {
            let (mut a, mut b) = (pol.clone(), pol.clone());
            a.theta[i] += h;
            b.theta[i] -= h;
            let fd = (loss(&a) - loss(&b)) / (2.0 * h);
            assert!(
                (fd - grad[i]).abs() <= 1e-6 * (1.0 + fd.abs()),
                "rho {rho} A {adv} parameter {i}: analytic {} finite difference {fd}",
                grad[i]
            );
        }
    }
}

#[test]
fn probability_of_the_best_architecture_rises() {
    // Five decisions of four choices; the value counts mismatches with one
    // target architecture, so it is the only minimum.
    let space =
        SearchSpace::new((0..5).map(|i| cat(&format!("op{i}"), 4)).collect(), vec![]).unwrap();
    let target = [2.0, 0.0, 3.0, 1.0, 2.0];
    let f = |x: &[f64]| x.iter().zip(&target).filter(|(a, b)| a != b).count() as f64;
    for seed in 0..3 {
        let mut s = ReinforceSampler::new(ReinforceConfig::default(), seed).unwrap();
        let mut h = History::new(1);
        // Record the target once so its probability can be read from the history.
        let t0 = h.create_trial(TrialState::Running);
        for (p, v) in space.params().iter().zip(&target) {
            h.set_param(t0, &p.name, &p.dist, *v).unwrap();
        }
        h.finish(t0, TrialState::Fail, vec![]).unwrap();
        ask_tell(&mut s, &mut h, &space, &f);
        let before = s.probability(&h, t0, &space).unwrap();
        assert!((before - 1.0 / 1024.0).abs() < 5e-4, "{before}");
        for _ in 0..200 {
            ask_tell(&mut s, &mut h, &space, &f);
        }
        let after = s.probability(&h, t0, &space).unwrap();
        assert!(after > 20.0 * before, "seed {seed}: {before} -> {after}");
    }
}

#[test]
fn seeds_reproduce() {
    let space = SearchSpace::new(
        vec![
            cat("a", 3),
            param(
                "x",
                Distribution::float("x", 1e-3, 1.0, None, true).unwrap(),
                None,
            ),
            param("n", Distribution::int("n", 0, 500, 1, false).unwrap(), None),
        ],
        vec![],
    )
    .unwrap();
    let f = |x: &[f64]| x[0] + x[1].ln().abs() + (x[2] - 100.0).abs() / 100.0;
    let run = |seed| {
        let mut s = ReinforceSampler::new(ReinforceConfig::default(), seed).unwrap();
        let mut h = History::new(1);
        let mut out = Vec::new();
        for _ in 0..40 {
            let t = ask_tell(&mut s, &mut h, &space, &f);
            out.push(h.trials()[t].values[0]);
        }
        out
    };
    assert_eq!(run(5), run(5));
    assert_ne!(run(5), run(6));
}

/// A random space of categoricals and ints with forbidden combinations and
/// a linear constraint, all inside the enumerated block.
fn random_constrained_space(rng: &mut Rng) -> SearchSpace {
    loop {
        let n = 2 + rng.below(4) as usize;
        let params: Vec<Param> = (0..n)
            .map(|i| {
                let name = format!("p{i}");
                if rng.uniform() < 0.5 {
                    cat(&name, 2 + rng.below(4) as usize)
                } else {
                    let d = Distribution::int(&name, 0, 1 + rng.below(5) as i64, 1, false).unwrap();
                    param(&name, d, None)
                }
            })
            .collect();
        let mut cons = Vec::new();
        for _ in 0..1 + rng.below(6) {
            let (i, j) = (rng.below(n as u64) as usize, rng.below(n as u64) as usize);
            let vi = params[i].dist.discrete_value(rng.below(2));
            let vj = params[j].dist.discrete_value(rng.below(2));
            if i != j {
                cons.push(Constraint::Forbidden {
                    assignment: vec![(i, vi), (j, vj)],
                });
            }
        }
        let ints: Vec<usize> = (0..n)
            .filter(|&i| matches!(params[i].dist, Distribution::Int { .. }))
            .collect();
        if ints.len() >= 2 {
            cons.push(Constraint::Linear {
                terms: ints.iter().map(|&i| (i, 1.0)).collect(),
                rhs: 3.0,
            });
        }
        if let Ok(space) = SearchSpace::new(params, cons) {
            return space;
        }
    }
}

#[test]
fn masking_keeps_every_episode_feasible() {
    let mut rng = Rng::new(17);
    for case in 0..40 {
        let space = random_constrained_space(&mut rng);
        let mut s = ReinforceSampler::new(ReinforceConfig::default(), case).unwrap();
        s.ensure_model(&space);
        // The controller's own draws, without the redraws of sample_space.
        for _ in 0..200 {
            let x = s.propose(&space);
            assert!(space.is_valid(&x), "case {case}: {x:?}");
        }
        // And through training, where the policy leaves uniform.
        let mut h = History::new(1);
        for _ in 0..30 {
            ask_tell(&mut s, &mut h, &space, &|x| x.iter().sum());
        }
        for _ in 0..50 {
            assert!(space.is_valid(&s.propose(&space)));
        }
    }
}

#[test]
fn conditional_parameters_are_skipped_when_inactive() {
    let when = |values: Vec<f64>| Some(Condition { parent: 0, values });
    let space = SearchSpace::new(
        vec![
            cat("kind", 2),
            param(
                "lr",
                Distribution::float("lr", 1e-4, 1.0, None, true).unwrap(),
                when(vec![0.0]),
            ),
            param(
                "depth",
                Distribution::categorical("depth", 3).unwrap(),
                when(vec![1.0]),
            ),
        ],
        vec![],
    )
    .unwrap();
    // Best: kind 1, depth 2.
    let f = |x: &[f64]| if x[0] == 1.0 { 2.0 - x[2] } else { 3.0 + x[1] };
    let mut s = ReinforceSampler::new(ReinforceConfig::default(), 2).unwrap();
    let mut h = History::new(1);
    for _ in 0..150 {
        ask_tell(&mut s, &mut h, &space, &f);
    }
    let last: Vec<f64> = h.trials()[120..].iter().map(|t| t.values[0]).collect();
    let hits = last.iter().filter(|v| **v == 0.0).count();
    // Uniform search finds it 1/6 of the time.
    assert!(hits > 12, "{hits} of 30");
}

#[test]
fn state_restores_the_trained_controller() {
    let space =
        SearchSpace::new((0..4).map(|i| cat(&format!("c{i}"), 3)).collect(), vec![]).unwrap();
    let f = |x: &[f64]| x.iter().sum();
    let mut s = ReinforceSampler::new(ReinforceConfig::default(), 9).unwrap();
    let mut h = History::new(1);
    for _ in 0..20 {
        ask_tell(&mut s, &mut h, &space, &f);
    }
    let saved = s.state();
    let mut r = ReinforceSampler::new(ReinforceConfig::default(), 1).unwrap();
    r.set_state(&saved).unwrap();
    assert_eq!(r.state(), saved);
    let (mut ha, mut hb) = (h.clone(), h);
    for _ in 0..10 {
        let a = ask_tell(&mut s, &mut ha, &space, &f);
        let b = ask_tell(&mut r, &mut hb, &space, &f);
        assert_eq!(ha.trials()[a].values, hb.trials()[b].values);
    }
    assert!(r.set_state(&saved[..saved.len() - 1]).is_err());
}

#[test]
fn arguments_are_checked() {
    let bad = [
        ReinforceConfig {
            learning_rate: 0.0,
            ..Default::default()
        },
        ReinforceConfig {
            baseline_decay: 1.0,
            ..Default::default()
        },
        ReinforceConfig {
            entropy_weight: -1.0,
            ..Default::default()
        },
        ReinforceConfig {
            n_bins: 1,
            ..Default::default()
        },
    ];
    for c in bad {
        assert!(matches!(
            ReinforceSampler::new(c, 0),
            Err(Error::InvalidArgument(_))
        ));
    }
}

#[test]
fn a_fresh_sampler_learns_from_another_workers_trials() {
    // Worker A trains on 150 trials; worker B, seeded alike, joins the study
    // afterwards and replays them one Adam step each, so both controllers agree.
    let space =
        SearchSpace::new((0..5).map(|i| cat(&format!("op{i}"), 4)).collect(), vec![]).unwrap();
    let target = [2.0, 0.0, 3.0, 1.0, 2.0];
    let f = |x: &[f64]| x.iter().zip(&target).filter(|(a, b)| a != b).count() as f64;
    let mut a = ReinforceSampler::new(ReinforceConfig::default(), 8).unwrap();
    let mut h = History::new(1);
    for _ in 0..150 {
        ask_tell(&mut a, &mut h, &space, &f);
    }
    let mut b = ReinforceSampler::new(ReinforceConfig::default(), 8).unwrap();
    for s in [&mut a, &mut b] {
        let t = h.create_trial(TrialState::Running);
        s.sample_space(&h, t, &space, 100, &mut |_| Ok(true))
            .unwrap();
    }
    let theta = |s: &ReinforceSampler| s.model.as_ref().unwrap().policy.theta.clone();
    assert_eq!(theta(&a), theta(&b));
    assert_eq!(a.model.as_ref().unwrap().updates, 150);
}

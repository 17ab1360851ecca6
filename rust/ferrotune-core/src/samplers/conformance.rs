//! The [`Sampler`] contract as one test that every core sampler runs.
//!
//! A new sampler conforms by adding one line to the list at the bottom of
//! this file: `check(|seed| Box::new(MySampler::new(seed)))`. [`check`] drives
//! the sampler through define-by-run trials (every kind of distribution) and
//! declared-space trials (a condition, a linear constraint, a forbidden
//! combination, a divisibility constraint and a caller's `accept`), with
//! enough finished trials for a model-based sampler to leave its start-up
//! phase when it is built with few start-up trials, and asserts:
//!
//! - every value lies in its distribution (bounds, step grid, choices);
//! - every declared-space row is valid for the space and passes `accept`;
//! - the same seed gives the same sequence of values;
//! - a state saved with [`Sampler::state`] and restored into a sampler built
//!   with another seed, which has already run a few trials, gives the same
//!   state back and continues the same sequence;
//! - [`Sampler::reseed`] changes the sequence;
//! - an infeasible space, an `accept` that never holds and a malformed state
//!   are errors, not panics or endless loops; an error of `accept` is
//!   returned as is.

use super::{start_trial, Sampler};
use crate::constraints::{Constraint, SearchSpace};
use crate::error::Error;
use crate::history::{History, TrialState};
use crate::space::{Condition, Distribution, Param};

/// Trials of one run of the scenario (half define-by-run, half declared).
const TRIALS: usize = 14;
/// Trials after which a state is saved and restored.
const SAVED_AT: usize = 8;

/// Asserts the whole [`Sampler`] contract for the samplers `make` builds
/// from a seed (see the module's documentation).
pub fn check(make: impl Fn(u64) -> Box<dyn Sampler>) {
    check_with(make, true);
}

/// [`check`], where `exact_restore` false only asks a restored state to keep
/// the contract rather than repeat the saved sampler's values: for a sampler
/// whose state holds a model's hyperparameters and refits the model from
/// them (the GP: a refit after a change of the modelled space can end
/// elsewhere than the kept model's).
pub fn check_with(make: impl Fn(u64) -> Box<dyn Sampler>, exact_restore: bool) {
    values_stay_in_their_distributions_and_spaces(&make);
    same_seed_same_sequence(&make);
    state_round_trip_continues_the_sequence(&make, exact_restore);
    reseed_changes_the_sequence(&make);
    infeasible_is_an_error(&make);
}

/// Copies every trial of `truth` (the shared storage) into a worker's history,
/// tags included, as a sync does; with `running_tags` false, the tags of
/// running trials are left for a later sync (a storage that reports a
/// trial's changes only when it finishes).
pub fn sync_history(truth: &History, h: &mut History, running_tags: bool) {
    for (number, t) in truth.trials().iter().enumerate() {
        let params = t
            .params
            .iter()
            .map(|p| {
                let col = &truth.params()[p.param as usize];
                (
                    col.name.clone(),
                    col.dists[p.dist as usize].clone(),
                    p.value,
                )
            })
            .collect();
        let (state, values) = (t.state, t.values.clone());
        h.apply_remote(number, state, values, params, vec![], vec![], 0.0, f64::NAN)
            .unwrap();
        if !t.tag.is_empty() && (running_tags || t.state.is_finished()) {
            h.set_tag(number, t.tag.clone()).unwrap();
        }
    }
}

/// Four or more workers share `truth` (the storage) for `steps` asks, each
/// with its own history that lags: a worker syncs only every other time it
/// asks, sometimes without the tags of running trials; a trial's tag is
/// written 1 to 5 steps after it is created (a worker that syncs in between
/// sees it running untagged) and it finishes 0 to 5 steps after that. The
/// workers ask in turn; every trial is finished in the end. The caller syncs
/// each worker with [`sync_history`] and compares their states.
pub fn stale_workers<S: Sampler>(
    workers: &mut [(S, History)],
    truth: &mut History,
    dims: &[Distribution],
    steps: usize,
    objective: fn(&[f64]) -> f64,
) {
    let names: Vec<String> = (0..dims.len()).map(|i| format!("x{i}")).collect();
    let mut rng = crate::rng::Rng::new(5);
    // (step at which it finishes, trial, value) and (step at which the tag is
    // written, trial, tag).
    let mut running: Vec<(usize, usize, f64)> = Vec::new();
    let mut late_tags: Vec<(usize, usize, Vec<f64>)> = Vec::new();
    for step in 0..steps {
        for (_, number, tag) in late_tags.iter().filter(|l| l.0 == step) {
            truth.set_tag(*number, tag.clone()).unwrap();
        }
        late_tags.retain(|l| l.0 > step);
        for (_, t, v) in running.iter().filter(|r| r.0 == step) {
            truth.finish(*t, TrialState::Complete, vec![*v]).unwrap();
        }
        running.retain(|r| r.0 > step);
        let n_workers = workers.len();
        let (s, h) = &mut workers[step % n_workers];
        if rng.below(2) == 0 {
            sync_history(truth, h, rng.below(2) == 0);
        }
        let number = truth.create_trial(TrialState::Running);
        let nan = f64::NAN;
        h.apply_remote(
            number,
            TrialState::Running,
            vec![],
            vec![],
            vec![],
            vec![],
            0.0,
            nan,
        )
        .unwrap();
        let rel = s.relative_values(h, number).unwrap();
        let tag = s.take_tag(number);
        let mut x = Vec::new();
        for (name, d) in names.iter().zip(dims) {
            let p = h.param_index(name);
            let pending = p.and_then(|p| rel.iter().find(|r| r.0 == p).map(|r| r.2));
            let v = match pending {
                Some(v) => v,
                None => s.sample_independent(h, number, name, d).unwrap(),
            };
            truth.set_param(number, name, d, v).unwrap();
            x.push(v);
        }
        let tagged = step + 1 + rng.below(5) as usize;
        if !tag.is_empty() {
            late_tags.push((tagged, number, tag));
        }
        running.push((tagged + rng.below(6) as usize, number, objective(&x)));
    }
    for (_, number, tag) in late_tags {
        truth.set_tag(number, tag).unwrap();
    }
    for (_, t, v) in &running {
        truth.finish(*t, TrialState::Complete, vec![*v]).unwrap();
    }
}

fn dists() -> (Vec<String>, Vec<Distribution>) {
    let d = vec![
        Distribution::float("f", -2.0, 3.0, None, false).unwrap(),
        Distribution::float("flog", 1e-5, 1e2, None, true).unwrap(),
        Distribution::float("fstep", 0.0, 1.0, Some(0.125), false).unwrap(),
        Distribution::int("i", -3, 7, 1, false).unwrap(),
        Distribution::int("ilog", 1, 1000, 1, true).unwrap(),
        Distribution::int("istep", 0, 20, 5, false).unwrap(),
        Distribution::categorical("c", 4).unwrap(),
        Distribution::float("single", 1.5, 1.5, None, false).unwrap(),
    ];
    let names = ["f", "flog", "fstep", "i", "ilog", "istep", "c", "single"];
    (names.iter().map(|s| s.to_string()).collect(), d)
}

fn param(name: &str, dist: Distribution, condition: Option<Condition>) -> Param {
    Param {
        name: name.into(),
        dist,
        condition,
        choice_values: None,
    }
}

/// A space with every kind of hard constraint: `kind` picks the
/// conditional branch, `x + y <= 1.2` (when both active), `(n, kind) !=
/// (2, 0)`, `m % n == 0`.
fn space() -> SearchSpace {
    let kind = Param {
        choice_values: Some(vec![None, None, None]),
        ..param(
            "s_kind",
            Distribution::categorical("s_kind", 3).unwrap(),
            None,
        )
    };
    let when = |values: Vec<f64>| Some(Condition { parent: 0, values });
    let params = vec![
        kind,
        param(
            "s_x",
            Distribution::float("s_x", 0.0, 1.0, None, false).unwrap(),
            when(vec![0.0, 1.0]),
        ),
        param(
            "s_y",
            Distribution::float("s_y", 1e-3, 1.0, None, true).unwrap(),
            when(vec![0.0]),
        ),
        param(
            "s_n",
            Distribution::int("s_n", 1, 4, 1, false).unwrap(),
            None,
        ),
        param(
            "s_m",
            Distribution::int("s_m", 0, 12, 2, false).unwrap(),
            None,
        ),
        param(
            "s_z",
            Distribution::float("s_z", -1.0, 1.0, Some(0.25), false).unwrap(),
            when(vec![2.0]),
        ),
    ];
    let cons = vec![
        Constraint::Linear {
            terms: vec![(1, 1.0), (2, 1.0)],
            rhs: 1.2,
        },
        Constraint::Forbidden {
            assignment: vec![(3, 2.0), (0, 0.0)],
        },
        Constraint::Divisible { num: 4, den: 3 },
    ];
    SearchSpace::new(params, cons).unwrap()
}

/// The caller's extra constraint of the scenario: `s_z` (when active) is not
/// above 0.5.
fn accept(row: &[f64]) -> bool {
    row[5].is_nan() || row[5] <= 0.5
}

/// Runs `n` trials of the scenario on `h` and returns every value drawn.
/// Each value and row is checked against its distribution or space.
fn run(s: &mut dyn Sampler, h: &mut History, n: usize) -> Vec<f64> {
    let (names, dims) = dists();
    let space = space();
    let mut out = Vec::new();
    for _ in 0..n {
        let t = h.trials().len();
        let x = if t % 2 == 0 {
            let rel = s.relative_values(h, t);
            let rel = rel.expect("relative_values failed on a feasible scenario");
            // (Values a study takes from relative_values go through set_param,
            // which rejects those outside their distribution.)
            for &(p, d, v) in &rel {
                assert!(
                    h.dist(p, d).contains(v),
                    "relative value {v} outside {:?}",
                    h.dist(p, d)
                );
            }
            let (t2, x) = start_trial(s, h, &names, &dims).expect("a define-by-run draw failed");
            assert_eq!(t, t2);
            for (d, &v) in dims.iter().zip(&x) {
                assert!(d.contains(v), "independent value {v} outside {d:?}");
            }
            x
        } else {
            let t2 = h.create_trial(TrialState::Running);
            assert_eq!(t, t2);
            let mut check = |row: &[f64]| Ok(accept(row));
            let row = s
                .sample_space(h, t, &space, 10_000, &mut check)
                .expect("a feasible space was reported infeasible");
            assert!(space.is_valid(&row), "row {row:?} violates the space");
            assert!(accept(&row), "row {row:?} violates the caller's accept");
            for (p, &v) in space.params().iter().zip(&row) {
                if !v.is_nan() {
                    h.set_param(t, &p.name, &p.dist, v).unwrap();
                }
            }
            row
        };
        let y: f64 = x
            .iter()
            .filter(|v| !v.is_nan())
            .map(|v| (v - 0.3).abs())
            .sum();
        h.finish(t, TrialState::Complete, vec![y]).unwrap();
        out.extend(x);
    }
    out
}

/// Bit patterns, so that NaN (inactive) compares equal to NaN.
fn bits(v: &[f64]) -> Vec<u64> {
    v.iter().map(|x| x.to_bits()).collect()
}

fn values_stay_in_their_distributions_and_spaces(make: &impl Fn(u64) -> Box<dyn Sampler>) {
    for seed in [0, 1, u64::MAX] {
        run(make(seed).as_mut(), &mut History::new(1), TRIALS);
    }
}

fn same_seed_same_sequence(make: &impl Fn(u64) -> Box<dyn Sampler>) {
    let a = run(make(7).as_mut(), &mut History::new(1), TRIALS);
    let b = run(make(7).as_mut(), &mut History::new(1), TRIALS);
    assert_eq!(bits(&a), bits(&b), "the same seed gave different sequences");
    let c = run(make(8).as_mut(), &mut History::new(1), TRIALS);
    assert_ne!(bits(&a), bits(&c), "different seeds gave the same sequence");
}

fn state_round_trip_continues_the_sequence(make: &impl Fn(u64) -> Box<dyn Sampler>, exact: bool) {
    let (mut ha, mut hb) = (History::new(1), History::new(1));
    let mut a = make(3);
    let mut b = make(3);
    run(a.as_mut(), &mut ha, SAVED_AT);
    run(b.as_mut(), &mut hb, SAVED_AT);
    let saved = b.state();
    // Restored into a sampler that has already run (on another history), so
    // what it kept from its own trials must not outlive the restored state.
    let mut restored = make(99);
    run(restored.as_mut(), &mut History::new(1), SAVED_AT);
    restored
        .set_state(&saved)
        .expect("a saved state was refused");
    assert_eq!(
        restored.state(),
        saved,
        "set_state(state()) changed the state"
    );
    let rest = TRIALS - SAVED_AT;
    let va = run(a.as_mut(), &mut ha, rest);
    let vb = run(restored.as_mut(), &mut hb, rest);
    if exact {
        assert_eq!(
            bits(&va),
            bits(&vb),
            "a restored state did not continue the sequence"
        );
    }
}

fn reseed_changes_the_sequence(make: &impl Fn(u64) -> Box<dyn Sampler>) {
    let (mut ha, mut hb) = (History::new(1), History::new(1));
    let (mut a, mut b) = (make(5), make(5));
    b.reseed(6);
    let dist = Distribution::float("f", 0.0, 1.0, None, false).unwrap();
    let draw = |s: &mut dyn Sampler, h: &mut History| -> Vec<u64> {
        // After a finished trial: a sampler may place a study's first trial
        // deterministically (the trust region's start).
        let t0 = h.create_trial(TrialState::Running);
        h.finish(t0, TrialState::Complete, vec![0.0]).unwrap();
        let t = h.create_trial(TrialState::Running);
        let v: Vec<f64> = (0..8)
            .map(|_| s.sample_independent(h, t, "f", &dist).unwrap())
            .collect();
        bits(&v)
    };
    assert_ne!(
        draw(a.as_mut(), &mut ha),
        draw(b.as_mut(), &mut hb),
        "reseed changed nothing"
    );
    // Reseeding two samplers alike makes them agree again.
    a.reseed(6);
    let mut c = make(77);
    c.reseed(6);
    let mut hc = History::new(1);
    assert_eq!(
        draw(a.as_mut(), &mut History::new(1)),
        draw(c.as_mut(), &mut hc)
    );
}

fn infeasible_is_an_error(make: &impl Fn(u64) -> Box<dyn Sampler>) {
    let x = param(
        "x",
        Distribution::float("x", 0.0, 1.0, None, false).unwrap(),
        None,
    );
    let empty = SearchSpace::new(
        vec![x],
        vec![Constraint::Linear {
            terms: vec![(0, 1.0)],
            rhs: -1.0,
        }],
    )
    .unwrap();
    let mut s = make(1);
    let mut h = History::new(1);
    let t = h.create_trial(TrialState::Running);
    let r = s.sample_space(&h, t, &empty, 500, &mut |_| Ok(true));
    assert!(matches!(r, Err(Error::Infeasible(_))), "{r:?}");
    let r = s.sample_space(&h, t, &space(), 500, &mut |_| Ok(false));
    assert!(matches!(r, Err(Error::Infeasible(_))), "{r:?}");
    let failing = Error::InvalidArgument("accept failed".into());
    let r = s.sample_space(&h, t, &space(), 500, &mut |_| Err(failing.clone()));
    assert_eq!(r, Err(failing));
    for bad in [&[][..], &[1, 2, 3][..]] {
        assert!(matches!(s.set_state(bad), Err(Error::InvalidArgument(_))));
    }
}

#[cfg(test)]
mod tests {
    use super::{check, check_with};
    use crate::samplers::gp::{GpConfig, GpSampler};
    use crate::samplers::{
        BohbConfig, BohbSampler, QmcKind, QmcSampler, RandomSampler, TpeConfig, TpeSampler,
    };

    #[test]
    fn random_sampler_conforms() {
        check(|seed| Box::new(RandomSampler::new(seed)));
    }

    #[test]
    fn qmc_samplers_conform() {
        check(|seed| Box::new(QmcSampler::new(QmcKind::Sobol, true, seed)));
        check(|seed| Box::new(QmcSampler::new(QmcKind::Halton, true, seed)));
    }

    #[test]
    fn tpe_sampler_conforms() {
        let cfg = |group| TpeConfig {
            n_startup_trials: 4,
            group,
            ..TpeConfig::default()
        };
        check(|seed| Box::new(TpeSampler::new(cfg(false), seed).unwrap()));
        check(|seed| Box::new(TpeSampler::new(cfg(true), seed).unwrap()));
    }

    #[test]
    fn bohb_sampler_conforms() {
        check(|seed| Box::new(BohbSampler::new(BohbConfig::default(), seed).unwrap()));
    }

    #[test]
    fn nsga_samplers_conform() {
        use crate::samplers::nsga::{NsgaConfig, NsgaSampler, Selection};
        let nsga2 = NsgaConfig {
            population_size: 3,
            ..NsgaConfig::default()
        };
        check(|seed| Box::new(NsgaSampler::new(nsga2.clone(), seed).unwrap()));
        let nsga3 = NsgaConfig {
            selection: Selection::ReferencePoints {
                points: vec![],
                dividing_parameter: 3,
            },
            ..nsga2.clone()
        };
        check(|seed| Box::new(NsgaSampler::new(nsga3.clone(), seed).unwrap()));
    }

    #[test]
    fn gp_sampler_conforms() {
        let cfg = GpConfig {
            n_startup_trials: 4,
            ..GpConfig::default()
        };
        check_with(|seed| Box::new(GpSampler::new(cfg, seed).unwrap()), false);
    }

    #[test]
    fn gp_sampler_with_power_transform_conforms() {
        let cfg = GpConfig {
            n_startup_trials: 4,
            output_transform: crate::samplers::gp::GpOutputTransform::Power,
            ..GpConfig::default()
        };
        check_with(|seed| Box::new(GpSampler::new(cfg, seed).unwrap()), false);
    }

    #[test]
    fn gp_sampler_with_input_warping_conforms() {
        let cfg = GpConfig {
            n_startup_trials: 4,
            input_warping: crate::samplers::gp::GpInputWarping::On,
            output_transform: crate::samplers::gp::GpOutputTransform::Power,
            ..GpConfig::default()
        };
        check_with(|seed| Box::new(GpSampler::new(cfg, seed).unwrap()), false);
    }

    #[test]
    fn gp_sampler_with_trust_region_conforms() {
        let cfg = GpConfig {
            n_startup_trials: 4,
            trust_region: true,
            ..GpConfig::default()
        };
        check_with(|seed| Box::new(GpSampler::new(cfg, seed).unwrap()), false);
    }

    #[test]
    fn cmaes_sampler_conforms() {
        use crate::samplers::cmaes::{CmaEsConfig, CmaEsSampler, RestartStrategy};
        let cfg = |f: fn(&mut CmaEsConfig)| {
            let mut c = CmaEsConfig {
                popsize: Some(4),
                ..CmaEsConfig::default()
            };
            f(&mut c);
            c
        };
        let variants: [fn(&mut CmaEsConfig); 4] = [
            |_| {},
            |c| c.with_margin = true,
            |c| c.use_separable_cma = true,
            |c| c.restart_strategy = RestartStrategy::Bipop,
        ];
        for v in variants {
            let c = cfg(v);
            check(move |seed| Box::new(CmaEsSampler::new(c.clone(), seed).unwrap()));
        }
    }

    #[test]
    fn de_sampler_conforms() {
        use crate::samplers::{DeConfig, DeStrategy};
        for strategy in [DeStrategy::Rand1Bin, DeStrategy::CurrentToPBest1] {
            let cfg = DeConfig {
                population_size: 4,
                strategy,
                ..DeConfig::default()
            };
            check(move |seed| Box::new(crate::samplers::DeSampler::new(cfg, seed).unwrap()));
        }
    }

    #[test]
    fn pso_sampler_conforms() {
        use crate::samplers::{PsoConfig, PsoSampler, Topology};
        for topology in [Topology::Global, Topology::Ring] {
            let cfg = PsoConfig {
                swarm_size: 4,
                topology,
                ..PsoConfig::default()
            };
            check(move |seed| Box::new(PsoSampler::new(cfg, seed).unwrap()));
        }
    }
}

#[cfg(test)]
mod ga_tests {
    use super::check;
    use crate::samplers::{GaConfig, GaMode, GaSampler};

    #[test]
    fn ga_sampler_conforms() {
        for mode in [GaMode::Generational, GaMode::Aging] {
            let cfg = GaConfig {
                mode,
                population_size: Some(3),
                ..GaConfig::default()
            };
            check(|seed| Box::new(GaSampler::new(cfg, seed).unwrap()));
        }
    }
}

#[cfg(test)]
mod dehb_tests {
    use super::check;
    use crate::samplers::{DehbConfig, DehbSampler};

    #[test]
    fn dehb_sampler_conforms() {
        let cfg = DehbConfig {
            max_resource: Some(9),
            ..DehbConfig::default()
        };
        check(|seed| Box::new(DehbSampler::new(cfg, seed).unwrap()));
    }

    #[test]
    fn rf_sampler_conforms() {
        use crate::samplers::{RfConfig, RfSampler};
        let cfg = RfConfig {
            n_startup_trials: Some(4),
            n_candidates: 200,
            ..RfConfig::default()
        };
        check(|seed| Box::new(RfSampler::new(cfg.clone(), seed).unwrap()));
    }
}

#[cfg(test)]
mod reinforce_tests {
    use super::check;
    use crate::samplers::{ReinforceConfig, ReinforceSampler};

    #[test]
    fn reinforce_sampler_conforms() {
        check(|seed| Box::new(ReinforceSampler::new(ReinforceConfig::default(), seed).unwrap()));
    }
}

#[cfg(test)]
mod hypergradient_tests {
    use super::check;
    use crate::samplers::hypergradient::{HypergradientConfig, HypergradientSampler, Start};

    #[test]
    fn hypergradient_sampler_conforms() {
        // A random start, so that the seed decides the values of a study that
        // reports no gradient (the harness reports none).
        let cfg = HypergradientConfig {
            start: Start::Random,
            ..HypergradientConfig::default()
        };
        check(|seed| Box::new(HypergradientSampler::new(cfg.clone(), seed).unwrap()));
    }
}

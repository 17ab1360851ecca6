//! Checks every pruner against the [`super::Pruner`] contract, and the
//! incremental percentile rule against a plain one that scans every trial.

use super::percentile::PercentileConfig;
use super::*;
use crate::history::TrialState;
use crate::rng::Rng;

/// A history built at random: trials report a few steps (some values NaN,
/// some steps skipped) and finish COMPLETE, PRUNED or FAIL, or keep running.
/// `probe` is called after each report with the history and the trial.
fn random_history(seed: u64, n: usize, maximize: bool, mut probe: impl FnMut(&History, usize)) {
    let mut rng = Rng::new(seed);
    let mut h = History::with_directions(vec![maximize]);
    for _ in 0..n {
        let t = h.create_trial(TrialState::Running);
        let n_steps = rng.below(8);
        let mut step = 0i64;
        for _ in 0..n_steps {
            step += 1 + rng.below(2) as i64;
            let v = if rng.below(15) == 0 {
                f64::NAN
            } else {
                (rng.below(20) as f64) / 4.0
            };
            h.report(t, step, v).unwrap();
            probe(&h, t);
        }
        let state = match rng.below(6) {
            0 => TrialState::Pruned,
            1 => TrialState::Fail,
            2 => continue,
            _ => TrialState::Complete,
        };
        let values = if state == TrialState::Complete {
            vec![1.0]
        } else {
            vec![]
        };
        h.finish(t, state, values).unwrap();
    }
}

/// The percentile rule written as directly as possible: scan all trials.
fn plain_percentile(c: &PercentileConfig, h: &History, trial: usize) -> bool {
    let maximize = h.maximize()[0];
    let complete: Vec<_> = h
        .trials()
        .iter()
        .filter(|t| t.state == TrialState::Complete)
        .collect();
    let rec = &h.trials()[trial];
    let Some((step, _)) = rec.last_intermediate() else {
        return false;
    };
    if complete.is_empty()
        || (complete.len() as i64) < c.n_startup_trials
        || step < c.n_warmup_steps
    {
        return false;
    }
    let check = (step - c.n_warmup_steps) / c.interval_steps * c.interval_steps + c.n_warmup_steps;
    let prev = rec
        .intermediate
        .iter()
        .map(|s| s.0)
        .filter(|s| *s != step)
        .max()
        .unwrap_or(-1);
    if prev >= check {
        return false;
    }
    let mine: Vec<f64> = rec
        .intermediate
        .iter()
        .map(|s| s.1)
        .filter(|v| !v.is_nan())
        .collect();
    if mine.is_empty() {
        return true;
    }
    let best = if maximize {
        mine.iter().cloned().fold(f64::MIN, f64::max)
    } else {
        mine.iter().cloned().fold(f64::MAX, f64::min)
    };
    let at: Vec<f64> = complete
        .iter()
        .filter_map(|t| t.intermediate.iter().find(|s| s.0 == step).map(|s| s.1))
        .collect();
    let mut ok: Vec<f64> = at.iter().cloned().filter(|v| !v.is_nan()).collect();
    if (at.len() as i64) < c.n_min_trials || ok.is_empty() {
        return false;
    }
    ok.sort_by(f64::total_cmp);
    let q = if maximize {
        100.0 - c.percentile
    } else {
        c.percentile
    };
    let pos = q / 100.0 * (ok.len() - 1) as f64;
    let (lo, hi) = (
        pos.floor() as usize,
        (pos.ceil() as usize).min(ok.len() - 1),
    );
    let p = ok[lo] + (ok[hi] - ok[lo]) * (pos - lo as f64);
    if maximize {
        best < p
    } else {
        best > p
    }
}

#[test]
fn percentile_agrees_with_the_plain_rule_on_random_histories() {
    let mut n_pruned = 0;
    for seed in 0..40u64 {
        let mut rng = Rng::new(seed + 1000);
        let c = PercentileConfig {
            percentile: [0.0, 25.0, 50.0, 90.0, 100.0][rng.below(5) as usize],
            n_startup_trials: rng.below(6) as i64,
            n_warmup_steps: rng.below(4) as i64,
            interval_steps: 1 + rng.below(3) as i64,
            n_min_trials: 1 + rng.below(4) as i64,
        };
        let mut kept = PercentilePruner::new(c).unwrap();
        random_history(seed, 60, seed % 2 == 1, |h, t| {
            let got = kept.prune(h, t).unwrap();
            assert_eq!(got, plain_percentile(&c, h, t), "seed {seed}, trial {t}");
            // A fresh pruner (no kept statistics) decides the same.
            assert_eq!(got, PercentilePruner::new(c).unwrap().prune(h, t).unwrap());
            n_pruned += got as usize;
        });
    }
    assert!(
        n_pruned > 50,
        "the histories must exercise pruning: {n_pruned}"
    );
}

#[test]
fn every_pruner_keeps_the_contract() {
    let makers: Vec<Box<dyn Fn() -> Box<dyn Pruner>>> = vec![
        Box::new(|| Box::new(PercentilePruner::new(PercentileConfig::median()).unwrap())),
        Box::new(|| Box::new(ThresholdPruner::new(0.5, 4.0, 1, 2).unwrap())),
        Box::new(|| Box::new(SuccessiveHalvingPruner::new(HalvingConfig::default()).unwrap())),
        Box::new(|| Box::new(HyperbandPruner::new(HyperbandConfig::default()).unwrap())),
        Box::new(|| {
            let c = HalvingConfig {
                min_resource: Some(1),
                reduction_factor: 2,
                ..Default::default()
            };
            Box::new(SuccessiveHalvingPruner::new(c).unwrap())
        }),
        Box::new(|| Box::new(PatientPruner::new(None, 1, 0.0).unwrap())),
        Box::new(|| {
            let inner = PercentilePruner::new(PercentileConfig::median()).unwrap();
            Box::new(PatientPruner::new(Some(Box::new(inner)), 0, 0.1).unwrap())
        }),
    ];
    for make in &makers {
        // No report, no pruning; an unknown trial is an error.
        let mut h = History::new(1);
        let t = h.create_trial(TrialState::Running);
        assert!(!make().prune(&h, t).unwrap());
        assert!(make().prune(&h, t + 5).is_err());
        // A clone decides as the original, along a random history.
        for seed in 0..5 {
            let (mut a, mut b) = (make(), make().boxed_clone());
            random_history(seed, 40, false, |h, t| {
                assert_eq!(a.prune(h, t).unwrap(), b.prune(h, t).unwrap());
            });
        }
    }
}

#[test]
fn multi_objective_is_refused() {
    let mut h = History::new(2);
    let t = h.create_trial(TrialState::Running);
    h.report(t, 0, 1.0).unwrap();
    assert!(PercentilePruner::new(PercentileConfig::median())
        .unwrap()
        .prune(&h, t)
        .is_err());
    assert!(PatientPruner::new(None, 0, 0.0)
        .unwrap()
        .prune(&h, t)
        .is_err());
}

#[test]
fn arguments_are_checked() {
    let bad = |f: fn(&mut PercentileConfig)| {
        let mut c = PercentileConfig::median();
        f(&mut c);
        PercentilePruner::new(c).unwrap_err().to_string()
    };
    assert!(bad(|c| c.percentile = 100.5).contains("percentile"));
    assert!(bad(|c| c.percentile = f64::NAN).contains("percentile"));
    assert!(bad(|c| c.n_startup_trials = -1).contains("n_startup_trials"));
    assert!(bad(|c| c.n_warmup_steps = -1).contains("n_warmup_steps"));
    assert!(bad(|c| c.interval_steps = 0).contains("interval_steps"));
    assert!(bad(|c| c.n_min_trials = 0).contains("n_min_trials"));
    assert!(ThresholdPruner::new(2.0, 1.0, 0, 1).is_err());
    assert!(ThresholdPruner::new(f64::NAN, 1.0, 0, 1).is_err());
    assert!(PatientPruner::new(None, -1, 0.0).is_err());
    assert!(PatientPruner::new(None, 0, -0.1).is_err());
}

/// Reports `values` at steps 0, 1, ... of a new running trial; returns the
/// decisions after each report.
fn decisions(p: &mut dyn Pruner, maximize: bool, values: &[f64]) -> Vec<bool> {
    let mut h = History::with_directions(vec![maximize]);
    let t = h.create_trial(TrialState::Running);
    let mut out = Vec::new();
    for (s, v) in values.iter().enumerate() {
        h.report(t, s as i64, *v).unwrap();
        out.push(p.prune(&h, t).unwrap());
    }
    out
}

#[test]
fn threshold_and_patience_on_hand_made_cases() {
    // Warm-up 1, checks every 2 steps (1, 3, 5): outside [0.5, 4] or NaN prunes there only.
    let mut th = ThresholdPruner::new(0.5, 4.0, 1, 2).unwrap();
    let got = decisions(&mut th, false, &[9.0, 9.0, 9.0, 0.1, 1.0, f64::NAN]);
    assert_eq!(got, [false, true, false, true, false, true]);
    // Patience 1, minimising: the best of the last two steps against the best before.
    let mut pa = PatientPruner::new(None, 1, 0.0).unwrap();
    assert_eq!(
        decisions(&mut pa, false, &[1.0, 2.0, 3.0]),
        [false, false, true]
    );
    let mut pa = PatientPruner::new(None, 1, 0.0).unwrap();
    assert_eq!(
        decisions(&mut pa, false, &[1.0, 2.0, 0.5]),
        [false, false, false]
    );
    // min_delta tolerates a small worsening; maximising flips the comparison.
    let mut pa = PatientPruner::new(None, 1, 1.5).unwrap();
    assert_eq!(
        decisions(&mut pa, false, &[1.0, 2.0, 2.4]),
        [false, false, false]
    );
    let mut pa = PatientPruner::new(None, 1, 0.0).unwrap();
    assert_eq!(
        decisions(&mut pa, true, &[3.0, 2.0, 1.0]),
        [false, false, true]
    );
    // A side of NaN values only never prunes.
    let mut pa = PatientPruner::new(None, 0, 0.0).unwrap();
    assert_eq!(decisions(&mut pa, false, &[1.0, f64::NAN]), [false, false]);
}

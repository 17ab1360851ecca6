use super::*;
use crate::rng::Rng;

fn int(low: i64, high: i64) -> Distribution {
    Distribution::Int {
        low,
        high,
        step: 1,
        log: false,
    }
}

fn close(a: &[f64], b: &[f64], tol: f64) {
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(b) {
        assert!((x - y).abs() <= tol, "{a:?} vs {b:?}");
    }
}

#[test]
fn numerical_pdf_matches_optuna() {
    // Optuna 5's ScottParzenEstimator on the same counts.
    let p = grid_pdf(&int(0, 9), &[0, 3, 1, 0, 0, 2, 0, 0, 0, 1], 1.0);
    let want = [
        0.11418053825954497,
        0.13571137473168268,
        0.1391532068352069,
        0.1275914093353924,
        0.11008845482737631,
        0.09375825516591367,
        0.0812008566179519,
        0.07253262889517827,
        0.06630889101000167,
        0.05947438432175126,
    ];
    close(&p, &want, 1e-12);
    let mut counts = vec![0; 12];
    counts[0] = 5;
    let p = grid_pdf(&int(0, 11), &counts, 1.0);
    close(
        &p[..3],
        &[0.802033501251876, 0.05780760828178477, 0.01386399127038161],
        1e-12,
    );
    assert!((p.iter().sum::<f64>() - 1.0).abs() < 1e-12);
}

#[test]
fn categorical_pdf_matches_optuna() {
    let p = grid_pdf(&Distribution::Categorical { n: 3 }, &[2, 0, 1], 1.0);
    close(
        &p,
        &[
            0.45833333333333337,
            0.20833333333333334,
            0.33333333333333337,
        ],
        1e-14,
    );
}

#[test]
fn grid_follows_the_domain() {
    assert_eq!(grid_size(&int(0, 3), 50), 4);
    let log_int = Distribution::Int {
        low: 1,
        high: 1000,
        step: 1,
        log: true,
    };
    assert_eq!(grid_size(&log_int, 50), 11);
    let float = Distribution::Float {
        low: 0.0,
        high: 1.0,
        step: None,
        log: false,
    };
    assert_eq!(grid_size(&float, 50), 50);
    // Nearest point, a midpoint tie to the lower one, outside values clipped.
    assert_eq!(
        grid_counts(&int(0, 3), &[0.0, 0.5, 1.5, 2.6, 9.0], 50),
        vec![2, 1, 0, 2]
    );
    let log_float = Distribution::Float {
        low: 1.0,
        high: 100.0,
        step: None,
        log: true,
    };
    // 10 is the middle of [1, 100] on the log scale: point 1 of 3.
    assert_eq!(
        grid_counts(&log_float, &[1.0, 10.0, 99.0], 3),
        vec![1, 1, 1]
    );
}

#[test]
fn top_quantile_keeps_ties_and_uses_fronts() {
    let losses: Vec<Vec<f64>> = [3.0, 1.0, 2.0, 1.0, 5.0].iter().map(|v| vec![*v]).collect();
    assert_eq!(
        top_quantile(&losses, 0.2),
        vec![false, true, false, true, false]
    );
    assert_eq!(
        top_quantile(&losses, 0.6),
        vec![false, true, true, true, false]
    );
    assert_eq!(top_quantile(&losses, 1.0), vec![true; 5]);
    let multi = vec![
        vec![0.0, 3.0],
        vec![3.0, 0.0],
        vec![4.0, 4.0],
        vec![1.0, 1.0],
    ];
    assert_eq!(top_quantile(&multi, 0.75), vec![true, true, false, true]);
}

fn column(values: Vec<f64>, dist: Distribution) -> RegimeColumn {
    let regime = values
        .iter()
        .map(|v| if v.is_nan() { 0 } else { 1 })
        .collect();
    RegimeColumn {
        values,
        regime,
        dists: vec![dist],
    }
}

#[test]
fn the_parameter_that_decides_the_loss_ranks_first() {
    let mut rng = Rng::new(3);
    let n = 300;
    let unit = Distribution::Float {
        low: 0.0,
        high: 1.0,
        step: None,
        log: false,
    };
    let x: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let y: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let z: Vec<f64> = (0..n).map(|_| rng.uniform()).collect();
    let losses: Vec<Vec<f64>> = (0..n).map(|t| vec![10.0 * x[t] + y[t]]).collect();
    let cols = vec![
        column(x, unit.clone()),
        column(y, unit.clone()),
        column(z, unit),
    ];
    let out = ped_anova(&losses, &cols, &PedAnovaConfig::default()).unwrap();
    let imp = &out.importances;
    assert!(imp[0] > 5.0 * imp[1] && imp[0] > 5.0 * imp[2], "{imp:?}");
    assert!(imp.iter().all(|v| *v >= 0.0));
    assert!(!out.same_sets && !out.sparse_regime.iter().any(|s| *s));
}

#[test]
fn identical_sets_give_zero_and_a_flag() {
    let losses: Vec<Vec<f64>> = (0..10).map(|_| vec![1.0]).collect();
    let col = column((0..10).map(f64::from).collect(), int(0, 9));
    let out = ped_anova(&losses, &[col], &PedAnovaConfig::default()).unwrap();
    assert!(out.same_sets);
    assert!(out.importances[0].abs() < 1e-9, "{:?}", out.importances);
}

#[test]
fn inactive_trials_and_small_regimes() {
    // The parameter exists only in the good trials: one regime holds all of
    // the target set, so it weighs fully; a one-trial regime is left out.
    let n = 40;
    let losses: Vec<Vec<f64>> = (0..n).map(|t| vec![t as f64]).collect();
    let values: Vec<f64> = (0..n)
        .map(|t| if t < 20 { (t % 5) as f64 } else { f64::NAN })
        .collect();
    let mut col = column(values, int(0, 4));
    col.dists.push(int(0, 9));
    col.regime[39] = 2;
    col.values[39] = 3.0;
    let out = ped_anova(&losses, &[col], &PedAnovaConfig::default()).unwrap();
    assert!(out.sparse_regime[0]);
    assert!(out.importances[0] > 0.0);
}

#[test]
fn bad_settings_are_errors() {
    let cfg = PedAnovaConfig {
        target_quantile: 0.5,
        region_quantile: 0.4,
        ..PedAnovaConfig::default()
    };
    let err = ped_anova(&[vec![1.0]], &[], &cfg).unwrap_err();
    assert!(err.to_string().contains("target_quantile"), "{err}");
    let bad = RegimeColumn {
        values: vec![1.0],
        regime: vec![2],
        dists: vec![int(0, 1)],
    };
    assert!(ped_anova(&[vec![1.0]], &[bad], &PedAnovaConfig::default()).is_err());
}

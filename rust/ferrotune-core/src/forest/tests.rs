use super::*;
use crate::rng::Rng;

fn branin(a: f64, b: f64) -> f64 {
    let pi = std::f64::consts::PI;
    let c = b - 5.1 / (4.0 * pi * pi) * a * a + 5.0 / pi * a - 6.0;
    c * c + 10.0 * (1.0 - 1.0 / (8.0 * pi)) * a.cos() + 10.0
}

/// Branin plus a categorical feature of 4 codes adding 0/30/0/30.
fn mixed_data(n: usize, seed: u64) -> (Vec<Feature>, Vec<f64>, Vec<f64>) {
    let features = vec![
        Feature::numeric(-5.0, 10.0, false),
        Feature::numeric(0.0, 15.0, false),
        Feature::categorical(4, false),
    ];
    let mut rng = Rng::new(seed);
    let (mut x, mut y) = (vec![], vec![]);
    for _ in 0..n {
        let (a, b, c) = (
            rng.uniform_in(-5.0, 10.0),
            rng.uniform_in(0.0, 15.0),
            rng.below(4),
        );
        x.extend([a, b, c as f64]);
        y.push(branin(a, b) + if c % 2 == 1 { 30.0 } else { 0.0 });
    }
    (features, x, y)
}

#[test]
fn predictions_stay_within_the_training_range() {
    let (f, x, y) = mixed_data(200, 1);
    let forest = Forest::fit(&f, &x, &y, &ForestConfig::smac(0)).unwrap();
    let (lo, hi) = y
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let (_, xt, _) = mixed_data(500, 2);
    let (mean, var) = forest.predict(&xt).unwrap();
    for (m, v) in mean.iter().zip(&var) {
        assert!(*m >= lo && *m <= hi, "{m} outside [{lo}, {hi}]");
        assert!(*v >= 0.0);
    }
    // Every tree's prediction is a mean of training responses too.
    for p in forest.predict_trees(&xt).unwrap() {
        assert!(p >= lo && p <= hi);
    }
}

#[test]
fn variance_is_zero_where_all_trees_agree() {
    // Constant responses: every tree predicts the same everywhere.
    let (f, x, _) = mixed_data(50, 3);
    let y = vec![2.5; 50];
    let forest = Forest::fit(&f, &x, &y, &ForestConfig::smac(4)).unwrap();
    let (mean, var) = forest.predict(&x).unwrap();
    assert!(mean.iter().all(|m| (*m - 2.5).abs() < 1e-12));
    assert!(var.iter().all(|v| *v == 0.0));
    // Without bootstrapping and with midpoint thresholds on one feature, all trees are the
    // same tree: zero variance, and the training points are fitted exactly.
    let f1 = vec![Feature::numeric(0.0, 1.0, false)];
    let x1: Vec<f64> = (0..30).map(|i| i as f64 / 29.0).collect();
    let y1: Vec<f64> = x1.iter().map(|v| (6.0 * v).sin()).collect();
    let cfg = ForestConfig {
        bootstrapping: false,
        random_thresholds: false,
        ..ForestConfig::smac(5)
    };
    let forest = Forest::fit(&f1, &x1, &y1, &cfg).unwrap();
    let (mean, var) = forest.predict(&x1).unwrap();
    for i in 0..30 {
        assert_eq!(var[i], 0.0);
        assert!((mean[i] - y1[i]).abs() < 1e-12);
    }
    // ... and with bootstrapping they disagree somewhere.
    let forest = Forest::fit(&f1, &x1, &y1, &ForestConfig::smac(5)).unwrap();
    assert!(forest.predict(&x1).unwrap().1.iter().any(|v| *v > 0.0));
}

#[test]
fn categorical_subset_splits_separate_what_codes_cannot() {
    // Codes {0, 2, 4} -> 0, {1, 3} -> 1: no single threshold on the codes separates them,
    // one subset split does.
    let f = vec![Feature::categorical(5, false)];
    let x: Vec<f64> = (0..50).map(|i| (i % 5) as f64).collect();
    let y: Vec<f64> = x.iter().map(|c| (*c as usize % 2) as f64).collect();
    let cfg = ForestConfig {
        n_trees: 1,
        max_depth: 1,
        bootstrapping: false,
        ..ForestConfig::smac(0)
    };
    let forest = Forest::fit(&f, &x, &y, &cfg).unwrap();
    let tree = &forest.trees()[0];
    assert_eq!(tree.nodes.len(), 3);
    match &tree.nodes[0].split.as_ref().unwrap().rule {
        SplitRule::Categories(left) => {
            assert_eq!(left.len(), 5);
            assert!(
                left[0] == left[2]
                    && left[2] == left[4]
                    && left[1] == left[3]
                    && left[0] != left[1]
            );
        }
        r => panic!("expected a category subset, got {r:?}"),
    }
    let (mean, _) = forest.predict(&x).unwrap();
    assert_eq!(mean, y);
}

#[test]
fn seeds_reproduce_and_differ() {
    let (f, x, y) = mixed_data(120, 6);
    let a = Forest::fit(&f, &x, &y, &ForestConfig::smac(7)).unwrap();
    let b = Forest::fit(&f, &x, &y, &ForestConfig::smac(7)).unwrap();
    let c = Forest::fit(&f, &x, &y, &ForestConfig::smac(8)).unwrap();
    assert_eq!(a, b);
    assert_ne!(a.trees(), c.trees());
}

#[test]
fn inactive_values_are_imputed_outside_the_domain() {
    // Feature 1 is active only when feature 0 is code 0; there it drives the response.
    let f = vec![
        Feature::categorical(2, false),
        Feature::numeric(0.0, 1.0, true),
    ];
    let mut rng = Rng::new(9);
    let (mut x, mut y) = (vec![], vec![]);
    for i in 0..80 {
        if i % 2 == 0 {
            let v = rng.uniform();
            x.extend([0.0, v]);
            y.push(if v < 0.5 { 0.0 } else { 1.0 });
        } else {
            x.extend([1.0, f64::NAN]);
            y.push(5.0);
        }
    }
    let forest = Forest::fit(&f, &x, &y, &ForestConfig::smac(1)).unwrap();
    let (mean, _) = forest
        .predict(&[1.0, f64::NAN, 0.0, 0.1, 0.0, 0.9])
        .unwrap();
    assert!((mean[0] - 5.0).abs() < 1e-9);
    assert!(mean[1] < 0.5 && mean[2] > 0.5);
    let bounds = &forest.trees()[0].bounds;
    assert_eq!(bounds[0], Domain::Categorical { n_choices: 2 });
    assert_eq!(
        bounds[1],
        Domain::Numeric {
            low: -1.0,
            high: 1.0
        }
    );
    // A NaN in a feature that is not conditional is refused, as is a bad code.
    assert!(Forest::fit(&f, &[f64::NAN, 0.5], &[1.0], &ForestConfig::smac(0)).is_err());
    assert!(forest.predict(&[2.0, 0.5]).is_err());
}

#[test]
fn the_tree_structure_is_consistent() {
    let (f, x, y) = mixed_data(150, 10);
    let forest = Forest::fit(&f, &x, &y, &ForestConfig::sklearn(3)).unwrap();
    assert_eq!(forest.trees().len(), 64);
    for tree in forest.trees() {
        assert_eq!(tree.nodes[0].count, 150);
        for (i, node) in tree.nodes.iter().enumerate() {
            if let Some(s) = &node.split {
                let (l, r) = (&tree.nodes[s.left], &tree.nodes[s.right]);
                assert!(s.left > i && s.right > i);
                assert_eq!(l.count + r.count, node.count);
                assert!(l.count >= 1 && r.count >= 1);
                assert_eq!(l.depth, node.depth + 1);
                // Children's weighted variances never exceed the parent's.
                let dec = node.count as f64 * node.variance
                    - l.count as f64 * l.variance
                    - r.count as f64 * r.variance;
                assert!(dec >= -1e-9 * node.count as f64 * (1.0 + node.variance));
                let mean =
                    (l.count as f64 * l.value + r.count as f64 * r.value) / node.count as f64;
                assert!((mean - node.value).abs() < 1e-9 * (1.0 + node.value.abs()));
            }
        }
        assert!(tree.n_leaves() * 2 - 1 == tree.nodes.len());
    }
}

#[test]
fn depth_leaf_and_feature_limits_hold() {
    let (f, x, y) = mixed_data(200, 11);
    let cfg = ForestConfig {
        max_depth: 3,
        min_samples_leaf: 7,
        ratio_features: 0.34,
        ..ForestConfig::smac(2)
    };
    let forest = Forest::fit(&f, &x, &y, &cfg).unwrap();
    for tree in forest.trees() {
        for node in &tree.nodes {
            assert!(node.depth <= 3);
            assert!(node.count >= 7);
        }
    }
    let bad = ForestConfig {
        ratio_features: 0.0,
        ..ForestConfig::smac(0)
    };
    assert!(Forest::fit(&f, &x, &y, &bad).is_err());
}

#[test]
fn law_of_total_variance_adds_the_leaf_variance() {
    let (f, x, y) = mixed_data(100, 12);
    let cfg = ForestConfig {
        min_samples_leaf: 10,
        ..ForestConfig::smac(3)
    };
    let plain = Forest::fit(&f, &x, &y, &cfg).unwrap();
    let total = Forest::fit(
        &f,
        &x,
        &y,
        &ForestConfig {
            law_of_total_variance: true,
            ..cfg
        },
    )
    .unwrap();
    let (m1, v1) = plain.predict(&x).unwrap();
    let (m2, v2) = total.predict(&x).unwrap();
    assert_eq!(m1, m2);
    assert!(v1.iter().zip(&v2).all(|(a, b)| b >= a));
    assert!(v1.iter().zip(&v2).any(|(a, b)| b > a));
}

#[test]
fn the_forest_learns_a_mixed_function() {
    // Held-out R^2 well above a constant predictor's 0.
    let (f, x, y) = mixed_data(400, 13);
    let (_, xt, yt) = mixed_data(300, 14);
    let forest = Forest::fit(&f, &x, &y, &ForestConfig::smac(0)).unwrap();
    let (mean, _) = forest.predict(&xt).unwrap();
    let ym = yt.iter().sum::<f64>() / yt.len() as f64;
    let ss_tot: f64 = yt.iter().map(|v| (v - ym).powi(2)).sum();
    let ss_res: f64 = yt.iter().zip(&mean).map(|(a, b)| (a - b).powi(2)).sum();
    assert!(
        1.0 - ss_res / ss_tot > 0.9,
        "R^2 = {}",
        1.0 - ss_res / ss_tot
    );
}

use super::*;
use crate::forest::Feature;
use crate::importance::encoding::encode;
use crate::importance::mdi::mean_decrease_impurity;
use crate::rng::Rng;
use crate::space::Distribution;

fn unit(n: usize, d: usize, seed: u64) -> Vec<f64> {
    let mut rng = Rng::new(seed);
    (0..n * d).map(|_| rng.uniform()).collect()
}

fn small_config(seed: u64) -> ForestConfig {
    ForestConfig {
        n_trees: 8,
        ..ForestConfig::sklearn(seed)
    }
}

/// The textbook marginal at the point `x` of the features `group`: follow
/// their splits, average the other splits' children by their share of the
/// node's box.
fn marginal_at(
    tree: &Tree,
    node: usize,
    lo: &mut [f64],
    hi: &mut [f64],
    group: &[usize],
    x: &[f64],
) -> f64 {
    let n = &tree.nodes[node];
    let Some(s) = &n.split else { return n.value };
    let SplitRule::Threshold(t) = s.rule else {
        unreachable!()
    };
    let f = s.feature;
    if let Some(k) = group.iter().position(|g| *g == f) {
        let next = if x[k] <= t { s.left } else { s.right };
        return marginal_at(tree, next, lo, hi, group, x);
    }
    let (l0, h0) = (lo[f], hi[f]);
    let t = t.clamp(l0, h0);
    hi[f] = t;
    let left = marginal_at(tree, s.left, lo, hi, group, x);
    hi[f] = h0;
    lo[f] = t;
    let right = marginal_at(tree, s.right, lo, hi, group, x);
    lo[f] = l0;
    ((t - l0) * left + (h0 - t) * right) / (h0 - l0)
}

/// V_F by evaluating the marginal at the midpoint of every cell.
fn textbook_variance(tree: &Tree, bounds: &[(f64, f64)], group: &[usize]) -> f64 {
    let edges: Vec<Vec<f64>> = group.iter().map(|&f| cell_edges(tree, bounds, f)).collect();
    let sizes: Vec<usize> = edges.iter().map(|e| e.len() - 1).collect();
    let mut points = Vec::new();
    let ranges: Vec<(usize, usize)> = sizes.iter().map(|&s| (0, s)).collect();
    for_each_cell(&ranges, &sizes, |c| {
        let (mut x, mut w, mut rest) = (vec![0.0; group.len()], 1.0, c);
        for k in (0..group.len()).rev() {
            let i = rest % sizes[k];
            rest /= sizes[k];
            x[k] = 0.5 * (edges[k][i] + edges[k][i + 1]);
            w *= edges[k][i + 1] - edges[k][i];
        }
        let mut lo: Vec<f64> = bounds.iter().map(|b| b.0).collect();
        let mut hi: Vec<f64> = bounds.iter().map(|b| b.1).collect();
        points.push((marginal_at(tree, 0, &mut lo, &mut hi, group, &x), w));
    });
    weighted_variance(&points)
}

#[test]
fn marginals_equal_the_textbook_recursion() {
    let (n, d) = (120, 4);
    let x = unit(n, d, 1);
    let y: Vec<f64> = x
        .chunks(d)
        .map(|r| 3.0 * r[0] + (r[1] - 0.5) * (r[2] - 0.5) * 8.0 + r[3] * r[3])
        .collect();
    let bounds = vec![(0.0, 1.0); d];
    let features: Vec<Feature> = bounds
        .iter()
        .map(|b| Feature::numeric(b.0, b.1, false))
        .collect();
    let forest = Forest::fit(&features, &x, &y, &small_config(2)).unwrap();
    for tree in forest.trees() {
        let leaves = leaf_boxes(tree, &bounds).unwrap();
        for group in [vec![0], vec![1], vec![3], vec![1, 2], vec![0, 2, 3]] {
            let fast = marginal_variance(tree, &leaves, &bounds, &group);
            let slow = textbook_variance(tree, &bounds, &group);
            assert!(
                (fast - slow).abs() <= 1e-9 * (1.0 + slow.abs()),
                "{group:?}: {fast} vs {slow}"
            );
        }
        // All features together: the marginal is the tree itself.
        let all = marginal_variance(tree, &leaves, &bounds, &[0, 1, 2, 3]);
        let total = total_variance(&leaves, &bounds);
        assert!(
            (all - total).abs() <= 1e-9 * (1.0 + total),
            "{all} vs {total}"
        );
    }
}

#[test]
fn main_effects_follow_the_structure() {
    let (n, d) = (300, 3);
    let x = unit(n, d, 3);
    let bounds = vec![(0.0, 1.0); d];
    let groups = vec![vec![0], vec![1], vec![2]];
    let enc = Encoded {
        x: x.clone(),
        bounds,
        groups,
    };
    // Additive, x0 dominant, x2 irrelevant.
    let y: Vec<f64> = x.chunks(d).map(|r| 10.0 * r[0] + 2.0 * r[1]).collect();
    let out = fanova(&enc, &y, &small_config(4)).unwrap();
    let imp = &out.importances;
    assert!(imp[0] > imp[1] && imp[1] > imp[2], "{imp:?}");
    assert!(imp[0] > 0.8 && imp[2] < 0.02, "{imp:?}");
    assert!(imp.iter().sum::<f64>() <= 1.0 + 1e-12);
    assert_eq!(out.n_trees_with_variance, 8);
    // A pure interaction: small main effects.
    let y: Vec<f64> = x.chunks(d).map(|r| (r[0] - 0.5) * (r[1] - 0.5)).collect();
    let out = fanova(&enc, &y, &small_config(4)).unwrap();
    assert!(
        out.importances.iter().all(|v| *v < 0.2),
        "{:?}",
        out.importances
    );
    // Constant objective: no tree has variance.
    let out = fanova(&enc, &vec![1.0; n], &small_config(4)).unwrap();
    assert_eq!(out.n_trees_with_variance, 0);
    // The same seed, the same forest.
    let y: Vec<f64> = x.chunks(d).map(|r| r[0] + r[1] * r[2]).collect();
    assert_eq!(
        fanova(&enc, &y, &small_config(5)).unwrap(),
        fanova(&enc, &y, &small_config(5)).unwrap()
    );
}

#[test]
fn one_hot_encoding_and_mdi() {
    let mut rng = Rng::new(6);
    let n = 200;
    let cat: Vec<f64> = (0..n).map(|_| rng.below(3) as f64).collect();
    let num: Vec<f64> = (0..n).map(|_| rng.uniform_in(1.0, 100.0)).collect();
    let columns = vec![
        (cat.clone(), Distribution::Categorical { n: 3 }),
        (
            num.clone(),
            Distribution::Float {
                low: 1.0,
                high: 100.0,
                step: None,
                log: true,
            },
        ),
    ];
    let enc = encode(&columns).unwrap();
    assert_eq!(enc.groups, vec![vec![0, 1, 2], vec![3]]);
    assert_eq!(enc.bounds[3], (1.0, 100.0));
    assert_eq!(
        &enc.x[..4],
        &[
            (cat[0] == 0.0) as u8 as f64,
            (cat[0] == 1.0) as u8 as f64,
            (cat[0] == 2.0) as u8 as f64,
            num[0]
        ]
    );
    let y: Vec<f64> = (0..n).map(|t| 5.0 * cat[t] + 0.001 * num[t]).collect();
    let mdi = mean_decrease_impurity(&enc, &y, &small_config(7)).unwrap();
    assert!((mdi.iter().sum::<f64>() - 1.0).abs() < 1e-12);
    assert!(mdi[0] > 0.9, "{mdi:?}");
    let fa = fanova(&enc, &y, &small_config(7)).unwrap();
    assert!(
        fa.importances[0] > fa.importances[1],
        "{:?}",
        fa.importances
    );
    let bad = vec![(vec![5.0], Distribution::Categorical { n: 3 })];
    assert!(encode(&bad).is_err());
}

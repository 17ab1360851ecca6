//! Mean decrease in impurity (Breiman 2001; Louppe et al., "Understanding
//! variable importances in forests of randomized trees", NIPS 2013), as
//! scikit-learn's `feature_importances_`: per tree, each split adds its
//! decrease of the weighted impurity, N_t i(t) - N_l i(l) - N_r i(r) (i the
//! node's variance, N its sample count with bootstrap duplicates), to its
//! feature; a tree's importances are normalised to sum to one, the forest's
//! are the mean over the trees that split at all, normalised again.

use crate::error::Result;
use crate::forest::{Forest, ForestConfig, Tree};

use super::encoding::Encoded;

/// Fits `config`'s forest and returns the MDI of each of `data.groups` (the
/// sum over its features).
pub fn mean_decrease_impurity(
    data: &Encoded,
    y: &[f64],
    config: &ForestConfig,
) -> Result<Vec<f64>> {
    let forest = Forest::fit(&data.features(), &data.x, y, config)?;
    let per_feature = feature_importances(&forest, data.width());
    Ok(data
        .groups
        .iter()
        .map(|g| g.iter().map(|&f| per_feature[f]).sum())
        .collect())
}

/// scikit-learn's `feature_importances_` of a fitted forest over `width` features.
pub fn feature_importances(forest: &Forest, width: usize) -> Vec<f64> {
    let mut total = vec![0.0; width];
    let mut n_trees = 0usize;
    for tree in forest.trees() {
        if tree.nodes.len() <= 1 {
            continue;
        }
        n_trees += 1;
        let imp = tree_importances(tree, width);
        let s: f64 = imp.iter().sum();
        if s > 0.0 {
            for (t, v) in total.iter_mut().zip(&imp) {
                *t += v / s;
            }
        }
    }
    if n_trees == 0 {
        return total;
    }
    let s: f64 = total.iter().sum();
    if s > 0.0 {
        for t in total.iter_mut() {
            *t /= s;
        }
    }
    total
}

/// One tree's impurity decreases per feature.
fn tree_importances(tree: &Tree, width: usize) -> Vec<f64> {
    let mut imp = vec![0.0; width];
    let weighted = |i: usize| tree.nodes[i].count as f64 * tree.nodes[i].variance;
    for (i, node) in tree.nodes.iter().enumerate() {
        if let Some(s) = &node.split {
            imp[s.feature] += weighted(i) - weighted(s.left) - weighted(s.right);
        }
    }
    imp
}

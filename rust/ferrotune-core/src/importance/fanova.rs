//! fANOVA: the fraction of the variance of a random forest's prediction that
//! each parameter's main effect explains (Hutter, Hoos and Leyton-Brown, "An
//! Efficient Approach for Assessing Hyperparameter Importance", ICML 2014).
//!
//! A regression tree is constant on the boxes of its leaves, so its marginals
//! are exact (the paper's Theorem 2), no sampling: along a parameter's
//! features, the tree's split points cut the domain into cells; the marginal
//! prediction â_F(c) on cell c (eq. 1, with the uniform measure on the box of
//! the search space) is Σ_L v_L |L ∖ F| / |Θ ∖ F| over the leaves L whose box
//! contains c, |L ∖ F| the volume of the leaf's box in the other dimensions.
//! The main effect's variance is V_F = Σ_c ω_c (â_F(c) - f̂₀)², ω_c the
//! cell's share of the volume along F (eq. 3), and the tree's total variance
//! V = Σ_L ω_L (v_L - f̂₀)², ω_L the leaf's share of the whole volume (eq. 2).
//! The importance of F is the mean over the trees with V > 0 of V_F / V, as
//! automl/fanova and Optuna report it.

use crate::error::{Error, Result};
use crate::forest::{Forest, ForestConfig, SplitRule, Tree};

use super::encoding::Encoded;

/// Per parameter group: the mean and standard deviation over the trees of
/// the fraction of variance its main effect explains, and how many trees had
/// any variance (the mean is over those; none means no importance can be
/// assessed).
#[derive(Debug, Clone, PartialEq)]
pub struct FanovaOutcome {
    pub importances: Vec<f64>,
    pub stds: Vec<f64>,
    pub n_trees_with_variance: usize,
}

/// Fits `config`'s forest on `data` and `y`, and returns the fANOVA
/// importance of each of `data.groups`.
pub fn fanova(data: &Encoded, y: &[f64], config: &ForestConfig) -> Result<FanovaOutcome> {
    let forest = Forest::fit(&data.features(), &data.x, y, config)?;
    fanova_of(&forest, &data.bounds, &data.groups)
}

/// The fANOVA importances of `groups` (each a set of feature indices, whose
/// joint main effect is measured) on a fitted forest over the box `bounds`.
pub fn fanova_of(
    forest: &Forest,
    bounds: &[(f64, f64)],
    groups: &[Vec<usize>],
) -> Result<FanovaOutcome> {
    if let Some(f) = groups.iter().flatten().find(|&&f| f >= bounds.len()) {
        return Err(Error::InvalidArgument(format!(
            "feature {f} is beyond the {} features",
            bounds.len()
        )));
    }
    let mut fractions: Vec<Vec<f64>> = vec![Vec::new(); groups.len()];
    for tree in forest.trees() {
        let leaves = leaf_boxes(tree, bounds)?;
        let total = total_variance(&leaves, bounds);
        if total <= 0.0 {
            continue;
        }
        for (g, group) in groups.iter().enumerate() {
            let v = marginal_variance(tree, &leaves, bounds, group);
            fractions[g].push(v.max(0.0) / total);
        }
    }
    let n_trees_with_variance = fractions.first().map_or(0, Vec::len);
    let (importances, stds) = fractions
        .iter()
        .map(|f| mean_std(f))
        .unzip::<f64, f64, Vec<f64>, Vec<f64>>();
    Ok(FanovaOutcome {
        importances,
        stds,
        n_trees_with_variance,
    })
}

/// Mean and population standard deviation (0, 0 for none).
fn mean_std(v: &[f64]) -> (f64, f64) {
    if v.is_empty() {
        return (0.0, 0.0);
    }
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / n;
    (m, var.sqrt())
}

/// A leaf's value and its box (one interval per feature).
pub(crate) struct LeafBox {
    pub value: f64,
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

/// The leaves of a tree with their boxes inside `bounds`.
pub(crate) fn leaf_boxes(tree: &Tree, bounds: &[(f64, f64)]) -> Result<Vec<LeafBox>> {
    let lo: Vec<f64> = bounds.iter().map(|b| b.0).collect();
    let hi: Vec<f64> = bounds.iter().map(|b| b.1).collect();
    let mut out = Vec::new();
    let mut stack = vec![(0usize, lo, hi)];
    while let Some((i, lo, hi)) = stack.pop() {
        let node = &tree.nodes[i];
        let Some(split) = &node.split else {
            out.push(LeafBox {
                value: node.value,
                lo,
                hi,
            });
            continue;
        };
        let SplitRule::Threshold(t) = split.rule else {
            return Err(Error::InvalidArgument(
                "fANOVA needs numeric features (categorical ones one-hot encoded)".into(),
            ));
        };
        let f = split.feature;
        // A threshold outside the current interval leaves one child empty.
        let t = t.clamp(lo[f], hi[f]);
        let (mut left_hi, mut right_lo) = (hi.clone(), lo.clone());
        left_hi[f] = t;
        right_lo[f] = t;
        stack.push((split.right, right_lo, hi));
        stack.push((split.left, lo, left_hi));
    }
    Ok(out)
}

/// ω_L (the leaf's share of the volume of `bounds`) over features `skip` left out.
fn share(leaf: &LeafBox, bounds: &[(f64, f64)], skip: &[usize]) -> f64 {
    let mut w = 1.0;
    for (f, &(lo, hi)) in bounds.iter().enumerate() {
        if !skip.contains(&f) {
            w *= (leaf.hi[f] - leaf.lo[f]) / (hi - lo);
        }
    }
    w
}

/// The tree's total variance V over the uniform measure (eq. 2).
fn total_variance(leaves: &[LeafBox], bounds: &[(f64, f64)]) -> f64 {
    let points: Vec<(f64, f64)> = leaves
        .iter()
        .map(|l| (l.value, share(l, bounds, &[])))
        .collect();
    weighted_variance(&points)
}

/// The cell edges of feature `f`: its bounds and the tree's split points on
/// it, ascending and distinct.
fn cell_edges(tree: &Tree, bounds: &[(f64, f64)], f: usize) -> Vec<f64> {
    let (lo, hi) = bounds[f];
    let mut edges = vec![lo, hi];
    for node in &tree.nodes {
        if let Some(s) = &node.split {
            if let (true, SplitRule::Threshold(t)) = (s.feature == f, &s.rule) {
                edges.push(t.clamp(lo, hi));
            }
        }
    }
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// V_F, the variance of the tree's marginal along `group` (eqs. 1 and 3).
fn marginal_variance(
    tree: &Tree,
    leaves: &[LeafBox],
    bounds: &[(f64, f64)],
    group: &[usize],
) -> f64 {
    let edges: Vec<Vec<f64>> = group.iter().map(|&f| cell_edges(tree, bounds, f)).collect();
    let sizes: Vec<usize> = edges.iter().map(|e| e.len() - 1).collect();
    let n_cells: usize = sizes.iter().product();
    // Σ_L v_L ω_L and Σ_L ω_L over the leaves covering each cell; the second is
    // 1 up to rounding, and dividing by it keeps the marginal exact.
    let mut sum = vec![0.0; n_cells + 1];
    let mut norm = vec![0.0; n_cells + 1];
    for leaf in leaves {
        let w = share(leaf, bounds, group);
        let ranges: Vec<(usize, usize)> = group
            .iter()
            .zip(&edges)
            .map(|(&f, e)| (position(e, leaf.lo[f]), position(e, leaf.hi[f])))
            .collect();
        if ranges.iter().any(|(a, b)| a >= b) {
            continue;
        }
        if group.len() == 1 {
            // One feature: a difference array over the cells.
            let (a, b) = ranges[0];
            sum[a] += leaf.value * w;
            sum[b] -= leaf.value * w;
            norm[a] += w;
            norm[b] -= w;
        } else {
            for_each_cell(&ranges, &sizes, |c| {
                sum[c] += leaf.value * w;
                norm[c] += w;
            });
        }
    }
    if group.len() == 1 {
        for c in 1..n_cells {
            sum[c] += sum[c - 1];
            norm[c] += norm[c - 1];
        }
    }
    let mut cells = Vec::with_capacity(n_cells);
    for c in 0..n_cells {
        let mut volume = 1.0;
        let mut rest = c;
        for (k, e) in edges.iter().enumerate().rev() {
            let i = rest % sizes[k];
            rest /= sizes[k];
            volume *= e[i + 1] - e[i];
        }
        if norm[c] > 0.0 && volume > 0.0 {
            cells.push((sum[c] / norm[c], volume));
        }
    }
    weighted_variance(&cells)
}

/// The index of `x` among `edges` (an edge of the tree's partition).
fn position(edges: &[f64], x: f64) -> usize {
    edges.partition_point(|e| *e < x)
}

/// Calls `f` on the flat index of every cell of the product of `ranges`
/// (half-open, one per feature; `sizes` the cells per feature, row-major).
fn for_each_cell(ranges: &[(usize, usize)], sizes: &[usize], mut f: impl FnMut(usize)) {
    let mut at: Vec<usize> = ranges.iter().map(|r| r.0).collect();
    loop {
        let flat = at.iter().zip(sizes).fold(0, |acc, (i, s)| acc * s + i);
        f(flat);
        let mut k = ranges.len();
        loop {
            if k == 0 {
                return;
            }
            k -= 1;
            at[k] += 1;
            if at[k] < ranges[k].1 {
                break;
            }
            at[k] = ranges[k].0;
        }
    }
}

/// Σ ω (a - ā)² / Σ ω with ā = Σ ω a / Σ ω.
fn weighted_variance(points: &[(f64, f64)]) -> f64 {
    let w_sum: f64 = points.iter().map(|p| p.1).sum();
    if w_sum <= 0.0 {
        return 0.0;
    }
    let mean = points.iter().map(|(a, w)| a * w).sum::<f64>() / w_sum;
    points
        .iter()
        .map(|(a, w)| w * (a - mean).powi(2))
        .sum::<f64>()
        / w_sum
}

#[cfg(test)]
mod tests;

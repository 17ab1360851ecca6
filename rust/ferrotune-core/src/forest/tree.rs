//! One regression tree: the public, walkable node structure and the CART builder.
//!
//! Splits minimise the residual sum of squares of the two children (Breiman et al. 1984,
//! CART, ch. 8), as pyrfr (SMAC's forest) and scikit-learn do. A numeric split sends
//! `x <= threshold` left; a categorical split sends the codes of a subset left, found by
//! sorting the node's categories by their mean response and cutting that order (Breiman et
//! al. 1984, sec. 9.4; Fisher 1958: for squared error the best of the `2^(k-1) - 1`
//! subsets is one of these `k - 1` prefixes), never by cutting the codes' numeric order.

use super::{Domain, ForestConfig};
use crate::rng::Rng;

/// How a split node routes a point.
#[derive(Debug, Clone, PartialEq)]
pub enum SplitRule {
    /// Numeric feature: `x <= threshold` goes left, the rest right.
    Threshold(f64),
    /// Categorical feature: code `c` goes left iff `left[c]`; `left` has one entry per
    /// code of the feature's (imputed) domain, so every code has a side, including codes
    /// no training point of the node had (those go to the child with more samples).
    Categories(Vec<bool>),
}

/// An internal node's split.
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    /// Index of the feature (column) split on.
    pub feature: usize,
    /// Which points go left.
    pub rule: SplitRule,
    /// Index of the left child in [`Tree::nodes`].
    pub left: usize,
    /// Index of the right child in [`Tree::nodes`].
    pub right: usize,
}

/// A node. Every node (internal or leaf) carries the statistics of the training responses
/// that reached it (bootstrap duplicates counted), so impurity decreases can be read off
/// as `count * variance - (left.count * left.variance + right.count * right.variance)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// `None` for a leaf.
    pub split: Option<Split>,
    /// Mean response of the node's samples: the prediction of a leaf.
    pub value: f64,
    /// Number of samples in the node.
    pub count: usize,
    /// Population variance (divided by `count`) of the node's responses.
    pub variance: f64,
    /// Depth, 0 at the root.
    pub depth: usize,
}

impl Node {
    /// Whether this node is a leaf.
    pub fn is_leaf(&self) -> bool {
        self.split.is_none()
    }
}

/// One fitted tree. `nodes[0]` is the root; children always have larger indices than
/// their parent.
#[derive(Debug, Clone, PartialEq)]
pub struct Tree {
    /// All nodes, root first.
    pub nodes: Vec<Node>,
    /// The domain of each feature as this tree partitions it (the imputed domain: with
    /// room for the inactive value of conditional features, see [`super::Feature`]).
    pub bounds: Vec<Domain>,
}

impl Tree {
    /// Index of the leaf reached by one (imputed) row.
    pub fn leaf_index(&self, row: &[f64]) -> usize {
        let mut i = 0;
        while let Some(s) = &self.nodes[i].split {
            let v = row[s.feature];
            let left = match &s.rule {
                SplitRule::Threshold(t) => v <= *t,
                SplitRule::Categories(mask) => mask.get(v as usize).copied().unwrap_or(false),
            };
            i = if left { s.left } else { s.right };
        }
        i
    }

    /// The leaf reached by one (imputed) row.
    pub fn leaf(&self, row: &[f64]) -> &Node {
        &self.nodes[self.leaf_index(row)]
    }

    /// Number of leaves.
    pub fn n_leaves(&self) -> usize {
        self.nodes.iter().filter(|n| n.is_leaf()).count()
    }
}

/// The training data of one fit, imputed, row-major.
pub(super) struct Data<'a> {
    pub x: &'a [f64],
    pub y: &'a [f64],
    pub d: usize,
    pub domains: &'a [Domain],
}

impl Data<'_> {
    #[inline]
    fn at(&self, i: usize, f: usize) -> f64 {
        self.x[i * self.d + f]
    }
}

fn node_stats(data: &Data<'_>, idx: &[usize], depth: usize) -> Node {
    let n = idx.len();
    let mean = idx.iter().map(|&i| data.y[i]).sum::<f64>() / n as f64;
    let var = idx.iter().map(|&i| (data.y[i] - mean).powi(2)).sum::<f64>() / n as f64;
    Node {
        split: None,
        value: mean,
        count: n,
        variance: var,
        depth,
    }
}

/// A candidate split: its score (larger is better: `S_l^2/n_l + S_r^2/n_r`, which is the
/// total sum of squares minus the children's residual sum of squares, up to a constant of
/// the node) and its rule.
struct Candidate {
    score: f64,
    feature: usize,
    rule: SplitRule,
}

/// Builds one tree on the samples `idx` (bootstrap indices, duplicates allowed).
pub(super) fn build(
    data: &Data<'_>,
    mut idx: Vec<usize>,
    cfg: &ForestConfig,
    rng: &mut Rng,
) -> Tree {
    let max_features = cfg.max_features(data.d);
    let mut nodes = vec![node_stats(data, &idx, 0)];
    // Depth-first growth over ranges of `idx`, partitioned in place.
    let mut stack = vec![(0usize, 0usize, idx.len())];
    let mut features: Vec<usize> = (0..data.d).collect();
    while let Some((id, lo, hi)) = stack.pop() {
        let depth = nodes[id].depth;
        if hi - lo < cfg.min_samples_split
            || hi - lo < 2 * cfg.min_samples_leaf
            || depth >= cfg.max_depth
            || nodes.len() + 2 > cfg.max_nodes
            || is_pure(data, &idx[lo..hi], cfg.eps_purity)
        {
            continue;
        }
        let Some(best) = best_split(data, &idx[lo..hi], &mut features, max_features, cfg, rng)
        else {
            continue;
        };
        let mid = lo + partition(data, &mut idx[lo..hi], best.feature, &best.rule);
        let (l, r) = (nodes.len(), nodes.len() + 1);
        nodes.push(node_stats(data, &idx[lo..mid], depth + 1));
        nodes.push(node_stats(data, &idx[mid..hi], depth + 1));
        nodes[id].split = Some(Split {
            feature: best.feature,
            rule: best.rule,
            left: l,
            right: r,
        });
        stack.push((r, mid, hi));
        stack.push((l, lo, mid));
    }
    Tree {
        nodes,
        bounds: data.domains.to_vec(),
    }
}

/// pyrfr's `epsilon_purity`: a node whose responses span less than `eps` is not split.
fn is_pure(data: &Data<'_>, idx: &[usize], eps: f64) -> bool {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for &i in idx {
        lo = lo.min(data.y[i]);
        hi = hi.max(data.y[i]);
    }
    hi - lo <= eps
}

/// The best split over random features. As in scikit-learn, features are visited in a
/// random order and the search stops once `max_features` non-constant features were
/// examined (constant ones do not count), so a node is only a leaf when no feature at
/// all can split it.
fn best_split(
    data: &Data<'_>,
    idx: &[usize],
    features: &mut [usize],
    max_features: usize,
    cfg: &ForestConfig,
    rng: &mut Rng,
) -> Option<Candidate> {
    rng.shuffle(features);
    let mut best: Option<Candidate> = None;
    let mut visited = 0;
    let mut pairs: Vec<(f64, f64)> = Vec::with_capacity(idx.len());
    for &f in features.iter() {
        if visited >= max_features {
            break;
        }
        pairs.clear();
        pairs.extend(idx.iter().map(|&i| (data.at(i, f), data.y[i])));
        let (mn, mx) = pairs
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
                (a.min(p.0), b.max(p.0))
            });
        if mn >= mx {
            continue;
        }
        visited += 1;
        let cand = match &data.domains[f] {
            Domain::Numeric { .. } => numeric_split(&mut pairs, f, cfg, rng),
            Domain::Categorical { n_choices } => categorical_split(&pairs, *n_choices, f, cfg),
        };
        if let Some(c) = cand {
            if best.as_ref().is_none_or(|b| c.score > b.score) {
                best = Some(c);
            }
        }
    }
    best
}

/// Best threshold on a numeric feature: sort by value, scan the cut points between
/// distinct neighbours with prefix sums.
fn numeric_split(
    pairs: &mut [(f64, f64)],
    feature: usize,
    cfg: &ForestConfig,
    rng: &mut Rng,
) -> Option<Candidate> {
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pairs.len();
    let total: f64 = pairs.iter().map(|p| p.1).sum();
    let leaf = cfg.min_samples_leaf.max(1);
    let mut sum_l = 0.0;
    let mut best: Option<(f64, usize)> = None;
    for i in 1..n {
        sum_l += pairs[i - 1].1;
        if i < leaf || n - i < leaf || pairs[i - 1].0 >= pairs[i].0 {
            continue;
        }
        let sum_r = total - sum_l;
        let score = sum_l * sum_l / i as f64 + sum_r * sum_r / (n - i) as f64;
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, i));
        }
    }
    let (score, i) = best?;
    let (a, b) = (pairs[i - 1].0, pairs[i].0);
    // pyrfr draws the threshold uniformly between the two neighbouring values; scikit-learn
    // takes their midpoint. Either way a <= t < b.
    let mut t = if cfg.random_thresholds {
        rng.uniform_in(a, b)
    } else {
        a + (b - a) / 2.0
    };
    if !(t >= a && t < b) {
        t = a;
    }
    Some(Candidate {
        score,
        feature,
        rule: SplitRule::Threshold(t),
    })
}

/// Best subset split of a categorical feature (Breiman's ordering by mean response).
fn categorical_split(
    pairs: &[(f64, f64)],
    n_codes: usize,
    feature: usize,
    cfg: &ForestConfig,
) -> Option<Candidate> {
    let mut sums = vec![0.0; n_codes];
    let mut counts = vec![0usize; n_codes];
    for &(c, y) in pairs {
        let c = c as usize;
        sums[c] += y;
        counts[c] += 1;
    }
    let mut present: Vec<usize> = (0..n_codes).filter(|&c| counts[c] > 0).collect();
    present.sort_by(|&a, &b| {
        let (ma, mb) = (sums[a] / counts[a] as f64, sums[b] / counts[b] as f64);
        ma.total_cmp(&mb).then(a.cmp(&b))
    });
    let n = pairs.len();
    let total: f64 = sums.iter().sum();
    let leaf = cfg.min_samples_leaf.max(1);
    let (mut sum_l, mut n_l) = (0.0, 0usize);
    let mut best: Option<(f64, usize, usize)> = None;
    for k in 0..present.len() - 1 {
        sum_l += sums[present[k]];
        n_l += counts[present[k]];
        if n_l < leaf || n - n_l < leaf {
            continue;
        }
        let sum_r = total - sum_l;
        let score = sum_l * sum_l / n_l as f64 + sum_r * sum_r / (n - n_l) as f64;
        if best.is_none_or(|(s, _, _)| score > s) {
            best = Some((score, k, n_l));
        }
    }
    let (score, k, n_l) = best?;
    // Codes absent from the node go with the larger child.
    let mut left = vec![n_l > n - n_l; n_codes];
    for (j, &c) in present.iter().enumerate() {
        left[c] = j <= k;
    }
    Some(Candidate {
        score,
        feature,
        rule: SplitRule::Categories(left),
    })
}

/// Moves the samples going left to the front of `idx`; returns how many there are.
fn partition(data: &Data<'_>, idx: &mut [usize], feature: usize, rule: &SplitRule) -> usize {
    let goes_left = |i: usize| {
        let v = data.at(i, feature);
        match rule {
            SplitRule::Threshold(t) => v <= *t,
            SplitRule::Categories(mask) => mask[v as usize],
        }
    };
    let mut k = 0;
    for j in 0..idx.len() {
        if goes_left(idx[j]) {
            idx.swap(j, k);
            k += 1;
        }
    }
    k
}

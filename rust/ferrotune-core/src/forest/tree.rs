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

/// One tree's working state: the bootstrap sample's columns, and for every feature the
/// sample positions of each node, sorted by that feature's value for numeric features
/// (sorted once at the root and kept sorted by stable partitions, as CART
/// implementations with presorting do), so a split search costs O(n) per feature.
struct Work<'a> {
    cols: Vec<Vec<f64>>,
    y: Vec<f64>,
    orders: Vec<Vec<u32>>,
    domains: &'a [Domain],
    goes_left: Vec<bool>,
    tmp: Vec<u32>,
}

impl<'a> Work<'a> {
    fn new(data: &Data<'a>, idx: &[usize]) -> Self {
        let m = idx.len();
        let cols: Vec<Vec<f64>> = (0..data.d)
            .map(|f| idx.iter().map(|&i| data.at(i, f)).collect())
            .collect();
        let orders = (0..data.d)
            .map(|f| {
                let mut o: Vec<u32> = (0..m as u32).collect();
                if matches!(data.domains[f], Domain::Numeric { .. }) {
                    o.sort_by(|&a, &b| cols[f][a as usize].total_cmp(&cols[f][b as usize]));
                }
                o
            })
            .collect();
        Work {
            y: idx.iter().map(|&i| data.y[i]).collect(),
            cols,
            orders,
            domains: data.domains,
            goes_left: vec![false; m],
            tmp: Vec::with_capacity(m),
        }
    }

    fn stats(&self, lo: usize, hi: usize, depth: usize) -> Node {
        let pos = &self.orders[0][lo..hi];
        let n = pos.len();
        let mean = pos.iter().map(|&j| self.y[j as usize]).sum::<f64>() / n as f64;
        let var = pos
            .iter()
            .map(|&j| (self.y[j as usize] - mean).powi(2))
            .sum::<f64>()
            / n as f64;
        Node {
            split: None,
            value: mean,
            count: n,
            variance: var,
            depth,
        }
    }

    /// pyrfr's `epsilon_purity`: a node whose responses span at most `eps` is not split.
    fn is_pure(&self, lo: usize, hi: usize, eps: f64) -> bool {
        let (mut a, mut b) = (f64::INFINITY, f64::NEG_INFINITY);
        for &j in &self.orders[0][lo..hi] {
            a = a.min(self.y[j as usize]);
            b = b.max(self.y[j as usize]);
        }
        b - a <= eps
    }

    /// Stable partition of every feature's positions in `lo..hi` by the split; returns
    /// the first position of the right child.
    fn partition(&mut self, lo: usize, hi: usize, feature: usize, rule: &SplitRule) -> usize {
        let col = &self.cols[feature];
        for &j in &self.orders[0][lo..hi] {
            let v = col[j as usize];
            self.goes_left[j as usize] = match rule {
                SplitRule::Threshold(t) => v <= *t,
                SplitRule::Categories(mask) => mask[v as usize],
            };
        }
        let mut mid = lo;
        for order in self.orders.iter_mut() {
            self.tmp.clear();
            let seg = &mut order[lo..hi];
            let mut k = 0;
            for i in 0..seg.len() {
                let j = seg[i];
                if self.goes_left[j as usize] {
                    seg[k] = j;
                    k += 1;
                } else {
                    self.tmp.push(j);
                }
            }
            seg[k..].copy_from_slice(&self.tmp);
            mid = lo + k;
        }
        mid
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
pub(super) fn build(data: &Data<'_>, idx: Vec<usize>, cfg: &ForestConfig, rng: &mut Rng) -> Tree {
    let max_features = cfg.max_features(data.d);
    let mut w = Work::new(data, &idx);
    let mut nodes = vec![w.stats(0, idx.len(), 0)];
    // Depth-first growth over ranges of sample positions.
    let mut stack = vec![(0usize, 0usize, idx.len())];
    let mut features: Vec<usize> = (0..data.d).collect();
    while let Some((id, lo, hi)) = stack.pop() {
        let depth = nodes[id].depth;
        if hi - lo < cfg.min_samples_split
            || hi - lo < 2 * cfg.min_samples_leaf
            || depth >= cfg.max_depth
            || nodes.len() + 2 > cfg.max_nodes
            || w.is_pure(lo, hi, cfg.eps_purity)
        {
            continue;
        }
        let Some(best) = best_split(&w, lo, hi, &mut features, max_features, cfg, rng) else {
            continue;
        };
        let mid = w.partition(lo, hi, best.feature, &best.rule);
        let (l, r) = (nodes.len(), nodes.len() + 1);
        nodes.push(w.stats(lo, mid, depth + 1));
        nodes.push(w.stats(mid, hi, depth + 1));
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

/// The best split over random features. As in scikit-learn, features are visited in a
/// random order and the search stops once `max_features` non-constant features were
/// examined (constant ones do not count), so a node is only a leaf when no feature at
/// all can split it.
fn best_split(
    w: &Work<'_>,
    lo: usize,
    hi: usize,
    features: &mut [usize],
    max_features: usize,
    cfg: &ForestConfig,
    rng: &mut Rng,
) -> Option<Candidate> {
    rng.shuffle(features);
    let mut best: Option<Candidate> = None;
    let mut visited = 0;
    for &f in features.iter() {
        if visited >= max_features {
            break;
        }
        let pos = &w.orders[f][lo..hi];
        let col = &w.cols[f];
        let cand = match &w.domains[f] {
            Domain::Numeric { .. } => {
                if col[pos[0] as usize] >= col[pos[pos.len() - 1] as usize] {
                    continue;
                }
                visited += 1;
                numeric_split(pos, col, &w.y, f, cfg, rng)
            }
            Domain::Categorical { n_choices } => {
                let first = col[pos[0] as usize];
                if pos.iter().all(|&j| col[j as usize] == first) {
                    continue;
                }
                visited += 1;
                categorical_split(pos, col, &w.y, *n_choices, f, cfg)
            }
        };
        if let Some(c) = cand {
            if best.as_ref().is_none_or(|b| c.score > b.score) {
                best = Some(c);
            }
        }
    }
    best
}

/// Best threshold on a numeric feature: scan the cut points between distinct neighbours
/// of the sorted positions `pos` with prefix sums.
fn numeric_split(
    pos: &[u32],
    col: &[f64],
    y: &[f64],
    feature: usize,
    cfg: &ForestConfig,
    rng: &mut Rng,
) -> Option<Candidate> {
    let n = pos.len();
    let total: f64 = pos.iter().map(|&j| y[j as usize]).sum();
    let leaf = cfg.min_samples_leaf.max(1);
    let mut sum_l = 0.0;
    let mut best: Option<(f64, usize)> = None;
    for i in 1..n {
        let (a, b) = (pos[i - 1] as usize, pos[i] as usize);
        sum_l += y[a];
        if i < leaf || n - i < leaf || col[a] >= col[b] {
            continue;
        }
        let sum_r = total - sum_l;
        let score = sum_l * sum_l / i as f64 + sum_r * sum_r / (n - i) as f64;
        if best.is_none_or(|(s, _)| score > s) {
            best = Some((score, i));
        }
    }
    let (score, i) = best?;
    let (a, b) = (col[pos[i - 1] as usize], col[pos[i] as usize]);
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
    pos: &[u32],
    col: &[f64],
    y: &[f64],
    n_codes: usize,
    feature: usize,
    cfg: &ForestConfig,
) -> Option<Candidate> {
    let mut sums = vec![0.0; n_codes];
    let mut counts = vec![0usize; n_codes];
    for &j in pos {
        let c = col[j as usize] as usize;
        sums[c] += y[j as usize];
        counts[c] += 1;
    }
    let mut present: Vec<usize> = (0..n_codes).filter(|&c| counts[c] > 0).collect();
    present.sort_by(|&a, &b| {
        let (ma, mb) = (sums[a] / counts[a] as f64, sums[b] / counts[b] as f64);
        ma.total_cmp(&mb).then(a.cmp(&b))
    });
    let n = pos.len();
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

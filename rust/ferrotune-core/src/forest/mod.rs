//! A random-forest regressor for mixed, conditional inputs: the surrogate of
//! `RFSampler` (SMAC) and the model the parameter-importance evaluators walk.
//!
//! Breiman (2001) random forests of CART regression trees, as SMAC uses them
//! (Hutter, Hoos and Leyton-Brown 2011, sec. 4.1; pyrfr): each tree is grown on a bootstrap
//! sample, each split considers a random subset of the features, the prediction is the
//! mean of the trees' leaf values and its uncertainty the variance across trees.
//!
//! Inputs are rows of one `f64` per [`Feature`], in the model space chosen by the caller:
//! numeric dimensions (continuous, integer, or log-scaled ones as their logarithm, so
//! splits are fitted in the transformed space) as numbers, categorical ones as codes
//! `0..n_choices`. An inactive conditional parameter is `NaN` and is imputed as SMAC does
//! (`AbstractRandomForest._impute_inactive`: `-1` on its unit-cube scale for numeric
//! parameters, the extra code `n_choices` for categorical ones), here `low - (high - low)`
//! for a numeric feature on `[low, high]` and the code `n_choices`: inactive points sit
//! outside the active domain, so one split separates them from all active ones and the
//! trees learn the two regimes apart. [`Tree::bounds`] holds this imputed domain.
//!
//! [`ForestConfig::smac`] gives the defaults of SMAC3's HPO facade
//! (`HyperparameterOptimizationFacade.get_model` over `RandomForest`, SMAC 2.x) with
//! pyrfr's split rule: the best split of each examined feature, its threshold drawn
//! between the two neighbouring values. (SMAC 2.4 replaced pyrfr by scikit-learn trees
//! with `splitter="random"`, one random threshold per feature, and categorical codes
//! split as numbers; we keep pyrfr's exact search and subset splits.)
//! [`ForestConfig::sklearn`] the configuration Optuna's fANOVA and MDI evaluators use
//! with scikit-learn's `RandomForestRegressor` (64 trees, depth 64, all features).
//!
//! Refits: a forest is rebuilt from scratch on every fit. At 1,000 points and 10 trees a
//! fit takes a few milliseconds in release builds, far below the cost of a trial of
//! SMAC3, so incremental updates (keeping trees, updating leaves) were not worth their
//! bias; see `benches/README.md` for the measurement. Trees are fitted sequentially (no
//! thread pool dependency); each tree has its own random stream so the result does not
//! depend on the order.

mod tree;

#[cfg(test)]
mod tests;

pub use tree::{Node, Split, SplitRule, Tree};

use crate::error::{Error, Result};
use crate::rng::Rng;

/// The domain of one input dimension.
#[derive(Debug, Clone, PartialEq)]
pub enum Domain {
    /// A numeric dimension on `[low, high]` (continuous, integer, or a log-scaled one in
    /// log space).
    Numeric { low: f64, high: f64 },
    /// A categorical dimension with codes `0..n_choices`.
    Categorical { n_choices: usize },
}

/// One input dimension: its domain, and whether it can be inactive (`NaN`).
#[derive(Debug, Clone, PartialEq)]
pub struct Feature {
    /// The active values' domain.
    pub domain: Domain,
    /// Whether the parameter is conditional, i.e. rows may hold `NaN` for "inactive".
    pub conditional: bool,
}

impl Feature {
    /// A numeric feature on `[low, high]`.
    pub fn numeric(low: f64, high: f64, conditional: bool) -> Self {
        Feature {
            domain: Domain::Numeric { low, high },
            conditional,
        }
    }

    /// A categorical feature with `n_choices` codes.
    pub fn categorical(n_choices: usize, conditional: bool) -> Self {
        Feature {
            domain: Domain::Categorical { n_choices },
            conditional,
        }
    }

    /// The value an inactive (`NaN`) entry is replaced by (SMAC's imputation).
    pub fn inactive_value(&self) -> f64 {
        match self.domain {
            Domain::Numeric { low, high } => low - (high - low).max(1.0e-12),
            Domain::Categorical { n_choices } => n_choices as f64,
        }
    }

    /// The domain the trees partition: the active domain plus the inactive value.
    pub fn imputed_domain(&self) -> Domain {
        match (&self.domain, self.conditional) {
            (Domain::Numeric { high, .. }, true) => Domain::Numeric {
                low: self.inactive_value(),
                high: *high,
            },
            (Domain::Categorical { n_choices }, true) => Domain::Categorical {
                n_choices: n_choices + 1,
            },
            (d, false) => d.clone(),
        }
    }
}

/// The forest's settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ForestConfig {
    /// Number of trees (SMAC: 10).
    pub n_trees: usize,
    /// Fraction of the features considered at each split, at least one (SMAC's HPO
    /// facade: 1.0, all features; its `RandomForest` class default is 5/6).
    pub ratio_features: f64,
    /// A node with fewer samples is not split (SMAC's HPO facade: 2).
    pub min_samples_split: usize,
    /// Minimum samples in each child of a split (SMAC's HPO facade: 1).
    pub min_samples_leaf: usize,
    /// Maximum depth, root at depth 0 (SMAC: 2^20, i.e. unlimited).
    pub max_depth: usize,
    /// Maximum number of nodes per tree (SMAC: 2^20).
    pub max_nodes: usize,
    /// A node whose responses span at most this is pure and not split (SMAC: 1e-8).
    pub eps_purity: f64,
    /// Grow each tree on a bootstrap sample of `n` points drawn with replacement (SMAC:
    /// true).
    pub bootstrapping: bool,
    /// Draw a numeric threshold uniformly between the two neighbouring training values
    /// (pyrfr) instead of taking their midpoint (scikit-learn).
    pub random_thresholds: bool,
    /// Predictive variance by the law of total variance: the variance of the trees' leaf
    /// means plus the mean of their leaf variances (pyrfr's
    /// `compute_law_of_total_variance`); otherwise only the former (SMAC's default).
    pub law_of_total_variance: bool,
    /// Seed of the bootstrap samples, feature subsets and thresholds.
    pub seed: u64,
}

impl ForestConfig {
    /// SMAC3's HPO facade: 10 trees, all features, split from 2 samples, leaves of 1,
    /// depth and node limits 2^20, purity 1e-8, bootstrapping, pyrfr's random thresholds.
    pub fn smac(seed: u64) -> Self {
        ForestConfig {
            n_trees: 10,
            ratio_features: 1.0,
            min_samples_split: 2,
            min_samples_leaf: 1,
            max_depth: 1 << 20,
            max_nodes: 1 << 20,
            eps_purity: 1e-8,
            bootstrapping: true,
            random_thresholds: true,
            law_of_total_variance: false,
            seed,
        }
    }

    /// Optuna's fANOVA / MDI evaluators' scikit-learn forest: 64 trees, `max_depth=64`,
    /// `min_samples_split=2`, `min_samples_leaf=1`, all features, bootstrapping, midpoint
    /// thresholds.
    pub fn sklearn(seed: u64) -> Self {
        ForestConfig {
            n_trees: 64,
            max_depth: 64,
            eps_purity: 0.0,
            random_thresholds: false,
            ..ForestConfig::smac(seed)
        }
    }

    /// Number of features examined per split.
    pub fn max_features(&self, d: usize) -> usize {
        ((d as f64 * self.ratio_features) as usize).clamp(1, d.max(1))
    }

    fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::InvalidArgument(m.to_string()));
        if self.n_trees == 0 {
            return bad("n_trees must be at least 1");
        }
        if !(self.ratio_features > 0.0 && self.ratio_features <= 1.0) {
            return bad("ratio_features must be in (0, 1]");
        }
        if self.min_samples_leaf == 0 || self.min_samples_split < 2 {
            return bad("min_samples_leaf must be >= 1 and min_samples_split >= 2");
        }
        if self.max_depth == 0 || self.max_nodes == 0 {
            return bad("max_depth and max_nodes must be at least 1");
        }
        if self.eps_purity.is_nan() || self.eps_purity < 0.0 {
            return bad("eps_purity must be >= 0");
        }
        Ok(())
    }
}

/// A fitted forest.
#[derive(Debug, Clone, PartialEq)]
pub struct Forest {
    features: Vec<Feature>,
    trees: Vec<Tree>,
    flat: Vec<Flat>,
    law_of_total_variance: bool,
}

impl Forest {
    /// Fits a forest on `x` (row-major, `y.len()` rows of `features.len()` values) and `y`.
    pub fn fit(
        features: &[Feature],
        x: &[f64],
        y: &[f64],
        config: &ForestConfig,
    ) -> Result<Forest> {
        config.validate()?;
        let d = features.len();
        let n = y.len();
        if d == 0 || n == 0 {
            return Err(Error::InvalidArgument(
                "a forest needs at least one feature and one point".into(),
            ));
        }
        if x.len() != n * d {
            return Err(Error::InvalidArgument(format!(
                "x has {} values, expected {n} rows of {d} features",
                x.len()
            )));
        }
        if let Some(i) = y.iter().position(|v| !v.is_finite()) {
            return Err(Error::InvalidArgument(format!("y[{i}] is not finite")));
        }
        let xi = impute(features, x)?;
        let domains: Vec<Domain> = features.iter().map(Feature::imputed_domain).collect();
        let data = tree::Data {
            x: &xi,
            y,
            d,
            domains: &domains,
        };
        let mut seeder = Rng::new(config.seed);
        let trees = (0..config.n_trees)
            .map(|_| {
                let mut rng = Rng::new(seeder.next_u64());
                let idx: Vec<usize> = if config.bootstrapping {
                    (0..n).map(|_| rng.below(n as u64) as usize).collect()
                } else {
                    (0..n).collect()
                };
                tree::build(&data, idx, config, &mut rng)
            })
            .collect();
        let trees: Vec<Tree> = trees;
        Ok(Forest {
            features: features.to_vec(),
            flat: trees.iter().map(Flat::new).collect(),
            trees,
            law_of_total_variance: config.law_of_total_variance,
        })
    }

    /// The trees.
    pub fn trees(&self) -> &[Tree] {
        &self.trees
    }

    /// The features the forest was fitted on.
    pub fn features(&self) -> &[Feature] {
        &self.features
    }

    /// Replaces `NaN` (inactive) entries by the imputed values, as the trees see them.
    pub fn impute(&self, x: &[f64]) -> Result<Vec<f64>> {
        impute(&self.features, x)
    }

    /// Each tree's prediction (its leaf's mean) for each row: `n_rows * n_trees` values,
    /// row-major.
    pub fn predict_trees(&self, x: &[f64]) -> Result<Vec<f64>> {
        let xi = self.impute(x)?;
        let d = self.features.len();
        let mut out = Vec::with_capacity(xi.len() / d * self.trees.len());
        for row in xi.chunks_exact(d) {
            out.extend(self.trees.iter().map(|t| t.leaf(row).value));
        }
        Ok(out)
    }

    /// Predictive mean and variance for each row: the mean of the trees' predictions
    /// and their (population) variance across trees, plus the mean leaf variance with
    /// [`ForestConfig::law_of_total_variance`].
    pub fn predict(&self, x: &[f64]) -> Result<(Vec<f64>, Vec<f64>)> {
        let xi = self.impute(x)?;
        let d = self.features.len();
        let t = self.flat.len() as f64;
        let rows = xi.len() / d;
        // Tree by tree (each tree stays in cache while all rows walk it). Shifted by the
        // first tree's value: exact zero variance when all trees agree, and no
        // cancellation between large means.
        let mut v0 = vec![0.0; rows];
        let (mut s, mut s2, mut lv) = (vec![0.0; rows], vec![0.0; rows], vec![0.0; rows]);
        for (k, flat) in self.flat.iter().enumerate() {
            for (r, row) in xi.chunks_exact(d).enumerate() {
                let leaf = flat.leaf(row);
                if k == 0 {
                    v0[r] = leaf.threshold;
                }
                let dv = leaf.threshold - v0[r];
                s[r] += dv;
                s2[r] += dv * dv;
                lv[r] += leaf.variance;
            }
        }
        let mut mean = Vec::with_capacity(rows);
        let mut var = Vec::with_capacity(rows);
        for r in 0..rows {
            let m = s[r] / t;
            let mut v = (s2[r] / t - m * m).max(0.0);
            if self.law_of_total_variance {
                v += lv[r] / t;
            }
            mean.push(v0[r] + m);
            var.push(v);
        }
        Ok((mean, var))
    }
}

/// A tree's nodes packed for prediction (32 bytes a node): the public [`Tree`] stays the
/// structure to walk, this copy is what `predict` walks.
#[derive(Debug, Clone, PartialEq)]
struct Flat {
    nodes: Vec<FlatNode>,
    masks: Vec<Vec<bool>>,
}

/// [`FlatNode::mask`] of a categorical split stored as a bit mask.
const BITS: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Copy, PartialEq)]
struct FlatNode {
    /// Split feature, `u32::MAX` for a leaf.
    feature: u32,
    left: u32,
    right: u32,
    /// `u32::MAX` for a threshold; `u32::MAX - 1` for a categorical split of at most 64
    /// codes whose bit mask is `threshold`'s bit pattern; otherwise an index into `masks`.
    mask: u32,
    /// The threshold of a numeric split (or a bit mask, see `mask`); a leaf's value.
    threshold: f64,
    /// A leaf's variance.
    variance: f64,
}

impl Flat {
    fn new(tree: &Tree) -> Self {
        let mut masks = Vec::new();
        let nodes = tree
            .nodes
            .iter()
            .map(|n| match &n.split {
                None => FlatNode {
                    feature: u32::MAX,
                    left: 0,
                    right: 0,
                    mask: u32::MAX,
                    threshold: n.value,
                    variance: n.variance,
                },
                Some(sp) => {
                    let (mask, threshold) = match &sp.rule {
                        SplitRule::Threshold(t) => (u32::MAX, *t),
                        SplitRule::Categories(m) if m.len() <= 64 => {
                            let bits =
                                m.iter()
                                    .enumerate()
                                    .fold(0u64, |b, (c, &l)| if l { b | (1 << c) } else { b });
                            (BITS, f64::from_bits(bits))
                        }
                        SplitRule::Categories(m) => {
                            masks.push(m.clone());
                            ((masks.len() - 1) as u32, 0.0)
                        }
                    };
                    FlatNode {
                        feature: sp.feature as u32,
                        left: sp.left as u32,
                        right: sp.right as u32,
                        mask,
                        threshold,
                        variance: 0.0,
                    }
                }
            })
            .collect();
        Flat { nodes, masks }
    }

    #[inline]
    fn leaf(&self, row: &[f64]) -> &FlatNode {
        let mut n = &self.nodes[0];
        while n.feature != u32::MAX {
            let v = row[n.feature as usize];
            let left = if n.mask == u32::MAX {
                v <= n.threshold
            } else if n.mask == BITS {
                let c = v as u64;
                c < 64 && (n.threshold.to_bits() >> c) & 1 == 1
            } else {
                self.masks[n.mask as usize]
                    .get(v as usize)
                    .copied()
                    .unwrap_or(false)
            };
            n = &self.nodes[if left { n.left } else { n.right } as usize];
        }
        n
    }
}

/// Validates rows and replaces inactive (`NaN`) entries of conditional features.
fn impute(features: &[Feature], x: &[f64]) -> Result<Vec<f64>> {
    let d = features.len();
    if d == 0 || x.len() % d != 0 {
        return Err(Error::InvalidArgument(format!(
            "x has {} values, not a whole number of rows of {d} features",
            x.len()
        )));
    }
    let mut out = x.to_vec();
    for (k, v) in out.iter_mut().enumerate() {
        let f = &features[k % d];
        if v.is_nan() {
            if !f.conditional {
                return Err(Error::InvalidArgument(format!(
                    "feature {} of row {} is NaN (inactive) but the feature is not conditional",
                    k % d,
                    k / d
                )));
            }
            *v = f.inactive_value();
        } else if let Domain::Categorical { n_choices } = f.domain {
            if *v < 0.0 || *v >= n_choices as f64 || v.fract() != 0.0 {
                return Err(Error::InvalidArgument(format!(
                    "feature {} of row {}: {v} is not a category code in 0..{n_choices}",
                    k % d,
                    k / d
                )));
            }
        } else if !v.is_finite() {
            return Err(Error::InvalidArgument(format!(
                "feature {} of row {} is not finite",
                k % d,
                k / d
            )));
        }
    }
    Ok(out)
}

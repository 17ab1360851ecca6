//! The core's random forest as a small private class, for tests that compare it with
//! scikit-learn's `RandomForestRegressor`.

use ferrotune_core::forest::{Feature, Forest, ForestConfig};
use numpy::PyReadonlyArray2;
use pyo3::prelude::*;

use crate::{detached, guard, PyRes};

/// A fitted forest (`ferrotune_core::forest::Forest`).
#[pyclass(name = "ForestCore", module = "ferrotune._core", frozen)]
pub struct ForestCore {
    inner: Forest,
}

fn rows(x: &PyReadonlyArray2<'_, f64>) -> Vec<f64> {
    x.as_array().iter().copied().collect()
}

#[pymethods]
impl ForestCore {
    /// Fits a forest. `features[j]` is `(low, high, n_choices, conditional)`: a numeric
    /// feature on `[low, high]` when `n_choices` is 0, else a categorical one; NaN marks
    /// an inactive value of a conditional feature.
    #[staticmethod]
    #[pyo3(signature = (features, x, y, n_trees, ratio_features, min_samples_split,
                        min_samples_leaf, max_depth, bootstrapping, random_thresholds,
                        law_of_total_variance, seed))]
    fn fit(
        py: Python<'_>,
        features: Vec<(f64, f64, usize, bool)>,
        x: PyReadonlyArray2<'_, f64>,
        y: Vec<f64>,
        n_trees: usize,
        ratio_features: f64,
        min_samples_split: usize,
        min_samples_leaf: usize,
        max_depth: usize,
        bootstrapping: bool,
        random_thresholds: bool,
        law_of_total_variance: bool,
        seed: u64,
    ) -> PyRes<Self> {
        guard(py, || {
            let feats: Vec<Feature> = features
                .iter()
                .map(|&(lo, hi, n, c)| {
                    if n == 0 {
                        Feature::numeric(lo, hi, c)
                    } else {
                        Feature::categorical(n, c)
                    }
                })
                .collect();
            let cfg = ForestConfig {
                n_trees,
                ratio_features,
                min_samples_split,
                min_samples_leaf,
                max_depth,
                bootstrapping,
                random_thresholds,
                law_of_total_variance,
                ..ForestConfig::smac(seed)
            };
            let xs = rows(&x);
            let inner = detached(py, move || Forest::fit(&feats, &xs, &y, &cfg))?;
            Ok(ForestCore { inner })
        })
    }

    /// Predictive mean and variance of each row of `x`.
    fn predict(&self, py: Python<'_>, x: PyReadonlyArray2<'_, f64>) -> PyRes<(Vec<f64>, Vec<f64>)> {
        guard(py, || {
            let xs = rows(&x);
            detached(py, || self.inner.predict(&xs))
        })
    }

    /// Number of nodes of each tree.
    fn node_counts(&self, py: Python<'_>) -> PyRes<Vec<usize>> {
        guard(py, || {
            Ok(self.inner.trees().iter().map(|t| t.nodes.len()).collect())
        })
    }
}

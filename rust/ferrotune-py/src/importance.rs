//! Parameter importances: the columns a study's trials give, passed to the
//! core's evaluators with the GIL released.

use ferrotune_core::forest::ForestConfig;
use ferrotune_core::importance::{
    encode, fanova, mean_decrease_impurity, ped_anova, PedAnovaConfig, RegimeColumn,
};
use ferrotune_core::Error;
use numpy::{PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::space::Dist;
use crate::{detached, guard, PyRes};

/// The rows of a 2-D array (trials x objectives).
fn rows(a: &PyReadonlyArray2<'_, f64>) -> Vec<Vec<f64>> {
    let width = a.shape()[1].max(1);
    let flat: Vec<f64> = a.as_array().iter().copied().collect();
    flat.chunks(width).map(<[f64]>::to_vec).collect()
}

/// PED-ANOVA importances of `columns` ((values, regime, distributions) per
/// parameter: internal values, `regime[t] = k + 1` for the k-th distribution,
/// 0 where the trial lacks it) from `losses` (trials x objectives, minimised).
/// Returns (importances, same_sets, sparse_regime per column).
#[pyfunction]
#[pyo3(signature = (losses, columns, target_quantile, region_quantile, evaluate_on_local, n_steps=50, prior_weight=1.0, min_n_trials_in_regime=2))]
fn ped_anova_importances(
    py: Python<'_>,
    losses: PyReadonlyArray2<'_, f64>,
    columns: Vec<(
        PyReadonlyArray1<'_, f64>,
        PyReadonlyArray1<'_, u32>,
        Vec<Dist>,
    )>,
    target_quantile: f64,
    region_quantile: f64,
    evaluate_on_local: bool,
    n_steps: usize,
    prior_weight: f64,
    min_n_trials_in_regime: usize,
) -> PyRes<(Vec<f64>, bool, Vec<bool>)> {
    guard(py, || {
        let losses = rows(&losses);
        let columns: Vec<RegimeColumn> = columns
            .iter()
            .map(|(values, regime, dists)| RegimeColumn {
                values: values.as_array().to_vec(),
                regime: regime.as_array().to_vec(),
                dists: dists.iter().map(|d| d.inner.clone()).collect(),
            })
            .collect();
        let cfg = PedAnovaConfig {
            target_quantile,
            region_quantile,
            evaluate_on_local,
            n_steps,
            prior_weight,
            min_n_trials_in_regime,
        };
        detached(py, move || {
            if losses.iter().flatten().any(|v| !v.is_finite()) {
                return Err(Error::InvalidArgument("losses must be finite".into()));
            }
            let out = ped_anova(&losses, &columns, &cfg)?;
            Ok((out.importances, out.same_sets, out.sparse_regime))
        })
    })
}

/// The columns (internal values, distribution) of the forest evaluators.
type Columns<'py> = Vec<(PyReadonlyArray1<'py, f64>, Dist)>;

/// scikit-learn's forest as Optuna's fANOVA and MDI evaluators configure it.
fn sklearn_forest(
    n_trees: usize,
    max_depth: usize,
    min_samples_split: usize,
    min_samples_leaf: usize,
    seed: u64,
) -> ForestConfig {
    ForestConfig {
        n_trees,
        max_depth,
        min_samples_split,
        min_samples_leaf,
        ..ForestConfig::sklearn(seed)
    }
}

/// Owned copies of the columns.
fn owned(columns: &Columns<'_>) -> Vec<(Vec<f64>, ferrotune_core::Distribution)> {
    columns
        .iter()
        .map(|(v, d)| (v.as_array().to_vec(), d.inner.clone()))
        .collect()
}

/// fANOVA importances of `columns` for the objective values `y` on a forest of
/// `n_trees` trees: (mean fraction of variance per column, its standard
/// deviation over the trees, the number of trees with any variance).
#[pyfunction]
#[pyo3(signature = (columns, y, n_trees=64, max_depth=64, min_samples_split=2, min_samples_leaf=1, seed=0))]
fn fanova_importances(
    py: Python<'_>,
    columns: Columns<'_>,
    y: PyReadonlyArray1<'_, f64>,
    n_trees: usize,
    max_depth: usize,
    min_samples_split: usize,
    min_samples_leaf: usize,
    seed: u64,
) -> PyRes<(Vec<f64>, Vec<f64>, usize)> {
    guard(py, || {
        let columns = owned(&columns);
        let y = y.as_array().to_vec();
        let cfg = sklearn_forest(
            n_trees,
            max_depth,
            min_samples_split,
            min_samples_leaf,
            seed,
        );
        detached(py, move || {
            let out = fanova(&encode(&columns)?, &y, &cfg)?;
            Ok((out.importances, out.stds, out.n_trees_with_variance))
        })
    })
}

/// Mean decrease in impurity of `columns` for the objective values `y` (one
/// value per column: the sum over its one-hot features).
#[pyfunction]
#[pyo3(signature = (columns, y, n_trees=64, max_depth=64, min_samples_split=2, min_samples_leaf=1, seed=0))]
fn mdi_importances(
    py: Python<'_>,
    columns: Columns<'_>,
    y: PyReadonlyArray1<'_, f64>,
    n_trees: usize,
    max_depth: usize,
    min_samples_split: usize,
    min_samples_leaf: usize,
    seed: u64,
) -> PyRes<Vec<f64>> {
    guard(py, || {
        let columns = owned(&columns);
        let y = y.as_array().to_vec();
        let cfg = sklearn_forest(
            n_trees,
            max_depth,
            min_samples_split,
            min_samples_leaf,
            seed,
        );
        detached(py, move || {
            mean_decrease_impurity(&encode(&columns)?, &y, &cfg)
        })
    })
}

/// Registers the importance functions on the module.
pub(crate) fn add_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ped_anova_importances, m)?)?;
    m.add_function(wrap_pyfunction!(fanova_importances, m)?)?;
    m.add_function(wrap_pyfunction!(mdi_importances, m)?)?;
    Ok(())
}

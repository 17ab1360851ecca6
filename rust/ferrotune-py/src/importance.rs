//! Parameter importances: the columns a study's trials give, passed to the
//! core's evaluators with the GIL released.

use ferrotune_core::importance::{ped_anova, PedAnovaConfig, RegimeColumn};
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

/// Registers the importance functions on the module.
pub(crate) fn add_functions(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ped_anova_importances, m)?)?;
    Ok(())
}

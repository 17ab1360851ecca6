//! The inputs of the forest-based evaluators: parameters encoded as Optuna's
//! fANOVA and MDI evaluators encode them (`_SearchSpaceTransform` with
//! `transform_log=False, transform_step=False`), so that the importances are
//! comparable with Optuna's: a numerical parameter is one feature on
//! `[low, high]` of its own scale (a log-scaled one is not log-transformed), a
//! categorical one is one-hot encoded, one feature on `[0, 1]` per choice.

use crate::error::{Error, Result};
use crate::forest::Feature;
use crate::space::Distribution;

/// The encoded data: row-major `x` (one row per trial), each feature's
/// domain, and the features of each parameter (several for a categorical).
#[derive(Debug, Clone, PartialEq)]
pub struct Encoded {
    pub x: Vec<f64>,
    pub bounds: Vec<(f64, f64)>,
    pub groups: Vec<Vec<usize>>,
}

impl Encoded {
    /// The forest's features: every one numeric and always active.
    pub fn features(&self) -> Vec<Feature> {
        self.bounds
            .iter()
            .map(|&(lo, hi)| Feature::numeric(lo, hi, false))
            .collect()
    }

    /// The number of features.
    pub fn width(&self) -> usize {
        self.bounds.len()
    }
}

/// Encodes `columns` (a parameter's internal values over the same trials:
/// the number, or the choice's index) with their distributions.
pub fn encode(columns: &[(Vec<f64>, Distribution)]) -> Result<Encoded> {
    let n = columns.first().map_or(0, |c| c.0.len());
    let mut bounds = Vec::new();
    let mut groups = Vec::new();
    for (j, (values, dist)) in columns.iter().enumerate() {
        if values.len() != n {
            return Err(Error::InvalidArgument(format!(
                "column {j} has {} values, the first one {n}",
                values.len()
            )));
        }
        if let Some(t) = values.iter().position(|v| !dist.contains(*v)) {
            return Err(Error::InvalidArgument(format!(
                "column {j}: value {} of trial {t} is not in its distribution",
                values[t]
            )));
        }
        let start = bounds.len();
        match *dist {
            Distribution::Categorical { n: k } => bounds.extend(std::iter::repeat_n((0.0, 1.0), k)),
            Distribution::Float { low, high, .. } => bounds.push((low, high)),
            Distribution::Int { low, high, .. } => bounds.push((low as f64, high as f64)),
        }
        groups.push((start..bounds.len()).collect());
    }
    let width = bounds.len();
    let mut x = vec![0.0; n * width];
    for ((values, dist), group) in columns.iter().zip(&groups) {
        let group: &Vec<usize> = group;
        for (t, &v) in values.iter().enumerate() {
            let row = &mut x[t * width..(t + 1) * width];
            match dist {
                Distribution::Categorical { .. } => row[group[v as usize]] = 1.0,
                _ => row[group[0]] = v,
            }
        }
    }
    Ok(Encoded { x, bounds, groups })
}

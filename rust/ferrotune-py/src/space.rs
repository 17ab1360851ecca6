//! Distributions and declared spaces as Python objects.

use ferrotune_core::constraints::{Constraint, GridLimits};
use ferrotune_core::{Condition, Distribution, Param, SearchSpace};
use numpy::{IntoPyArray, PyArray2, PyArrayMethods};
use pyo3::prelude::*;
use pyo3::types::PyTuple;

use crate::{conv, detached, guard, to_pyerr, PyRes};

/// The kind of a `Dist`.
#[pyclass(
    name = "DistKind",
    module = "ferrotune._core",
    eq,
    eq_int,
    hash,
    frozen,
    from_py_object
)]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum DistKind {
    #[pyo3(name = "FLOAT")]
    Float = 0,
    #[pyo3(name = "INT")]
    Int = 1,
    #[pyo3(name = "CATEGORICAL")]
    Categorical = 2,
}

/// A validated distribution.
#[pyclass(name = "Dist", module = "ferrotune._core", frozen, from_py_object)]
#[derive(Clone)]
pub struct Dist {
    pub inner: Distribution,
}

#[pymethods]
impl Dist {
    /// A float distribution; `name` only labels errors.
    #[staticmethod]
    #[pyo3(signature = (name, low, high, step, log))]
    fn float(
        py: Python<'_>,
        name: &str,
        low: f64,
        high: f64,
        step: Option<f64>,
        log: bool,
    ) -> PyRes<Self> {
        guard(py, || {
            Ok(Dist {
                inner: conv(py, Distribution::float(name, low, high, step, log))?,
            })
        })
    }

    /// An integer distribution.
    #[staticmethod]
    fn int(py: Python<'_>, name: &str, low: i64, high: i64, step: i64, log: bool) -> PyRes<Self> {
        guard(py, || {
            Ok(Dist {
                inner: conv(py, Distribution::int(name, low, high, step, log))?,
            })
        })
    }

    /// A categorical distribution over `n` choices.
    #[staticmethod]
    fn categorical(py: Python<'_>, name: &str, n: usize) -> PyRes<Self> {
        guard(py, || {
            Ok(Dist {
                inner: conv(py, Distribution::categorical(name, n))?,
            })
        })
    }

    /// True when `x` (internal representation) is a value of the distribution.
    fn contains(&self, py: Python<'_>, x: f64) -> PyRes<bool> {
        guard(py, || Ok(self.inner.contains(x)))
    }

    /// Maps u in [0, 1) onto an internal value.
    fn from_unit(&self, py: Python<'_>, u: f64) -> PyRes<f64> {
        guard(py, || Ok(self.inner.from_unit(u)))
    }

    /// FLOAT, INT or CATEGORICAL.
    #[getter]
    fn kind(&self, py: Python<'_>) -> PyRes<DistKind> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Float { .. } => DistKind::Float,
                Distribution::Int { .. } => DistKind::Int,
                Distribution::Categorical { .. } => DistKind::Categorical,
            })
        })
    }

    /// Lower bound (0.0 for a categorical distribution).
    #[getter]
    fn low(&self, py: Python<'_>) -> PyRes<f64> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Float { low, .. } => low,
                Distribution::Int { low, .. } => low as f64,
                Distribution::Categorical { .. } => 0.0,
            })
        })
    }

    /// Upper bound, included (n_choices - 1 for a categorical distribution).
    #[getter]
    fn high(&self, py: Python<'_>) -> PyRes<f64> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Float { high, .. } => high,
                Distribution::Int { high, .. } => high as f64,
                Distribution::Categorical { n } => n.saturating_sub(1) as f64,
            })
        })
    }

    /// Grid step (None for a continuous float or a categorical distribution).
    #[getter]
    fn step(&self, py: Python<'_>) -> PyRes<Option<f64>> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Float { step, .. } => step,
                Distribution::Int { step, .. } => Some(step as f64),
                Distribution::Categorical { .. } => None,
            })
        })
    }

    /// Whether values are sampled uniformly in log space.
    #[getter]
    fn log(&self, py: Python<'_>) -> PyRes<bool> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Float { log, .. } | Distribution::Int { log, .. } => log,
                Distribution::Categorical { .. } => false,
            })
        })
    }

    /// Number of choices (0 for a numeric distribution).
    #[getter]
    fn n_choices(&self, py: Python<'_>) -> PyRes<usize> {
        guard(py, || {
            Ok(match self.inner {
                Distribution::Categorical { n } => n,
                _ => 0,
            })
        })
    }

    /// Number of values of a discrete distribution; None for a continuous float.
    fn cardinality(&self, py: Python<'_>) -> PyRes<Option<u64>> {
        guard(py, || Ok(self.inner.cardinality()))
    }

    /// The position of internal value `x` among the distribution's values, or
    /// None when it is not one of them (or the distribution is continuous).
    fn position(&self, py: Python<'_>, x: f64) -> PyRes<Option<u64>> {
        guard(py, || Ok(self.inner.position(x)))
    }

    /// The internal value at position `k` of a discrete distribution;
    /// `InvalidArgumentError` when `k` is not below its number of values.
    fn discrete_value(&self, py: Python<'_>, k: u64) -> PyRes<f64> {
        guard(py, || {
            self.inner.checked_discrete_value(k).ok_or_else(|| {
                let n = self.inner.cardinality();
                let what = n.map_or("a continuous distribution".into(), |n| {
                    format!("{n} values")
                });
                to_pyerr(
                    py,
                    ferrotune_core::Error::InvalidArgument(format!(
                        "position {k} is out of range for {:?}: it has {what}",
                        self.inner
                    )),
                )
            })
        })
    }
}

/// A parameter as Python declares it: (name, distribution, parent index,
/// allowed parent values, numeric value of each categorical choice).
type ParamSpec = (
    String,
    Dist,
    Option<usize>,
    Vec<f64>,
    Option<Vec<Option<f64>>>,
);

/// A compiled declared space.
#[pyclass(name = "Space", module = "ferrotune._core", frozen)]
pub struct Space {
    pub inner: SearchSpace,
    pub names: Vec<String>,
}

#[pymethods]
impl Space {
    /// Compiles a space.
    ///
    /// `params`: `(name, Dist, parent_index | None, allowed_parent_values, choice_values | None)`
    /// in an order with parents first. `constraints`: `("divisible", i, j)`,
    /// `("linear", [(i, coef), ...], rhs)` or `("forbidden", [(i, internal_value), ...])`.
    #[new]
    fn new(
        py: Python<'_>,
        params: Vec<ParamSpec>,
        constraints: Vec<Bound<'_, PyTuple>>,
    ) -> PyRes<Self> {
        guard(py, || {
            let names = params.iter().map(|p| p.0.clone()).collect();
            let params: Vec<Param> = params
                .into_iter()
                .map(|(name, d, parent, values, choice_values)| Param {
                    name,
                    dist: d.inner,
                    condition: parent.map(|parent| Condition { parent, values }),
                    choice_values,
                })
                .collect();
            let mut cons = Vec::with_capacity(constraints.len());
            for c in constraints {
                let kind: String = c.get_item(0)?.extract()?;
                cons.push(match kind.as_str() {
                    "divisible" => Constraint::Divisible {
                        num: c.get_item(1)?.extract()?,
                        den: c.get_item(2)?.extract()?,
                    },
                    "linear" => Constraint::Linear {
                        terms: c.get_item(1)?.extract()?,
                        rhs: c.get_item(2)?.extract()?,
                    },
                    "forbidden" => Constraint::Forbidden {
                        assignment: c.get_item(1)?.extract()?,
                    },
                    other => {
                        return Err(to_pyerr(
                            py,
                            ferrotune_core::Error::InvalidSpace(format!(
                                "unknown constraint kind {other:?}"
                            )),
                        ))
                    }
                });
            }
            let inner = detached(py, move || SearchSpace::new(params, cons))?;
            Ok(Space { inner, names })
        })
    }

    /// Every active, feasible point of an all-discrete space (NaN = inactive),
    /// one row each. `max_points` and `max_steps` override the core's limits
    /// (`GRID_LIMIT`, `GRID_WORK_LIMIT`). The GIL is released; it is taken back
    /// every few thousand steps to check for signals, so Ctrl-C interrupts a
    /// long enumeration with `KeyboardInterrupt`.
    #[pyo3(signature = (max_points=None, max_steps=None))]
    fn enumerate_grid<'py>(
        &self,
        py: Python<'py>,
        max_points: Option<usize>,
        max_steps: Option<u64>,
    ) -> PyRes<Bound<'py, PyArray2<f64>>> {
        guard(py, || {
            let mut limits = GridLimits::default();
            if let Some(p) = max_points {
                limits.points = p;
            }
            if let Some(s) = max_steps {
                limits.steps = s;
            }
            let mut raised: Option<PyErr> = None;
            let out = detached(py, || {
                let mut keep_going = || match Python::attach(|py| py.check_signals()) {
                    Ok(()) => true,
                    Err(e) => {
                        raised = Some(e);
                        false
                    }
                };
                self.inner.enumerate_grid_with(limits, &mut keep_going)
            });
            if let Some(e) = raised {
                return Err(e);
            }
            let flat = out?;
            let n = self.inner.params().len();
            let rows = flat.len() / n.max(1);
            flat.into_pyarray(py).reshape([rows, n])
        })
    }

    /// True when `x` is active exactly where its conditions hold, inside its
    /// distributions and feasible.
    fn is_valid(&self, py: Python<'_>, x: Vec<f64>) -> PyRes<bool> {
        guard(py, || Ok(self.inner.is_valid(&x)))
    }
}

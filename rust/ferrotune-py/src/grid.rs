//! Grid arithmetic as Python objects: the seeded visiting order, the
//! numbering of a grid's points and the check that a point is a
//! configuration of a declared space. Both grid samplers use them.

use std::sync::Mutex;

use ferrotune_core::samplers::grid::{FitColumn, GridFit, GridPoints, Radix};
use ferrotune_core::samplers::GridOrder;
use ferrotune_core::{Error, SearchSpace};
use numpy::{PyReadonlyArray2, PyUntypedArrayMethods};
use pyo3::prelude::*;

use crate::space::Space;
use crate::{conv, guard, lock_py, to_pyerr, PyRes};

/// Hands out grid indices once each, in a seeded order computed by
/// arithmetic: memory grows with the points marked out of turn, never with the
/// grid's size.
#[pyclass(name = "GridOrderCore", module = "ferrotune._core", frozen)]
pub struct GridOrderCore {
    inner: Mutex<GridOrder>,
}

impl GridOrderCore {
    fn checked(py: Python<'_>, g: &GridOrder, i: u128) -> PyRes<()> {
        if i >= g.len() {
            return Err(to_pyerr(
                py,
                ferrotune_core::Error::InvalidArgument(format!(
                    "grid index {i} out of range for {} points",
                    g.len()
                )),
            ));
        }
        Ok(())
    }
}

#[pymethods]
impl GridOrderCore {
    #[new]
    fn new(py: Python<'_>, n: u128, seed: u64) -> PyRes<Self> {
        guard(py, || {
            Ok(GridOrderCore {
                inner: Mutex::new(GridOrder::new(n, seed)),
            })
        })
    }

    /// The next unvisited index, or None when exhausted.
    fn next_index(&self, py: Python<'_>) -> PyRes<Option<u128>> {
        guard(py, || Ok(lock_py(py, &self.inner).next_index()))
    }

    /// Marks an index as visited; False when it already was.
    fn mark_visited(&self, py: Python<'_>, i: u128) -> PyRes<bool> {
        guard(py, || {
            let mut g = lock_py(py, &self.inner);
            Self::checked(py, &g, i)?;
            Ok(g.mark_visited(i))
        })
    }

    /// True when an index has been handed out or marked.
    fn is_visited(&self, py: Python<'_>, i: u128) -> PyRes<bool> {
        guard(py, || {
            let g = lock_py(py, &self.inner);
            Self::checked(py, &g, i)?;
            Ok(g.is_visited(i))
        })
    }

    /// The next unvisited point of `points` that fits `fit` (any point
    /// without it), or None when exhausted; the points that do not fit are
    /// consumed.
    #[pyo3(signature = (points, fit=None))]
    fn next_fitting(
        &self,
        py: Python<'_>,
        points: &GridPointsCore,
        fit: Option<&GridFitCore>,
    ) -> PyRes<Option<u128>> {
        guard(py, || {
            let mut g = lock_py(py, &self.inner);
            let mut raised: Option<PyErr> = None;
            let out = g.next_fitting(|i| match fit {
                None => Ok(true),
                Some(f) => f.check(py, &points.inner, i).map_err(|e| {
                    raised = Some(e);
                    Error::InvalidArgument("a grid check failed".into())
                }),
            });
            match (out, raised) {
                (_, Some(e)) => Err(e),
                (r, None) => conv(py, r),
            }
        })
    }

    /// Number of points not yet handed out.
    fn remaining(&self, py: Python<'_>) -> PyRes<u128> {
        guard(py, || Ok(lock_py(py, &self.inner).remaining()))
    }

    /// Number of grid points.
    fn size(&self, py: Python<'_>) -> PyRes<u128> {
        guard(py, || Ok(lock_py(py, &self.inner).len()))
    }

    /// (n, seed, cursor, skipped positions), for pickling.
    fn get_state(&self, py: Python<'_>) -> PyRes<(u128, u64, u128, Vec<u128>)> {
        guard(py, || Ok(lock_py(py, &self.inner).state()))
    }

    /// Restores a state from `get_state`.
    fn set_state(&self, py: Python<'_>, state: (u128, u64, u128, Vec<u128>)) -> PyRes<()> {
        guard(py, || {
            let (n, seed, cursor, skipped) = state;
            let size = lock_py(py, &self.inner).len();
            if n != size {
                return Err(to_pyerr(
                    py,
                    Error::InvalidArgument(format!(
                        "a grid order state of {n} points for a grid of {size}"
                    )),
                ));
            }
            let g = GridOrder::from_state(n, seed, cursor, &skipped).ok_or_else(|| {
                to_pyerr(
                    py,
                    ferrotune_core::Error::InvalidArgument("inconsistent grid order state".into()),
                )
            })?;
            *lock_py(py, &self.inner) = g;
            Ok(())
        })
    }
}

/// The points of a grid, numbered from 0: a cartesian product of value
/// positions or the rows of a declared space's enumeration.
#[pyclass(name = "GridPointsCore", module = "ferrotune._core", frozen)]
pub struct GridPointsCore {
    inner: GridPoints,
}

#[pymethods]
impl GridPointsCore {
    /// The cartesian product of `counts[j]` values of parameter `j` (first
    /// parameter slowest); a point is the positions of its values.
    /// `InvalidArgumentError` for a count of 0 or 2^128 points or more.
    #[staticmethod]
    fn product(py: Python<'_>, counts: Vec<u64>) -> PyRes<Self> {
        guard(py, || {
            Ok(GridPointsCore {
                inner: GridPoints::Product(conv(py, Radix::new(counts))?),
            })
        })
    }

    /// The rows of `Space.enumerate_grid` (sorted as it lists them).
    #[staticmethod]
    fn rows(py: Python<'_>, rows: PyReadonlyArray2<'_, f64>) -> PyRes<Self> {
        guard(py, || {
            let width = rows.shape()[1];
            let values = rows.as_array().iter().copied().collect();
            Ok(GridPointsCore {
                inner: GridPoints::Rows { width, values },
            })
        })
    }

    /// Number of points.
    fn size(&self, py: Python<'_>) -> PyRes<u128> {
        guard(py, || Ok(self.inner.len()))
    }

    /// Point `i`: value positions (product) or internal values (rows).
    fn point(&self, py: Python<'_>, i: u128) -> PyRes<Vec<f64>> {
        guard(py, || {
            self.inner.point(i).ok_or_else(|| {
                to_pyerr(
                    py,
                    Error::InvalidArgument(format!(
                        "grid index {i} out of range for {} points",
                        self.inner.len()
                    )),
                )
            })
        })
    }

    /// The number of a point, or None when it is not one of the grid.
    fn index_of(&self, py: Python<'_>, point: Vec<f64>) -> PyRes<Option<u128>> {
        guard(py, || Ok(self.inner.index_of(&point)))
    }
}

/// One column of a `GridFitCore`: (grid column, sorted keys, the space's
/// internal value of each key, NaN where it has none).
type ColumnSpec = (usize, Vec<f64>, Vec<f64>);

/// Reads grid points as configurations of a declared space, with the space's
/// Python predicates (`accept`, a callable row -> bool, or None).
#[pyclass(name = "GridFitCore", module = "ferrotune._core", frozen)]
pub struct GridFitCore {
    space: SearchSpace,
    fit: GridFit,
    accept: Option<Py<PyAny>>,
}

impl GridFitCore {
    /// Whether point `i` of `points` fits; an exception of `accept` is
    /// returned as is.
    fn check(&self, py: Python<'_>, points: &GridPoints, i: u128) -> PyRes<bool> {
        let Some(point) = points.point(i) else {
            return Ok(false);
        };
        let mut raised: Option<PyErr> = None;
        let mut accept = |row: &[f64]| -> ferrotune_core::Result<bool> {
            let Some(f) = &self.accept else {
                return Ok(true);
            };
            f.call1(py, (row.to_vec(),))
                .and_then(|r| r.extract::<bool>(py))
                .map_err(|e| {
                    raised = Some(e);
                    Error::InvalidArgument("a predicate raised".into())
                })
        };
        let out = self.fit.fits(&self.space, &point, &mut accept);
        match (out, raised) {
            (_, Some(e)) => Err(e),
            (r, None) => conv(py, r),
        }
    }
}

/// A column of a `GridFitCore` for parameter `name`: one internal value per
/// key, keys strictly increasing (they are searched by bisection).
fn check_column(
    name: &str,
    column: usize,
    keys: Vec<f64>,
    values: Vec<f64>,
) -> ferrotune_core::Result<FitColumn> {
    if keys.len() != values.len() {
        return Err(Error::InvalidArgument(format!(
            "grid column {column} of parameter {name:?}: {} keys but {} values",
            keys.len(),
            values.len()
        )));
    }
    if !keys.windows(2).all(|w| w[0] < w[1]) || keys.iter().any(|k| k.is_nan()) {
        return Err(Error::InvalidArgument(format!(
            "grid column {column} of parameter {name:?}: the keys must be strictly increasing"
        )));
    }
    Ok(FitColumn {
        column,
        keys,
        values,
    })
}

#[pymethods]
impl GridFitCore {
    /// `columns[i]`: where the grid holds parameter `i` of `space`, or None.
    /// `dedup`: of points differing only in columns the space makes inactive,
    /// only the one holding key 0 there fits.
    #[new]
    #[pyo3(signature = (space, columns, dedup, accept=None))]
    fn new(
        py: Python<'_>,
        space: &Space,
        columns: Vec<Option<ColumnSpec>>,
        dedup: bool,
        accept: Option<Py<PyAny>>,
    ) -> PyRes<Self> {
        guard(py, || {
            if columns.len() != space.inner.params().len() {
                return Err(to_pyerr(
                    py,
                    Error::InvalidArgument("one column entry per parameter of the space".into()),
                ));
            }
            let columns = columns
                .into_iter()
                .zip(&space.names)
                .map(|(c, name)| {
                    c.map(|(column, keys, values)| check_column(name, column, keys, values))
                        .transpose()
                })
                .collect::<ferrotune_core::Result<Vec<_>>>();
            let columns = conv(py, columns)?;
            Ok(GridFitCore {
                space: space.inner.clone(),
                fit: GridFit { columns, dedup },
                accept,
            })
        })
    }

    /// Whether point `i` of `points` is a configuration of the space that
    /// no other point duplicates.
    fn fits(&self, py: Python<'_>, points: &GridPointsCore, i: u128) -> PyRes<bool> {
        guard(py, || self.check(py, &points.inner, i))
    }
}

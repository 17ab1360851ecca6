//! Rust samplers as Python objects. Each holds its core sampler behind an
//! `Arc<Mutex<..>>` that a `StudyCore` shares, so a suggest is one call.

use std::sync::{Arc, Mutex};

use ferrotune_core::rng::Rng;
use ferrotune_core::samplers::gp::{FitState, GpAcquisition, GpConfig, GpSampler};
use ferrotune_core::samplers::tpe::parzen::ParzenSettings;
use ferrotune_core::samplers::{
    GridOrder, QmcKind, QmcSampler, RandomSampler, Sampler, TpeConfig, TpeSampler,
};
use pyo3::prelude::*;

use crate::{call_user, guard, lock, lock_py, to_pyerr, PyRes};

/// Shared handle a study keeps to a Rust sampler.
pub type SamplerHandle = Arc<Mutex<dyn Sampler>>;

/// Uniform random sampler.
#[pyclass(name = "RandomSamplerCore", module = "ferrotune._core", frozen)]
pub struct RandomSamplerCore {
    pub inner: Arc<Mutex<RandomSampler>>,
}

#[pymethods]
impl RandomSamplerCore {
    #[new]
    fn new(py: Python<'_>, seed: u64) -> PyRes<Self> {
        guard(py, || {
            Ok(RandomSamplerCore {
                inner: Arc::new(Mutex::new(RandomSampler::new(seed))),
            })
        })
    }

    /// The generator state, for pickling.
    fn get_state(&self, py: Python<'_>) -> PyRes<[u64; 4]> {
        guard(py, || Ok(lock_py(py, &self.inner).rng.state()))
    }

    /// Restores a state from `get_state`.
    fn set_state(&self, py: Python<'_>, state: [u64; 4]) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::from_state(state);
            Ok(())
        })
    }

    /// One uniform draw in [0, 1).
    fn uniform(&self, py: Python<'_>) -> PyRes<f64> {
        guard(py, || Ok(lock_py(py, &self.inner).rng.uniform()))
    }

    /// Re-seeds the generator.
    fn reseed(&self, py: Python<'_>, seed: u64) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::new(seed);
            Ok(())
        })
    }
}

/// Quasi-Monte Carlo sampler (Sobol or Halton).
#[pyclass(name = "QmcSamplerCore", module = "ferrotune._core", frozen)]
pub struct QmcSamplerCore {
    pub inner: Arc<Mutex<QmcSampler>>,
}

#[pymethods]
impl QmcSamplerCore {
    #[new]
    fn new(py: Python<'_>, kind: &str, scramble: bool, seed: u64) -> PyRes<Self> {
        guard(py, || {
            let kind = match kind {
                "sobol" => QmcKind::Sobol,
                "halton" => QmcKind::Halton,
                other => {
                    return Err(to_pyerr(
                        py,
                        ferrotune_core::Error::InvalidArgument(format!(
                            "qmc_type must be \"sobol\" or \"halton\", got {other:?}"
                        )),
                    ))
                }
            };
            Ok(QmcSamplerCore {
                inner: Arc::new(Mutex::new(QmcSampler::new(kind, scramble, seed))),
            })
        })
    }

    /// (index of the next point, independent-draw generator state), for pickling.
    fn get_state(&self, py: Python<'_>) -> PyRes<(u64, [u64; 4])> {
        guard(py, || {
            let s = lock_py(py, &self.inner);
            Ok((s.index, s.rng.state()))
        })
    }

    /// Restores a state from `get_state`.
    fn set_state(&self, py: Python<'_>, state: (u64, [u64; 4])) -> PyRes<()> {
        guard(py, || {
            let mut s = lock_py(py, &self.inner);
            s.index = state.0;
            s.rng = Rng::from_state(state.1);
            Ok(())
        })
    }

    /// The next `dim`-dimensional point of the sequence.
    fn next_point(&self, py: Python<'_>, dim: usize) -> PyRes<Vec<f64>> {
        guard(py, || {
            crate::detached(py, || lock(&self.inner).next_point(dim))
        })
    }

    /// Point `index` of the `dim`-dimensional sequence (the position does not move).
    fn point(&self, py: Python<'_>, index: u64, dim: usize) -> PyRes<Vec<f64>> {
        guard(py, || {
            crate::detached(py, || lock(&self.inner).point_at(index, dim))
        })
    }

    /// Index of the next point that declared-space sampling takes.
    #[getter]
    fn get_index(&self, py: Python<'_>) -> PyRes<u64> {
        guard(py, || Ok(lock_py(py, &self.inner).index))
    }

    #[setter]
    fn set_index(&self, py: Python<'_>, index: u64) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).index = index;
            Ok(())
        })
    }
}

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

/// Tree-structured Parzen Estimator.
#[pyclass(name = "TpeSamplerCore", module = "ferrotune._core", frozen)]
pub struct TpeSamplerCore {
    pub inner: Arc<Mutex<TpeSampler>>,
}

#[pymethods]
impl TpeSamplerCore {
    #[new]
    #[pyo3(signature = (n_startup_trials, n_ei_candidates, multivariate, group, constant_liar,
                        prior_weight, consider_magic_clip, consider_endpoints, seed,
                        gamma=None, weights=None))]
    fn new(
        py: Python<'_>,
        n_startup_trials: usize,
        n_ei_candidates: usize,
        multivariate: bool,
        group: bool,
        constant_liar: bool,
        prior_weight: f64,
        consider_magic_clip: bool,
        consider_endpoints: bool,
        seed: u64,
        gamma: Option<Py<PyAny>>,
        weights: Option<Py<PyAny>>,
    ) -> PyRes<Self> {
        guard(py, || {
            let cfg = TpeConfig {
                n_startup_trials,
                n_ei_candidates,
                multivariate,
                group,
                constant_liar,
                parzen: ParzenSettings {
                    prior_weight,
                    consider_magic_clip,
                    consider_endpoints,
                },
            };
            let mut s = crate::conv(py, TpeSampler::new(cfg, seed))?;
            // User callables run under the GIL, re-acquired from the detached
            // core; what they raise becomes the `__cause__` of the error.
            s.set_gamma(gamma.map(|f| -> ferrotune_core::samplers::tpe::GammaFn {
                Box::new(move |n| call_user(|py| f.call1(py, (n,))?.extract::<usize>(py)))
            }));
            s.set_weights(
                weights.map(|f| -> ferrotune_core::samplers::tpe::WeightsFn {
                    Box::new(move |n| call_user(|py| f.call1(py, (n,))?.extract::<Vec<f64>>(py)))
                }),
            );
            Ok(TpeSamplerCore {
                inner: Arc::new(Mutex::new(s)),
            })
        })
    }

    /// The generator state, for pickling.
    fn get_state(&self, py: Python<'_>) -> PyRes<[u64; 4]> {
        guard(py, || Ok(lock_py(py, &self.inner).rng.state()))
    }

    /// Restores a state from `get_state`.
    fn set_state(&self, py: Python<'_>, state: [u64; 4]) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::from_state(state);
            Ok(())
        })
    }

    /// Re-seeds the generator.
    fn reseed(&self, py: Python<'_>, seed: u64) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::new(seed);
            Ok(())
        })
    }
}

/// Gaussian-process Bayesian optimisation.
#[pyclass(name = "GpSamplerCore", module = "ferrotune._core", frozen)]
pub struct GpSamplerCore {
    pub inner: Arc<Mutex<GpSampler>>,
}

#[pymethods]
impl GpSamplerCore {
    #[new]
    #[pyo3(signature = (acquisition, beta, n_startup_trials, deterministic_objective, seed))]
    fn new(
        py: Python<'_>,
        acquisition: &str,
        beta: Option<f64>,
        n_startup_trials: usize,
        deterministic_objective: bool,
        seed: u64,
    ) -> PyRes<Self> {
        guard(py, || {
            let acquisition = match acquisition {
                "logei" => GpAcquisition::LogEi,
                "ei" => GpAcquisition::Ei,
                "pi" => GpAcquisition::Pi,
                "ucb" => GpAcquisition::Ucb { beta },
                other => {
                    return crate::conv(
                        py,
                        Err(ferrotune_core::Error::InvalidArgument(format!(
                            "acquisition must be 'logei', 'ei', 'pi' or 'ucb', got {other:?}"
                        ))),
                    )
                }
            };
            let cfg = GpConfig {
                acquisition,
                n_startup_trials,
                deterministic_objective,
            };
            let s = crate::conv(py, GpSampler::new(cfg, seed))?;
            Ok(GpSamplerCore {
                inner: Arc::new(Mutex::new(s)),
            })
        })
    }

    /// The generator state, for pickling (the fitted hyperparameters are
    /// `get_fits`; the model itself is refitted on the next ask).
    fn get_state(&self, py: Python<'_>) -> PyRes<[u64; 4]> {
        guard(py, || Ok(lock_py(py, &self.inner).rng.state()))
    }

    /// Restores a state from `get_state`.
    fn set_state(&self, py: Python<'_>, state: [u64; 4]) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::from_state(state);
            Ok(())
        })
    }

    /// The fitted hyperparameters of each kept model (objective, then each
    /// constraint): (θ, n at the last refit, n at the last multi-start fit),
    /// or None.
    #[allow(clippy::type_complexity)]
    fn get_fits(&self, py: Python<'_>) -> PyRes<Vec<Option<(Vec<f64>, usize, usize)>>> {
        guard(py, || {
            Ok(lock_py(py, &self.inner)
                .fits()
                .into_iter()
                .map(|f| f.map(|f| (f.theta, f.n_fit, f.n_multi)))
                .collect())
        })
    }

    /// Restores fits from `get_fits`: the next ask refits once, warm-started
    /// from them.
    fn set_fits(&self, py: Python<'_>, fits: Vec<Option<(Vec<f64>, usize, usize)>>) -> PyRes<()> {
        guard(py, || {
            let fits = fits
                .into_iter()
                .map(|f| {
                    f.map(|(theta, n_fit, n_multi)| FitState {
                        theta,
                        n_fit,
                        n_multi,
                    })
                })
                .collect();
            lock_py(py, &self.inner).restore_fits(fits);
            Ok(())
        })
    }

    /// Re-seeds the generator.
    fn reseed(&self, py: Python<'_>, seed: u64) -> PyRes<()> {
        guard(py, || {
            lock_py(py, &self.inner).rng = Rng::new(seed);
            Ok(())
        })
    }
}

/// The core sampler behind a Python sampler object, if it has one.
pub fn handle_of(obj: &Bound<'_, PyAny>) -> Option<SamplerHandle> {
    if let Ok(r) = obj.cast::<RandomSamplerCore>() {
        let h: SamplerHandle = r.get().inner.clone();
        return Some(h);
    }
    if let Ok(q) = obj.cast::<QmcSamplerCore>() {
        let h: SamplerHandle = q.get().inner.clone();
        return Some(h);
    }
    if let Ok(t) = obj.cast::<TpeSamplerCore>() {
        let h: SamplerHandle = t.get().inner.clone();
        return Some(h);
    }
    if let Ok(g) = obj.cast::<GpSamplerCore>() {
        let h: SamplerHandle = g.get().inner.clone();
        return Some(h);
    }
    None
}

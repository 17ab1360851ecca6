//! Rust pruners as Python objects. Each holds a core pruner with its
//! arguments; `StudyCore.set_pruner` takes a fresh copy of it (its kept
//! statistics are the study's own), so `should_prune` is one call.

use std::sync::Mutex;

use ferrotune_core::pruners::percentile::PercentileConfig;
use ferrotune_core::pruners::{
    HalvingConfig, HyperbandConfig, HyperbandPruner, PatientPruner, PercentilePruner, Pruner,
    SuccessiveHalvingPruner, ThresholdPruner, WilcoxonPruner,
};
use pyo3::prelude::*;

use crate::{conv, guard, lock_py, to_pyerr, PyRes};

/// Declares the Python class of a core pruner: `$class` holds a
/// `$core: Pruner` (its arguments; it never prunes itself) and shares the
/// method every pruner class has, `fresh` (used by `StudyCore.set_pruner`
/// through [`pruner_of`]). The constructor, given in the braces, checks the
/// arguments in the core and wraps the pruner with `Self::wrap`; every method
/// runs in `guard`. Register the class in [`pruner_classes!`] too.
macro_rules! pruner_class {
    (
        $(#[$doc:meta])*
        $class:ident($core:ty) { $($methods:tt)* }
    ) => {
        $(#[$doc])*
        #[pyclass(module = "ferrotune._core", frozen)]
        pub struct $class {
            inner: Mutex<$core>,
        }

        impl $class {
            fn wrap(pruner: $core) -> Self {
                $class {
                    inner: Mutex::new(pruner),
                }
            }

            /// A new core pruner with these arguments and no kept statistics.
            pub fn fresh(&self, py: Python<'_>) -> Box<dyn Pruner> {
                lock_py(py, &self.inner).boxed_clone()
            }
        }

        #[pymethods]
        impl $class {
            $($methods)*
        }
    };
}

/// The registration of every pruner class: `pruner_of` (a fresh core pruner
/// from a Python object) and `add_classes` (adds them to the module).
macro_rules! pruner_classes {
    ($($class:ident),* $(,)?) => {
        /// A fresh core pruner from a Python pruner core object, if it is one.
        pub fn pruner_of(py: Python<'_>, obj: &Bound<'_, PyAny>) -> Option<Box<dyn Pruner>> {
            $(
                if let Ok(c) = obj.cast::<$class>() {
                    return Some(c.get().fresh(py));
                }
            )*
            None
        }

        /// Adds every pruner class to the module.
        pub fn add_classes(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $(m.add_class::<$class>()?;)*
            Ok(())
        }
    };
}

pruner_classes![
    PercentilePrunerCore,
    ThresholdPrunerCore,
    PatientPrunerCore,
    SuccessiveHalvingPrunerCore,
    HyperbandPrunerCore,
    WilcoxonPrunerCore
];

pruner_class! {
    /// Optuna's percentile rule (the median rule at 50).
    PercentilePrunerCore(PercentilePruner) {
        #[new]
        fn new(
            py: Python<'_>,
            percentile: f64,
            n_startup_trials: i64,
            n_warmup_steps: i64,
            interval_steps: i64,
            n_min_trials: i64,
        ) -> PyRes<Self> {
            guard(py, || {
                let config = PercentileConfig {
                    percentile,
                    n_startup_trials,
                    n_warmup_steps,
                    interval_steps,
                    n_min_trials,
                };
                Ok(Self::wrap(conv(py, PercentilePruner::new(config))?))
            })
        }
    }
}

pruner_class! {
    /// Optuna's threshold rule; an unbounded side is infinite.
    ThresholdPrunerCore(ThresholdPruner) {
        #[new]
        fn new(
            py: Python<'_>,
            lower: f64,
            upper: f64,
            n_warmup_steps: i64,
            interval_steps: i64,
        ) -> PyRes<Self> {
            guard(py, || {
                let p = ThresholdPruner::new(lower, upper, n_warmup_steps, interval_steps);
                Ok(Self::wrap(conv(py, p)?))
            })
        }
    }
}

pruner_class! {
    /// Optuna's patience rule around a wrapped Rust pruner core (or none).
    PatientPrunerCore(PatientPruner) {
        #[new]
        #[pyo3(signature = (wrapped, patience, min_delta))]
        fn new(
            py: Python<'_>,
            wrapped: Option<&Bound<'_, PyAny>>,
            patience: i64,
            min_delta: f64,
        ) -> PyRes<Self> {
            guard(py, || {
                let inner = match wrapped {
                    None => None,
                    Some(w) => Some(pruner_of(py, w).ok_or_else(|| {
                        to_pyerr(
                            py,
                            ferrotune_core::Error::InvalidArgument(
                                "wrapped_pruner must be a Rust pruner core or None".into(),
                            ),
                        )
                    })?),
                };
                Ok(Self::wrap(conv(py, PatientPruner::new(inner, patience, min_delta))?))
            })
        }
    }
}

pruner_class! {
    /// Asynchronous successive halving; `min_resource` None is "auto".
    SuccessiveHalvingPrunerCore(SuccessiveHalvingPruner) {
        #[new]
        #[pyo3(signature = (min_resource, reduction_factor, min_early_stopping_rate, bootstrap_count))]
        fn new(
            py: Python<'_>,
            min_resource: Option<i64>,
            reduction_factor: i64,
            min_early_stopping_rate: i64,
            bootstrap_count: i64,
        ) -> PyRes<Self> {
            guard(py, || {
                let config = HalvingConfig {
                    min_resource,
                    reduction_factor,
                    min_early_stopping_rate,
                    bootstrap_count,
                };
                Ok(Self::wrap(conv(py, SuccessiveHalvingPruner::new(config))?))
            })
        }
    }
}

pruner_class! {
    /// Hyperband over asynchronous successive halving; `max_resource` None is "auto".
    HyperbandPrunerCore(HyperbandPruner) {
        #[new]
        #[pyo3(signature = (min_resource, max_resource, reduction_factor, bootstrap_count))]
        fn new(
            py: Python<'_>,
            min_resource: i64,
            max_resource: Option<i64>,
            reduction_factor: i64,
            bootstrap_count: i64,
        ) -> PyRes<Self> {
            guard(py, || {
                let config = HyperbandConfig {
                    min_resource,
                    max_resource,
                    reduction_factor,
                    bootstrap_count,
                };
                Ok(Self::wrap(conv(py, HyperbandPruner::new(config))?))
            })
        }
    }
}

pruner_class! {
    /// Optuna's Wilcoxon signed-rank rule against the best trial.
    WilcoxonPrunerCore(WilcoxonPruner) {
        #[new]
        fn new(py: Python<'_>, p_threshold: f64, n_startup_steps: i64) -> PyRes<Self> {
            guard(py, || {
                let p = WilcoxonPruner::new(p_threshold, n_startup_steps);
                Ok(Self::wrap(conv(py, p)?))
            })
        }
    }
}

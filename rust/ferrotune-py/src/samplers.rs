//! Rust samplers as Python objects. Each holds its core sampler behind an
//! `Arc<Mutex<..>>` that a `StudyCore` shares, so a suggest is one call.

use std::sync::{Arc, Mutex};

use ferrotune_core::samplers::cmaes::{CmaEsConfig, CmaEsSampler, RestartStrategy};
use ferrotune_core::samplers::dehb::{DehbConfig, DehbSampler};
use ferrotune_core::samplers::ga::{GaConfig, GaMode, GaSampler};
use ferrotune_core::samplers::gp::{
    GpAcquisition, GpConfig, GpInputWarping, GpOutputTransform, GpSampler,
};
use ferrotune_core::samplers::hypergradient::{
    GradientEntry, HypergradientConfig, HypergradientSampler, Optimizer, Start,
};
use ferrotune_core::samplers::nsga::{Crossover, NsgaConfig, NsgaSampler, Selection};
use ferrotune_core::samplers::reinforce::{ReinforceConfig, ReinforceSampler};
use ferrotune_core::samplers::rf::{RfConfig, RfSampler};
use ferrotune_core::samplers::tpe::parzen::ParzenSettings;
use ferrotune_core::samplers::{
    Adaptation, BohbConfig, BohbSampler, DeConfig, DeSampler, DeStrategy, PsoConfig, PsoSampler,
    QmcKind, QmcSampler, RandomSampler, Sampler, Topology, TpeConfig, TpeSampler, TrustConfig,
    TrustSampler,
};
use pyo3::prelude::*;

use crate::{call_user, guard, lock, lock_py, to_pyerr, PyRes};

/// Shared handle a study keeps to a Rust sampler.
pub type SamplerHandle = Arc<Mutex<dyn Sampler>>;

/// Declares the Python class of a core sampler: `$class` holds a
/// `$core: Sampler` behind the `Arc<Mutex<..>>` a `StudyCore` shares, and has
/// the methods every sampler class shares, written once here against the
/// [`Sampler`] trait: `get_state` / `set_state` (the state as a list of
/// 64-bit words, for pickling) and `reseed`. The class's own methods (its
/// constructor, which builds the core sampler and wraps it with
/// `Self::wrap`, and any extra) are given in the braces; each runs in
/// `guard`, as every entry point of the binding. Register the class in
/// [`sampler_classes!`] too.
macro_rules! sampler_class {
    (
        $(#[$doc:meta])*
        $class:ident($core:ty) { $($methods:tt)* }
    ) => {
        $(#[$doc])*
        #[pyclass(module = "ferrotune._core", frozen)]
        pub struct $class {
            pub inner: Arc<Mutex<$core>>,
        }

        impl $class {
            #[allow(dead_code)]
            fn wrap(sampler: $core) -> Self {
                $class {
                    inner: Arc::new(Mutex::new(sampler)),
                }
            }

            /// The shared handle a study samples through.
            pub fn handle(&self) -> SamplerHandle {
                self.inner.clone()
            }
        }

        #[pymethods]
        impl $class {
            $($methods)*

            /// The sampler's state (`Sampler::state`), for pickling.
            fn get_state(&self, py: Python<'_>) -> PyRes<Vec<u64>> {
                guard(py, || Ok(lock_py(py, &self.inner).state()))
            }

            /// Restores a state from `get_state`.
            fn set_state(&self, py: Python<'_>, state: Vec<u64>) -> PyRes<()> {
                guard(py, || crate::conv(py, lock_py(py, &self.inner).set_state(&state)))
            }

            /// Restarts the sampler's random stream from `seed`.
            fn reseed(&self, py: Python<'_>, seed: u64) -> PyRes<()> {
                guard(py, || {
                    lock_py(py, &self.inner).reseed(seed);
                    Ok(())
                })
            }
        }
    };
}

/// The registration of every sampler class: `handle_of` (the core sampler
/// behind a Python object) and `add_classes` (adds them to the module).
macro_rules! sampler_classes {
    ($($class:ident),* $(,)?) => {
        /// The core sampler behind a Python sampler object, if it has one.
        pub fn handle_of(obj: &Bound<'_, PyAny>) -> Option<SamplerHandle> {
            $(
                if let Ok(c) = obj.cast::<$class>() {
                    return Some(c.get().handle());
                }
            )*
            None
        }

        /// Adds every sampler class to the module.
        pub fn add_classes(m: &Bound<'_, PyModule>) -> PyResult<()> {
            $(m.add_class::<$class>()?;)*
            Ok(())
        }
    };
}

sampler_classes![
    RandomSamplerCore,
    QmcSamplerCore,
    TpeSamplerCore,
    GpSamplerCore,
    BohbSamplerCore,
    CmaEsSamplerCore,
    NsgaSamplerCore,
    DeSamplerCore,
    PsoSamplerCore,
    GaSamplerCore,
    DehbSamplerCore,
    ReinforceSamplerCore,
    RfSamplerCore,
    HypergradientSamplerCore,
    TrustSamplerCore,
];

sampler_class! {
    /// BOHB's model-based sampling (one product-kernel density pair per budget).
    BohbSamplerCore(BohbSampler) {
        #[new]
        #[pyo3(signature = (min_points_in_model, top_n_percent, num_samples, random_fraction,
                            bandwidth_factor, min_bandwidth, seed, magic_clip=false, prior_weight=0.0,
                            pruned_in_bad=false))]
        fn new(
            py: Python<'_>,
            min_points_in_model: Option<usize>,
            top_n_percent: f64,
            num_samples: usize,
            random_fraction: f64,
            bandwidth_factor: f64,
            min_bandwidth: f64,
            seed: u64,
            magic_clip: bool,
            prior_weight: f64,
            pruned_in_bad: bool,
        ) -> PyRes<Self> {
            guard(py, || {
                let cfg = BohbConfig {
                    min_points_in_model,
                    top_n_percent,
                    num_samples,
                    random_fraction,
                    bandwidth_factor,
                    min_bandwidth,
                    magic_clip,
                    prior_weight,
                    pruned_in_bad,
                };
                Ok(Self::wrap(crate::conv(py, BohbSampler::new(cfg, seed))?))
            })
        }

        /// (proposals made from a model, proposals drawn uniformly while a
        /// model existed) so far.
        fn proposal_counts(&self, py: Python<'_>) -> PyRes<(u64, u64)> {
            guard(py, || {
                let s = lock_py(py, &self.inner);
                Ok((s.n_model_based, s.n_random_while_modelled))
            })
        }
    }
}

sampler_class! {
    /// Uniform random sampler.
    RandomSamplerCore(RandomSampler) {
        #[new]
        fn new(py: Python<'_>, seed: u64) -> PyRes<Self> {
            guard(py, || Ok(Self::wrap(RandomSampler::new(seed))))
        }

        /// One uniform draw in [0, 1).
        fn uniform(&self, py: Python<'_>) -> PyRes<f64> {
            guard(py, || Ok(lock_py(py, &self.inner).rng.uniform()))
        }
    }
}

sampler_class! {
    /// Quasi-Monte Carlo sampler (Sobol or Halton).
    QmcSamplerCore(QmcSampler) {
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
                Ok(Self::wrap(QmcSampler::new(kind, scramble, seed)))
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
}

sampler_class! {
    /// Tree-structured Parzen Estimator.
    TpeSamplerCore(TpeSampler) {
        #[new]
        #[pyo3(signature = (n_startup_trials, n_ei_candidates, multivariate, group, constant_liar,
                            prior_weight, consider_magic_clip, consider_endpoints, seed,
                            gamma=None, weights=None, budget_aware=false))]
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
            budget_aware: bool,
        ) -> PyRes<Self> {
            guard(py, || {
                let cfg = TpeConfig {
                    n_startup_trials,
                    n_ei_candidates,
                    multivariate,
                    group,
                    constant_liar,
                    budget_aware,
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
                        Box::new(move |n| {
                            call_user(|py| f.call1(py, (n,))?.extract::<Vec<f64>>(py))
                        })
                    }),
                );
                Ok(Self::wrap(s))
            })
        }
    }
}

sampler_class! {
    /// Gaussian-process Bayesian optimisation (the fitted hyperparameters are
    /// part of the state: the model is refitted from them on the next ask).
    GpSamplerCore(GpSampler) {
        #[new]
        #[pyo3(signature = (acquisition, beta, n_startup_trials, deterministic_objective, seed, output_transform=None, input_warping="off", trust_region=false, thompson=false))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            acquisition: &str,
            beta: Option<f64>,
            n_startup_trials: usize,
            deterministic_objective: bool,
            seed: u64,
            output_transform: Option<&str>,
            input_warping: &str,
            trust_region: bool,
            thompson: bool,
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
                let output_transform = match output_transform {
                    None => GpOutputTransform::None,
                    Some("power") => GpOutputTransform::Power,
                    Some("auto") => GpOutputTransform::Auto,
                    Some(other) => {
                        return crate::conv(
                            py,
                            Err(ferrotune_core::Error::InvalidArgument(format!(
                                "output_transform must be None, 'power' or 'auto', got {other:?}"
                            ))),
                        )
                    }
                };
                let input_warping = match input_warping {
                    "off" => GpInputWarping::Off,
                    "on" => GpInputWarping::On,
                    "auto" => GpInputWarping::Auto,
                    other => {
                        return crate::conv(
                            py,
                            Err(ferrotune_core::Error::InvalidArgument(format!(
                                "input_warping must be True, False or 'auto', got {other:?}"
                            ))),
                        )
                    }
                };
                let cfg = GpConfig {
                    acquisition,
                    n_startup_trials,
                    deterministic_objective,
                    output_transform,
                    input_warping,
                    trust_region,
                    thompson,
                };
                let s = crate::conv(py, GpSampler::new(cfg, seed))?;
                Ok(Self::wrap(s))
            })
        }

        /// The trust region as replayed at the last ask that used it:
        /// (side length, successes, failures, restarts, observations in the
        /// current run), or None.
        #[allow(clippy::type_complexity)]
        fn get_trust_region(&self, py: Python<'_>) -> PyRes<Option<(f64, usize, usize, usize, usize)>> {
            guard(py, || {
                Ok(lock_py(py, &self.inner)
                    .trust_region()
                    .map(|t| (t.length, t.successes, t.failures, t.restarts, t.run_len)))
            })
        }

        /// The fitted hyperparameters of each kept model (objective, then each
        /// constraint): (θ, n at the last refit, n at the last multi-start fit),
        /// or None; they are part of `get_state`.
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
    }
}

/// The search distribution of a CMA-ES sampler after its last ask: (mean,
/// sigma, covariance rows, p_sigma, p_c, generation, popsize, restarts as
/// (generation, criterion, popsize, small)).
type CmaModel = (
    Vec<f64>,
    f64,
    Vec<Vec<f64>>,
    Vec<f64>,
    Vec<f64>,
    u64,
    usize,
    Vec<(u64, String, usize, bool)>,
);

sampler_class! {
    /// CMA-ES (with restarts, sep-CMA, margin, lr_adapt and CatCMA).
    CmaEsSamplerCore(CmaEsSampler) {
        #[new]
        #[pyo3(signature = (x0, sigma0, n_startup_trials, popsize, consider_pruned_trials,
                            restart_strategy, inc_popsize, use_separable_cma, with_margin,
                            lr_adapt, model_categorical, seed))]
        fn new(
            py: Python<'_>,
            x0: Vec<(String, f64)>,
            sigma0: Option<f64>,
            n_startup_trials: usize,
            popsize: Option<usize>,
            consider_pruned_trials: bool,
            restart_strategy: Option<&str>,
            inc_popsize: usize,
            use_separable_cma: bool,
            with_margin: bool,
            lr_adapt: bool,
            model_categorical: bool,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let restart_strategy = match restart_strategy {
                    None => RestartStrategy::None,
                    Some("ipop") => RestartStrategy::Ipop,
                    Some("bipop") => RestartStrategy::Bipop,
                    Some(other) => {
                        return Err(to_pyerr(
                            py,
                            ferrotune_core::Error::InvalidArgument(format!(
                                "restart_strategy must be None, \"ipop\" or \"bipop\", got {other:?}"
                            )),
                        ))
                    }
                };
                let cfg = CmaEsConfig {
                    x0,
                    sigma0,
                    n_startup_trials,
                    popsize,
                    consider_pruned_trials,
                    restart_strategy,
                    inc_popsize,
                    use_separable_cma,
                    with_margin,
                    lr_adapt,
                    model_categorical,
                };
                Ok(Self::wrap(crate::conv(py, CmaEsSampler::new(cfg, seed))?))
            })
        }

        /// The search distribution after the last ask, or None before the
        /// first model-based ask.
        fn model(&self, py: Python<'_>) -> PyRes<Option<CmaModel>> {
            guard(py, || {
                let s = lock_py(py, &self.inner);
                Ok(s.search().map(|m| {
                    let g = &m.gauss;
                    let n = g.n;
                    let cov = (0..n)
                        .map(|i| {
                            (0..n)
                                .map(|j| match (g.separable, i == j) {
                                    (true, true) => g.cov[i],
                                    (true, false) => 0.0,
                                    (false, _) => g.cov[i * n + j],
                                })
                                .collect()
                        })
                        .collect();
                    let restarts = m
                        .restarts
                        .iter()
                        .map(|e| (e.generation, format!("{:?}", e.stop), e.popsize, e.small))
                        .collect();
                    (
                        g.mean.clone(),
                        g.sigma,
                        cov,
                        g.p_sigma.clone(),
                        g.p_c.clone(),
                        m.generation,
                        m.popsize(),
                        restarts,
                    )
                }))
            })
        }
    }
}

sampler_class! {
    /// NSGA-II (`reference_points` None and `nsga3` false) or NSGA-III.
    NsgaSamplerCore(NsgaSampler) {
        #[new]
        #[pyo3(signature = (population_size, mutation_prob, crossover_prob, swapping_prob, seed,
                            crossover="uniform", alpha=0.5, eta=None, uniform_crossover_prob=0.5,
                            use_child_gene_prob=0.5, sigma_xi=0.5, sigma_eta=None,
                            epsilon=None, nsga3=false, reference_points=None,
                            dividing_parameter=3))]
        fn new(
            py: Python<'_>,
            population_size: usize,
            mutation_prob: Option<f64>,
            crossover_prob: f64,
            swapping_prob: f64,
            seed: u64,
            crossover: &str,
            alpha: f64,
            eta: Option<f64>,
            uniform_crossover_prob: f64,
            use_child_gene_prob: f64,
            sigma_xi: f64,
            sigma_eta: Option<f64>,
            epsilon: Option<f64>,
            nsga3: bool,
            reference_points: Option<Vec<Vec<f64>>>,
            dividing_parameter: usize,
        ) -> PyRes<Self> {
            guard(py, || {
                let crossover = match crossover {
                    "uniform" => Crossover::Uniform,
                    "blxalpha" => Crossover::BlxAlpha { alpha },
                    "sbx" => Crossover::Sbx { eta, uniform_crossover_prob, use_child_gene_prob },
                    "vsbx" => Crossover::Vsbx { eta, uniform_crossover_prob, use_child_gene_prob },
                    "undx" => Crossover::Undx { sigma_xi, sigma_eta },
                    "spx" => Crossover::Spx { epsilon },
                    other => {
                        return Err(to_pyerr(py, ferrotune_core::Error::InvalidArgument(format!(
                            "crossover must be 'uniform', 'blxalpha', 'sbx', 'vsbx', 'undx' or \
                             'spx', got {other:?}"
                        ))))
                    }
                };
                let selection = if nsga3 {
                    Selection::ReferencePoints {
                        points: reference_points.unwrap_or_default(),
                        dividing_parameter,
                    }
                } else {
                    Selection::Crowding
                };
                let cfg = NsgaConfig {
                    population_size,
                    mutation_prob,
                    crossover,
                    crossover_prob,
                    swapping_prob,
                    selection,
                };
                Ok(Self::wrap(crate::conv(py, NsgaSampler::new(cfg, seed))?))
            })
        }
    }
}

/// `name` must be one of `choices` (their Rust values beside them).
fn pick<T: Copy>(param: &str, name: &str, choices: &[(&str, T)]) -> ferrotune_core::Result<T> {
    choices
        .iter()
        .find(|c| c.0 == name)
        .map(|c| c.1)
        .ok_or_else(|| {
            let names: Vec<&str> = choices.iter().map(|c| c.0).collect();
            ferrotune_core::Error::InvalidArgument(format!(
                "{param} must be one of {names:?}, got {name:?}"
            ))
        })
}

sampler_class! {
    /// Differential evolution (rand/1/bin or current-to-pbest/1, SHADE or JADE adaptation).
    DeSamplerCore(DeSampler) {
        #[new]
        #[pyo3(signature = (population_size, strategy, adaptation, mutation_factor, crossover_rate,
                            memory_size, p_best_rate, archive_rate, seed))]
        fn new(
            py: Python<'_>,
            population_size: usize,
            strategy: &str,
            adaptation: &str,
            mutation_factor: f64,
            crossover_rate: f64,
            memory_size: Option<usize>,
            p_best_rate: f64,
            archive_rate: f64,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let build = || {
                    let cfg = DeConfig {
                        population_size,
                        strategy: pick(
                            "strategy",
                            strategy,
                            &[
                                ("rand1bin", DeStrategy::Rand1Bin),
                                ("current-to-pbest1", DeStrategy::CurrentToPBest1),
                            ],
                        )?,
                        adaptation: pick(
                            "adaptation",
                            adaptation,
                            &[
                                ("shade", Adaptation::Shade),
                                ("jade", Adaptation::Jade),
                                ("none", Adaptation::Fixed),
                            ],
                        )?,
                        mutation_factor,
                        crossover_rate,
                        memory_size,
                        p_best_rate,
                        archive_rate,
                    };
                    DeSampler::new(cfg, seed)
                };
                Ok(Self::wrap(crate::conv(py, build())?))
            })
        }
    }
}

sampler_class! {
    /// Derivative-free trust-region search with quadratic models.
    TrustSamplerCore(TrustSampler) {
        #[new]
        #[pyo3(signature = (x0, radius0, radius_min, n_points, seed))]
        fn new(
            py: Python<'_>,
            x0: Vec<(String, f64)>,
            radius0: f64,
            radius_min: f64,
            n_points: Option<usize>,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let cfg = TrustConfig {
                    x0,
                    radius0,
                    radius_min,
                    n_points,
                };
                Ok(Self::wrap(crate::conv(py, TrustSampler::new(cfg, seed))?))
            })
        }

        /// The current run's radius in the unit cube (None before the first ask).
        #[getter]
        fn radius(&self, py: Python<'_>) -> PyRes<Option<f64>> {
            guard(py, || Ok(lock_py(py, &self.inner).radius()))
        }
    }
}

sampler_class! {
    /// Particle swarm with constriction (global-best or ring topology).
    PsoSamplerCore(PsoSampler) {
        #[new]
        #[pyo3(signature = (swarm_size, cognitive, social, max_velocity, topology, seed))]
        fn new(
            py: Python<'_>,
            swarm_size: usize,
            cognitive: f64,
            social: f64,
            max_velocity: f64,
            topology: &str,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let build = || {
                    let cfg = PsoConfig {
                        swarm_size,
                        cognitive,
                        social,
                        max_velocity,
                        topology: pick(
                            "topology",
                            topology,
                            &[("global", Topology::Global), ("ring", Topology::Ring)],
                        )?,
                    };
                    PsoSampler::new(cfg, seed)
                };
                Ok(Self::wrap(crate::conv(py, build())?))
            })
        }
    }
}

sampler_class! {
    /// A genetic algorithm (generational, or regularized aging evolution).
    GaSamplerCore(GaSampler) {
        #[new]
        #[pyo3(signature = (mode, population_size, tournament_size, n_elites, crossover_prob,
                            swapping_prob, eta_c, eta_m, mutation_prob, seed))]
        fn new(
            py: Python<'_>,
            mode: &str,
            population_size: Option<usize>,
            tournament_size: Option<usize>,
            n_elites: Option<usize>,
            crossover_prob: f64,
            swapping_prob: f64,
            eta_c: f64,
            eta_m: f64,
            mutation_prob: Option<f64>,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let mode = match mode {
                    "generational" => GaMode::Generational,
                    "aging" => GaMode::Aging,
                    other => {
                        return Err(to_pyerr(
                            py,
                            ferrotune_core::Error::InvalidArgument(format!(
                                "mode must be 'generational' or 'aging', got {other:?}"
                            )),
                        ))
                    }
                };
                let cfg = GaConfig {
                    mode,
                    population_size,
                    tournament_size,
                    n_elites,
                    crossover_prob,
                    swapping_prob,
                    eta_c,
                    eta_m,
                    mutation_prob,
                };
                Ok(Self::wrap(crate::conv(py, GaSampler::new(cfg, seed))?))
            })
        }

        /// The generation new trials join (generational mode).
        fn generation(&self, py: Python<'_>) -> PyRes<u64> {
            guard(py, || Ok(lock_py(py, &self.inner).generation()))
        }
    }
}

sampler_class! {
    /// DEHB: differential evolution inside Hyperband's brackets.
    DehbSamplerCore(DehbSampler) {
        #[new]
        #[pyo3(signature = (min_resource, max_resource, reduction_factor, mutation_factor,
                            crossover_prob, seed))]
        fn new(
            py: Python<'_>,
            min_resource: i64,
            max_resource: Option<i64>,
            reduction_factor: i64,
            mutation_factor: f64,
            crossover_prob: f64,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let cfg = DehbConfig {
                    min_resource,
                    max_resource,
                    reduction_factor,
                    mutation_factor,
                    crossover_prob,
                };
                Ok(Self::wrap(crate::conv(py, DehbSampler::new(cfg, seed))?))
            })
        }

        /// The trial numbers of each budget's subpopulation (None: an empty slot).
        fn subpopulations(&self, py: Python<'_>) -> PyRes<Vec<Vec<Option<u32>>>> {
            guard(py, || Ok(lock_py(py, &self.inner).subpopulations()))
        }
    }
}

sampler_class! {
    /// REINFORCE with a recurrent controller over a declared space's decisions.
    ReinforceSamplerCore(ReinforceSampler) {
        #[new]
        #[pyo3(signature = (learning_rate, baseline_decay, entropy_weight, entropy_decay,
                            hidden_size, embedding_size, n_bins, seed, ppo_epochs=1, ppo_clip=0.2))]
        #[allow(clippy::too_many_arguments)]
        fn new(
            py: Python<'_>,
            learning_rate: f64,
            baseline_decay: f64,
            entropy_weight: f64,
            entropy_decay: f64,
            hidden_size: usize,
            embedding_size: usize,
            n_bins: usize,
            seed: u64,
            ppo_epochs: usize,
            ppo_clip: f64,
        ) -> PyRes<Self> {
            guard(py, || {
                let cfg = ReinforceConfig {
                    learning_rate,
                    baseline_decay,
                    entropy_weight,
                    entropy_decay,
                    hidden_size,
                    embedding_size,
                    n_bins,
                    ppo_epochs,
                    ppo_clip,
                };
                Ok(Self::wrap(crate::conv(py, ReinforceSampler::new(cfg, seed))?))
            })
        }
    }
}

sampler_class! {
    /// SMAC: Bayesian optimisation with a random-forest surrogate.
    RfSamplerCore(RfSampler) {
        #[new]
        #[pyo3(signature = (n_startup_trials, random_fraction, n_candidates, n_local_search,
                            n_plateau_steps, n_trees, ratio_features, min_samples_split,
                            min_samples_leaf, max_depth, bootstrapping, log_y, constant_liar,
                            min_distance, seed))]
        fn new(
            py: Python<'_>,
            n_startup_trials: Option<usize>,
            random_fraction: f64,
            n_candidates: usize,
            n_local_search: usize,
            n_plateau_steps: usize,
            n_trees: usize,
            ratio_features: f64,
            min_samples_split: usize,
            min_samples_leaf: usize,
            max_depth: usize,
            bootstrapping: bool,
            log_y: bool,
            constant_liar: bool,
            min_distance: f64,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let forest = ferrotune_core::forest::ForestConfig {
                    n_trees,
                    ratio_features,
                    min_samples_split,
                    min_samples_leaf,
                    max_depth,
                    bootstrapping,
                    ..ferrotune_core::forest::ForestConfig::smac(0)
                };
                let cfg = RfConfig {
                    n_startup_trials,
                    random_fraction,
                    n_candidates,
                    n_local_search,
                    n_plateau_steps,
                    log_y,
                    constant_liar,
                    min_distance,
                    forest,
                };
                let s = crate::conv(py, RfSampler::new(cfg, seed))?;
                Ok(Self::wrap(s))
            })
        }
    }
}

sampler_class! {
    /// Bounded gradient steps (Adam or plain descent) on continuous
    /// hyperparameters from the gradients trials report; uniform draws for the rest.
    HypergradientSamplerCore(HypergradientSampler) {
        #[new]
        #[pyo3(signature = (lr, beta1, beta2, eps, optimizer, x0, start, seed))]
        fn new(
            py: Python<'_>,
            lr: f64,
            beta1: f64,
            beta2: f64,
            eps: f64,
            optimizer: &str,
            x0: Vec<(String, f64)>,
            start: &str,
            seed: u64,
        ) -> PyRes<Self> {
            guard(py, || {
                let bad = |what: &str, got: &str| {
                    to_pyerr(
                        py,
                        ferrotune_core::Error::InvalidArgument(format!(
                            "{what} must be {}, got {got:?}",
                            if what == "optimizer" { "'adam' or 'sgd'" } else { "'centre' or 'random'" }
                        )),
                    )
                };
                let optimizer = match optimizer {
                    "adam" => Optimizer::Adam,
                    "sgd" => Optimizer::Sgd,
                    other => return Err(bad("optimizer", other)),
                };
                let start = match start {
                    "centre" => Start::Centre,
                    "random" => Start::Random,
                    other => return Err(bad("start", other)),
                };
                let cfg = HypergradientConfig { lr, beta1, beta2, eps, optimizer, x0, start };
                Ok(Self::wrap(crate::conv(py, HypergradientSampler::new(cfg, seed))?))
            })
        }

        /// Takes in the gradients learnt since the last call, as (trial, name,
        /// distribution, value, dL/dvalue) entries, and prepares trial `trial`'s
        /// proposal (`HypergradientSampler::prepare`).
        #[pyo3(signature = (trial, entries, maximize, no_gradient, done, pending))]
        fn prepare(
            &self,
            py: Python<'_>,
            trial: usize,
            entries: Vec<(usize, String, PyRef<'_, crate::space::Dist>, f64, f64)>,
            maximize: bool,
            no_gradient: Vec<String>,
            done: Vec<usize>,
            pending: bool,
        ) -> PyRes<()> {
            guard(py, || {
                let entries: Vec<GradientEntry> = entries
                    .into_iter()
                    .map(|(trial, name, dist, x, grad)| GradientEntry {
                        trial,
                        name,
                        dist: dist.inner.clone(),
                        x,
                        grad,
                    })
                    .collect();
                let mut s = lock_py(py, &self.inner);
                crate::conv(py, s.prepare(trial, &entries, maximize, &no_gradient, &done, pending))
            })
        }

        /// The current iterate: (name, value) of every stepped parameter.
        fn iterate(&self, py: Python<'_>) -> PyRes<Vec<(String, f64)>> {
            guard(py, || Ok(lock_py(py, &self.inner).iterate()))
        }
    }
}

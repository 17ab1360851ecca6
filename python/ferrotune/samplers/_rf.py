from __future__ import annotations

import numbers
from typing import Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import (
    MAX_SIZE,
    _RustModelSampler,
    _seed_or_random,
    check_flag,
    check_size,
)

__all__ = ["RFSampler"]


def _int_arg(name: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an int >= {minimum}, got {value!r}")
    return int(value)


class RFSampler(_RustModelSampler):
    """SMAC: Bayesian optimisation with a random-forest surrogate, in Rust.

    Hutter, Hoos and Leyton-Brown (2011), "Sequential model-based optimization for
    general algorithm configuration", as SMAC3's ``HyperparameterOptimizationFacade``
    runs it. A random forest models the objective over mixed, conditional and
    constrained spaces where a Gaussian process struggles; it is cheap to refit, so the
    overhead per trial stays in milliseconds at thousands of trials.

    Each trial after the initial design:

    - with probability ``random_fraction`` the configuration is drawn uniformly
      (SMAC's interleaved random configurations);
    - otherwise a forest is fitted to the finished trials: ``n_trees`` CART trees on
      bootstrap samples, each split over ``ratio_features`` of the parameters, split
      down to ``min_samples_leaf``; numeric parameters on their unit scale (log scale
      for log parameters), categoricals split on subsets of their choices, inactive
      conditional parameters imputed outside their range (as SMAC). The objective is
      minimised on SMAC's log scale, ``log((y - m') / (max - m'))`` with ``m'`` below the
      minimum by the distance to the 5th percentile (to the 5th percentile of the values
      above the minimum when more than 5% of the values tie at it), so every value is
      positive before the logarithm. The next configuration maximises log expected
      improvement (Hutter et al. 2009; the improvement of ``exp`` of the modelled value,
      as SMAC's ``EI(log=True)``) over the incumbent's predicted value (the forest's
      lowest mean over the evaluated configurations, as SMAC), searched as SMAC's
      ``LocalAndSortedRandomSearch``: ``n_candidates`` random configurations are
      scored and sorted, then local searches (one parameter changed per step, numeric
      steps of 0.05 on the unit scale) start from
      the ``n_local_search`` best of them and the ``n_local_search`` observed
      configurations the model predicts best, each stopping after ``n_plateau_steps``
      steps without improvement. Configurations already evaluated, or within
      ``min_distance`` of one, are skipped.

    Initial design: on a declared :class:`~ferrotune.SearchSpace`, the first
    ``n_startup_trials`` trials are points of a scrambled Sobol sequence (SMAC's
    ``SobolInitialDesign``), a uniform feasible draw when a point is infeasible;
    define-by-run parameters are drawn uniformly until then and afterwards modelled over
    the intersection search space (parameters outside it are drawn uniformly).

    On a declared space every proposal satisfies the conditions and hard constraints:
    random and local-search candidates are checked before they are scored.

    Parallel workers: RUNNING trials of other workers enter the forest with the worst
    observed value (constant liar), so workers do not propose the same point.
    Pruned trials (multi-fidelity pruners) enter with their last reported value, raised
    to the worst complete value since the pruner judged them worse than their peers;
    pruned trials without a report and failed trials are left out.

    Deviations from SMAC3: ``n_startup_trials=None`` gives ``min(10 d, 20)`` for ``d``
    parameters, where SMAC caps ``10 d`` at a quarter of the trial budget, which a
    sampler does not know (20 is that cap for 80 trials); the model is refitted on every
    trial (SMAC3 keeps one acquisition search for up to 8 trials, ``retrain_after``);
    local-search steps score a batch of random one-exchange neighbours and move to the
    best, where SMAC walks neighbours in order; one objective only (no instances,
    no multi-objective ParEGO). Two changes against stalls measured on a plateau
    (``benches/rf_quality.py``, ``cancer_models``, where SMAC3 stalls too): when more
    than 5% of the values tie at the minimum, SMAC3's scaling sends the minimum to
    about ``log(1e-10)`` against values near 0 and the search stays on the plateau's
    edges, so the percentile is then taken over the values above the minimum; and the
    trees' disagreement does not shrink near data, so where the objective steps between
    two evaluated configurations the expected improvement stays high in the gap however
    narrow, and proposals within ``min_distance`` of an evaluated configuration are
    skipped (SMAC3 skips exact repeats only).

    Args:
        n_startup_trials: Trials of the initial design; None: ``min(10 d, 20)``.
        random_fraction: Probability of a random configuration after the initial
            design (0.2).
        n_candidates: Random configurations scored per trial (10,000, SMAC's
            ``challengers``; at most 1,000,000).
        n_local_search: Local searches from the best random and from the best observed
            configurations each (10; at most 100,000).
        n_plateau_steps: Non-improving steps before a local search stops (10).
        n_trees: Trees of the forest (10; at most 10,000).
        ratio_features: Fraction of the parameters considered at each split (1.0).
        min_samples_split: Minimum samples to split a node (2).
        min_samples_leaf: Minimum samples in a leaf (1).
        max_depth: Maximum depth of a tree (2**20, unlimited).
        bootstrapping: Grow each tree on a bootstrap sample (True).
        log_y: Model the objective on SMAC's log scale with log EI (True); False models
            the raw values with plain expected improvement.
        constant_liar: Count RUNNING trials as the worst observed value (True).
        min_distance: A proposal with the categorical values of an evaluated (or
            running) configuration and every numeric value within this distance of it,
            on the unit scale (log scale for log parameters), counts as evaluated and is
            skipped (0.003, a third of a percent of each range; 0 skips exact repeats
            only).
        seed: Seed of the generator; None draws one.

    Raises:
        InvalidArgumentError: an argument out of its range (its message names it).

    Example:
        >>> import ferrotune
        >>> sampler = ferrotune.samplers.RFSampler(seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)
        >>> study.optimize(lambda t: (t.suggest_float("x", -3, 3) - 1) ** 2, n_trials=30)
        >>> study.best_value < 0.1
        True
    """

    def __init__(
        self,
        *,
        n_startup_trials: int | None = None,
        random_fraction: float = 0.2,
        n_candidates: int = 10_000,
        n_local_search: int = 10,
        n_plateau_steps: int = 10,
        n_trees: int = 10,
        ratio_features: float = 1.0,
        min_samples_split: int = 2,
        min_samples_leaf: int = 1,
        max_depth: int = 2**20,
        bootstrapping: bool = True,
        log_y: bool = True,
        constant_liar: bool = True,
        min_distance: float = 0.003,
        seed: int | None = None,
    ) -> None:
        if n_startup_trials is not None:
            _int_arg("n_startup_trials", n_startup_trials, 0)
        for name, value in (
            ("random_fraction", random_fraction),
            ("ratio_features", ratio_features),
            ("min_distance", min_distance),
        ):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
        if not 0.0 <= random_fraction <= 1.0:
            raise InvalidArgumentError(
                f"random_fraction must be in [0, 1], got {random_fraction!r}"
            )
        if not 0.0 <= min_distance < 1.0:
            raise InvalidArgumentError(f"min_distance must be in [0, 1), got {min_distance!r}")
        if not 0.0 < ratio_features <= 1.0:
            raise InvalidArgumentError(f"ratio_features must be in (0, 1], got {ratio_features!r}")
        bootstrapping = check_flag("bootstrapping", bootstrapping)
        log_y = check_flag("log_y", log_y)
        constant_liar = check_flag("constant_liar", constant_liar)
        self._config: dict[str, Any] = {
            "n_startup_trials": n_startup_trials,
            "random_fraction": float(random_fraction),
            "n_candidates": check_size("n_candidates", n_candidates, 0, 10 * MAX_SIZE),
            "n_local_search": check_size("n_local_search", n_local_search, 0),
            "n_plateau_steps": _int_arg("n_plateau_steps", n_plateau_steps, 1),
            "n_trees": check_size("n_trees", n_trees, 1, 10_000),
            "ratio_features": float(ratio_features),
            "min_samples_split": _int_arg("min_samples_split", min_samples_split, 2),
            "min_samples_leaf": _int_arg("min_samples_leaf", min_samples_leaf, 1),
            "max_depth": _int_arg("max_depth", max_depth, 1),
            "bootstrapping": bootstrapping,
            "log_y": log_y,
            "constant_liar": constant_liar,
            "min_distance": float(min_distance),
        }
        if n_candidates == 0 and n_local_search == 0:
            raise InvalidArgumentError("n_candidates and n_local_search cannot both be 0")
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    def _build(self) -> _core.RfSamplerCore:
        c = self._config
        return _core.RfSamplerCore(
            c["n_startup_trials"],
            c["random_fraction"],
            c["n_candidates"],
            c["n_local_search"],
            c["n_plateau_steps"],
            c["n_trees"],
            c["ratio_features"],
            c["min_samples_split"],
            c["min_samples_leaf"],
            c["max_depth"],
            c["bootstrapping"],
            c["log_y"],
            c["constant_liar"],
            c["min_distance"],
            self._seed,
        )

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers._base import _RustModelSampler, _seed_or_random, check_flag, check_size

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["TPESampler"]


class TPESampler(_RustModelSampler):
    """Tree-structured Parzen Estimator, with every loop in Rust.

    Each trial splits the finished trials into a good set (the best ``gamma(n)``) and a
    bad set, fits a Parzen estimator to each (``l(x)`` and ``g(x)``), draws
    ``n_ei_candidates`` points from ``l(x)`` and takes the one with the largest
    ``log l(x) - log g(x)`` (Bergstra et al. 2011; Watanabe 2023, arXiv 2304.11127).
    The estimators follow Optuna 5: truncated Gaussian kernels on the bounded range (in
    log space for log parameters; the kernel mass of the cell ``[x - step/2, x + step/2]``
    for ints and stepped floats), bandwidths from the gaps to neighbouring observations
    with the magic clip, smoothed one-hot kernels for categoricals, and a prior kernel.

    The good set is filled from feasible COMPLETE trials by value, then PRUNED trials
    (deeper last step first, then by last intermediate value), then trials violating
    black-box constraints (``Trial.set_constraint``) by total violation: feasible trials
    first, as Optuna's TPESampler does with ``constraints_func`` (this is not c-TPE,
    Watanabe and Hutter 2023, which models each constraint). Infinite objective values
    are ranked like any other (``inf`` last when minimising). Several objectives (MOTPE):
    non-dominated fronts, the last one tie-broken by greedy hypervolume subset selection
    (exact hypervolumes; for three or more objectives with a last front over 64 trials,
    by crowding distance instead, to bound the cost); uniform weights in the good set.

    On a declared :class:`~ferrotune.SearchSpace`, parameters active under the same
    condition are modelled jointly on the trials where they were active, and every
    candidate is feasible (infeasible draws from ``l(x)`` are redrawn; the batch is
    completed from the constrained uniform sampler if ``l(x)`` keeps missing).

    With ``budget_aware=True`` the split uses intermediate values, as BOHB (Falkner et al.
    2018) does, for studies that ``report`` (with ``HyperbandPruner`` or
    ``SuccessiveHalvingPruner``, whose rungs are the natural budgets): the model budget is
    the highest step at which at least ``max(n_startup_trials, 2)`` finished trials
    reported a value (a COMPLETE trial's return value counts as its value at its last
    step); the good set is the best ``gamma(n)`` of those ``n`` trials by their value
    there, and every other finished trial joins the bad set. Until a step has that many
    values, and for several objectives, the usual split is used. Optuna's TPE with
    ``HyperbandPruner`` models final values only and repeats the start-up trials in every
    bracket; here the sampler always sees the whole study, so start-up happens once
    whichever the option.

    Deviations from Optuna's ``TPESampler``: ``multivariate`` defaults to True for
    several objectives too (Optuna 5 defaults to univariate there); parameters outside
    the joint space get univariate TPE rather than random sampling, so there is nothing
    for ``warn_independent_sampling`` to warn about; declared spaces with conditions and
    hard constraints are modelled as described above; FAIL trials (an exception, or a NaN
    value) join the bad set with their parameters (those a trial failed before suggesting
    imputed by a uniform draw fixed per trial, as HpBandSter imputes inactive ones), without
    counting in ``gamma``'s ``n``
    (Optuna leaves them out, so a region where the objective fails looks unexplored and
    is proposed again and again: ``tests/samplers/test_failing_regions.py``).

    Args:
        n_startup_trials: Random trials before the model is used (10).
        n_ei_candidates: Candidates drawn from ``l(x)`` per sample (24; at most 100,000).
        multivariate: Model the intersection search space jointly (True, as Optuna 5
            for single-objective studies). Parameters outside it, and all parameters
            when False, are sampled by univariate TPE.
        group: Split define-by-run spaces into groups of parameters that always appear
            together and model each jointly (False; needs ``multivariate``).
        constant_liar: Count RUNNING trials in the bad set so parallel workers spread
            out (True, as Optuna 5). Threads of one process see each other's running
            trials; another process's show their parameters with their next change
            (report or tell), as ferrotune defers those writes for speed.
        gamma: ``n_finished -> size of the good set``; default ``min(ceil(0.1 n), 25)``
            (``ceil(0.1 n)`` for several objectives).
        weights: ``n -> weights`` of the observations, oldest first; default 1 for the
            newest 25 and a ramp from ``1/n`` to 1 for older ones.
        prior_weight: Weight of the prior kernel (1.0).
        consider_magic_clip: Lower-bound bandwidths by ``range / min(100, 1 + K)`` (True).
        consider_endpoints: Let the range ends count as neighbours of the extreme
            observations (False).
        budget_aware: Split on the intermediate values at the highest well-populated
            step instead of final values (False, as Optuna; see above).
        seed: Seed of the generator; None draws one.
        constraints_func: Optuna's way to give black-box constraints: called with each
            finished trial, it returns constraint values (``<= 0`` feasible), stored as
            if reported with ``Trial.set_constraint``.
        warn_independent_sampling: Accepted for Optuna compatibility; ferrotune never
            falls back to random sampling after the start-up trials (parameters outside
            the joint space get univariate TPE), so there is nothing to warn about.
        consider_prior: Deprecated, as in Optuna (since 4.3): the prior kernel is always
            used (a value warns with a :class:`FutureWarning` and is ignored).

    Raises:
        InvalidArgumentError: an argument out of its range, ``group`` without
            ``multivariate``, or ``gamma``/``weights`` that are not callables.

    Example:
        >>> sampler = TPESampler(seed=0)
        >>> study = ferrotune.create_study(sampler=sampler)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool = True,
        group: bool = False,
        constant_liar: bool = True,
        gamma: Callable[[int], int] | None = None,
        weights: Callable[[int], Sequence[float]] | None = None,
        prior_weight: float = 1.0,
        consider_magic_clip: bool = True,
        consider_endpoints: bool = False,
        budget_aware: bool = False,
        seed: int | None = None,
        constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
        warn_independent_sampling: bool = True,
        consider_prior: bool | None = None,
    ) -> None:
        if consider_prior is not None:
            warnings.warn(
                "consider_prior is deprecated (as in Optuna since 4.3): the prior is always "
                "considered; set prior_weight instead",
                FutureWarning,
                stacklevel=2,
            )
        check_size("n_startup_trials", n_startup_trials, 0, None)
        check_size("n_ei_candidates", n_ei_candidates, 1)
        check_flag("multivariate", multivariate)
        check_flag("group", group)
        if group and not multivariate:
            raise InvalidArgumentError("group=True needs multivariate=True")
        if gamma is not None and not callable(gamma):
            raise InvalidArgumentError("gamma must be a callable n -> int or None")
        if weights is not None and not callable(weights):
            raise InvalidArgumentError("weights must be a callable n -> sequence or None")
        self._config: dict[str, Any] = {
            "n_startup_trials": n_startup_trials,
            "n_ei_candidates": n_ei_candidates,
            "multivariate": check_flag("multivariate", multivariate),
            "group": check_flag("group", group),
            "constant_liar": check_flag("constant_liar", constant_liar),
            "prior_weight": float(prior_weight),
            "consider_magic_clip": check_flag("consider_magic_clip", consider_magic_clip),
            "consider_endpoints": check_flag("consider_endpoints", consider_endpoints),
            "gamma": gamma,
            "weights": weights,
            "budget_aware": check_flag("budget_aware", budget_aware),
        }
        self._set_constraints_func(constraints_func)
        self._warn_independent_sampling = check_flag(
            "warn_independent_sampling", warn_independent_sampling
        )
        self._seed = _seed_or_random(seed)
        self._rust = self._build()

    @staticmethod
    def hyperopt_parameters() -> dict[str, Any]:
        """Keyword arguments that make this sampler behave like Hyperopt's TPE (as
        Optuna's method): ``TPESampler(**TPESampler.hyperopt_parameters())``. Optuna's
        dictionary also holds ``consider_prior``, deprecated, which is left out here."""
        return {
            "prior_weight": 1.0,
            "consider_magic_clip": True,
            "consider_endpoints": False,
            "n_startup_trials": 20,
            "n_ei_candidates": 24,
            "gamma": _hyperopt_gamma,
        }

    def _build(self) -> _core.TpeSamplerCore:
        c = self._config
        return _core.TpeSamplerCore(
            c["n_startup_trials"],
            c["n_ei_candidates"],
            c["multivariate"],
            c["group"],
            c["constant_liar"],
            c["prior_weight"],
            c["consider_magic_clip"],
            c["consider_endpoints"],
            self._seed,
            c["gamma"],
            c["weights"],
            c.get("budget_aware", False),
        )

    @classmethod
    def _upgrade_state(cls, state: dict[str, Any]) -> dict[str, Any]:
        if "_rust" in state:
            return state
        # Earlier versions pickled {"config", "seed", "state": the generator's four
        # words, "constraints_func", "warn"}.
        constraints_func = state.get("constraints_func")
        return {
            "_config": state["config"],
            "_constraints_func": constraints_func,
            "_needs_after_trial": constraints_func is not None,
            "_warn_independent_sampling": state.get("warn", True),
            "_seed": state["seed"],
            "_rust": list(state["state"]),
        }

    def infer_relative_search_space(
        self, study: Study, trial: FrozenTrial
    ) -> dict[str, BaseDistribution]:
        if not self._config["multivariate"]:
            return {}
        return super().infer_relative_search_space(study, trial)


def _hyperopt_gamma(n: int) -> int:
    """Hyperopt's size of the good set: ``min(ceil(0.25 sqrt(n)), 25)``."""
    return min(math.ceil(0.25 * math.sqrt(n)), 25)

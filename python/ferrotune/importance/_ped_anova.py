"""PED-ANOVA (Watanabe, Bansal and Hutter 2023), Optuna 5's default evaluator."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.importance import _data
from ferrotune.importance._base import BaseImportanceEvaluator

if TYPE_CHECKING:
    from ferrotune.study import Study
    from ferrotune.trial import FrozenTrial


class PedAnovaImportanceEvaluator(BaseImportanceEvaluator):
    """PED-ANOVA: how much each parameter matters for reaching the best trials.

    For each parameter, the values of the trials in the top ``target_quantile`` and of
    those in the top ``region_quantile`` are each summarised by a one-dimensional Parzen
    estimator on a grid (at most 50 points; Scott's bandwidth; a prior kernel of weight
    1); the importance is the Pearson divergence between the two, scaled by
    ``(target_quantile / region_quantile) ** 2``, which equals the variance of the
    parameter's local effect (Watanabe, Bansal and Hutter, "PED-ANOVA: Efficiently
    Quantifying Hyperparameter Importance in Arbitrary Subspaces", IJCAI 2023). It needs
    no surrogate model, so it is fast on large studies. The estimators and the divergence
    are computed in Rust.

    Conditional parameters are handled as in Optuna 5 (conditional PED-ANOVA, KDD 2026):
    every parameter that some COMPLETE trial has is scored; its trials are split into
    regimes (one per distribution it had, and "absent"), and each regime with at least
    two trials in the region adds its divergence weighted by its shares of the top and
    region trials.

    The importance is that of reaching LOW values: with ``target``, lower is better (a
    warning says so; negate a maximised quantity inside ``target``). Without ``target``,
    a single objective is ranked by its direction, and several objectives by
    non-dominated fronts with hypervolume subset selection, as multi-objective TPE (the
    importance of reaching the Pareto front). Include at least about 5 trials in the top
    quantile for a stable result.

    Args:
        target_quantile: Score what it takes to reach the top ``target_quantile`` of the
            trials (``gamma'`` in the paper). Default 0.1.
        region_quantile: Measure in the region of the top ``region_quantile`` of the
            trials (``gamma``); 1.0, the default, is every trial.
        evaluate_on_local: Compare with the region's density (True, the default: what
            mattered during the optimization) or with the uniform density on the search
            space (False: what matters in the space as declared).

    Raises:
        InvalidArgumentError: Unless ``0 < target_quantile < region_quantile <= 1``
            (Optuna raises ``AssertionError``).

    Example:
        >>> import ferrotune
        >>> from ferrotune.importance import PedAnovaImportanceEvaluator
        >>> def objective(trial):
        ...     x1 = trial.suggest_float("x1", -10, 10)
        ...     x2 = trial.suggest_float("x2", -10, 10)
        ...     return x1 + x2 / 1000
        >>> study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
        >>> study.optimize(objective, n_trials=100)
        >>> importances = ferrotune.importance.get_param_importances(
        ...     study, evaluator=PedAnovaImportanceEvaluator()
        ... )
        >>> next(iter(importances))
        'x1'
    """

    def __init__(
        self,
        *,
        target_quantile: float = 0.1,
        region_quantile: float = 1.0,
        evaluate_on_local: bool = True,
    ) -> None:
        for name, q in (("target_quantile", target_quantile), ("region_quantile", region_quantile)):
            if isinstance(q, bool) or not isinstance(q, numbers.Real):
                raise InvalidArgumentError(f"{name} must be a number, got {q!r}")
        if not 0.0 < target_quantile < region_quantile <= 1.0:
            raise InvalidArgumentError(
                "target_quantile and region_quantile must satisfy 0 < target_quantile < "
                f"region_quantile <= 1, got target_quantile={target_quantile!r}, "
                f"region_quantile={region_quantile!r}"
            )
        if region_quantile != 1.0 and not evaluate_on_local:
            _data.warn("If `evaluate_on_local` is False, `region_quantile` has no effect.")
        self._target_quantile = float(target_quantile)
        self._region_quantile = float(region_quantile)
        self._evaluate_on_local = bool(evaluate_on_local)
        # Optuna's fixed settings: the grid of a numerical domain, the prior's weight and
        # the fewest region trials a regime needs to count.
        self._n_steps = 50
        self._prior_weight = 1.0
        self._min_n_trials_in_regime = 2

    def evaluate(
        self,
        study: Study,
        params: list[str] | None = None,
        *,
        target: Callable[[FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        """Score ``params`` (None: every parameter of a COMPLETE trial, conditional ones
        included) on the study's COMPLETE trials with a finite target.

        Raises:
            TypeError: ``params`` is not a list of names.
            InvalidArgumentError: A name in ``params`` is in no COMPLETE trial.
        """
        _data.check_params(params)
        complete = _data.complete_trials(study)
        if params is None:
            names = sorted({name for t in complete for name in t.distributions})
        else:
            _data.require_known(params, complete)
            names = list(params)
        trials = _data.finite_rows(complete, target)
        if len(trials) <= 1:
            _data.warn(
                "The number of trials is too small to compute importances. "
                "Parameter importances will be equal."
            )
            return dict.fromkeys(names, 0.0)
        if target is not None:
            _data.warn(
                f"{type(self).__name__} computes the importances of params to achieve "
                "low `target` values. If this is not what you want, "
                "please modify target, e.g., by multiplying the output by -1."
            )
        losses = _data.losses(study, trials, target)
        columns = [_data.regime_column(trials, name) for name in names]
        scores, same_sets, sparse = _core.ped_anova_importances(
            losses,
            columns,
            self._target_quantile,
            self._region_quantile,
            self._evaluate_on_local,
            self._n_steps,
            self._prior_weight,
            self._min_n_trials_in_regime,
        )
        self._warn_about(names, same_sets, sparse)
        importances = dict(zip(names, scores, strict=True))
        return dict(sorted(importances.items(), key=lambda kv: kv[1], reverse=True))

    def _warn_about(self, names: list[str], same_sets: bool, sparse: list[bool]) -> None:
        if same_sets:
            _data.warn(
                "Target and region quantiles select the same set of trials. "
                "Parameter importances will be equal."
            )
        for name, few in zip(names, sparse, strict=True):
            if few:
                _data.warn(
                    f"Some regimes for parameter `{name}` have less than "
                    f"{self._min_n_trials_in_regime} trials. "
                    "The importance of the parameter may be inaccurate."
                )

"""fANOVA (Hutter, Hoos and Leyton-Brown 2014) on ferrotune's Rust random forest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ferrotune import _core
from ferrotune.importance import _data, _forest
from ferrotune.importance._base import BaseImportanceEvaluator

if TYPE_CHECKING:
    from ferrotune.study import Study
    from ferrotune.trial import FrozenTrial


class FanovaImportanceEvaluator(BaseImportanceEvaluator):
    """fANOVA: the share of the objective's variance each parameter explains alone.

    A random forest is fitted to the COMPLETE trials (parameters -> objective); for each
    tree, the variance of each parameter's main effect (its marginal prediction,
    averaged over all other parameters) is divided by the tree's total variance, and the
    importance is the mean of that fraction over the trees (Hutter, Hoos and
    Leyton-Brown, "An Efficient Approach for Assessing Hyperparameter Importance",
    ICML 2014). The marginals are exact: each tree's leaves are cut into the cells of
    its split points, as automl/fanova computes them; nothing is sampled. The forest,
    the marginals and the variances are computed in Rust, with the GIL released.

    The forest is scikit-learn's ``RandomForestRegressor`` as Optuna configures it:
    ``n_trees`` trees grown on bootstrap samples to ``max_depth``, every feature
    considered at every split, splits from 2 samples, leaves of 1, midpoint thresholds.
    Parameters are encoded as Optuna's evaluator encodes them, so that the values are
    comparable: a numerical parameter on its own scale (a log-scaled one is NOT
    log-transformed, unlike automl/fanova), a categorical one one-hot (its importance is
    the main effect of its one-hot columns together). Only parameters present in every
    COMPLETE trial are scored (``params=None``); conditional parameters are not (use
    :class:`PedAnovaImportanceEvaluator`). A parameter with a single possible value
    scores 0. The results of a forest on few trials vary with the seed; an
    exploring sampler (random, QMC) gives the most faithful forest.

    Args:
        n_trees: Number of trees in the forest. Default 64.
        max_depth: Maximum depth of each tree. Default 64.
        seed: Seed of the forest; ``None`` (the default) draws a fresh one each call.

    Raises:
        InvalidArgumentError: ``n_trees`` or ``max_depth`` is not an int >= 1, or ``seed``
            is neither None nor an int >= 0.

    Example:
        >>> import ferrotune
        >>> from ferrotune.importance import FanovaImportanceEvaluator
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -10, 10)
        ...     y = trial.suggest_int("y", 0, 10)
        ...     return x**2 + y
        >>> study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
        >>> study.optimize(objective, n_trials=100)
        >>> importances = ferrotune.importance.get_param_importances(
        ...     study, evaluator=FanovaImportanceEvaluator(seed=0)
        ... )
        >>> next(iter(importances))
        'x'
    """

    def __init__(self, *, n_trees: int = 64, max_depth: int = 64, seed: int | None = None) -> None:
        self._forest = _forest.ForestArguments(n_trees, max_depth, seed)

    def evaluate(
        self,
        study: Study,
        params: list[str] | None = None,
        *,
        target: Callable[[FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        """Score ``params`` (None: those every COMPLETE trial has) on the COMPLETE trials
        that have them all and a finite target.

        Raises:
            InvalidArgumentError: A study with several objectives and no ``target``; no
                COMPLETE trial with all of ``params``; ``params`` whose distributions
                differ between trials.
            TypeError: ``params`` is not a list of names.
            RuntimeError: No tree of the forest has any variance (a constant objective).
        """
        complete = _data.complete_trials(study)
        dists = _forest.distributions(study, params, target, complete)
        varying = {name: d for name, d in dists.items() if not d.single()}
        fixed = [name for name, d in dists.items() if d.single()]
        if not varying:
            return dict.fromkeys(fixed, 0.0)
        trials, values = _forest.usable_trials(complete, list(dists), target)
        if len(trials) <= 1:
            return dict.fromkeys(dists, 0.0)
        forest = self._forest
        means, _stds, n_with_variance = _core.fanova_importances(
            _forest.columns(trials, varying),
            values,
            forest.n_trees,
            forest.max_depth,
            2,
            1,
            forest.draw_seed(),
        )
        if n_with_variance == 0:
            raise RuntimeError("Encountered zero total variance in all trees.")
        importances = {**dict(zip(varying, means, strict=True)), **dict.fromkeys(fixed, 0.0)}
        return dict(sorted(importances.items(), key=lambda kv: kv[1], reverse=True))

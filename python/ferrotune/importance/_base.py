"""The evaluator contract and :func:`get_param_importances` (Optuna's names and arguments)."""

from __future__ import annotations

import abc
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ferrotune.study import Study
    from ferrotune.trial import FrozenTrial


class BaseImportanceEvaluator(abc.ABC):
    """An algorithm that scores how much each parameter explains the objective."""

    @abc.abstractmethod
    def evaluate(
        self,
        study: Study,
        params: list[str] | None = None,
        *,
        target: Callable[[FrozenTrial], float] | None = None,
    ) -> dict[str, float]:
        """Score the parameters of ``study``'s completed trials.

        Args:
            study: The study whose COMPLETE trials are evaluated.
            params: The parameters to score; ``None`` scores every parameter the evaluator
                can (see each evaluator).
            target: Maps a trial to the value scored; ``None`` uses the objective value of
                a single-objective study.

        Returns:
            Non-negative importances by parameter name, largest first.
        """


def _default_evaluator() -> BaseImportanceEvaluator:
    # The default evaluator lives in its own module; imported lazily so that this module
    # stays importable on its own.
    module = importlib.import_module("ferrotune.importance._ped_anova")
    evaluator: BaseImportanceEvaluator = module.PedAnovaImportanceEvaluator()
    return evaluator


def get_param_importances(
    study: Study,
    *,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    target: Callable[[FrozenTrial], float] | None = None,
    normalize: bool = True,
) -> dict[str, float]:
    """Return each parameter's importance in ``study``, largest first.

    Args:
        study: The study to evaluate (its COMPLETE trials).
        evaluator: The algorithm; defaults to :class:`PedAnovaImportanceEvaluator`, as in
            Optuna 5.
        params: The parameters to score (``[]`` gives ``{}``); ``None`` lets the evaluator
            choose (see its docstring).
        target: Maps a trial to the value scored. Required by most evaluators for a study
            with several objectives, e.g. ``target=lambda t: t.values[0]``.
        normalize: Scale the importances to sum to one (all equal when every importance
            is zero).

    Raises:
        TypeError: ``evaluator`` is not a :class:`BaseImportanceEvaluator`, or ``params``
            not a list of names.
    """
    if evaluator is None:
        evaluator = _default_evaluator()
    if not isinstance(evaluator, BaseImportanceEvaluator):
        raise TypeError(
            f"evaluator must be a BaseImportanceEvaluator, got {type(evaluator).__name__}"
        )
    if params is not None and not isinstance(params, (list, tuple)):
        # TypeError, as the evaluators' evaluate() and Optuna raise.
        raise TypeError(f"params must be a list of parameter names, got {params!r}")
    scores = evaluator.evaluate(
        study, params=None if params is None else list(params), target=target
    )
    ordered = dict(sorted(scores.items(), key=lambda kv: kv[1], reverse=True))
    if not normalize:
        return ordered
    total = sum(ordered.values())
    if total == 0.0:
        return {name: 1.0 / len(ordered) for name in ordered}
    return {name: value / total for name, value in ordered.items()}

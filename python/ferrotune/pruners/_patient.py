from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import BasePruner, _RustPruner
from ferrotune.pruners._checks import best_of, check_float, check_int

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["PatientPruner"]


class PatientPruner(_RustPruner):
    """Tolerates ``patience`` steps without improvement before asking a wrapped pruner
    (Optuna's ``PatientPruner``).

    With the trial's reported steps in order, the best value (NaN ignored) of the last
    ``patience + 1`` steps is compared with the best of the steps before them. When it
    has not improved by more than ``min_delta`` (minimising: ``best_before + min_delta <
    best_after``; maximising: ``best_before - min_delta > best_after``), the wrapped
    pruner decides, or the trial is pruned when there is none. Fewer than
    ``patience + 2`` reported steps never prune; neither does a side whose values are
    all NaN. Single-objective studies only.

    When the wrapped pruner is one of ferrotune's (or None) the whole rule runs in Rust,
    in one call per check; a pruner written in Python is asked through its ``prune``.

    Args:
        wrapped_pruner: The pruner that decides once patience runs out, or None to prune
            then.
        patience: Steps without improvement tolerated (at least 0).
        min_delta: The smallest change that counts as an improvement (at least 0).
            Default 0.0.

    Example:
        >>> import ferrotune
        >>> pruner = ferrotune.pruners.PatientPruner(
        ...     ferrotune.pruners.MedianPruner(), patience=2
        ... )
    """

    def __init__(
        self, wrapped_pruner: BasePruner | None, patience: int, min_delta: float = 0.0
    ) -> None:
        if wrapped_pruner is not None and not isinstance(wrapped_pruner, BasePruner):
            raise InvalidArgumentError(
                f"wrapped_pruner must be a BasePruner or None, got {type(wrapped_pruner).__name__}"
            )
        self._wrapped_pruner = wrapped_pruner
        self._patience = check_int("patience", patience, 0)
        self._min_delta = check_float("min_delta", min_delta)
        if self._min_delta < 0:
            raise InvalidArgumentError(f"min_delta must be at least 0, got {min_delta}")
        self._rust = self._build()

    def _build(self) -> Any:
        w = self._wrapped_pruner
        inner = None if w is None else w._rust_for_checks()
        if w is not None and inner is None:
            return None  # a Python pruner inside (or an own prune()): the rule runs in Python
        return _core.PatientPrunerCore(inner, self._patience, self._min_delta)

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        if trial.last_step is None:
            return False
        iv = trial.intermediate_values
        steps = sorted(iv)
        keep = self._patience + 1
        if len(steps) <= keep:
            return False
        maximize = study.direction.name == "MAXIMIZE"
        before = best_of((iv[s] for s in steps[:-keep]), maximize)
        after = best_of((iv[s] for s in steps[-keep:]), maximize)
        if math.isnan(before) or math.isnan(after):
            return False
        d = self._min_delta
        stalled = before - d > after if maximize else before + d < after
        if not stalled:
            return False
        w = self._wrapped_pruner
        return True if w is None else bool(w.prune(study, trial))

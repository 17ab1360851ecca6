from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import _RustPruner
from ferrotune.pruners._checks import check_float, check_int

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["WilcoxonPruner"]


class WilcoxonPruner(_RustPruner):
    """Prunes a trial that a one-sided Wilcoxon signed-rank test finds worse than the
    best trial (Optuna's ``WilcoxonPruner``).

    Meant for an objective that averages a score over problem instances (cross-validation
    folds, benchmark problems, questions): report each instance's score with the
    instance's id as the step (``trial.report(score, instance_id)``), in any order, the
    same id for the same instance in every trial. At each check the differences between
    the trial's values and the best COMPLETE trial's at the steps both reported are
    tested (p-value as ``scipy.stats.wilcoxon(d, alternative=..., zero_method="zsplit")``:
    exact for small samples, else the normal approximation with the tie correction).
    The trial is pruned when the p-value is below ``p_threshold``, unless the mean of
    all its values is at least as good as the mean of all the best trial's.

    It is never pruned while fewer than ``max(2, n_startup_steps)`` steps are paired,
    when there is no COMPLETE trial, or when either trial reported an infinite or NaN
    value. A pruned trial may return its mean score so far instead of raising
    ``TrialPruned``, so that the study keeps it. Single-objective studies only.

    The rule runs in Rust; the best trial is kept between checks and takes in only the
    trials finished since the last one.

    Args:
        p_threshold: In [0, 1]; larger prunes more. Repeating the test as steps arrive
            raises the false-positive rate above it. Default 0.1 (keyword only).
        n_startup_steps: No pruning with fewer paired steps. Default 2 (keyword only).

    Raises:
        InvalidArgumentError: For an argument outside its range (a ``ValueError``, as
            Optuna raises).

    Deviations from Optuna: no warning when a value is infinite or NaN (the trial is
    kept, as in Optuna); scipy is not needed; :meth:`prune` called directly raises
    ``NotImplementedError`` (use ``trial.should_prune()``).

    Example:
        >>> import ferrotune
        >>> pruner = ferrotune.pruners.WilcoxonPruner(p_threshold=0.1)
    """

    def __init__(self, *, p_threshold: float = 0.1, n_startup_steps: int = 2) -> None:
        p = check_float("p_threshold", p_threshold)
        if not 0.0 <= p <= 1.0:
            raise InvalidArgumentError(f"p_threshold must be between 0 and 1, got {p}")
        self._p_threshold = p
        self._n_startup_steps = check_int("n_startup_steps", n_startup_steps, 0)
        self._rust = self._build()

    def _build(self) -> Any:
        return _core.WilcoxonPrunerCore(self._p_threshold, self._n_startup_steps)

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        raise NotImplementedError(
            "WilcoxonPruner runs in the study's Rust core: ask trial.should_prune()"
        )

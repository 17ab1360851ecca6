from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import _RustPruner
from ferrotune.pruners._checks import best_of, check_float, check_int, first_in_interval
from ferrotune.trial import TrialState

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["PercentilePruner"]


class PercentilePruner(_RustPruner):
    """Prunes a trial whose best intermediate value is worse than a percentile of the
    values the COMPLETE trials reported at the same step (Optuna's ``PercentilePruner``).

    At each check, with ``s`` the trial's last reported step: no pruning while fewer than
    ``n_startup_trials`` trials are COMPLETE, before step ``n_warmup_steps``, or when
    ``s`` is not the first report since the latest check point (``n_warmup_steps +
    k * interval_steps``; a check point without a report moves to the next report). A
    trial whose reported values are all NaN is pruned. Otherwise the trial's best value
    over all its steps is compared with the ``percentile``-th percentile (the
    ``100 - percentile``-th when maximising; NaN values left out, linear interpolation)
    of the values COMPLETE trials reported at ``s``: it is pruned when strictly worse.
    With fewer than ``n_min_trials`` such values (NaN ones count), or only NaN ones, it
    is kept. PRUNED and FAIL trials never count. Single-objective studies only:
    ``should_prune`` raises ``NotImplementedError`` with several objectives, as Optuna.

    The rule runs in Rust: per-step order statistics over the COMPLETE trials are kept
    and take in only the trials finished since the last check, so a check costs the
    same at 10 trials as at 10,000.

    Args:
        percentile: In [0, 100]; 25.0 keeps the best quarter at each step.
        n_startup_trials: No pruning until this many trials are COMPLETE. Default 5.
        n_warmup_steps: No pruning before this step. Default 0.
        interval_steps: Steps between checks, counted from ``n_warmup_steps``. Default 1.
        n_min_trials: No pruning when fewer COMPLETE trials reported at the step.
            Default 1 (keyword only).

    Raises:
        InvalidArgumentError: For an argument outside its range (a ``ValueError``, as
            Optuna raises).

    Example:
        >>> import ferrotune
        >>> def objective(trial):
        ...     x = trial.suggest_float("x", -10, 10)
        ...     for step in range(10):
        ...         trial.report((x - 2) ** 2 + 10 - step, step)
        ...         if trial.should_prune():
        ...             raise ferrotune.TrialPruned()
        ...     return (x - 2) ** 2
        >>> pruner = ferrotune.pruners.PercentilePruner(25.0, n_startup_trials=3)
        >>> study = ferrotune.create_study(pruner=pruner)
        >>> study.optimize(objective, n_trials=20)
    """

    def __init__(
        self,
        percentile: float,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        p = check_float("percentile", percentile)
        if not 0.0 <= p <= 100.0:
            raise InvalidArgumentError(f"percentile must be between 0 and 100, got {p}")
        self._percentile = p
        self._n_startup_trials = check_int("n_startup_trials", n_startup_trials, 0)
        self._n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self._interval_steps = check_int("interval_steps", interval_steps, 1)
        self._n_min_trials = check_int("n_min_trials", n_min_trials, 1)
        self._rust = self._build()

    def _build(self) -> Any:
        return _core.PercentilePrunerCore(
            self._percentile,
            self._n_startup_trials,
            self._n_warmup_steps,
            self._interval_steps,
            self._n_min_trials,
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if not complete or len(complete) < self._n_startup_trials:
            return False
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return False
        steps = trial.intermediate_values.keys()
        if not first_in_interval(step, steps, self._n_warmup_steps, self._interval_steps):
            return False
        maximize = study.direction.name == "MAXIMIZE"
        best = best_of(trial.intermediate_values.values(), maximize)
        if math.isnan(best):
            return True
        at = [t.intermediate_values[step] for t in complete if step in t.intermediate_values]
        ok = sorted(v for v in at if not math.isnan(v))
        if len(at) < self._n_min_trials or not ok:
            return False
        q = 100.0 - self._percentile if maximize else self._percentile
        p = _linear_percentile(ok, q)
        return best < p if maximize else best > p


def _linear_percentile(ascending: list[float], q: float) -> float:
    """The ``q``-th percentile of sorted values, linearly interpolated (numpy's
    default method, with its interpolation formula)."""
    pos = q / 100.0 * (len(ascending) - 1)
    lo = min(math.floor(pos), len(ascending) - 1)
    hi = min(lo + 1, len(ascending) - 1)
    a, b, t = ascending[lo], ascending[hi], pos - lo
    return b - (b - a) * (1.0 - t) if t >= 0.5 else a + (b - a) * t

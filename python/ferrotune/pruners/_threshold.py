from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners._base import _RustPruner
from ferrotune.pruners._checks import check_float, check_int, first_in_interval

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["ThresholdPruner"]


class ThresholdPruner(_RustPruner):
    """Prunes a trial whose last intermediate value leaves ``[lower, upper]`` or is NaN
    (Optuna's ``ThresholdPruner``), whatever the study's direction.

    Checks follow :class:`~ferrotune.pruners.PercentilePruner`: none before step
    ``n_warmup_steps``, then at the first report since each check point
    (``n_warmup_steps + k * interval_steps``). Other trials play no part.

    Args:
        lower: Prune below this value; None for no lower bound. Default None.
        upper: Prune above this value; None for no upper bound. Default None.
        n_warmup_steps: No pruning before this step. Default 0.
        interval_steps: Steps between checks, counted from ``n_warmup_steps``. Default 1.

    Raises:
        TypeError: When both ``lower`` and ``upper`` are None (as Optuna).
        InvalidArgumentError: For a bound that is not a number, ``lower > upper``, or a
            step count outside its range.

    Example:
        >>> import ferrotune
        >>> pruner = ferrotune.pruners.ThresholdPruner(upper=1.0)
    """

    def __init__(
        self,
        lower: float | None = None,
        upper: float | None = None,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
    ) -> None:
        if lower is None and upper is None:
            raise TypeError("ThresholdPruner: either lower or upper must be specified")
        self._lower = -math.inf if lower is None else check_float("lower", lower)
        self._upper = math.inf if upper is None else check_float("upper", upper)
        if self._lower > self._upper:
            raise InvalidArgumentError(
                f"lower must not be greater than upper, got lower={self._lower}, "
                f"upper={self._upper}"
            )
        self._n_warmup_steps = check_int("n_warmup_steps", n_warmup_steps, 0)
        self._interval_steps = check_int("interval_steps", interval_steps, 1)
        self._rust = self._build()

    def _build(self) -> Any:
        return _core.ThresholdPrunerCore(
            self._lower, self._upper, self._n_warmup_steps, self._interval_steps
        )

    def prune(self, study: Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step < self._n_warmup_steps:
            return False
        steps = trial.intermediate_values.keys()
        if not first_in_interval(step, steps, self._n_warmup_steps, self._interval_steps):
            return False
        v = trial.intermediate_values[step]
        return math.isnan(v) or v < self._lower or v > self._upper

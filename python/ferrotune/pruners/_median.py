from __future__ import annotations

from ferrotune.pruners._percentile import PercentilePruner

__all__ = ["MedianPruner"]


class MedianPruner(PercentilePruner):
    """Prunes a trial whose best intermediate value is worse than the median of the
    values the COMPLETE trials reported at the same step (Optuna's ``MedianPruner``):
    :class:`~ferrotune.pruners.PercentilePruner` at the 50th percentile, with the same
    checks (start-up, warm-up, interval, NaN) and the same cost per check, which does not
    grow with the number of trials.

    Args:
        n_startup_trials: No pruning until this many trials are COMPLETE. Default 5.
        n_warmup_steps: No pruning before this step. Default 0.
        interval_steps: Steps between checks, counted from ``n_warmup_steps``. Default 1.
        n_min_trials: No pruning when fewer COMPLETE trials reported at the step.
            Default 1 (keyword only).

    Example:
        >>> import ferrotune
        >>> study = ferrotune.create_study(pruner=ferrotune.pruners.MedianPruner())
    """

    def __init__(
        self,
        n_startup_trials: int = 5,
        n_warmup_steps: int = 0,
        interval_steps: int = 1,
        *,
        n_min_trials: int = 1,
    ) -> None:
        super().__init__(
            50.0, n_startup_trials, n_warmup_steps, interval_steps, n_min_trials=n_min_trials
        )

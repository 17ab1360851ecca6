"""Callbacks for trials that a storage marked FAIL (stale heartbeats)."""

from __future__ import annotations

import numbers
import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["RetryFailedTrialCallback", "RetryHeartbeatStaleTrialCallback"]


class RetryHeartbeatStaleTrialCallback:
    """Re-enqueues a trial that failed through a stale heartbeat, with its parameters.

    Pass it to a storage: ``RDBStorage(url, heartbeat_interval=1,
    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback())``. As in Optuna,
    the new trial's system attributes hold ``failed_trial`` (the number of the first
    trial of the chain) and ``retry_history`` (the numbers of every failed attempt,
    oldest first). (``RetryFailedTrialCallback`` is its deprecated name.)

    Args:
        max_retry: At most this many retries of one original trial; None for no limit.
        inherit_intermediate_values: Copy the failed trial's intermediate values into
            the retry's system attributes (``"intermediate_values"``).
    """

    def __init__(self, max_retry: int | None = None, inherit_intermediate_values: bool = False):
        if max_retry is not None and (
            isinstance(max_retry, bool)
            or not isinstance(max_retry, numbers.Integral)
            or max_retry < 0
        ):
            from ferrotune.exceptions import InvalidArgumentError

            raise InvalidArgumentError(f"max_retry must be an int >= 0 or None, got {max_retry!r}")
        self._max_retry = None if max_retry is None else int(max_retry)
        self._inherit_intermediate_values = inherit_intermediate_values

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        system: dict[str, Any] = {
            k: v for k, v in trial.system_attrs.items() if k in ("failed_trial", "retry_history")
        }
        system.setdefault("failed_trial", trial.number)
        history = list(system.get("retry_history", []))
        history.append(trial.number)
        system["retry_history"] = history
        if self._max_retry is not None and len(history) > self._max_retry:
            return
        if self._inherit_intermediate_values and trial.intermediate_values:
            system["intermediate_values"] = {
                str(k): v for k, v in trial.intermediate_values.items()
            }
        number = study.enqueue_trial(dict(trial.params), user_attrs=trial.user_attrs)
        assert number is not None, "a trial enqueued without skip_if_exists has a number"
        for k, v in system.items():
            study.set_trial_system_attr(number, k, v)

    @staticmethod
    def retried_trial_number(trial: FrozenTrial) -> int | None:
        """The number of the first failed trial this one retries, or None."""
        n = trial.system_attrs.get("failed_trial")
        return None if n is None else int(n)

    @staticmethod
    def retry_history(trial: FrozenTrial) -> list[int]:
        """The numbers of the failed attempts this trial retries, oldest first."""
        return [int(n) for n in trial.system_attrs.get("retry_history", [])]


class RetryFailedTrialCallback(RetryHeartbeatStaleTrialCallback):
    """Deprecated name of :class:`RetryHeartbeatStaleTrialCallback` (as in Optuna 5, it
    warns with a :class:`FutureWarning` when made)."""

    def __init__(self, max_retry: int | None = None, inherit_intermediate_values: bool = False):
        warnings.warn(
            "RetryFailedTrialCallback is deprecated (as in Optuna 5): use "
            "RetryHeartbeatStaleTrialCallback",
            FutureWarning,
            stacklevel=2,
        )
        super().__init__(max_retry, inherit_intermediate_values)

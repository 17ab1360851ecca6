from __future__ import annotations

import enum

from ferrotune import _core

__all__ = ["TrialState"]


class TrialState(enum.IntEnum):
    """Life cycle of a trial, numbered as in Optuna."""

    RUNNING = 0
    COMPLETE = 1
    PRUNED = 2
    FAIL = 3
    WAITING = 4

    def is_finished(self) -> bool:
        """True for COMPLETE, PRUNED and FAIL."""
        return self in (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)

    def __repr__(self) -> str:
        return f"TrialState.{self.name}"

    def __str__(self) -> str:
        # As Optuna's (an Enum there): "TrialState.COMPLETE", not the int's "1".
        return f"TrialState.{self.name}"


# The same states as the core's enum, and back (equal numbers).
TO_CORE: dict[int, _core.TrialState] = {
    TrialState.RUNNING: _core.TrialState.RUNNING,
    TrialState.COMPLETE: _core.TrialState.COMPLETE,
    TrialState.PRUNED: _core.TrialState.PRUNED,
    TrialState.FAIL: _core.TrialState.FAIL,
    TrialState.WAITING: _core.TrialState.WAITING,
}
FROM_CORE: dict[_core.TrialState, TrialState] = {c: TrialState(s) for s, c in TO_CORE.items()}

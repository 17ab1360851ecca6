"""Callbacks for :meth:`Study.optimize <ferrotune.Study.optimize>`."""

from __future__ import annotations

import numbers
import threading
import weakref
from collections.abc import Container
from typing import TYPE_CHECKING, Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.trial import FrozenTrial, TrialState
from ferrotune.trial._state import FROM_CORE

if TYPE_CHECKING:
    from ferrotune.study._study import Study

__all__ = ["MaxTrialsCallback"]


class MaxTrialsCallback:
    """Stops the study once it holds ``n_trials`` trials in ``states``, as Optuna's.

    Unlike ``optimize(n_trials=...)``, which counts the trials of one call, this counts
    the trials of the whole study (earlier runs and other workers included), so a study
    can run until it has, say, 100 COMPLETE trials however many fail on the way.

    Args:
        n_trials: The number of trials in ``states`` at which to stop.
        states: The states counted; ``None`` counts every state. Default
            ``(TrialState.COMPLETE,)``.

    Trials already running when the limit is reached still finish (the study stops
    starting new ones), so with ``n_jobs > 1`` the study may end with up to
    ``n_jobs - 1`` more trials in ``states``, as in Optuna.

    Example:
        >>> from ferrotune.study import MaxTrialsCallback
        >>> from ferrotune.trial import TrialState
        >>> study = ferrotune.create_study()  # doctest: +SKIP
        >>> study.optimize(objective, callbacks=[MaxTrialsCallback(10)])  # doctest: +SKIP
    """

    def __init__(
        self, n_trials: int, states: Container[TrialState] | None = (TrialState.COMPLETE,)
    ) -> None:
        if (
            isinstance(n_trials, bool)
            or not isinstance(n_trials, (int, numbers.Integral))
            or int(n_trials) < 0
        ):
            raise InvalidArgumentError(f"n_trials must be an int >= 0, got {n_trials!r}")
        self._n_trials = int(n_trials)
        self._states = states
        self._init_progress()

    def _init_progress(self) -> None:
        self._lock = threading.Lock()
        # Per study: (trials read so far, trials in `states` among the finished ones,
        # numbers of the unfinished ones). Finished states are final, so each call
        # reads only the new trials and the unfinished ones, not the whole history.
        self._progress: weakref.WeakKeyDictionary[Study, tuple[int, int, list[int]]] = (
            weakref.WeakKeyDictionary()
        )

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        if self._count(study) >= self._n_trials:
            study.stop()

    def _counts(self, state: TrialState) -> bool:
        return self._states is None or state in self._states

    def _count(self, study: Study) -> int:
        """The number of trials of ``study`` in ``states`` (what
        ``len(study.get_trials(states=states))`` gives, read incrementally)."""
        with self._lock:
            seen, counted, pending = self._progress.get(study, (0, 0, []))
            new = study.get_trial_states(seen)  # pulls other workers' changes first
            core = study.core
            still: list[int] = []
            later = 0
            for number in pending:
                state = FROM_CORE[core.state(number)]
                if state.is_finished():
                    counted += self._counts(state)
                else:
                    still.append(number)
                    later += self._counts(state)
            for number, state in enumerate(new, seen):
                if state.is_finished():
                    counted += self._counts(state)
                else:
                    still.append(number)
                    later += self._counts(state)
            self._progress[study] = (seen + len(new), counted, still)
        return counted + later

    def __getstate__(self) -> dict[str, Any]:
        return {"n_trials": self._n_trials, "states": self._states}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._n_trials = state["n_trials"]
        self._states = state["states"]
        self._init_progress()

    def __repr__(self) -> str:
        return f"MaxTrialsCallback(n_trials={self._n_trials}, states={self._states!r})"

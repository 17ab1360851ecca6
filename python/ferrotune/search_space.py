"""Optuna's ``optuna.search_space`` helpers, for samplers written against Optuna's API.

A study's own intersection space is :meth:`Study.intersection_search_space
<ferrotune.Study.intersection_search_space>` (computed in Rust); a declared space with
hard constraints is :class:`ferrotune.SearchSpace`. These two names exist so that a
sampler written for Optuna (Optuna's "User-Defined Sampler" tutorial calls
``optuna.search_space.intersection_search_space``) runs unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import TYPE_CHECKING

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.trial import FrozenTrial, TrialState

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study import Study

__all__ = ["IntersectionSearchSpace", "intersection_search_space"]


def _states(include_pruned: bool) -> tuple[TrialState, ...]:
    pruned = (TrialState.PRUNED,) if include_pruned else ()
    return (TrialState.COMPLETE, *pruned, TrialState.RUNNING, TrialState.WAITING)


def _intersect(
    trials: Sequence[FrozenTrial],
    include_pruned: bool,
    space: dict[str, BaseDistribution] | None,
    done_before: int,
) -> tuple[dict[str, BaseDistribution] | None, int]:
    """The intersection of ``space`` (the trials numbered below ``done_before``, None for
    none) with the finished trials of interest from there on; and the number below which
    every trial of interest has now been taken in (a running trial stops it)."""
    states = _states(include_pruned)
    resume_at = -1
    for trial in reversed(trials):
        if trial.state not in states:
            continue
        if resume_at == -1:
            resume_at = trial.number + 1
        if trial.number < done_before:
            break
        if not trial.state.is_finished():
            # Not taken in yet: the next call starts from here again.
            resume_at = trial.number
            continue
        if space is None:
            space = dict(trial.distributions)
        else:
            space = {n: d for n, d in space.items() if trial.distributions.get(n) == d}
    return space, resume_at


def intersection_search_space(
    trials: Sequence[FrozenTrial], include_pruned: bool = False
) -> dict[str, BaseDistribution]:
    """The parameters every COMPLETE trial of ``trials`` has (PRUNED ones too with
    ``include_pruned``), each with the one distribution all of them gave it, sorted by
    name, as Optuna's function of that name. A parameter whose range changed between
    trials is left out.

    Raises:
        InvalidArgumentError: ``trials`` holds something other than FrozenTrials.
    """
    trials = list(trials)
    if not all(isinstance(t, FrozenTrial) for t in trials):
        raise InvalidArgumentError("intersection_search_space needs a list of FrozenTrials")
    space, _ = _intersect(trials, include_pruned, None, -1)
    return copy.deepcopy(dict(sorted((space or {}).items())))


class IntersectionSearchSpace:
    """The intersection search space of one study, kept up to date incrementally (each
    :meth:`calculate` looks only at the trials finished since the last), as Optuna's
    class of that name.

    Args:
        include_pruned: Whether PRUNED trials count as COMPLETE ones do.
    """

    def __init__(self, include_pruned: bool = False) -> None:
        self._include_pruned = include_pruned
        self._space: dict[str, BaseDistribution] | None = None
        self._done_before = -1
        self._study: str | None = None

    def calculate(self, study: Study, use_cache: bool = False) -> dict[str, BaseDistribution]:
        """The study's intersection search space, sorted by parameter name.

        Args:
            study: The same study at every call.
            use_cache: Accepted for Optuna's signature; the trials are read afresh.

        Raises:
            InvalidArgumentError: Another study than at the first call.
        """
        del use_cache
        key = study.study_name
        if self._study is None:
            self._study = key
        elif self._study != key:
            raise InvalidArgumentError("IntersectionSearchSpace cannot handle multiple studies")
        self._space, self._done_before = _intersect(
            study.get_trials(deepcopy=False),
            self._include_pruned,
            self._space,
            self._done_before,
        )
        return copy.deepcopy(dict(sorted((self._space or {}).items())))

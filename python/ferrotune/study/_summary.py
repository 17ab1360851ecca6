"""Summaries of every study in a storage, as Optuna's ``get_all_study_summaries``."""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from typing import Any

from ferrotune.distributions import BaseDistribution, _from_core
from ferrotune.exceptions import InvalidArgumentError, MultiObjectiveError
from ferrotune.storages import BaseStorage, get_storage
from ferrotune.study._direction import StudyDirection
from ferrotune.trial import FrozenTrial
from ferrotune.trial._frozen import intermediate_values_of
from ferrotune.trial._state import FROM_CORE

__all__ = ["StudySummary", "get_all_study_summaries"]


class StudySummary:
    """Basic facts about a study, with the fields of Optuna's ``StudySummary``.

    Attributes:
        study_name: The study's name.
        direction: Its direction (single-objective studies only; raises otherwise).
        directions: The direction of each objective.
        best_trial: The best COMPLETE trial of a single-objective study (None when
            there is none, for several objectives, or when not asked for).
        user_attrs: The study's user attributes.
        n_trials: The number of trials, in any state.
        datetime_start: When its first trial started (None without trials).

    Summaries compare equal when all fields are equal and sort by creation order.
    """

    def __init__(
        self,
        study_name: str,
        direction: StudyDirection | None,
        best_trial: FrozenTrial | None,
        user_attrs: dict[str, Any],
        n_trials: int,
        datetime_start: datetime.datetime | None,
        study_id: int,
        *,
        directions: Sequence[StudyDirection] | None = None,
    ) -> None:
        if (direction is None) == (directions is None):
            raise InvalidArgumentError("give exactly one of direction and directions")
        self.study_name = study_name
        self._directions = [direction] if direction is not None else list(directions or [])
        self.best_trial = best_trial
        self.user_attrs = user_attrs
        self.n_trials = n_trials
        self.datetime_start = datetime_start
        self._study_id = study_id

    @property
    def direction(self) -> StudyDirection:
        """The direction of a single-objective study."""
        if len(self._directions) > 1:
            raise MultiObjectiveError("this study has several objectives; use directions")
        return self._directions[0]

    @property
    def directions(self) -> list[StudyDirection]:
        """The direction of each objective."""
        return list(self._directions)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id < other._study_id

    def __le__(self, other: object) -> bool:
        if not isinstance(other, StudySummary):
            return NotImplemented
        return self._study_id <= other._study_id

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by value

    def __repr__(self) -> str:
        return (
            f"StudySummary(study_name={self.study_name!r}, directions={self._directions}, "
            f"n_trials={self.n_trials}, best_trial={self.best_trial!r})"
        )


def get_all_study_summaries(
    storage: str | BaseStorage, include_best_trial: bool = True
) -> list[StudySummary]:
    """A :class:`StudySummary` of every study in ``storage``, as Optuna's.

    Args:
        storage: A storage object or URL.
        include_best_trial: Read each single-objective study's best trial (True).

    The storage is only read: no study's sampler is set or changed.

    Example:
        >>> for s in ferrotune.get_all_study_summaries("sqlite:///db.sqlite3"):  # doctest: +SKIP
        ...     print(s.study_name, s.n_trials, s.best_trial and s.best_trial.value)
    """
    st = get_storage(storage)
    out: list[StudySummary] = []
    for name in st.get_all_study_names():
        sid = st.get_study_id_from_name(name)
        st.sync(sid)
        core = st.get_core(sid)
        directions = st.get_study_directions(sid)
        records = core.records(0, core.n_trials())
        starts = [r.started for r in records if not math.isnan(r.started)]
        best = None
        if include_best_trial and len(directions) == 1:
            number = core.best_trial(directions[0] == StudyDirection.MAXIMIZE)
            if number is not None:
                best = _snapshot(st, sid, number)
        single = len(directions) == 1
        out.append(
            StudySummary(
                study_name=name,
                direction=directions[0] if single else None,
                directions=None if single else directions,
                best_trial=best,
                user_attrs=dict(st.get_study_user_attrs(sid)),
                n_trials=len(records),
                datetime_start=datetime.datetime.fromtimestamp(min(starts)) if starts else None,
                study_id=sid,
            )
        )
    return out


def _snapshot(st: BaseStorage, sid: int, number: int) -> FrozenTrial:
    """Trial ``number`` of study ``sid``, read from the storage alone (no Study)."""
    core = st.get_core(sid)
    rec = core.record(number)
    choices = st.get_choices(sid)
    ext: dict[str, Any] = {}
    dists: dict[str, BaseDistribution] = {}
    for key, v in rec.params:
        name, core_dist = core.param_dist(key)
        known = choices.get(name)
        dist = _from_core(core_dist, known.choices if known is not None else None)
        ext[name] = dist.to_external_repr(v)
        dists[name] = dist

    def stamp(t: float) -> datetime.datetime | None:
        return None if math.isnan(t) else datetime.datetime.fromtimestamp(t)

    return FrozenTrial(
        number=number,
        state=FROM_CORE[rec.state],
        value=None,
        values=list(rec.values) or None,
        datetime_start=stamp(rec.started),
        datetime_complete=stamp(rec.completed),
        params=ext,
        distributions=dists,
        user_attrs=dict(st.get_trial_user_attrs(sid, number)),
        system_attrs=dict(st.get_trial_system_attrs(sid, number)),
        intermediate_values=intermediate_values_of(rec),
    )

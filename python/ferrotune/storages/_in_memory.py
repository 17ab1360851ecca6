from __future__ import annotations

import copy
import math
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import DuplicatedStudyError
from ferrotune.storages._base import (
    FIXED_PARAMS_KEY,
    TAG_KEY,
    BaseStorage,
    rung_attr,
    rung_records,
    sampler_tags,
    to_json,
)
from ferrotune.storages._core_state import export_core, import_core

if TYPE_CHECKING:
    from ferrotune.study._direction import StudyDirection

__all__ = ["InMemoryStorage"]


@dataclass
class _StudyRecord:
    name: str
    directions: list[StudyDirection]
    core: _core.StudyCore
    choices: dict[str, Any] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    trial_user_attrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    trial_system_attrs: dict[int, dict[str, Any]] = field(default_factory=dict)


class InMemoryStorage(BaseStorage):
    """Studies kept in this process: the default storage of ``create_study``.

    Each study's trial records are its Rust core's own; this storage adds study names,
    directions and attributes. It is thread-safe (``optimize(n_jobs=...)`` threads share
    it), it is gone with the process, and it pickles with every study it holds
    (``pickle``, ``copy.deepcopy``, joblib). As Optuna's ``InMemoryStorage``, it takes
    no arguments; use :class:`~ferrotune.storages.RDBStorage` to share studies between
    processes or keep them.

    The trial methods of :class:`BaseStorage` act on the core alone
    (:meth:`start_trial` and :meth:`finish_trial` are overridden only to save a call on
    the per-trial path).
    """

    def __init__(self) -> None:
        self._studies: dict[int, _StudyRecord] = {}
        self._by_name: dict[str, int] = {}
        self._next_id = 0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Pickling, copying and joblib: the Rust records travel as plain data.
        with self._lock:
            studies = {}
            for sid, rec in self._studies.items():
                fields = {k: v for k, v in rec.__dict__.items() if k != "core"}
                maximize = [int(d) == 2 for d in rec.directions]  # 2 = MAXIMIZE
                fields["core"] = export_core(rec.core, maximize)
                studies[sid] = copy.deepcopy(fields)
            return {"studies": studies, "by_name": dict(self._by_name), "next_id": self._next_id}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self._lock = threading.Lock()
        self._by_name = dict(state["by_name"])
        self._next_id = state["next_id"]
        self._studies = {}
        for sid, fields in state["studies"].items():
            fields = dict(fields)
            fields["core"] = import_core(fields["core"])
            rec = _StudyRecord(**fields)
            # The rung records of successive halving, from the trials' attributes.
            found = [
                r for n, attrs in rec.trial_system_attrs.items() for r in rung_records(n, attrs)
            ]
            if found:
                rec.core.add_rung_records(sorted(found, key=lambda r: (r[4], r[1])))
            tags = sampler_tags(rec.trial_system_attrs, rec.trial_system_attrs)
            if tags:
                rec.core.set_tags(tags)
            self._studies[sid] = rec

    def _study(self, study_id: int) -> _StudyRecord:
        try:
            return self._studies[study_id]
        except KeyError:
            raise KeyError(f"no study with id {study_id}") from None

    def create_new_study(
        self, directions: list[StudyDirection], study_name: str | None = None
    ) -> int:
        with self._lock:
            name = study_name if study_name is not None else f"no-name-{uuid.uuid4()}"
            if name in self._by_name:
                raise DuplicatedStudyError(f"a study named {name!r} already exists")
            sid = self._next_id
            self._next_id += 1
            self._studies[sid] = _StudyRecord(
                name,
                list(directions),
                _core.StudyCore([int(d) == 2 for d in directions]),  # 2 = MAXIMIZE
            )
            self._by_name[name] = sid
            return sid

    def delete_study(self, study_id: int) -> None:
        with self._lock:
            rec = self._studies.pop(study_id)
            del self._by_name[rec.name]

    def get_study_id_from_name(self, study_name: str) -> int:
        try:
            return self._by_name[study_name]
        except KeyError:
            raise KeyError(f"no study named {study_name!r}") from None

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        return list(self._study(study_id).directions)

    def get_all_study_names(self) -> list[str]:
        return list(self._by_name)

    def get_core(self, study_id: int) -> _core.StudyCore:
        # Inlined `_study`: studies check the core at every ask and tell.
        rec = self._studies.get(study_id)
        if rec is None:
            raise KeyError(f"no study with id {study_id}")
        return rec.core

    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        # `get_core` inlined (here and in finish_trial): one call fewer per trial.
        core = self._studies[study_id].core  # KeyError for a deleted study
        number = core.pop_waiting()
        if number is None:
            return core.ask(), {}
        fixed = self.get_trial_system_attrs(study_id, number).get(FIXED_PARAMS_KEY, {})
        return number, dict(fixed)

    def should_prune(self, study_id: int, number: int) -> bool:
        # The core's lock orders the decisions of `n_jobs` threads; no sync in memory.
        rec = self._studies[study_id]
        pruned, records = rec.core.prune(number)
        for record in records:
            key, value = rung_attr(record)
            rec.trial_system_attrs.setdefault(record[0], {})[key] = value
        return pruned

    def get_choices(self, study_id: int) -> dict[str, Any]:
        return self._study(study_id).choices

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        # A value a database storage could not write is refused here too.
        to_json(value, f"study user attribute {key!r}")
        self._study(study_id).user_attrs[key] = copy.deepcopy(value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        to_json(value, f"study system attribute {key!r}")
        self._study(study_id).system_attrs[key] = copy.deepcopy(value)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return copy.deepcopy(self._study(study_id).user_attrs)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return copy.deepcopy(self._study(study_id).system_attrs)

    def next_study_counter(self, study_id: int, key: str, count: int = 1) -> int:
        with self._lock:
            attrs = self._study(study_id).system_attrs
            start = int(attrs.get(key, 0))
            attrs[key] = start + count
            return start

    def _check_trial(self, rec: _StudyRecord, number: int) -> None:
        if not 0 <= number < rec.core.n_trials():
            raise KeyError(f"no trial with number {number}")

    def set_trial_user_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        to_json(value, f"trial user attribute {key!r}")
        rec = self._study(study_id)
        self._check_trial(rec, number)
        rec.trial_user_attrs.setdefault(number, {})[key] = copy.deepcopy(value)

    def set_trial_system_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        if key == TAG_KEY and _is_tag(value):
            # A sampler's tag, set at every ask of a population sampler: finite floats
            # are valid JSON, and a list of floats needs no deep copy.
            rec = self._study(study_id)
            self._check_trial(rec, number)
            rec.trial_system_attrs.setdefault(number, {})[key] = list(value)
            # The core (the study's records here) reads the sampler's tag as well.
            rec.core.set_tags([(number, list(value))])
            return
        to_json(value, f"trial system attribute {key!r}")
        rec = self._study(study_id)
        self._check_trial(rec, number)
        attrs = rec.trial_system_attrs.setdefault(number, {})
        attrs[key] = copy.deepcopy(value)
        if key == TAG_KEY:
            rec.core.set_tags(sampler_tags({number: attrs}, [number]))
        # A rung record written from outside (copy_study, add_trial, import_study) goes to
        # the core too, as a database's sync takes it: the pruner ranks against it.
        found = rung_records(number, {key: value})
        if found:
            rec.core.add_rung_records(found)

    def get_trial_user_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return copy.deepcopy(self._study(study_id).trial_user_attrs.get(number, {}))

    def get_trial_system_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return copy.deepcopy(self._study(study_id).trial_system_attrs.get(number, {}))

    def get_trials_attrs(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        rec = self._study(study_id)
        out: list[list[dict[str, Any]]] = []
        for store in (rec.trial_user_attrs, rec.trial_system_attrs):
            out.append([_copy_attrs(store[n]) if n in store else {} for n in numbers])
        return out[0], out[1]


_SCALARS = (int, float, str, bool, type(None))


def _is_tag(value: Any) -> bool:
    """Whether ``value`` is a non-empty list of finite floats (a sampler's tag)."""
    return (
        type(value) is list
        and bool(value)
        and all(type(x) is float and math.isfinite(x) for x in value)
    )


def _copy_attrs(attrs: dict[str, Any]) -> dict[str, Any]:
    """A copy of one trial's attributes that shares nothing mutable with them: scalars
    as they are, a sampler's tag (floats) by a shallow copy, anything else deep-copied."""
    out: dict[str, Any] = {}
    for k, v in attrs.items():
        if type(v) in _SCALARS:
            out[k] = v
        elif k == TAG_KEY and _is_tag(v):
            out[k] = list(v)
        else:
            out[k] = copy.deepcopy(v)
    return out

"""Replaying a journal: the records of :class:`JournalStorage` (Optuna's operations, as
JSON objects) applied in order to what one process knows of each study, with each
study's Rust core fed once per batch of records (``apply_remote_batch``)."""

from __future__ import annotations

import enum
import functools
import math
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from ferrotune import _core
from ferrotune.distributions import BaseDistribution, CategoricalDistribution
from ferrotune.storages._base import (
    FIXED_PARAMS_KEY,
    TAG_KEY,
    RungRecord,
    rung_records,
    sampler_tags,
    split_constraint_attrs,
)
from ferrotune.storages.journal._file import UNREADABLE_OP

_RUNNING, _COMPLETE, _PRUNED, _FAIL, _WAITING = 0, 1, 2, 3, 4
_NAN = float("nan")

#: The trial system attribute of a heartbeat (seconds since the epoch); kept apart from
#: the trial's system attributes.
HEARTBEAT_KEY = "ferrotune:heartbeat"
#: The prefix of the study system attributes that fix a parameter's categorical choices
#: (the first worker's stand); kept apart from the study's system attributes.
CHOICES_PREFIX = "ferrotune:choices:"
#: The field of an intermediate value record holding objectives 1, 2, ... (several
#: objectives; ``intermediate_value`` holds objective 0).
REST_FIELD = "ferrotune:rest"


class JournalOperation(enum.IntEnum):
    """The operations of a journal (Optuna's codes)."""

    CREATE_STUDY = 0
    DELETE_STUDY = 1
    SET_STUDY_USER_ATTR = 2
    SET_STUDY_SYSTEM_ATTR = 3
    CREATE_TRIAL = 4
    SET_TRIAL_PARAM = 5
    SET_TRIAL_STATE_VALUES = 6
    SET_TRIAL_INTERMEDIATE_VALUE = 7
    SET_TRIAL_USER_ATTR = 8
    SET_TRIAL_SYSTEM_ATTR = 9
    DISCARD_TRIALS = 10


def to_time(text: Any) -> float:
    """An ISO 8601 time of a record as seconds since the epoch (NaN for none)."""
    if not isinstance(text, str):
        return _NAN
    try:
        return datetime.fromisoformat(text).timestamp()
    except ValueError:
        return _NAN


def from_time(t: float) -> str:
    """Seconds since the epoch as a record's time (UTC, as Optuna writes it)."""
    return datetime.fromtimestamp(t, tz=timezone.utc).isoformat(timespec="microseconds")


class _Choices(dict[str, Any]):
    """A study's categorical distributions; a new one is recorded in the journal first
    (the first worker's choices stand, as in :class:`~ferrotune.storages.RDBStorage`)."""

    def __init__(self, save: Callable[[str, Any], Any]) -> None:
        super().__init__()
        self._save = save

    def __setitem__(self, name: str, dist: Any) -> None:
        if name not in self:
            dist = self._save(name, dist)
        super().__setitem__(name, dist)

    def _load(self, name: str, dist: Any) -> None:
        super().__setitem__(name, dist)


@dataclass
class _Delta:
    """What one batch of records changed in one trial, for the core."""

    params: list[tuple[str, str, float]] = field(default_factory=list)
    inter: list[tuple[int, float | None]] = field(default_factory=list)
    rest: list[tuple[int, list[float]]] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    constraints: list[float] = field(default_factory=list)
    attrs: bool = False


@dataclass
class JStudy:
    """What this process knows of one study of the journal."""

    study_id: int
    name: str
    directions: list[int]
    core: _core.StudyCore
    choices: _Choices
    creator: str
    user_attrs: dict[str, Any] = field(default_factory=dict)
    system_attrs: dict[str, Any] = field(default_factory=dict)
    choice_attrs: dict[str, Any] = field(default_factory=dict)
    trial_ids: list[int] = field(default_factory=list)
    states: list[int] = field(default_factory=list)
    started: list[float] = field(default_factory=list)
    completed: dict[int, float] = field(default_factory=dict)
    trial_user_attrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    trial_system_attrs: dict[int, dict[str, Any]] = field(default_factory=dict)
    heartbeats: dict[int, float] = field(default_factory=dict)
    # WAITING trials, oldest first (a dict as an ordered set).
    waiting: dict[int, None] = field(default_factory=dict)
    deltas: dict[int, _Delta] = field(default_factory=dict)

    def delta(self, number: int) -> _Delta:
        d = self.deltas.get(number)
        if d is None:
            d = self.deltas[number] = _Delta()
        return d


class Replay:
    """The state of the journal as far as this process has read it (``n_read`` records).

    Records are applied as Optuna's journal storage applies them, so that journals of
    either library read the same: a record for a study or trial that does not exist is
    skipped; a trial leaves WAITING and RUNNING once, the first record wins; parameters
    and intermediate values of a finished trial are skipped. Deviation: attributes of a
    finished trial are kept (ferrotune lets them be set; Optuna refuses them).

    ``won`` and ``created`` tell a writer whether its own record took effect:
    ``won[(study_id, number, "run" | "finish")]`` and ``created[worker_id]`` hold the
    outcome of this process's records (worker ids starting with ``prefix``).
    """

    def __init__(
        self,
        prefix: str,
        dist_of: Callable[[str], tuple[BaseDistribution, _core.Dist]],
        save_choices: Callable[[int, str, Any], Any],
    ) -> None:
        self.prefix = prefix
        self.n_read = 0
        self.studies: dict[int, JStudy] = {}
        self.by_name: dict[str, int] = {}
        self.next_study_id = 0
        self.trials: list[tuple[int, int]] = []  # trial id -> (study id, number)
        self.won: dict[tuple[int, int, str], str] = {}
        self.created: dict[str, tuple[int, int]] = {}
        self._dist_of = dist_of
        self._save_choices = save_choices
        self._problems: list[str] = []
        self._handlers: dict[int, Callable[[dict[str, Any]], None]] = {
            JournalOperation.CREATE_STUDY: self._create_study,
            JournalOperation.DELETE_STUDY: self._delete_study,
            JournalOperation.SET_STUDY_USER_ATTR: self._study_user_attr,
            JournalOperation.SET_STUDY_SYSTEM_ATTR: self._study_system_attr,
            JournalOperation.CREATE_TRIAL: self._create_trial,
            JournalOperation.SET_TRIAL_PARAM: self._param,
            JournalOperation.SET_TRIAL_STATE_VALUES: self._state_values,
            JournalOperation.SET_TRIAL_INTERMEDIATE_VALUE: self._intermediate,
            JournalOperation.SET_TRIAL_USER_ATTR: self._trial_user_attr,
            JournalOperation.SET_TRIAL_SYSTEM_ATTR: self._trial_system_attr,
            JournalOperation.DISCARD_TRIALS: lambda log: None,
        }

    # ------------------------------------------------------------------ driver
    def apply(self, logs: Iterable[dict[str, Any]], where: str) -> None:
        """Applies ``logs`` (the records from number ``n_read`` on), then feeds each
        changed study's core once. A record that cannot be read is skipped, with one
        RuntimeWarning for the batch: no record makes the journal unreadable."""
        for log in logs:
            self.n_read += 1
            op = log.get("op_code")
            handler = self._handlers.get(op) if isinstance(op, int) else None
            if handler is None or not isinstance(op, int):
                why = log.get("error") if op == UNREADABLE_OP else f"unknown op_code {op!r}"
                self._problems.append(f"record {self.n_read - 1} skipped: {why}")
                continue
            try:
                handler(log)
            except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
                self._problems.append(
                    f"record {self.n_read - 1} ({JournalOperation(op).name}) skipped: "
                    f"{type(e).__name__}: {e}"
                )
        for study in self.studies.values():
            if study.deltas:
                self._feed(study)
        if self._problems:
            shown = "; ".join(self._problems[:10])
            more = f"; and {len(self._problems) - 10} more" if len(self._problems) > 10 else ""
            self._problems = []
            warnings.warn(
                f"journal {where}: records not as ferrotune or Optuna write them: {shown}{more}",
                RuntimeWarning,
                stacklevel=2,
            )

    def _trial(self, log: dict[str, Any]) -> tuple[JStudy, int] | None:
        """The study and number of the record's ``trial_id`` (None: not a live trial)."""
        tid = log["trial_id"]
        if isinstance(tid, bool) or not isinstance(tid, int) or not 0 <= tid < len(self.trials):
            return None
        sid, number = self.trials[tid]
        study = self.studies.get(sid)
        return None if study is None else (study, number)

    def _mine(self, log: dict[str, Any]) -> str | None:
        wid = log.get("worker_id")
        return wid if isinstance(wid, str) and wid.startswith(self.prefix) else None

    # ------------------------------------------------------------------ studies
    def _create_study(self, log: dict[str, Any]) -> None:
        name = log["study_name"]
        if not isinstance(name, str):
            raise TypeError(f"study_name {name!r} is not a string")
        if name in self.by_name:
            return  # the first record of a name stands
        directions = [int(d) for d in log["directions"]]
        if not directions or any(d not in (0, 1, 2) for d in directions):
            raise ValueError(f"directions {log['directions']!r}")
        sid = self.next_study_id
        self.next_study_id += 1
        core = _core.StudyCore([d == 2 for d in directions])  # 2: MAXIMIZE
        choices = _Choices(functools.partial(self._save_choices, sid))
        creator = log.get("worker_id")
        self.studies[sid] = JStudy(sid, name, directions, core, choices, str(creator))
        self.by_name[name] = sid

    def _delete_study(self, log: dict[str, Any]) -> None:
        study = self.studies.pop(log["study_id"], None)
        if study is not None:
            del self.by_name[study.name]

    def _study_user_attr(self, log: dict[str, Any]) -> None:
        study = self.studies.get(log["study_id"])
        if study is not None:
            study.user_attrs.update(dict(log["user_attr"]))

    def _study_system_attr(self, log: dict[str, Any]) -> None:
        study = self.studies.get(log["study_id"])
        if study is None:
            return
        for key, value in dict(log["system_attr"]).items():
            if key.startswith(CHOICES_PREFIX):
                name = key[len(CHOICES_PREFIX) :]
                if name not in study.choice_attrs:  # the first worker's choices stand
                    study.choice_attrs[name] = value
                    dist = self._dist_of(value)[0]
                    if name not in study.choices and isinstance(dist, CategoricalDistribution):
                        study.choices._load(name, dist)
            else:
                study.system_attrs[key] = value

    # ------------------------------------------------------------------ trials
    def _create_trial(self, log: dict[str, Any]) -> None:
        study = self.studies.get(log["study_id"])
        if study is None:
            return
        state = int(log.get("state", _RUNNING))
        if state not in (_RUNNING, _COMPLETE, _PRUNED, _FAIL, _WAITING):
            raise ValueError(f"unknown state {state!r}")
        number = len(study.states)
        self.trials.append((study.study_id, number))
        study.trial_ids.append(len(self.trials) - 1)
        study.states.append(state)
        study.started.append(to_time(log.get("datetime_start")))
        d = study.delta(number)
        if state == _WAITING:
            study.waiting[number] = None
        self._template(study, number, d, log)
        if state in (_COMPLETE, _PRUNED, _FAIL):
            study.completed[number] = to_time(log.get("datetime_complete"))
            values = log.get("values")
            if values is None and log.get("value") is not None:
                values = [log["value"]]
            d.values = [float(v) for v in values or ()]
        wid = self._mine(log)
        if wid is not None:
            self.created[wid] = (study.study_id, number)

    def _template(self, study: JStudy, number: int, d: _Delta, log: dict[str, Any]) -> None:
        """The parts of a trial created whole (Optuna's ``add_trial``, an enqueued trial)."""
        dists = log.get("distributions") or {}
        for name, value in (log.get("params") or {}).items():
            self._add_param(study, d, name, dists[name], value)
        for step, value in (log.get("intermediate_values") or {}).items():
            d.inter.append((int(step), _finite_or_none(value)))
        if log.get("user_attrs"):
            study.trial_user_attrs[number] = dict(log["user_attrs"])
        if log.get("system_attrs"):
            self._set_system(study, number, d, dict(log["system_attrs"]))

    def _add_param(self, study: JStudy, d: _Delta, name: str, dj: Any, value: Any) -> None:
        if not isinstance(name, str) or isinstance(value, bool):
            raise TypeError(f"parameter {name!r} = {value!r}")
        dist = self._dist_of(dj)[0]  # raises for an unreadable distribution
        d.params.append((name, dj, float(value)))
        if isinstance(dist, CategoricalDistribution) and name not in study.choices:
            study.choices._load(name, dist)

    def _param(self, log: dict[str, Any]) -> None:
        found = self._trial(log)
        if found is None:
            return
        study, number = found
        if study.states[number] in (_RUNNING, _WAITING):
            d = study.delta(number)
            self._add_param(
                study, d, log["param_name"], log["distribution"], log["param_value_internal"]
            )

    def _state_values(self, log: dict[str, Any]) -> None:
        found = self._trial(log)
        if found is None:
            return
        study, number = found
        current, state = study.states[number], int(log["state"])
        if current not in (_RUNNING, _WAITING):
            return  # finished: the first finishing record stands
        wid = self._mine(log)
        if state == _RUNNING:
            if current == _RUNNING:
                return  # another worker started it first
            study.started[number] = to_time(log.get("datetime_start"))
            kind = "run"
        elif state in (_COMPLETE, _PRUNED, _FAIL):
            study.completed[number] = to_time(log.get("datetime_complete"))
            study.delta(number).values = [float(v) for v in log.get("values") or ()]
            study.heartbeats.pop(number, None)
            kind = "finish"
        else:
            raise ValueError(f"state {state!r} cannot be set")
        study.states[number] = state
        study.waiting.pop(number, None)
        study.delta(number)
        if wid is not None:
            self.won[(study.study_id, number, kind)] = wid

    def _intermediate(self, log: dict[str, Any]) -> None:
        found = self._trial(log)
        if found is None:
            return
        study, number = found
        if study.states[number] != _RUNNING:
            return
        step = log["step"]
        if isinstance(step, bool) or not isinstance(step, int):
            raise TypeError(f"step {step!r} is not an int")
        d = study.delta(number)
        d.inter.append((step, _finite_or_none(log["intermediate_value"])))
        rest = log.get(REST_FIELD)
        if rest is not None:
            d.rest.append((step, [_NAN if x is None else float(x) for x in rest]))

    def _trial_user_attr(self, log: dict[str, Any]) -> None:
        found = self._trial(log)
        if found is not None:
            study, number = found
            study.trial_user_attrs.setdefault(number, {}).update(dict(log["user_attr"]))

    def _trial_system_attr(self, log: dict[str, Any]) -> None:
        found = self._trial(log)
        if found is not None:
            study, number = found
            self._set_system(study, number, study.delta(number), dict(log["system_attr"]))

    @staticmethod
    def _set_system(study: JStudy, number: int, d: _Delta, attrs: dict[str, Any]) -> None:
        beat = attrs.pop(HEARTBEAT_KEY, None)
        if beat is not None and study.states[number] == _RUNNING:
            study.heartbeats[number] = float(beat)
        if not attrs:
            return
        # Constraint values in any form (ferrotune's dict, Optuna's list or its
        # "constraints:<name>" attributes) are kept as ferrotune's dict, merged by name.
        attrs, cons = split_constraint_attrs(attrs)
        store = study.trial_system_attrs.setdefault(number, {})
        store.update(attrs)
        if cons is not None:
            before = store.get("constraints")
            merged = {**(before if isinstance(before, dict) else {}), **cons}
            store["constraints"] = merged
            d.constraints = [merged[k] for k in sorted(merged)]
        d.attrs = True

    # ------------------------------------------------------------------ the core
    def _feed(self, study: JStudy) -> None:
        """Gives the core the trials this batch changed, in one ``apply_remote_batch``
        (the core adds what it lacks: applying is idempotent), then their samplers'
        tags and rung records."""
        rows: list[tuple[int, int, int, float | None, float | None]] = []
        values: list[list[float]] = []
        cons: list[list[float]] = []
        dists: dict[str, _core.Dist] = {}
        params: list[tuple[int, str, str, float]] = []
        inter: list[tuple[int, int, float | None]] = []
        rest: list[tuple[int, int, list[float]]] = []
        for number, d in study.deltas.items():
            started = study.started[number]
            completed = study.completed.get(number, _NAN)
            rows.append(
                (
                    number,
                    number,
                    study.states[number],
                    None if math.isnan(started) else started,
                    None if math.isnan(completed) else completed,
                )
            )
            values.append(d.values)
            cons.append(d.constraints)
            for name, dj, v in d.params:
                dists[dj] = self._dist_of(dj)[1]
                params.append((number, name, dj, v))
            inter.extend((number, s, v) for s, v in d.inter)
            rest.extend((number, s, r) for s, r in d.rest)
        core = study.core
        try:
            rejected = core.apply_remote_batch(
                rows, values, cons, list(dists.items()), params, inter, rest
            )
        except Exception:
            rejected = self._feed_one_by_one(
                core, study.name, rows, values, cons, dists, params, inter, rest
            )
        self._problems.extend(f"study {study.name!r}: {why}" for _, why in rejected)
        changed = [n for n, d in study.deltas.items() if d.attrs]
        study.deltas.clear()
        if not changed:
            return
        n_core = core.n_trials()
        tags = [t for t in sampler_tags(study.trial_system_attrs, changed) if t[0] < n_core]
        if tags:
            core.set_tags(tags)
        system = study.trial_system_attrs
        found: list[RungRecord] = [r for n in changed for r in rung_records(n, system[n])]
        if found:
            found.sort(key=lambda r: (r[4], r[1]))
            core.add_rung_records(found)

    def _feed_one_by_one(
        self,
        core: _core.StudyCore,
        name: str,
        rows: list[tuple[int, int, int, float | None, float | None]],
        values: list[list[float]],
        cons: list[list[float]],
        dists: dict[str, _core.Dist],
        params: list[tuple[int, str, str, float]],
        inter: list[tuple[int, int, float | None]],
        rest: list[tuple[int, int, list[float]]],
    ) -> list[tuple[int, str]]:
        """The batch of :meth:`_feed` trial by trial, after the core refused it whole
        (applying is idempotent): only the trials the core refuses are left out."""
        rejected: list[tuple[int, str]] = []
        items = list(dists.items())
        for row, v, c in zip(rows, values, cons, strict=True):
            n = row[0]
            try:
                rejected += core.apply_remote_batch(
                    [row],
                    [v],
                    [c],
                    items,
                    [p for p in params if p[0] == n],
                    [i for i in inter if i[0] == n],
                    [r for r in rest if r[0] == n],
                )
            except Exception as e:
                self._problems.append(f"study {name!r}: trial {n} left out: {e}")
        return rejected


def _finite_or_none(value: Any) -> float | None:
    """An intermediate value as the core takes it (None for NaN or null)."""
    if value is None:
        return None
    v = float(value)
    return None if math.isnan(v) else v


__all__ = ["CHOICES_PREFIX", "FIXED_PARAMS_KEY", "HEARTBEAT_KEY", "JStudy", "Replay", "TAG_KEY"]

"""A private ferrotune core (``_core.StudyCore``) that mirrors the trials of an Optuna study,
fed incrementally: each sync applies only the trials that are new or changed since the last
one, in one call into Rust."""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import Any

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from ferrotune import _core
from ferrotune.exceptions import InvalidDistributionError
from ferrotune.integration.optuna._access import all_trials, storage_of, study_id_of
from ferrotune.storages._base import rung_records, sampler_tags, split_constraint_attrs

__all__ = ["CONSTRAINTS_KEY", "Mirror", "Mirrors", "core_dist"]

#: Optuna's trial system attribute holding black-box constraint values (<= 0 feasible).
CONSTRAINTS_KEY = "constraints"
_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)


def core_dist(dist: BaseDistribution) -> _core.Dist:
    """The core distribution of an Optuna distribution (the internal representations are
    the same: the value, the integer as a float, the choice's index).

    Raises:
        InvalidDistributionError: a distribution of another kind, or one the core refuses.
    """
    if isinstance(dist, FloatDistribution):
        return _core.Dist.float("", dist.low, dist.high, dist.step, dist.log)
    if isinstance(dist, IntDistribution):
        return _core.Dist.int("", dist.low, dist.high, dist.step, dist.log)
    if isinstance(dist, CategoricalDistribution):
        return _core.Dist.categorical("", len(dist.choices))
    raise InvalidDistributionError(
        f"an Optuna {type(dist).__name__} has no ferrotune equivalent (expected a Float-, "
        "Int- or CategoricalDistribution)"
    )


def _cache_key(dist: BaseDistribution) -> Any:
    """A cheap dictionary key standing for ``dist`` (Optuna's own hash and equality sort
    and compare attribute dictionaries: too slow for every parameter of every trial)."""
    cls = type(dist)
    if cls is FloatDistribution or cls is IntDistribution:
        return (cls, dist.low, dist.high, dist.step, dist.log)  # type: ignore[attr-defined]
    if cls is CategoricalDistribution:
        choices = dist.choices  # type: ignore[attr-defined]
        return (cls, choices, tuple(map(type, choices)))
    return dist


def _fields(d: _core.Dist) -> tuple[Any, ...]:
    return (int(d.kind), d.low, d.high, d.step, d.log, d.n_choices)


def _key(d: _core.Dist) -> str:
    """The key under which the core's batches name a distribution."""
    return "|".join(map(repr, _fields(d)))


def _timestamp(dt: Any) -> float | None:
    return None if dt is None else float(dt.timestamp())


def _floats(v: Any) -> list[float]:
    """A list of finite or infinite numbers, or [] for anything else (another tool's value)."""
    if not isinstance(v, (list, tuple)):
        return []
    try:
        out = [float(x) for x in v]
    except (TypeError, ValueError):
        return []
    return [] if any(math.isnan(x) for x in out) else out


class Mirror:
    """One Optuna study's trials in a private core, kept up to date by :meth:`sync`.

    ``attach(core, study_name)`` gives a fresh core its Rust sampler or pruner. Values a
    sampler records in the core ahead of Optuna (a relative sample, see
    :meth:`note_speculative`) are checked when their trial finishes; if the Optuna trial
    ended up without one of them, the core is rebuilt from Optuna's records, so the
    mirror never keeps a parameter Optuna does not have.
    """

    def __init__(self, study: Study, attach: Callable[[_core.StudyCore, str], None]) -> None:
        self.storage = storage_of(study)  # held, so the cache key (its id) stays unique
        self.study_id = study_id_of(study)
        self.study_name = study.study_name
        self._maximize = [d == StudyDirection.MAXIMIZE for d in study.directions]
        self._attach = attach
        self._dists: dict[Any, tuple[str, _core.Dist] | None] = {}
        # (name, the core distribution's fields) -> the Optuna distribution recorded.
        self._by_fields: dict[tuple[str, tuple[Any, ...]], BaseDistribution] = {}
        self._fields: dict[str, tuple[Any, ...]] = {}
        # Running trials whose joint values were chosen (kept through a rebuild: a trial
        # is proposed once).
        self._asked: set[int] = set()
        self._reset()

    def _reset(self) -> None:
        self.core = _core.StudyCore(self._maximize)
        self._attach(self.core, self.study_name)
        self.trial_ids: list[int] = []
        self._done = 0  # trials [0, _done) are finished and mirrored
        self._seen: dict[int, tuple[Any, ...]] = {}
        self._speculative: dict[int, dict[str, tuple[str, float]]] = {}

    def dist(self, name: str, dist: BaseDistribution) -> tuple[str, _core.Dist] | None:
        """The (key, core distribution) of ``dist``, None when the core refuses it."""
        ck = _cache_key(dist)
        if ck in self._dists:
            got = self._dists[ck]
        else:
            try:
                d = core_dist(dist)
                got = (_key(d), d)
                self._fields[got[0]] = _fields(d)
            except ValueError:
                got = None
            self._dists[ck] = got
        if got is not None:
            self._by_fields[(name, self._fields[got[0]])] = dist
        return got

    def optuna_dist(self, name: str, d: _core.Dist) -> BaseDistribution | None:
        """The Optuna distribution a mirrored parameter was recorded with."""
        return self._by_fields.get((name, _fields(d)))

    def take_relative(self, number: int) -> bool:
        """True the first time it is asked for a running trial: its joint values are to
        be chosen now."""
        if number in self._asked:
            return False
        self._asked.add(number)
        return True

    def note_speculative(self, number: int, name: str, key: str, value: float) -> None:
        """Records that the core holds ``value`` for ``name`` in trial ``number`` before
        Optuna does (checked when the trial finishes)."""
        self._speculative.setdefault(number, {})[name] = (key, value)

    def sync(self, trials: Sequence[FrozenTrial]) -> None:
        """Applies the trials new or changed since the last sync (``trials``: all of the
        study's, in number order)."""
        if len(trials) < len(self.trial_ids) or (
            self._done and trials[self._done - 1]._trial_id != self.trial_ids[self._done - 1]
        ):
            # Not the trials this mirror has seen (the study was deleted and another made
            # under its id): start again.
            self._asked.clear()
            self._reset()
        batch = []
        seen = self._seen
        for t in trials[self._done :]:
            sig = (t.state, len(t.params), len(t.intermediate_values), len(t.system_attrs))
            if seen.get(t.number) != sig:
                seen[t.number] = sig
                batch.append(t)
        if batch and self._apply(batch):
            self._reset()
            self.sync(trials)
            return
        n = len(trials)
        while self._done < n and trials[self._done].state in _FINISHED:
            seen.pop(self._done, None)
            self._asked.discard(self._done)
            self._done += 1

    def _apply(self, batch: list[FrozenTrial]) -> bool:
        """Feeds ``batch`` to the core in one call; True when a value recorded ahead of
        Optuna turned out wrong (the caller rebuilds the core)."""
        rows: list[tuple[int, int, int, float | None, float | None]] = []
        values: list[list[float]] = []
        cons: list[list[float]] = []
        keys: dict[str, _core.Dist] = {}
        params: list[tuple[int, str, str, float]] = []
        inter: list[tuple[int, int, float | None]] = []
        ids = self.trial_ids
        for t in batch:
            num = t.number
            if num == len(ids):
                ids.append(t._trial_id)
            started, completed = _timestamp(t.datetime_start), _timestamp(t.datetime_complete)
            rows.append((num, num, int(t.state.value), started, completed))
            values.append(list(t.values) if t.values is not None else [])
            # Every form: constraints_func's list and Trial.set_constraint's
            # "constraints:<name>" attributes (Optuna 5's way), in name order.
            named = split_constraint_attrs(t.system_attrs)[1] or {}
            cons.append([named[k] for k in sorted(named)])
            for name, d in t.distributions.items():
                got = self.dist(name, d)
                if got is not None:
                    keys[got[0]] = got[1]
                    params.append((num, name, got[0], float(d.to_internal_repr(t.params[name]))))
            for step, v in t.intermediate_values.items():
                inter.append((num, int(step), None if math.isnan(v) else float(v)))
        try:
            self.core.apply_remote_batch(rows, values, cons, list(keys.items()), params, inter)
        except Exception:
            # A record the core refuses as a whole: the others are applied one by one.
            left_out = []
            for i, row in enumerate(rows):
                mine = [p for p in params if p[0] == row[0]]
                inter_i = [x for x in inter if x[0] == row[0]]
                try:
                    self.core.apply_remote_batch(
                        [row], [values[i]], [cons[i]], list(keys.items()), mine, inter_i
                    )
                except Exception as e:
                    left_out.append(f"trial {row[1]}: {e}")
            if left_out:
                warnings.warn(
                    f"ferrotune could not read {len(left_out)} trial(s) of Optuna study "
                    f"{self.study_name!r}; its sampler does without them: "
                    + "; ".join(left_out[:5]),
                    RuntimeWarning,
                    stacklevel=2,
                )
        self._take_attrs(batch)
        return self._stale(batch)

    def _take_attrs(self, batch: list[FrozenTrial]) -> None:
        """Tags (a population sampler's generations) and rung records of the batch."""
        attrs = {t.number: t.system_attrs for t in batch if t.system_attrs}
        if not attrs:
            return
        n_core = self.core.n_trials()
        tags = [t for t in sampler_tags(attrs, attrs) if t[0] < n_core]
        if tags:
            self.core.set_tags(tags)
        found = [r for n, a in attrs.items() for r in rung_records(n, a)]
        if found:
            found.sort(key=lambda r: (r[4], r[1]))
            self.core.add_rung_records(found)

    def _stale(self, batch: list[FrozenTrial]) -> bool:
        """Whether a COMPLETE or PRUNED trial of ``batch`` lacks a value the core recorded
        ahead (the samplers read no parameter of a FAIL trial: it is not checked, so an
        objective that often raises costs no rebuilds)."""
        stale = False
        for t in batch:
            spec = self._speculative.get(t.number)
            if spec is None or t.state not in _FINISHED:
                continue
            del self._speculative[t.number]
            if t.state == TrialState.FAIL:
                continue
            for name, (key, value) in spec.items():
                d = t.distributions.get(name)
                if d is None:
                    stale = True
                    continue
                got = self.dist(name, d)
                if got is None or got[0] != key or d.to_internal_repr(t.params[name]) != value:
                    stale = True
        return stale


class Mirrors:
    """The mirrors of one adapter, one per Optuna study (by storage and study id), behind
    one lock (Optuna's ``n_jobs`` threads share a sampler)."""

    def __init__(self, attach: Callable[[_core.StudyCore, str], None]) -> None:
        self._attach = attach
        self._by_study: dict[tuple[int, int], Mirror] = {}
        self.lock = threading.RLock()

    def get(self, study: Study) -> Mirror:
        """The study's mirror, synced (call with :attr:`lock` held)."""
        m = self.known(study)
        if m is None:
            m = Mirror(study, self._attach)
            self._by_study[(id(m.storage), m.study_id)] = m
        m.sync(all_trials(study))
        return m

    def known(self, study: Study) -> Mirror | None:
        """The study's mirror as it is, unsynced; None if there is none yet."""
        storage = storage_of(study)
        m = self._by_study.get((id(storage), study_id_of(study)))
        if m is None or m.storage is not storage or m.study_name != study.study_name:
            return None
        return m

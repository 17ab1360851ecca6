"""Pulling a study's changes from the database into its Rust core: one query per table
for the trials changed since the last look, applied to the core in one call, with a
careful path for rows ferrotune did not write (another tool's, a crash's)."""

from __future__ import annotations

import json
import operator
import threading
import warnings
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Connection

from ferrotune import _core
from ferrotune._gc import paused
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
)
from ferrotune.storages._base import RungRecord, rung_records, sampler_tags
from ferrotune.storages._rdb._transactions import _Database
from ferrotune.trial._state import TO_CORE

if TYPE_CHECKING:
    from ferrotune.storages._rdb._storage import _Choices

_RUNNING, _COMPLETE, _PRUNED, _FAIL, _WAITING = 0, 1, 2, 3, 4
_FINISHED = frozenset((_COMPLETE, _PRUNED, _FAIL))
_STATE_NAMES = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}
_NAN = float("nan")
# The trial id of a trial number that has no row (see `_fail_gaps`).
_NO_ROW = -1
_NAME_AND_DIST = operator.itemgetter(1, 2)


def _split_rest(
    inter: list[Any], number_of: dict[Any, Any], note: Callable[[Any, str], None]
) -> tuple[list[Any], list[tuple[int, int, list[float]]]]:
    """Intermediate rows (trial id, step, value, rest JSON) as the core takes them:
    (trial id, step, value) rows, and (trial id, step, values of objectives 1, 2, ...)
    for the steps of a study with several objectives (NaN for null). An unreadable rest
    is left out (those objectives read as NaN), with a note."""
    plain = [r[:3] for r in inter]
    rest: list[tuple[int, int, list[float]]] = []
    for tid, step, _, raw in inter:
        if raw is None:
            continue
        try:
            vals = [_NAN if x is None else float(x) for x in json.loads(raw)]
        except Exception:
            n = number_of.get(tid)
            note(n, f"trial {n}: intermediate values at step {step!r} left out: {raw!r:.60}")
            continue
        rest.append((tid, step, vals))
    return plain, rest


def _decode_values(raw: Any) -> tuple[list[float], str | None]:
    """A trial row's ``values_json`` as a list of floats, or ([], why) when it is not one
    (the core then loads a COMPLETE trial as FAIL)."""
    if raw is None:
        return [], None
    try:
        decoded = json.loads(raw)
        if not isinstance(decoded, list):
            raise TypeError
        return [_number(v) for v in decoded], None
    except (TypeError, ValueError):
        return [], f"its values {str(raw)[:60]!r} are not a list of numbers"


def _decode_constraints(raw: Any) -> tuple[list[float], str | None]:
    """A trial row's ``constraints_json`` (a JSON object name -> number, in name order),
    or ([], why): unreadable constraints are ignored."""
    if not raw:
        return [], None
    try:
        decoded = json.loads(raw)
        if decoded is None:
            return [], None
        if not isinstance(decoded, dict):
            raise TypeError
        return [_number(decoded[k]) for k in sorted(decoded)], None
    except (TypeError, ValueError):
        return [], f"its constraints {str(raw)[:60]!r} are unreadable and were ignored"


def _real_or_none(v: Any) -> float | None:
    """A database value as a float, or None when it is not a number."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        return float(v)
    except OverflowError:  # an int too large for a float
        return None


def _number(v: Any) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise TypeError(v)
    return float(v)


class _StudyCache:
    """What this process knows of one study: the core mirror and the trials' attrs."""

    def __init__(self, study_id: int, name: str, core: _core.StudyCore, choices: _Choices) -> None:
        self.study_id = study_id
        self.name = name
        self.core = core
        self.choices = choices
        self.seen_seq = -1
        self.trial_ids: dict[int, int] = {}
        self.user_attrs: dict[int, dict[str, Any]] = {}
        self.system_attrs: dict[int, dict[str, Any]] = {}
        # Trials this process started and whose result it tells the core itself.
        self.local: set[int] = set()
        # Of those, the ones whose finish this process is writing now.
        self.finishing: set[int] = set()
        # Parameters recorded but not yet written, by trial number.
        self.pending: dict[int, list[dict[str, Any]]] = {}
        # Rung records this process decided whose transaction did not commit (retried).
        self.unwritten_rungs: list[RungRecord] = []
        self.lock = threading.RLock()


class _Sync(_Database):
    """Keeps each study's core a mirror of the database (see :meth:`sync`)."""

    heartbeat_interval: float | None

    if TYPE_CHECKING:

        def _cache(self, study_id: int) -> _StudyCache: ...
        def _dist(self, dist_json: str) -> tuple[BaseDistribution, _core.Dist]: ...
        def fail_stale_trials(self, study_id: int) -> list[int]: ...

    def sync(self, study_id: int) -> None:
        """Fails stale trials (with heartbeats configured), then pulls the trials changed
        since the last sync into the core: one query per table, changed rows only."""
        cache = self._cache(study_id)
        if self.heartbeat_interval is not None:
            self.fail_stale_trials(study_id)
        with cache.lock, paused():
            since = cache.seen_seq
            rows = self._read(lambda c: self._changed(c, study_id, cache.name, since))
            self._apply(cache, *rows)

    def _reload_trials(self, study_id: int, numbers: list[int]) -> None:
        cache = self._cache(study_id)
        with cache.lock:
            rows = self._read(lambda c: self._changed(c, study_id, cache.name, None, numbers))
            self._apply(cache, *rows, advance=False)

    @staticmethod
    def _changed(
        conn: Connection,
        study_id: int,
        name: str,
        since: int | None,
        numbers: list[int] | None = None,
    ) -> tuple[list[Any], list[Any], list[Any], list[Any]]:
        """The trials changed since change number ``since`` (all when None; only
        ``numbers`` when given), with their parameters, intermediate values and
        attributes: one query per table, as plain DB-API rows (no ORM, no per-row
        type processing). Nothing when the study's id is now another study's (named
        otherwise than ``name``): its trials are not this study's."""
        cond = (
            "t.study_id = ? AND EXISTS (SELECT 1 FROM ft_studies s"
            " WHERE s.study_id = t.study_id AND s.name = ?)"
        )
        args: list[Any] = [study_id, name]
        if since is not None:
            cond += " AND t.seq > ?"
            args.append(since)
        if numbers is not None:
            if not numbers:
                return [], [], [], []
            cond += f" AND t.number IN ({', '.join('?' * len(numbers))})"
            args.extend(numbers)
        queries: Sequence[str] = (
            # Column order: the first five are what `apply_remote_batch` takes.
            "SELECT t.trial_id, t.number, t.state, t.datetime_start, t.datetime_complete,"
            f" t.values_json, t.constraints_json, t.seq FROM ft_trials t WHERE {cond}"
            " ORDER BY t.number",
            "SELECT p.trial_id, p.name, p.distribution_json, p.value FROM ft_trial_params p"
            f" JOIN ft_trials t ON t.trial_id = p.trial_id WHERE {cond}",
            "SELECT i.trial_id, i.step, i.value, i.rest_json FROM ft_trial_intermediate i"
            f" JOIN ft_trials t ON t.trial_id = i.trial_id WHERE {cond}",
            "SELECT a.trial_id, a.kind, a.key, a.value_json FROM ft_trial_attrs a"
            f" JOIN ft_trials t ON t.trial_id = a.trial_id WHERE {cond}",
        )
        if conn.dialect.name != "sqlite":  # psycopg's placeholders
            queries = [q.replace("?", "%s") for q in queries]
        out: list[Any] = []
        for q in queries:
            res = conn.exec_driver_sql(q, tuple(args))
            try:
                # The DB-API cursor's own rows (plain tuples): no per-row Row objects.
                out.append(res.cursor.fetchall())
            finally:
                res.close()
            if not out[0]:
                return [], [], [], []
        return out[0], out[1], out[2], out[3]

    def _apply(
        self,
        cache: _StudyCache,
        trial_rows: list[Any],
        params: list[Any],
        inter: list[Any],
        attrs: list[Any],
        advance: bool = True,
    ) -> None:
        """Feeds rows from :meth:`_changed` to the core in one call (JSON decoded in
        one pass per column), and refreshes this process's trial ids and attrs.

        Rows as ferrotune writes them take the fast path; any other row (another tool's,
        a crash's) is loaded as FAIL or with its unreadable part left out, with one
        RuntimeWarning: a bad row never makes the study unreadable."""
        if not trial_rows:
            return
        full_load = cache.seen_seq < 0 and advance
        problems: dict[int, str] = {}

        def note(number: Any, why: str) -> None:
            key = number if isinstance(number, int) else -1
            problems[key] = f"{problems[key]}; {why}" if key in problems else why

        tids, numbers, _, _, _, _, _, seqs = zip(*trial_rows, strict=True)
        number_of = dict(zip(tids, numbers, strict=True))
        dists, params = self._load_dists(cache, params, number_of, note)
        cache.trial_ids.update(zip(numbers, tids, strict=True))
        self._refresh_attrs(cache, numbers, attrs, number_of, note)
        local = cache.local
        if local and not local.isdisjoint(numbers):
            # This process tells the core about its own trials itself.
            core = cache.core
            n_trials = core.n_trials()
            mine = local.intersection(numbers)
            for number in mine:
                if number < n_trials and core.state(number) != TO_CORE[_RUNNING]:
                    local.discard(number)
            # A trial of this process that another one finished (a worker telling it,
            # a stale heartbeat failing it): the core takes the database's result,
            # unless this process is writing its own finish now.
            elsewhere = {
                r[1]
                for r in trial_rows
                if r[1] in local and r[2] in _FINISHED and r[1] not in cache.finishing
            }
            local.difference_update(elsewhere)
            mine -= elsewhere
            trial_rows = [r for r in trial_rows if r[1] not in mine]
        if trial_rows:
            inter, rest = _split_rest(inter, number_of, note)
            self._apply_trials(cache, trial_rows, list(dists.items()), params, inter, note, rest)
        self._take_rung_records(cache, numbers)
        n_core = cache.core.n_trials()
        tags = [t for t in sampler_tags(cache.system_attrs, numbers) if t[0] < n_core]
        if tags:
            cache.core.set_tags(tags)
        if full_load:
            self._fail_gaps(cache, numbers, note)
        if problems:
            self._warn_rejected(cache.study_id, problems)
        if advance:
            cache.seen_seq = max(cache.seen_seq, max(seqs))

    @staticmethod
    def _take_rung_records(cache: _StudyCache, numbers: Sequence[Any]) -> None:
        """Gives the core the rung records (system attributes ``completed_rung_*``) of the
        changed trials ``numbers``, in their serialized order; the core skips those it
        holds, so a record costs once however often its trial changes."""
        system = cache.system_attrs
        found = [r for n in numbers if n in system for r in rung_records(n, system[n])]
        if found:
            # One transaction can record several rungs of a trial under one order.
            found.sort(key=lambda r: (r[4], r[1]))
            cache.core.add_rung_records(found)

    def _load_dists(
        self,
        cache: _StudyCache,
        params: list[Any],
        number_of: dict[Any, Any],
        note: Callable[[Any, str], None],
    ) -> tuple[dict[str, _core.Dist], list[Any]]:
        """The core distribution of each distribution JSON the parameter rows use, and
        the rows whose distribution could be read; new categorical choices join the
        study's."""
        dists: dict[str, _core.Dist] = {}
        bad_dists: set[str] = set()
        choices = cache.choices
        for name, dj in set(map(_NAME_AND_DIST, params)):
            try:
                dist, core_dist = self._dist(dj)
            except Exception:
                bad_dists.add(dj)
                continue
            dists[dj] = core_dist
            if isinstance(dist, CategoricalDistribution) and name not in choices:
                choices._load(name, dist)
        if bad_dists:
            for tid, name, dj, _ in params:
                if dj in bad_dists and tid in number_of:
                    note(
                        number_of[tid],
                        f"trial {number_of[tid]}: parameter {name!r} left out: its "
                        f"distribution {str(dj)[:60]!r} is unreadable",
                    )
            params = [p for p in params if p[2] not in bad_dists]
        return dists, params

    @staticmethod
    def _refresh_attrs(
        cache: _StudyCache,
        numbers: Sequence[Any],
        attrs: list[Any],
        number_of: dict[Any, Any],
        note: Callable[[Any, str], None],
    ) -> None:
        """Replaces the cached attributes of the changed trials ``numbers`` by what the
        database holds (``attrs`` rows; those that are not JSON are left out)."""
        user, system = cache.user_attrs, cache.system_attrs
        if user or system:
            for number in numbers:
                user.pop(number, None)
                system.pop(number, None)
        if not attrs:
            return
        try:
            decoded = json.loads("[" + ",".join([r[3] for r in attrs]) + "]")
            if len(decoded) != len(attrs):
                raise ValueError("rows and decoded attributes differ in length")
        except Exception:  # another tool's rows: decoded one by one
            decoded = []
            kept = []
            for r in attrs:
                try:
                    decoded.append(json.loads(r[3]))
                    kept.append(r)
                except Exception:
                    n = number_of.get(r[0])
                    note(n, f"trial {n}: attribute {r[2]!r} left out: it is not JSON")
            attrs = kept
        for (tid, kind, key, _), value in zip(attrs, decoded, strict=True):
            number = number_of.get(tid)
            if number is not None:
                (user if kind == "user" else system).setdefault(number, {})[key] = value

    def _apply_trials(
        self,
        cache: _StudyCache,
        trial_rows: list[Any],
        dist_items: list[tuple[str, _core.Dist]],
        params: list[Any],
        inter: list[Any],
        note: Callable[[Any, str], None],
        rest: Sequence[tuple[int, int, list[float]]] = (),
    ) -> None:
        """Applies trial rows to the core in one batch (values and constraints decoded
        in one JSON pass per column); rows not as ferrotune writes them go through
        :meth:`_apply_careful`. ``rest``: see :func:`_split_rest`."""
        rows = [r[:5] for r in trial_rows]
        rejected: list[tuple[int, str]] = []
        try:
            # One JSON pass per column, for rows as ferrotune writes them.
            values = json.loads("[" + ",".join([r[5] or "[]" for r in trial_rows]) + "]")
            if any(r[6] for r in trial_rows):
                cons = [
                    [float(c[k]) for k in sorted(c)] if c else []
                    for c in json.loads("[" + ",".join([r[6] or "null" for r in trial_rows]) + "]")
                ]
            else:
                cons = [[]] * len(trial_rows)
            if len(values) != len(rows) or len(cons) != len(rows):
                raise ValueError("rows and decoded columns differ in length")
            rejected = cache.core.apply_remote_batch(
                rows, values, cons, dist_items, params, inter, rest
            )
        except Exception:  # another tool's rows: checked one by one
            rejected = self._apply_careful(cache, trial_rows, dist_items, params, inter, note, rest)
        for number, why in rejected:
            note(number, why)

    @staticmethod
    def _apply_careful(
        cache: _StudyCache,
        trial_rows: list[Any],
        dist_items: list[tuple[str, _core.Dist]],
        params: list[Any],
        inter: list[Any],
        note: Callable[[Any, str], None],
        rest: Sequence[tuple[int, int, list[float]]] = (),
    ) -> list[tuple[int, str]]:
        """:meth:`_apply` for rows not as ferrotune writes them: each row and column is
        checked, what cannot be read is left out (a trial's values: loaded as FAIL),
        and a trial the core still refuses (a number far beyond the study) is left out
        alone, the others applied."""
        rows, values, cons = [], [], []
        for r in trial_rows:
            tid, number, state, started, completed = r[:5]
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                note(number, f"a trial record with number {number!r} was left out")
                continue
            v, why_v = _decode_values(r[5])
            c, why_c = _decode_constraints(r[6])
            why = "; ".join(w for w in (why_v, why_c) if w)
            if isinstance(state, bool) or not isinstance(state, int) or not 0 <= state < 256:
                why = "; ".join(w for w in (why, f"its state {state!r} is unknown") if w)
                state, v = _FAIL, []
            times = (_real_or_none(started), _real_or_none(completed))
            if times != (started, completed):
                why = "; ".join(w for w in (why, "its unreadable times were left out") if w)
            if why:
                note(number, f"trial {number}: {why}")
            started, completed = times
            rows.append((tid, number, state, started, completed))
            values.append(v)
            cons.append(c)
        number_of = {r[0]: r[1] for r in rows}
        good_params = []
        for p in params:
            tid, name, _, value = p
            if tid not in number_of:
                continue
            if not isinstance(name, str) or _real_or_none(value) is None:
                n = number_of[tid]
                note(
                    n, f"trial {n}: parameter {name!r} left out: its value {value!r} is unreadable"
                )
                continue
            good_params.append((tid, name, p[2], float(value)))
        good_inter = []
        for tid, step, value in inter:
            if tid not in number_of:
                continue
            ok_step = (
                not isinstance(step, bool) and isinstance(step, int) and -(2**63) <= step < 2**63
            )
            if not ok_step or (value is not None and _real_or_none(value) is None):
                n = number_of[tid]
                note(
                    n,
                    f"trial {n}: intermediate value {value!r} at step {step!r} left out: "
                    "not a number",
                )
                continue
            good_inter.append((tid, step, None if value is None else float(value)))
        core = cache.core
        try:
            return core.apply_remote_batch(rows, values, cons, dist_items, good_params, good_inter)
        except Exception:
            pass
        # Trial by trial (applying is idempotent): only the trials the core refuses are
        # left out.
        rejected: list[tuple[int, str]] = []
        for row, v, c in zip(rows, values, cons, strict=True):
            tid = row[0]
            mine_p = [p for p in good_params if p[0] == tid]
            mine_i = [i for i in good_inter if i[0] == tid]
            mine_r = [r for r in rest if r[0] == tid]
            try:
                rejected += core.apply_remote_batch(
                    [row], [v], [c], dist_items, mine_p, mine_i, mine_r
                )
            except Exception as e:
                note(row[1], f"trial {row[1]} was left out: {e}")
        return rejected

    @staticmethod
    def _fail_gaps(
        cache: _StudyCache, numbers: Sequence[Any], note: Callable[[Any, str], None]
    ) -> None:
        """After a first load: a trial number without a record (its row was deleted or
        left out) is FAIL in the core, not a RUNNING placeholder forever."""
        core = cache.core
        n_trials = core.n_trials()
        loaded = {n for n in numbers if isinstance(n, int) and 0 <= n < n_trials}
        if len(loaded) == n_trials:
            return
        for number in range(n_trials):
            if number not in loaded and core.state(number) == TO_CORE[_RUNNING]:
                core.apply_remote(number, TO_CORE[_FAIL], [], [], [], [], _NAN, _NAN)
                # No row: no attributes to read, nothing to write.
                cache.trial_ids.setdefault(number, _NO_ROW)
                note(number, f"trial {number} has no readable record: loaded as FAIL")

    def _warn_rejected(self, study_id: int, problems: dict[int, str]) -> None:
        """One warning for the trial records that were not as ferrotune writes them."""
        try:
            study = repr(self.get_study_name_from_id(study_id))
        except Exception:  # the warning must not fail the load
            study = f"id {study_id}"
        shown = [problems[n] for n in sorted(problems)[:10]]
        more = f"; and {len(problems) - 10} more" if len(problems) > 10 else ""
        warnings.warn(
            f"{len(problems)} trial record(s) of study {study} in {self._where()} are not "
            f"as ferrotune writes them (another tool, a crash, or workers that gave a parameter "
            f"distributions of different kinds): {'; '.join(shown)}{more}",
            RuntimeWarning,
            stacklevel=2,
        )

"""The trial writes of :class:`~ferrotune.storages.RDBStorage`: each trial change is one
short transaction that takes the study's next change number; parameters wait for the
trial's next write; heartbeats keep running trials alive and stale ones are failed."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ferrotune._gc import paused
from ferrotune.distributions import (
    distribution_to_json,
)
from ferrotune.exceptions import (
    InvalidTrialError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from ferrotune.storages._base import FIXED_PARAMS_KEY, check_fixed_params, rung_attr, to_json
from ferrotune.storages._rdb import _schema as S  # noqa: N812
from ferrotune.storages._rdb._sync import (
    _COMPLETE,
    _FAIL,
    _NAN,
    _PRUNED,
    _RUNNING,
    _STATE_NAMES,
    _WAITING,
    _StudyCache,
    _Sync,
)
from ferrotune.storages._rdb._transactions import _T
from ferrotune.trial._state import TO_CORE

if TYPE_CHECKING:
    from ferrotune.storages._rdb._storage import RDBStorage
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState


class _Heartbeat:
    """Keeps a running trial's heartbeat fresh from a daemon thread."""

    def __init__(self, storage: _TrialWrites, study_id: int, number: int, interval: float) -> None:
        self._storage = storage
        self._study_id = study_id
        self._number = number
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Heartbeat:
        self._storage._beat(self._study_id, self._number)
        self._thread = threading.Thread(
            target=self._run, name=f"ferrotune-heartbeat-{self._number}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            # A lost beat (a passing database error) is retried at the next one.
            with contextlib.suppress(Exception):
                self._storage._beat(self._study_id, self._number)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class _TrialWrites(_Sync):
    """The trial methods of the storage interface, written to the database."""

    grace_period: float | None
    failed_trial_callback: Callable[[Study, FrozenTrial], None] | None
    _names: dict[int, str]
    _lock: threading.RLock
    _helper: RDBStorage | None
    _helper_studies: dict[int, Study]

    def _take_pending(self, study_id: int, number: int) -> list[dict[str, Any]]:
        cache = self._cache(study_id)
        with cache.lock:
            return cache.pending.pop(number, [])

    def _put_back(self, study_id: int, number: int, rows: list[dict[str, Any]]) -> None:
        if rows:
            cache = self._cache(study_id)
            with cache.lock:
                cache.pending[number] = rows + cache.pending.get(number, [])

    def _with_pending(
        self, study_id: int, number: int, fn: Callable[[Connection, list[dict[str, Any]]], _T]
    ) -> _T:
        """Runs ``fn(conn, rows)`` in a write transaction with the trial's parameters not
        yet written (``rows``); they are kept for a later write when it fails."""
        rows = self._take_pending(study_id, number)
        try:
            return self._write(lambda conn: fn(conn, rows))
        except BaseException:
            self._put_back(study_id, number, rows)
            raise

    def flush(self, study_id: int, number: int | None = None) -> None:
        """Writes the parameters recorded but not yet written (of one trial, or all)."""
        cache = self._cache(study_id)
        with cache.lock:
            numbers = [n for n in cache.pending if number is None or n == number]
        for n in numbers:
            tid = self._trial_id(study_id, n)

            def tx(conn: Connection, rows: list[dict[str, Any]], tid: int = tid) -> None:
                if rows:
                    self._touch(conn, study_id, tid, running=False)
                    self._upsert_params(conn, rows)

            self._with_pending(study_id, n, tx)

    # ------------------------------------------------------------------ trials
    def _bump(self, conn: Connection, study_id: int, new_number: bool = False) -> tuple[int, int]:
        """Takes the study's next change number (and trial number); locks the study row,
        so changes commit in the order of their numbers.

        Raises:
            StudyNotFoundError: The study's row is gone, or the id is now another
                study's (every trial write takes a change number, so none of them
                writes into another study).
        """
        # Plain SQL on the per-change path: building SQLAlchemy statements cost more than
        # the database's work here.
        sql = "UPDATE ft_studies SET seq = seq + 1"
        if new_number:
            sql += ", next_number = next_number + 1"
        sql += " WHERE study_id = ?"
        args: tuple[Any, ...] = (study_id,)
        name = self._names.get(study_id)
        if name is not None:
            sql += " AND name = ?"
            args += (name,)
        row = self._driver(conn, sql + " RETURNING seq, next_number", args).first()
        if row is None:
            raise self._gone(study_id)
        return int(row[0]), int(row[1]) - 1

    def _driver(self, conn: Connection, sql: str, args: tuple[Any, ...]) -> Any:
        """Runs plain SQL written with ``?`` placeholders (psycopg's ``%s`` on PostgreSQL)."""
        if self._postgres:
            sql = sql.replace("?", "%s")
        return conn.exec_driver_sql(sql, args)

    def _gone(self, study_id: int) -> StudyNotFoundError:
        name = self._names.get(study_id)
        what = f"id {study_id}" if name is None else f"{name!r} (id {study_id})"
        return StudyNotFoundError(
            f"no study {what} in {self._where()}: it was deleted, and this study's object "
            "cannot be used any more"
        )

    def _check_study(self, conn: Connection, study_id: int) -> None:
        """Raises StudyNotFoundError unless the study's row is there, with its name."""
        found = conn.execute(
            sa.select(S.studies.c.name).where(S.studies.c.study_id == study_id)
        ).scalar()
        name = self._names.get(study_id)
        if found is None or (name is not None and found != name):
            raise self._gone(study_id)

    def _trial_id(self, study_id: int, number: int, conn: Connection | None = None) -> int:
        cache = self._cache(study_id)
        tid = cache.trial_ids.get(number)
        if tid is not None:
            return tid

        def q(c: Connection) -> Any:
            return c.execute(
                sa.select(S.trials.c.trial_id).where(
                    S.trials.c.study_id == study_id, S.trials.c.number == number
                )
            ).scalar()

        found = q(conn) if conn is not None else self._read(q)
        if found is None:
            raise KeyError(f"no trial with number {number}")
        cache.trial_ids[number] = int(found)
        return int(found)

    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        cache = self._cache(study_id)
        self.sync(study_id)  # fails stale trials first
        now = time.time()

        def tx(conn: Connection) -> tuple[int, int, dict[str, Any], bool]:
            seq, _ = self._bump(conn, study_id)
            sel = (
                sa.select(S.trials.c.trial_id, S.trials.c.number)
                .where(S.trials.c.study_id == study_id, S.trials.c.state == _WAITING)
                .order_by(S.trials.c.number)
                .limit(1)
            )
            if self._postgres:
                sel = sel.with_for_update(skip_locked=True)
            waiting = conn.execute(sel).first()
            if waiting is not None:
                tid, number = int(waiting[0]), int(waiting[1])
                conn.execute(
                    sa.update(S.trials)
                    .where(S.trials.c.trial_id == tid, S.trials.c.state == _WAITING)
                    .values(state=_RUNNING, datetime_start=now, seq=seq)
                )
                fixed = conn.execute(
                    sa.select(S.trial_attrs.c.value_json).where(
                        S.trial_attrs.c.trial_id == tid,
                        S.trial_attrs.c.kind == "system",
                        S.trial_attrs.c.key == FIXED_PARAMS_KEY,
                    )
                ).scalar()
                return tid, number, (json.loads(fixed) if fixed else {}), True
            tid, number = self._insert_running(conn, study_id, seq, now)
            return tid, number, {}, False

        tid, number, fixed, popped = self._write(tx)
        with cache.lock:
            cache.trial_ids[number] = tid
            cache.local.add(number)
            if popped:
                cache.core.apply_remote(number, TO_CORE[_RUNNING], [], [], [], [], now, _NAN)
            else:
                cache.core.ensure_trial(number, TO_CORE[_RUNNING])
                # The database's start time, so that this process and a reload agree.
                cache.core.set_times(number, started=now)
        return number, dict(fixed)

    def _insert_running(
        self, conn: Connection, study_id: int, seq: int, now: float
    ) -> tuple[int, int]:
        """Inserts a new RUNNING trial with the study's next number: (trial id, number)."""
        _, number = self._bump(conn, study_id, new_number=True)
        res = conn.execute(
            sa.insert(S.trials).values(
                study_id=study_id, number=number, state=_RUNNING, datetime_start=now, seq=seq
            )
        )
        pk = res.inserted_primary_key
        assert pk is not None
        return int(pk[0]), number

    def enqueue_trial(self, study_id: int, params: dict[str, Any]) -> int:
        check_fixed_params(params)
        cache = self._cache(study_id)
        fixed_json = json.dumps(dict(params))

        def tx(conn: Connection) -> tuple[int, int]:
            seq, number = self._bump(conn, study_id, new_number=True)
            res = conn.execute(
                sa.insert(S.trials).values(
                    study_id=study_id, number=number, state=_WAITING, seq=seq
                )
            )
            pk = res.inserted_primary_key
            assert pk is not None
            tid = int(pk[0])
            conn.execute(
                sa.insert(S.trial_attrs).values(
                    trial_id=tid, kind="system", key=FIXED_PARAMS_KEY, value_json=fixed_json
                )
            )
            return tid, number

        tid, number = self._write(tx)
        with cache.lock:
            cache.trial_ids[number] = tid
            cache.system_attrs.setdefault(number, {})[FIXED_PARAMS_KEY] = json.loads(fixed_json)
            cache.core.ensure_trial(number, TO_CORE[_WAITING])
        return number

    def _touch(self, conn: Connection, study_id: int, tid: int, running: bool = True) -> int:
        """Marks a trial changed and returns its new change number; checks it is RUNNING
        if asked."""
        seq, _ = self._bump(conn, study_id)
        sql = "UPDATE ft_trials SET seq = ? WHERE trial_id = ?"
        if running:
            sql += f" AND state = {_RUNNING}"
        res = self._driver(conn, sql, (seq, tid))
        if res.rowcount == 0:
            state = conn.execute(
                sa.select(S.trials.c.state).where(S.trials.c.trial_id == tid)
            ).scalar()
            number = conn.execute(
                sa.select(S.trials.c.number).where(S.trials.c.trial_id == tid)
            ).scalar()
            finished = int(state or 0) in (_COMPLETE, _PRUNED, _FAIL)
            raise (UpdateFinishedTrialError if finished else InvalidTrialError)(
                f"trial {number} is {_STATE_NAMES.get(int(state or 0), state)}, not RUNNING: "
                "it cannot be changed"
            )
        return seq

    def create_new_trial(self, study_id: int, *, started: float | None = None) -> int:
        cache = self._cache(study_id)
        now = time.time() if started is None else started

        def tx(conn: Connection) -> tuple[int, int]:
            seq, _ = self._bump(conn, study_id)
            return self._insert_running(conn, study_id, seq, now)

        tid, number = self._write(tx)
        with cache.lock:
            cache.trial_ids[number] = tid
            cache.local.add(number)
            cache.core.ensure_trial(number, TO_CORE[_RUNNING])
            cache.core.set_times(number, started=now)
        return number

    def _buffer_param(
        self, study_id: int, number: int, name: str, dist: Any, internal: float
    ) -> None:
        """Keeps a parameter row for the database: it is written with the trial's next
        change (a report, an attribute, a heartbeat or the finish; at the latest one
        heartbeat interval after it was suggested), in one transaction with that change."""
        S.check_name("parameter", name)
        tid = self._trial_id(study_id, number)
        row = {
            "trial_id": tid,
            "name": name,
            "distribution_json": distribution_to_json(dist),
            "value": float(internal),
        }
        cache = self._cache(study_id)
        with cache.lock:
            cache.pending.setdefault(number, []).append(row)

    def record_intermediate(
        self, study_id: int, number: int, step: int, value: float | Sequence[float]
    ) -> None:
        core = self._cache(study_id).core
        if isinstance(value, (int, float)):
            core.report(number, step, value)
            first, rest_json = float(value), None
        else:
            vector = [float(x) for x in value]
            core.report_vector(number, step, vector)
            # Objectives 1, 2, ... in `rest_json` (null for NaN), objective 0 in `value`.
            first = vector[0]
            rest_json = json.dumps([None if math.isnan(x) else x for x in vector[1:]])
        tid = self._trial_id(study_id, number)
        v = None if math.isnan(first) else first

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> int:
            seq = self._touch(conn, study_id, tid)
            if rows:
                self._upsert_params(conn, rows)
            # A step reported twice keeps its first value.
            self._driver(
                conn,
                "INSERT INTO ft_trial_intermediate (trial_id, step, value, rest_json)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (trial_id, step) DO NOTHING",
                (tid, step, v, rest_json),
            )
            return seq

        self._seen_own(study_id, self._with_pending(study_id, number, tx))

    def _seen_own(self, study_id: int, seq: int) -> None:
        """After this process committed change ``seq`` (already in its core): when every
        earlier change was seen, the next sync starts after it (a worker's own reports
        are not read back)."""
        cache = self._cache(study_id)
        with cache.lock:
            if cache.seen_seq == seq - 1:
                cache.seen_seq = seq

    def record_constraints(self, study_id: int, number: int, values: dict[str, float]) -> None:
        super().record_constraints(study_id, number, values)
        tid = self._trial_id(study_id, number)
        cj = json.dumps(dict(values))

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> None:
            self._touch(conn, study_id, tid, running=False)
            if rows:
                self._upsert_params(conn, rows)
            conn.execute(
                sa.update(S.trials).where(S.trials.c.trial_id == tid).values(constraints_json=cj)
            )

        self._with_pending(study_id, number, tx)

    def finish_trial(
        self,
        study_id: int,
        number: int,
        state: TrialState,
        values: list[float],
        *,
        completed: float | None = None,
    ) -> None:
        cache = self._cache(study_id)
        tid = self._trial_id(study_id, number)
        now = time.time() if completed is None else completed
        vj = json.dumps([float(v) for v in values]) if values else None
        with cache.lock:
            # This method tells the core below: a concurrent sync must not do it first.
            cache.local.add(number)
            cache.finishing.add(number)

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> int | None:
            seq, _ = self._bump(conn, study_id)
            res = conn.execute(
                sa.update(S.trials)
                .where(S.trials.c.trial_id == tid, S.trials.c.state == _RUNNING)
                .values(state=int(state), values_json=vj, datetime_complete=now, seq=seq)
            )
            if res.rowcount == 1:
                if rows:
                    self._upsert_params(conn, rows)
                return None
            st = conn.execute(sa.select(S.trials.c.state).where(S.trials.c.trial_id == tid))
            return int(st.scalar_one())

        try:
            self._finish(cache, study_id, number, state, values, now, tx)
        finally:
            with cache.lock:
                cache.finishing.discard(number)

    def _finish(
        self,
        cache: _StudyCache,
        study_id: int,
        number: int,
        state: TrialState,
        values: list[float],
        now: float,
        tx: Callable[[Connection, list[dict[str, Any]]], int | None],
    ) -> None:
        try:
            current = self._with_pending(study_id, number, tx)
        except BaseException:
            with cache.lock:
                cache.local.discard(number)
            raise
        if current is not None:
            with cache.lock:
                cache.local.discard(number)
                if cache.core.state(number) == TO_CORE[_RUNNING]:
                    # Finished elsewhere (for example failed through a stale heartbeat):
                    # the core follows the database.
                    self._reload_trials(study_id, [number])
            raise UpdateFinishedTrialError(
                f"trial {number} is {_STATE_NAMES.get(current, current)}, not RUNNING: "
                "it was already finished"
            )
        with cache.lock:
            core = cache.core
            if number < core.n_trials() and core.state(number) == TO_CORE[_RUNNING]:
                core.tell(number, TO_CORE[state], values)
                core.set_times(number, completed=now)
            else:
                # The core never saw the trial run (another process started it).
                cache.local.discard(number)
                self._reload_trials(study_id, [number])

    # ------------------------------------------------------------------ pruning
    def should_prune(self, study_id: int, number: int) -> bool:
        """The study's Rust pruner's answer for trial ``number``.

        Between two rungs of successive halving the answer needs no database work (the
        trial's own reports decide). A trial reaching a rung is decided in one write
        transaction that locks the study (its change counter: SQLite's ``BEGIN
        IMMEDIATE``, PostgreSQL's row lock), takes in the changes committed since this
        process last looked (the other workers' rung records among them), decides, and
        stores the record (``completed_rung_{k}``) numbered by that counter: workers
        reaching a rung at once are ordered, and each sees the records before its own.
        Other pruners sync, then decide.
        """
        core = self._cache(study_id).core
        code = core.prune_check(number)
        if code == 3:  # needs the other workers' finished trials
            self.sync(study_id)
            code = core.prune_check(number)
            if code == 3:
                return bool(core.should_prune(number))
        if code < 2:
            return code == 1
        return self._prune_at_rung(study_id, number)

    def _prune_at_rung(self, study_id: int, number: int) -> bool:
        """The serialized step of :meth:`should_prune` for a trial reaching a rung."""
        cache = self._cache(study_id)
        tid = self._trial_id(study_id, number)
        # Records this call writes: its own, and any kept from a transaction that did not
        # commit; kept across retries of `tx`, put back if it never commits.
        taken: list[Any] = []

        def tx(conn: Connection) -> tuple[bool, list[Any], int]:
            seq, _ = self._bump(conn, study_id)  # locks the study until commit
            with cache.lock, paused():
                rows = self._changed(conn, study_id, cache.name, cache.seen_seq)
                self._apply(cache, *rows)
                pruned, made = cache.core.prune(number, seq)
                taken.extend(cache.unwritten_rungs)
                cache.unwritten_rungs.clear()
                taken.extend(made)
            # Numbered by this transaction (a lock wait fails at the change number above,
            # before anything was decided).
            todo = [(*r[:4], seq) for r in taken]
            for record in todo:
                key, value = rung_attr(record)
                rid = tid if record[0] == number else self._trial_id(study_id, record[0], conn)
                self._driver(
                    conn,
                    "INSERT INTO ft_trial_attrs (trial_id, kind, key, value_json)"
                    " VALUES (?, 'system', ?, ?) ON CONFLICT (trial_id, kind, key)"
                    " DO UPDATE SET value_json = excluded.value_json",
                    (rid, key, json.dumps(value)),
                )
                # After the read above: a rolled-back change number is never skipped.
                self._driver(conn, "UPDATE ft_trials SET seq = ? WHERE trial_id = ?", (seq, rid))
            return pruned, todo, seq

        try:
            pruned, written, seq = self._write(tx)
        except BaseException:
            with cache.lock:
                cache.unwritten_rungs[:0] = taken
            raise
        with cache.lock:
            # Every change before `seq` was read under the study's lock; `seq` is ours.
            cache.seen_seq = max(cache.seen_seq, seq)
            for record in written:
                key, value = rung_attr(record)
                cache.system_attrs.setdefault(record[0], {})[key] = value
        return pruned

    # ------------------------------------------------------------------ trial attrs
    def _set_trial_attr(self, study_id: int, number: int, kind: str, key: str, value: Any) -> None:
        S.check_name(f"trial {kind} attribute", key)
        cache = self._cache(study_id)
        vj = to_json(value, f"trial {kind} attribute {key!r}")
        tid = self._trial_id(study_id, number)

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> None:
            self._touch(conn, study_id, tid, running=False)
            if rows:
                self._upsert_params(conn, rows)
            conn.execute(
                self._upsert(
                    S.trial_attrs,
                    {"trial_id": tid, "kind": kind, "key": key, "value_json": vj},
                    ["trial_id", "kind", "key"],
                )
            )

        self._with_pending(study_id, number, tx)
        store = cache.user_attrs if kind == "user" else cache.system_attrs
        with cache.lock:
            store.setdefault(number, {})[key] = json.loads(vj)

    def _get_trial_attrs(self, study_id: int, number: int, kind: str) -> dict[str, Any]:
        cache = self._cache(study_id)
        store = cache.user_attrs if kind == "user" else cache.system_attrs
        with cache.lock:
            hit = store.get(number)
            if hit is not None:
                if not hit:
                    return {}
                copied: dict[str, Any] = json.loads(json.dumps(hit))  # a deep copy
                return copied
        if number not in cache.trial_ids:
            self._trial_id(study_id, number)
        return {}

    def get_trials_attrs(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        cache = self._cache(study_id)
        with cache.lock:
            unknown = [n for n in numbers if n not in cache.trial_ids]
        for n in unknown:
            self._trial_id(study_id, n)  # KeyError for a trial the database lacks
        out: list[list[dict[str, Any]]] = []
        with cache.lock:
            for store in (cache.user_attrs, cache.system_attrs):
                if not store:
                    out.append([{} for _ in numbers])
                    continue
                # One JSON round trip deep-copies them all.
                found = json.loads(json.dumps([store.get(n) for n in numbers]))
                out.append([{} if a is None else a for a in found])
        return out[0], out[1]

    def set_trial_user_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        self._set_trial_attr(study_id, number, "user", key, value)

    def set_trial_system_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        self._set_trial_attr(study_id, number, "system", key, value)

    def get_trial_user_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return self._get_trial_attrs(study_id, number, "user")

    def get_trial_system_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return self._get_trial_attrs(study_id, number, "system")

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, study_id: int, number: int) -> Any:
        if self.heartbeat_interval is None:
            return super().heartbeat(study_id, number)
        return _Heartbeat(self, study_id, number, self.heartbeat_interval)

    def _clock(self) -> Any:
        """Now, in seconds since the epoch, for heartbeats and their stale check: the
        server's clock on PostgreSQL (as Optuna's storage reads it), so that workers on
        machines whose clocks differ never fail each other's live trials; this
        machine's for a SQLite file (one machine)."""
        if self._postgres:
            return sa.func.extract("epoch", sa.func.clock_timestamp())
        return time.time()

    def _beat(self, study_id: int, number: int) -> None:
        tid = self._trial_id(study_id, number)
        now = self._clock()

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> None:
            if rows:
                self._touch(conn, study_id, tid)
                self._upsert_params(conn, rows)
            else:
                self._check_study(conn, study_id)
            conn.execute(
                sa.update(S.trials)
                .where(S.trials.c.trial_id == tid, S.trials.c.state == _RUNNING)
                .values(heartbeat=now)
            )

        self._with_pending(study_id, number, tx)

    def fail_stale_trials(self, study_id: int) -> list[int]:
        """Marks FAIL the RUNNING trials whose heartbeat is older than the grace period,
        calls ``failed_trial_callback`` for each, and returns their numbers.

        Only this call's own transitions are returned: when several workers look at once,
        each stale trial is failed (and retried) by exactly one of them.
        """
        if self.heartbeat_interval is None or self.grace_period is None:
            return []
        deadline = self._clock() - self.grace_period
        t = S.trials
        stale = self._read(
            lambda c: c.execute(
                sa.select(t.c.trial_id, t.c.number).where(
                    t.c.study_id == study_id,
                    t.c.state == _RUNNING,
                    t.c.heartbeat.is_not(None),
                    t.c.heartbeat < deadline,
                )
            ).all()
        )
        failed: list[int] = []
        for tid, number in stale:

            def tx(conn: Connection, tid: int = int(tid)) -> bool:
                seq, _ = self._bump(conn, study_id)
                res = conn.execute(
                    sa.update(t)
                    .where(t.c.trial_id == tid, t.c.state == _RUNNING, t.c.heartbeat < deadline)
                    .values(state=_FAIL, datetime_complete=time.time(), seq=seq)
                )
                return bool(res.rowcount == 1)

            if self._write(tx):
                failed.append(int(number))
        if failed and self.failed_trial_callback is not None:
            study = self._callback_study(study_id)
            assert self._helper is not None, "the callback study lives on the helper storage"
            self._helper.sync(study_id)
            for number in failed:
                self.failed_trial_callback(study, study.get_trial(number))
        return failed

    def _callback_study(self, study_id: int) -> Study:
        """A Study for failed-trial callbacks, on a twin storage with a core of its own
        (so that the user's sampler on this storage's core is left alone)."""
        from ferrotune.samplers import RandomSampler
        from ferrotune.storages._rdb._storage import RDBStorage
        from ferrotune.study._study import Study

        with self._lock:
            study = self._helper_studies.get(study_id)
            if study is None:
                if self._helper is None:
                    # No heartbeats: the helper never fails trials itself.
                    self._helper = RDBStorage(self.url, _engine=self._engine)
                name = self.get_study_name_from_id(study_id)
                study = Study(name, self._helper, sampler=RandomSampler())
                self._helper_studies[study_id] = study
            return study

"""Relational-database storage: SQLite on one machine, PostgreSQL across machines."""

from __future__ import annotations

import contextlib
import json
import logging
import math
import operator
import os
import threading
import time
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, IntegrityError, OperationalError

from ferrotune import _core
from ferrotune._gc import paused
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    distribution_to_json,
    json_to_distribution,
)
from ferrotune.exceptions import (
    DuplicatedStudyError,
    IncompatibleDistributionError,
    IncompatibleStorageError,
    InvalidArgumentError,
    InvalidTrialError,
    MissingDependencyError,
    StorageLockedError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from ferrotune.storages._base import BaseStorage, check_fixed_params, to_json
from ferrotune.storages._rdb import _schema as S  # noqa: N812

if TYPE_CHECKING:
    from ferrotune.study._direction import StudyDirection
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["RDBStorage"]

_T = TypeVar("_T")

_logger = logging.getLogger("ferrotune.storages")

_RUNNING, _COMPLETE, _PRUNED, _FAIL, _WAITING = 0, 1, 2, 3, 4
_STATE_NAMES = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}
_NAN = float("nan")
# The trial id of a trial number that has no row (see `_fail_gaps`).
_NO_ROW = -1
_NAME_AND_DIST = operator.itemgetter(1, 2)
_FIXED_KEY = "fixed_params"
# A key for PostgreSQL's advisory lock around schema creation ("ferrotun" in ASCII).
_SCHEMA_LOCK_KEY = 0x6665_7272_6F74_756E
#: Seconds a transaction waits for a locked database before StorageLockedError.
DEFAULT_LOCK_TIMEOUT = 20.0
# Longest single wait inside SQLite's busy handler (and PostgreSQL's lock_timeout): the
# retry loop checks its deadline between two.
_LOCK_SLICE = 1.0
# Seconds between two log lines of a transaction waiting for a lock.
_LOCK_LOG_EVERY = 5.0
# Tables of Optuna's RDB storage.
_OPTUNA_TABLES = frozenset(
    {
        "alembic_version",
        "version_info",
        "studies",
        "study_directions",
        "study_user_attributes",
        "study_system_attributes",
        "trials",
        "trial_params",
        "trial_values",
        "trial_intermediate_values",
        "trial_user_attributes",
        "trial_system_attributes",
        "trial_heartbeats",
    }
)


def _normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        # Psycopg 3 is the driver of the `postgres` extra.
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _optuna_tables(names: set[str]) -> list[str]:
    """Optuna's tables among ``names`` when they are an Optuna storage (its ``studies``
    with ``version_info``, which every Optuna version has, or with ``trials`` and
    ``trial_params``), else []: one of those names alone (an application's ``studies``, an
    Alembic project's ``alembic_version``) is not Optuna's."""
    if "studies" in names and ("version_info" in names or {"trials", "trial_params"} <= names):
        return sorted(names & _OPTUNA_TABLES)
    return []


def _is_locked(e: DBAPIError) -> bool:
    """SQLite's "database is locked", PostgreSQL's lock_timeout (55P03)."""
    if isinstance(e, OperationalError) and "locked" in str(e.orig).lower():
        return True
    return getattr(e.orig, "sqlstate", None) == "55P03"


def _retryable(e: DBAPIError) -> bool:
    """A transient failure: a lock, a PostgreSQL deadlock or serialisation failure."""
    return _is_locked(e) or getattr(e.orig, "sqlstate", None) in ("40001", "40P01")


def _driver_hint(url: str, e: ImportError) -> ImportError:
    """The ImportError of a missing database driver, naming the extra that installs it."""
    scheme = url.split(":", 1)[0]
    if scheme in ("postgresql", "postgresql+psycopg"):
        hint = "pip install 'ferrotune[postgres]' (psycopg 3, the driver ferrotune uses)"
    elif scheme.startswith("postgresql+"):
        driver = scheme.split("+", 1)[1]
        hint = (
            f"pip install {driver}, or use a postgresql+psycopg:// URL after "
            "pip install 'ferrotune[postgres]'"
        )
    else:
        hint = "pip install 'ferrotune[sqlite]'"
    err = MissingDependencyError(
        f"the database driver for {scheme}:// URLs is missing ({e}): {hint}"
    )
    err.name = e.name
    return err


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


class _Choices(dict[str, Any]):
    """A study's categorical distributions: writes new entries through to the database."""

    def __init__(self, storage: RDBStorage, study_id: int) -> None:
        super().__init__()
        self._storage = storage
        self._study_id = study_id

    def __setitem__(self, name: str, dist: Any) -> None:
        if name not in self:
            try:
                dist = self._storage._save_choices(self._study_id, name, dist)
            except IncompatibleDistributionError:
                # Keep the study's choices, so that this worker's next check sees them.
                self._storage._reload_choices(self._study_id, self)
                raise
        super().__setitem__(name, dist)

    def _load(self, name: str, dist: Any) -> None:
        super().__setitem__(name, dist)


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
        # Parameters recorded but not yet written, by trial number.
        self.pending: dict[int, list[dict[str, Any]]] = {}
        self.lock = threading.RLock()


class _Heartbeat:
    """Keeps a running trial's heartbeat fresh from a daemon thread."""

    def __init__(self, storage: RDBStorage, study_id: int, number: int, interval: float) -> None:
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


class RDBStorage(BaseStorage):
    """Studies in a relational database, shared by processes and machines.

    Args:
        url: A SQLAlchemy URL: ``sqlite:///path/study.db`` (several processes on one
            machine; WAL journal, busy timeout) or ``postgresql+psycopg://user:pass@host/db``
            (many workers on many machines).
        engine_kwargs: Extra arguments for :func:`sqlalchemy.create_engine`.
        heartbeat_interval: Seconds between heartbeats of a trial run by
            :meth:`~ferrotune.Study.optimize`; None (default) records no heartbeat.
        grace_period: A RUNNING trial whose heartbeat is older than this many seconds is
            marked FAIL by the next worker that starts a trial; defaults to twice the
            heartbeat interval.
        failed_trial_callback: Called as ``callback(study, frozen_trial)`` for each trial
            that a worker marked FAIL that way, for example
            :class:`~ferrotune.storages.RetryFailedTrialCallback`.
        lock_timeout: Seconds (default 20) one transaction waits while another connection
            holds the database locked (SQLite) or holds a lock it needs (PostgreSQL's
            ``lock_timeout``), retrying, with a warning on the ``ferrotune.storages``
            logger when it starts waiting and every 5 s; then (up to a second later)
            :class:`~ferrotune.exceptions.StorageLockedError`, naming the database and the
            timeout. Optuna waits about 5 s on SQLite and without limit on PostgreSQL.
            SQLite's busy timeout of each attempt is at most 1 s (``connect_args=
            {"timeout": ...}`` in ``engine_kwargs`` sets it).

    Every trial change is one short transaction; trial numbers come from a per-study
    counter (unique and gap-free), a trial leaves RUNNING exactly once, and an enqueued
    trial is started by exactly one worker. Values are stored as JSON, never pickled;
    user attributes and enqueued values must be JSON values. The storage itself pickles
    as its URL and settings (so ``pickle.dumps(study)`` works, as in Optuna); the
    unpickled one opens its own connections.

    A database that holds another tool's schema is refused with
    :class:`~ferrotune.exceptions.IncompatibleStorageError`: ferrotune cannot read an
    Optuna database (its tables ``studies``, ``trials``, ``version_info``, ...), so it does
    not create its own tables beside them. Its tables are prefixed ``ft_``; other tables
    (not Optuna's) may share the database.

    Raises:
        ImportError: The URL's driver is not installed; the message names the extra
            (``pip install 'ferrotune[postgres]'``).
    """

    persistent = True
    writes_params = True

    def __init__(
        self,
        url: str,
        engine_kwargs: dict[str, Any] | None = None,
        heartbeat_interval: float | None = None,
        grace_period: float | None = None,
        failed_trial_callback: Callable[[Study, FrozenTrial], None] | None = None,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        *,
        _engine: Engine | None = None,
    ) -> None:
        if heartbeat_interval is not None and not heartbeat_interval > 0:
            raise InvalidArgumentError(
                f"heartbeat_interval must be > 0 or None, got {heartbeat_interval!r}"
            )
        if grace_period is not None and not grace_period > 0:
            raise InvalidArgumentError(f"grace_period must be > 0 or None, got {grace_period!r}")
        if isinstance(lock_timeout, bool) or not (
            isinstance(lock_timeout, (int, float)) and 0 < lock_timeout < math.inf
        ):
            raise InvalidArgumentError(
                f"lock_timeout must be a finite number of seconds > 0, got {lock_timeout!r}"
            )
        self.url = _normalise_url(url)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = (
            grace_period
            if grace_period is not None or heartbeat_interval is None
            else 2.0 * heartbeat_interval
        )
        self.failed_trial_callback = failed_trial_callback
        self._engine_kwargs = dict(engine_kwargs or {})
        self.lock_timeout = float(lock_timeout)
        self._engine = _engine if _engine is not None else self._create_engine()
        self._sqlite = self._engine.dialect.name == "sqlite"
        self._postgres = self._engine.dialect.name == "postgresql"
        self._studies: dict[int, _StudyCache] = {}
        # Each study's name, as this storage first saw it: every write checks it with the
        # id, so that a write for a deleted study fails instead of landing in a study
        # that was given the same id later (SQLite files made before ids stopped being
        # reused).
        self._names: dict[int, str] = {}
        self._lock = threading.RLock()
        self._dist_cache: dict[str, tuple[BaseDistribution, _core.Dist]] = {}
        self._helper: RDBStorage | None = None
        self._helper_studies: dict[int, Study] = {}
        # Optuna's tables beside ferrotune's (a database both used): study names are
        # checked against Optuna's, so that an Optuna study is never silently new.
        self._optuna_beside = False
        if _engine is None:
            self._migrate()
            # A forked child must not share the parent's pooled connections.
            ref = weakref.ref(self)

            def _after_fork() -> None:
                st = ref()
                if st is not None:
                    st._engine.dispose(close=False)

            os.register_at_fork(after_in_child=_after_fork)

    # ------------------------------------------------------------------ engine
    def _create_engine(self) -> Engine:
        try:
            return self._new_engine()
        except ImportError as e:
            raise _driver_hint(self.url, e) from e

    def _new_engine(self) -> Engine:
        kwargs = dict(self._engine_kwargs)
        if self.url.startswith("sqlite"):
            connect_args = dict(kwargs.pop("connect_args", {}))
            # SQLite's busy handler waits up to one slice; the retry loop of
            # `_transaction` logs between slices and gives up after lock_timeout.
            connect_args.setdefault("timeout", min(self.lock_timeout, _LOCK_SLICE))
            connect_args.setdefault("check_same_thread", False)
            engine = sa.create_engine(self.url, connect_args=connect_args, **kwargs)

            @event.listens_for(engine, "connect")
            def _on_connect(dbapi_conn: Any, _record: Any) -> None:
                # Transactions are begun explicitly below (BEGIN IMMEDIATE for writes).
                dbapi_conn.isolation_level = None
                cur = dbapi_conn.cursor()
                # (WAL, a setting of the file, is switched on by `_migrate` once the
                # file is known to be ferrotune's: another tool's file is left as it is.)
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA foreign_keys=ON")
                cur.close()

            @event.listens_for(engine, "begin")
            def _on_begin(conn: Connection) -> None:
                options = conn.get_execution_options()
                if options.get("ferrotune_autocommit"):
                    return  # statements that must run outside a transaction
                if options.get("ferrotune_write"):
                    conn.exec_driver_sql("BEGIN IMMEDIATE")
                else:
                    conn.exec_driver_sql("BEGIN")

            return engine
        if self.url.startswith("postgresql+psycopg:"):
            connect_args = dict(kwargs.pop("connect_args", {}))
            if "options" not in connect_args:
                # A lock wait longer than lock_timeout fails with 55P03 (retried until
                # the transaction's own deadline, then StorageLockedError).
                ms = max(1, int(min(self.lock_timeout, _LOCK_SLICE) * 1000))
                connect_args["options"] = f"-c lock_timeout={ms}"
            kwargs["connect_args"] = connect_args
        return sa.create_engine(self.url, **kwargs)

    def _where(self) -> str:
        """The database, for messages: a SQLite file's path, or the URL without password."""
        url = self._engine.url
        if self._sqlite and url.database:
            return str(url.database)
        return url.render_as_string(hide_password=True)

    def __getstate__(self) -> dict[str, Any]:
        # Pickled by its URL and settings (as Optuna's RDBStorage): the engine, its
        # connections and the caches are rebuilt by the process that unpickles it.
        return {
            "url": self.url,
            "engine_kwargs": self._engine_kwargs,
            "heartbeat_interval": self.heartbeat_interval,
            "grace_period": self.grace_period,
            "failed_trial_callback": self.failed_trial_callback,
            "lock_timeout": self.lock_timeout,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["url"],
            engine_kwargs=state["engine_kwargs"],
            heartbeat_interval=state["heartbeat_interval"],
            grace_period=state["grace_period"],
            failed_trial_callback=state["failed_trial_callback"],
            lock_timeout=state["lock_timeout"],
        )

    def _write(self, fn: Callable[[Connection], _T]) -> _T:
        """Runs ``fn`` in one write transaction, retried on transient lock errors."""
        return self._transaction(fn, write=True)

    def _read(self, fn: Callable[[Connection], _T]) -> _T:
        """Runs ``fn`` in one read transaction (a consistent snapshot on SQLite)."""
        return self._transaction(fn, write=False)

    def _transaction(
        self, fn: Callable[[Connection], _T], write: bool, autocommit: bool = False
    ) -> _T:
        """Runs ``fn`` in one transaction (SQLite: none with ``autocommit``); a transient
        failure (a lock, a deadlock) is retried with backoff for up to ``lock_timeout``
        seconds in all, with a log line every few seconds; a database still locked then
        raises StorageLockedError."""
        start = time.monotonic()
        delay = 0.01
        logged: float | None = None
        while True:
            try:
                with self._engine.connect() as conn:
                    if write:
                        conn = conn.execution_options(ferrotune_write=True)
                    if autocommit:
                        conn = conn.execution_options(ferrotune_autocommit=True)
                    with conn.begin():
                        return fn(conn)
            except DBAPIError as e:
                if not _retryable(e):
                    raise
                now = time.monotonic()
                waited = now - start
                locked = _is_locked(e)
                if locked and (logged is None or now - logged >= _LOCK_LOG_EVERY):
                    logged = now
                    _logger.warning(
                        "The database %s is locked by another connection; waited %.1f s "
                        "of lock_timeout=%g s.",
                        self._where(),
                        waited,
                        self.lock_timeout,
                    )
                if waited >= self.lock_timeout:
                    if locked:
                        raise StorageLockedError(
                            f"the database {self._where()} is locked by another "
                            f"connection: gave up after {waited:.1f} s (lock_timeout="
                            f"{self.lock_timeout:g} s; raise it with RDBStorage(url, "
                            "lock_timeout=...), or end the transaction that holds the lock)"
                        ) from e
                    raise
                time.sleep(min(delay, self.lock_timeout - waited))
            delay = min(delay * 2, 0.5)

    def _migrate(self) -> None:
        def step(conn: Connection) -> None:
            if self._postgres:
                conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_SCHEMA_LOCK_KEY)))
            names = set(sa.inspect(conn).get_table_names())
            self._check_foreign(names)
            S.metadata.create_all(conn, tables=[S.version_table])
            row = conn.execute(sa.select(S.version_table.c.version)).first()
            version = 0 if row is None else int(row[0])
            if version > S.SCHEMA_VERSION:
                raise IncompatibleStorageError(
                    f"the database {self._where()} has ferrotune schema version {version}, "
                    f"newer than this ferrotune supports ({S.SCHEMA_VERSION}); upgrade ferrotune"
                )
            for i in range(version, S.SCHEMA_VERSION):
                S.MIGRATIONS[i](conn)
            if row is None:
                conn.execute(sa.insert(S.version_table).values(id=1, version=S.SCHEMA_VERSION))
            elif version != S.SCHEMA_VERSION:
                conn.execute(sa.update(S.version_table).values(version=S.SCHEMA_VERSION))
            else:
                self._check_columns(conn)

        try:
            self._write(step)
            if self._sqlite:
                # Persistent in the file; a no-op once set (in-memory databases keep
                # their "memory" journal).
                self._transaction(
                    lambda c: c.exec_driver_sql("PRAGMA journal_mode=WAL").scalar(),
                    write=False,
                    autocommit=True,
                )
        except DatabaseError as e:
            if self._sqlite and "not a database" in str(e.orig):
                raise IncompatibleStorageError(
                    f"{self._where()} is not a SQLite database ({e.orig}); ferrotune needs "
                    "a new file or one it created"
                ) from e
            raise

    def _check_foreign(self, names: set[str]) -> None:
        """Refuses a database that holds another schema (Optuna's above all): ferrotune
        would otherwise add its own tables beside it and start empty studies there."""
        ours = sorted(n for n in names if n.startswith("ft_"))
        optuna = _optuna_tables(names)
        if S.version_table.name in names:
            # A database ferrotune already uses; Optuna's tables may be there too
            # (both tools on one server): then study names are checked against them.
            self._optuna_beside = bool(optuna)
            return
        if optuna:
            raise IncompatibleStorageError(
                f"the database {self._where()} holds an Optuna storage (tables "
                f"{', '.join(optuna)}), not a ferrotune one: ferrotune cannot read Optuna's "
                "studies and does not add its tables to that database. Give ferrotune a new "
                "database (for SQLite, another file)"
            )
        if ours:
            raise IncompatibleStorageError(
                f"the database {self._where()} holds tables named like ferrotune's "
                f"({', '.join(ours)}) but no {S.version_table.name} table: another schema, "
                "which ferrotune does not touch. Give ferrotune a new database"
            )

    def _check_columns(self, conn: Connection) -> None:
        """Refuses ft_ tables that lack columns of the current schema (another tool's)."""
        found = sa.inspect(conn).get_multi_columns(filter_names=list(S.tables))
        have = {table: {c["name"] for c in cols} for (_, table), cols in found.items()}
        for name, table in S.tables.items():
            gone = [c.name for c in table.columns if c.name not in have.get(name, ())]
            if gone:
                what = "is missing" if name not in have else "lacks " + ", ".join(gone)
                raise IncompatibleStorageError(
                    f"the database {self._where()} has ferrotune's schema version "
                    f"{S.SCHEMA_VERSION} but its table {name} {what}: it was changed by "
                    "another tool; give ferrotune a new database"
                )

    def _refuse_optuna_study(self, study_name: str) -> None:
        """With Optuna's tables in the same database, a name of an Optuna study is refused
        (ferrotune would otherwise create or look for an empty study of that name)."""
        if not self._optuna_beside:
            return
        try:
            found = self._read(
                lambda c: c.exec_driver_sql(
                    "SELECT 1 FROM studies WHERE study_name = "
                    + ("?" if self._sqlite else "%(name)s"),
                    (study_name,) if self._sqlite else {"name": study_name},
                ).first()
            )
        except DBAPIError:
            return  # not Optuna's `studies` table after all
        if found is not None:
            raise IncompatibleStorageError(
                f"{study_name!r} is a study of the Optuna storage in {self._where()}: "
                "ferrotune cannot read Optuna's studies. Pick another name, or another database"
            )

    def schema_version(self) -> int:
        """The schema version of the database."""
        return self._read(
            lambda c: int(c.execute(sa.select(S.version_table.c.version)).scalar_one())
        )

    def _upsert(self, table: sa.Table, values: dict[str, Any], keys: list[str]) -> Any:
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg_stmt = pg_insert(table).values(**values)
            return pg_stmt.on_conflict_do_update(
                index_elements=keys,
                set_={k: pg_stmt.excluded[k] for k in values if k not in keys},
            )
        if self._sqlite:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite_stmt = sqlite_insert(table).values(**values)
            return lite_stmt.on_conflict_do_update(
                index_elements=keys,
                set_={k: lite_stmt.excluded[k] for k in values if k not in keys},
            )
        raise InvalidArgumentError(  # pragma: no cover
            f"unsupported database {self._engine.dialect.name!r}: use SQLite or PostgreSQL"
        )

    def _upsert_params(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Writes parameter rows (trial_id, name, distribution_json, value) in one statement."""
        t = S.trial_params
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg_stmt = pg_insert(t)
            stmt: Any = pg_stmt.on_conflict_do_update(
                index_elements=["trial_id", "name"],
                set_={
                    "distribution_json": pg_stmt.excluded.distribution_json,
                    "value": pg_stmt.excluded.value,
                },
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite_stmt = sqlite_insert(t)
            stmt = lite_stmt.on_conflict_do_update(
                index_elements=["trial_id", "name"],
                set_={
                    "distribution_json": lite_stmt.excluded.distribution_json,
                    "value": lite_stmt.excluded.value,
                },
            )
        conn.execute(stmt, rows)

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

    def _dist(self, dist_json: str) -> tuple[BaseDistribution, _core.Dist]:
        hit = self._dist_cache.get(dist_json)
        if hit is None:
            dist = json_to_distribution(dist_json)
            hit = (dist, dist._core)
            self._dist_cache[dist_json] = hit
        return hit

    # ------------------------------------------------------------------ studies
    def create_new_study(
        self, directions: list[StudyDirection], study_name: str | None = None
    ) -> int:
        name = study_name if study_name is not None else f"no-name-{uuid.uuid4()}"
        dirs = json.dumps([int(d) for d in directions])
        if study_name is not None:
            self._refuse_optuna_study(study_name)

        def tx(conn: Connection) -> int:
            res = conn.execute(
                sa.insert(S.studies).values(name=name, directions=dirs, next_number=0, seq=0)
            )
            pk = res.inserted_primary_key
            assert pk is not None
            return int(pk[0])

        try:
            sid = self._write(tx)
        except IntegrityError:
            raise DuplicatedStudyError(f"a study named {name!r} already exists") from None
        with self._lock:
            self._names[sid] = name
        return sid

    def delete_study(self, study_id: int) -> None:
        def tx(conn: Connection) -> None:
            self._check_study(conn, study_id)
            ids = sa.select(S.trials.c.trial_id).where(S.trials.c.study_id == study_id)
            for t in (S.trial_params, S.trial_intermediate, S.trial_attrs):
                conn.execute(sa.delete(t).where(t.c.trial_id.in_(ids)))
            conn.execute(sa.delete(S.trials).where(S.trials.c.study_id == study_id))
            for t in (S.study_attrs, S.study_choices):
                conn.execute(sa.delete(t).where(t.c.study_id == study_id))
            conn.execute(sa.delete(S.studies).where(S.studies.c.study_id == study_id))

        self._write(tx)
        with self._lock:
            self._studies.pop(study_id, None)
            self._names.pop(study_id, None)

    def get_study_id_from_name(self, study_name: str) -> int:
        sid = self._read(
            lambda c: c.execute(
                sa.select(S.studies.c.study_id).where(S.studies.c.name == study_name)
            ).scalar()
        )
        if sid is None:
            self._refuse_optuna_study(study_name)
            raise KeyError(f"no study named {study_name!r}")
        sid = int(sid)
        with self._lock:
            known = self._names.get(sid)
            if known != study_name:
                if known is not None:
                    # The id was another study's, deleted since (SQLite files made
                    # before ids stopped being reused): what this storage cached of
                    # that one is dropped.
                    self._studies.pop(sid, None)
                self._names[sid] = study_name
        return sid

    def _study_row(self, study_id: int) -> Any:
        row = self._read(
            lambda c: c.execute(
                sa.select(S.studies.c.name, S.studies.c.directions).where(
                    S.studies.c.study_id == study_id
                )
            ).first()
        )
        if row is None:
            raise KeyError(f"no study with id {study_id}")
        return row

    def get_study_name_from_id(self, study_id: int) -> str:
        return str(self._study_row(study_id).name)

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        from ferrotune.study._direction import StudyDirection

        return [StudyDirection(d) for d in json.loads(self._study_row(study_id).directions)]

    def get_all_study_names(self) -> list[str]:
        return self._read(
            lambda c: [
                str(n)
                for n in c.execute(
                    sa.select(S.studies.c.name).order_by(S.studies.c.study_id)
                ).scalars()
            ]
        )

    def _cache(self, study_id: int) -> _StudyCache:
        cache = self._studies.get(study_id)
        if cache is not None:
            return cache
        with self._lock:
            cache = self._studies.get(study_id)
            if cache is not None:
                return cache
            row = self._study_row(study_id)
            study_name = str(row.name)
            if self._names.setdefault(study_id, study_name) != study_name:
                raise self._gone(study_id)
            core = _core.StudyCore([d == 2 for d in json.loads(row.directions)])  # MAXIMIZE
            choices = _Choices(self, study_id)
            self._reload_choices(study_id, choices)
            cache = _StudyCache(study_id, study_name, core, choices)
            self._studies[study_id] = cache
        self.sync(study_id)
        return cache

    def get_core(self, study_id: int) -> _core.StudyCore:
        return self._cache(study_id).core

    def get_choices(self, study_id: int) -> dict[str, Any]:
        return self._cache(study_id).choices

    def _reload_choices(self, study_id: int, choices: _Choices) -> None:
        """Loads the study's recorded categorical choices into ``choices``."""
        t = S.study_choices
        rows = self._read(
            lambda c: c.execute(
                sa.select(t.c.name, t.c.distribution_json).where(t.c.study_id == study_id)
            ).all()
        )
        for name, dj in rows:
            choices._load(name, self._dist(dj)[0])

    def _save_choices(self, study_id: int, name: str, dist: Any) -> Any:
        """Records the categorical choices of ``name`` unless the study has some already
        (another worker's); returns the distribution the study holds.

        Raises:
            IncompatibleDistributionError: The study holds other choices for ``name``
                (Optuna's storages refuse them in the same way).
        """
        dj = distribution_to_json(dist)
        t = S.study_choices
        where = (t.c.study_id == study_id, t.c.name == name)

        # The first worker's choices stand: a concurrent insert does nothing.
        row = {"study_id": study_id, "name": name, "distribution_json": dj}
        add: Any
        if self._postgres:
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            add = (
                pg_insert(t)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["study_id", "name"])
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            add = (
                sqlite_insert(t)
                .values(**row)
                .on_conflict_do_nothing(index_elements=["study_id", "name"])
            )

        def tx(conn: Connection) -> str:
            self._check_study(conn, study_id)
            conn.execute(add)
            return str(conn.execute(sa.select(t.c.distribution_json).where(*where)).scalar())

        stored = self._write(tx)
        if stored == dj:
            return dist
        held = json_to_distribution(stored)
        if held != dist:
            raise IncompatibleDistributionError(
                f"parameter {name!r}: categorical choices {list(dist.choices)} differ from "
                f"{held!r}, which this study already holds (recorded by another worker)"
            )
        return held

    def _set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        vj = to_json(value, f"study {kind} attribute {key!r}")
        stmt = self._upsert(
            S.study_attrs,
            {"study_id": study_id, "kind": kind, "key": key, "value_json": vj},
            ["study_id", "kind", "key"],
        )

        def tx(conn: Connection) -> None:
            self._check_study(conn, study_id)
            conn.execute(stmt)

        self._write(tx)

    def _get_study_attrs(self, study_id: int, kind: str) -> dict[str, Any]:
        rows = self._read(
            lambda c: c.execute(
                sa.select(S.study_attrs.c.key, S.study_attrs.c.value_json).where(
                    S.study_attrs.c.study_id == study_id, S.study_attrs.c.kind == kind
                )
            ).all()
        )
        return {k: json.loads(v) for k, v in rows}

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "user", key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "system", key, value)

    def next_study_counter(self, study_id: int, key: str, count: int = 1) -> int:
        def tx(conn: Connection) -> int:
            # Taking the study's change number locks its row (PostgreSQL) or the
            # database (SQLite) until commit: the read and the write below are atomic.
            self._bump(conn, study_id)
            row = conn.execute(
                sa.select(S.study_attrs.c.value_json).where(
                    S.study_attrs.c.study_id == study_id,
                    S.study_attrs.c.kind == "system",
                    S.study_attrs.c.key == key,
                )
            ).first()
            start = 0 if row is None else int(json.loads(row[0]))
            conn.execute(
                self._upsert(
                    S.study_attrs,
                    {
                        "study_id": study_id,
                        "kind": "system",
                        "key": key,
                        "value_json": json.dumps(start + count),
                    },
                    ["study_id", "kind", "key"],
                )
            )
            return start

        return self._write(tx)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        return self._get_study_attrs(study_id, "user")

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        return self._get_study_attrs(study_id, "system")

    # ------------------------------------------------------------------ trials
    def _bump(self, conn: Connection, study_id: int, new_number: bool = False) -> tuple[int, int]:
        """Takes the study's next change number (and trial number); locks the study row,
        so changes commit in the order of their numbers.

        Raises:
            StudyNotFoundError: The study's row is gone, or the id is now another
                study's (every trial write takes a change number, so none of them
                writes into another study).
        """
        values: dict[str, Any] = {"seq": S.studies.c.seq + 1}
        if new_number:
            values["next_number"] = S.studies.c.next_number + 1
        cond = [S.studies.c.study_id == study_id]
        name = self._names.get(study_id)
        if name is not None:
            cond.append(S.studies.c.name == name)
        row = conn.execute(
            sa.update(S.studies)
            .where(*cond)
            .values(**values)
            .returning(S.studies.c.seq, S.studies.c.next_number)
        ).first()
        if row is None:
            raise self._gone(study_id)
        return int(row[0]), int(row[1]) - 1

    def _gone(self, study_id: int) -> StudyNotFoundError:
        name = self._names.get(study_id)
        what = f"id {study_id}" if name is None else f"{name!r} (id {study_id})"
        return StudyNotFoundError(
            f"no study {what} in {self._where()}: it was deleted (a study created since "
            "may have been given its id; this study's object cannot be used any more)"
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
                        S.trial_attrs.c.key == _FIXED_KEY,
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
                cache.core.apply_remote(number, _RUNNING, [], [], [], [], now, _NAN)
            else:
                cache.core.ensure_trial(number, _RUNNING)
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
                    trial_id=tid, kind="system", key=_FIXED_KEY, value_json=fixed_json
                )
            )
            return tid, number

        tid, number = self._write(tx)
        with cache.lock:
            cache.trial_ids[number] = tid
            cache.system_attrs.setdefault(number, {})[_FIXED_KEY] = json.loads(fixed_json)
            cache.core.ensure_trial(number, _WAITING)
        return number

    def _touch(self, conn: Connection, study_id: int, tid: int, running: bool = True) -> None:
        """Marks a trial changed (a new change number); checks it is RUNNING if asked."""
        seq, _ = self._bump(conn, study_id)
        cond = [S.trials.c.trial_id == tid]
        if running:
            cond.append(S.trials.c.state == _RUNNING)
        res = conn.execute(sa.update(S.trials).where(*cond).values(seq=seq))
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

    def create_new_trial(self, study_id: int) -> int:
        cache = self._cache(study_id)
        now = time.time()

        def tx(conn: Connection) -> tuple[int, int]:
            seq, _ = self._bump(conn, study_id)
            return self._insert_running(conn, study_id, seq, now)

        tid, number = self._write(tx)
        with cache.lock:
            cache.trial_ids[number] = tid
            cache.local.add(number)
            cache.core.ensure_trial(number, _RUNNING)
        return number

    def record_param(
        self, study_id: int, number: int, name: str, dist: Any, internal: float
    ) -> None:
        """Records the parameter in the core and buffers it for the database: it is
        written with the trial's next change: a report, an attribute, a heartbeat or the
        finish (at the latest one heartbeat interval after it was suggested), in one
        transaction with that change."""
        self._cache(study_id).core.set_param(number, name, dist._core, internal)
        self._buffer_param(study_id, number, name, dist, internal)

    def suggest(self, study_id: int, number: int, name: str, dist: Any) -> float:
        value: float = self._cache(study_id).core.suggest_dist(number, name, dist._core)
        self._buffer_param(study_id, number, name, dist, value)
        return value

    def record_space_params(
        self, study_id: int, number: int, space: Any, row: Sequence[float]
    ) -> None:
        super().record_space_params(study_id, number, space, row)
        for name, v in zip(space.names, row, strict=True):
            if not math.isnan(v):
                self._buffer_param(study_id, number, name, space.distributions[name], v)

    def _buffer_param(
        self, study_id: int, number: int, name: str, dist: Any, internal: float
    ) -> None:
        """Keeps a parameter row for the trial's next write (see :meth:`record_param`)."""
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

    def record_intermediate(self, study_id: int, number: int, step: int, value: float) -> None:
        self._cache(study_id).core.report(number, step, value)
        tid = self._trial_id(study_id, number)
        v = None if math.isnan(value) else float(value)

        def tx(conn: Connection, rows: list[dict[str, Any]]) -> None:
            self._touch(conn, study_id, tid)
            if rows:
                self._upsert_params(conn, rows)
            exists = conn.execute(
                sa.select(S.trial_intermediate.c.step).where(
                    S.trial_intermediate.c.trial_id == tid, S.trial_intermediate.c.step == step
                )
            ).first()
            if exists is None:  # a step reported twice keeps its first value
                conn.execute(
                    sa.insert(S.trial_intermediate).values(trial_id=tid, step=step, value=v)
                )

        self._with_pending(study_id, number, tx)

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

    def finish_trial(self, study_id: int, number: int, state: int, values: list[float]) -> None:
        cache = self._cache(study_id)
        tid = self._trial_id(study_id, number)
        now = time.time()
        vj = json.dumps([float(v) for v in values]) if values else None
        with cache.lock:
            # This method tells the core below: a concurrent sync must not do it first.
            cache.local.add(number)

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
            current = self._with_pending(study_id, number, tx)
        except BaseException:
            with cache.lock:
                cache.local.discard(number)
            raise
        if current is not None:
            with cache.lock:
                cache.local.discard(number)
                if cache.core.state(number) == _RUNNING:
                    # Finished elsewhere (for example failed through a stale heartbeat):
                    # the core follows the database.
                    self._reload_trials(study_id, [number])
            raise UpdateFinishedTrialError(
                f"trial {number} is {_STATE_NAMES.get(current, current)}, not RUNNING: "
                "it was already finished"
            )
        with cache.lock:
            core = cache.core
            if number < core.n_trials() and core.state(number) == _RUNNING:
                core.tell(number, state, values)
            else:
                # The core never saw the trial run (another process started it).
                cache.local.discard(number)
                self._reload_trials(study_id, [number])

    # ------------------------------------------------------------------ sync
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
            "SELECT i.trial_id, i.step, i.value FROM ft_trial_intermediate i"
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
        cache.trial_ids.update(zip(numbers, tids, strict=True))
        # A changed trial's attrs are replaced by what the database holds.
        user, system = cache.user_attrs, cache.system_attrs
        if user or system:
            for number in numbers:
                user.pop(number, None)
                system.pop(number, None)
        if attrs:
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
        local = cache.local
        if local and not local.isdisjoint(numbers):
            # This process tells the core about its own trials itself.
            core = cache.core
            n_trials = core.n_trials()
            mine = local.intersection(numbers)
            for number in mine:
                if number < n_trials and core.state(number) != _RUNNING:
                    local.discard(number)
            trial_rows = [r for r in trial_rows if r[1] not in mine]
        if trial_rows:
            rows = [r[:5] for r in trial_rows]
            dist_items = list(dists.items())
            rejected: list[tuple[int, str]] = []
            try:
                # One JSON pass per column, for rows as ferrotune writes them.
                values = json.loads("[" + ",".join([r[5] or "[]" for r in trial_rows]) + "]")
                if any(r[6] for r in trial_rows):
                    cons = [
                        [float(c[k]) for k in sorted(c)] if c else []
                        for c in json.loads(
                            "[" + ",".join([r[6] or "null" for r in trial_rows]) + "]"
                        )
                    ]
                else:
                    cons = [[]] * len(trial_rows)
                if len(values) != len(rows) or len(cons) != len(rows):
                    raise ValueError("rows and decoded columns differ in length")
                rejected = cache.core.apply_remote_batch(
                    rows, values, cons, dist_items, params, inter
                )
            except Exception:  # another tool's rows: checked one by one
                rejected = self._apply_careful(cache, trial_rows, dist_items, params, inter, note)
            for number, why in rejected:
                note(number, why)
        if full_load:
            self._fail_gaps(cache, numbers, note)
        if problems:
            self._warn_rejected(cache.study_id, problems)
        if advance:
            cache.seen_seq = max(cache.seen_seq, max(seqs))

    @staticmethod
    def _apply_careful(
        cache: _StudyCache,
        trial_rows: list[Any],
        dist_items: list[tuple[str, _core.Dist]],
        params: list[Any],
        inter: list[Any],
        note: Callable[[Any, str], None],
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
            try:
                rejected += core.apply_remote_batch([row], [v], [c], dist_items, mine_p, mine_i)
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
            if number not in loaded and core.state(number) == _RUNNING:
                core.apply_remote(number, _FAIL, [], [], [], [], _NAN, _NAN)
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

    # ------------------------------------------------------------------ trial attrs
    def _set_trial_attr(self, study_id: int, number: int, kind: str, key: str, value: Any) -> None:
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

    def _beat(self, study_id: int, number: int) -> None:
        tid = self._trial_id(study_id, number)
        now = time.time()

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
        deadline = time.time() - self.grace_period
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

    # ------------------------------------------------------------------ misc
    def get_all_trial_numbers(
        self, study_id: int, states: Iterable[int] | None = None
    ) -> list[int]:
        """Numbers of the study's trials in the database (optionally only some states)."""
        t = S.trials
        cond: list[Any] = [t.c.study_id == study_id]
        if states is not None:
            cond.append(t.c.state.in_(list(states)))
        return self._read(
            lambda c: [int(n) for n in c.execute(sa.select(t.c.number).where(*cond)).scalars()]
        )

    def dispose(self) -> None:
        """Closes the storage's database connections."""
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"RDBStorage({self._engine.url.render_as_string(hide_password=True)!r})"

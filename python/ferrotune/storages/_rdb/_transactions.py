"""The database layer of :class:`~ferrotune.storages.RDBStorage`: the engine (SQLite or
PostgreSQL), short transactions retried on transient lock errors, dialect upserts, and
the schema check and migration run when a storage opens a database."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError

from ferrotune.exceptions import (
    IncompatibleStorageError,
    InvalidArgumentError,
    MissingDependencyError,
    StorageLockedError,
)
from ferrotune.storages._base import BaseStorage
from ferrotune.storages._rdb import _schema as S  # noqa: N812

_T = TypeVar("_T")

_logger = logging.getLogger("ferrotune.storages")

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


def _check_sqlite_folder(url: str) -> None:
    """A SQLite file whose folder does not exist is an error naming it (SQLite says
    only "unable to open database file" when it first connects)."""
    if not url.startswith("sqlite"):
        return
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return  # named by _create_engine
    path = parsed.database  # percent-decoded, without the query
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InvalidArgumentError(
            f"storage URL {url!r}: the folder {folder!r} of the SQLite file does not exist"
        )
    if os.path.isdir(path):
        raise InvalidArgumentError(
            f"storage URL {url!r}: {path!r} is a folder, not a SQLite file "
            "(sqlite:///folder/study.db)"
        )


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
    elif scheme.startswith("sqlite"):
        hint = "pip install 'ferrotune[sqlite]'"
    else:
        driver = scheme.split("+", 1)[-1]
        hint = (
            f"pip install {driver} (ferrotune is tested on SQLite and PostgreSQL: "
            "sqlite:///path/study.db or postgresql+psycopg://user:password@host/db)"
        )
    err = MissingDependencyError(
        f"the database driver for {scheme}:// URLs is missing ({e}): {hint}"
    )
    err.name = e.name
    return err


class _Database(BaseStorage):
    """Connections and transactions of a database storage (no study logic)."""

    url: str
    lock_timeout: float
    _engine_kwargs: dict[str, Any]
    _engine: Engine
    _sqlite: bool
    _postgres: bool
    # Optuna's tables beside ferrotune's (a database both used): study names are
    # checked against Optuna's, so that an Optuna study is never silently new.
    _optuna_beside: bool
    skip_compatibility_check: bool
    skip_table_creation: bool

    # ------------------------------------------------------------------ engine
    def _create_engine(self) -> Engine:
        _check_sqlite_folder(self.url)
        try:
            return self._new_engine()
        except ImportError as e:
            raise _driver_hint(self.url, e) from e
        except sa.exc.ArgumentError as e:
            raise InvalidArgumentError(
                f"storage URL {self.url!r}: {e}; use sqlite:///path/study.db or "
                "postgresql+psycopg://user:password@host/db"
            ) from None

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

    def _where_url(self) -> str:
        """The database's URL without its password, for a message to copy from."""
        return self._engine.url.render_as_string(hide_password=True)

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
            if self.skip_table_creation:
                self._check_created(names)
                return
            S.metadata.create_all(conn, tables=[S.version_table])
            row = conn.execute(sa.select(S.version_table.c.version)).first()
            version = 0 if row is None else int(row[0])
            if version > S.SCHEMA_VERSION and self.skip_compatibility_check:
                return
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
            elif not self.skip_compatibility_check:
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

    def _check_created(self, names: set[str]) -> None:
        """With ``skip_table_creation``, the tables must be there already."""
        gone = sorted(set(S.tables) - names)
        if gone:
            raise IncompatibleStorageError(
                f"skip_table_creation=True, but the database {self._where()} lacks "
                f"ferrotune's tables {', '.join(gone)}: open it once without it"
            )

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
                f"{', '.join(optuna)}), not a ferrotune one: ferrotune's storages cannot "
                "open Optuna's studies and do not add their tables to that database. To "
                "move a study over, read it with ferrotune.integration.optuna.import_study"
                f"({self._where_url()!r}, study_name=...) (it needs Optuna installed); or "
                "give ferrotune a new database (for SQLite, another file)"
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
                "ferrotune's storages cannot open Optuna's studies. Read it with "
                f"ferrotune.integration.optuna.import_study({self._where_url()!r}, "
                f"study_name={study_name!r}), or pick another name or database"
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

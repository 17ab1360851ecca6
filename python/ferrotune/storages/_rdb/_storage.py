"""Relational-database storage: SQLite on one machine, PostgreSQL across machines.

:class:`RDBStorage` composes the layers of the package, one job a module:
``_schema`` (tables and migrations), ``_transactions`` (engine, retried transactions,
schema check), ``_sync`` (pulling other workers' changes into each study's core) and
``_writes`` (the trial methods of the storage interface, heartbeats); this module adds
studies, their attributes and categorical choices, and the storage's settings.
"""

from __future__ import annotations

import json
import math
import numbers
import os
import threading
import uuid
import warnings
import weakref
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ferrotune import _core
from ferrotune.distributions import (
    BaseDistribution,
    distribution_to_json,
    json_to_distribution,
)
from ferrotune.exceptions import (
    DuplicatedStudyError,
    IncompatibleDistributionError,
    InvalidArgumentError,
    StorageInternalError,
)
from ferrotune.storages._base import to_json
from ferrotune.storages._rdb import _schema as S  # noqa: N812
from ferrotune.storages._rdb._sync import _StudyCache
from ferrotune.storages._rdb._transactions import (
    DEFAULT_LOCK_TIMEOUT,
    _is_locked,
    _normalise_url,
)
from ferrotune.storages._rdb._writes import _TrialWrites

if TYPE_CHECKING:
    from ferrotune.study._direction import StudyDirection
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["RDBStorage"]


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


class RDBStorage(_TrialWrites):
    """Studies in a relational database, shared by processes and machines.

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

    Deviations from Optuna's ``RDBStorage``: the schema is ferrotune's own (tables
    ``ft_*``), so a database is readable by one library or the other, not both;
    ``heartbeat_interval`` and ``grace_period`` take fractions of a second;
    ``lock_timeout`` bounds every wait for a lock (Optuna waits about 5 s on SQLite and
    without limit on PostgreSQL); schema versions are numbers (as strings from
    :meth:`get_current_version` and its siblings), not Alembic revisions. See
    ``docs/storages.md`` for workers, heartbeats and measurements. To read an Optuna
    database, use ``import_study`` (``ferrotune.integration.optuna``).

    Args:
        url: A SQLAlchemy URL: ``sqlite:///path/study.db`` (several processes on one
            machine; WAL journal, busy timeout) or ``postgresql+psycopg://user:pass@host/db``
            (many workers on many machines).
        engine_kwargs: Extra arguments for :func:`sqlalchemy.create_engine`.
        skip_compatibility_check: Accept a database whose schema version is newer than
            this ferrotune's (default False: refused), and do not check its columns.
        heartbeat_interval: Seconds between heartbeats of a trial run by
            :meth:`~ferrotune.Study.optimize`; None (default) records no heartbeat.
        grace_period: A RUNNING trial whose heartbeat is older than this many seconds is
            marked FAIL by the next worker that starts a trial; defaults to twice the
            heartbeat interval.
        heartbeat_stale_trial_callback: Called as ``callback(study, frozen_trial)`` for
            each trial that a worker marked FAIL that way, for example
            :class:`~ferrotune.storages.RetryHeartbeatStaleTrialCallback`.
        failed_trial_callback: Deprecated name of ``heartbeat_stale_trial_callback``
            (warns with a :class:`FutureWarning`, as in Optuna 5); not with it.
        skip_table_creation: Do not create or migrate tables (default False); the
            database must hold ferrotune's tables already.
        lock_timeout: Seconds (default 20) one transaction waits while another connection
            holds the database locked (SQLite) or holds a lock it needs (PostgreSQL's
            ``lock_timeout``), retrying, with a warning on the ``ferrotune.storages``
            logger when it starts waiting and every 5 s; then (up to a second later)
            :class:`~ferrotune.exceptions.StorageLockedError`, naming the database and the
            timeout. Optuna waits about 5 s on SQLite and without limit on PostgreSQL.
            SQLite's busy timeout of each attempt is at most 1 s (``connect_args=
            {"timeout": ...}`` in ``engine_kwargs`` sets it).

    Raises:
        MissingDependencyError: The URL's driver is not installed; the message names the
            extra (``pip install 'ferrotune[postgres]'``). It is an ``ImportError``.
        InvalidArgumentError: ``heartbeat_interval``, ``grace_period`` or ``lock_timeout``
            is not a number of seconds > 0, or both callback arguments are given.
        IncompatibleStorageError: The database holds another tool's schema.

    Example:
        >>> storage = RDBStorage("sqlite:///study.db", heartbeat_interval=60)  # doctest: +SKIP
        >>> study = ferrotune.create_study(storage=storage)  # doctest: +SKIP
    """

    writes_params = True

    def __init__(
        self,
        url: str,
        engine_kwargs: dict[str, Any] | None = None,
        skip_compatibility_check: bool = False,
        *,
        heartbeat_interval: float | None = None,
        grace_period: float | None = None,
        heartbeat_stale_trial_callback: Callable[[Study, FrozenTrial], None] | None = None,
        failed_trial_callback: Callable[[Study, FrozenTrial], None] | None = None,
        skip_table_creation: bool = False,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        _engine: Engine | None = None,
    ) -> None:
        if heartbeat_stale_trial_callback is not None and failed_trial_callback is not None:
            raise InvalidArgumentError(
                "give heartbeat_stale_trial_callback or failed_trial_callback (its "
                "deprecated name), not both"
            )
        if failed_trial_callback is not None:
            warnings.warn(
                "failed_trial_callback is deprecated (as in Optuna 5): use "
                "heartbeat_stale_trial_callback",
                FutureWarning,
                stacklevel=2,
            )
        for name, v in (("heartbeat_interval", heartbeat_interval), ("grace_period", grace_period)):
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, numbers.Real) or not 0 < v < math.inf
            ):
                raise InvalidArgumentError(
                    f"{name} must be a finite number of seconds > 0 or None, got {v!r}"
                )
        if isinstance(lock_timeout, bool) or not (
            isinstance(lock_timeout, (int, float, numbers.Real))
            and 0 < float(lock_timeout) < math.inf
        ):
            raise InvalidArgumentError(
                f"lock_timeout must be a finite number of seconds > 0, got {lock_timeout!r}"
            )
        self.url = _normalise_url(url)
        # numpy numbers too, as plain floats.
        heartbeat_interval = None if heartbeat_interval is None else float(heartbeat_interval)
        grace_period = None if grace_period is None else float(grace_period)
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = (
            grace_period
            if grace_period is not None or heartbeat_interval is None
            else 2.0 * heartbeat_interval
        )
        self.heartbeat_stale_trial_callback = (
            heartbeat_stale_trial_callback or failed_trial_callback
        )
        # The attribute the trial writes read (and Optuna's deprecated name of it).
        self.failed_trial_callback = self.heartbeat_stale_trial_callback
        self.skip_compatibility_check = bool(skip_compatibility_check)
        self.skip_table_creation = bool(skip_table_creation)
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
            try:
                self._migrate()
            except sa.exc.OperationalError as e:
                if _is_locked(e):
                    raise
                shown = sa.engine.make_url(self.url).render_as_string(hide_password=True)
                raise StorageInternalError(
                    f"cannot open the database {shown}: {e.orig}".strip()
                ) from e
            # A forked child must not share the parent's pooled connections.
            ref = weakref.ref(self)

            def _after_fork() -> None:
                st = ref()
                if st is not None:
                    st._engine.dispose(close=False)

            os.register_at_fork(after_in_child=_after_fork)

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
            "skip_compatibility_check": self.skip_compatibility_check,
            "skip_table_creation": self.skip_table_creation,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["url"],
            engine_kwargs=state["engine_kwargs"],
            heartbeat_interval=state["heartbeat_interval"],
            grace_period=state["grace_period"],
            heartbeat_stale_trial_callback=state["failed_trial_callback"],
            lock_timeout=state["lock_timeout"],
            skip_compatibility_check=state.get("skip_compatibility_check", False),
            skip_table_creation=state.get("skip_table_creation", False),
        )

    def _dist(self, dist_json: str) -> tuple[BaseDistribution, _core.Dist]:
        hit = self._dist_cache.get(dist_json)
        if hit is None:
            dist: BaseDistribution = json_to_distribution(dist_json)
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
            S.check_name("study name", study_name)
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
            # Takes the study row's lock first, as every trial write does: a worker still
            # running the study (PostgreSQL) then waits, and finds the study gone, instead
            # of inserting rows between these deletes (a foreign-key error here).
            self._bump(conn, study_id)
            if self._postgres:
                # The update's lock lets foreign-key checks through (a study attribute or
                # choice inserted meanwhile); FOR UPDATE holds them off too.
                self._driver(
                    conn, "SELECT 1 FROM ft_studies WHERE study_id = ? FOR UPDATE", (study_id,)
                )
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

    def check_name(self, what: str, name: str) -> None:
        S.check_name(what, name)

    def _save_choices(self, study_id: int, name: str, dist: Any) -> Any:
        """Records the categorical choices of ``name`` unless the study has some already
        (another worker's); returns the distribution the study holds.

        Raises:
            IncompatibleDistributionError: The study holds other choices for ``name``
                (Optuna's storages refuse them in the same way).
        """
        S.check_name("parameter", name)
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
        S.check_name(f"study {kind} attribute", key)
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

    def restore_trial_times(
        self, study_id: int, times: Mapping[int, tuple[float | None, float | None]]
    ) -> None:
        """Sets the start and completion times (seconds since the epoch, None for not
        reached) of trials ``number -> (started, completed)``, for trials copied from
        elsewhere with their history (an imported Optuna study). The trials must have
        been written and flushed; this process's mirror of the study is then rebuilt
        from the database (every other worker sees the times at its next sync)."""
        ids = {number: self._trial_id(study_id, number) for number in times}

        def tx(conn: Connection) -> None:
            seq, _ = self._bump(conn, study_id)
            for number, (started, completed) in times.items():
                conn.execute(
                    sa.update(S.trials)
                    .where(S.trials.c.trial_id == ids[number])
                    .values(datetime_start=started, datetime_complete=completed, seq=seq)
                )

        self._write(tx)
        # A trial the core already holds keeps its times at a sync: read the study anew.
        with self._lock:
            self._studies.pop(study_id, None)

    def dispose(self) -> None:
        """Closes the storage's database connections."""
        self._engine.dispose()

    def remove_session(self) -> None:
        """Closes the storage's database connections (Optuna's name of :meth:`dispose`)."""
        self.dispose()

    # ------------------------------------------------------------------ Optuna's names
    def get_heartbeat_interval(self) -> float | None:
        """The heartbeat interval in seconds, or None when no heartbeat is recorded."""
        return self.heartbeat_interval

    def get_heartbeat_stale_trial_callback(self) -> Callable[[Study, FrozenTrial], None] | None:
        """The callback called for each trial failed through a stale heartbeat, or None."""
        return self.heartbeat_stale_trial_callback

    def get_failed_trial_callback(self) -> Callable[[Study, FrozenTrial], None] | None:
        """Deprecated name of :meth:`get_heartbeat_stale_trial_callback` (as in Optuna 5,
        it warns with a :class:`FutureWarning`)."""
        warnings.warn(
            "get_failed_trial_callback is deprecated (as in Optuna 5): use "
            "get_heartbeat_stale_trial_callback",
            FutureWarning,
            stacklevel=2,
        )
        return self.heartbeat_stale_trial_callback

    def get_current_version(self) -> str:
        """The database's schema version, as a string (Optuna's are Alembic revisions;
        ferrotune's are the numbers 1, 2, ...)."""
        return str(self.schema_version())

    def get_head_version(self) -> str:
        """The newest schema version this ferrotune writes, as a string."""
        return str(S.SCHEMA_VERSION)

    def get_all_versions(self) -> list[str]:
        """Every schema version, newest first (as Optuna lists its revisions)."""
        return [str(v) for v in range(S.SCHEMA_VERSION, 0, -1)]

    def upgrade(self) -> None:
        """Migrates the database to the newest schema (opening a storage already does,
        unless ``skip_table_creation`` is set)."""
        skip = self.skip_table_creation
        self.skip_table_creation = False
        try:
            self._migrate()
        finally:
            self.skip_table_creation = skip

    def __repr__(self) -> str:
        return f"RDBStorage({self._engine.url.render_as_string(hide_password=True)!r})"

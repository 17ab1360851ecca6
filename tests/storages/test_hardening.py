"""Database storages facing what they did not create: a database of another schema, trial
rows that ferrotune did not write, a locked database and a missing driver."""

from __future__ import annotations

import logging
import math
import sqlite3
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

import ferrotune
from ferrotune.exceptions import (
    FerrotuneError,
    IncompatibleStorageError,
    InvalidArgumentError,
    MissingDependencyError,
    StorageLockedError,
)
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.storages import RDBStorage, get_storage
from ferrotune.trial import TrialState

# Optuna 5's tables, as its RDB storage creates them (names and the columns used here).
OPTUNA_DDL = [
    "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
    "CREATE TABLE version_info (version_info_id INTEGER PRIMARY KEY, "
    "schema_version INTEGER, library_version VARCHAR(256))",
    "CREATE TABLE studies (study_id INTEGER PRIMARY KEY, study_name VARCHAR(512) UNIQUE)",
    "CREATE TABLE study_directions (study_direction_id INTEGER PRIMARY KEY, "
    "direction VARCHAR(8), study_id INTEGER, objective INTEGER)",
    "CREATE TABLE trials (trial_id INTEGER PRIMARY KEY, number INTEGER, study_id INTEGER, "
    "state VARCHAR(8))",
    "CREATE TABLE trial_params (param_id INTEGER PRIMARY KEY, trial_id INTEGER, "
    "param_name VARCHAR(512), param_value FLOAT, distribution_json TEXT)",
    "CREATE TABLE trial_values (trial_value_id INTEGER PRIMARY KEY, trial_id INTEGER, "
    "objective INTEGER, value FLOAT)",
]
OPTUNA_TABLES = [d.split()[2] for d in OPTUNA_DDL]
OPTUNA_STUDY = "optuna-study"


def _plain_url(url: str) -> str:
    """A URL SQLAlchemy opens without ferrotune (psycopg 3 for PostgreSQL)."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _execute(url: str, *sql: str) -> None:
    engine = sa.create_engine(_plain_url(url))
    with engine.begin() as conn:
        for statement in sql:
            conn.exec_driver_sql(statement)
    engine.dispose()


def _tables(url: str) -> set[str]:
    engine = sa.create_engine(_plain_url(url))
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
    engine.dispose()
    return names


@pytest.fixture
def optuna_db(db_url: str) -> Iterator[str]:
    """An empty database of each kind holding Optuna's tables and one Optuna study,
    made without Optuna (plain SQL)."""
    _execute(
        db_url,
        *OPTUNA_DDL,
        "INSERT INTO version_info VALUES (1, 12, '5.0.0')",
        f"INSERT INTO studies VALUES (1, '{OPTUNA_STUDY}')",
        "INSERT INTO trials VALUES (1, 0, 1, 'COMPLETE')",
        "INSERT INTO trial_values VALUES (1, 1, 0, 0.5)",
    )
    yield db_url
    _execute(db_url, *(f"DROP TABLE IF EXISTS {t}" for t in reversed(OPTUNA_TABLES)))


OPENERS = {
    "create_study-load_if_exists": lambda url: ferrotune.create_study(
        storage=url, study_name=OPTUNA_STUDY, load_if_exists=True
    ),
    "create_study-new-name": lambda url: ferrotune.create_study(storage=url, study_name="mine"),
    "load_study": lambda url: ferrotune.load_study(study_name=OPTUNA_STUDY, storage=url),
    "get_all_study_names": lambda url: ferrotune.get_all_study_names(storage=url),
    "delete_study": lambda url: ferrotune.delete_study(study_name=OPTUNA_STUDY, storage=url),
    "RDBStorage": lambda url: RDBStorage(url),
}


@pytest.mark.parametrize("opener", list(OPENERS))
def test_optuna_database_is_refused(optuna_db: str, opener: str) -> None:
    """Opening an Optuna-created database (here built with plain SQL)
    raises IncompatibleStorageError naming Optuna, instead of silently starting an empty
    study; ferrotune adds none of its tables to that database."""
    with pytest.raises(IncompatibleStorageError, match="Optuna") as info:
        OPENERS[opener](optuna_db)
    assert isinstance(info.value, ValueError)
    assert "studies" in str(info.value)
    assert not any(t.startswith("ft_") for t in _tables(optuna_db))
    if optuna_db.startswith("sqlite"):
        conn = sqlite3.connect(optuna_db[len("sqlite:///") :])
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        conn.close()


def test_database_made_by_optuna_is_refused(tmp_path: Path) -> None:
    """With Optuna itself (skipped when it is not installed): its study
    is not silently replaced by an empty ferrotune study, and Optuna can still read it."""
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = f"sqlite:///{tmp_path / 'optuna.db'}"
    study = optuna.create_study(storage=url, study_name="run-1")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    for opener in OPENERS.values():
        with pytest.raises(IncompatibleStorageError, match="Optuna") as info:
            opener(url)
        # The message points to the way to read it, with the URL to copy.
        assert f"import_study({url!r}" in str(info.value)
    with pytest.raises(IncompatibleStorageError, match="Optuna"):
        ferrotune.create_study(storage=url, study_name="run-1", load_if_exists=True)
    assert not any(t.startswith("ft_") for t in _tables(url))
    # The file is left as Optuna made it (not even switched to WAL).
    conn = sqlite3.connect(tmp_path / "optuna.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    conn.close()
    assert len(optuna.load_study(study_name="run-1", storage=url).trials) == 3


def test_optuna_tables_beside_ferrotune_guard_the_names(db_url: str) -> None:
    """A database that ferrotune already uses and Optuna's tables joined
    later (both tools on one server) opens, but the name of an Optuna study is refused by
    create_study(load_if_exists=True) and load_study instead of meaning an empty study."""
    mine = ferrotune.create_study(storage=db_url, study_name="mine")
    mine.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    _execute(db_url, *OPTUNA_DDL, f"INSERT INTO studies VALUES (1, '{OPTUNA_STUDY}')")
    try:
        with pytest.raises(IncompatibleStorageError, match="Optuna"):
            ferrotune.create_study(storage=db_url, study_name=OPTUNA_STUDY, load_if_exists=True)
        with pytest.raises(IncompatibleStorageError, match="import_study"):
            ferrotune.load_study(study_name=OPTUNA_STUDY, storage=db_url)
        assert ferrotune.get_all_study_names(storage=db_url) == ["mine"]
        again = ferrotune.load_study(study_name="mine", storage=db_url)
        assert len(again.trials) == 2
        ferrotune.create_study(storage=db_url, study_name="other")
    finally:
        _execute(db_url, *(f"DROP TABLE IF EXISTS {t}" for t in reversed(OPTUNA_TABLES)))


def test_a_ferrotune_sqlite_file_is_switched_to_wal(tmp_path: Path) -> None:
    """WAL is switched on once the file is known to be ferrotune's (not before: another
    tool's file is left as it is); an in-memory SQLite database works too."""
    path = tmp_path / "wal.db"
    study = ferrotune.create_study(storage=f"sqlite:///{path}")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    conn.close()
    memory = ferrotune.create_study(storage="sqlite://")
    memory.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert len(memory.trials) == 2


def test_clashing_or_damaged_ferrotune_tables_are_refused(db_url: str) -> None:
    """Tables named like ferrotune's that another tool made (no
    ft_version), or a ferrotune table that lost columns, are an IncompatibleStorageError."""
    _execute(db_url, "CREATE TABLE ft_trials (id INTEGER PRIMARY KEY, note TEXT)")
    try:
        with pytest.raises(IncompatibleStorageError, match="ft_trials"):
            ferrotune.create_study(storage=db_url)
    finally:
        _execute(db_url, "DROP TABLE ft_trials")
    RDBStorage(db_url).dispose()
    _execute(db_url, "ALTER TABLE ft_trials DROP COLUMN heartbeat")
    with pytest.raises(IncompatibleStorageError, match="heartbeat"):
        ferrotune.create_study(storage=db_url)


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    """A file of another kind is an IncompatibleStorageError naming it."""
    path = tmp_path / "notes.db"
    path.write_text("not a database\n" * 100)
    with pytest.raises(IncompatibleStorageError, match=r"notes\.db"):
        ferrotune.create_study(storage=f"sqlite:///{path}")
    assert path.read_text() == "not a database\n" * 100


APP_TABLES = ["app_users", "alembic_version", "studies"]


def test_other_tools_tables_may_share_the_database(db_url: str) -> None:
    """The other side: an application's tables (not Optuna's storage,
    not ft_), even an Alembic project's alembic_version or a table named studies, stay
    allowed beside ferrotune's."""
    _execute(
        db_url,
        "CREATE TABLE app_users (id INTEGER PRIMARY KEY, name TEXT)",
        "CREATE TABLE alembic_version (version_num VARCHAR(32) PRIMARY KEY)",
        "CREATE TABLE studies (id INTEGER PRIMARY KEY, title TEXT)",
        "INSERT INTO studies VALUES (1, 's')",
    )
    try:
        study = ferrotune.create_study(storage=db_url, study_name="s", load_if_exists=True)
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
        assert len(ferrotune.load_study(study_name="s", storage=db_url).trials) == 2
    finally:
        _execute(db_url, *(f"DROP TABLE {t}" for t in APP_TABLES))


# ------------------------------------------------------- trial rows ferrotune did not write
def _corrupt(path: Path, sql: str, *args: Any) -> None:
    conn = sqlite3.connect(path)
    conn.execute(sql, args)
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("values_json", "state"),
    [
        (None, 1),  # COMPLETE without values (NULL)
        ("[]", 1),
        ("[0.25, 0.5]", 1),  # two values for one objective
        ("[NaN]", 1),
        ("[null]", 1),
        ('["0.1"]', 1),
        ("0.1", 1),  # a bare number, not a list
        ("{not json", 1),
        ("[0.1]", 9),  # a state ferrotune does not know
    ],
)
def test_foreign_trial_rows_load_as_fail(tmp_path: Path, values_json: Any, state: int) -> None:
    """A trial row whose values are NULL, of the wrong length, NaN or
    not numbers (written by another tool, or a crash) is loaded as FAIL with a
    RuntimeWarning naming the trial; best_trial, trials and optimize work (no
    PanicException, which ``except Exception`` would not even catch)."""
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(storage=url, study_name="s", sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=4)
    best_before = min((t for t in study.trials if t.number != 1), key=lambda t: t.values[0])
    _corrupt(
        path,
        "UPDATE ft_trials SET values_json = ?, state = ? WHERE number = 1",
        values_json,
        state,
    )
    with pytest.warns(RuntimeWarning, match="trial 1") as record:
        loaded = ferrotune.load_study(
            study_name="s", storage=url, sampler=TPESampler(n_startup_trials=2, seed=1)
        )
        trials = loaded.trials
    # Other warnings (a ResourceWarning of a collected connection) may come first.
    ours = [str(w.message) for w in record if "trial 1" in str(w.message)]
    assert ours and "'s'" in ours[0] and "study.db" in ours[0], [str(w.message) for w in record]
    assert [t.state for t in trials] == [
        TrialState.COMPLETE,
        TrialState.FAIL,
        TrialState.COMPLETE,
        TrialState.COMPLETE,
    ]
    assert trials[1].values is None
    assert loaded.best_trial.number == best_before.number
    assert loaded.best_value == best_before.values[0]
    loaded.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    after = loaded.trials
    assert len(after) == 7
    assert all(t.state == TrialState.COMPLETE for t in after[4:])
    assert all(0.0 <= t.params["x"] <= 1.0 for t in after[4:])


def test_foreign_rows_of_a_multi_objective_study(tmp_path: Path) -> None:
    """In a two-objective study, a row with one value is FAIL and the
    Pareto front is computed from the sound trials."""
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(storage=url, study_name="m", directions=["minimize"] * 2)
    for v in ([1.0, 2.0], [2.0, 1.0], [3.0, 3.0]):
        trial = study.ask()
        study.tell(trial, v)
    _corrupt(path, "UPDATE ft_trials SET values_json = '[0.0]' WHERE number = 0")
    with pytest.warns(RuntimeWarning, match="trial 0"):
        loaded = ferrotune.load_study(study_name="m", storage=url)
        front = sorted(t.number for t in loaded.best_trials)
    assert front == [1]
    assert loaded.trials[0].state == TrialState.FAIL


def test_a_row_far_beyond_the_study_is_left_out(tmp_path: Path) -> None:
    """A trial number far beyond the study's trials is left out with a
    RuntimeWarning (not a placeholder for every number before it, which would exhaust
    memory, and not an error that makes the study unreadable); the number it left
    behind is FAIL, not a RUNNING trial forever."""
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(storage=url, study_name="s")
    study.optimize(lambda t: float(t.number), n_trials=2)
    _corrupt(path, "UPDATE ft_trials SET number = ? WHERE number = 0", 10**12)
    with pytest.warns(RuntimeWarning, match="1000000000000"):
        loaded = ferrotune.load_study(study_name="s", storage=url)
        trials = loaded.trials
    assert [(t.number, t.state) for t in trials] == [
        (0, TrialState.FAIL),
        (1, TrialState.COMPLETE),
    ]
    assert loaded.best_value == 1.0


# --------------------------------------------------------------------------- a locked database
@pytest.fixture
def locked_sqlite(tmp_path: Path) -> Iterator[tuple[str, ferrotune.Study, sqlite3.Connection]]:
    """A SQLite study, and a second connection that holds the database's write lock."""
    path = tmp_path / "locked.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(
        storage=RDBStorage(url, lock_timeout=0.2), study_name="s", sampler=RandomSampler(seed=0)
    )
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")
    yield url, study, holder
    if holder.in_transaction:
        holder.execute("ROLLBACK")
    holder.close()


class _Records(logging.Handler):
    """Collects the records of one logger (attached to it directly, so that it works
    whatever propagation the ``ferrotune`` logger has); ``on_record`` runs on each."""

    def __init__(self, on_record: Any = None) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.on_record = on_record

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        if self.on_record is not None:
            self.on_record(record)


@pytest.fixture
def storage_log() -> Iterator[_Records]:
    logger = logging.getLogger("ferrotune.storages")
    handler = _Records()
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(old_level)


def test_locked_sqlite_gives_up_after_lock_timeout(
    locked_sqlite: tuple[str, ferrotune.Study, sqlite3.Connection], storage_log: _Records
) -> None:
    """While another connection holds an exclusive lock, a write waits
    lock_timeout seconds (logging that it waits), then raises StorageLockedError naming
    the file and the timeout; no trial is lost or left behind, and the study goes on once
    the lock is released."""
    url, study, holder = locked_sqlite
    with pytest.raises(StorageLockedError) as info:
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
    with pytest.raises(StorageLockedError):
        RDBStorage(url, lock_timeout=0.1)
    message = str(info.value)
    assert "locked.db" in message and "lock_timeout=0.2" in message
    assert isinstance(info.value, RuntimeError) and isinstance(info.value, FerrotuneError)
    assert isinstance(info.value.__cause__, sa.exc.OperationalError)
    waits = [r.getMessage() for r in storage_log.records if r.levelno == logging.WARNING]
    assert waits and all("locked.db is locked" in m for m in waits)
    holder.execute("ROLLBACK")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
    trials = ferrotune.load_study(study_name="s", storage=url).trials
    assert [t.number for t in trials] == [0, 1, 2]
    assert all(t.state == TrialState.COMPLETE for t in trials)


def test_lock_released_within_the_timeout_is_waited_for(
    tmp_path: Path, storage_log: _Records
) -> None:
    """A lock released while a write waits for it is no error (the
    lock is released when the storage logs that it waits)."""
    path = tmp_path / "s.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(storage=RDBStorage(url, lock_timeout=60), study_name="s")
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN EXCLUSIVE")

    def release(record: logging.LogRecord) -> None:
        if holder.in_transaction:
            holder.execute("ROLLBACK")

    storage_log.on_record = release
    trial = study.ask()
    study.tell(trial, 1.0)
    holder.close()
    assert len(storage_log.records) >= 1
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]


@pytest.mark.parametrize("bad", [0, -1.0, math.inf, math.nan, "5", True])
def test_lock_timeout_is_validated(sqlite_url: str, bad: Any) -> None:
    """``lock_timeout`` is a finite number of seconds > 0."""
    with pytest.raises(InvalidArgumentError, match="lock_timeout"):
        RDBStorage(sqlite_url, lock_timeout=bad)


def test_locked_postgres_row_gives_up_after_lock_timeout(postgres_url: str) -> None:
    """On PostgreSQL: a study row locked by another transaction makes a
    write raise StorageLockedError after lock_timeout (PostgreSQL's own lock_timeout is
    set per attempt), where it used to wait without limit."""
    study = ferrotune.create_study(
        storage=RDBStorage(postgres_url, lock_timeout=0.5), study_name="s"
    )
    engine = sa.create_engine(_plain_url(postgres_url))
    with engine.connect() as conn, conn.begin():
        conn.exec_driver_sql("SELECT * FROM ft_studies FOR UPDATE")
        with pytest.raises(StorageLockedError, match=r"lock_timeout=0\.5"):
            study.ask()
    engine.dispose()
    trial = study.ask()
    study.tell(trial, 0.0)
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]


# --------------------------------------------------------------------------- a missing driver
@pytest.mark.parametrize(
    "url",
    ["postgresql://u:p@localhost/db", "postgres://u@localhost/db", "postgresql+psycopg://u@h/db"],
)
def test_missing_postgres_driver_names_the_extra(monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    """A PostgreSQL URL without the driver says how to install it."""
    monkeypatch.setitem(sys.modules, "psycopg", None)
    for call in (
        lambda: ferrotune.create_study(storage=url),
        lambda: get_storage(url),
        lambda: RDBStorage(url),
    ):
        with pytest.raises(ImportError, match=r"pip install 'ferrotune\[postgres\]'") as info:
            call()
        assert isinstance(info.value.__cause__, ImportError)
        # A ferrotune error and a ValueError too, as every input error.
        assert isinstance(info.value, MissingDependencyError)
        assert isinstance(info.value, ValueError)


def test_missing_other_postgres_driver_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """A URL naming another driver says to install that driver."""
    monkeypatch.setitem(sys.modules, "psycopg2", None)
    with pytest.raises(ImportError, match="pip install psycopg2") as info:
        RDBStorage("postgresql+psycopg2://u@localhost/db")
    assert "ferrotune[postgres]" in str(info.value)


def test_missing_sqlalchemy_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SQLAlchemy, a database URL names the extra to install."""
    monkeypatch.setitem(sys.modules, "sqlalchemy", None)
    for name in list(sys.modules):
        if name.startswith("ferrotune.storages._rdb"):
            monkeypatch.delitem(sys.modules, name)
    with pytest.raises(ImportError, match=r"pip install 'ferrotune\[sqlite\]'"):
        ferrotune.create_study(storage="sqlite:///never.db")
    with pytest.raises(ImportError, match=r"pip install 'ferrotune\[postgres\]'"):
        get_storage("postgresql://u@localhost/db")
    import ferrotune.storages as storages

    with pytest.raises(ImportError, match=r"ferrotune\[sqlite\]"):
        storages.__getattr__("RDBStorage")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert isinstance(get_storage(None), ferrotune.storages.InMemoryStorage)

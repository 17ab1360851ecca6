"""Database storages: reused study ids, rows ferrotune cannot read, values JSON cannot hold
and pickling.

A deleted study's id given to a new study, rows another tool wrote that made a study
unloadable, attributes a database cannot hold, and pickling a database study.
"""

from __future__ import annotations

import importlib.util
import json
import math
import pickle
import sqlite3
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError, StudyNotFoundError
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.storages import InMemoryStorage, RDBStorage
from ferrotune.storages._rdb import _schema
from ferrotune.trial import TrialState

from .conftest import StorageFactory


def _x(trial: Any) -> float:
    return float(trial.suggest_float("x", 0.0, 1.0))


# ---------------------------------------------------------------------- reused study ids
def test_a_deleted_study_id_is_not_given_to_a_new_one(db_url: str) -> None:
    """After delete_study("old") and create_study("new"), the new study
    has an id of its own, and the old Study object raises StudyNotFoundError instead of
    writing a RUNNING trial into "new" (SQLite used to give "new" the id 1 again)."""
    old = ferrotune.create_study(study_name="old", storage=db_url, sampler=RandomSampler(seed=0))
    old.optimize(_x, n_trials=2)
    ferrotune.delete_study(study_name="old", storage=db_url)
    new = ferrotune.create_study(study_name="new", storage=db_url, direction="maximize")
    assert new._study_id != old._study_id
    with pytest.raises(StudyNotFoundError):
        old.optimize(_x, n_trials=3)
    assert ferrotune.load_study(study_name="new", storage=db_url).trials == []


@pytest.fixture
def reused_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any, Any]]:
    """A SQLite file made before ids stopped being reused (no AUTOINCREMENT), where
    "old" (a Study object with a RUNNING trial) was deleted and "new" got its id."""
    with monkeypatch.context() as m:
        for table in (_schema.studies, _schema.trials):
            m.setitem(table.dialect_options["sqlite"], "autoincrement", False)
        url = f"sqlite:///{tmp_path / 'old-format.db'}"
        old = ferrotune.create_study(study_name="old", storage=url, sampler=RandomSampler(seed=0))
    with sqlite3.connect(tmp_path / "old-format.db") as conn:
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'ft_studies'").fetchone()
    assert "AUTOINCREMENT" not in ddl[0]
    old.optimize(_x, n_trials=2)
    old.set_user_attr("owner", "old")
    running = old.ask()
    _x(running)
    ferrotune.delete_study(study_name="old", storage=url)
    new = ferrotune.create_study(study_name="new", storage=url, sampler=RandomSampler(seed=1))
    assert new._study_id == old._study_id  # the file reuses the id
    new.optimize(_x, n_trials=1)  # its trial 0 may reuse a trial id of "old"
    yield url, old, running


def _writes(old: Any, running: Any) -> dict[str, Callable[[], object]]:
    storage, sid = old._storage, old._study_id
    return {
        "optimize": lambda: old.optimize(_x, n_trials=1),
        "ask": lambda: old.ask(),
        "tell": lambda: old.tell(running, 0.5),
        "report": lambda: running.report(0.5, 1),
        "trial.set_user_attr": lambda: running.set_user_attr("k", 1),
        "study.set_user_attr": lambda: old.set_user_attr("k", 1),
        "enqueue_trial": lambda: old.enqueue_trial({"x": 0.5}),
        "record_constraints": lambda: storage.record_constraints(sid, running.number, {"c": 1}),
        "next_study_counter": lambda: storage.next_study_counter(sid, "qmc"),
        "heartbeat": lambda: storage._beat(sid, running.number),
        "choices": lambda: storage._save_choices(
            sid, "c", ferrotune.distributions.CategoricalDistribution(["a"])
        ),
        "finish_trial": lambda: storage.finish_trial(sid, running.number, 1, [0.5]),
    }


@pytest.mark.parametrize(
    "write",
    [
        "optimize",
        "ask",
        "tell",
        "report",
        "trial.set_user_attr",
        "study.set_user_attr",
        "enqueue_trial",
        "record_constraints",
        "next_study_counter",
        "heartbeat",
        "choices",
        "finish_trial",
    ],
)
def test_a_reused_id_never_takes_writes_of_the_deleted_study(
    reused_id: tuple[str, Any, Any], write: str
) -> None:
    """In a SQLite file that gives a deleted study's id to a new study,
    every write through the deleted study's objects raises StudyNotFoundError (a
    KeyError and a ValueError) naming the study, and the new study is left as it was:
    its trial, no attributes, no enqueued trial, no constraints."""
    url, old, running = reused_id
    with pytest.raises(StudyNotFoundError, match="'old'"):
        _writes(old, running)[write]()
    new = ferrotune.load_study(study_name="new", storage=url)
    trials = new.trials
    assert [(t.number, t.state) for t in trials] == [(0, TrialState.COMPLETE)]
    assert trials[0].user_attrs == {} and trials[0].system_attrs == {}
    assert new.user_attrs == {} and new.system_attrs == {}
    assert trials[0].intermediate_values == {}
    assert 0.0 <= trials[0].params["x"] <= 1.0
    # The deleted study's object does not show the new study's trials either.
    assert all(t.number < 3 for t in old.trials)


# ------------------------------------------------------------ rows ferrotune cannot read
def _corrupt(path: Path, *sql: str) -> None:
    conn = sqlite3.connect(path)
    try:
        for statement in sql:
            conn.execute(statement)
        conn.commit()
    finally:
        conn.close()


BAD_ROWS = {
    # name: (SQL, the trial whose record is bad, its state once loaded (None: as written))
    "intermediate-text": (
        [
            "INSERT INTO ft_trial_intermediate (trial_id, step, value) "
            "SELECT trial_id, 7, 'abc' FROM ft_trials WHERE number = 2"
        ],
        2,
        None,
    ),
    "intermediate-text-everywhere": (
        ["UPDATE ft_trial_intermediate SET value = 'abc'"],
        1,
        None,
    ),
    "intermediate-step-text": (
        [
            "UPDATE ft_trial_intermediate SET step = 'step' WHERE trial_id IN "
            "(SELECT trial_id FROM ft_trials WHERE number = 1)"
        ],
        1,
        None,
    ),
    "distribution-not-a-distribution": (
        [
            "UPDATE ft_trial_params SET distribution_json = '{\"x\": 1}' WHERE trial_id IN "
            "(SELECT trial_id FROM ft_trials WHERE number = 2)"
        ],
        2,
        None,
    ),
    "distribution-not-json": (
        [
            "UPDATE ft_trial_params SET distribution_json = '{bad' WHERE trial_id IN "
            "(SELECT trial_id FROM ft_trials WHERE number = 2)"
        ],
        2,
        None,
    ),
    "param-value-text": (
        [
            "UPDATE ft_trial_params SET value = 'abc' WHERE trial_id IN "
            "(SELECT trial_id FROM ft_trials WHERE number = 1)"
        ],
        1,
        None,
    ),
    "attr-not-json": (
        [
            "UPDATE ft_trial_attrs SET value_json = '{bad' WHERE trial_id IN "
            "(SELECT trial_id FROM ft_trials WHERE number = 1)"
        ],
        1,
        None,
    ),
    "number-huge": (["UPDATE ft_trials SET number = 100000000000 WHERE number = 2"], 2, "FAIL"),
    "number-negative": (["UPDATE ft_trials SET number = -3 WHERE number = 2"], 2, "FAIL"),
    "number-text": (["UPDATE ft_trials SET number = 'two' WHERE number = 2"], 2, "FAIL"),
    "state-text": (["UPDATE ft_trials SET state = 'done' WHERE number = 1"], 1, "FAIL"),
    "state-huge": (["UPDATE ft_trials SET state = 100000 WHERE number = 1"], 1, "FAIL"),
    "start-text": (["UPDATE ft_trials SET datetime_start = 'noon' WHERE number = 1"], 1, None),
}


@pytest.mark.parametrize("case", list(BAD_ROWS))
def test_a_bad_row_never_makes_the_study_unreadable(tmp_path: Path, case: str) -> None:
    """A row another tool (or a crash) wrote that ferrotune cannot read
    (an intermediate value or a parameter value that is text, a distribution that is
    not one, an attribute that is not JSON, a trial number or state out of range) is
    loaded as FAIL or with its bad part left out, with one RuntimeWarning naming the
    trial; the study loads, the other trials are intact, and optimize goes on (it used
    to raise TypeError, InvalidDistributionError or InvalidArgumentError on load)."""
    sql, bad, state = BAD_ROWS[case]
    path = tmp_path / "study.db"
    url = f"sqlite:///{path}"
    study = ferrotune.create_study(study_name="s", storage=url, sampler=RandomSampler(seed=0))

    def objective(trial: Any) -> float:
        x = _x(trial)
        trial.report(x, 0)
        trial.set_user_attr("x", x)
        return x

    study.optimize(objective, n_trials=4)
    before = study.trials
    _corrupt(path, *sql)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loaded = ferrotune.load_study(
            study_name="s", storage=url, sampler=TPESampler(n_startup_trials=2, seed=0)
        )
        trials = loaded.trials
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert len(runtime) == 1, [str(w.message) for w in caught]
    assert f"trial {bad}" in str(runtime[0].message)
    assert len(trials) == 4
    for t, b in zip(trials, before, strict=True):
        if t.number == bad:
            continue
        assert (t.state, t.values, t.params) == (b.state, b.values, b.params)
        assert t.user_attrs == b.user_attrs
        if not case.endswith("everywhere"):
            assert t.intermediate_values == b.intermediate_values
    if state == "FAIL":
        assert trials[bad].state == TrialState.FAIL and trials[bad].values is None
    else:
        assert trials[bad].state == TrialState.COMPLETE
        assert trials[bad].values == before[bad].values
        assert set(trials[bad].params) <= {"x"}
    good = [b for b in before if b.number != bad or state is None]
    assert loaded.best_value == min(b.values[0] for b in good)
    loaded.optimize(_x, n_trials=3)
    with pytest.warns(RuntimeWarning, match=f"trial {bad}"):  # read afresh: warned again
        after = ferrotune.load_study(study_name="s", storage=url).trials
    assert len(after) == 7 and all(t.state == TrialState.COMPLETE for t in after[4:])
    assert all(0.0 <= t.params["x"] <= 1.0 for t in after[4:])
    assert not any(t.state == TrialState.RUNNING for t in after)


# ------------------------------------------------------------- values JSON cannot hold
NOT_JSON: dict[str, Any] = {
    "object": object(),
    "set": {1, 2},
    "bytes": b"ab",
    "nested": {"a": [1, object()]},
    "tuple-key": {(1, 2): 3},
}


def _circular() -> Any:
    a: list[Any] = []
    a.append(a)
    return a


@pytest.mark.parametrize("value", [*NOT_JSON, "circular"])
def test_values_a_database_cannot_hold_are_refused_on_every_storage(
    make_storage: StorageFactory, value: str
) -> None:
    """A user attribute or an enqueued value that JSON cannot hold
    raises InvalidArgumentError (a ValueError) naming the key, before anything is
    written, on every storage (in memory it used to be accepted and SQLite raised a
    bare TypeError): code that works in memory works on a database."""
    bad = _circular() if value == "circular" else NOT_JSON[value]
    study = ferrotune.create_study(storage=make_storage(), sampler=RandomSampler(seed=0))
    trial = study.ask()
    _x(trial)
    attempts: dict[str, tuple[Callable[[], object], str]] = {
        "study attr": (lambda: study.set_user_attr("skey", bad), "'skey'"),
        "trial attr": (lambda: trial.set_user_attr("tkey", bad), "'tkey'"),
        "enqueue": (lambda: study.enqueue_trial({"x": bad}), "'x'"),
        "enqueue attrs": (
            lambda: study.enqueue_trial({"x": 0.5}, user_attrs={"ekey": bad}),
            "'ekey'",
        ),
    }
    for label, (attempt, key) in attempts.items():
        with pytest.raises(InvalidArgumentError, match=key) as info:
            attempt()
        assert isinstance(info.value, ValueError), label
    study.tell(trial, 0.5)
    assert study.user_attrs == {}
    assert [(t.number, t.state, t.user_attrs) for t in study.trials] == [
        (0, TrialState.COMPLETE, {})
    ]
    # JSON values are accepted everywhere, and read back as JSON would give them.
    study.set_user_attr("ok", {"a": [1, 2.5, None, True, "s"], "t": (1, 2)})
    assert study.user_attrs["ok"]["a"] == [1, 2.5, None, True, "s"]


# ------------------------------------------------------------------------------ pickling
def test_a_database_study_pickles_by_its_url(db_url: str) -> None:
    """``pickle.dumps`` of a SQLite or PostgreSQL study works (Optuna's
    RDBStorage pickles too): the storage travels as its URL and settings, and the
    unpickled study is on the same database, with the same trials, and goes on."""
    storage = RDBStorage(db_url, heartbeat_interval=30.0, lock_timeout=3.5)
    study = ferrotune.create_study(study_name="p", storage=storage, sampler=RandomSampler(seed=0))
    study.optimize(_x, n_trials=3)
    study.set_user_attr("k", [1, 2])
    copy = pickle.loads(pickle.dumps(study))
    assert copy.study_name == "p"
    st = copy._storage
    assert isinstance(st, RDBStorage) and st is not storage
    assert (st.url, st.heartbeat_interval, st.grace_period, st.lock_timeout) == (
        storage.url,
        30.0,
        60.0,
        3.5,
    )
    assert [(t.number, t.state, t.params, t.values) for t in copy.trials] == [
        (t.number, t.state, t.params, t.values) for t in study.trials
    ]
    assert copy.user_attrs == {"k": [1, 2]}
    copy.optimize(_x, n_trials=2)
    assert len(study.trials) == 5  # both objects are on the one database
    assert sorted(t.number for t in copy.trials) == list(range(5))
    # The storage alone pickles as well.
    again = pickle.loads(pickle.dumps(storage))
    assert again.get_all_study_names() == ["p"]
    storage.dispose()
    st.dispose()
    again.dispose()


def test_in_memory_storage_still_pickles_with_the_json_check() -> None:
    """The in-memory check of a reused study id does not change what its pickles hold."""
    study = ferrotune.create_study(storage=InMemoryStorage())
    study.set_user_attr("k", {"a": 1})
    copy = pickle.loads(pickle.dumps(study))
    assert copy.user_attrs == {"k": {"a": 1}}
    assert json.dumps(copy.user_attrs) == '{"k": {"a": 1}}'


# ------------------------------------------------ a trial finished by another worker


@pytest.mark.parametrize("suggest_first", [False, True])
def test_a_trial_told_by_another_worker_is_seen_finished_by_the_one_that_asked_it(
    make_storage: StorageFactory, suggest_first: bool
) -> None:
    """Worker A asks a trial, worker B (another Study object, as another process or a web
    request has) tells it: A's view, best value and sampler see it finished, as Optuna's
    do (a database study kept it RUNNING in A until A tried to tell it)."""
    a = ferrotune.create_study(
        study_name="s", storage=make_storage(), sampler=RandomSampler(seed=0)
    )
    a.tell(a.ask(), 1.0)
    trial = a.ask()
    if suggest_first:
        trial.suggest_float("x", 0.0, 1.0)
    b = ferrotune.load_study(study_name="s", storage=make_storage())
    b.tell(trial.number, 0.5)
    assert [(t.state, t.values) for t in a.trials] == [
        (TrialState.COMPLETE, [1.0]),
        (TrialState.COMPLETE, [0.5]),
    ]
    assert a.best_value == 0.5
    assert len(a.get_trials(states=(TrialState.COMPLETE,))) == 2
    with pytest.raises(ferrotune.exceptions.UpdateFinishedTrialError):
        a.tell(trial.number, 0.7)
    # Told again with skip_if_finished: quietly, as Optuna (it raised while A's view
    # was stale).
    c = ferrotune.load_study(study_name="s", storage=make_storage())
    late = a.ask()
    c.tell(late.number, 0.9)
    a.tell(late.number, 0.1, skip_if_finished=True)
    assert a.trials[late.number].values == [0.9]
    # A's own trials still finish through A.
    a.tell(a.ask(), 0.25)
    assert a.best_value == 0.25
    assert [t.state for t in b.trials] == [TrialState.COMPLETE] * 4


# ------------------------------------------------ storage input (lifecycle pass)


def test_bad_storage_input_gets_ferrotune_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="is a folder, not a SQLite file"):
        ferrotune.create_study(storage=f"sqlite:///{tmp_path}")
    with pytest.raises(InvalidArgumentError, match="heartbeat_interval"):
        RDBStorage(f"sqlite:///{tmp_path / 'a.db'}", heartbeat_interval="5")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="grace_period"):
        RDBStorage(f"sqlite:///{tmp_path / 'a.db'}", grace_period=math.inf)
    np = pytest.importorskip("numpy")
    st = RDBStorage(
        f"sqlite:///{tmp_path / 'a.db'}", heartbeat_interval=np.float32(5), grace_period=np.int64(9)
    )
    assert (st.heartbeat_interval, st.grace_period) == (5.0, 9.0)
    if importlib.util.find_spec("pymysql") is None:
        with pytest.raises(
            ferrotune.exceptions.MissingDependencyError, match="pip install pymysql"
        ):
            RDBStorage("mysql+pymysql://u:p@127.0.0.1/db")
    # A URL RDBStorage takes is taken as a string too.
    study = ferrotune.create_study(storage=f"sqlite+pysqlite:///{tmp_path / 'b.db'}")
    study.optimize(_x, n_trials=1)
    # A server that does not answer: one error, password hidden.
    with pytest.raises(ferrotune.exceptions.StorageInternalError, match="u:\\*\\*\\*@") as info:
        ferrotune.create_study(storage="postgresql+psycopg://u:secret@127.0.0.1:1/db")
    assert "secret" not in str(info.value)


def test_loading_with_other_directions_warns(tmp_path: Path) -> None:
    """create_study(load_if_exists=True) with directions unlike the stored study's kept
    the stored ones silently (as Optuna): a maximised accuracy came out minimised."""
    url = f"sqlite:///{tmp_path / 'd.db'}"
    ferrotune.create_study(study_name="acc", storage=url)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ferrotune.create_study(study_name="acc", storage=url, load_if_exists=True)
        ferrotune.create_study(
            study_name="acc", storage=url, load_if_exists=True, direction="minimize"
        )
    with pytest.warns(UserWarning, match=r"exists with directions \['minimize'\]"):
        study = ferrotune.create_study(
            study_name="acc", storage=url, load_if_exists=True, direction="maximize"
        )
    assert study.direction == ferrotune.StudyDirection.MINIMIZE

"""RDBStorage specifics: schema versions, incremental sync, exclusive transitions,
heartbeats and retries (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

import pickle
import threading
import time
from typing import Any

import pytest
import sqlalchemy as sa

import ferrotune
from ferrotune.exceptions import IncompatibleStorageError, InvalidArgumentError, InvalidTrialError
from ferrotune.samplers import RandomSampler
from ferrotune.storages import RDBStorage, RetryHeartbeatStaleTrialCallback, get_storage
from ferrotune.storages._rdb import _schema
from ferrotune.storages._rdb._storage import _normalise_url
from ferrotune.study import StudyDirection
from ferrotune.trial import TrialState


def _quad(trial: ferrotune.Trial) -> float:
    return trial.suggest_float("x", -1.0, 1.0) ** 2


def test_schema_is_versioned(db_url: str) -> None:
    st = RDBStorage(db_url)
    assert st.schema_version() == _schema.SCHEMA_VERSION == len(_schema.MIGRATIONS)
    RDBStorage(db_url).dispose()  # a second open migrates nothing
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.execute(sa.update(_schema.version_table).values(version=_schema.SCHEMA_VERSION + 1))
    engine.dispose()
    with pytest.raises(IncompatibleStorageError, match="newer"):
        RDBStorage(db_url)
    st.dispose()


def test_sync_reads_only_changed_trials(db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    writer = ferrotune.create_study(
        storage=RDBStorage(db_url), study_name="inc", sampler=RandomSampler(seed=0)
    )
    writer.optimize(_quad, n_trials=40)
    reader_storage = RDBStorage(db_url)
    reader = ferrotune.load_study(study_name="inc", storage=reader_storage)
    assert reader._core.n_trials() == 40
    seen: list[int] = []
    original = RDBStorage._changed

    def spy(*args: Any, **kwargs: Any) -> Any:
        out = original(*args, **kwargs)
        seen.append(len(out[0]))
        return out

    monkeypatch.setattr(RDBStorage, "_changed", staticmethod(spy))
    reader_storage.sync(reader._study_id)
    writer.optimize(_quad, n_trials=2)
    reader_storage.sync(reader._study_id)
    assert seen[0] == 0  # nothing changed: one query, no rows
    assert seen[-1] == 2  # the two new trials only
    assert reader._core.n_trials() == 42
    assert reader.trials[41].params == writer.trials[41].params


def test_enqueued_trials_are_started_once(db_url: str) -> None:
    st = RDBStorage(db_url)
    sid = st.create_new_study([StudyDirection.MINIMIZE], "q")
    enqueued = {st.enqueue_trial(sid, {"x": i / 100}) for i in range(30)}
    storages = [RDBStorage(db_url) for _ in range(6)]
    started: list[tuple[int, dict[str, Any]]] = []
    lock = threading.Lock()

    def work(s: RDBStorage) -> None:
        for _ in range(5):
            got = s.start_trial(sid)
            with lock:
                started.append(got)

    threads = [threading.Thread(target=work, args=(s,)) for s in storages]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    numbers = [n for n, _ in started]
    assert sorted(numbers) == sorted(enqueued)
    assert sorted(f["x"] for _, f in started) == [i / 100 for i in range(30)]
    # Everything is RUNNING now: the next start is a new trial, numbered after them.
    assert st.start_trial(sid)[0] == 30
    for s in [st, *storages]:
        s.dispose()


def test_a_trial_leaves_running_once(db_url: str) -> None:
    a, b = RDBStorage(db_url), RDBStorage(db_url)
    sid = a.create_new_study([StudyDirection.MINIMIZE], "once")
    number, _ = a.start_trial(sid)
    b.get_core(sid)
    results: list[str] = []

    def finish(s: RDBStorage, state: int) -> None:
        try:
            s.finish_trial(sid, number, state, [1.0] if state == 1 else [])
            results.append("ok")
        except InvalidTrialError:
            results.append("error")

    threads = [threading.Thread(target=finish, args=(s, st)) for s, st in ((a, 1), (b, 3)) * 3]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == ["error"] * 5 + ["ok"]


def test_stale_trial_fails_once_and_is_retried(db_url: str) -> None:
    def make(**kw: Any) -> RDBStorage:
        return RDBStorage(db_url, heartbeat_interval=0.05, grace_period=0.3, **kw)

    st = make()
    study = ferrotune.create_study(storage=st, study_name="stale")
    trial = study.ask()
    x = trial.suggest_float("x", 0, 1)
    with st.heartbeat(study._study_id, trial.number):
        pass  # one beat, with the parameter written, then silence: the worker "died"
    watchers = [
        make(heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback()) for _ in range(3)
    ]
    failed: list[int] = []
    deadline = time.monotonic() + 60
    while not failed and time.monotonic() < deadline:
        for w in watchers:
            failed += w.fail_stale_trials(study._study_id)
        time.sleep(0.05)
    assert failed == [trial.number]
    for w in watchers:
        assert w.fail_stale_trials(study._study_id) == []
    trials = ferrotune.load_study(study_name="stale", storage=make()).trials
    assert trials[0].state == TrialState.FAIL
    assert trials[1].state == TrialState.WAITING
    assert trials[1].system_attrs["failed_trial"] == 0
    assert trials[1].system_attrs["retry_history"] == [0]
    with pytest.raises(InvalidTrialError):
        study.tell(trial, 1.0)
    assert study._core.state(trial.number) == int(TrialState.FAIL)
    # The retry runs with the same parameter.
    retry = study.ask()
    assert retry.number == 1
    assert retry.suggest_float("x", 0, 1) == x


def test_retry_respects_max_retry() -> None:
    study = ferrotune.create_study()
    t = study.ask()
    t.suggest_float("x", 0, 1)
    study.tell(t, state=TrialState.FAIL)
    RetryHeartbeatStaleTrialCallback(max_retry=0)(study, study.trials[0])
    assert len(study.trials) == 1
    RetryHeartbeatStaleTrialCallback(max_retry=1)(study, study.trials[0])
    assert study.trials[1].state == TrialState.WAITING
    assert RetryHeartbeatStaleTrialCallback.retry_history(study.trials[1]) == [0]
    with pytest.raises(InvalidArgumentError):
        RetryHeartbeatStaleTrialCallback(max_retry=-1)


def _watch(watcher: RDBStorage, study_id: int, seconds: float, failed: list[int]) -> None:
    """Another worker's stale checks for ``seconds``, the trials they failed kept."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        failed.extend(watcher.fail_stale_trials(study_id))
        time.sleep(0.05)


def test_heartbeat_keeps_a_long_trial_alive(db_url: str) -> None:
    st = RDBStorage(db_url, heartbeat_interval=0.05, grace_period=1.0)
    study = ferrotune.create_study(storage=st, study_name="alive")
    watcher = RDBStorage(db_url, heartbeat_interval=0.05, grace_period=1.0)
    failed: list[int] = []

    def objective(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        _watch(watcher, study._study_id, 2.0, failed)
        return 0.0

    study.optimize(objective, n_trials=1)
    assert failed == []
    assert study.trials[0].state == TrialState.COMPLETE


def test_a_trial_beats_while_its_sampler_sets_it_up(db_url: str) -> None:
    """The heartbeat starts when the trial starts, not when the objective does: a worker
    lost during a long sampler set-up left a trial without a heartbeat, which no stale
    check ever failed (RUNNING for good; a Dask optimize waited on it forever). A long
    set-up of a live worker is not taken for a lost one either."""
    st = RDBStorage(db_url, heartbeat_interval=0.05, grace_period=0.5)
    watcher = RDBStorage(db_url, heartbeat_interval=0.05, grace_period=0.5)
    seen: list[float | None] = []
    failed: list[int] = []

    class SlowSetUp(RandomSampler):
        def before_trial(self, study: ferrotune.Study, trial: Any) -> None:
            _watch(watcher, study._study_id, 1.0, failed)
            engine = sa.create_engine(db_url)
            with engine.connect() as conn:
                seen.append(
                    conn.execute(
                        sa.select(_schema.trials.c.heartbeat).where(
                            _schema.trials.c.number == trial.number
                        )
                    ).scalar()
                )
            engine.dispose()

    study = ferrotune.create_study(storage=st, study_name="setup", sampler=SlowSetUp(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert seen and seen[0] is not None
    assert failed == []
    assert study.trials[0].state == TrialState.COMPLETE


def test_heartbeats_on_postgresql_follow_the_servers_clock(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A worker whose clock runs 10 s ahead never fails another worker's live trial:
    heartbeats and the stale check read the server's clock, as Optuna's storage does
    (each worker's own clock decided before)."""
    st = RDBStorage(postgres_url, heartbeat_interval=0.05, grace_period=0.5)
    watcher = RDBStorage(postgres_url, heartbeat_interval=0.05, grace_period=0.5)
    study = ferrotune.create_study(storage=st, study_name="skew")
    failed: list[int] = []
    real = time.time

    def objective(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        with monkeypatch.context() as m:
            # This worker's clock only: the heartbeats are written from another thread
            # in the server's clock.
            m.setattr(time, "time", lambda: real() + 10.0)
            _watch(watcher, study._study_id, 1.0, failed)
        return 0.0

    study.optimize(objective, n_trials=1)
    assert failed == []
    assert study.trials[0].state == TrialState.COMPLETE


def test_choices_persist_without_trials(db_url: str) -> None:
    study = ferrotune.create_study(storage=RDBStorage(db_url), study_name="ch")
    trial = study.ask()
    trial.suggest_categorical("act", ["relu", "gelu"])
    other = RDBStorage(db_url)
    choices = other.get_choices(other.get_study_id_from_name("ch"))
    assert choices["act"].choices == ("relu", "gelu")


def test_urls_and_errors(tmp_path: Any) -> None:
    assert _normalise_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert _normalise_url("postgres://u@h/db") == "postgresql+psycopg://u@h/db"
    url = f"sqlite:///{tmp_path / 'x.db'}"
    st = get_storage(url)
    assert isinstance(st, RDBStorage)
    assert "x.db" in repr(st)
    copied = pickle.loads(pickle.dumps(st))  # by its URL
    assert isinstance(copied, RDBStorage) and copied.url == st.url
    with pytest.raises(InvalidArgumentError):
        get_storage("mysql://x")
    with pytest.raises(InvalidArgumentError):
        RDBStorage(url, heartbeat_interval=0)
    with pytest.raises(InvalidArgumentError, match="no study"):
        ferrotune.load_study(study_name="missing", storage=url)
    assert RDBStorage(url, heartbeat_interval=2).grace_period == 4


def test_large_study_loads_with_few_queries(sqlite_url: str) -> None:
    study = ferrotune.create_study(
        storage=RDBStorage(sqlite_url), study_name="big", sampler=RandomSampler(seed=0)
    )
    study.optimize(_quad, n_trials=300)
    st = RDBStorage(sqlite_url)
    statements: list[str] = []
    sa.event.listen(st._engine, "before_cursor_execute", lambda *a: statements.append(str(a[2])))
    trials = ferrotune.load_study(study_name="big", storage=st).trials
    assert len(trials) == 300
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 20, selects


def test_forked_child_writes_through_its_own_connections(sqlite_url: str) -> None:
    import multiprocessing

    st = RDBStorage(sqlite_url)
    study = ferrotune.create_study(storage=st, study_name="fork", sampler=RandomSampler(seed=0))
    study.optimize(_quad, n_trials=3)
    ctx = multiprocessing.get_context("fork")
    child = ctx.Process(target=_fork_child, args=(st,))  # the parent's storage object
    child.start()
    child.join(120)
    assert child.exitcode == 0
    study.optimize(_quad, n_trials=3)
    numbers = [t.number for t in ferrotune.load_study(study_name="fork", storage=st).trials]
    assert numbers == list(range(11))


def _fork_child(st: RDBStorage) -> None:
    study = ferrotune.load_study(study_name="fork", storage=st, sampler=RandomSampler(seed=1))
    study.optimize(_quad, n_trials=5)


def test_reading_trials_fails_stale_ones(sqlite_url: str) -> None:
    st = RDBStorage(sqlite_url, heartbeat_interval=0.05, grace_period=0.2)
    study = ferrotune.create_study(storage=st, study_name="rd")
    trial = study.ask()
    with st.heartbeat(study._study_id, trial.number):
        pass
    reader = ferrotune.load_study(
        study_name="rd",
        storage=RDBStorage(sqlite_url, heartbeat_interval=0.05, grace_period=0.2),
    )
    deadline = time.monotonic() + 60
    while reader.trials[0].state == TrialState.RUNNING and time.monotonic() < deadline:
        time.sleep(0.05)
    assert reader.trials[0].state == TrialState.FAIL


def test_delete_study_while_workers_run(db_url: str) -> None:
    """Deleting a study that workers are still optimizing removes it whole (no foreign-key
    error from rows they insert meanwhile, as PostgreSQL raised), and each worker stops
    with StudyNotFoundError."""
    from ferrotune.exceptions import StudyNotFoundError

    ferrotune.create_study(study_name="race", storage=db_url)
    outcomes: list[str] = []
    stop = threading.Event()

    def work() -> None:
        study = ferrotune.load_study(
            study_name="race", storage=RDBStorage(db_url), sampler=RandomSampler(seed=0)
        )
        try:
            while not stop.is_set():
                study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=10)
            outcomes.append("still running")
        except StudyNotFoundError:
            outcomes.append("gone")
        except Exception as e:  # any other error is this test's failure
            outcomes.append(f"{type(e).__name__}: {e}")

    workers = [threading.Thread(target=work) for _ in range(2)]
    for w in workers:
        w.start()
    error = None
    try:
        probe = RDBStorage(db_url)
        sid = probe.get_study_id_from_name("race")
        deadline = time.monotonic() + 30
        while len(probe.get_all_trials(sid)) < 20 and time.monotonic() < deadline:
            time.sleep(0.05)
        ferrotune.delete_study(study_name="race", storage=db_url)
    except Exception as e:
        error = e
    finally:
        time.sleep(0.5)  # the workers' next write finds the study gone
        stop.set()
        for w in workers:
            w.join(timeout=60)
    assert error is None, repr(error)
    assert not any(w.is_alive() for w in workers)
    assert outcomes == ["gone", "gone"]
    assert "race" not in ferrotune.get_all_study_names(storage=db_url)


def test_names_a_database_cannot_hold_are_refused_cleanly(db_url: str) -> None:
    """A name over 512 characters or holding NUL raises InvalidArgumentError naming it
    (PostgreSQL raised a bare DataError, and a parameter's left its trial RUNNING)."""
    study = ferrotune.create_study(study_name="names", storage=db_url)
    study.optimize(lambda t: t.suggest_float("p" * 600, 0, 1), n_trials=1, catch=(Exception,))
    reloaded = ferrotune.load_study(study_name="names", storage=db_url)
    assert [t.state for t in reloaded.trials] == [TrialState.FAIL]
    with pytest.raises(InvalidArgumentError, match=r"study name 'n+'\.\.\. is 600 characters"):
        ferrotune.create_study(study_name="n" * 600, storage=db_url)
    with pytest.raises(InvalidArgumentError, match="study user attribute"):
        study.set_user_attr("k" * 513, 1)
    trial = study.ask()
    with pytest.raises(InvalidArgumentError, match="holds a NUL character"):
        trial.set_user_attr("a\x00b", 1)
    trial.set_user_attr("k" * 512, 1)  # the longest name is fine
    study.tell(trial, 1.0)
    states = [t.state for t in ferrotune.load_study(study_name="names", storage=db_url).trials]
    assert states == [TrialState.FAIL, TrialState.COMPLETE]
    # Checked before a trial is created: nothing is left behind.
    long = "q" * 600
    frozen = ferrotune.trial.create_trial(
        params={long: 0.5}, distributions={long: ferrotune.distributions.FloatDistribution(0, 1)},
        value=1.0,
    )  # fmt: skip
    with pytest.raises(InvalidArgumentError, match=r"parameter 'q+'"):
        study.add_trial(frozen)
    with pytest.raises(InvalidArgumentError, match="trial user attribute"):
        study.enqueue_trial({"x": 0.5}, user_attrs={long: 1})
    cat = study.ask()
    with pytest.raises(InvalidArgumentError, match=r"parameter 'q+'"):
        cat.suggest_categorical(long, ["a", "b"])
    study.tell(cat, state=TrialState.FAIL)
    assert len(ferrotune.load_study(study_name="names", storage=db_url).trials) == 3

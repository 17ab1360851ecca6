"""The journal storage beyond the shared suite: processes on one journal file, exactly
one finish, heartbeats, Optuna's journals both ways, unfinished lines and locks.

Nothing here asserts on wall-clock time: waits poll with generous time-outs.
"""

from __future__ import annotations

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from collections.abc import Callable
from pathlib import Path

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError, UpdateFinishedTrialError
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.storages import JournalStorage, RetryHeartbeatStaleTrialCallback
from ferrotune.storages.journal import (
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
)
from ferrotune.trial import TrialState

ROOT = Path(__file__).resolve().parents[2]


def _storage(path: Path, **kwargs: object) -> JournalStorage:
    return JournalStorage(JournalFileBackend(str(path)), **kwargs)  # type: ignore[arg-type]


def _poll(cond: Callable[[], bool], timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


def _spawn(script: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=ROOT,
        env=dict(os.environ, **env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


WORKER = """
    import os, sys, ferrotune
    from ferrotune.storages import JournalStorage
    from ferrotune.storages.journal import JournalFileBackend

    path, seed = sys.argv[1], int(sys.argv[2])
    study = ferrotune.load_study(study_name="race",
                                 storage=JournalStorage(JournalFileBackend(path)),
                                 sampler=ferrotune.samplers.RandomSampler(seed=seed))

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        k = trial.suggest_int("k", 0, 1000)
        trial.report(x, 0)
        trial.set_user_attr("worker", seed)
        return x * x + k

    study.optimize(objective, n_trials=50)
"""


def test_four_processes_of_fifty_trials_lose_or_duplicate_nothing(tmp_path: Path) -> None:
    path = tmp_path / "race.log"
    study = ferrotune.create_study(storage=_storage(path), study_name="race")
    for i in range(10):
        study.enqueue_trial({"x": float(i)})
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WORKER), str(path), str(seed)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seed in range(4)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=240)
        assert p.returncode == 0, out
    trials = ferrotune.load_study(study_name="race", storage=_storage(path)).trials
    assert [t.number for t in trials] == list(range(200))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    # Each worker ran its 50 trials; every enqueued trial ran once, with its value.
    counts = [sum(t.user_attrs["worker"] == w for t in trials) for w in range(4)]
    assert counts == [50, 50, 50, 50]
    assert [t.params["x"] for t in trials[:10]] == [float(i) for i in range(10)]
    assert len({(t.params["x"], t.params["k"]) for t in trials}) == 200
    assert all(t.value == t.params["x"] ** 2 + t.params["k"] for t in trials)
    assert all(t.intermediate_values == {0: t.params["x"]} for t in trials)


WRITER = """
    import sys, json, time, pathlib, ferrotune
    from ferrotune.storages import JournalStorage
    from ferrotune.storages.journal import JournalFileBackend

    path, go = sys.argv[1], pathlib.Path(sys.argv[2])
    study = ferrotune.create_study(study_name="w", storage=JournalStorage(JournalFileBackend(path)),
                                   sampler=ferrotune.samplers.RandomSampler(seed=0))
    objective = lambda t: t.suggest_float("x", 0, 1)
    study.optimize(objective, n_trials=20)
    print(json.dumps([t.value for t in study.trials]), flush=True)
    while not go.exists():
        time.sleep(0.02)
    study.optimize(objective, n_trials=10)
    print(json.dumps([t.value for t in study.trials]), flush=True)
"""


def test_a_reader_process_sees_the_trials_of_another(tmp_path: Path) -> None:
    path, go = tmp_path / "w.log", tmp_path / "go"
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(WRITER), str(path), str(go)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())
        storage = _storage(path)
        reader = ferrotune.load_study(study_name="w", storage=storage, sampler=TPESampler(seed=1))
        assert [t.value for t in reader.trials] == first
        read_before = storage._replay.n_read
        go.touch()
        second = json.loads(proc.stdout.readline())
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    # The same Study object reads only the records added since (its core grows).
    assert [t.value for t in reader.trials] == second and len(second) == 30
    assert storage._replay.n_read > read_before
    assert reader.best_value == min(second)
    # Its sampler sees them: TPE starts modelling after 10 trials, here at once.
    reader.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert reader.trials[-1].number == 30


TELLER = """
    import sys, ferrotune
    from ferrotune.storages import JournalStorage
    from ferrotune.storages.journal import JournalFileBackend
    from ferrotune.exceptions import UpdateFinishedTrialError

    path, number, value = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    study = ferrotune.load_study(study_name="t", storage=JournalStorage(JournalFileBackend(path)))
    print("ready", flush=True)
    sys.stdin.readline()
    try:
        study.tell(number, value)
        print("told", flush=True)
    except UpdateFinishedTrialError:
        print("refused", flush=True)
"""


def test_a_trial_is_finished_exactly_once_by_racing_processes(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    study = ferrotune.create_study(storage=_storage(path), study_name="t")
    numbers = [study.ask().number for _ in range(3)]
    for number in numbers:
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", textwrap.dedent(TELLER), str(path), str(number), str(v)],
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for v in range(4)
        ]
        for p in procs:
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        for p in procs:  # all at once
            assert p.stdin is not None
            p.stdin.write("go\n")
            p.stdin.flush()
        outcomes = [p.communicate(timeout=120)[0].strip() for p in procs]
        assert sorted(outcomes) == ["refused", "refused", "refused", "told"]
        winner = outcomes.index("told")
        trial = ferrotune.load_study(study_name="t", storage=_storage(path)).trials[number]
        assert trial.state == TrialState.COMPLETE and trial.value == float(winner)
    # One finishing record per trial was written: the refused ones never reached the file.
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert sum(r["op_code"] == 6 for r in records) == len(numbers)
    with pytest.raises(UpdateFinishedTrialError):
        study.tell(numbers[0], 1.0)


HANG = """
    import os, sys, time, pathlib, ferrotune
    from ferrotune.storages import JournalStorage
    from ferrotune.storages.journal import JournalFileBackend

    path, flag = sys.argv[1], pathlib.Path(sys.argv[2])
    storage = JournalStorage(JournalFileBackend(path), heartbeat_interval=0.1, grace_period=1.0)
    study = ferrotune.load_study(study_name="crash", storage=storage)

    def objective(trial):
        x = trial.suggest_float("x", -10, 10)
        flag.write_text(f"{trial.number} {x!r}")
        time.sleep(600)
        return x

    study.optimize(objective, n_trials=1)
"""


def test_a_killed_workers_trial_fails_by_heartbeat_and_is_retried_once(tmp_path: Path) -> None:
    path, flag = tmp_path / "crash.log", tmp_path / "flag"
    ferrotune.create_study(storage=_storage(path), study_name="crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(HANG), str(path), str(flag)], cwd=ROOT
    )
    try:
        _poll(lambda: flag.exists() and flag.read_text().strip() != "")
        number_s, x_s = flag.read_text().split()
        number, x = int(number_s), float(x_s)

        def param_written() -> bool:
            # Parameters reach the journal with the next heartbeat at the latest.
            trials = ferrotune.load_study(study_name="crash", storage=_storage(path)).trials
            return len(trials) > number and trials[number].params.get("x") == x

        _poll(param_written)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)

    workers = [
        ferrotune.load_study(
            study_name="crash",
            storage=_storage(
                path,
                heartbeat_interval=0.1,
                grace_period=1.0,
                heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
            ),
        )
        for _ in range(2)
    ]

    def retried() -> bool:
        for w in workers:  # two workers look at the stale trial
            w.optimize(lambda t: t.suggest_float("x", -10.0, 10.0) ** 2, n_trials=1)
        return any(
            RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number
            and t.state == TrialState.COMPLETE
            for t in workers[0].trials
        )

    _poll(retried)
    trials = workers[0].trials
    assert trials[number].state == TrialState.FAIL
    retries = [
        t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number
    ]
    assert len(retries) == 1  # failed (and retried) by exactly one worker
    assert retries[0].params["x"] == x
    assert RetryHeartbeatStaleTrialCallback.retry_history(retries[0]) == [number]
    # Heartbeats are kept apart from the trials' attributes.
    assert all("ferrotune:heartbeat" not in t.system_attrs for t in trials)


def test_optuna_reads_a_ferrotune_journal_and_ferrotune_continues_optunas(
    tmp_path: Path,
) -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = str(tmp_path / "both.log")
    study = ferrotune.create_study(storage=_storage(tmp_path / "both.log"), study_name="both")
    study.enqueue_trial({"x": 0.5})

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -1, 1)
        c = trial.suggest_categorical("c", ["a", "b"])
        trial.report(x, 3)
        trial.set_user_attr("u", [1, 2])
        return x * x + (c == "a")

    study.optimize(objective, n_trials=4)
    ours = study.trials
    theirs_storage = optuna.storages.JournalStorage(
        optuna.storages.journal.JournalFileBackend(path)
    )
    theirs = optuna.load_study(study_name="both", storage=theirs_storage)
    assert [(t.number, t.state.name, t.params, t.values) for t in theirs.trials] == [
        (t.number, t.state.name, t.params, t.values) for t in ours
    ]
    assert [t.intermediate_values for t in theirs.trials] == [{3: t.params["x"]} for t in ours]
    assert all(t.user_attrs == {"u": [1, 2]} for t in theirs.trials)
    assert theirs.trials[0].system_attrs == {"fixed_params": {"x": 0.5}}

    # Optuna adds trials, one enqueued and one created whole; ferrotune goes on.
    theirs.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=2)
    theirs.enqueue_trial({"x": 0.25})
    dist = optuna.distributions.FloatDistribution(-1, 1)
    theirs.add_trial(
        optuna.trial.create_trial(params={"x": 0.1}, distributions={"x": dist}, value=0.01)
    )
    again = ferrotune.load_study(study_name="both", storage=_storage(tmp_path / "both.log"))
    trials = again.trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 6 + [
        TrialState.WAITING,
        TrialState.COMPLETE,
    ]
    assert trials[7].params == {"x": 0.1} and trials[7].value == 0.01
    assert [t.value for t in trials[4:6]] == [t.value for t in theirs.trials[4:6]]
    assert trials[4].datetime_start == theirs.trials[4].datetime_start
    again.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=1)
    assert again.trials[6].params == {"x": 0.25} and again.trials[6].value == 0.0625
    assert len(again.trials) == 8


def test_optunas_successive_halving_continues_a_ferrotune_journal(tmp_path: Path) -> None:
    # ferrotune's rung records sat under Optuna's key as dicts, and Optuna's pruner, sorting
    # them as floats, raised TypeError on the first rung.
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path / "rungs.log"

    def objective(lib: object) -> Callable[[object], float]:
        def run(trial: object) -> float:
            x = trial.suggest_float("x", 0, 1)  # type: ignore[attr-defined]
            for step in range(1, 9):
                trial.report(x + 1 / step, step)  # type: ignore[attr-defined]
                if trial.should_prune():  # type: ignore[attr-defined]
                    raise lib.TrialPruned()  # type: ignore[attr-defined]
            return float(x)

        return run

    ours = ferrotune.create_study(
        study_name="s",
        storage=_storage(path),
        sampler=RandomSampler(seed=0),
        pruner=ferrotune.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    )
    ours.optimize(objective(ferrotune), n_trials=6)
    records = {n: r for n, r in ((t.number, t.system_attrs) for t in ours.trials)}
    assert any("completed_rung_0" in r for r in records.values())
    theirs = optuna.load_study(
        study_name="s",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(path))
        ),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=2),
    )
    for t in theirs.trials:
        for k in range(3):
            v = t.system_attrs.get(f"completed_rung_{k}")
            assert v is None or isinstance(v, float)
            if v is not None:
                # The value at the rung's step (min_resource 1, factor 2: steps 1, 2, 4).
                assert v == t.intermediate_values[2**k]
    theirs.optimize(objective(optuna), n_trials=6)
    assert len(theirs.trials) == 12
    # ferrotune reads its own records back (one per rung, not two) and goes on pruning.
    again = ferrotune.load_study(study_name="s", storage=_storage(path))
    core_records = again._storage.get_core(again._study_id).rung_records()
    assert len({(r[0], r[1]) for r in core_records}) == len(core_records)
    assert {r[0] for r in core_records} >= set(range(6))
    again.optimize(objective(ferrotune), n_trials=3)
    assert len(again.trials) == 15


def test_constraints_travel_between_optuna_and_ferrotune_journals(tmp_path: Path) -> None:
    # ferrotune wrote a "constraints" dict, which Optuna reads as its old list form (its
    # best_trials then raised TypeError), and ignored Optuna 5's "constraints:<name>".
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    path = tmp_path / "c.log"
    study = ferrotune.create_study(
        storage=_storage(path), study_name="c", directions=["minimize", "maximize"]
    )
    for c, values in ((0.2, [1.0, 2.0]), (-0.2, [2.0, 1.0])):
        trial = study.ask()
        trial.set_constraint("k", c)
        # Two constraints: Optuna's replay takes one attribute per record.
        trial.set_constraint("m", -1.0)
        study.tell(trial, values)
    assert [t.number for t in study.best_trials] == [1]

    theirs = optuna.load_study(
        study_name="c",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(path))
        ),
    )
    assert [t.constraints for t in theirs.trials] == [{"k": 0.2, "m": -1.0}, {"k": -0.2, "m": -1.0}]
    assert [t.number for t in theirs.best_trials] == [1]
    trial = theirs.ask()
    trial.set_constraint("k", 0.5)  # infeasible, though it dominates both
    theirs.tell(trial, [0.0, 5.0])

    again = ferrotune.load_study(study_name="c", storage=_storage(path))
    assert [t.constraints for t in again.trials] == [
        {"k": 0.2, "m": -1.0},
        {"k": -0.2, "m": -1.0},
        {"k": 0.5},
    ]
    assert [t.number for t in again.best_trials] == [1]


def test_imported_constraints_and_optunas_none_in_a_journal(tmp_path: Path) -> None:
    # import_study into a journal also wrote the old "constraints" dict, which Optuna
    # read as a list; a "constraints" None Optuna writes (its constraints_func raised)
    # before set_constraint made the replay skip the record.
    optuna = pytest.importorskip("optuna")
    from ferrotune.integration.optuna import import_study

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    source = optuna.create_study(directions=["minimize", "maximize"])
    for x, y in [(0.9, 1.0), (0.1, 0.5)]:
        t = source.ask()
        t.set_constraint("c", x - 0.5)
        source.tell(t, [x, y])
    path = tmp_path / "imp.log"
    import_study(source, storage=_storage(path), study_name="imp")
    theirs = optuna.load_study(
        study_name="imp",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(path))
        ),
    )
    assert [t.constraints for t in theirs.trials] == [{"c": 0.4}, {"c": -0.4}]
    assert [t.number for t in theirs.best_trials] == [1]

    other = tmp_path / "none.log"
    storage = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(other)))
    study = optuna.create_study(storage=storage, study_name="s")
    t = study.ask()
    t.suggest_float("x", 0, 1)
    storage.set_trial_system_attr(t._trial_id, "constraints", None)
    t.set_constraint("k", 1.0)
    study.tell(t, 1.0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mine = ferrotune.load_study(study_name="s", storage=_storage(other))
    assert mine.trials[0].constraints == {"k": 1.0}


def test_an_unfinished_line_is_cut_off_and_optuna_still_reads_the_file(tmp_path: Path) -> None:
    path = tmp_path / "torn.log"
    study = ferrotune.create_study(storage=_storage(path), study_name="torn")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    with open(path, "ab") as f:
        f.write(b'{"op_code":4,"worker_id":"dead","study_id":0,"datet')  # a writer died here
    # A reader meanwhile waits for the line's end instead of failing.
    assert len(ferrotune.load_study(study_name="torn", storage=_storage(path)).trials) == 2
    writer = ferrotune.load_study(study_name="torn", storage=_storage(path))
    writer.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert b'"dead"' not in path.read_bytes()
    trials = ferrotune.load_study(study_name="torn", storage=_storage(path)).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3
    assert trials[2].params == writer.trials[2].params
    # Optuna's reader refuses a bad line with others after it: there is none.
    optuna = pytest.importorskip("optuna")
    theirs = optuna.storages.JournalStorage(optuna.storages.journal.JournalFileBackend(str(path)))
    assert [t.params for t in optuna.load_study(study_name="torn", storage=theirs).trials] == [
        t.params for t in trials
    ]


def test_a_line_that_is_not_json_is_skipped_with_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "bad.log"
    study = ferrotune.create_study(storage=_storage(path), study_name="bad")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    with open(path, "ab") as f:
        f.write(b"not json at all\n")  # a complete line no writer of ours makes
    with pytest.warns(RuntimeWarning, match="skipped"):
        trials = ferrotune.load_study(study_name="bad", storage=_storage(path)).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2


def test_a_file_that_is_not_a_journal_is_refused_and_left_unchanged(tmp_path: Path) -> None:
    # A SQLite database given as a journal's path got JSON lines appended: broken.
    db = tmp_path / "s.db"
    ferrotune.create_study(storage=f"sqlite:///{db}", study_name="s").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    before = db.read_bytes()
    with pytest.raises(InvalidArgumentError, match=r"not a journal file.*sqlite:///"):
        ferrotune.create_study(storage=_storage(db), study_name="x")
    assert db.read_bytes() == before
    assert len(ferrotune.load_study(study_name="s", storage=f"sqlite:///{db}").trials) == 2
    for name, text in (("report.html", "<html></html>"), ("config.json", '{\n  "a": 1\n}\n')):
        other = tmp_path / name
        other.write_text(text)
        with pytest.raises(InvalidArgumentError, match="not a journal file"):
            _storage(other)
        assert other.read_text() == text
    # A journal whose first line is not a record still loads, that line skipped.
    journal = tmp_path / "j.log"
    ferrotune.create_study(storage=_storage(journal), study_name="j").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=2
    )
    journal.write_bytes(b"not json\n" + journal.read_bytes())
    with pytest.warns(RuntimeWarning, match="skipped"):
        assert len(ferrotune.load_study(study_name="j", storage=_storage(journal)).trials) == 2
    # NUL bytes a crash left after the records: still a journal.
    journal.write_bytes(journal.read_bytes() + b"\0" * 100)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert len(ferrotune.load_study(study_name="j", storage=_storage(journal)).trials) == 2


@pytest.mark.parametrize("lock", [JournalFileSymlinkLock, JournalFileOpenLock])
def test_a_lock_left_by_a_dead_process_is_removed_after_its_grace_period(
    tmp_path: Path, lock: type
) -> None:
    path = str(tmp_path / "locked.log")
    Path(path + ".lock").write_text("")  # its holder died
    backend = JournalFileBackend(path, lock_obj=lock(path, grace_period=0.2))
    backend.append_logs([{"op_code": 0, "worker_id": "w", "study_name": "s", "directions": [1]}])
    assert not Path(path + ".lock").exists()
    assert [r["study_name"] for r in backend.read_logs(0)] == ["s"]
    assert ferrotune.get_all_study_names(JournalStorage(backend)) == ["s"]


def test_bad_arguments_are_named(tmp_path: Path) -> None:
    with pytest.raises(InvalidArgumentError, match="log_storage"):
        JournalStorage(str(tmp_path / "x.log"))  # type: ignore[arg-type]
    backend = JournalFileBackend(str(tmp_path / "x.log"))
    with pytest.raises(InvalidArgumentError, match="heartbeat_interval"):
        JournalStorage(backend, heartbeat_interval=0)
    with pytest.raises(InvalidArgumentError, match="grace_period"):
        JournalFileOpenLock(str(tmp_path / "x.log"), grace_period=-1)
    with pytest.raises(InvalidArgumentError, match="file_path"):
        JournalFileBackend(3)  # type: ignore[arg-type]


def test_optunas_old_names_are_deprecated_aliases(tmp_path: Path) -> None:
    from ferrotune import storages

    path = str(tmp_path / "old.log")
    with pytest.warns(FutureWarning, match="JournalFileBackend"):
        backend = storages.JournalFileStorage(path)
    assert isinstance(backend, JournalFileBackend)
    with pytest.warns(FutureWarning, match="journal.JournalFileOpenLock"):
        lock = storages.JournalFileOpenLock(path)
    assert isinstance(lock, JournalFileOpenLock)
    with pytest.warns(FutureWarning, match="journal.JournalFileSymlinkLock"):
        storages.JournalFileSymlinkLock(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JournalStorage(JournalFileBackend(path, lock_obj=JournalFileOpenLock(path)))


def test_a_journal_study_pickles_by_its_file(tmp_path: Path) -> None:
    path = tmp_path / "p.log"
    study = ferrotune.create_study(
        storage=_storage(path), study_name="p", sampler=RandomSampler(seed=0)
    )
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    copy = pickle.loads(pickle.dumps(study))
    assert copy._storage is not study._storage
    assert [t.params for t in copy.trials] == [t.params for t in study.trials]
    copy.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert len(study.trials) == 4  # the original reads the copy's trial from the file


def test_four_processes_agree_on_every_rung_through_the_journal(tmp_path: Path) -> None:
    from tests.storages.test_rung_records import WORKER as RUNG_WORKER
    from tests.storages.test_rung_records import _check_records

    path = str(tmp_path / "rungs.log")
    ferrotune.create_study(storage=_storage(tmp_path / "rungs.log"), study_name="rungs-sh")
    # The rung test's worker, with the journal for its storage URL.
    worker = RUNG_WORKER.replace(
        "storage=url,",
        "storage=JournalStorage(JournalFileBackend(url)),",
    ).replace(
        "import ferrotune\n",
        "import ferrotune\nfrom ferrotune.storages import JournalStorage\n"
        "from ferrotune.storages.journal import JournalFileBackend\n",
        1,
    )
    assert "JournalFileBackend(url)" in worker
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", worker, path, "rungs-sh", "sh", str(seed), "30"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for seed in range(4)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=600)
        assert p.returncode == 0, out
    trials = ferrotune.load_study(
        study_name="rungs-sh", storage=_storage(tmp_path / "rungs.log")
    ).trials
    n_records = _check_records(trials, "sh", "rungs-sh", 120)
    assert 0 < sum(t.state == TrialState.PRUNED for t in trials) < len(trials)
    assert n_records > len(trials)


def test_worker_cli_runs_on_a_journal_file(tmp_path: Path) -> None:
    path = tmp_path / "cli.log"
    objective = Path(__file__).with_name("_objectives.py")
    cmd = [
        sys.executable,
        "-m",
        "ferrotune",
        "worker",
        "--storage",
        str(path),
        "--study",
        "cli",
        "--objective",
        f"{objective}:quadratic",
        "--n-trials",
        "10",
        "--direction",
        "minimize",
        "--quiet",
    ]
    procs = [
        subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for _ in range(2)
    ]
    for p in procs:
        out, _ = p.communicate(timeout=240)
        assert p.returncode == 0, out
    trials = ferrotune.load_study(study_name="cli", storage=_storage(path)).trials
    assert [t.number for t in trials] == list(range(20))
    assert all(t.state == TrialState.COMPLETE for t in trials)

"""Worker processes on one study: numbering, locking, crashes, durability.

Workers are `ferrotune worker` processes (or small scripts); nothing here asserts on wall
clock time: waits poll with generous time-outs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import ferrotune
from ferrotune.storages import RDBStorage, RetryHeartbeatStaleTrialCallback
from ferrotune.trial import TrialState

OBJECTIVES = Path(__file__).with_name("_objectives.py")
ROOT = Path(__file__).resolve().parents[2]


def _worker_cmd(url: str, study: str, objective: str, n_trials: int, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "ferrotune",
        "worker",
        "--storage",
        url,
        "--study",
        study,
        "--objective",
        f"{OBJECTIVES}:{objective}",
        "--n-trials",
        str(n_trials),
        "--quiet",
        *extra,
    ]


def _run_workers(cmds: list[list[str]], timeout: float = 240.0) -> list[tuple[int, str]]:
    procs = [
        subprocess.Popen(c, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for c in cmds
    ]
    out = []
    for p in procs:
        text, _ = p.communicate(timeout=timeout)
        out.append((p.returncode, text))
    return out


def _create(url: str, name: str) -> None:
    st = RDBStorage(url)
    ferrotune.create_study(storage=st, study_name=name)
    st.dispose()


def test_eight_postgres_workers_2000_trials(postgres_url: str) -> None:
    _create(postgres_url, "many")
    cmds = [
        _worker_cmd(postgres_url, "many", "quadratic", 250, "--sampler", "random", "--seed", str(i))
        for i in range(8)
    ]
    for rc, text in _run_workers(cmds):
        assert rc == 0, text
    st = RDBStorage(postgres_url)
    trials = ferrotune.load_study(study_name="many", storage=st).trials
    assert [t.number for t in trials] == list(range(2000))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert len({(t.params["x"], t.params["k"]) for t in trials}) == 2000
    st.dispose()


def test_four_sqlite_processes_no_locked_error(sqlite_url: str) -> None:
    _create(sqlite_url, "lite")
    cmds = [
        _worker_cmd(sqlite_url, "lite", "quadratic", 100, "--sampler", "random", "--seed", str(i))
        for i in range(4)
    ]
    for rc, text in _run_workers(cmds):
        assert rc == 0, text
        # No worker gave up on a lock. A warning that one waited (logged once a write has
        # waited SQLite's 1 s busy timeout) depends on the machine's load, not on the
        # storage: it appeared once with a benchmark running beside the test.
        assert "StorageLockedError" not in text and "gave up" not in text, text
    trials = ferrotune.load_study(study_name="lite", storage=sqlite_url).trials
    assert [t.number for t in trials] == list(range(400))
    assert all(t.state == TrialState.COMPLETE for t in trials)


def _poll(cond: object, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def test_killed_worker_trial_fails_by_heartbeat_and_is_retried(db_url: str, tmp_path: Path) -> None:
    _create(db_url, "crash")
    flag = tmp_path / "hanging"
    env = dict(os.environ, FERROTUNE_TEST_HANG=str(flag))
    cmd = _worker_cmd(
        db_url, "crash", "hang_first", 1, "--heartbeat-interval", "0.1", "--grace-period", "1"
    )
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env)
    try:
        _poll(lambda: flag.exists() and flag.read_text().strip() != "")
        number_s, x_s = flag.read_text().split()
        number, x = int(number_s), float(x_s)

        def param_written() -> bool:
            # Parameters reach the database with the next heartbeat at the latest.
            view = RDBStorage(db_url)
            try:
                trials = ferrotune.load_study(study_name="crash", storage=view).trials
                return len(trials) > number and trials[number].params.get("x") == x
            finally:
                view.dispose()

        _poll(param_written)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)

    storage = RDBStorage(
        db_url,
        heartbeat_interval=0.1,
        grace_period=1.0,
        heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback(max_retry=3),
    )
    study = ferrotune.load_study(study_name="crash", storage=storage)

    def retried() -> bool:
        study.optimize(lambda t: t.suggest_float("x", -10.0, 10.0) ** 2, n_trials=1)
        return any(
            RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number
            and t.state == TrialState.COMPLETE
            for t in study.trials
        )

    _poll(retried)
    trials = study.trials
    assert trials[number].state == TrialState.FAIL
    retry = next(
        t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number
    )
    assert retry.params["x"] == x
    assert RetryHeartbeatStaleTrialCallback.retry_history(retry) == [number]
    # Exactly one retry: the stale trial was failed once.
    n_retries = sum(
        RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == number for t in trials
    )
    assert n_retries == 1
    storage.dispose()


def test_told_trial_survives_sigkill(db_url: str) -> None:
    _create(db_url, "durable")
    script = textwrap.dedent(
        f"""
        import sys, time, ferrotune
        study = ferrotune.load_study(study_name="durable", storage={db_url!r})
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        study.tell(trial, 0.125)
        print(trial.number, repr(x), flush=True)
        time.sleep(600)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    number_s, x_s = line.split()
    trials = ferrotune.load_study(study_name="durable", storage=RDBStorage(db_url)).trials
    t = trials[int(number_s)]
    assert t.state == TrialState.COMPLETE
    assert t.values == [0.125]
    assert t.params["x"] == float(x_s)


def test_worker_cli_creates_study(sqlite_url: str) -> None:
    cmd = _worker_cmd(sqlite_url, "fresh", "quadratic", 5, "--direction", "maximize")
    [(rc, text)] = _run_workers([cmd])
    assert rc == 0, text
    study = ferrotune.load_study(study_name="fresh", storage=sqlite_url)
    assert study.direction == ferrotune.StudyDirection.MAXIMIZE
    assert len(study.trials) == 5


@pytest.mark.parametrize("spec", ["nomodule", "tests.storages._objectives:missing"])
def test_worker_cli_bad_objective(sqlite_url: str, spec: str) -> None:
    from ferrotune.cli import main

    # Reported as every command's mistakes are ("ferrotune worker: error: ..."), status 1.
    assert main(["worker", "--storage", sqlite_url, "--study", "s", "--objective", spec]) == 1

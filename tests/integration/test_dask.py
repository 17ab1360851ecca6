"""ferrotune.integration.dask: optimize over a LocalCluster of worker processes on a shared
storage, with a worker killed in the middle of a trial.

Nothing here asserts on wall-clock time: waits poll with generous time-outs.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages import (
    BaseStorage,
    InMemoryStorage,
    JournalStorage,
    RetryHeartbeatStaleTrialCallback,
)
from ferrotune.storages.journal import JournalFileBackend
from ferrotune.trial import TrialState

distributed = pytest.importorskip("distributed")
from ferrotune.integration.dask import optimize  # noqa: E402

POSTGRES_URL = os.environ.get("FERROTUNE_TEST_POSTGRES_URL")
# Trials in all (the target run: FERROTUNE_TEST_DASK_TRIALS=2000, 4 workers x 500).
N_TRIALS = int(os.environ.get("FERROTUNE_TEST_DASK_TRIALS", "40"))
VICTIM = 5


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    cluster = distributed.LocalCluster(
        n_workers=4,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.CRITICAL,
    )
    with cluster, distributed.Client(cluster) as c:
        yield c


def _storage(kind: str, tmp_path: Path) -> BaseStorage:
    settings: dict[str, Any] = {
        "heartbeat_interval": 0.2,
        # Long enough that a live worker starved of CPU on a loaded machine is not taken
        # for dead (1.5 s once failed a running trial under a load average of 12).
        "grace_period": 5.0,
        "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=2),
    }
    if kind == "journal":
        return JournalStorage(JournalFileBackend(str(tmp_path / "dask.log")), **settings)
    from ferrotune.storages import RDBStorage

    if kind == "sqlite":
        return RDBStorage(f"sqlite:///{tmp_path / 'dask.db'}", **settings)
    if not POSTGRES_URL:
        pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
    return RDBStorage(POSTGRES_URL, **settings)


@pytest.mark.parametrize("kind", ["sqlite", "journal", "postgres"])
def test_four_dask_workers_lose_no_trial_and_retry_a_killed_workers_trial(
    client: Any, kind: str, tmp_path: Path
) -> None:
    storage = _storage(kind, tmp_path)
    name = f"h13-dask-{kind}-{uuid.uuid4().hex[:8]}"  # the PostgreSQL server is shared
    ferrotune.create_study(storage=storage, study_name=name)
    flag = str(tmp_path / "victim")

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -10.0, 10.0)
        k = trial.suggest_int("k", 0, 10**9)
        trial.set_user_attr("pid", os.getpid())
        if trial.number == VICTIM:
            try:
                with open(flag, "x") as f:  # the first attempt only
                    f.write(str(os.getpid()))
            except FileExistsError:
                pass
            else:
                time.sleep(600)  # killed here
        return x * x + k

    killed: list[int] = []

    def kill_the_victim() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                pid = int(Path(flag).read_text())
            except (FileNotFoundError, ValueError):
                time.sleep(0.05)
                continue
            time.sleep(0.5)  # its parameters reach the storage with a heartbeat
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
            return

    killer = threading.Thread(target=kill_the_victim, daemon=True)
    killer.start()
    optimize(
        objective,
        n_trials=N_TRIALS,
        study_name=name,
        storage=storage,
        client=client,
        sampler=ferrotune.samplers.RandomSampler(seed=0),
    )
    killer.join(timeout=60)
    assert killed, "the victim trial never ran"

    trials = ferrotune.load_study(study_name=name, storage=storage).trials
    # The worker that noticed the lost trial ran one more: one trial more than asked.
    assert [t.number for t in trials] == list(range(N_TRIALS + 1))
    states = [t.state for t in trials]
    assert states.count(TrialState.FAIL) == 1 and trials[VICTIM].state == TrialState.FAIL
    assert states.count(TrialState.COMPLETE) == N_TRIALS
    retries = [
        t for t in trials if RetryHeartbeatStaleTrialCallback.retried_trial_number(t) == VICTIM
    ]
    assert len(retries) == 1 and retries[0].state == TrialState.COMPLETE
    assert retries[0].params == trials[VICTIM].params
    # No trial was run twice, and the workers did not repeat each other's draws.
    others = [t for t in trials if t.number != VICTIM]
    assert len({(t.params["x"], t.params["k"]) for t in others}) == N_TRIALS
    assert all(t.value == t.params["x"] ** 2 + t.params["k"] for t in others)
    # The victim ran in the killed process, its retry in another one.
    assert trials[VICTIM].user_attrs["pid"] == killed[0]
    assert retries[0].user_attrs["pid"] != killed[0]


def test_bad_calls_are_refused_before_any_work(tmp_path: Path) -> None:
    journal = JournalStorage(JournalFileBackend(str(tmp_path / "j")))
    ferrotune.create_study(storage=journal, study_name="s")
    no_client: Any = object()  # refused before the client is used
    with pytest.raises(InvalidArgumentError, match="shared storage"):
        optimize(lambda t: 0.0, 1, study_name="s", storage=InMemoryStorage(), client=no_client)
    with pytest.raises(InvalidArgumentError, match="n_trials or timeout"):
        optimize(lambda t: 0.0, study_name="s", storage=journal, client=no_client)
    with pytest.raises(InvalidArgumentError, match="n_workers"):
        optimize(lambda t: 0.0, 1, study_name="s", storage=journal, n_workers=0, client=no_client)
    with pytest.warns(UserWarning, match="heartbeat_interval"), pytest.raises(AttributeError):
        optimize(lambda t: 0.0, 1, study_name="s", storage=journal, client=no_client)

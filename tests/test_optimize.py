"""Study.optimize: failures, pruning, budgets, parallel workers, callbacks, stopping."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

import ferrotune
from ferrotune import TrialState
from ferrotune.samplers import RandomSampler
from tests._support import UserSampler


def _states(study: ferrotune.Study) -> list[TrialState]:
    return [t.state for t in study.trials]


@pytest.mark.parametrize("n_trials", [0, 1, 17])
def test_n_trials_is_respected(n_trials: int) -> None:
    study = ferrotune.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=n_trials)
    assert _states(study) == [TrialState.COMPLETE] * n_trials
    study.optimize(lambda t: 0.0, n_trials=3)
    assert len(study.trials) == n_trials + 3


def test_exception_marks_fail_and_is_reraised() -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        if trial.number == 2:
            raise ZeroDivisionError("boom")
        return 1.0

    with pytest.raises(ZeroDivisionError, match="boom"):
        study.optimize(objective, n_trials=10)
    assert _states(study) == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL]
    assert "x" in study.trials[2].params


@pytest.mark.parametrize(
    "catch", [ZeroDivisionError, (ZeroDivisionError,), [KeyError, ArithmeticError]], ids=str
)
def test_caught_exceptions_mark_fail_and_continue(catch: Any) -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        if trial.number % 2:
            raise ZeroDivisionError
        return 1.0

    study.optimize(objective, n_trials=6, catch=catch)
    assert _states(study) == [TrialState.COMPLETE, TrialState.FAIL] * 3


def test_uncaught_exception_type_is_reraised_even_with_catch() -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        raise KeyError("k")

    with pytest.raises(KeyError):
        study.optimize(objective, n_trials=3, catch=(ValueError,))
    assert _states(study) == [TrialState.FAIL]


def test_trial_pruned_marks_pruned_and_continues() -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        trial.report(1.0, 0)
        if trial.number in (1, 3):
            raise ferrotune.TrialPruned()
        return float(trial.number)

    study.optimize(objective, n_trials=5)
    assert _states(study) == [
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.COMPLETE,
    ]
    assert study.trials[1].intermediate_values == {0: 1.0}
    assert study.best_value == 0.0


def test_nan_objective_marks_fail_without_raising() -> None:
    study = ferrotune.create_study()
    study.optimize(lambda t: float("nan") if t.number == 0 else 1.0, n_trials=3)
    assert _states(study) == [TrialState.FAIL, TrialState.COMPLETE, TrialState.COMPLETE]


@pytest.mark.parametrize("sampler_factory", [lambda: RandomSampler(seed=0), lambda: UserSampler(0)])
def test_parallel_workers_lose_no_trial(sampler_factory: Any) -> None:
    study = ferrotune.create_study(sampler=sampler_factory())
    returned: dict[int, float] = {}
    lock = threading.Lock()
    threads = set()

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        n = trial.suggest_int("n", 0, 9)
        threads.add(threading.get_ident())
        time.sleep(0.001)  # let the workers interleave
        with lock:
            returned[trial.number] = x + n
        return x + n

    study.optimize(objective, n_trials=200, n_jobs=4)
    numbers = [t.number for t in study.trials]
    assert sorted(numbers) == list(range(200))
    assert _states(study) == [TrialState.COMPLETE] * 200
    for t in study.trials:
        assert t.value == returned[t.number] == t.params["x"] + t.params["n"]
    assert len(threads) > 1


def test_parallel_exception_stops_the_study_and_is_reraised() -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        if trial.number == 5:
            raise RuntimeError("worker failure")
        time.sleep(0.005)
        return 1.0

    with pytest.raises(RuntimeError, match="worker failure"):
        study.optimize(objective, n_trials=1000, n_jobs=3)
    assert study.trials[5].state == TrialState.FAIL
    assert TrialState.RUNNING not in _states(study)
    # Workers stop after their running trial: far fewer than the 1000 asked for.
    assert len(study.trials) < 1000


def test_n_jobs_minus_one_uses_every_cpu() -> None:
    study = ferrotune.create_study()
    study.optimize(lambda t: 0.0, n_trials=20, n_jobs=-1)
    assert _states(study) == [TrialState.COMPLETE] * 20


@pytest.mark.parametrize("n_jobs", [1, 3])
def test_callbacks_are_called_once_per_trial(n_jobs: int) -> None:
    study = ferrotune.create_study()
    calls: list[tuple[str, int, TrialState]] = []
    lock = threading.Lock()

    def make(tag: str) -> Any:
        def cb(s: ferrotune.Study, frozen: ferrotune.FrozenTrial) -> None:
            assert s is study
            with lock:
                calls.append((tag, frozen.number, frozen.state))

        return cb

    def objective(trial: ferrotune.Trial) -> float:
        if trial.number % 3 == 1:
            raise ferrotune.TrialPruned
        if trial.number % 3 == 2:
            raise ValueError
        return 0.0

    study.optimize(
        objective, n_trials=30, n_jobs=n_jobs, callbacks=[make("a"), make("b")], catch=ValueError
    )
    for tag in "ab":
        mine = sorted((n, s) for t, n, s in calls if t == tag)
        assert mine == [(t.number, t.state) for t in study.trials]
    assert len(calls) == 60


def test_timeout_stops_the_study() -> None:
    """Asserts counts and states only: the study ends by itself without n_trials, and
    every trial it started is finished."""
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        time.sleep(0.01)
        return 0.0

    study.optimize(objective, timeout=0.2)
    assert len(study.trials) >= 1
    assert set(_states(study)) == {TrialState.COMPLETE}


def test_timeout_and_n_trials_whichever_comes_first() -> None:
    study = ferrotune.create_study()
    study.optimize(lambda t: 0.0, n_trials=5, timeout=3600)
    assert len(study.trials) == 5


def test_zero_timeout_runs_no_trial() -> None:
    study = ferrotune.create_study()
    study.optimize(lambda t: 0.0, timeout=0)
    assert study.trials == []


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_stop_from_a_callback(n_jobs: int) -> None:
    study = ferrotune.create_study()

    def cb(s: ferrotune.Study, frozen: ferrotune.FrozenTrial) -> None:
        if frozen.number >= 4:
            s.stop()

    study.optimize(lambda t: 0.0, n_trials=1000, n_jobs=n_jobs, callbacks=[cb])
    # Trial 4 stops it; each other worker may finish the one trial it is running.
    assert 5 <= len(study.trials) <= 5 + (n_jobs - 1)
    assert set(_states(study)) == {TrialState.COMPLETE}
    # A later optimize starts afresh.
    study.optimize(lambda t: 0.0, n_trials=2)
    assert len(study.trials) >= 7


def test_stop_from_the_objective() -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        if trial.number == 2:
            trial.study.stop()
        return 0.0

    study.optimize(objective)
    assert len(study.trials) == 3


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_keyboard_interrupt_marks_fail_and_propagates(n_jobs: int) -> None:
    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        if trial.number == 3:
            raise KeyboardInterrupt
        return 1.0

    with pytest.raises(KeyboardInterrupt):
        study.optimize(objective, n_trials=100, n_jobs=n_jobs)
    assert study.trials[3].state == TrialState.FAIL
    assert TrialState.RUNNING not in _states(study)
    assert len(study.trials) < 100
    # Nothing recorded before the interrupt is lost.
    assert all(t.state == TrialState.COMPLETE for t in study.trials[:3])


def test_show_progress_bar(capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("tqdm")
    study = ferrotune.create_study()
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=7, show_progress_bar=True)
    assert _states(study) == [TrialState.COMPLETE] * 7
    err = capsys.readouterr().err
    assert "7/7" in err
    best = study.best_value
    assert f"best value: {best:.6g}" in err  # the postfix shows the best value so far
    study.optimize(lambda t: 0.0, timeout=0.05, show_progress_bar=True)
    assert set(_states(study)) == {TrialState.COMPLETE}


def test_gc_after_trial(monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    calls: list[int] = []
    real = gc.collect
    monkeypatch.setattr(gc, "collect", lambda *a: calls.append(1) or real(*a))
    study = ferrotune.create_study()
    study.optimize(lambda t: 0.0, n_trials=3, gc_after_trial=True)
    assert len(study.trials) == 3 and len(calls) == 3
    study.optimize(lambda t: 0.0, n_trials=2)
    assert len(calls) == 3  # off by default


def test_optimize_with_a_declared_space() -> None:
    space = ferrotune.SearchSpace(
        {
            "opt": ferrotune.distributions.CategoricalDistribution(["adam", "sgd"]),
            "beta": ferrotune.distributions.FloatDistribution(0.8, 0.99),
        },
        conditions={"beta": ("opt", ["adam"])},
    )
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: 0.0 if "beta" in t.params else 1.0, n_trials=50, space=space)
    for t in study.trials:
        assert ("beta" in t.params) == (t.params["opt"] == "adam")
        assert t.value == (0.0 if t.params["opt"] == "adam" else 1.0)


def test_multi_objective_optimize() -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"], sampler=RandomSampler(seed=0)
    )

    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        return x, 1.0 - x

    study.optimize(objective, n_trials=20)
    # Every trial is Pareto-optimal for this trade-off.
    assert len(study.best_trials) == 20


def test_parallel_workers_with_python_callbacks_in_rust_do_not_deadlock() -> None:
    """Rust code working without the GIL calls back into Python (a space predicate, a
    custom gamma) while other threads call into the same study: no thread may wait for a
    lock while holding the GIL. Run in a subprocess so that a regression fails, not hangs."""
    import subprocess
    import sys

    code = """
import ferrotune
from ferrotune.distributions import FloatDistribution, IntDistribution
space = ferrotune.SearchSpace(
    {"x": FloatDistribution(0, 1), "n": IntDistribution(1, 8)},
    constraints=[lambda p: p["x"] * p["n"] <= 4.0],
)
sampler = ferrotune.samplers.TPESampler(seed=0, n_startup_trials=4, gamma=lambda n: 2)
study = ferrotune.create_study(sampler=sampler)
def objective(t):
    y = t.suggest_float("y", -1, 1)
    return (t.params["x"] - 0.3) ** 2 + y * y + t.params["n"]
study.optimize(objective, n_trials=120, n_jobs=4, space=space)
states = {t.state.name for t in study.trials}
assert len(study.trials) == 120 and states == {"COMPLETE"}, states
assert all(t.params["x"] * t.params["n"] <= 4.0 for t in study.trials)
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_optimize_takes_a_mapping_as_a_space_and_names_a_bad_one() -> None:
    """A mapping name -> distribution given as ``space=`` is a space without conditions
    (it failed every trial with an AttributeError); anything else is refused up front,
    before a trial is created."""
    from ferrotune.distributions import FloatDistribution, IntDistribution
    from ferrotune.exceptions import InvalidArgumentError

    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    space = {"x": FloatDistribution(-1.0, 1.0), "n": IntDistribution(1, 8, step=1)}
    study.optimize(lambda t: t.params["x"] ** 2 + t.params["n"], n_trials=5, space=space)
    assert [t.state for t in study.trials] == [ferrotune.trial.TrialState.COMPLETE] * 5
    for t in study.trials:
        assert -1.0 <= t.params["x"] <= 1.0 and 1 <= t.params["n"] <= 8
    with pytest.raises(InvalidArgumentError, match="space must be a SearchSpace"):
        study.optimize(lambda t: 0.0, n_trials=1, space=[("x", 1)])  # type: ignore[arg-type]
    assert len(study.trials) == 5

"""User callables that the Rust core runs while it holds a study's lock (a space's
predicates, TPE's gamma and weights) must not hang when they call back into the
study: they get an InvalidArgumentError, the trial is marked FAIL, and nothing
deadlocks when one sampler is shared by studies in several threads."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable
from typing import Any

import pytest

import ferrotune
from ferrotune import SearchSpace
from ferrotune.distributions import FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.trial import TrialState

# Generous: each scenario takes milliseconds; this only detects a hang.
HANG = 30.0


def _finishes(body: Callable[[], Any]) -> BaseException | None:
    """Runs `body` in a daemon thread; fails the test if it hangs. Returns what it raised."""
    out: list[BaseException | None] = []

    def run() -> None:
        try:
            body()
            out.append(None)
        except BaseException as e:
            out.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(HANG)
    assert not t.is_alive(), "the call hung (a callable re-entered its study's lock)"
    return out[0]


def _reentry(e: BaseException | None) -> BaseException:
    """The re-entrancy error `e` is or was caused by."""
    seen = e
    while seen is not None:
        if isinstance(seen, InvalidArgumentError) and "call back into its study" in str(seen):
            return seen
        seen = seen.__cause__ or seen.__context__
    raise AssertionError(f"expected the re-entrancy error, got {e!r}")


def test_predicate_reading_the_study_raises_instead_of_hanging() -> None:
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    seen: list[int] = []

    def predicate(p: dict[str, Any]) -> bool:
        seen.append(len(study.trials))
        return True

    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)}, constraints=[predicate])
    err = _finishes(lambda: study.ask(space))
    _reentry(err)
    assert seen == []
    last = study.trials[-1]
    assert last.number == 2 and last.state == TrialState.FAIL
    # The study still works afterwards (the lock was released).
    trial = study.ask()
    assert 0.0 <= trial.suggest_float("x", 0.0, 1.0) <= 1.0


@pytest.mark.parametrize("multivariate", [False, True])
@pytest.mark.parametrize("which", ["gamma", "weights"])
def test_tpe_callable_reading_the_study_raises(multivariate: bool, which: str) -> None:
    study: ferrotune.Study
    calls: list[int] = []

    def reads(n: int) -> Any:
        calls.append(len(study.trials))
        return 1 if which == "gamma" else [1.0] * n

    sampler = ferrotune.samplers.TPESampler(
        n_startup_trials=3, multivariate=multivariate, seed=1, **{which: reads}
    )
    study = ferrotune.create_study(sampler=sampler)

    def objective(t: ferrotune.Trial) -> float:
        return t.suggest_float("x", 0.0, 1.0) + t.suggest_float("y", 0.0, 1.0)

    study.optimize(objective, n_trials=3)
    err = _finishes(lambda: study.optimize(objective, n_trials=1))
    _reentry(err)
    assert calls == []
    assert study.trials[-1].number == 3
    assert study.trials[-1].state == TrialState.FAIL


SHARED_SAMPLER = textwrap.dedent(
    """
    import threading, time
    import ferrotune
    from ferrotune.distributions import FloatDistribution
    from ferrotune import SearchSpace

    sampler = ferrotune.samplers.RandomSampler(seed=0)
    a = ferrotune.create_study(sampler=sampler)
    b = ferrotune.create_study(sampler=sampler)
    in_predicate = threading.Event()

    def predicate(p):
        if not in_predicate.is_set():
            in_predicate.set()
            # Lets the other thread run while this one holds the shared sampler.
            time.sleep(0.3)
        return True

    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)}, constraints=[predicate])
    trial_b = b.ask()

    def other():
        in_predicate.wait()
        trial_b.suggest_float("y", 0.0, 1.0)

    t = threading.Thread(target=other)
    t.start()
    a.ask(space)
    t.join()
    print("ok")
    """
)


def test_shared_sampler_cheap_suggest_does_not_deadlock() -> None:
    # A deadlock here holds the GIL forever, so it runs in its own interpreter.
    try:
        out = subprocess.run(
            [sys.executable, "-c", SHARED_SAMPLER],
            capture_output=True,
            text=True,
            timeout=HANG,
        )
    except subprocess.TimeoutExpired:
        pytest.fail("a suggest on a shared sampler deadlocked")
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"

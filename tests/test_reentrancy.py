"""User callables that the Rust core runs while it holds a study's lock (a space's
predicates, TPE's gamma and weights) must not hang when they call back into the
study: they get an InvalidArgumentError, the trial is marked FAIL, and nothing
deadlocks when one sampler is shared by studies in several threads."""

from __future__ import annotations

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

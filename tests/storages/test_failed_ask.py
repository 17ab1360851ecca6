"""Issue 10 item 2: an exception inside ``Study.ask()`` leaves no RUNNING trial behind, on
every storage, and a constant-liar TPE is not poisoned by it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import ferrotune
from ferrotune import SearchSpace
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import (
    IncompatibleDistributionError,
    InfeasibleSpaceError,
    InvalidArgumentError,
)
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.trial import TrialState

from .conftest import StorageFactory


class _GammaError(Exception):
    pass


def _raising_gamma(n: int) -> int:
    raise _GammaError("gamma failed")


def _infeasible_space() -> SearchSpace:
    return SearchSpace({"x": FloatDistribution(0, 1)}, constraints=[lambda p: False], max_draws=50)


FAILURES: dict[str, tuple[Callable[[], Any], Callable[[ferrotune.Study], Any], Any]] = {
    # name: (sampler factory, the failing ask, the error it raises)
    "infeasible-space": (
        lambda: RandomSampler(seed=0),
        lambda s: s.ask(_infeasible_space()),
        InfeasibleSpaceError,
    ),
    "user-gamma-raises": (
        lambda: TPESampler(seed=0, n_startup_trials=3, gamma=_raising_gamma),
        lambda s: s.ask(),
        (InvalidArgumentError, _GammaError),  # item 11: the user's error itself, or chained
    ),
    "wrong-argument": (
        lambda: RandomSampler(seed=0),
        lambda s: s.ask(fixed_distributions={"x": "not a distribution"}),
        InvalidArgumentError,
    ),
    "incompatible-choices": (
        lambda: RandomSampler(seed=0),
        lambda s: s.ask({"n": IntDistribution(0, 3), "c": CategoricalDistribution(["a", "z"])}),
        IncompatibleDistributionError,
    ),
}


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_a_failed_ask_leaves_no_running_trial(make_storage: StorageFactory, kind: str) -> None:
    make_sampler, fail, error = FAILURES[kind]
    study = ferrotune.create_study(storage=make_storage(), sampler=make_sampler(), study_name="a")
    # Enough finished trials for TPE to leave its start-up phase and call gamma.
    for x in (0.1, 0.9, 0.5):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        t.suggest_categorical("c", ["a", "b"])
        study.tell(t, x)
    for _ in range(3):
        with pytest.raises(error):
            fail(study)
    for storage in (study._storage, make_storage()):
        reloaded = ferrotune.load_study(study_name="a", storage=storage)
        states = [t.state for t in reloaded.trials]
        assert TrialState.RUNNING not in states, states
        failed = [t for t in reloaded.trials if t.state == TrialState.FAIL]
        # Either no trial was created, or it was marked FAIL with the reason.
        for t in failed:
            assert "ask() failed" in t.system_attrs["fail_reason"]
    # The study goes on: a later ask works and its trial can be told.
    study.sampler = RandomSampler(seed=1)
    t = study.ask()
    study.tell(t, t.suggest_float("x", 0, 1))
    assert study.trials[-1].state == TrialState.COMPLETE


def test_a_failed_ask_does_not_poison_constant_liar(make_storage: StorageFactory) -> None:
    """With constant liar a stuck RUNNING trial would sit in TPE's bad set forever: after
    failed asks, no trial but the open one is RUNNING."""
    study = ferrotune.create_study(
        storage=make_storage(),
        sampler=TPESampler(seed=0, n_startup_trials=3, constant_liar=True),
    )
    space = _infeasible_space()
    for i in range(5):
        t = study.ask()
        study.tell(t, (t.suggest_float("x", 0, 1) - 0.3) ** 2 + i * 0)
        with pytest.raises(InfeasibleSpaceError):
            study.ask(space)
    open_trial = study.ask()
    open_trial.suggest_float("x", 0, 1)
    running = [t.number for t in study.trials if t.state == TrialState.RUNNING]
    assert running == [open_trial.number]


def test_optimize_with_an_infeasible_space_raises_and_leaves_nothing_running() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    with pytest.raises(InfeasibleSpaceError):
        study.optimize(lambda t: 0.0, n_trials=3, space=_infeasible_space())
    assert [t.state for t in study.trials] == [TrialState.FAIL]

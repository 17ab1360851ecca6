"""An exception inside ``Study.ask()`` leaves no RUNNING trial behind, on
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


FAILURES: dict[str, tuple[Callable[[], Any], Callable[[ferrotune.Study], Any], type]] = {
    # name: (sampler factory, the failing ask, the error it raises)
    "infeasible-space": (
        lambda: RandomSampler(seed=0),
        lambda s: s.ask(_infeasible_space()),
        InfeasibleSpaceError,
    ),
    "user-gamma-raises": (
        lambda: TPESampler(seed=0, n_startup_trials=3, gamma=_raising_gamma),
        lambda s: s.ask(),
        InvalidArgumentError,  # with the user's error as its __cause__
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
        with pytest.raises(error) as info:
            fail(study)
        assert type(info.value) is error
        if kind == "user-gamma-raises":
            assert type(info.value.__cause__) is _GammaError
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


def test_ask_tell_through_two_study_objects_keeps_the_parameters(
    make_storage: StorageFactory,
) -> None:
    """Found by the API fuzz test: a trial asked through one Study object and told
    through another (two workers, or two web requests) lost its parameters, which the
    first object kept in its write buffer."""
    first = ferrotune.create_study(storage=make_storage(), study_name="s")
    trial = first.ask()
    x = trial.suggest_float("x", 0, 1)
    n = trial.suggest_int("n", 0, 9)
    space_trial = first.ask(_feasible_space())
    second = ferrotune.load_study(study_name="s", storage=make_storage())
    second.tell(trial.number, 1.0)
    second.tell(space_trial.number, 2.0)
    for study in (second, ferrotune.load_study(study_name="s", storage=make_storage())):
        assert study.trials[0].params == {"x": x, "n": n}
        assert study.trials[1].params == space_trial.params


def _feasible_space() -> SearchSpace:
    return SearchSpace({"y": FloatDistribution(0, 1)}, constraints=[lambda p: p["y"] < 0.5])


def test_workers_that_disagree_on_a_parameters_kind_leave_the_study_readable(
    make_storage: StorageFactory,
) -> None:
    """Found by the API fuzz test: two workers gave "p" an int and a float
    distribution; the study could no longer be loaded at all. Now the later trial is
    loaded without "p", with a warning, and nothing else is lost."""
    first = make_storage()
    if first is make_storage():
        pytest.skip("one in-memory storage has one record: it refuses the second kind")
    a = ferrotune.create_study(storage=first, study_name="s")
    b = ferrotune.load_study(study_name="s", storage=make_storage())
    t = a.ask()
    u = b.ask()
    t.suggest_int("p", 0, 10)
    u.suggest_float("p", 0, 1)
    u.suggest_float("q", 0, 1)
    b.tell(u, 1.0)
    a.tell(t, 2.0)
    with pytest.warns(RuntimeWarning, match="parameter"):
        loaded = ferrotune.load_study(study_name="s", storage=make_storage())
        trials = loaded.trials
    assert [tr.state for tr in trials] == [TrialState.COMPLETE] * 2
    assert sorted(v for tr in trials for v in tr.values) == [1.0, 2.0]
    assert "q" in trials[1].params


def test_workers_that_disagree_on_categorical_choices_cannot_corrupt_the_study(
    make_storage: StorageFactory,
) -> None:
    """Found by the API fuzz test: two Study objects of one database study registered
    different choices for one name; the second overwrote the first, and loading the study
    raised IndexError (a trial's choice index beyond the stored choices). As Optuna's
    storages, the study keeps the first choices and the second worker gets an error."""
    first = make_storage()
    if first is make_storage():
        pytest.skip("one in-memory storage has one record: it refuses the second choices")
    a = ferrotune.create_study(storage=first, study_name="s")
    b = ferrotune.load_study(study_name="s", storage=make_storage())
    t = a.ask()
    u = b.ask()  # b has read the study before a recorded any choices
    c = t.suggest_categorical("c", ["a", "b", "c"])
    a.tell(t, 1.0)
    with pytest.raises(IncompatibleDistributionError, match="another worker"):
        u.suggest_categorical("c", ["z"])
    b.tell(u, 2.0)
    # b now knows the study's choices and may use them.
    v = b.ask()
    assert v.suggest_categorical("c", ["a", "b", "c"]) in ("a", "b", "c")
    b.tell(v, 3.0)
    loaded = ferrotune.load_study(study_name="s", storage=make_storage())
    assert loaded.trials[0].params == {"c": c}
    assert [t.state for t in loaded.trials] == [TrialState.COMPLETE] * 3

"""The public API of Study for samplers, pruners and callbacks (what they use instead
of the study's private attributes), on every storage."""

from __future__ import annotations

from typing import Any

import pytest

import ferrotune
from ferrotune import _core
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import (
    InvalidArgumentError,
    InvalidTrialError,
    UpdateFinishedTrialError,
)
from ferrotune.samplers import BaseSampler, RandomSampler
from ferrotune.trial import FrozenTrial, TrialState

from .conftest import StorageFactory


def _study(make_storage: StorageFactory, n: int = 5) -> ferrotune.Study:
    study = ferrotune.create_study(storage=make_storage(), sampler=RandomSampler(seed=3))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=n)
    return study


def test_core_is_the_studys_record(make_storage: StorageFactory) -> None:
    study = _study(make_storage, 4)
    assert isinstance(study.core, _core.StudyCore)
    assert study.core.n_trials() == 4
    assert study.core.best_trial(False) == study.best_trial.number


def test_get_trial_and_get_trials_from_match_get_trials(make_storage: StorageFactory) -> None:
    """One trial by number and the trials from a number on are the snapshots
    get_trials gives; an unknown number raises InvalidTrialError, as tell does."""
    study = _study(make_storage, 6)
    every = study.get_trials()
    assert study.get_trial(2).params == every[2].params
    assert [t.number for t in study.get_trials_from(4)] == [4, 5]
    assert [t.value for t in study.get_trials_from(1, 3)] == [t.value for t in every[1:3]]
    assert study.get_trials_from(6) == []
    with pytest.raises(InvalidTrialError):
        study.get_trial(6)


def test_trial_system_attrs_and_constraints(make_storage: StorageFactory) -> None:
    study = _study(make_storage, 2)
    study.set_trial_system_attr(1, "order", ["x"])
    assert study.get_trial(1).system_attrs["order"] == ["x"]
    running = study.ask()
    study.set_trial_constraints(running.number, {"c1": 0.5, "c0": -1.0})
    assert running.constraints == {"c0": -1.0, "c1": 0.5}
    with pytest.raises(ferrotune.exceptions.UpdateFinishedTrialError):
        study.set_trial_constraints(0, {"c0": 1.0})


def test_next_study_counter_reserves_consecutive_values(make_storage: StorageFactory) -> None:
    study = _study(make_storage, 0)
    assert study.next_study_counter("k") == 0
    assert study.next_study_counter("k", 3) == 1
    assert study.next_study_counter("k") == 4
    assert study.system_attrs["k"] == 5


def test_fixed_params_set_in_before_trial_are_used(make_storage: StorageFactory) -> None:
    """A sampler's before_trial fixes values through set_fixed_params; the trial gets
    them, and get_fixed_params shows them until the trial is set up."""
    seen: list[dict[str, Any] | None] = []

    class Fixing(BaseSampler):
        def before_trial(self, study: ferrotune.Study, trial: FrozenTrial) -> None:
            seen.append(study.get_fixed_params(trial.number))
            study.set_fixed_params(trial.number, {"k": 7})
            seen.append(study.get_fixed_params(trial.number))

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return dist.to_external_repr(dist._core.from_unit(0.25))

    study = ferrotune.create_study(storage=make_storage(), sampler=Fixing())
    trial = study.ask()
    assert trial.suggest_int("k", 0, 10) == 7
    assert seen == [None, {"k": 7}]
    assert study.get_fixed_params(trial.number) is None


def test_enqueue_trial_returns_the_number(make_storage: StorageFactory) -> None:
    study = _study(make_storage, 2)
    assert study.enqueue_trial({"x": 0.5}) == 2
    assert study.enqueue_trial({"x": 0.5}, skip_if_exists=True) is None
    assert study.ask().number == 2


def test_intersection_search_space_skips_trials_that_did_not_complete(
    make_storage: StorageFactory,
) -> None:
    study = ferrotune.create_study(storage=make_storage(), sampler=RandomSampler(seed=0))
    t = study.ask()
    t.suggest_float("x", 0.0, 1.0)
    t.suggest_int("k", 0, 4)
    study.tell(t, 1.0)
    failed = study.ask()
    failed.suggest_float("x", 0.0, 1.0)
    study.tell(failed, state=TrialState.FAIL)
    assert study.intersection_search_space() == {
        "x": FloatDistribution(0.0, 1.0),
        "k": IntDistribution(0, 4),
    }


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (-1, InvalidTrialError),
        (10**30, InvalidTrialError),
        (3, InvalidTrialError),
        ("1", InvalidArgumentError),
        (1.0, InvalidArgumentError),
        (None, InvalidArgumentError),
        (True, InvalidArgumentError),
    ],
)
def test_a_bad_trial_number_is_named(make_storage: StorageFactory, bad: Any, error: type) -> None:
    """get_trial and the methods that change a trial refuse a number that is not an
    int (naming the argument) or names no trial (as tell does), with a ValueError."""
    study = _study(make_storage, 3)
    calls = [
        lambda: study.get_trial(bad),
        lambda: study.set_trial_system_attr(bad, "k", 1),
        lambda: study.set_trial_constraints(bad, {"c": 0.0}),
        lambda: study.set_fixed_params(bad, {"x": 0.5}),
    ]
    for call in calls:
        with pytest.raises(error, match="number" if error is InvalidArgumentError else "3"):
            call()
    with pytest.raises(InvalidArgumentError, match="number"):
        study.get_fixed_params("1")  # type: ignore[arg-type]
    assert [t.system_attrs for t in study.trials] == [{}] * 3


@pytest.mark.parametrize(
    ("start", "stop", "needle"),
    [(-5, None, "start"), ("0", None, "start"), (0, -1, "stop"), (0, 2.0, "stop")],
)
def test_trial_ranges_refuse_negative_or_non_int_bounds(
    make_storage: StorageFactory, start: Any, stop: Any, needle: str
) -> None:
    study = _study(make_storage, 3)
    with pytest.raises(InvalidArgumentError, match=needle):
        study.get_trials_from(start, stop)
    with pytest.raises(InvalidArgumentError, match=needle):
        study.get_trial_states(start, stop)


@pytest.mark.parametrize(
    ("key", "count", "needle"),
    [(1, 1, "key"), (None, 1, "key"), ("k", 0, "count"), ("k", -3, "count"), ("k", 1.5, "count")],
)
def test_next_study_counter_refuses_bad_arguments(
    make_storage: StorageFactory, key: Any, count: Any, needle: str
) -> None:
    """A count <= 0 would rewind a counter that every worker shares."""
    study = _study(make_storage, 0)
    assert study.next_study_counter("k", 2) == 0
    with pytest.raises(InvalidArgumentError, match=needle):
        study.next_study_counter(key, count)
    assert study.next_study_counter("k") == 2


def test_set_fixed_params_refuses_a_finished_trial_or_a_non_mapping(
    make_storage: StorageFactory,
) -> None:
    study = _study(make_storage, 1)
    with pytest.raises(UpdateFinishedTrialError):
        study.set_fixed_params(0, {"x": 0.5})
    running = study.ask()
    with pytest.raises(InvalidArgumentError, match="params"):
        study.set_fixed_params(running.number, [("x", 0.5)])  # type: ignore[arg-type]
    assert study.get_fixed_params(0) is None
    assert study.get_fixed_params(running.number) is None

"""The public API of Study for samplers, pruners and callbacks (what they use instead
of the study's private attributes)."""

from __future__ import annotations

from typing import Any

import pytest

import ferrotune
from ferrotune import _core
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.samplers import BaseSampler, RandomSampler
from ferrotune.trial import FrozenTrial, TrialState


def _study(n: int = 5) -> ferrotune.Study:
    study = ferrotune.create_study(sampler=RandomSampler(seed=3))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=n)
    return study


def test_core_is_the_studys_record() -> None:
    study = _study(4)
    assert isinstance(study.core, _core.StudyCore)
    assert study.core.n_trials() == 4
    assert study.core.best_trial(False) == study.best_trial.number


def test_get_trial_and_get_trials_from_match_get_trials() -> None:
    """One trial by number and the trials from a number on are the snapshots
    get_trials gives; an unknown number raises IndexError."""
    study = _study(6)
    every = study.get_trials()
    assert study.get_trial(2).params == every[2].params
    assert [t.number for t in study.get_trials_from(4)] == [4, 5]
    assert [t.value for t in study.get_trials_from(1, 3)] == [t.value for t in every[1:3]]
    assert study.get_trials_from(6) == []
    with pytest.raises(IndexError):
        study.get_trial(6)


def test_trial_system_attrs_and_constraints() -> None:
    study = _study(2)
    study.set_trial_system_attr(1, "order", ["x"])
    assert study.get_trial(1).system_attrs["order"] == ["x"]
    running = study.ask()
    study.set_trial_constraints(running.number, {"c1": 0.5, "c0": -1.0})
    assert running.constraints == {"c0": -1.0, "c1": 0.5}
    with pytest.raises(ferrotune.exceptions.UpdateFinishedTrialError):
        study.set_trial_constraints(0, {"c0": 1.0})


def test_next_study_counter_reserves_consecutive_values() -> None:
    study = _study(0)
    assert study.next_study_counter("k") == 0
    assert study.next_study_counter("k", 3) == 1
    assert study.next_study_counter("k") == 4
    assert study.system_attrs["k"] == 5


def test_fixed_params_set_in_before_trial_are_used() -> None:
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

    study = ferrotune.create_study(sampler=Fixing())
    trial = study.ask()
    assert trial.suggest_int("k", 0, 10) == 7
    assert seen == [None, {"k": 7}]
    assert study.get_fixed_params(trial.number) is None


def test_enqueue_trial_returns_the_number() -> None:
    study = _study(2)
    assert study.enqueue_trial({"x": 0.5}) == 2
    assert study.enqueue_trial({"x": 0.5}, skip_if_exists=True) is None
    assert study.ask().number == 2


def test_intersection_search_space_skips_trials_that_did_not_complete() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
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

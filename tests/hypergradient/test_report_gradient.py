"""Trial.report_gradient and Study.tell(gradient=): checks and persistence in every storage."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError, UpdateFinishedTrialError
from ferrotune.trial import FixedTrial
from ferrotune.trial._gradient import GRADIENT_KEY
from tests.hypergradient.conftest import StorageFactory


def _params(trial: ferrotune.Trial) -> None:
    trial.suggest_float("x", -1.0, 1.0)
    trial.suggest_float("lr", 1e-4, 1.0, log=True)
    trial.suggest_int("n", 1, 5)
    trial.suggest_categorical("c", ["a", "b"])
    trial.suggest_float("s", 0.0, 1.0, step=0.1)


def test_gradients_persist_and_reach_other_workers(
    make_storage: StorageFactory, study_name: str
) -> None:
    first = ferrotune.create_study(storage=make_storage(), study_name=study_name)
    other = ferrotune.load_study(study_name=study_name, storage=make_storage())
    try:
        trial = first.ask()
        _params(trial)
        trial.report_gradient({"x": 1.5})
        trial.report_gradient({"lr": -2.0, "x": 0.5})  # "x" again: the new value wins
        # Another worker sees the gradient of a trial that still runs.
        running = other.get_trials(deepcopy=False)[0]
        assert running.state == ferrotune.trial.TrialState.RUNNING
        assert running.system_attrs[GRADIENT_KEY] == {"x": 0.5, "lr": -2.0}
        first.tell(trial, 1.0)
        second = first.ask()
        _params(second)
        first.tell(second, 2.0, gradient={"x": -3.0})
        reloaded = ferrotune.load_study(study_name=study_name, storage=make_storage())
        got = [t.system_attrs.get(GRADIENT_KEY) for t in reloaded.get_trials()]
        assert got == [{"x": 0.5, "lr": -2.0}, {"x": -3.0}]
    finally:
        ferrotune.delete_study(study_name=study_name, storage=make_storage())


@pytest.mark.parametrize(
    ("gradient", "match"),
    [
        ({"y": 1.0}, "parameter 'y': trial 0 has no such parameter"),
        ({"n": 1.0}, "parameter 'n': it is IntDistribution; gradients are reported"),
        ({"c": 1.0}, "parameter 'c': it is CategoricalDistribution"),
        ({"s": 1.0}, "parameter 's': it is a float with step"),
        ({"x": math.nan}, r"parameter 'x': nan is not finite"),
        ({"x": math.inf}, r"parameter 'x': inf is not finite"),
        ({"x": "fast"}, "parameter 'x': 'fast' is not a number"),
        ({"x": True}, "parameter 'x': True is not a number"),
        ([("x", 1.0)], "a gradient is a mapping"),
    ],
)
def test_bad_gradients_are_refused_by_name(gradient: Any, match: str) -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    _params(trial)
    with pytest.raises(InvalidArgumentError, match=match):
        trial.report_gradient(gradient)
    with pytest.raises(InvalidArgumentError, match=match):
        study.tell(trial, 1.0, gradient=gradient)
    # Nothing was recorded and the trial still runs: tell again succeeds.
    assert GRADIENT_KEY not in trial.system_attrs
    assert study.tell(trial, 1.0).state == ferrotune.trial.TrialState.COMPLETE


def test_a_finished_trial_takes_no_gradient() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    study.tell(trial, 0.0)
    with pytest.raises(UpdateFinishedTrialError):
        trial.report_gradient({"x": 1.0})


def test_fixed_trial_checks_and_keeps_the_gradient() -> None:
    trial = FixedTrial({"x": 0.5, "n": 2})
    trial.suggest_float("x", 0.0, 1.0)
    trial.suggest_int("n", 0, 3)
    trial.report_gradient({"x": 2.0})
    assert trial.system_attrs[GRADIENT_KEY] == {"x": 2.0}
    with pytest.raises(InvalidArgumentError, match="parameter 'n'"):
        trial.report_gradient({"n": 1.0})


def test_objective_in_optimize_reports_gradients() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -3.0, 3.0)
        trial.report_gradient({"x": 2 * x})
        return x * x

    study = ferrotune.create_study()
    study.optimize(objective, n_trials=3)
    for t in study.trials:
        assert t.system_attrs[GRADIENT_KEY] == {"x": 2 * t.params["x"]}

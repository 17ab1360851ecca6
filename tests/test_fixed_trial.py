"""FixedTrial, create_trial, and FrozenTrial answering ``suggest_*``
with its recorded values (so ``objective(study.best_trial)`` re-evaluates it)."""

from __future__ import annotations

import math
import pickle
import warnings
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune import TrialState
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import IncompatibleDistributionError, InvalidArgumentError
from ferrotune.trial import FixedTrial, FrozenTrial, create_trial
from tests._support import SAMPLERS


def objective(trial: Any) -> float:
    x = trial.suggest_float("x", -10, 10)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 8)
    act = trial.suggest_categorical("activation", ["relu", "gelu"])
    q = trial.suggest_float("q", 0.0, 1.0, step=0.25)
    trial.report(x, 0)
    if trial.should_prune():
        raise ferrotune.TrialPruned()
    trial.set_user_attr("seen", True)
    return (x - 2) ** 2 + layers * lr + (act == "relu") + q


# ------------------------------------------------------------------------ FixedTrial
def test_fixed_trial_returns_the_fixed_values() -> None:
    """FixedTrial answers every suggest with its value and records
    params, distributions and user attributes, as Optuna's."""
    params = {"x": 3.0, "lr": 0.01, "layers": 2, "activation": "gelu", "q": 0.5}
    t = FixedTrial(params, number=7)
    assert objective(t) == (3 - 2) ** 2 + 2 * 0.01 + 0 + 0.5
    assert t.number == 7
    assert t.params == params
    assert t.distributions == {
        "x": FloatDistribution(-10, 10),
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
        "layers": IntDistribution(1, 8),
        "activation": CategoricalDistribution(["relu", "gelu"]),
        "q": FloatDistribution(0.0, 1.0, step=0.25),
    }
    assert t.user_attrs == {"seen": True}
    assert t.should_prune() is False
    assert type(t.suggest_int("layers", 1, 8)) is int
    assert t.datetime_start is not None


def test_fixed_trial_raises_for_a_missing_parameter() -> None:
    """A name without a value raises an error naming it."""
    t = FixedTrial({"x": 1.0})
    with pytest.raises(InvalidArgumentError, match=r"parameter 'y'"):
        t.suggest_float("y", 0, 1)
    with pytest.raises(InvalidArgumentError, match=r"parameter 'c'"):
        t.suggest_categorical("c", ["a", "b"])
    assert t.params == {}


def test_fixed_trial_out_of_range_warns_as_optuna() -> None:
    """As Optuna, a value outside the range warns (naming the
    parameter) and is returned as given; a value that is not one of the choices is an
    error naming the parameter."""
    t = FixedTrial({"x": 5.0, "n": 11, "c": "z"})
    with pytest.warns(UserWarning, match=r"parameter 'x'.*out of range"):
        assert t.suggest_float("x", 0, 1) == 5.0
    with pytest.warns(UserWarning, match=r"parameter 'n'.*out of range"):
        assert t.suggest_int("n", 0, 10) == 11
    with pytest.raises(InvalidArgumentError, match=r"parameter 'c'"):
        t.suggest_categorical("c", ["a", "b"])


def test_fixed_trial_checks_distribution_compatibility() -> None:
    """A name suggested again with another kind of distribution raises, as in a study."""
    t = FixedTrial({"x": 1})
    t.suggest_int("x", 0, 3)
    with pytest.raises(IncompatibleDistributionError, match=r"parameter 'x'"):
        t.suggest_float("x", 0, 3)
    with pytest.raises(IncompatibleDistributionError, match=r"parameter 'x'"):
        t.suggest_int("x", 1, 3, log=True)


def test_fixed_trial_constraints() -> None:
    t = FixedTrial({})
    t.set_constraint("c0", -1.0)
    with pytest.warns(UserWarning, match="already set"):
        t.set_constraint("c0", 2.0)
    assert t.constraints == {"c0": -1.0}
    with pytest.raises(InvalidArgumentError):
        t.set_constraint("c1", math.nan)
    with pytest.raises(InvalidArgumentError, match="must be a str"):
        t.set_constraint(1, 0.5)  # type: ignore[arg-type]


def test_trial_constraint_names_are_strings() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    with pytest.raises(InvalidArgumentError, match="must be a str, got int"):
        trial.set_constraint(1, 0.5)  # type: ignore[arg-type]
    trial.set_constraint("c", 0.5)
    study.tell(trial, 1.0)
    assert study.trials[0].system_attrs["constraints"] == {"c": 0.5}


# ------------------------------------------------------------ FrozenTrial re-evaluation
@pytest.mark.parametrize("sampler_name", ["random", "tpe", "user"])
def test_objective_of_best_trial_is_the_best_value(sampler_name: str, tmp_path: Path) -> None:
    """FrozenTrial answers suggest_* with its recorded values, so
    ``objective(study.best_trial) == study.best_value`` (in memory and in SQLite), and
    every trial re-evaluates to its own value."""
    storages: list[Any] = [None]
    try:
        import sqlalchemy  # noqa: F401

        storages.append(f"sqlite:///{tmp_path / 'best.db'}")
    except ImportError:
        pass
    for storage in storages:
        study = ferrotune.create_study(storage=storage, sampler=SAMPLERS[sampler_name](3))
        study.optimize(objective, n_trials=25)
        best = study.best_trial
        assert objective(best) == study.best_value
        # Pruned trials (the default MedianPruner) hold their last intermediate value.
        complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
        assert len(complete) >= 5
        for t in complete:
            assert objective(t) == t.value
        # The re-evaluation leaves the study untouched.
        assert study.best_trial.user_attrs == {"seen": True}
        assert len(study.trials) == 25


def test_frozen_trial_missing_parameter_and_other_methods() -> None:
    """A FrozenTrial raises for a parameter it does not have, warns
    for a value outside the suggested range, and report/should_prune/set_user_attr act
    on the snapshot only."""
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    best = study.best_trial
    with pytest.raises(InvalidArgumentError, match=r"parameter 'y'"):
        best.suggest_float("y", 0, 1)
    with pytest.warns(UserWarning, match=r"parameter 'x'.*out of range"):
        assert best.suggest_float("x", 2, 3) == best.params["x"]
    with pytest.warns(UserWarning), pytest.raises(IncompatibleDistributionError):
        best.suggest_int("x", 0, 1)
    best.report(1.0, 0)
    assert best.should_prune() is False
    best.set_user_attr("k", 1)
    assert best.user_attrs == {"k": 1}
    assert study.best_trial.user_attrs == {}
    # The value returned by tell is a lazy snapshot: it answers too.
    trial = study.ask()
    x = trial.suggest_float("x", 0, 1)
    frozen = study.tell(trial, x)
    assert frozen.suggest_float("x", 0, 1) == x


# ---------------------------------------------------------------------- create_trial
def test_create_trial_is_usable_with_add_trial() -> None:
    """``create_trial`` builds a FrozenTrial that add_trial records, with
    its values, parameters, attributes and intermediate values; TPE learns from it."""
    dists = {"x": FloatDistribution(-10, 10), "c": CategoricalDistribution(["a", "b"])}
    t = create_trial(
        params={"x": 2.0, "c": "b"},
        distributions=dists,
        value=0.5,
        user_attrs={"u": 1},
        system_attrs={"s": 2},
        intermediate_values={0: 3.0, 1: 1.0},
    )
    assert isinstance(t, FrozenTrial)
    assert t.state == TrialState.COMPLETE and t.values == [0.5] and t.value == 0.5
    assert t.datetime_start is not None and t.datetime_complete is not None
    study = ferrotune.create_study(sampler=ferrotune.samplers.TPESampler(seed=0))
    study.add_trial(t)
    study.add_trial(create_trial(state=TrialState.FAIL, params={}, distributions={}))
    study.add_trial(
        create_trial(
            state=TrialState.PRUNED,
            params={"x": -3.0},
            distributions={"x": FloatDistribution(-10, 10)},
            intermediate_values={0: 9.0},
        )
    )
    got = study.trials
    assert [s.state for s in got] == [TrialState.COMPLETE, TrialState.FAIL, TrialState.PRUNED]
    assert got[0].params == {"x": 2.0, "c": "b"} and got[0].value == 0.5
    assert got[0].user_attrs == {"u": 1} and got[0].system_attrs["s"] == 2
    assert got[0].intermediate_values == {0: 3.0, 1: 1.0}
    assert study.best_trial.number == 0
    # The study goes on after the added trials.
    study.optimize(lambda tr: (tr.suggest_float("x", -10, 10) - 2) ** 2, n_trials=5)
    assert len(study.trials) == 8


def test_create_trial_multi_objective_and_waiting() -> None:
    t = create_trial(values=[1.0, 2.0])
    assert t.values == [1.0, 2.0]
    with pytest.raises(InvalidArgumentError):
        _ = t.value
    w = create_trial(state=TrialState.WAITING)
    assert w.datetime_start is None and w.datetime_complete is None


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"value": 1.0, "values": [1.0]}, "either value or values"),
        ({}, "needs value"),
        ({"value": math.nan}, "NaN"),
        ({"state": TrialState.FAIL, "value": 1.0}, "FAIL"),
        ({"value": 1.0, "params": {"x": 1.0}}, "same parameters"),
        (
            {"value": 1.0, "params": {"x": 11.0}, "distributions": {"x": FloatDistribution(0, 10)}},
            "parameter 'x'",
        ),
        (
            {
                "value": 1.0,
                "params": {"c": "z"},
                "distributions": {"c": CategoricalDistribution(["a"])},
            },
            "parameter 'c'",
        ),
    ],
)
def test_create_trial_rejects_inconsistent_input(kwargs: dict[str, Any], needle: str) -> None:
    """Optuna's checks, each a ValueError naming the problem."""
    with pytest.raises(InvalidArgumentError, match=needle):
        create_trial(**kwargs)


def test_fixed_and_created_trials_pickle() -> None:
    t = create_trial(params={"x": 1}, distributions={"x": IntDistribution(0, 3)}, value=1.0)
    assert pickle.loads(pickle.dumps(t)) == t
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert pickle.loads(pickle.dumps(t)).suggest_int("x", 0, 3) == 1

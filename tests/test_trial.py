"""Trial: suggest_* semantics, repeated names, reports, attributes."""

from __future__ import annotations

import pytest

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import (
    IncompatibleDistributionError,
    InvalidArgumentError,
    InvalidTrialError,
)
from ferrotune.samplers import RandomSampler
from tests._support import UserSampler, same_choice


@pytest.fixture(params=["rust", "python"])
def study(request: pytest.FixtureRequest) -> ferrotune.Study:
    """A study on the Rust fast path and one through a user-written Python sampler."""
    sampler = RandomSampler(seed=0) if request.param == "rust" else UserSampler(0)
    return ferrotune.create_study(sampler=sampler)


def test_suggest_returns_typed_values(study: ferrotune.Study) -> None:
    t = study.ask()
    x = t.suggest_float("x", -1.0, 1.0)
    n = t.suggest_int("n", 0, 10)
    c = t.suggest_categorical("c", [True, False])
    assert type(x) is float and -1.0 <= x <= 1.0
    assert type(n) is int and 0 <= n <= 10
    assert type(c) is bool
    assert t.params == {"x": x, "n": n, "c": c}
    assert t.distributions == {
        "x": FloatDistribution(-1.0, 1.0),
        "n": IntDistribution(0, 10),
        "c": CategoricalDistribution([True, False]),
    }


def test_same_name_same_distribution_returns_the_same_value(study: ferrotune.Study) -> None:
    for _ in range(20):
        t = study.ask()
        assert t.suggest_float("x", 0.0, 1.0) == t.suggest_float("x", 0.0, 1.0)
        assert t.suggest_int("n", 0, 100, step=5) == t.suggest_int("n", 0, 100, step=5)
        assert t.suggest_categorical("c", ["a", "b", "c"]) == t.suggest_categorical(
            "c", ("a", "b", "c")
        )
        study.tell(t, 0.0)


@pytest.mark.parametrize(
    "second",
    [
        lambda t: t.suggest_int("x", 0, 1),
        lambda t: t.suggest_categorical("x", [0.0, 1.0]),
        lambda t: t.suggest_float("x", 0.1, 1.0, log=True),
    ],
    ids=["int", "categorical", "log"],
)
def test_same_name_other_kind_of_distribution_in_one_trial_is_an_error(
    study: ferrotune.Study, second: object
) -> None:
    t = study.ask()
    x = t.suggest_float("x", 0.0, 1.0)
    with pytest.raises(IncompatibleDistributionError, match=r"parameter 'x'"):
        second(t)  # type: ignore[operator]
    assert t.params == {"x": x}


@pytest.mark.parametrize(
    "second",
    [
        lambda t: t.suggest_float("x", 0.0, 2.0),
        lambda t: t.suggest_float("x", 0.0, 1.0, step=0.5),
    ],
    ids=["range", "step"],
)
def test_same_name_other_range_in_one_trial_warns_and_keeps_the_first_value(
    study: ferrotune.Study, second: object
) -> None:
    # As Optuna: the first value stands, the second distribution is ignored.
    t = study.ask()
    x = t.suggest_float("x", 0.0, 1.0)
    with pytest.warns(RuntimeWarning, match="suggested before"):
        assert second(t) == x  # type: ignore[operator]
    assert t.params == {"x": x}


def test_range_may_change_between_trials_but_not_the_kind(study: ferrotune.Study) -> None:
    t = study.ask()
    t.suggest_float("x", 0.0, 1.0)
    study.tell(t, 0.0)
    t = study.ask()
    assert 5.0 <= t.suggest_float("x", 5.0, 6.0) <= 6.0  # Optuna allows a new range
    study.tell(t, 0.0)
    t = study.ask()
    with pytest.raises(IncompatibleDistributionError, match=r"parameter 'x'"):
        t.suggest_int("x", 0, 10)


def test_categorical_choices_are_fixed_for_the_study(study: ferrotune.Study) -> None:
    t = study.ask()
    t.suggest_categorical("act", ["relu", "gelu"])
    with pytest.raises(IncompatibleDistributionError, match="act"):
        t.suggest_categorical("act", ["relu", "gelu", "tanh"])
    study.tell(t, 0.0)
    t = study.ask()
    with pytest.raises(IncompatibleDistributionError, match="act"):
        t.suggest_categorical("act", ["gelu", "relu"])  # the order matters too
    with pytest.raises(IncompatibleDistributionError, match="act"):
        t.suggest_categorical("act", ["relu"])
    assert t.suggest_categorical("act", ("relu", "gelu")) in ("relu", "gelu")


@pytest.mark.parametrize("other", [[True, 2], [1.0, 2.0]], ids=["bool", "float"])
def test_choices_equal_in_value_but_not_in_type_are_not_confused(
    study: ferrotune.Study, other: list[object]
) -> None:
    """CategoricalDistribution treats 1, 1.0 and True as different choices. Suggesting a
    name again with choices that differ only that way must either be refused as a change
    of choices, or return one of the choices passed in that call, never a value of another
    type."""
    for _ in range(10):
        t = study.ask()
        t.suggest_categorical("v", [1, 2])
        try:
            value = t.suggest_categorical("v", other)  # type: ignore[arg-type]
        except IncompatibleDistributionError:
            return
        assert any(same_choice(value, c) for c in other), (value, other)
        study.tell(t, 0.0)


def test_report_keeps_the_first_value_of_a_step(study: ferrotune.Study) -> None:
    t = study.ask()
    t.report(0.5, 0)
    t.report(0.9, 0)
    t.report(0.25, 3)
    assert t.should_prune() is False  # the default NopPruner never prunes
    frozen = study.tell(t, 0.1)
    assert frozen.intermediate_values == {0: 0.5, 3: 0.25}
    assert frozen.last_step == 3


@pytest.mark.parametrize(
    ("value", "step"), [("high", 0), (0.5, -1), (0.5, 1.5), (0.5, True)], ids=str
)
def test_bad_report_arguments(value: object, step: object) -> None:
    t = ferrotune.create_study().ask()
    with pytest.raises(InvalidArgumentError):
        t.report(value, step)  # type: ignore[arg-type]


def test_report_is_single_objective_only() -> None:
    t = ferrotune.create_study(directions=["minimize", "maximize"]).ask()
    with pytest.raises(InvalidArgumentError):
        t.report(1.0, 0)


def test_should_prune_with_the_default_pruner_in_optimize() -> None:
    study = ferrotune.create_study()
    decisions = []

    def objective(trial: ferrotune.Trial) -> float:
        for step in range(5):
            trial.report(float(step), step)
            decisions.append(trial.should_prune())
        return 0.0

    study.optimize(objective, n_trials=3)
    # Optuna's default, MedianPruner, waits for 5 finished trials before it prunes.
    assert decisions == [False] * 15
    assert isinstance(study.pruner, ferrotune.pruners.MedianPruner)


def test_user_and_system_attrs(study: ferrotune.Study) -> None:
    t = study.ask()
    t.set_user_attr("note", {"a": [1, 2]})
    t.set_system_attr("internal", 3)
    payload = {"mutable": [1]}
    t.set_user_attr("copied", payload)
    payload["mutable"].append(2)  # the stored value is a copy
    frozen = study.tell(t, 0.0)
    assert frozen.user_attrs == {"note": {"a": [1, 2]}, "copied": {"mutable": [1]}}
    assert frozen.system_attrs["internal"] == 3
    assert study.trials[0].user_attrs == frozen.user_attrs


def test_trial_number_and_datetime_start(study: ferrotune.Study) -> None:
    t0, t1 = study.ask(), study.ask()
    assert (t0.number, t1.number) == (0, 1)
    assert t0.datetime_start is not None and t0.datetime_start <= t1.datetime_start  # type: ignore[operator]


def test_suggest_after_tell_is_an_error(study: ferrotune.Study) -> None:
    t = study.ask()
    study.tell(t, 0.0)
    with pytest.raises(InvalidTrialError):
        t.suggest_float("late", 0.0, 1.0)
    assert "late" not in study.trials[0].params


def test_ask_with_fixed_distributions(study: ferrotune.Study) -> None:
    dists = {
        "x": FloatDistribution(0.0, 1.0),
        "n": IntDistribution(1, 3),
        "c": CategoricalDistribution(["a", "b"]),
    }
    t = study.ask(fixed_distributions=dists)
    p = t.params
    assert set(p) == {"x", "n", "c"}
    assert t.distributions == dists
    assert t.suggest_float("x", 0.0, 1.0) == p["x"]

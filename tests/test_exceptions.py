"""The exception hierarchy, and bad input everywhere: a ValueError subclass whose
message names the offending parameter."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ferrotune
from ferrotune import exceptions
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.samplers import GridSampler, RandomSampler

# Errors that are not the input's fault: a locked database, a bug.
RUNTIME_ERRORS = {"InternalError", "StorageInternalError", "StorageLockedError"}


@pytest.mark.parametrize(
    "name", sorted(set(exceptions.__all__) - {"TrialPruned", "ExperimentalWarning"})
)
def test_every_error_is_a_ferrotune_value_error(name: str) -> None:
    cls = getattr(exceptions, name)
    assert issubclass(cls, exceptions.FerrotuneError)
    if name in RUNTIME_ERRORS:
        assert issubclass(cls, RuntimeError)
        assert not issubclass(cls, ValueError)
    elif cls is not exceptions.FerrotuneError:
        assert issubclass(cls, ValueError)


def test_invalid_trial_error_is_also_a_runtime_error() -> None:
    assert issubclass(exceptions.InvalidTrialError, RuntimeError)


def test_trial_pruned_is_not_a_value_error() -> None:
    assert issubclass(ferrotune.TrialPruned, exceptions.FerrotuneError)
    assert not issubclass(ferrotune.TrialPruned, ValueError)
    assert ferrotune.TrialPruned is exceptions.TrialPruned


def test_core_errors_are_the_python_classes() -> None:
    """Errors raised in the Rust core are instances of the classes in
    ferrotune.exceptions, so ``except`` clauses on them work."""
    study = ferrotune.create_study()
    trial = study.ask()
    with pytest.raises(exceptions.InvalidDistributionError) as info:
        trial.suggest_float("x", 1.0, 0.0)
    assert type(info.value) is exceptions.InvalidDistributionError
    study.tell(trial, 0.0)
    with pytest.raises(exceptions.InvalidTrialError) as info2:
        study.tell(trial, 0.0)
    assert type(info2.value) is exceptions.UpdateFinishedTrialError
    # The state is named as Python's TrialState names it, whichever layer refuses.
    assert "(COMPLETE)" in str(info2.value)
    with pytest.raises(exceptions.UpdateFinishedTrialError, match=r"\(COMPLETE\)"):
        trial.report(0.5, 1)
    pruned = study.ask()
    study.tell(pruned, state=ferrotune.TrialState.PRUNED)
    with pytest.raises(exceptions.UpdateFinishedTrialError, match=r"\(PRUNED\)"):
        pruned.set_user_attr("a", 1)


def _trial() -> ferrotune.Trial:
    return ferrotune.create_study(sampler=RandomSampler(seed=0)).ask()


BAD_SUGGESTIONS = {
    "float-low-above-high": ("lr", lambda t: t.suggest_float("lr", 1.0, 0.5)),
    "int-low-above-high": ("units", lambda t: t.suggest_int("units", 10, 1)),
    "float-log-zero-low": ("lr", lambda t: t.suggest_float("lr", 0.0, 1.0, log=True)),
    "float-log-negative-low": ("lr", lambda t: t.suggest_float("lr", -1.0, 1.0, log=True)),
    "int-log-zero-low": ("units", lambda t: t.suggest_int("units", 0, 64, log=True)),
    "float-log-and-step": ("lr", lambda t: t.suggest_float("lr", 0.1, 1.0, log=True, step=0.1)),
    "int-log-and-step": ("units", lambda t: t.suggest_int("units", 1, 9, log=True, step=2)),
    # (A step that does not divide the range warns and lowers high, as Optuna; a range
    # of more than 2**53 steps is an error.)
    "float-step-too-small": (
        "dropout",
        lambda t: t.suggest_float("dropout", 0.0, 1e308, step=1e-300),
    ),
    "float-step-zero": ("dropout", lambda t: t.suggest_float("dropout", 0.0, 0.5, step=0.0)),
    "int-step-zero": ("units", lambda t: t.suggest_int("units", 0, 10, step=0)),
    "float-infinite-high": ("x", lambda t: t.suggest_float("x", 0.0, math.inf)),
    "float-infinite-low": ("x", lambda t: t.suggest_float("x", -math.inf, 0.0)),
    "float-nan-bound": ("x", lambda t: t.suggest_float("x", math.nan, 1.0)),
    "int-non-integer-bound": ("units", lambda t: t.suggest_int("units", 0.5, 4)),
    "categorical-empty": ("activation", lambda t: t.suggest_categorical("activation", [])),
    "categorical-duplicates": (
        "activation",
        lambda t: t.suggest_categorical("activation", ["relu", "relu"]),
    ),
    "categorical-bad-type": (
        "activation",
        lambda t: t.suggest_categorical("activation", [["relu"]]),
    ),
}


@pytest.mark.parametrize("case", list(BAD_SUGGESTIONS))
def test_bad_suggestion_names_the_parameter(case: str) -> None:
    name, call = BAD_SUGGESTIONS[case]
    trial = _trial()
    with pytest.raises(exceptions.InvalidDistributionError) as info:
        call(trial)
    assert isinstance(info.value, ValueError)
    message = str(info.value)
    assert f"'{name}'" in message or f'"{name}"' in message, message
    # Nothing is recorded for a rejected suggestion.
    assert trial.params == {}


@pytest.mark.parametrize(
    ("kwargs", "needle"),
    [
        ({"direction": "max"}, "'max'"),
        ({"direction": "minimise"}, "'minimise'"),
        ({"directions": ["minimize", "up"]}, "'up'"),
        ({"directions": []}, "directions"),
        ({"direction": "minimize", "directions": ["minimize"]}, "direction"),
        ({"direction": ferrotune.StudyDirection.NOT_SET}, "direction"),
    ],
)
def test_bad_direction(kwargs: dict[str, Any], needle: str) -> None:
    with pytest.raises(ValueError, match=needle) as info:
        ferrotune.create_study(**kwargs)
    assert isinstance(info.value, exceptions.FerrotuneError)


SPACE_ERRORS = {
    "constraint-unknown-parameter": (
        lambda: ferrotune.SearchSpace(
            {"d_model": IntDistribution(64, 512)},
            constraints=[ferrotune.Divisible("d_model", "n_heads")],
        ),
        exceptions.InvalidSpaceError,
        "n_heads",
    ),
    "condition-cycle": (
        lambda: ferrotune.SearchSpace(
            {"a": CategoricalDistribution([0, 1]), "b": CategoricalDistribution([0, 1])},
            conditions={"a": ("b", [1]), "b": ("a", [1])},
        ),
        exceptions.InvalidSpaceError,
        "a -> b",
    ),
    "infeasible-enumerated": (
        lambda: ferrotune.SearchSpace(
            {
                "d_model": CategoricalDistribution([100, 250]),
                "n_heads": CategoricalDistribution([3, 8]),
            },
            constraints=[ferrotune.Divisible("d_model", "n_heads")],
        ),
        exceptions.InfeasibleSpaceError,
        "n_heads",
    ),
    "grid-float-without-step": (
        lambda: GridSampler(
            ferrotune.SearchSpace(
                {"dropout": FloatDistribution(0.0, 0.5), "n": IntDistribution(1, 2)}
            )
        ),
        exceptions.InvalidSpaceError,
        "dropout",
    ),
}


@pytest.mark.parametrize("case", list(SPACE_ERRORS))
def test_bad_space_names_the_parameter(case: str) -> None:
    make, cls, needle = SPACE_ERRORS[case]
    with pytest.raises(cls) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert needle in str(info.value)


def test_infeasible_space_found_by_rejection_is_an_error_at_ask() -> None:
    space = ferrotune.SearchSpace(
        {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)},
        constraints=[ferrotune.Linear({"x": 1.0, "y": 1.0}, lower=3.0)],
    )
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    with pytest.raises(exceptions.InfeasibleSpaceError) as info:
        study.ask(space)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda s: s.optimize(lambda t: 0.0, n_trials=-1), "n_trials"),
        (lambda s: s.optimize(lambda t: 0.0, n_trials=1.5), "n_trials"),
        (lambda s: s.optimize(lambda t: 0.0, timeout=-1), "timeout"),
        (lambda s: s.optimize(lambda t: 0.0, n_trials=1, n_jobs=0), "n_jobs"),
        (lambda s: s.optimize(lambda t: 0.0, n_trials=1, n_jobs=-2), "n_jobs"),
        (lambda s: setattr(s, "sampler", object()), "sampler"),
        (lambda s: s.tell(s.ask(), state=ferrotune.TrialState.COMPLETE), "values"),
        (lambda s: s.tell(s.ask(), state=ferrotune.TrialState.RUNNING), "state"),
    ],
)
def test_bad_arguments_are_value_errors(call: Any, needle: str) -> None:
    study = ferrotune.create_study()
    with pytest.raises(exceptions.InvalidArgumentError, match=needle):
        call(study)


def test_string_storage_is_rejected_with_a_clear_error() -> None:
    with pytest.raises(exceptions.InvalidArgumentError, match="sqlite"):
        ferrotune.create_study(storage="mysql://user@host/db")  # not a supported database


def test_single_objective_accessors_raise_runtime_error_with_several_objectives() -> None:
    """Optuna raises RuntimeError there; ported 'except RuntimeError:' code must work, and
    the error stays a ValueError as ferrotune's other argument errors."""
    from ferrotune.exceptions import InvalidArgumentError, MultiObjectiveError

    study = ferrotune.create_study(directions=["minimize", "maximize"])
    study.tell(study.ask(), [1.0, 2.0])
    for read in (
        lambda: study.direction,
        lambda: study.best_trial,
        lambda: study.best_value,
        lambda: study.best_params,
        lambda: study.trials[0].value,
        lambda: ferrotune.get_all_study_summaries(study._storage)[0].direction,
    ):
        with pytest.raises(RuntimeError) as info:
            read()
        assert isinstance(info.value, MultiObjectiveError)
        assert isinstance(info.value, InvalidArgumentError)

"""PartialFixedSampler fixes some parameters and lets its base
sampler choose the others, for Rust and Python base samplers alike."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import BaseDistribution, FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import GridSampler, PartialFixedSampler, RandomSampler, TPESampler
from tests._support import SAMPLERS, UserSampler, in_distribution


def objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_float("y", -3, 3)
    k = trial.suggest_int("k", 0, 4)
    c = trial.suggest_categorical("c", ["a", "b"])
    return (x - 2) ** 2 + y**2 + k + (c == "b")


@pytest.mark.parametrize("base", ["random", "tpe", "tpe-univariate", "user", "qmc-sobol", "gp"])
def test_fixed_parameters_are_fixed_and_the_others_sampled(base: str, tmp_path: Path) -> None:
    """Every trial takes the fixed values; the base sampler chooses
    the others (within their distributions, and not all alike), in memory and SQLite."""
    storages: list[Any] = [None]
    try:
        import sqlalchemy  # noqa: F401

        storages.append(f"sqlite:///{tmp_path / 'pf.db'}")
    except ImportError:
        pass
    for storage in storages:
        sampler = PartialFixedSampler({"y": 1.5, "c": "a"}, SAMPLERS[base](0))
        study = ferrotune.create_study(storage=storage, sampler=sampler)
        study.optimize(objective, n_trials=15)
        trials = study.trials
        assert all(t.params["y"] == 1.5 and t.params["c"] == "a" for t in trials)
        for t in trials:
            for name, value in t.params.items():
                assert in_distribution(t.distributions[name], value)
        assert len({t.params["x"] for t in trials}) > 10
        assert len({t.params["k"] for t in trials}) > 1


def test_rust_base_keeps_its_own_sequence() -> None:
    """The wrapper delegates to the base's Rust core: the free parameter follows exactly
    the sequence the base sampler gives when only that parameter is suggested."""
    wrapped = ferrotune.create_study(sampler=PartialFixedSampler({"y": 0.0}, RandomSampler(7)))
    wrapped.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", -1, 1), 20)
    plain = ferrotune.create_study(sampler=RandomSampler(7))
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), 20)
    assert [t.params["x"] for t in wrapped.trials] == [t.params["x"] for t in plain.trials]


def test_tpe_base_still_optimises() -> None:
    """With TPE as the base, the free parameters are still optimised."""
    sampler = PartialFixedSampler({"y": 0.0, "c": "a", "k": 0}, TPESampler(seed=1))
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(objective, n_trials=60)
    random = ferrotune.create_study(
        sampler=PartialFixedSampler({"y": 0.0, "c": "a", "k": 0}, RandomSampler(1))
    )
    random.optimize(objective, n_trials=60)
    assert study.best_value < 0.05
    assert study.best_value < random.best_value


def test_enqueued_values_take_precedence() -> None:
    """An enqueued value wins over the fixed one (as Optuna's enqueued parameters,
    read before the sampler)."""
    study = ferrotune.create_study(sampler=PartialFixedSampler({"y": 1.0}, RandomSampler(0)))
    study.enqueue_trial({"y": -2.0})
    study.optimize(objective, n_trials=3)
    assert [t.params["y"] for t in study.trials] == [-2.0, 1.0, 1.0]


def test_out_of_range_fixed_values_warn_and_the_trial_goes_on() -> None:
    """As Optuna, a fixed value outside the distribution warns; the record keeps to the
    distribution (the nearest number, a sampled choice)."""
    sampler = PartialFixedSampler({"y": 5.0, "c": "zzz"}, RandomSampler(0))
    study = ferrotune.create_study(sampler=sampler)
    with pytest.warns(UserWarning) as record:
        study.optimize(objective, n_trials=30)
    messages = [str(w.message) for w in record]
    assert sum("parameter 'y'" in m and "out of range" in m for m in messages) == 30
    assert sum("parameter 'c'" in m and "not one of the choices" in m for m in messages) == 30
    assert all(t.params["y"] == 3.0 for t in study.trials)
    assert {t.params["c"] for t in study.trials} == {"a", "b"}


def test_grid_base() -> None:
    """A GridSampler base hands out its points for the free parameters."""
    sampler = PartialFixedSampler({"y": 0.5}, GridSampler({"x": [0.0, 1.0, 2.0]}, seed=0))
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 2) + t.suggest_float("y", 0, 1), 10)
    assert sorted(t.params["x"] for t in study.trials) == [0.0, 1.0, 2.0]
    assert all(t.params["y"] == 0.5 for t in study.trials)


class _RelativeUser(UserSampler):
    """A Python sampler with a joint (relative) model over every parameter seen."""

    def __init__(self) -> None:
        super().__init__(0)
        self.spaces: list[set[str]] = []

    def infer_relative_search_space(
        self, study: ferrotune.Study, trial: ferrotune.FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {"x": FloatDistribution(-5, 5), "y": FloatDistribution(-3, 3)}

    def sample_relative(
        self,
        study: ferrotune.Study,
        trial: ferrotune.FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        self.spaces.append(set(search_space))
        return {name: 0.25 for name in search_space}


def test_python_base_with_relative_hooks() -> None:
    """As Optuna, the fixed parameters are removed from the base's relative space."""
    base = _RelativeUser()
    study = ferrotune.create_study(sampler=PartialFixedSampler({"y": 1.0}, base))
    study.optimize(objective, n_trials=4)
    assert base.spaces == [{"x"}] * 4
    assert all(t.params["x"] == 0.25 and t.params["y"] == 1.0 for t in study.trials)


def test_pickle_and_bad_arguments() -> None:
    sampler = PartialFixedSampler({"y": 1.0}, TPESampler(seed=0))
    back = pickle.loads(pickle.dumps(sampler))
    study = ferrotune.create_study(sampler=back)
    study.optimize(objective, n_trials=3)
    assert all(t.params["y"] == 1.0 for t in study.trials)
    with pytest.raises(InvalidArgumentError, match="fixed_params"):
        PartialFixedSampler([("y", 1.0)], RandomSampler(0))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="base_sampler"):
        PartialFixedSampler({"y": 1.0}, "tpe")  # type: ignore[arg-type]

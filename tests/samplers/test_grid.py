"""GridSampler: every grid point exactly once, then the study stops by itself."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidSpaceError
from ferrotune.samplers import GridSampler
from tests._support import SpaceSpec, same_choice

GRID = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.5, None, True]}


def _grid_objective(grid: dict[str, list[Any]]) -> Any:
    def objective(trial: ferrotune.Trial) -> float:
        for name, values in grid.items():
            trial.suggest_categorical(name, values)
        return 0.0

    return objective


def _key(params: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((k, type(v).__name__, v) for k, v in sorted(params.items()))


def test_dict_grid_visits_every_point_once_then_stops() -> None:
    sampler = GridSampler(GRID, seed=1)
    assert len(sampler) == 18
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_grid_objective(GRID), n_trials=1000)
    points = [_key(t.params) for t in study.trials]
    expected = {
        _key(dict(zip(GRID, combo, strict=True))) for combo in itertools.product(*GRID.values())
    }
    assert len(points) == 18
    assert set(points) == expected
    assert sampler.is_exhausted()


def test_dict_grid_stops_without_n_trials() -> None:
    study = ferrotune.create_study(sampler=GridSampler(GRID, seed=2))
    study.optimize(_grid_objective(GRID))
    assert len({_key(t.params) for t in study.trials}) == 18
    assert len(study.trials) == 18


@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    seed=st.integers(0, 2**32),
    n_jobs=st.sampled_from([1, 3]),
)
def test_grids_of_any_shape_are_covered_exactly_once(
    sizes: list[int], seed: int, n_jobs: int
) -> None:
    grid = {f"g{i}": list(range(n)) for i, n in enumerate(sizes)}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=seed))
    study.optimize(_grid_objective(grid), n_trials=10_000, n_jobs=n_jobs)
    points = [_key(t.params) for t in study.trials]
    total = 1
    for n in sizes:
        total *= n
    assert len(set(points)) == total
    # Parallel workers may each start one trial past the end; those repeat a point.
    assert total <= len(points) <= total + n_jobs - 1


def test_seed_sets_the_visiting_order() -> None:
    def order(seed: int) -> list[tuple[Any, ...]]:
        study = ferrotune.create_study(sampler=GridSampler(GRID, seed=seed))
        study.optimize(_grid_objective(GRID))
        return [_key(t.params) for t in study.trials]

    assert order(5) == order(5)
    assert order(5) != order(6)


def test_parameter_outside_the_grid_is_an_error() -> None:
    study = ferrotune.create_study(sampler=GridSampler({"a": [1, 2]}, seed=0))
    trial = study.ask()
    assert trial.suggest_categorical("a", [1, 2]) in (1, 2)
    with pytest.raises(ValueError, match="zz"):
        trial.suggest_float("zz", 0.0, 1.0)


def test_grid_values_used_with_suggest_int_and_float() -> None:
    grid = {"n": [1, 4, 16], "x": [0.0, 0.5]}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=0))
    study.optimize(lambda t: t.suggest_int("n", 1, 16) + t.suggest_float("x", 0.0, 1.0))
    assert {(t.params["n"], t.params["x"]) for t in study.trials} == set(
        itertools.product(grid["n"], grid["x"])
    )


@pytest.mark.parametrize(
    "bad",
    [{}, {"a": []}, {"a": "abc"}, {"a": [object()]}, [("a", [1])]],
    ids=["empty", "empty-values", "string", "object", "not-a-mapping"],
)
def test_bad_grid_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        GridSampler(bad)


def test_declared_space_grid_lists_only_active_feasible_points() -> None:
    space = ferrotune.SearchSpace(
        {
            "d_model": CategoricalDistribution([96, 128, 192]),
            "n_heads": CategoricalDistribution([3, 4, 8]),
            "optimizer": CategoricalDistribution(["adam", "sgd"]),
            "beta1": FloatDistribution(0.8, 0.9, step=0.05),
            "momentum": CategoricalDistribution(["nesterov", "plain"]),
            "dampening": IntDistribution(0, 2),
            "layers": IntDistribution(2, 6, step=2),
        },
        conditions={
            "beta1": ("optimizer", ["adam"]),
            "momentum": ("optimizer", ["sgd"]),
            "dampening": ("momentum", ["plain"]),
        },
        constraints=[
            ferrotune.Divisible("d_model", "n_heads"),
            ferrotune.Forbidden({"layers": 6, "optimizer": "sgd"}),
        ],
    )
    spec = SpaceSpec(
        dists=dict(space.distributions),
        conditions={
            "beta1": ("optimizer", ["adam"]),
            "momentum": ("optimizer", ["sgd"]),
            "dampening": ("momentum", ["plain"]),
        },
        order=["d_model", "n_heads", "optimizer", "beta1", "momentum", "dampening", "layers"],
        divisible=[("d_model", "n_heads")],
        forbidden=[{"layers": 6, "optimizer": "sgd"}],
    )
    # Independent count: feasible (d_model, n_heads) pairs x branches x layers.
    pairs = sum(d % h == 0 for d in (96, 128, 192) for h in (3, 4, 8))
    adam = 3 * 3  # beta1 values x layers
    sgd = (1 + 3) * 2  # (nesterov | plain x dampening) x layers other than 6
    expected = pairs * (adam + sgd)

    sampler = GridSampler(space, seed=0)
    assert len(sampler) == expected
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: 0.0, space=space, n_trials=10 * expected)
    assert len(study.trials) == expected
    keys = {_key(t.params) for t in study.trials}
    assert len(keys) == expected
    for t in study.trials:
        assert spec.violations(t.params) == [], t.params
    grid = space.grid()
    assert {_key(p) for p in grid} == keys


def test_declared_space_grid_applies_python_predicates() -> None:
    space = ferrotune.SearchSpace(
        {"a": IntDistribution(0, 9), "b": IntDistribution(0, 9)},
        constraints=[lambda p: p["a"] + p["b"] == 9],
    )
    assert sorted((p["a"], p["b"]) for p in space.grid()) == [(a, 9 - a) for a in range(10)]


def test_declared_space_with_a_continuous_float_cannot_be_a_grid() -> None:
    space = ferrotune.SearchSpace({"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(0, 3)})
    with pytest.raises(InvalidSpaceError, match=r"parameter 'x'"):
        GridSampler(space)


def test_grid_with_categorical_float_and_none_values() -> None:
    grid = {"v": [None, 1, 1.0, True, "1"]}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=4))
    study.optimize(_grid_objective(grid))
    seen = [t.params["v"] for t in study.trials]
    assert len(seen) == 5
    for v in grid["v"]:
        assert sum(same_choice(v, s) for s in seen) == 1

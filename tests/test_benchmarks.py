"""ferrotune.benchmarks: test problems with known optima."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrotune
from ferrotune import benchmarks
from ferrotune.benchmarks import Param, get_problem
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from tests._support import in_distribution

ALL = sorted(benchmarks.PROBLEMS)


def test_self_check_passes() -> None:
    benchmarks.self_check(n_samples=5000, seed=1)


@pytest.mark.parametrize("name", ALL)
def test_optimum_is_reached_at_the_optimal_params(name: str) -> None:
    problem = get_problem(name)
    assert problem.name == name
    assert problem.optimal_params is not None
    assert set(problem.optimal_params) == set(problem.params)
    assert math.isclose(problem(problem.optimal_params), problem.optimum, abs_tol=1e-9)
    assert problem.is_feasible(problem.optimal_params)
    assert problem.regret(problem.optimum) == 0.0
    assert problem.dim == len(problem.params)


@pytest.mark.parametrize("name", ALL)
def test_space_matches_the_neutral_description(name: str) -> None:
    problem = get_problem(name)
    assert set(problem.space) == set(problem.params)
    for pname, param in problem.params.items():
        dist = problem.space[pname]
        if param.kind == "float":
            assert isinstance(dist, FloatDistribution)
        elif param.kind == "int":
            assert isinstance(dist, IntDistribution)
        else:
            assert isinstance(dist, CategoricalDistribution)
            assert dist.choices == param.choices
        assert in_distribution(dist, problem.optimal_params[pname])  # type: ignore[index]


@pytest.mark.parametrize("name", ALL)
def test_random_feasible_points_never_beat_the_optimum(name: str) -> None:
    problem = get_problem(name)
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    for _ in range(300):
        trial = study.ask(fixed_distributions=problem.space)
        p = trial.params
        for pname, value in p.items():
            assert problem.params[pname].contains(value)
        if problem.is_feasible(p):
            assert problem(p) >= problem.optimum - 1e-9
        study.tell(trial, 0.0)


@pytest.mark.parametrize(("name", "dim"), [("rosenbrock", 3), ("ackley", 2), ("levy", 4)])
def test_dimension_argument(name: str, dim: int) -> None:
    problem = get_problem(name, dim=dim)
    assert problem.dim == dim
    assert math.isclose(problem(problem.optimal_params or {}), problem.optimum, abs_tol=1e-9)


@pytest.mark.parametrize(("name", "dim"), [("rosenbrock", 1), ("ackley", 0), ("levy", True)])
def test_bad_dimension(name: str, dim: int) -> None:
    with pytest.raises(ValueError, match="dim"):
        get_problem(name, dim=dim)


def test_unknown_problem() -> None:
    with pytest.raises(ValueError, match="branin"):
        get_problem("nope")


def test_branin_has_three_minimisers() -> None:
    problem = benchmarks.branin()
    for x0, x1 in [(-math.pi, 12.275), (math.pi, 2.275), (3 * math.pi, 2.475)]:
        assert math.isclose(problem({"x0": x0, "x1": x1}), problem.optimum, abs_tol=1e-5)


def test_constrained_problem() -> None:
    problem = benchmarks.constrained()
    assert problem.constraints is not None
    assert not problem.is_feasible({"x": 1.0, "y": 1.0, "d_model": 96, "n_heads": 7})
    assert problem.constraint_values({"x": 0.5, "y": 0.5, "d_model": 96, "n_heads": 8}) == [
        0.0,
        0.0,
    ]
    assert problem.constraint_values({"x": 1.0, "y": 1.0, "d_model": 96, "n_heads": 7})[1] == 5.0


def test_param_contains() -> None:
    assert Param.real(0, 1, step=0.25).contains(0.75)
    assert not Param.real(0, 1, step=0.25).contains(0.7)
    assert not Param.real(0, 1).contains(True)
    assert Param.integer(1, 9, step=2).contains(np.int64(5))
    assert Param.categorical([1, "a"]).contains("a")
    assert not Param.categorical([1, "a"]).contains(1.0)


def test_mixed_problem_is_minimised_by_adam() -> None:
    problem = benchmarks.mixed()
    best = dict(problem.optimal_params or {})
    for opt in ("sgd", "rmsprop"):
        assert problem({**best, "optimizer": opt}) > problem.optimum

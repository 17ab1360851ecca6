"""ferrotune.benchmarks' multi-objective problems: their fronts and hypervolumes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ferrotune import benchmarks
from ferrotune.benchmarks import MULTI_OBJECTIVE_PROBLEMS, dtlz2, zdt1, zdt2, zdt3


@pytest.mark.parametrize("name", sorted(MULTI_OBJECTIVE_PROBLEMS))
def test_dense_front_reaches_the_stated_hypervolume(name: str) -> None:
    problem = MULTI_OBJECTIVE_PROBLEMS[name]()
    front = problem.front(20_000 if problem.n_objectives == 2 else 200_000)
    gap = problem.hypervolume_gap(front)
    tol = 1e-4 if problem.n_objectives == 2 else 3e-3
    assert 0 <= gap < tol, gap
    # Random points are dominated by the front: a positive gap.
    rng = np.random.default_rng(0)
    values = [problem({k: rng.uniform() for k in problem.params}) for _ in range(200)]
    assert problem.hypervolume_gap(values) > tol
    assert problem.dim == len(problem.space)
    assert problem.directions == ["minimize"] * problem.n_objectives


@pytest.mark.parametrize("make", [zdt1, zdt2, zdt3])
def test_zdt_points_with_g_one_lie_on_the_front_curve(make: object) -> None:
    problem = make()  # type: ignore[operator]
    assert problem.dim == 30 and problem.reference_point == (11.0, 11.0)
    for f1 in np.linspace(0, 1, 11):
        params = {k: 0.0 for k in problem.params}
        params["x0"] = float(f1)
        y = problem(params)
        curve = {
            "zdt1": 1 - math.sqrt(f1),
            "zdt2": 1 - f1**2,
            "zdt3": 1 - math.sqrt(f1) - f1 * math.sin(10 * math.pi * f1),
        }[problem.name]
        assert y == pytest.approx((f1, curve), abs=1e-12)


def test_dtlz2_front_is_the_unit_sphere() -> None:
    problem = dtlz2()
    assert problem.n_objectives == 3 and problem.dim == 12
    assert problem.front_hypervolume == pytest.approx(1.1**3 - math.pi / 6)
    rng = np.random.default_rng(1)
    for _ in range(20):
        params = {f"x{i}": (rng.uniform() if i < 2 else 0.5) for i in range(12)}
        assert np.linalg.norm(problem(params)) == pytest.approx(1.0)
    # Away from g = 0 the point lies outside the sphere.
    params = {f"x{i}": 0.0 for i in range(12)}
    assert np.linalg.norm(problem(params)) == pytest.approx(1 + 10 * 0.25)


def test_rastrigin_is_registered() -> None:
    problem = benchmarks.get_problem("rastrigin", dim=4)
    assert problem({f"x{i}": 0.0 for i in range(4)}) == 0.0
    assert problem({f"x{i}": 1.0 for i in range(4)}) == pytest.approx(4.0)
    with pytest.raises(ValueError, match="n_variables"):
        zdt1(n_variables=1)

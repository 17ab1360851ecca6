"""The problems added for the search-quality suite: published optima attained at the stated
points, and no point of the space (drawn by hypothesis) below them."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferrotune import benchmarks
from ferrotune.benchmarks import Param, Problem, get_problem
from ferrotune.examples import transformer_loss, transformer_space

# (name, factory keywords): every problem added for the suite, at the dimensions it runs.
NEW: list[tuple[str, dict[str, Any]]] = [
    ("six_hump_camel", {}),
    ("goldstein_price", {}),
    ("michalewicz", {"dim": 2}),
    ("michalewicz", {"dim": 5}),
    ("michalewicz", {"dim": 10}),
    ("griewank", {"dim": 10}),
    ("schwefel", {"dim": 10}),
    ("zakharov", {"dim": 10}),
    ("dixon_price", {"dim": 10}),
    ("sum_squares", {"dim": 40}),
    ("rosenbrock", {"dim": 30}),
    ("func2c", {}),
    ("func3c", {}),
    ("ackley_cat", {"dim": 20}),
    ("rosenbrock_int", {}),
    ("transformer", {}),
]
IDS = [f"{name}{kw.get('dim', '')}" for name, kw in NEW]


def _value(p: Param) -> st.SearchStrategy[Any]:
    if p.kind == "categorical":
        return st.sampled_from(p.choices)
    if p.kind == "int":
        return st.integers(int(p.low), int(p.high))
    if p.log:
        return st.floats(math.log(p.low), math.log(p.high)).map(
            lambda u: min(p.high, max(p.low, math.exp(u)))
        )
    return st.floats(p.low, p.high)


def _point(problem: Problem) -> st.SearchStrategy[dict[str, Any]]:
    """A configuration of the problem's space, inactive parameters dropped."""
    draws = st.fixed_dictionaries({name: _value(p) for name, p in problem.params.items()})
    return draws.map(problem.active)


def _near_optimum(problem: Problem) -> st.SearchStrategy[dict[str, Any]]:
    """The optimum with its continuous coordinates moved by up to 1% of their range."""
    opt = problem.optimal_params or {}

    def move(shifts: list[float]) -> dict[str, Any]:
        out = dict(opt)
        for (name, p), u in zip(problem.params.items(), shifts, strict=True):
            if p.kind == "float" and not p.log and name in opt:
                out[name] = min(p.high, max(p.low, opt[name] + u * 0.01 * (p.high - p.low)))
        return out

    n = len(problem.params)
    return st.lists(st.floats(-1.0, 1.0), min_size=n, max_size=n).map(move)


@pytest.mark.parametrize(("name", "kw"), NEW, ids=IDS)
def test_optimum_is_attained_at_the_optimal_point(name: str, kw: dict[str, Any]) -> None:
    problem = get_problem(name, **kw)
    opt = problem.optimal_params
    assert opt is not None
    assert problem.dim == kw.get("dim", problem.dim)
    for pname, value in opt.items():
        assert problem.params[pname].contains(value), pname
    assert problem.active(opt) == opt
    assert math.isclose(problem(opt), problem.optimum, abs_tol=1e-9)


@pytest.mark.parametrize(("name", "kw"), NEW, ids=IDS)
def test_no_point_beats_the_optimum(name: str, kw: dict[str, Any]) -> None:
    problem = get_problem(name, **kw)

    @given(point=st.one_of(_point(problem), _near_optimum(problem)))
    def check(point: dict[str, Any]) -> None:
        for pname, value in point.items():
            assert problem.params[pname].contains(value), pname
        assert problem(point) >= problem.optimum - 1e-9

    check()


@pytest.mark.parametrize(("dim", "published"), [(2, -1.8013), (5, -4.687658), (10, -9.66015)])
def test_michalewicz_matches_the_published_optima(dim: int, published: float) -> None:
    assert math.isclose(benchmarks.michalewicz(dim).optimum, published, abs_tol=6e-5)


def test_published_values() -> None:
    camel = benchmarks.six_hump_camel()
    assert math.isclose(camel.optimum, -1.0316, abs_tol=1e-4)
    assert math.isclose(camel({"x0": -0.0898, "x1": 0.7126}), camel.optimum, abs_tol=1e-6)
    assert benchmarks.goldstein_price()({"x0": 0.0, "x1": -1.0}) == 3.0
    # Goldstein-Price's local minimum (1.2, 0.8) has value 840 (Goldstein & Price, 1971).
    assert math.isclose(benchmarks.goldstein_price()({"x0": 1.2, "x1": 0.8}), 840.0)
    schwefel = benchmarks.schwefel(2)
    assert 0.0 < schwefel.optimum < 1e-4
    zero = {f"x{i}": 0.0 for i in range(2)}
    assert math.isclose(schwefel(zero), 2 * 418.9829)
    dixon = benchmarks.dixon_price(3).optimal_params or {}
    assert [dixon[k] for k in ("x0", "x1", "x2")] == [1.0, 2**-0.5, 2**-0.75]
    # Sum Squares at (1, ..., 1) is 1 + 2 + ... + d.
    assert benchmarks.sum_squares(40)({f"x{i}": 1.0 for i in range(40)}) == 820.0


def test_func2c_and_func3c_follow_the_published_components() -> None:
    f2, f3 = benchmarks.func2c(), benchmarks.func3c()
    x = {"x0": 0.5, "x1": 0.5}  # 2 x = (1, 1): Rosenbrock 0, camel 3.2333 / 10, Beale 14.2031 / 50
    camel = ((4 - 2.1 + 1 / 3) + 1 + 0) / 10
    beale = (1.5**2 + 2.25**2 + 2.625**2) / 50
    assert math.isclose(f2({**x, "h1": 0, "h2": 0}), 0.0, abs_tol=1e-15)
    assert math.isclose(f2({**x, "h1": 1, "h2": 4}), camel + beale)
    assert f2({**x, "h1": 2, "h2": 2}) == f2({**x, "h1": 2, "h2": 3}) == 2 * beale
    assert math.isclose(f3({**x, "h1": 1, "h2": 1, "h3": 0}), 7 * camel)
    assert math.isclose(f3({**x, "h1": 0, "h2": 0, "h3": 3}), 3 * beale)
    # The second global minimiser of Six-Hump Camel.
    opt = f2.optimal_params or {}
    mirrored = {**opt, "x0": -opt["x0"], "x1": -opt["x1"]}
    assert math.isclose(f2(mirrored), f2.optimum, abs_tol=1e-12)
    for h1, h2 in [(0, 1), (1, 0), (2, 1), (1, 2)]:
        assert f2({**opt, "h1": h1, "h2": h2}) > f2.optimum + 0.05


def test_ackley_cat_is_ackley_at_the_category_points() -> None:
    problem = benchmarks.ackley_cat(3)
    ackley = benchmarks.ackley(3)
    point = {"x0": 0, "x1": 5, "x2": 10}
    assert math.isclose(
        problem(point), ackley({"x0": -32.768, "x1": 0.0, "x2": 32.768}), rel_tol=1e-12
    )
    assert all(p.kind == "categorical" and len(p.choices) == 11 for p in problem.params.values())


def test_rosenbrock_int_has_integer_and_float_parameters() -> None:
    problem = benchmarks.rosenbrock_int()
    kinds = [p.kind for p in problem.params.values()]
    assert kinds == ["int"] * 7 + ["float"] * 3
    with pytest.raises(ValueError, match="n_int"):
        benchmarks.rosenbrock_int(-1, 3)


def test_transformer_is_the_running_example() -> None:
    problem = benchmarks.transformer()
    reference = transformer_space()
    ours = problem.search_space
    assert list(ours.distributions) == list(reference.distributions)
    assert ours.distributions == reference.distributions
    assert ours.conditions == reference.conditions
    rng = np.random.default_rng(0)
    for _ in range(50):
        point = benchmarks._problems._random_point(problem, rng)
        assert problem(point) == transformer_loss(point)
        assert ("beta1" in point) == (point["optimizer"] == "adam")


def test_active_drops_parameters_whose_condition_fails() -> None:
    problem = benchmarks.transformer()
    opt = dict(problem.optimal_params or {})
    sgd = problem.active({**opt, "optimizer": "sgd"})
    assert "beta1" not in sgd and "beta2" not in sgd
    assert sgd["learning_rate"] == opt["learning_rate"]
    assert problem.conditional and not benchmarks.branin().conditional
    assert Param.real(0, 1).when("a", ["x"]).condition == ("a", ("x",))


@pytest.mark.parametrize(
    ("name", "dim"), [("michalewicz", 1), ("michalewicz", 11), ("griewank", 0), ("dixon_price", 1)]
)
def test_bad_dimension_of_new_problems(name: str, dim: int) -> None:
    with pytest.raises(ValueError, match="dim"):
        get_problem(name, dim=dim)


def _shifted_problems() -> list[Problem]:
    ackley = benchmarks.ackley(4)
    offset = {f"x{i}": 3.0 * (i - 1.5) for i in range(4)}
    rint = benchmarks.rosenbrock_int(2, 1)
    return [
        benchmarks.shifted(ackley, offset),
        benchmarks.shifted(benchmarks.sum_squares(3), {"x0": -2.5, "x2": 9.0}),
        benchmarks.shifted(rint, {"x0": -3.0, "x2": 0.5}),
    ]


@pytest.mark.parametrize("index", range(3))
def test_shifted_problem_keeps_its_optimum_at_the_moved_point(index: int) -> None:
    problem = _shifted_problems()[index]
    opt = problem.optimal_params or {}
    assert all(problem.params[k].contains(v) for k, v in opt.items())
    assert math.isclose(problem(opt), problem.optimum, abs_tol=1e-9)
    assert problem.name.endswith("_shifted")

    @given(point=st.one_of(_point(problem), _near_optimum(problem)))
    def check(point: dict[str, Any]) -> None:
        assert problem(point) >= problem.optimum - 1e-9

    check()


def test_shifted_moves_the_landscape() -> None:
    base = benchmarks.rastrigin(2)
    moved = benchmarks.shifted(base, {"x0": 1.25, "x1": -0.5})
    assert moved.optimal_params == {"x0": 1.25, "x1": -0.5}
    x = {"x0": 0.3, "x1": -2.0}
    assert moved(x) == base({"x0": 0.3 - 1.25, "x1": -2.0 + 0.5})
    assert moved({"x0": 0.0, "x1": 0.0}) > 1.0  # the centre is no longer optimal


@pytest.mark.parametrize(
    ("problem", "offset", "match"),
    [
        (benchmarks.ackley(2), {"x0": 40.0}, "leaves the space"),
        (benchmarks.rosenbrock_int(2, 1), {"x0": 0.5}, "leaves the space"),
        (benchmarks.func2c(), {"h1": 1.0}, "not a numeric parameter"),
        (benchmarks.branin(), {"y": 1.0}, "not a numeric parameter"),
        (benchmarks.transformer(), {"dropout": 0.01}, "unconditional"),
        (benchmarks.constrained(), {"x": 0.1}, "unconstrained"),
    ],
)
def test_shifted_rejects_bad_offsets(
    problem: Problem, offset: dict[str, float], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        benchmarks.shifted(problem, offset)

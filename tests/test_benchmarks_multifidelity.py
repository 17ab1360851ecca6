"""ferrotune.benchmarks: multi-fidelity problems (synthetic and the digits learning task)."""

from __future__ import annotations

import importlib.util
import itertools
import math
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune import benchmarks
from ferrotune.benchmarks import (
    DIGITS_TABLE_TOLERANCE,
    MultiFidelityProblem,
    get_multi_fidelity_problem,
)
from ferrotune.exceptions import InvalidArgumentError, MissingDependencyError

SYNTHETIC = ["mf_branin", "mf_hartmann3", "mf_hartmann6"]
SINGLE = {"mf_branin": "branin", "mf_hartmann3": "hartmann3", "mf_hartmann6": "hartmann6"}
HAS_SKLEARN = importlib.util.find_spec("sklearn") is not None
needs_sklearn = pytest.mark.skipif(
    not HAS_SKLEARN, reason="the live digits task needs scikit-learn (the `test` extra)"
)

# Spearman rank correlation between the values at min_budget and at the full budget over 400
# uniform points, required at least (measured with the defaults: 0.999, 0.964, 0.842).
RANK_CORRELATION_AT_MIN_BUDGET = {"mf_branin": 0.99, "mf_hartmann3": 0.9, "mf_hartmann6": 0.75}
# A reasonable configuration of the digits MLP; its validation error after 10 epochs must be
# below this bound (measured: 0.047; a constant classifier errs on 0.9).
DIGITS_GOOD_CONFIG = {
    "learning_rate_init": 1e-3,
    "alpha": 1e-4,
    "batch_size": 32,
    "hidden_units": 64,
}
DIGITS_ERROR_AFTER_10_EPOCHS = 0.08


def _uniform_points(problem: MultiFidelityProblem, n: int, seed: int) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=seed))
    points = []
    for _ in range(n):
        trial = study.ask(fixed_distributions=problem.space)
        points.append(trial.params)
        study.tell(trial, 0.0)
    return points


def _spearman(a: list[float], b: list[float]) -> float:
    ra = np.argsort(np.argsort(a)).astype(float)
    rb = np.argsort(np.argsort(b)).astype(float)
    return float(np.corrcoef(ra, rb)[0, 1])


def test_self_check_passes() -> None:
    benchmarks.self_check_multi_fidelity(n_samples=600, seed=3)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_full_budget_is_the_single_fidelity_function(name: str) -> None:
    mf = get_multi_fidelity_problem(name)
    sf = benchmarks.get_problem(SINGLE[name])
    assert mf.params == sf.params
    assert mf.optimum == sf.optimum
    for point in [*_uniform_points(mf, 100, seed=1), sf.optimal_params or {}]:
        assert mf.evaluate(point, mf.max_budget) == sf(point)
        assert mf(point) == sf(point)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_known_optimum_is_attained_at_full_budget(name: str) -> None:
    mf = get_multi_fidelity_problem(name)
    assert mf.optimal_params is not None and mf.optimum is not None
    assert math.isclose(mf.evaluate(mf.optimal_params), mf.optimum, abs_tol=1e-9)
    assert mf.regret(mf.optimum) == 0.0
    for point in _uniform_points(mf, 300, seed=2):
        assert mf(point) >= mf.optimum - 1e-9


def test_branin_full_budget_at_its_three_minimisers() -> None:
    mf = benchmarks.mf_branin()
    for x0, x1 in [(-math.pi, 12.275), (math.pi, 2.275), (3 * math.pi, 2.475)]:
        assert math.isclose(mf.evaluate({"x0": x0, "x1": x1}, 100), 0.397887, abs_tol=1e-5)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_lower_budgets_are_biased_but_rank_correlated(name: str) -> None:
    mf = get_multi_fidelity_problem(name)
    points = _uniform_points(mf, 400, seed=4)
    full = [mf.evaluate(p) for p in points]
    correlations = []
    for budget in (1, 3, 9, 27, 81):
        low = [mf.evaluate(p, budget) for p in points]
        assert any(abs(u - v) > 1e-3 for u, v in zip(low, full, strict=True)), budget
        if name != "mf_branin":
            # alpha shrinks and the noise is non-negative: low budgets only overestimate.
            assert all(u >= v for u, v in zip(low, full, strict=True)), budget
        correlations.append(_spearman(low, full))
    assert correlations[0] > RANK_CORRELATION_AT_MIN_BUDGET[name], correlations
    # More budget, a truer ranking (allowing for sampling noise between neighbours).
    assert all(b >= a - 0.01 for a, b in itertools.pairwise(correlations)), correlations
    assert correlations[-1] > 0.99


def test_hartmann_low_budget_matches_the_hand_computed_shift() -> None:
    """At min_budget (s = 0), noise off: -sum((alpha_i - bias) exp(-inner_i))."""
    mf = benchmarks.mf_hartmann3(bias=0.5, noise=0.0)
    x = np.array([0.2, 0.4, 0.6])
    a = np.array([[3.0, 10, 30], [0.1, 10, 35], [3.0, 10, 30], [0.1, 10, 35]])
    p = 1e-4 * np.array(
        [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]
    )
    e = np.exp(-np.sum(a * (x - p) ** 2, axis=1))
    expected = -float(np.dot(np.array([0.5, 0.7, 2.5, 2.7]), e))
    params = {"x0": 0.2, "x1": 0.4, "x2": 0.6}
    assert math.isclose(mf.evaluate(params, 1), expected, rel_tol=1e-12)
    # Half-way on the log scale (budget 10 of 1..100): half the shift.
    half = -float(np.dot(np.array([0.75, 0.95, 2.75, 2.95]), e))
    assert math.isclose(mf.evaluate(params, 10), half, rel_tol=1e-12)


@pytest.mark.parametrize("name", SYNTHETIC)
def test_deterministic_and_seeded_noise(name: str) -> None:
    point = _uniform_points(get_multi_fidelity_problem(name), 1, seed=5)[0]
    a = get_multi_fidelity_problem(name)
    b = get_multi_fidelity_problem(name)
    for budget in (1, 2.5, 30, 100):
        assert a.evaluate(point, budget) == b.evaluate(point, budget)
    assert list(a.steps(point))[:5] == [a.evaluate(point, s) for s in range(1, 6)]
    if name != "mf_branin":
        other = get_multi_fidelity_problem(name, seed=1)
        assert other.evaluate(point, 1) != a.evaluate(point, 1)
        assert other.evaluate(point, 100) == a.evaluate(point, 100)
        quiet = get_multi_fidelity_problem(name, noise=0.0)
        assert a.evaluate(point, 1) >= quiet.evaluate(point, 1)  # the noise is non-negative


def test_cost_is_proportional_to_budget() -> None:
    mf = benchmarks.mf_hartmann6(min_budget=1, max_budget=81)
    assert [mf.cost(b) for b in (1, 3, 9, 27, 81)] == [b / 81 for b in (1, 3, 9, 27, 81)]


@pytest.mark.parametrize("budget", [0, 0.5, 100.01, -1, math.nan, math.inf, "10", None, True])
def test_bad_budget_is_named(budget: Any) -> None:
    mf = benchmarks.mf_hartmann3()
    point = mf.optimal_params or {}
    if budget is None:  # None means the full budget
        assert mf.evaluate(point, budget) == mf.optimum
        return
    with pytest.raises(InvalidArgumentError, match="budget"):
        mf.evaluate(point, budget)
    with pytest.raises(InvalidArgumentError, match="budget"):
        mf.cost(budget)


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"x0": 0.5, "x1": 0.5}, "x2"),
        ({"x0": 0.5, "x1": 0.5, "x2": 1.5}, "x2"),
        ({"x0": -0.1, "x1": 0.5, "x2": 0.5}, "x0"),
        ({"x0": 0.5, "x1": "a", "x2": 0.5}, "x1"),
        ({"x0": 0.5, "x1": 0.5, "x2": 0.5, "lr": 1.0}, "lr"),
    ],
)
def test_bad_params_are_named(params: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArgumentError, match=named):
        benchmarks.mf_hartmann3().evaluate(params, 10)


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"min_budget": 0}, "min_budget"),
        ({"min_budget": 100}, "min_budget"),
        ({"max_budget": math.inf}, "max_budget"),
        ({"bias": -1.0}, "bias"),
        ({"noise": math.nan}, "noise"),
        ({"seed": 1.5}, "seed"),
    ],
)
def test_bad_factory_arguments_are_named(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(InvalidArgumentError, match=named):
        benchmarks.mf_hartmann3(**kwargs)


def test_unknown_problem() -> None:
    with pytest.raises(InvalidArgumentError, match="mf_hartmann6"):
        get_multi_fidelity_problem("nope")


def test_custom_budget_range() -> None:
    mf = benchmarks.mf_branin(min_budget=0.1, max_budget=1.0)
    assert mf.evaluate({"x0": math.pi, "x1": 2.275}, 1.0) == benchmarks.branin().optimum
    assert mf.evaluate({"x0": math.pi, "x1": 2.275}, 0.1) != benchmarks.branin().optimum


# --- digits ------------------------------------------------------------------------------------


def test_tabular_digits_serves_the_table() -> None:
    """Run against the installed wheel, this also checks that the table ships in it."""
    tab = benchmarks.digits_mlp_tabular()
    grid = benchmarks.digits_table_grid()
    assert tab.min_budget == 1 and tab.max_budget == benchmarks.DIGITS_MAX_EPOCHS
    assert tab.optimal_params is not None and tab.optimum is not None
    assert tab.evaluate(tab.optimal_params) == tab.optimum
    assert 0.0 <= tab.optimum < 0.05
    for name, values in grid.items():
        assert all(tab.params[name].contains(v) for v in values), name
    # Every grid point's final error is at least the optimum, and the curve is what steps gives.
    rng = np.random.default_rng(0)
    for _ in range(50):
        point: dict[str, Any] = {}
        for name, values in grid.items():
            v = values[int(rng.integers(len(values)))]
            point[name] = int(v) if tab.params[name].kind == "int" else v
        curve = list(tab.steps(point))
        assert len(curve) == benchmarks.DIGITS_MAX_EPOCHS
        assert curve == [tab.evaluate(point, e) for e in range(1, len(curve) + 1)]
        assert curve[-1] >= tab.optimum
        assert all(0.0 <= c <= 1.0 for c in curve)


def test_tabular_digits_snaps_to_the_nearest_grid_point_on_the_log_scale() -> None:
    tab = benchmarks.digits_mlp_tabular()
    on_grid = {"learning_rate_init": 1e-3, "alpha": 1e-4, "batch_size": 32, "hidden_units": 64}
    # 1.7e-3 is nearer 1e-3 than 10^-2.5 = 3.16e-3 in log space (but not linearly: 2.08e-3).
    near = {"learning_rate_init": 1.7e-3, "alpha": 2.9e-4, "batch_size": 44, "hidden_units": 90}
    assert list(tab.steps(near)) == list(tab.steps(on_grid))
    with pytest.raises(InvalidArgumentError, match="batch_size"):
        tab.evaluate({**on_grid, "batch_size": 512}, 3)
    with pytest.raises(InvalidArgumentError, match="budget"):
        tab.evaluate(on_grid, 2.5)
    with pytest.raises(InvalidArgumentError, match="budget"):
        tab.evaluate(on_grid, 28)


def test_tabular_digits_lower_budgets_are_rank_correlated() -> None:
    tab = benchmarks.digits_mlp_tabular()
    points = _uniform_points(tab, 200, seed=6)
    full = [tab.evaluate(p) for p in points]
    assert _spearman([tab.evaluate(p, 9) for p in points], full) > 0.8
    assert _spearman([tab.evaluate(p, 3) for p in points], full) > 0.6


@needs_sklearn
def test_live_digits_task_learns() -> None:
    live = benchmarks.digits_mlp()
    curve = [e for _, e in zip(range(10), live.steps(DIGITS_GOOD_CONFIG), strict=False)]
    assert len(curve) == 10
    assert curve[-1] < DIGITS_ERROR_AFTER_10_EPOCHS
    assert curve[-1] < curve[0]
    assert live.evaluate(DIGITS_GOOD_CONFIG, 10) == curve[-1]  # deterministic for a seed
    with pytest.raises(InvalidArgumentError, match="regret"):
        live.regret(0.1)


@needs_sklearn
def test_live_digits_task_matches_the_table_at_grid_points() -> None:
    live = benchmarks.digits_mlp()
    tab = benchmarks.digits_mlp_tabular()
    configs = [
        DIGITS_GOOD_CONFIG,
        {"learning_rate_init": 1e-4, "alpha": 1e-6, "batch_size": 256, "hidden_units": 16},
        {"learning_rate_init": 0.01, "alpha": 1e-2, "batch_size": 16, "hidden_units": 128},
    ]
    # Not the largest learning rates with small batches: that training is chaotic, and on
    # another CPU (OpenBLAS's kernels for it) those curves depart from the table after 10-27
    # epochs (see digits_mlp_tabular's docstring).
    for config in configs:
        live_curve = list(live.steps(config))
        tab_curve = list(tab.steps(config))
        assert len(live_curve) == len(tab_curve) == benchmarks.DIGITS_MAX_EPOCHS
        gaps = [abs(a - b) for a, b in zip(live_curve, tab_curve, strict=True)]
        assert max(gaps) <= DIGITS_TABLE_TOLERANCE, (config, gaps)


@needs_sklearn
def test_live_digits_seed_changes_the_run() -> None:
    a = list(benchmarks.digits_mlp(seed=0).steps(DIGITS_GOOD_CONFIG))[:3]
    b = list(benchmarks.digits_mlp(seed=1).steps(DIGITS_GOOD_CONFIG))[:3]
    assert a != b


def test_tabular_digits_log_loss_shares_the_grid_and_runs() -> None:
    """The log-loss table comes from the same training runs as the error table: the grid point
    with the lowest final loss has a final error near the best, every value is a positive loss,
    and a diverged run (the largest learning rate, smallest batch) has a high loss and error."""
    err = benchmarks.digits_mlp_tabular()
    ll = benchmarks.get_multi_fidelity_problem("digits_mlp_logloss_tabular")
    assert ll.name == "digits_mlp_logloss_tabular" and ll.params == err.params
    assert ll.optimal_params is not None and ll.optimum is not None and err.optimum is not None
    assert ll.evaluate(ll.optimal_params) == ll.optimum
    assert 0.0 < ll.optimum < 0.2
    assert err.evaluate(ll.optimal_params) <= err.optimum + 3 / 360
    grid = benchmarks.digits_table_grid()
    rng = np.random.default_rng(1)
    finals = []
    for _ in range(50):
        point: dict[str, Any] = {}
        for name, values in grid.items():
            v = values[int(rng.integers(len(values)))]
            point[name] = int(v) if ll.params[name].kind == "int" else v
        curve = list(ll.steps(point))
        assert len(curve) == benchmarks.DIGITS_MAX_EPOCHS
        assert all(math.isfinite(c) and c > 0.0 for c in curve)
        assert curve[-1] >= ll.optimum
        finals.append((curve[-1], err.evaluate(point)))
    # Loss and error of the same runs rank alike.
    assert _spearman([a for a, _ in finals], [b for _, b in finals]) > 0.8
    # The loss tells apart configurations that the error ties (the point of the metric).
    assert len({a for a, _ in finals}) > len({b for _, b in finals})


@pytest.mark.parametrize("metric", ["error", "log_loss"])
def test_tabular_digits_interpolation(metric: str) -> None:
    """Interpolated: equal to the table at grid points, within the range of the 16 corners
    between them, continuous, never below the optimum (which stays the best grid point)."""
    interp = benchmarks.digits_mlp_tabular(metric=metric, interpolate=True)
    nearest = benchmarks.digits_mlp_tabular(metric=metric, interpolate=False)
    assert interp.optimum == nearest.optimum and interp.optimal_params == nearest.optimal_params
    assert interp.optimum is not None
    grid = benchmarks.digits_table_grid()
    names = list(grid)
    rng = np.random.default_rng(2)
    for _ in range(40):
        cell = [int(rng.integers(len(grid[n]) - 1)) for n in names]
        low = {n: grid[n][i] for n, i in zip(names, cell, strict=True)}
        assert interp.evaluate(_typed(interp, low), 5) == nearest.evaluate(_typed(interp, low), 5)
        # A point strictly inside the cell, on the log scale.
        t = rng.uniform(0.1, 0.9, size=len(names))
        point = _typed(
            interp,
            {
                n: math.exp((1 - ti) * math.log(grid[n][i]) + ti * math.log(grid[n][i + 1]))
                for n, i, ti in zip(names, cell, t, strict=True)
            },
        )
        corners = [
            nearest.evaluate(
                _typed(
                    interp, {n: grid[n][i + b] for n, i, b in zip(names, cell, bits, strict=True)}
                )
            )
            for bits in itertools.product((0, 1), repeat=len(names))
        ]
        value = interp.evaluate(point)
        assert min(corners) - 1e-12 <= value <= max(corners) + 1e-12
        assert value >= interp.optimum
        moved = {**point, "learning_rate_init": point["learning_rate_init"] * (1 + 1e-9)}
        assert abs(interp.evaluate(moved) - value) < 1e-6


def _typed(problem: Any, point: dict[str, float]) -> dict[str, Any]:
    return {n: round(v) if problem.params[n].kind == "int" else v for n, v in point.items()}


def test_digits_metric_is_checked() -> None:
    with pytest.raises(InvalidArgumentError, match="metric"):
        benchmarks.digits_mlp_tabular(metric="accuracy")
    with pytest.raises(InvalidArgumentError, match="metric"):
        benchmarks.digits_mlp(metric="mse")
    with pytest.raises(InvalidArgumentError, match="metric"):
        benchmarks.train_digits_mlp(DIGITS_GOOD_CONFIG, metric="f1")
    with pytest.raises(InvalidArgumentError, match="interpolate"):
        benchmarks.digits_mlp_tabular(interpolate="yes")  # type: ignore[arg-type]


@needs_sklearn
def test_live_digits_log_loss_matches_the_table_and_the_error_run() -> None:
    live = benchmarks.get_multi_fidelity_problem("digits_mlp_logloss")
    tab = benchmarks.digits_mlp_tabular(metric="log_loss")
    assert live.name == "digits_mlp_logloss" and live.optimum is None
    curve = list(live.steps(DIGITS_GOOD_CONFIG))
    table = list(tab.steps(DIGITS_GOOD_CONFIG))
    assert max(abs(a - b) / b for a, b in zip(curve, table, strict=True)) < 1e-3
    assert curve[9] < curve[0]
    # The same training as the error metric's: the errors of this run are the table's errors.
    errors = benchmarks.train_digits_mlp(DIGITS_GOOD_CONFIG, seed=0, metric="error")
    table_errors = benchmarks.digits_mlp_tabular().steps(DIGITS_GOOD_CONFIG)
    gaps = [abs(a - b) for a, b in zip(errors, table_errors, strict=True)]
    assert max(gaps) <= DIGITS_TABLE_TOLERANCE


def test_live_digits_without_sklearn_names_the_package(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "sklearn" or name.startswith("sklearn."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    from ferrotune.benchmarks import _digits

    monkeypatch.setattr(builtins, "__import__", fake_import)
    monkeypatch.setattr(_digits, "_digits_split", _digits._digits_split.__wrapped__)
    with pytest.raises(MissingDependencyError, match="pip install scikit-learn"):
        benchmarks.digits_mlp().evaluate(DIGITS_GOOD_CONFIG, 1)


def test_every_problem_carries_a_name_the_registry_builds_again() -> None:
    """MultiFidelityProblem.name is documented as a name get_multi_fidelity_problem
    accepts; the tables' interpolated and nearest-cell variants carried names it refused."""
    from ferrotune.benchmarks import MULTI_FIDELITY_PROBLEMS, digits_mlp_tabular

    tables = [
        digits_mlp_tabular(interpolate=interpolate, metric=metric)
        for interpolate in (False, True)
        for metric in ("error", "log_loss")
    ]
    for problem in tables:
        again = get_multi_fidelity_problem(problem.name)
        assert again.name == problem.name
        assert again.evaluate(problem.optimal_params, 27) == problem.optimum
    tabular = [n for n in MULTI_FIDELITY_PROBLEMS if "tabular" in n or n.startswith("mf_")]
    assert all(get_multi_fidelity_problem(n).name == n for n in tabular)
    with pytest.raises(InvalidArgumentError, match="interpolate=True"):
        get_multi_fidelity_problem("digits_mlp_tabular_interpolated", interpolate=False)

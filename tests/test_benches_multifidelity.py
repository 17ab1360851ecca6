"""The bookkeeping of benches/multifidelity.py: compute, regret, and the summary, on tiny
ferrotune-only runs (no peer needed)."""

from __future__ import annotations

import dataclasses
import math
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ferrotune.benchmarks import get_multi_fidelity_problem

BENCHES = Path(__file__).resolve().parents[1] / "benches"


@pytest.fixture(scope="module")
def mf() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHES))
    try:
        import multifidelity

        yield multifidelity
    finally:
        sys.path.remove(str(BENCHES))


PRUNED = ("ft-hb-random", "ft-sh-random", "ft-hb-tpe")
PROBLEMS = ("mf_hartmann3", "digits_mlp_tabular")


@pytest.mark.parametrize("problem_name", PROBLEMS)
@pytest.mark.parametrize("method", ("random", *PRUNED))
def test_compute_is_the_sum_of_the_steps_trained(mf: Any, method: str, problem_name: str) -> None:
    problem = get_multi_fidelity_problem(problem_name)
    total = 4 * problem.max_budget
    run = mf.run_method(method, problem, total, 0, False)
    last = math.floor(problem.max_budget)
    assert run.compute == pytest.approx(np.cumsum(run.reported_steps).tolist())
    # The run stops with the first evaluation that reaches the budget.
    assert run.compute[-1] >= total > run.compute[-2]
    allowed = [last] if method == "random" else mf.checkpoints(problem, False)
    assert set(run.reported_steps) <= set(allowed)
    for step, value in zip(run.reported_steps, run.full_values, strict=True):
        # A value counts for the incumbent exactly when it was trained to the full budget.
        assert math.isnan(value) == (step != last)


def test_every_step_trains_what_is_counted(mf: Any) -> None:
    """With --every-step each step trained is one evaluation of the problem: the compute
    counted must equal the evaluations made, and the run must equal the rung-only run."""
    problem = get_multi_fidelity_problem("mf_hartmann3")
    calls = 0

    def counting(params: Mapping[str, Any], budget: float) -> float:
        nonlocal calls
        calls += 1
        return float(problem.fn(params, budget))

    counted = dataclasses.replace(problem, fn=counting)
    every = mf.run_method("ft-hb-random", counted, 6 * problem.max_budget, 3, True)
    assert calls == every.total
    rungs = mf.run_method("ft-hb-random", problem, 6 * problem.max_budget, 3, False)
    assert rungs.compute == every.compute
    assert rungs.full_values == every.full_values
    assert any(s < problem.max_budget for s in every.reported_steps), "nothing was pruned"


def test_checkpoints_are_the_rungs_and_the_full_budget(mf: Any) -> None:
    hartmann = get_multi_fidelity_problem("mf_hartmann6")
    assert mf.checkpoints(hartmann, False) == [1, 3, 9, 27, 81, 100]
    digits = get_multi_fidelity_problem("digits_mlp_tabular")
    assert mf.checkpoints(digits, False) == [1, 3, 9, 27]
    assert mf.checkpoints(digits, True) == list(range(1, 28))


def test_the_oracle_reports_full_budget_values(mf: Any) -> None:
    """ft-hb-oracle's pruner sees each configuration's full-budget value at every rung: its
    reports are those values, and its compute is still every step trained."""
    problem = get_multi_fidelity_problem("mf_hartmann3")
    reports: list[tuple[float, float]] = []

    def recording(params: Mapping[str, Any], budget: float) -> float:
        value = float(problem.fn(params, budget))
        reports.append((budget, value))
        return value

    counted = dataclasses.replace(problem, fn=recording)
    run = mf.run_method("ft-hb-oracle", counted, 6 * problem.max_budget, 3, False)
    assert run.compute == pytest.approx(np.cumsum(run.reported_steps).tolist())
    # Every configuration is evaluated at the full budget, and only there.
    assert {b for b, _ in reports} == {problem.max_budget}
    assert any(s < problem.max_budget for s in run.reported_steps), "nothing was pruned"
    # Some trials finish, the others stop at a rung: their value there is not an incumbent.
    finished = [v for v in run.full_values if not math.isnan(v)]
    assert finished and len(finished) < len(run.full_values)


def test_min_resource_moves_the_rungs(mf: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    digits = get_multi_fidelity_problem("digits_mlp_tabular")
    monkeypatch.setenv(mf.MIN_RESOURCE_ENV, "3")
    assert mf.min_resource(digits) == 3
    assert mf.checkpoints(digits, False) == [3, 9, 27]
    run = mf.run_method("ft-sh-random", digits, 10 * digits.max_budget, 0, False)
    assert set(run.reported_steps) <= {3, 9, 27}
    assert 3 in run.reported_steps


@pytest.mark.parametrize("method", PRUNED)
def test_a_seed_repeats(mf: Any, method: str) -> None:
    problem = get_multi_fidelity_problem("mf_hartmann3")
    a = mf.run_method(method, problem, 5 * problem.max_budget, 7, False)
    b = mf.run_method(method, problem, 5 * problem.max_budget, 7, False)
    assert a.compute == b.compute
    assert a.full_values == b.full_values


@pytest.mark.parametrize("problem_name", PROBLEMS)
@pytest.mark.parametrize("method", ("random", *PRUNED))
def test_regret_is_the_best_full_budget_value_so_far(
    mf: Any, method: str, problem_name: str
) -> None:
    problem = get_multi_fidelity_problem(problem_name)
    run = mf.run_method(method, problem, 5 * problem.max_budget, 1, False)
    compute, regret = mf.regret_curve(run, problem.optimum)
    assert compute.tolist() == run.compute
    best = math.inf
    for value, r in zip(run.full_values, regret, strict=True):
        if not math.isnan(value):
            best = min(best, value)
        assert r == best - problem.optimum
    finite = regret[np.isfinite(regret)]
    assert finite.size > 0
    assert np.all(finite >= -1e-12)
    assert np.all(np.diff(regret[np.isfinite(regret)]) <= 0.0)


def test_regret_at_and_compute_to_reach_by_hand(mf: Any) -> None:
    run = mf.Run()
    run.add(100, 5.0)  # a full-budget evaluation
    run.add(3, None)  # pruned at step 3
    run.add(100, 2.0)
    assert run.compute == [100, 103, 203]
    compute, regret = mf.regret_curve(run, 1.0)
    assert regret.tolist() == [4.0, 4.0, 1.0]
    assert mf.regret_at(compute, regret, [50, 100, 202, 203, 1000]).tolist() == [
        math.inf,
        4.0,
        4.0,
        1.0,
        1.0,
    ]
    # The best full-budget value among the first n evaluations at any budget.
    assert [mf._best_full(run, n) for n in (1, 2, 3, 300)] == [5.0, 5.0, 2.0, 2.0]
    pruned_only = mf.Run()
    pruned_only.add(1, None)
    assert mf._best_full(pruned_only, 300) == math.inf
    assert mf.compute_to_reach([run], 1.0, 4.0) == 100
    assert mf.compute_to_reach([run], 1.0, 1.0) == 203
    assert mf.compute_to_reach([run], 1.0, 0.5) == math.inf
    # Over several runs the median decides: one run reaches regret 0 at 50, but two of three
    # reach regret 1 only at 203.
    early = mf.Run()
    early.add(50, 1.0)
    assert mf.compute_to_reach([early], 1.0, 1.0) == 50
    assert mf.compute_to_reach([run, run, early], 1.0, 1.0) == 203
    assert mf.compute_to_reach([run, run, early], 1.0, 0.0) == math.inf


def test_quantiles_keep_a_missing_incumbent_infinite(mf: Any) -> None:
    q = mf.quantiles([1.0, 2.0, math.inf, math.inf], [0.25, 0.5, 0.75])
    assert q[0] == pytest.approx(1.75)
    # Between a finite value and no incumbent the median has no incumbent either (not NaN).
    assert q[1] == math.inf and q[2] == math.inf
    assert mf.quantiles([1.0, 2.0, 3.0], [0.5]).tolist() == [2.0]


def test_summary_of_a_tiny_run(mf: Any) -> None:
    records = mf.run_all(["random", "ft-hb-random"], {"mf_hartmann3": 6.0}, seeds=3, jobs=1)
    assert len(records) == 6
    summary = mf.summarise(records)["mf_hartmann3"]
    assert summary["budget"] == 6.0
    methods = summary["methods"]
    final = methods["random"]["regret"][f"{1.0:.4f}"]
    assert final["median"] == summary["target_regret"]
    assert final["q25"] <= final["median"] <= final["q75"]
    # Random search reaches its own final median regret within its compute.
    assert 0.0 < methods["random"]["reach_random_final_ratio"] <= 1.0
    for s in methods.values():
        medians = [s["regret"][f"{f:.4f}"]["median"] for f in mf.FRACTIONS]
        assert medians == sorted(medians, reverse=True)
        assert len(s["grid_regret"]) == 3
        assert s["final_value_mean"] >= get_multi_fidelity_problem("mf_hartmann3").optimum

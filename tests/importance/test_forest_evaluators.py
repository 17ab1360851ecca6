"""fANOVA and MDI on ferrotune's forest: Optuna's values within the spread of Optuna's own
seeds, the true rankings of known structures (every evaluator), errors, subsets, seeds."""

from __future__ import annotations

import statistics
import warnings
from collections.abc import Callable
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.importance import (
    BaseImportanceEvaluator,
    FanovaImportanceEvaluator,
    MeanDecreaseImpurityImportanceEvaluator,
    PedAnovaImportanceEvaluator,
    get_param_importances,
)
from tests.importance._studies import MIXED, encoded, ferrotune_study, optuna_study, rows

UNIT = {name: FloatDistribution(0.0, 1.0) for name in ("a", "b", "c", "d")}

#: Known structures: the objective, and the importance order it implies (names in
#: strictly decreasing importance; a set for names of equal importance).
STRUCTURES: dict[str, tuple[Callable[[dict[str, Any]], float], list[Any]]] = {
    "one dominant": (lambda p: 10 * p["a"] + 0.5 * p["b"], ["a", {"b", "c", "d"}]),
    "additive pairs": (
        lambda p: 3 * p["a"] + 3 * p["b"] + p["c"],
        [{"a", "b"}, "c", "d"],
    ),
    "interaction": (
        lambda p: 8 * (p["a"] - 0.5) * (p["b"] - 0.5) + 0.3 * p["c"] + 2 * p["a"],
        ["a", {"b", "c"}, "d"],
    ),
}


def _assert_order(result: dict[str, float], order: list[Any]) -> None:
    """Every name of an earlier group ranks above every name of a later group."""
    groups = [g if isinstance(g, set) else {g} for g in order]
    for i, high in enumerate(groups[:-1]):
        for low in groups[i + 1 :]:
            assert min(result[n] for n in high) > max(result[n] for n in low), result


def _quiet(evaluator: BaseImportanceEvaluator, study: Any, **kwargs: Any) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return evaluator.evaluate(study, **kwargs)


@pytest.mark.parametrize("structure", sorted(STRUCTURES))
@pytest.mark.parametrize(
    "make",
    [
        lambda: FanovaImportanceEvaluator(n_trees=32, seed=0),
        lambda: MeanDecreaseImpurityImportanceEvaluator(n_trees=32, seed=0),
        lambda: PedAnovaImportanceEvaluator(target_quantile=0.2),
    ],
    ids=["fanova", "mdi", "ped_anova"],
)
def test_rankings_follow_the_structure(
    structure: str, make: Callable[[], BaseImportanceEvaluator]
) -> None:
    objective, order = STRUCTURES[structure]
    if structure == "interaction" and isinstance(make(), PedAnovaImportanceEvaluator):
        # PED-ANOVA scores what it takes to reach the best values: the corner a=1, b=0
        # makes b as important as a there.
        order = [{"a", "b"}, "c", "d"]
    study = ferrotune_study(rows(UNIT, objective, 400, seed=11))
    _assert_order(_quiet(make(), study), order)


def _spread(values: list[float]) -> tuple[float, float]:
    return statistics.mean(values), statistics.pstdev(values)


def _mixed(p: dict[str, Any]) -> float:
    return (
        6 * encoded(p, "x") ** 2
        + 3 * encoded(p, "lr")
        + 2 * (p["act"] == "gelu")
        + encoded(p, "layers")
        + 0.2 * encoded(p, "units")
    )


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [
        (FanovaImportanceEvaluator, "FanovaImportanceEvaluator"),
        (MeanDecreaseImpurityImportanceEvaluator, "MeanDecreaseImpurityImportanceEvaluator"),
    ],
    ids=["fanova", "mdi"],
)
def test_values_agree_with_optuna_within_its_seed_spread(ours: Any, theirs: str) -> None:
    """Optuna's evaluator over 4 seeds gives a mean and a spread per parameter; the mean
    over 4 seeds of ferrotune's evaluator is within 3 spreads (plus 0.005) of it."""
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("sklearn")
    data = rows(MIXED, _mixed, 150, seed=12)
    mine, other = ferrotune_study(data), optuna_study(data)
    seeds = range(4)
    their = [getattr(optuna.importance, theirs)(n_trees=16, seed=s) for s in seeds]
    their_runs = [_quiet(e, other) for e in their]
    my_runs = [_quiet(ours(n_trees=16, seed=s), mine) for s in seeds]
    for name in MIXED:
        t_mean, t_std = _spread([r[name] for r in their_runs])
        m_mean, _ = _spread([r[name] for r in my_runs])
        assert abs(m_mean - t_mean) <= 3 * t_std + 0.005, (name, m_mean, t_mean, t_std)


@pytest.mark.parametrize(
    "evaluator", [FanovaImportanceEvaluator, MeanDecreaseImpurityImportanceEvaluator]
)
def test_errors_subsets_and_seeds(evaluator: Any) -> None:
    data = rows(UNIT, STRUCTURES["one dominant"][0], 60, seed=13)
    study = ferrotune_study(data)
    a = evaluator(n_trees=8, seed=3).evaluate(study)
    assert a == evaluator(n_trees=8, seed=3).evaluate(study)
    assert list(a) == sorted(a, key=a.__getitem__, reverse=True)
    assert all(v >= 0 for v in a.values())
    assert set(evaluator(n_trees=8).evaluate(study)) == set(UNIT)
    sub = evaluator(n_trees=8, seed=3).evaluate(study, params=["b", "a"])
    assert set(sub) == {"a", "b"} and sub["a"] > sub["b"]
    assert evaluator().evaluate(study, params=[]) == {}
    normalized = get_param_importances(study, evaluator=evaluator(n_trees=8, seed=1))
    assert sum(normalized.values()) == pytest.approx(1.0)
    with pytest.raises(InvalidArgumentError, match="all specified parameters"):
        evaluator().evaluate(study, params=["a", "nope"])
    with pytest.raises(TypeError, match="as a list"):
        evaluator().evaluate(study, params="a")
    for bad in ({"n_trees": 0}, {"max_depth": 1.5}, {"seed": -1}):
        with pytest.raises(InvalidArgumentError):
            evaluator(**bad)
    two = ferrotune_study([(p, d, [v[0], -v[0]]) for p, d, v in data], ["minimize"] * 2)
    with pytest.raises(InvalidArgumentError, match="multi-objective"):
        evaluator().evaluate(two)
    by_target = evaluator(n_trees=8, seed=3).evaluate(two, target=lambda t: t.values[1])
    assert next(iter(by_target)) == "a"
    assert evaluator().evaluate(ferrotune.create_study()) == {}
    one = ferrotune_study(data[:1])
    assert evaluator().evaluate(one) == dict.fromkeys(UNIT, 0.0)


def test_fanova_special_cases() -> None:
    fixed = {"x": FloatDistribution(0.0, 1.0), "k": IntDistribution(3, 3)}
    study = ferrotune_study(rows(fixed, lambda p: p["x"], 30, seed=14))
    result = FanovaImportanceEvaluator(n_trees=4, seed=0).evaluate(study)
    assert result["k"] == 0.0 and result["x"] > 0.9
    flat = ferrotune_study(rows(UNIT, lambda p: 1.0, 30, seed=15))
    with pytest.raises(RuntimeError, match="zero total variance"):
        FanovaImportanceEvaluator(n_trees=4, seed=0).evaluate(flat)
    dynamic = rows({"x": FloatDistribution(0.0, 1.0)}, lambda p: p["x"], 10, seed=16)
    dynamic += rows({"x": FloatDistribution(0.0, 2.0)}, lambda p: p["x"], 10, seed=17)
    with pytest.raises(InvalidArgumentError, match="dynamic search spaces"):
        FanovaImportanceEvaluator().evaluate(ferrotune_study(dynamic), params=["x"])
    # Without params, the parameter is left out (it has two distributions).
    assert FanovaImportanceEvaluator().evaluate(ferrotune_study(dynamic)) == {}


def test_core_errors_are_ferrotune_exceptions() -> None:
    import numpy as np

    from ferrotune import _core

    dist = _core.Dist.float("", 0.0, 1.0, None, False)
    outside = [(np.array([0.5, 2.0]), dist)]
    with pytest.raises(InvalidArgumentError, match="not in its distribution"):
        _core.fanova_importances(outside, np.array([1.0, 2.0]))
    with pytest.raises(InvalidArgumentError, match="not finite"):
        _core.mdi_importances([(np.array([0.5, 0.6]), dist)], np.array([1.0, np.nan]))
    column = (np.array([0.5, 0.6]), np.array([1, 1], dtype=np.uint32), [dist])
    with pytest.raises(InvalidArgumentError, match="target_quantile"):
        _core.ped_anova_importances(np.ones((2, 1)), [column], 0.5, 0.5, True)

"""PED-ANOVA: Optuna's values on the same trials, the true ranking, conditional
parameters, several objectives and the errors."""

from __future__ import annotations

import math
import warnings
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.importance import PedAnovaImportanceEvaluator, get_param_importances
from tests.importance._studies import MIXED, encoded, ferrotune_study, optuna_study, rows


def _mixed_objective(p: dict[str, Any]) -> float:
    return (
        10.0 * (encoded(p, "lr") - 0.3) ** 2
        + 1.0 * encoded(p, "x") ** 2
        + 0.5 * (p["act"] == "gelu")
        + 0.2 * encoded(p, "units")
        + 0.05 * encoded(p, "drop")
    )


def _conditional_rows(n: int, seed: int) -> list[Any]:
    """A classifier choice with parameters of its own: 'c' only for svm, 'depth' for
    trees (with a distribution that changes halfway, a second regime)."""
    import numpy as np

    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        model = ["svm", "tree"][int(rng.integers(2))]
        params: dict[str, Any] = {"model": model}
        dists: dict[str, Any] = {"model": CategoricalDistribution(["svm", "tree"])}
        if model == "svm":
            params["c"] = float(math.exp(rng.uniform(math.log(1e-3), math.log(1e3))))
            dists["c"] = FloatDistribution(1e-3, 1e3, log=True)
            value = abs(math.log10(params["c"]))
        else:
            high = 10 if i < n // 2 else 20
            params["depth"] = int(rng.integers(1, high + 1))
            dists["depth"] = IntDistribution(1, high)
            value = 1.0 + 0.1 * params["depth"]
        out.append((params, dists, [value + 0.01 * rng.normal()]))
    return out


def _optuna_evaluate(study: Any, evaluator_kwargs: dict[str, Any], **kwargs: Any) -> Any:
    import optuna

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        evaluator = optuna.importance.PedAnovaImportanceEvaluator(**evaluator_kwargs)
        return evaluator.evaluate(study, **kwargs)


def _ours(study: Any, evaluator_kwargs: dict[str, Any], **kwargs: Any) -> dict[str, float]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return PedAnovaImportanceEvaluator(**evaluator_kwargs).evaluate(study, **kwargs)


def _assert_same(ours: dict[str, float], theirs: dict[str, float]) -> None:
    assert set(ours) == set(theirs)
    for name, value in theirs.items():
        assert ours[name] == pytest.approx(value, rel=1e-7, abs=1e-12), name


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"target_quantile": 0.2, "region_quantile": 0.6},
        {"evaluate_on_local": False},
    ],
)
def test_values_equal_optunas_on_a_mixed_space(kwargs: dict[str, Any]) -> None:
    pytest.importorskip("optuna")
    data = rows(MIXED, _mixed_objective, 200, seed=1)
    ours = _ours(ferrotune_study(data), kwargs)
    _assert_same(ours, _optuna_evaluate(optuna_study(data), kwargs))
    if not kwargs:
        assert next(iter(ours)) == "lr"


def test_values_equal_optunas_with_conditional_parameters() -> None:
    pytest.importorskip("optuna")
    data = _conditional_rows(160, seed=2)
    ours = _ours(ferrotune_study(data), {})
    _assert_same(ours, _optuna_evaluate(optuna_study(data), {}))
    assert set(ours) == {"model", "c", "depth"}
    assert ours["model"] > ours["depth"]


def test_several_objectives_with_and_without_target_equal_optunas() -> None:
    pytest.importorskip("optuna")

    def two(p: dict[str, Any]) -> list[float]:
        return [encoded(p, "x"), 1.0 - encoded(p, "x") + encoded(p, "layers")]

    data = rows(MIXED, two, 150, seed=3)
    ours_study = ferrotune_study(data, ["minimize", "maximize"])
    theirs_study = optuna_study(data, ["minimize", "maximize"])
    _assert_same(_ours(ours_study, {}), _optuna_evaluate(theirs_study, {}))
    second = {"target": lambda t: -t.values[1]}
    by_second = _ours(ours_study, {}, **second)
    _assert_same(by_second, _optuna_evaluate(theirs_study, {}, **second))
    assert next(iter(by_second)) in {"x", "layers"}


def test_maximised_objective_ranks_like_its_negation() -> None:
    data = rows(MIXED, _mixed_objective, 120, seed=4)
    flipped = [(p, d, [-v[0]]) for p, d, v in data]
    low = _ours(ferrotune_study(data), {})
    high = _ours(ferrotune_study(flipped, ["maximize"]), {})
    assert low == pytest.approx(high)


def test_default_evaluator_of_get_param_importances_is_ped_anova() -> None:
    data = rows(MIXED, _mixed_objective, 150, seed=5)
    study = ferrotune_study(data)
    result = get_param_importances(study)
    assert result == pytest.approx(
        get_param_importances(study, evaluator=PedAnovaImportanceEvaluator())
    )
    assert sum(result.values()) == pytest.approx(1.0)
    assert list(result) == sorted(result, key=result.__getitem__, reverse=True)
    subset = get_param_importances(study, params=["x", "act"], normalize=False)
    assert set(subset) == {"x", "act"}
    raw = get_param_importances(study, normalize=False)
    assert subset["x"] == pytest.approx(raw["x"])


def test_errors_and_warnings() -> None:
    study = ferrotune_study(rows(MIXED, _mixed_objective, 30, seed=6))
    with pytest.raises(InvalidArgumentError, match="Missing parameters: \\['nope'\\]"):
        PedAnovaImportanceEvaluator().evaluate(study, params=["x", "nope"])
    with pytest.raises(TypeError, match="as a list"):
        PedAnovaImportanceEvaluator().evaluate(study, params="x")  # type: ignore[arg-type]
    for bad in ({"target_quantile": 0.0}, {"target_quantile": 0.5, "region_quantile": 0.5}):
        with pytest.raises(InvalidArgumentError, match="target_quantile"):
            PedAnovaImportanceEvaluator(**bad)
    with pytest.warns(UserWarning, match="region_quantile"):
        PedAnovaImportanceEvaluator(region_quantile=0.5, evaluate_on_local=False)
    with pytest.warns(UserWarning, match="low `target` values"):
        PedAnovaImportanceEvaluator().evaluate(study, target=lambda t: t.values[0])
    one = ferrotune_study(rows(MIXED, _mixed_objective, 1, seed=7))
    with pytest.warns(UserWarning, match="too small"):
        assert PedAnovaImportanceEvaluator().evaluate(one) == dict.fromkeys(sorted(MIXED), 0.0)
    empty = ferrotune.create_study()
    with pytest.warns(UserWarning, match="too small"):
        assert PedAnovaImportanceEvaluator().evaluate(empty) == {}

"""GPSampler's defaults ``output_transform="auto"``, ``input_warping="auto"``: the power
transform and the input warp where the space is numeric, below 10 parameters, with one
objective and no black-box constraint; the plain model elsewhere. Each case is checked
against the explicit settings: the same seed gives the same trials as the settings the rule
picks."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import GPSampler

_ON = {"input_warping": True, "output_transform": "power"}
_OFF = {"input_warping": False, "output_transform": None}
N_TRIALS = 16


def _numeric(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 10.0)
    y = trial.suggest_float("y", 1e-3, 1.0, log=True)
    n = trial.suggest_int("n", 1, 9)
    return (x - 2.0) ** 2 + (math.log10(y) + 1.0) ** 2 + 0.1 * (n - 4) ** 2 + 0.5


def _categorical(trial: ferrotune.Trial) -> float:
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    return _numeric(trial) + {"a": 1.0, "b": 0.0, "c": 2.0}[c]


def _constrained(trial: ferrotune.Trial) -> float:
    value = _numeric(trial)
    trial.set_constraint("c", 1.0 - trial.params["x"])
    return value


def _ten_floats(trial: ferrotune.Trial) -> float:
    return sum((trial.suggest_float(f"x{i}", -1.0, 1.0) - 0.1 * i) ** 2 for i in range(10))


def _run(objective: Callable[[ferrotune.Trial], float], **kwargs: Any) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=GPSampler(seed=3, n_startup_trials=6, **kwargs))
    study.optimize(objective, n_trials=N_TRIALS)
    return [t.params for t in study.trials]


@pytest.mark.parametrize(
    ("objective", "expected"),
    [
        (_numeric, _ON),
        (_categorical, _OFF),
        (_constrained, _OFF),
        (_ten_floats, _OFF),
    ],
    ids=["numeric", "categorical", "constrained", "ten-parameters"],
)
def test_auto_follows_the_space(
    objective: Callable[[ferrotune.Trial], float], expected: dict[str, Any]
) -> None:
    auto = _run(objective)
    assert auto == _run(objective, **expected)
    # The other setting searches differently, so the comparison can fail.
    other = _OFF if expected is _ON else _ON
    assert auto != _run(objective, **other)


def test_auto_is_off_with_several_objectives_and_with_the_trust_region() -> None:
    def two(trial: ferrotune.Trial) -> tuple[float, float]:
        v = _numeric(trial)
        return v, (trial.params["x"] + 3.0) ** 2

    runs = []
    for kwargs in ({}, _OFF, {"input_warping": True}):
        study = ferrotune.create_study(
            sampler=GPSampler(seed=1, n_startup_trials=6, **kwargs),
            directions=["minimize", "minimize"],
        )
        study.optimize(two, n_trials=N_TRIALS)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1] != runs[2]
    region = _run(_numeric, trust_region=True)
    assert region == _run(_numeric, trust_region=True, **_OFF)
    assert region != _run(_numeric, trust_region=True, **_ON)


def test_the_fitted_model_carries_the_warp_only_where_auto_applies() -> None:
    # theta: one lengthscale per parameter, signal, noise, then (a, b) per warped one.
    for objective, n_theta in ((_numeric, 3 + 2 + 6), (_categorical, 4 + 2)):
        sampler = GPSampler(seed=0, n_startup_trials=6)
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(objective, n_trials=10)
        fit = sampler._rust.get_fits()[0]
        assert fit is not None and len(fit[0]) == n_theta


@pytest.mark.parametrize("kwargs", [{"output_transform": "Auto"}, {"input_warping": "on"}])
def test_bad_values_name_the_argument(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError, match=next(iter(kwargs))):
        GPSampler(**kwargs)

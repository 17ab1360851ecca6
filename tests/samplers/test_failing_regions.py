"""Samplers on an objective that fails in part of its space.

A model that leaves FAIL trials out sees the failing region as unexplored: Optuna's TPE and
GP samplers (and ferrotune's, before) kept proposing it, the GP the very same failing point at
every ask. Here every model-based sampler must keep its failures low once it has seen a few,
never propose a failed point again, and still find the optimum of the region that works.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

import ferrotune
from ferrotune import samplers

MODEL_BASED: dict[str, Callable[[int], Any]] = {
    "tpe": lambda s: samplers.TPESampler(seed=s),
    "tpe-univariate": lambda s: samplers.TPESampler(seed=s, multivariate=False),
    "gp": lambda s: samplers.GPSampler(seed=s),
    "trust": lambda s: samplers.TrustRegionSampler(seed=s),
    "auto": lambda s: samplers.AutoSampler(seed=s),
    "cmaes": lambda s: samplers.CmaEsSampler(seed=s),
}


def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    y = trial.suggest_float("y", -5.0, 5.0)
    if x > 3.0:
        return float("nan")  # recorded as FAIL
    if x < -4.0:
        raise RuntimeError("fails below -4")
    return x * x + 0.5 * y * y


def _early_objective(trial: ferrotune.Trial) -> float:
    """Fails before it suggests every parameter: the trial records only some of them."""
    x = trial.suggest_float("x", -5.0, 5.0)
    if x < -3.0:
        raise RuntimeError("fails where x < -3, before y and z")
    y = trial.suggest_int("y", 0, 10)
    if y > 8:
        raise RuntimeError("fails where y > 8, before z")
    z = trial.suggest_categorical("z", ["a", "b", None])
    return x * x + 0.01 * (y - 4) ** 2 + (0.0 if z is None else 1.0)


@pytest.mark.parametrize("objective", [_objective, _early_objective], ids=["full", "early"])
@pytest.mark.parametrize("name", sorted(MODEL_BASED))
def test_failing_region_is_left_and_the_optimum_found(
    name: str, objective: Callable[[ferrotune.Trial], float]
) -> None:
    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    for seed in range(4):
        study = ferrotune.create_study(sampler=MODEL_BASED[name](seed))
        study.optimize(objective, n_trials=80, catch=(RuntimeError,))
        trials = study.trials
        assert len(trials) == 80
        failed = [t for t in trials if t.state == ferrotune.trial.TrialState.FAIL]
        # Uniform sampling fails 30% (early: 38%) of the time: 6 (7.6) of 20. A sampler stuck
        # on the failing region failed 20 of 20.
        late = [t for t in trials[-20:] if t.state == ferrotune.trial.TrialState.FAIL]
        assert len(late) <= 8, (name, seed, [t.params["x"] for t in late])
        points = [tuple(sorted(t.params.items())) for t in failed]
        if objective is _objective:
            # (An early failure records only some parameters: the same recorded values can
            # come from different proposals, as the box's corner x = -5 with other y and z.)
            assert len(points) == len(set(points)), (name, seed, "a failed point proposed again")
        bound = 0.1 if objective is _objective else 0.25
        assert study.best_value < bound, (name, seed, study.best_value)

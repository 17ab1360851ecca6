"""Studies with a known structure, built identically in ferrotune and (for comparison)
in Optuna from the same rows."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

import ferrotune
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

Row = tuple[dict[str, Any], dict[str, BaseDistribution], list[float]]

#: A mixed space: a plain float, a log float, a stepped float, an int, a log int and a
#: categorical.
MIXED = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "drop": FloatDistribution(0.0, 0.5, step=0.05),
    "layers": IntDistribution(1, 8),
    "units": IntDistribution(8, 512, log=True),
    "act": CategoricalDistribution(["relu", "tanh", "gelu"]),
}


def draw(dist: BaseDistribution, rng: np.random.Generator) -> Any:
    """A uniform value of ``dist`` (on its log scale when it has one)."""
    if isinstance(dist, CategoricalDistribution):
        return dist.choices[int(rng.integers(len(dist.choices)))]
    if isinstance(dist, IntDistribution):
        if dist.log:
            v = math.exp(rng.uniform(math.log(dist.low - 0.5), math.log(dist.high + 0.5)))
            return int(min(max(round(v), dist.low), dist.high))
        return int(rng.integers(dist.low, dist.high + 1))
    assert isinstance(dist, FloatDistribution)
    if dist.log:
        return float(math.exp(rng.uniform(math.log(dist.low), math.log(dist.high))))
    if dist.step is not None:
        k = int(rng.integers(round((dist.high - dist.low) / dist.step) + 1))
        return float(dist.low + k * dist.step)
    return float(rng.uniform(dist.low, dist.high))


def rows(
    space: dict[str, BaseDistribution],
    objective: Callable[[dict[str, Any]], float | Sequence[float]],
    n: int,
    seed: int,
) -> list[Row]:
    """``n`` uniform configurations of ``space`` with their objective values."""
    rng = np.random.default_rng(seed)
    out: list[Row] = []
    for _ in range(n):
        params = {name: draw(d, rng) for name, d in space.items()}
        value = objective(params)
        values = [float(v) for v in value] if isinstance(value, Sequence) else [float(value)]
        out.append((params, dict(space), values))
    return out


def ferrotune_study(data: Sequence[Row], directions: Sequence[str] = ("minimize",)) -> Any:
    """A ferrotune study holding ``data`` as COMPLETE trials."""
    study = ferrotune.create_study(directions=list(directions))
    study.add_trials(
        ferrotune.trial.create_trial(params=p, distributions=d, values=v) for p, d, v in data
    )
    return study


def optuna_study(data: Sequence[Row], directions: Sequence[str] = ("minimize",)) -> Any:
    """The same trials in an Optuna study."""
    import optuna

    def convert(d: BaseDistribution) -> Any:
        if isinstance(d, CategoricalDistribution):
            return optuna.distributions.CategoricalDistribution(list(d.choices))
        if isinstance(d, IntDistribution):
            return optuna.distributions.IntDistribution(d.low, d.high, log=d.log, step=d.step)
        assert isinstance(d, FloatDistribution)
        return optuna.distributions.FloatDistribution(d.low, d.high, log=d.log, step=d.step)

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(directions=list(directions))
    study.add_trials(
        optuna.trial.create_trial(
            params=p, distributions={k: convert(x) for k, x in d.items()}, values=v
        )
        for p, d, v in data
    )
    return study


def encoded(params: dict[str, Any], name: str) -> float:
    """A parameter's value on [0, 1] of its (log) scale, for synthetic objectives."""
    d = MIXED[name]
    v = params[name]
    if isinstance(d, CategoricalDistribution):
        return d.choices.index(v) / (len(d.choices) - 1)
    assert isinstance(d, (FloatDistribution, IntDistribution))
    lo, hi = (math.log(d.low), math.log(d.high)) if d.log else (d.low, d.high)
    return ((math.log(v) if d.log else v) - lo) / (hi - lo)

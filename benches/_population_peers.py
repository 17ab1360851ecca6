"""Runs of the population-method peers for benches/regret.py: the ``cmaes`` package (CMA-ES
with Optuna's start: mean at the centre of the normalised box, sigma a sixth of its range) and
Nevergrad's optimizers (DE, PSO, CMA, ...) through their ask/tell interfaces.

Both see the problem's numeric parameters in ``[0, 1]`` (log-scaled ones in log space); ints and
stepped floats are rounded onto their grid when decoded.  The ``cmaes`` package has no
categorical parameters here: each is one coordinate in ``[0, 1]`` split into equal intervals,
one per choice.  Nevergrad gets ``ng.p.Choice`` for categoricals and integer casting for ints.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

# A run takes (problem, budget, seed) and returns the objective values (None: infeasible) and
# the perf_counter time at which each trial was done (as benches/regret.py's Run).
Run = Callable[[Any, int, int], tuple[list[float | None], list[float]]]
Value = Callable[[Any, dict[str, Any]], "float | None"]

NEVERGRAD_OPTIMIZERS = {"de": "DE", "pso": "PSO", "cmaes": "CMA", "ngopt": "NGOpt"}


def _decoder(params: Mapping[str, Any]) -> Callable[[np.ndarray], dict[str, Any]]:
    """Maps a point of ``[0, 1]^d`` (one coordinate per parameter) to the problem's params."""
    items = list(params.items())

    def decode(u: np.ndarray) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for (name, p), ui in zip(items, np.clip(u, 0.0, 1.0), strict=True):
            if p.kind == "categorical":
                out[name] = p.choices[min(len(p.choices) - 1, int(ui * len(p.choices)))]
                continue
            lo, hi = (math.log(p.low), math.log(p.high)) if p.log else (p.low, p.high)
            v = lo + float(ui) * (hi - lo)
            v = min(p.high, max(p.low, math.exp(v) if p.log else v))  # exp(log(low)) < low
            if p.kind == "int" or p.step is not None:
                step = 1 if p.step is None else p.step
                k = round((v - p.low) / step)
                k = max(0, min(round((p.high - p.low) / step), k))
                v = p.low + k * step
                v = round(v) if p.kind == "int" else v
            out[name] = v
        return out

    return decode


def cmaes_run(sampler: str, value: Value, objective: Value) -> Run | None:
    """The ``cmaes`` package's CMA (``sampler == "cmaes"``), with Optuna's defaults."""
    if sampler != "cmaes":
        return None
    from cmaes import CMA

    def run(problem: Any, budget: int, seed: int) -> tuple[list[float | None], list[float]]:
        decode = _decoder(problem.params)
        d = len(problem.params)
        bounds = np.tile([0.0, 1.0], (d, 1))
        opt = CMA(mean=np.full(d, 0.5), sigma=1.0 / 6.0, bounds=bounds, seed=seed)
        values: list[float | None] = []
        stamps: list[float] = []
        while len(values) < budget:
            told = []
            for _ in range(opt.population_size):
                x = opt.ask()
                params = decode(x)
                told.append((x, objective(problem, params)))
                values.append(value(problem, params))
                stamps.append(time.perf_counter())
            opt.tell(told)
        return values[:budget], stamps[:budget]

    return run


def nevergrad_run(sampler: str, value: Value, objective: Value) -> Run | None:
    """A Nevergrad optimizer by name (``de``, ``pso``, ``cmaes``, ``ngopt``) with ask/tell."""
    name = NEVERGRAD_OPTIMIZERS.get(sampler)
    if name is None:
        return None
    import nevergrad as ng

    def space(params: Mapping[str, Any]) -> Any:
        items: dict[str, Any] = {}
        for key, p in params.items():
            if p.kind == "categorical":
                items[key] = ng.p.Choice(list(p.choices))
            elif p.log:
                items[key] = ng.p.Log(lower=p.low, upper=p.high)
            else:
                items[key] = ng.p.Scalar(lower=p.low, upper=p.high)
            if p.kind == "int":
                items[key] = items[key].set_integer_casting()
        return ng.p.Dict(**items)

    def run(problem: Any, budget: int, seed: int) -> tuple[list[float | None], list[float]]:
        param = space(problem.params)
        param.random_state = np.random.RandomState(seed)
        opt = ng.optimizers.registry[name](parametrization=param, budget=budget, num_workers=1)
        values: list[float | None] = []
        stamps: list[float] = []
        for _ in range(budget):
            cand = opt.ask()
            params = _on_grid(problem.params, dict(cand.value))
            opt.tell(cand, objective(problem, params))
            values.append(value(problem, params))
            stamps.append(time.perf_counter())
        return values, stamps

    return run


def _on_grid(params: Mapping[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    """Clips to the bounds and rounds ints and stepped floats onto their grids."""
    out = dict(raw)
    for key, p in params.items():
        if p.kind == "categorical":
            continue
        v = min(p.high, max(p.low, float(raw[key])))
        if p.kind == "int" or p.step is not None:
            step = 1 if p.step is None else p.step
            v = p.low + round((v - p.low) / step) * step
            v = min(p.high, max(p.low, v))
            v = round(v) if p.kind == "int" else v
        out[key] = v
    return out

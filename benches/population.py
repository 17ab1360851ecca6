"""Population methods side by side: ferrotune's DESampler and PSOSampler against random
search and Nevergrad's DE and PSO, best value after a fixed budget, median over seeds.

Problems (10-D by default, minimum 0): Rosenbrock on [-5, 10], Ackley on
[-32.768, 32.768], Levy on [-10, 10] (from ``ferrotune.benchmarks``) and Rastrigin on
[-5.12, 5.12]. Every run is sequential (one ask, one tell). Nevergrad is optional (a
missing library is reported and skipped); install it in a virtualenv of its own, for
example::

    python3 -m venv /tmp/ref-de && /tmp/ref-de/bin/pip install nevergrad numpy
    PYTHONPATH=python /tmp/ref-de/bin/python benches/population.py --seeds 10

(``PYTHONPATH=python`` uses this checkout's built extension, after ``maturin develop``.)
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

FloatArray = np.ndarray[Any, np.dtype[np.float64]]
Objective = Callable[[FloatArray], float]


def _rastrigin(x: FloatArray) -> float:
    return float(10.0 * len(x) + np.sum(x * x - 10.0 * np.cos(2.0 * math.pi * x)))


def problems(dim: int) -> dict[str, tuple[Objective, float, float]]:
    """name -> (function of a vector, lower bound, upper bound)."""
    from ferrotune.benchmarks import ackley, levy, rosenbrock

    out: dict[str, tuple[Objective, float, float]] = {}
    for make in (rosenbrock, ackley, levy):
        p = make(dim)
        names = list(p.params)
        lo, hi = p.params[names[0]].low, p.params[names[0]].high

        def f(x: FloatArray, p: Any = p, names: list[str] = names) -> float:
            return float(p(dict(zip(names, x.tolist(), strict=True))))

        out[p.name] = (f, lo, hi)
    out["rastrigin"] = (_rastrigin, -5.12, 5.12)
    return out


def ferrotune_run(make: Callable[[int], Any]) -> Callable[..., float]:
    def run(f: Objective, lo: float, hi: float, dim: int, budget: int, seed: int) -> float:
        import ferrotune

        study = ferrotune.create_study(sampler=make(seed))
        best = math.inf
        for _ in range(budget):
            trial = study.ask()
            x = np.array([trial.suggest_float(f"x{i}", lo, hi) for i in range(dim)])
            y = f(x)
            study.tell(trial, y)
            best = min(best, y)
        return best

    return run


def nevergrad_run(name: str) -> Callable[..., float]:
    def run(f: Objective, lo: float, hi: float, dim: int, budget: int, seed: int) -> float:
        import nevergrad as ng

        param = ng.p.Array(shape=(dim,)).set_bounds(lo, hi)
        param.random_state = np.random.RandomState(seed)
        opt = ng.optimizers.registry[name](parametrization=param, budget=budget, num_workers=1)
        best = math.inf
        for _ in range(budget):
            cand = opt.ask()
            y = f(np.asarray(cand.value, dtype=float))
            opt.tell(cand, y)
            best = min(best, y)
        return best

    return run


def runs() -> dict[str, Callable[..., float]]:
    out: dict[str, Callable[..., float]] = {}
    try:
        from ferrotune.samplers import DESampler, PSOSampler, RandomSampler

        out["ferrotune:random"] = ferrotune_run(lambda s: RandomSampler(seed=s))
        out["ferrotune:de"] = ferrotune_run(lambda s: DESampler(seed=s))
        out["ferrotune:de-rand1bin"] = ferrotune_run(
            lambda s: DESampler(seed=s, strategy="rand1bin")
        )
        out["ferrotune:pso"] = ferrotune_run(lambda s: PSOSampler(seed=s))
        out["ferrotune:pso-ring"] = ferrotune_run(lambda s: PSOSampler(seed=s, topology="ring"))
    except ImportError as exc:
        print(f"ferrotune unavailable: {exc}", file=sys.stderr)
    try:
        import nevergrad  # noqa: F401

        for name in ("DE", "TwoPointsDE", "PSO"):
            out[f"nevergrad:{name}"] = nevergrad_run(name)
    except ImportError as exc:
        print(f"nevergrad unavailable: {exc}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="number of seeds (10)")
    parser.add_argument("--budget", type=int, default=1000, help="evaluations per run (1000)")
    parser.add_argument("--dim", type=int, default=10, help="dimension (10)")
    parser.add_argument("--runs", help="comma-separated subset of the run names")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import ferrotune.logging

    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    todo = runs()
    if args.runs:
        todo = {k: v for k, v in todo.items() if k in args.runs.split(",")}
    probs = problems(args.dim)
    print(f"median best value over {args.seeds} seeds, {args.budget} evaluations, {args.dim}-D")
    print("| run | " + " | ".join(probs) + " | seconds per run |")
    print("|---|" + "---:|" * (len(probs) + 1))
    for name, run in todo.items():
        cells = []
        t0 = time.perf_counter()
        for f, lo, hi in probs.values():
            vals = [run(f, lo, hi, args.dim, args.budget, s) for s in range(args.seeds)]
            cells.append(f"{statistics.median(vals):.3g}")
        per_run = (time.perf_counter() - t0) / (len(probs) * args.seeds)
        print(f"| {name} | " + " | ".join(cells) + f" | {per_run:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

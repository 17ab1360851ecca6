"""Samplers on objectives that fail in part of their space, against Optuna's.

Real objectives fail for some configurations: a model too large for the memory, a learning
rate that diverges. A sampler that leaves FAIL trials out of its model sees the failing region
as unexplored and keeps proposing it. Each problem here is a function with a known optimum
that raises an exception in one region and returns NaN in another (both are FAIL trials in
ferrotune and Optuna alike); the table gives the median [25%, 75%] regret after ``--trials``
trials over ``--seeds`` seeds, and the share of FAIL trials in the second half of the run
(uniform sampling: the failing share of the space).

Problems:

- ``sphere3``: ``x0^2 + x1^2 + x2^2`` on ``[-5, 5]^3``, raising where ``x0 < -4`` and NaN
  where ``x0 > 3`` (30% of the box fails);
- ``branin``: Branin on ``[-5, 10] x [0, 15]`` (optimum 0.397887), raising where
  ``x0 + x1 > 16`` ("too large") and NaN where ``x1 < 1`` (one of its three minima,
  ``(9.42, 2.47)``, lies next to the failing corner).

    python benches/failing_regions.py [--methods ft-tpe,ft-gp,optuna-tpe,optuna-gp]
        [--problems sphere3,branin] [--seeds 10] [--trials 60]
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from _common import fmt, load, markdown_table, parse_list, print_versions, quiet

BRANIN_OPT = 0.397887


def _sphere3(x: Sequence[float]) -> float:
    if x[0] < -4.0:
        raise RuntimeError("fails where x0 < -4")
    if x[0] > 3.0:
        return math.nan
    return float(sum(v * v for v in x))


def _branin(x: Sequence[float]) -> float:
    a, b = x
    if a + b > 16.0:
        raise RuntimeError("fails where x0 + x1 > 16")
    if b < 1.0:
        return math.nan
    r = b - 5.1 / (4 * math.pi**2) * a * a + 5 / math.pi * a - 6
    return r * r + 10 * (1 - 1 / (8 * math.pi)) * math.cos(a) + 10 - BRANIN_OPT


#: name -> (bounds per parameter, objective returning the regret).
PROBLEMS: dict[str, tuple[list[tuple[float, float]], Callable[[Sequence[float]], float]]] = {
    "sphere3": ([(-5.0, 5.0)] * 3, _sphere3),
    "branin": ([(-5.0, 10.0), (0.0, 15.0)], _branin),
}

#: method -> (library, sampler class name, keyword arguments).
METHODS: dict[str, tuple[str, str, dict[str, Any]]] = {
    "random": ("ferrotune", "RandomSampler", {}),
    "ft-tpe": ("ferrotune", "TPESampler", {}),
    "ft-gp": ("ferrotune", "GPSampler", {}),
    "ft-trust": ("ferrotune", "TrustRegionSampler", {}),
    "ft-auto": ("ferrotune", "AutoSampler", {}),
    "optuna-tpe": ("optuna", "TPESampler", {}),
    "optuna-gp": ("optuna", "GPSampler", {}),
}


def run(method: str, problem: str, seed: int, trials: int) -> tuple[float, float]:
    """The regret after ``trials`` trials and the share of FAIL trials in the second half."""
    library, cls, kwargs = METHODS[method]
    lib = load(library)
    if lib is None:
        raise RuntimeError(f"{library} is not installed")
    bounds, fn = PROBLEMS[problem]
    sampler = getattr(lib.samplers, cls)(seed=seed, **kwargs)
    study = lib.create_study(sampler=sampler)

    def objective(trial: Any) -> float:
        return fn([trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)])

    study.optimize(objective, n_trials=trials, catch=(RuntimeError,))
    states = [t.state.name for t in study.trials]
    late = states[trials // 2 :]
    done = [t.value for t in study.trials if t.state.name == "COMPLETE"]
    return (min(done) if done else math.inf), late.count("FAIL") / len(late)


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--methods", help=f"comma-separated from {','.join(METHODS)} (default all)")
    ap.add_argument("--problems", help=f"comma-separated from {','.join(PROBLEMS)} (default all)")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=60)
    args = ap.parse_args(argv)
    quiet()
    methods = parse_list(args.methods) or list(METHODS)
    problems = parse_list(args.problems) or list(PROBLEMS)
    for bad in sorted(set(methods) - set(METHODS)) + sorted(set(problems) - set(PROBLEMS)):
        ap.error(f"unknown method or problem {bad!r}")
    for problem in problems:
        rows = []
        for method in methods:
            if load(METHODS[method][0]) is None:
                print(f"# skipping {method}: {METHODS[method][0]} is not installed")
                continue
            out = np.array([run(method, problem, s, args.trials) for s in range(args.seeds)])
            q = np.quantile(out[:, 0], [0.25, 0.5, 0.75])
            cell = f"{fmt(q[1])} [{fmt(q[0])}, {fmt(q[2])}]"
            rows.append([method, cell, f"{np.mean(out[:, 1]):.0%}", f"{np.max(out[:, 1]):.0%}"])
        print(f"\n### {problem}, {args.trials} trials, {args.seeds} seeds\n")
        header = ["method", "regret", "FAIL share, 2nd half (mean)", "(worst seed)"]
        print(markdown_table(header, rows))
    print_versions(["ferrotune", "optuna"])


if __name__ == "__main__":
    main()

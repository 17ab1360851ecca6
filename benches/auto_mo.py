"""AutoSampler's rule for several objectives, measured: the hypervolume gap of ferrotune's
GP (ParEGO), TPE (MOTPE), NSGA-II and AutoSampler on ZDT1, ZDT2 (10 variables) and DTLZ2
(3 objectives, 6 variables) from ``ferrotune.benchmarks``.

Each run asks ``--budget`` trials (the GP at most 200: its cost per trial grows) and records
the gap (the true front's hypervolume minus that of every point evaluated so far; 0 is the
front) at 50, 200 and ``--budget`` trials; the table shows the median over ``--seeds`` seeds.

Run (from benches/):
    PYTHONPATH=../python nice python auto_mo.py --seeds 10 --budget 500
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

import numpy as np

from _common import fmt, markdown_table, quiet

PROBLEMS = {
    "zdt1": ("zdt1", {"n_variables": 10}),
    "zdt2": ("zdt2", {"n_variables": 10}),
    "dtlz2": ("dtlz2", {"n_objectives": 3, "n_variables": 6}),
}
METHODS = {"gp": "GPSampler", "tpe": "TPESampler", "nsgaii": "NSGAIISampler", "auto": "AutoSampler"}
GP_CAP = 200


def run(method: str, problem: Any, budget: int, seed: int) -> list[tuple[float, ...]]:
    import ferrotune

    sampler = getattr(ferrotune.samplers, METHODS[method])(seed=seed)
    study = ferrotune.create_study(directions=problem.directions, sampler=sampler)
    values = []
    for _ in range(budget):
        trial = study.ask(problem.space)
        value = problem(trial.params)
        study.tell(trial, list(value))
        values.append(value)
    return values


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=int, default=500)
    args = ap.parse_args(argv)
    quiet()
    from ferrotune import benchmarks

    at = sorted({50, 200, args.budget})
    rows = []
    for label, (name, kw) in PROBLEMS.items():
        problem = getattr(benchmarks, name)(**kw)
        gaps: dict[str, dict[int, list[float]]] = {m: {b: [] for b in at} for m in METHODS}
        for seed in range(args.seeds):
            for method in METHODS:
                budget = min(args.budget, GP_CAP) if method == "gp" else args.budget
                values = run(method, problem, budget, seed)
                for b in at:
                    if b <= budget:
                        gaps[method][b].append(problem.hypervolume_gap(values[:b]))
            print(f"# {label} seed {seed} done", file=sys.stderr, flush=True)
        for b in at:
            rows.append(
                [label, b]
                + [fmt(float(np.median(gaps[m][b]))) if gaps[m][b] else "-" for m in METHODS]
            )
    print(markdown_table(["problem", "trials", *METHODS], rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The GP's options on problems with black-box constraints: best feasible regret of ferrotune's
``GPSampler`` (plain, with input warping, with the power output transform, with both) and of
Optuna's ``GPSampler``, each given the constraints through ``constraints_func`` (``<= 0``
feasible), on problems whose constrained optimum is published.

Problems (minimised; the constraint values are computed with the objective):

- ``branin_sum``: Branin on ``[-5, 10] x [0, 15]`` subject to ``x0 + x1 >= 13``; the
  constrained minimum 1.0948583 at about (9.68, 3.32) lies on the constraint's line, next to
  a local one at the box's corner (10, 3), value 1.9431 (the problem of
  tests/samplers/test_gp_constraints.py).
- ``gramacy``: the toy problem of Gramacy et al. 2016 ("Modeling an augmented Lagrangian
  for blackbox constrained optimization", Technometrics 58(1)): ``x1 + x2`` on ``[0, 1]^2``
  subject to ``3/2 - x1 - 2 x2 - sin(2 pi (x1^2 - 2 x2)) / 2 <= 0`` and
  ``x1^2 + x2^2 - 3/2 <= 0``; minimum 0.5997881 (published as 0.5998) at (0.1951, 0.4047),
  with local minima elsewhere on the first constraint's boundary.
- ``hartmann6_l1``: Hartmann-6 on ``[0, 1]^6`` subject to ``sum(x) <= 3`` (the constrained
  Hartmann-6 of BoTorch's closed-loop tutorial); minimum -3.32237, the unconstrained one,
  which satisfies the constraint (half of the box does not).

The regret after ``n`` trials is the best value among the feasible trials of the first ``n``
minus the optimum (infinite while none is feasible). Each run's values and feasibility are
cached as ``benches/results/gp_constrained/<library>-<sampler>/<problem>_<seed>.json``;
``--report`` prints the median regrets and one-sided Mann-Whitney U tests of ``--subject``
against each other method (as suite.py).

Run (from benches/, in the peers' environment):
    PYTHONPATH=../python nice python gp_constrained.py --seeds 20 --budget 100
    PYTHONPATH=../python python gp_constrained.py --report --seeds 20 --budgets 50,100 \\
        --subject ferrotune:gp-warp-power
"""

from __future__ import annotations

import argparse
import json
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from _common import fmt, markdown_table, parse_list, quiet, version
from suite import compare

RESULTS = Path(__file__).resolve().parent / "results" / "gp_constrained"

# (objective and constraint values from a point), bounds, optimum.
Problem = tuple[
    Callable[[list[float]], tuple[float, list[float]]], list[tuple[float, float]], float
]


def _branin_sum(x: list[float]) -> tuple[float, list[float]]:
    x0, x1 = x
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    value = (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * math.cos(x0) + 10
    return value, [13.0 - x0 - x1]


def _gramacy(x: list[float]) -> tuple[float, list[float]]:
    x1, x2 = x
    c1 = 1.5 - x1 - 2 * x2 - 0.5 * math.sin(2 * math.pi * (x1**2 - 2 * x2))
    return x1 + x2, [c1, x1**2 + x2**2 - 1.5]


_H6_ALPHA = [1.0, 1.2, 3.0, 3.2]
_H6_A = [
    [10, 3, 17, 3.5, 1.7, 8],
    [0.05, 10, 17, 0.1, 8, 14],
    [3, 3.5, 1.7, 10, 17, 8],
    [17, 8, 0.05, 10, 0.1, 14],
]
_H6_P = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
]


def _hartmann6_l1(x: list[float]) -> tuple[float, list[float]]:
    value = -sum(
        a * math.exp(-sum(aij * (xj - pij) ** 2 for aij, xj, pij in zip(ai, x, pi, strict=True)))
        for a, ai, pi in zip(_H6_ALPHA, _H6_A, _H6_P, strict=True)
    )
    return value, [sum(x) - 3.0]


PROBLEMS: dict[str, Problem] = {
    "branin_sum": (_branin_sum, [(-5.0, 10.0), (0.0, 15.0)], 1.0948583),
    "gramacy": (_gramacy, [(0.0, 1.0), (0.0, 1.0)], 0.5997881),
    "hartmann6_l1": (_hartmann6_l1, [(0.0, 1.0)] * 6, -3.32237),
}
_PLAIN = {"input_warping": False, "output_transform": None}
FERROTUNE = {
    "gp": _PLAIN,
    "gp-warp": {**_PLAIN, "input_warping": True},
    "gp-power": {**_PLAIN, "output_transform": "power"},
    "gp-warp-power": {"input_warping": True, "output_transform": "power"},
}
METHODS = [f"ferrotune:{m}" for m in FERROTUNE] + ["optuna:gp"]


def run(method: str, name: str, seed: int, budget: int) -> dict[str, Any]:
    fn, bounds, _ = PROBLEMS[name]
    library, kind = method.split(":")
    constraints: dict[int, list[float]] = {}

    def constraints_func(trial: Any) -> list[float]:
        return constraints[trial.number]

    if library == "ferrotune":
        import ferrotune
        from ferrotune.samplers import GPSampler

        sampler = GPSampler(seed=seed, constraints_func=constraints_func, **FERROTUNE[kind])
        study = ferrotune.create_study(sampler=sampler)
    else:
        import optuna

        study = optuna.create_study(
            sampler=optuna.samplers.GPSampler(seed=seed, constraints_func=constraints_func)
        )
    values: list[float] = []
    feasible: list[bool] = []
    for _ in range(budget):
        trial = study.ask()
        x = [trial.suggest_float(f"x{i}", lo, hi) for i, (lo, hi) in enumerate(bounds)]
        value, cons = fn(x)
        constraints[trial.number] = cons
        study.tell(trial, value)
        values.append(value)
        feasible.append(all(c <= 0 for c in cons))
    return {"values": values, "feasible": feasible}


def path(method: str, name: str, seed: int) -> Path:
    return RESULTS / method.replace(":", "-") / f"{name}_{seed}.json"


def regrets(method: str, name: str, seeds: Sequence[int], budget: int) -> Any:
    out = []
    for seed in seeds:
        p = path(method, name, seed)
        if not p.exists():
            return None
        record = json.loads(p.read_text())
        if len(record["values"]) < budget:
            return None
        ok = [
            v
            for v, f in zip(record["values"][:budget], record["feasible"][:budget], strict=True)
            if f
        ]
        out.append(max(0.0, min(ok) - PROBLEMS[name][2]) if ok else math.inf)
    return np.asarray(out)


def report(
    methods: list[str], names: list[str], seeds: list[int], budgets: list[int], subject: str
) -> None:
    print(f"### Median best feasible regret over {len(seeds)} seeds\n")
    rows = []
    for name in names:
        for budget in budgets:
            row: list[object] = [name, budget]
            for m in methods:
                r = regrets(m, name, seeds, budget)
                row.append("-" if r is None else fmt(float(np.median(r))))
            rows.append(row)
    print(markdown_table(["problem", "budget", *methods], rows))
    others = [m for m in methods if m != subject]
    print(f"\n### {subject} against each method (one-sided Mann-Whitney U, p < 0.05)\n")
    rows = []
    for name in names:
        for budget in budgets:
            s = regrets(subject, name, seeds, budget)
            rows.append(
                [name, budget, *(compare(s, regrets(m, name, seeds, budget)) for m in others)]
            )
    print(markdown_table(["problem", "budget", *others], rows))
    print(f"\nversions: ferrotune {version('ferrotune')}, optuna {version('optuna')}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--methods", help=f"comma-separated subset of {','.join(METHODS)}")
    ap.add_argument("--problems", help=f"comma-separated subset of {','.join(PROBLEMS)}")
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=100)
    ap.add_argument("--report", action="store_true", help="print the tables from the cache")
    ap.add_argument("--budgets", help="report these budgets (default 50,100)")
    ap.add_argument("--subject", default="ferrotune:gp-warp-power", help="the method tested")
    args = ap.parse_args()
    methods = parse_list(args.methods) or METHODS
    names = parse_list(args.problems) or list(PROBLEMS)
    for m in methods:
        if m not in METHODS:
            ap.error(f"unknown method {m!r}")
    for n in names:
        if n not in PROBLEMS:
            ap.error(f"unknown problem {n!r}")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    quiet()
    if args.report:
        budgets = [int(b) for b in parse_list(args.budgets) or ["50", "100"]]
        report(methods, names, seeds, budgets, args.subject)
        return
    for seed in seeds:
        for name in names:
            for m in methods:
                p = path(m, name, seed)
                if p.exists() and len(json.loads(p.read_text())["values"]) >= args.budget:
                    continue
                start = time.perf_counter()
                record = run(m, name, seed, args.budget)
                p.parent.mkdir(parents=True, exist_ok=True)
                p.write_text(json.dumps(record))
                r = regrets(m, name, [seed], args.budget)
                print(
                    f"# {m} {name} seed {seed}: regret {fmt(float(r[0]))} "
                    f"in {time.perf_counter() - start:.1f} s",
                    flush=True,
                )


if __name__ == "__main__":
    main()

"""NSGA-II side by side: hypervolume at a fixed budget, and the overhead per trial.

Quality: ZDT1, ZDT2, ZDT3 (30 variables) and DTLZ2 (3 objectives, 12 variables) from
``ferrotune.benchmarks``, each at ``--budget`` evaluations (2,000) over ``--seeds`` seeds;
the table shows the median hypervolume gap (the true front's hypervolume minus the one
reached by all evaluated points, for the problem's documented reference point; 0 is the
front) and its ratio to ferrotune's. Every sampler runs with its library's defaults
(population 50): ferrotune's and Optuna's ``NSGAIISampler`` (uniform crossover), Rustuna's
``NSGAIISampler``, and pymoo's ``NSGA2`` (SBX and polynomial mutation) when
``--pymoo-python`` names an interpreter with pymoo (run in a subprocess, with this
worktree's ``python/`` on ``PYTHONPATH`` for the problems).

``--crossover uniform,sbx,vsbx,undx,spx`` runs ferrotune's and Optuna's samplers once per
named crossover (the operator's class of ``nsgaii`` with its defaults; Rustuna and pymoo
are left out); a run still going after ``--timeout`` seconds (Optuna makes a child again
until it is inside the bounds, without limit) is stopped and counted in the table.

``--algorithm nsga3`` runs the ``NSGAIIISampler`` classes (Optuna's defaults: Das and Dennis
reference points with 3 divisions) and pymoo's ``NSGA3`` with the same points instead.

Overhead: two trivial objectives of ``d`` floats; the mean time per trial (ask, suggests,
tell) over the last ``--window`` trials before 1,000 and 10,000 completed trials.

    python benches/moea.py [--quick] [--seeds 5] [--budget 2000] [--problems zdt1,dtlz2]
                           [--libraries ferrotune,optuna,rustuna,pymoo] [--algorithm nsga3]
                           [--crossover uniform,sbx,vsbx,undx,spx] [--timeout 300]
                           [--pymoo-python /tmp/ref-moea/bin/python]
                           [--overhead-trials 1000,10000] [--overhead-dims 10,40]
                           [--skip-quality] [--skip-overhead] [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import (
    Recorder,
    fmt,
    load,
    markdown_table,
    median,
    parse_list,
    print_versions,
    quiet,
)

PROBLEMS = ("zdt1", "zdt2", "zdt3", "dtlz2")
LIBRARIES = ("ferrotune", "optuna", "rustuna", "pymoo")


def _problem(name: str) -> Any:
    from ferrotune.benchmarks import MULTI_OBJECTIVE_PROBLEMS

    return MULTI_OBJECTIVE_PROBLEMS[name]()


#: The sampler class of each algorithm (``--algorithm``).
CLASSES = {"nsga2": "NSGAIISampler", "nsga3": "NSGAIIISampler"}
ALGORITHM = "nsga2"

#: ``--crossover`` names and the class of each in ``<library>.samplers.nsgaii``.
CROSSOVERS = {
    "uniform": "UniformCrossover",
    "blxalpha": "BLXAlphaCrossover",
    "sbx": "SBXCrossover",
    "vsbx": "VSBXCrossover",
    "undx": "UNDXCrossover",
    "spx": "SPXCrossover",
}


def _nsga2(library: str, seed: int, crossover: str | None = None) -> Any:
    """The library's sampler of ``ALGORITHM``, with its defaults and the ``crossover``
    operator when named; None if it has none."""
    mod = load(library)
    name = CLASSES[ALGORITHM]
    if mod is None or not hasattr(mod.samplers, name):
        return None
    if crossover is None:
        return getattr(mod.samplers, name)(seed=seed)
    import importlib

    nsgaii = importlib.import_module(f"{mod.__name__}.samplers.nsgaii")
    if not hasattr(nsgaii, CROSSOVERS[crossover]):
        return None
    op = getattr(nsgaii, CROSSOVERS[crossover])()
    return getattr(mod.samplers, name)(seed=seed, crossover=op)


class _TimeoutError(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _TimeoutError


def run_ask_tell(
    library: str,
    problem: Any,
    budget: int,
    seed: int,
    crossover: str | None = None,
    timeout: float = 0.0,
) -> list[tuple[float, ...]] | None:
    """All objective vectors of one run of ``library``'s NSGAIISampler; None when it
    ran longer than ``timeout`` seconds (0: no limit)."""
    mod = load(library)
    sampler = _nsga2(library, seed, crossover)
    if mod is None or sampler is None:
        return []
    study = mod.create_study(directions=problem.directions, sampler=sampler)
    names = list(problem.params)
    values = []
    if timeout > 0:
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        for _ in range(budget):
            trial = study.ask()
            y = problem({n: trial.suggest_float(n, 0.0, 1.0) for n in names})
            study.tell(trial.number if library == "rustuna" else trial, list(y))
            values.append(y)
    except _TimeoutError:
        return None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    return values


def pymoo_worker(problem_name: str, budget: int, seed: int, algorithm: str) -> None:
    """Runs pymoo's NSGA2 or NSGA3 (this process has pymoo) and prints the gap as JSON."""
    import numpy as np
    from pymoo.algorithms.moo.nsga2 import NSGA2
    from pymoo.algorithms.moo.nsga3 import NSGA3
    from pymoo.core.problem import ElementwiseProblem
    from pymoo.optimize import minimize
    from pymoo.util.ref_dirs import get_reference_directions

    problem = _problem(problem_name)
    names = list(problem.params)
    seen: list[tuple[float, ...]] = []

    class Wrapped(ElementwiseProblem):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(n_var=len(names), n_obj=problem.n_objectives, xl=0.0, xu=1.0)

        def _evaluate(self, x: Any, out: dict[str, Any], *args: Any, **kwargs: Any) -> None:
            y = problem(dict(zip(names, map(float, x), strict=True)))
            seen.append(y)
            out["F"] = np.array(y)

    if algorithm == "nsga3":
        # Optuna's default reference points: Das and Dennis with 3 divisions.
        dirs = get_reference_directions("das-dennis", problem.n_objectives, n_partitions=3)
        algo: Any = NSGA3(pop_size=50, ref_dirs=dirs)
    else:
        algo = NSGA2(pop_size=50)
    minimize(Wrapped(), algo, ("n_eval", budget), seed=seed, verbose=False)
    import pymoo

    print(json.dumps({"gap": problem.hypervolume_gap(seen[:budget]), "version": pymoo.__version__}))


def run_pymoo(python: str, problem: str, budget: int, seed: int) -> tuple[float, str] | None:
    here = Path(__file__).resolve()
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(here.parents[1] / "python"), str(here.parent)])
    cmd = [python, str(here), "--pymoo-worker", problem, str(budget), str(seed), ALGORITHM]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if out.returncode != 0:
        print(f"pymoo failed: {out.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
        return None
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return float(data["gap"]), str(data["version"])


def quality(args: argparse.Namespace, libs: list[str], rec: Recorder) -> None:
    problems = parse_list(args.problems) or list(PROBLEMS)
    crossovers: list[str | None] = list(parse_list(args.crossover) or [None])
    if crossovers != [None]:
        libs = [lib for lib in libs if lib in ("ferrotune", "optuna")]
    runs = [(lib, c) for c in crossovers for lib in libs]
    rows = []
    pymoo_version = None
    for name in problems:
        problem = _problem(name)
        gaps: dict[tuple[str, str | None], list[float]] = {run: [] for run in runs}
        stalled: dict[tuple[str, str | None], int] = {run: 0 for run in runs}
        for seed in range(args.seeds):
            for lib, crossover in runs:
                if lib == "pymoo":
                    got = run_pymoo(args.pymoo_python, name, args.budget, seed)
                    if got is None:
                        continue
                    gap, pymoo_version = got
                else:
                    values = run_ask_tell(lib, problem, args.budget, seed, crossover, args.timeout)
                    if values is None:
                        stalled[lib, crossover] += 1
                        continue
                    if not values:
                        continue
                    gap = problem.hypervolume_gap(values)
                gaps[lib, crossover].append(gap)
                rec.emit(
                    {
                        "kind": "quality",
                        "problem": name,
                        "library": lib,
                        "crossover": crossover,
                        "seed": seed,
                        "budget": args.budget,
                        "gap": gap,
                    }
                )
        base_runs = gaps.get(("ferrotune", crossovers[0]))
        base = median(base_runs) if base_runs else None
        for lib, crossover in runs:
            got = gaps[lib, crossover]
            if not got and not stalled[lib, crossover]:
                continue
            m = median(got) if got else None
            ratio = fmt(m / base, 2) if base and m is not None else "-"
            label = lib if crossover is None else f"{lib} {crossover}"
            rows.append(
                [
                    name,
                    label,
                    fmt(problem.front_hypervolume, 6),
                    "-" if m is None else fmt(m, 4),
                    ratio,
                    len(got),
                    stalled[lib, crossover],
                ]
            )
    print(
        f"\n{CLASSES[ALGORITHM]}: hypervolume gap at {args.budget} evaluations"
        " (median over seeds; lower is better;"
        " ratio = run / the first ferrotune run)"
    )
    if pymoo_version:
        print(f"pymoo {pymoo_version}")
    header = ["problem", "library", "front HV", "median gap", "ratio", "seeds", "stalled"]
    print(markdown_table(header, rows))


def overhead_run(library: str, dim: int, n: int, seed: int) -> list[float]:
    """stamps[k] = perf_counter when k trials had completed."""
    mod = load(library)
    sampler = _nsga2(library, seed)
    if mod is None or sampler is None:
        return []
    study = mod.create_study(directions=["minimize", "minimize"], sampler=sampler)
    names = [f"x{i}" for i in range(dim)]
    stamps = [time.perf_counter()]
    for _ in range(n):
        trial = study.ask()
        x = [trial.suggest_float(name, 0.0, 1.0) for name in names]
        s = sum(x)
        study.tell(trial.number if library == "rustuna" else trial, [s, dim - s + x[0]])
        stamps.append(time.perf_counter())
    return stamps


def overhead(args: argparse.Namespace, libs: list[str], rec: Recorder) -> None:
    points = [int(v) for v in (parse_list(args.overhead_trials) or ["1000", "10000"])]
    dims = [int(v) for v in (parse_list(args.overhead_dims) or ["10"])]
    rows = []
    for dim in dims:
        per: dict[str, dict[int, float]] = {}
        for lib in libs:
            if lib == "pymoo":
                continue
            stamps = overhead_run(lib, dim, max(points), 0)
            if not stamps:
                continue
            per[lib] = {}
            for n in points:
                w = min(args.window, n)
                per[lib][n] = (stamps[n] - stamps[n - w]) / w * 1e3
                rec.emit(
                    {
                        "kind": "overhead",
                        "library": lib,
                        "dim": dim,
                        "n": n,
                        "ms_per_trial": per[lib][n],
                    }
                )
        for n in points:
            base = per.get("ferrotune", {}).get(n)
            for lib, by_n in per.items():
                ratio = fmt(by_n[n] / base, 1) if base else "-"
                rows.append([dim, n, lib, fmt(by_n[n], 4), ratio])
    print(
        f"\nOverhead per trial (ms, mean of the {args.window} trials before n; ratio = "
        "library / ferrotune)"
    )
    print(markdown_table(["d", "n", "library", "ms/trial", "ratio"], rows))


def main() -> None:
    global ALGORITHM
    if len(sys.argv) == 6 and sys.argv[1] == "--pymoo-worker":
        pymoo_worker(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
        return
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 seeds, 500 evaluations, n to 2,000")
    p.add_argument("--algorithm", choices=sorted(CLASSES), default="nsga2")
    p.add_argument("--seeds", type=int, default=5)
    p.add_argument("--budget", type=int, default=2000)
    p.add_argument("--problems")
    p.add_argument("--libraries")
    p.add_argument("--pymoo-python")
    p.add_argument("--crossover", help=f"comma-separated, of {', '.join(CROSSOVERS)}")
    p.add_argument("--timeout", type=float, default=300.0, help="seconds per run; 0: none")
    p.add_argument("--overhead-trials")
    p.add_argument("--overhead-dims")
    p.add_argument("--window", type=int, default=200)
    p.add_argument("--skip-quality", action="store_true")
    p.add_argument("--skip-overhead", action="store_true")
    p.add_argument("--out")
    args = p.parse_args()
    ALGORITHM = args.algorithm
    if args.quick:
        args.seeds, args.budget = 2, 500
        args.overhead_trials = args.overhead_trials or "500,2000"
    quiet()
    libs = parse_list(args.libraries) or list(LIBRARIES)
    if "pymoo" in libs and not args.pymoo_python:
        libs.remove("pymoo")
    rec = Recorder(args.out)
    if not args.skip_quality:
        quality(args, libs, rec)
    if not args.skip_overhead:
        overhead(args, libs, rec)
    rec.close()
    print_versions([lib for lib in libs if lib != "pymoo"])


if __name__ == "__main__":
    main()

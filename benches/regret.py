"""Final simple regret at a fixed budget, over seeds, per problem, library and sampler.

Simple regret is ``min(value over the trials) - known optimum`` (over feasible trials only on a
constrained problem).  The table shows the median and the interquartile range over seeds, and the
median wall time of one run.  Every library draws its own seeded random numbers, so only the
distributions over seeds are comparable, not single runs.

    python benches/regret.py [--quick] [--problems branin,mixed] [--samplers random,tpe]
                             [--peers optuna,hyperopt] [--seeds 10] [--out results.jsonl]
                             [--runs ferrotune:gp,optuna:gp] [--budgets branin=50,100]
    python benches/regret.py --table-from a.jsonl b.jsonl   # the table of earlier runs

Several budgets for one problem are read off one run of the largest: the samplers are not
told the budget, so the first 50 trials of a 100-trial run are a 50-trial run.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np

from _common import (
    LIBRARIES,
    PEERS,
    SKOPT_ESTIMATORS,
    Recorder,
    ask_tell_sampler,
    create_study,
    fmt,
    hyperopt_algo,
    hyperopt_space,
    load,
    load_benchmarks,
    markdown_table,
    median,
    parse_list,
    print_versions,
    quartiles,
    quiet,
    skopt_space,
    suggest_all,
    unavailable,
    version,
)
from _population_peers import cmaes_run, nevergrad_run

# (problem name, factory keywords, budget)
DEFAULT_PROBLEMS: list[tuple[str, dict[str, Any], int]] = [
    ("branin", {}, 100),
    ("hartmann6", {}, 100),
    ("mixed", {}, 200),
    ("rosenbrock", {"dim": 10}, 300),
    ("ackley", {"dim": 10}, 300),
    ("levy", {"dim": 10}, 300),
]
# Not run unless named with --problems.
EXTRA_PROBLEMS: list[tuple[str, dict[str, Any], int]] = [
    ("hartmann3", {}, 100),
    ("styblinski_tang", {"dim": 10}, 300),
    ("constrained", {}, 200),
    ("rastrigin", {"dim": 10}, 1000),
]
SAMPLERS = (
    "random",
    "qmc",
    "tpe",
    "gp",
    "gp-plain",
    "gp-power",
    "gp-warp",
    "gp-warp-power",
    "cmaes",
    "cmaes-ipop",
    "cmaes-bipop",
    "de",
    "pso",
    "ga",
    "ga-p20",
    "ga-aging",
)
# (library, sampler) pairs that take minutes per run at these budgets; run only when
# --include-slow is given.
SLOW = {("skopt", "gp")}

# A run takes (problem, budget, seed) and returns the objective values (None: infeasible) and
# the perf_counter time at which each trial was done.
Run = Callable[[Any, int, int], tuple[list[float | None], list[float]]]


def _value(problem: Any, params: dict[str, Any]) -> float | None:
    if problem.constraints and not problem.is_feasible(params):
        return None
    return problem(params)


def _objective(problem: Any, params: dict[str, Any]) -> float:
    """What the optimiser is told: the objective, also at infeasible points (no penalty)."""
    return problem(params)


def ask_tell_run(library: str, sampler_name: str) -> Run | None:
    if load(library) is None or ask_tell_sampler(library, sampler_name, 0) is None:
        return None

    def run(problem: Any, budget: int, seed: int) -> tuple[list[float | None], list[float]]:
        sampler = ask_tell_sampler(library, sampler_name, seed)
        study, tell_key = create_study(library, sampler)
        values: list[float | None] = []
        stamps: list[float] = []
        for _ in range(budget):
            trial = study.ask()
            params = suggest_all(trial, problem.params)
            study.tell(tell_key(trial), _objective(problem, params))
            values.append(_value(problem, params))
            stamps.append(time.perf_counter())
        return values, stamps

    return run


def hyperopt_run(sampler_name: str) -> Run | None:
    algo = hyperopt_algo(sampler_name)
    if algo is None:
        return None
    from hyperopt import Trials, fmin

    def run(problem: Any, budget: int, seed: int) -> tuple[list[float | None], list[float]]:
        space, decode = hyperopt_space(problem.params)
        values: list[float | None] = []
        stamps: list[float] = []

        def objective(sample: dict[str, Any]) -> float:
            params = decode(sample)
            values.append(_value(problem, params))
            stamps.append(time.perf_counter())  # trial k is done when k + 1 is called
            return _objective(problem, params)

        fmin(
            objective,
            space,
            algo=algo,
            max_evals=budget,
            trials=Trials(),
            rstate=np.random.default_rng(seed),
            show_progressbar=False,
            verbose=False,
        )
        return values, [*stamps[1:], time.perf_counter()]

    return run


def skopt_run(sampler_name: str) -> Run | None:
    estimator = SKOPT_ESTIMATORS.get(sampler_name)
    if estimator is None or load("skopt") is None:
        return None
    from skopt import Optimizer

    def run(problem: Any, budget: int, seed: int) -> tuple[list[float | None], list[float]]:
        dims, decode = skopt_space(problem.params)
        opt = Optimizer(dims, base_estimator=estimator, n_initial_points=10, random_state=seed)
        values: list[float | None] = []
        stamps: list[float] = []
        for _ in range(budget):
            x = opt.ask()
            params = decode(x)
            opt.tell(x, _objective(problem, params))
            values.append(_value(problem, params))
            stamps.append(time.perf_counter())
        return values, stamps

    return run


def make_run(library: str, sampler_name: str) -> Run | None:
    if library in ("ferrotune", "optuna", "rustuna"):
        return ask_tell_run(library, sampler_name)
    if library == "hyperopt":
        return hyperopt_run(sampler_name)
    if library == "skopt":
        return skopt_run(sampler_name)
    if library in ("cmaes", "nevergrad") and load(library) is not None:
        make = cmaes_run if library == "cmaes" else nevergrad_run
        return make(sampler_name, _value, _objective)
    if library in ("cmaes", "nevergrad"):
        return None
    raise ValueError(library)


def best_feasible(values: list[float | None]) -> float:
    feasible = [v for v in values if v is not None]
    return min(feasible) if feasible else float("inf")


def parse_budgets(items: list[str] | None, known: Iterable[str]) -> dict[str, list[int]]:
    """``["branin=50,100", "ackley=150"]`` -> ``{"branin": [50, 100], "ackley": [150]}``."""
    out: dict[str, list[int]] = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or name not in known:
            raise ValueError(f"--budgets {item!r}: expected PROBLEM=B1[,B2...] for a known problem")
        budgets = sorted({int(b) for b in text.split(",") if b.strip()})
        if not budgets or budgets[0] < 1:
            raise ValueError(f"--budgets {item!r}: budgets must be positive integers")
        out[name] = budgets
    return out


def parse_runs(text: str | None) -> list[tuple[str, str]] | None:
    """``"ferrotune:gp,optuna:gp"`` -> ``[("ferrotune", "gp"), ("optuna", "gp")]``."""
    items = parse_list(text)
    if items is None:
        return None
    pairs = []
    for item in items:
        lib, sep, s = item.partition(":")
        if not sep or lib not in LIBRARIES or s not in SAMPLERS:
            raise ValueError(f"--runs {item!r}: expected LIBRARY:SAMPLER, e.g. optuna:gp")
        pairs.append((lib, s))
    return pairs


def print_comparison(
    records: list[dict[str, Any]], first: tuple[str, str], second: tuple[str, str]
) -> None:
    """Per problem and budget: the medians of two (library, sampler) pairs and the one-sided
    Mann-Whitney U p-values of "the first's regret is larger" and of "the second's is larger"
    (seeds counted once each)."""
    from scipy.stats import mannwhitneyu

    by: dict[tuple[str, int, tuple[str, str]], dict[int, float]] = {}
    for r in records:
        if r.get("bench") == "regret":
            key = (r["problem"], r["budget"], (r["library"], r["sampler"]))
            by.setdefault(key, {}).setdefault(r["seed"], r["regret"])
    rows: list[list[object]] = []
    for problem, budget in dict.fromkeys((k[0], k[1]) for k in by):
        a, b = by.get((problem, budget, first)), by.get((problem, budget, second))
        if not a or not b:
            continue
        ra, rb = list(a.values()), list(b.values())
        p_a = mannwhitneyu(ra, rb, alternative="greater").pvalue
        p_b = mannwhitneyu(rb, ra, alternative="greater").pvalue
        rows.append([problem, budget, fmt(median(ra)), fmt(median(rb)), f"{p_a:.3f}", f"{p_b:.3f}"])
    a, b = ":".join(first), ":".join(second)
    print()
    print(markdown_table(["problem", "budget", a, b, f"p ({a} larger)", f"p ({b} larger)"], rows))


def print_table(records: list[dict[str, Any]]) -> None:
    """The markdown summary of ``regret`` records (from this run or from --table-from files).

    A run found twice (same problem, budget, library, sampler and seed) counts once.
    """
    results: dict[tuple[str, int, str, str], tuple[list[float], list[float]]] = {}
    seen: set[tuple[Any, ...]] = set()
    for r in records:
        if r.get("bench") != "regret":
            continue
        key = (r["problem"], r["budget"], r["library"], r["sampler"])
        if (*key, r["seed"]) in seen:
            continue  # the same run in two files: the first one counts
        seen.add((*key, r["seed"]))
        regrets, times = results.setdefault(key, ([], []))
        regrets.append(r["regret"])
        times.append(r["seconds"])
    header = ["problem", "budget", "sampler", "library", "median regret", "IQR", "s/run", "time/ft"]
    rows: list[list[object]] = []
    order = {label: i for i, label in enumerate(dict.fromkeys(k[0] for k in results))}
    for (label, budget, lib, s), (regrets, times) in sorted(
        results.items(),
        key=lambda kv: (
            order[kv[0][0]],
            kv[0][1],
            SAMPLERS.index(kv[0][3]),
            LIBRARIES.index(kv[0][2]),
        ),
    ):
        q25, q50, q75 = quartiles(regrets)
        base = results.get((label, budget, "ferrotune", s))
        ratio = median(times) / median(base[1]) if base is not None else float("nan")
        rows.append(
            [
                label,
                budget,
                s,
                lib,
                fmt(q50),
                f"[{fmt(q25)}, {fmt(q75)}]",
                fmt(median(times)),
                fmt(ratio),
                len(regrets),
            ]
        )
    counts = sorted({len(v[0]) for v in results.values()})
    if len(counts) == 1:
        n_seeds = str(counts[0])
        rows = [row[:-1] for row in rows]
    else:  # a column with each row's number of seeds
        n_seeds = f"{counts[0]}-{counts[-1]}"
        header.append("seeds")
    print()
    print(f"### Simple regret at the budget, {n_seeds} seeds (median, [25%, 75%])")
    print()
    print(markdown_table(header, rows))
    print()
    print("time/ft: median run time relative to ferrotune with the same sampler.")


def main(argv: list[str] | None = None) -> int:
    all_problems = {name: (kw, budget) for name, kw, budget in DEFAULT_PROBLEMS + EXTRA_PROBLEMS}
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="3 seeds and half the budgets")
    parser.add_argument("--out", help="append the JSON lines to this file")
    parser.add_argument("--seeds", type=int, help="number of seeds (default 10, quick 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here (default 0)")
    parser.add_argument("--budget-scale", type=float, help="multiply budgets (quick: 0.5)")
    parser.add_argument(
        "--budgets",
        action="append",
        metavar="PROBLEM=B1[,B2...]",
        help="budgets for one problem instead of its default (repeatable); several budgets "
        "are read off one run of the largest",
    )
    parser.add_argument("--problems", help=f"comma-separated subset of {','.join(all_problems)}")
    parser.add_argument("--samplers", help=f"comma-separated subset of {','.join(SAMPLERS)}")
    parser.add_argument(
        "--peers", help=f"comma-separated subset of {','.join(PEERS)}, or 'none' (default: all)"
    )
    parser.add_argument("--no-ferrotune", action="store_true", help="run the peers only")
    parser.add_argument(
        "--include-slow", action="store_true", help=f"also run {sorted(SLOW)} (minutes per run)"
    )
    parser.add_argument(
        "--runs",
        help="exact LIBRARY:SAMPLER pairs, e.g. ferrotune:gp,optuna:gp,skopt:gp (replaces "
        "--samplers, --peers and --no-ferrotune; slow pairs named here are run)",
    )
    parser.add_argument("--dim", type=int, help="override the dimension of scalable problems")
    parser.add_argument(
        "--table-from", nargs="+", metavar="FILE", help="print the table of these JSON lines"
    )
    parser.add_argument(
        "--compare",
        metavar="LIB:S,LIB:S",
        help="with --table-from: one-sided Mann-Whitney p-values of each pair's regret being "
        "larger than the other's, per problem and budget (needs scipy)",
    )
    args = parser.parse_args(argv)

    if args.table_from:
        records = []
        for path in args.table_from:
            with open(path, encoding="utf-8") as fh:
                records += [json.loads(line) for line in fh if line.strip()]
        print_table(records)
        if args.compare:
            pair = parse_runs(args.compare)
            if pair is None or len(pair) != 2:
                parser.error("--compare takes two LIBRARY:SAMPLER pairs")
            print_comparison(records, pair[0], pair[1])
        return 0

    quiet()
    bm = load_benchmarks()
    seeds = args.seeds or (3 if args.quick else 10)
    scale = args.budget_scale or (0.5 if args.quick else 1.0)
    try:
        budgets_given = parse_budgets(args.budgets, all_problems)
        pairs = parse_runs(args.runs)
    except ValueError as exc:
        parser.error(str(exc))
    problem_names = parse_list(args.problems) or (
        list(budgets_given) if budgets_given else [name for name, _, _ in DEFAULT_PROBLEMS]
    )
    unknown = [p for p in problem_names if p not in all_problems]
    if unknown:
        parser.error(f"unknown problems {unknown}; known: {sorted(all_problems)}")
    samplers = parse_list(args.samplers) or list(SAMPLERS)
    bad = [s for s in samplers if s not in SAMPLERS]
    if bad:
        parser.error(f"unknown samplers {bad}; known: {SAMPLERS}")
    peers = parse_list(args.peers)
    if peers is None:
        peers = list(PEERS)
    elif peers == ["none"]:
        peers = []
    libraries = ([] if args.no_ferrotune else ["ferrotune"]) + [p for p in PEERS if p in peers]
    if pairs is None:
        pairs = [
            (lib, s)
            for lib in libraries
            for s in samplers
            if (lib, s) not in SLOW or args.include_slow
        ]
        explicit = False
    else:
        libraries = list(dict.fromkeys(lib for lib, _ in pairs))
        explicit = True

    runs: dict[tuple[str, str], Run] = {}
    for lib, s in pairs:
        run = make_run(lib, s)
        if run is not None:
            runs[(lib, s)] = run
        elif explicit and lib not in unavailable():
            print(f"# {lib}: no {s} sampler, skipped", file=sys.stderr)
    if not runs:
        print("nothing to run", file=sys.stderr)
        return 1
    print("# runs: " + ", ".join(f"{lib}:{s}" for lib, s in runs), file=sys.stderr)

    rec = Recorder(args.out)
    for name in problem_names:
        kw, default_budget = all_problems[name]
        if args.dim is not None and "dim" in kw:
            kw = {"dim": args.dim}
        problem = bm.get_problem(name, **kw)
        budgets = sorted(
            {max(10, round(b * scale)) for b in budgets_given.get(name, [default_budget])}
        )
        label = f"{name}{problem.dim}d" if "dim" in kw else name
        for seed in range(args.first_seed, args.first_seed + seeds):
            for (lib, s), run in runs.items():
                t0 = time.perf_counter()
                values, stamps = run(problem, budgets[-1], seed)
                if len(values) != budgets[-1] or len(stamps) != budgets[-1]:
                    raise RuntimeError(f"{lib}:{s} ran {len(values)} trials, not {budgets[-1]}")
                for budget in budgets:
                    best = best_feasible(values[:budget])
                    rec.emit(
                        {
                            "bench": "regret",
                            "problem": label,
                            "budget": budget,
                            "library": lib,
                            "version": version(lib),
                            "sampler": s,
                            "seed": seed,
                            "best": best,
                            "regret": problem.regret(best),
                            "n_feasible": sum(v is not None for v in values[:budget]),
                            "seconds": round(stamps[budget - 1] - t0, 4),
                        }
                    )
    rec.close()

    print_table(rec.records)
    print_versions(lib for lib in libraries if load(lib))
    return 0


if __name__ == "__main__":
    sys.exit(main())

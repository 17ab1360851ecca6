"""Per-trial overhead (ask + suggests + tell) against the number of completed trials.

The search space has 10 parameters: 4 uniform floats, 2 log-scale floats, 2 ints and 2 four-way
categoricals; the objective is trivial, so the time measured is the library's.  For each
library the trials run in one loop up to the largest ``n``; the mean time per trial over the
window of trials ``(n - window, n]`` is reported for each ``n``.  Libraries are interleaved and
the whole thing repeated; the table shows the median over repeats and ratios against ferrotune.

    python benches/overhead.py [--sampler random|tpe|default] [--quick] [--out results.jsonl]

``--sampler default`` times each library's default sampler (what ``create_study()`` uses:
ferrotune's AutoSampler, Optuna's and rustuna's TPE; hyperopt's TPE).
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from _common import (
    LIBRARIES,
    Recorder,
    ask_tell_sampler,
    create_study,
    fmt,
    load,
    markdown_table,
    median,
    parse_list,
    print_versions,
    quiet,
    unavailable,
    version,
)

CHOICES = ["a", "b", "c", "d"]
LOG_LOW, LOG_HIGH = 1e-5, 1e-1

# A runner takes (n_trials, seed) and returns stamps with stamps[k] = the time at which k trials
# had completed (stamps[0] = just before the first ask).
Runner = Callable[[int, int], list[float]]


def suggest_10d(trial: Any) -> float:
    """The 10-D mixed space on an Optuna-style trial (ferrotune, optuna and rustuna alike)."""
    sf = trial.suggest_float
    si = trial.suggest_int
    sc = trial.suggest_categorical
    value = sf("f0", 0.0, 1.0) + sf("f1", 0.0, 1.0) + sf("f2", 0.0, 1.0) + sf("f3", 0.0, 1.0)
    sf("l0", LOG_LOW, LOG_HIGH, log=True)
    sf("l1", LOG_LOW, LOG_HIGH, log=True)
    value += 0.01 * si("i0", 1, 100)
    si("i1", 1, 100)
    sc("c0", CHOICES)
    sc("c1", CHOICES)
    return value


def ask_tell_runner(library: str, sampler_name: str) -> Runner | None:
    if ask_tell_sampler(library, sampler_name, 0) is None:
        return None

    def run(n: int, seed: int) -> list[float]:
        study, tell_key = create_study(library, ask_tell_sampler(library, sampler_name, seed))
        ask, tell = study.ask, study.tell
        clock = time.perf_counter
        stamps = [0.0] * (n + 1)
        stamps[0] = clock()
        for k in range(1, n + 1):
            trial = ask()
            tell(tell_key(trial), suggest_10d(trial))
            stamps[k] = clock()
        return stamps

    return run


def hyperopt_runner(sampler_name: str) -> Runner | None:
    if load("hyperopt") is None:
        return None
    from hyperopt import Trials, fmin, hp, rand, tpe

    algo = {"random": rand.suggest, "tpe": tpe.suggest, "default": tpe.suggest}[sampler_name]
    space: dict[str, Any] = {}
    for i in range(4):
        space[f"f{i}"] = hp.uniform(f"f{i}", 0.0, 1.0)
    for i in range(2):
        space[f"l{i}"] = hp.loguniform(f"l{i}", math.log(LOG_LOW), math.log(LOG_HIGH))
    for i in range(2):
        space[f"i{i}"] = hp.uniformint(f"i{i}", 1, 100)
    for i in range(2):
        space[f"c{i}"] = hp.choice(f"c{i}", CHOICES)

    def run(n: int, seed: int) -> list[float]:
        # fmin has no ask/tell; the objective's call times mark the trial boundaries.
        clock = time.perf_counter
        stamps: list[float] = []

        def objective(p: dict[str, Any]) -> float:
            stamps.append(clock())
            return p["f0"] + p["f1"] + p["f2"] + p["f3"] + 0.01 * p["i0"]

        fmin(
            objective,
            space,
            algo=algo,
            max_evals=n,
            trials=Trials(),
            rstate=np.random.default_rng(seed),
            show_progressbar=False,
            verbose=False,
        )
        stamps.append(clock())
        # stamps[k] is the start of evaluation k, i.e. when k trials had been completed
        # (up to the trivial objective); the last one is fmin's return.
        return stamps

    return run


def skopt_runner(sampler_name: str) -> Runner | None:
    if sampler_name != "random" or load("skopt") is None:
        return None
    from skopt import Optimizer
    from skopt.space import Categorical, Integer, Real

    dims = [Real(0.0, 1.0) for _ in range(4)]
    dims += [Real(LOG_LOW, LOG_HIGH, prior="log-uniform") for _ in range(2)]
    dims += [Integer(1, 100) for _ in range(2)]
    dims += [Categorical(CHOICES) for _ in range(2)]

    def run(n: int, seed: int) -> list[float]:
        opt = Optimizer(dims, base_estimator="dummy", random_state=seed)
        ask, tell = opt.ask, opt.tell
        clock = time.perf_counter
        stamps = [0.0] * (n + 1)
        stamps[0] = clock()
        for k in range(1, n + 1):
            x = ask()
            tell(x, x[0] + x[1] + x[2] + x[3] + 0.01 * x[6])
            stamps[k] = clock()
        return stamps

    return run


def make_runner(library: str, sampler_name: str) -> Runner | None:
    if library in ("ferrotune", "optuna", "rustuna"):
        if load(library) is None:
            return None
        return ask_tell_runner(library, sampler_name)
    if library == "hyperopt":
        return hyperopt_runner(sampler_name)
    if library == "skopt":
        return skopt_runner(sampler_name)
    raise ValueError(library)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sampler", choices=["random", "tpe", "default"], default="random")
    parser.add_argument("--quick", action="store_true", help="n up to 1000, 2 repeats")
    parser.add_argument("--out", help="append the JSON lines to this file")
    parser.add_argument("--ns", help="comma-separated trial counts (default 100,300,1000,3000)")
    parser.add_argument("--window", type=int, default=50, help="trials per timing window")
    parser.add_argument("--repeats", type=int, help="repeats (default 3, quick 2)")
    parser.add_argument("--libraries", help=f"comma-separated subset of {','.join(LIBRARIES)}")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    quiet()
    ns_text = args.ns or ("100,300,1000" if args.quick else "100,300,1000,3000")
    ns = sorted(int(x) for x in ns_text.split(","))
    repeats = args.repeats or (2 if args.quick else 3)
    window = args.window
    if window < 1 or ns[0] < window:
        parser.error(f"--window must be between 1 and the smallest n ({ns[0]})")
    wanted = parse_list(args.libraries) or list(LIBRARIES)

    runners: dict[str, Runner] = {}
    for lib in LIBRARIES:
        if lib not in wanted:
            continue
        runner = make_runner(lib, args.sampler)
        if runner is None:
            if lib not in unavailable():
                print(f"# {lib}: no {args.sampler} sampler, skipped", file=sys.stderr)
            continue
        runners[lib] = runner
    if not runners:
        print("no library to benchmark", file=sys.stderr)
        return 1

    rec = Recorder(args.out)
    n_max = ns[-1]
    per_trial: dict[tuple[str, int], list[float]] = {}
    libs = list(runners)
    for rep in range(repeats):
        order = libs[rep % len(libs) :] + libs[: rep % len(libs)]  # rotate to interleave
        for lib in order:
            stamps = runners[lib](n_max, args.seed + rep)
            if len(stamps) != n_max + 1:
                raise RuntimeError(f"{lib}: expected {n_max + 1} stamps, got {len(stamps)}")
            for n in ns:
                us = (stamps[n] - stamps[n - window]) / window * 1e6
                per_trial.setdefault((lib, n), []).append(us)
                rec.emit(
                    {
                        "bench": "overhead",
                        "library": lib,
                        "version": version(lib),
                        "sampler": args.sampler,
                        "n": n,
                        "window": window,
                        "repeat": rep,
                        "us_per_trial": round(us, 3),
                    }
                )
    rec.close()

    med = {key: median(v) for key, v in per_trial.items()}
    header = ["n"] + [f"{lib} µs/trial" for lib in libs]
    base = "ferrotune" if "ferrotune" in libs else libs[0]  # ratios against ferrotune if run
    header += [f"{lib}/{base}" for lib in libs if lib != base]
    rows = []
    for n in ns:
        row: list[object] = [n] + [fmt(med[(lib, n)]) for lib in libs]
        row += [fmt(med[(lib, n)] / med[(base, n)]) for lib in libs if lib != base]
        rows.append(row)
    print()
    print(
        f"### Overhead per trial, sampler={args.sampler}, 10-D mixed space, "
        f"window={window}, median of {repeats}"
    )
    print()
    print(markdown_table(header, rows))
    print()
    print_versions(libs)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Per-trial overhead of the population samplers against the number of trials: ferrotune,
Optuna and Rustuna side by side in one run.

CMA-ES minimises a sphere over ``d`` uniform floats in ``[-5, 5]``; NSGA-II and NSGA-III
minimise two objectives (the squared distances to the origin and to ``(1, ..., 1)``).  The
objective is trivial, so the time measured is the library's (ask + suggests + tell).  Each
library runs its trials in one loop up to the largest ``n``; the mean time per trial over the
window ``(n - window, n]`` is reported for each ``n``, the median over repeats, and the ratios
against ferrotune.  Libraries are interleaved.

    python benches/population_overhead.py --sampler cmaes --dims 10,40 --ns 1000,10000
    python benches/population_overhead.py --sampler nsga2 --dims 10,40 --ns 1000,10000
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
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
    version,
)

LIBRARIES = ("ferrotune", "optuna", "rustuna")
CLASS = {"cmaes": "CmaEsSampler", "nsga2": "NSGAIISampler", "nsga3": "NSGAIIISampler"}

Runner = Callable[[int, int], list[float]]


def make_runner(library: str, sampler: str, dim: int) -> Runner | None:
    """A runner (n_trials, seed) -> stamps, stamps[k] = time when k trials were told; None when
    the library lacks the sampler."""
    mod = load(library)
    cls = getattr(getattr(mod, "samplers", None), CLASS[sampler], None) if mod else None
    if cls is None:
        return None
    names = [f"x{i}" for i in range(dim)]
    several = sampler != "cmaes"

    def run(n: int, seed: int) -> list[float]:
        assert mod is not None and cls is not None
        if several:
            study = mod.create_study(directions=["minimize", "minimize"], sampler=cls(seed=seed))
        else:
            study = mod.create_study(direction="minimize", sampler=cls(seed=seed))
        key: Callable[[Any], Any] = (lambda t: t.number) if library == "rustuna" else (lambda t: t)
        ask, tell = study.ask, study.tell
        clock = time.perf_counter
        stamps = [clock()]
        for _ in range(n):
            trial = ask()
            x = [trial.suggest_float(name, -5.0, 5.0) for name in names]
            f0 = sum(v * v for v in x)
            if several:
                tell(key(trial), [f0, sum((v - 1.0) ** 2 for v in x)])
            else:
                tell(key(trial), f0)
            stamps.append(clock())
        return stamps

    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sampler", choices=sorted(CLASS), default="cmaes")
    parser.add_argument("--dims", default="10,40", help="comma-separated dimensions")
    parser.add_argument("--ns", default="1000,10000", help="comma-separated trial counts")
    parser.add_argument("--window", type=int, default=100, help="trials per timing window")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--libraries", help=f"comma-separated subset of {','.join(LIBRARIES)}")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="append the JSON lines to this file")
    args = parser.parse_args(argv)

    quiet()
    ns = sorted(int(x) for x in args.ns.split(","))
    dims = [int(x) for x in args.dims.split(",")]
    if args.window < 1 or ns[0] < args.window:
        parser.error(f"--window must be between 1 and the smallest n ({ns[0]})")
    wanted = parse_list(args.libraries) or list(LIBRARIES)
    rec = Recorder(args.out)
    libs_seen: list[str] = []
    for dim in dims:
        runners = {}
        for lib in LIBRARIES:
            if lib in wanted and (r := make_runner(lib, args.sampler, dim)) is not None:
                runners[lib] = r
            elif lib in wanted:
                print(f"# {lib}: no {CLASS[args.sampler]}, skipped", file=sys.stderr)
        if not runners:
            print("no library to benchmark", file=sys.stderr)
            return 1
        libs = list(runners)
        libs_seen = libs
        per_trial: dict[tuple[str, int], list[float]] = {}
        for rep in range(args.repeats):
            for lib in libs[rep % len(libs) :] + libs[: rep % len(libs)]:
                stamps = runners[lib](ns[-1], args.seed + rep)
                for n in ns:
                    us = (stamps[n] - stamps[n - args.window]) / args.window * 1e6
                    per_trial.setdefault((lib, n), []).append(us)
                    rec.emit(
                        {
                            "bench": "population_overhead",
                            "sampler": args.sampler,
                            "library": lib,
                            "version": version(lib),
                            "dim": dim,
                            "n": n,
                            "window": args.window,
                            "repeat": rep,
                            "us_per_trial": round(us, 3),
                        }
                    )
        med = {k: median(v) for k, v in per_trial.items()}
        base = "ferrotune" if "ferrotune" in libs else libs[0]
        header = ["n"] + [f"{lib} µs/trial" for lib in libs]
        header += [f"{lib}/{base}" for lib in libs if lib != base]
        rows = []
        for n in ns:
            row: list[object] = [n] + [fmt(med[(lib, n)]) for lib in libs]
            row += [fmt(med[(lib, n)] / med[(base, n)]) for lib in libs if lib != base]
            rows.append(row)
        print(
            f"\n### {CLASS[args.sampler]} overhead per trial, {dim}-D, "
            f"window={args.window}, median of {args.repeats}\n"
        )
        print(markdown_table(header, rows))
    rec.close()
    print()
    print_versions(libs_seen)
    return 0


if __name__ == "__main__":
    sys.exit(main())

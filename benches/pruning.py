"""Cost of one ``report`` + ``should_prune`` at a given number of finished trials,
in memory, with each library's ``MedianPruner``.

A study is filled with ``n`` COMPLETE trials that each reported ``steps`` intermediate
values (random sampler, one parameter); then new trials report step by step and ask
``should_prune`` after each report. The median over repeats of the mean time per
report + check is printed, for ferrotune and Optuna (when installed).

    python benches/pruning.py [--trials 1000 10000] [--steps 20] [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import statistics
import time
from typing import Any


def fill(lib: Any, n: int, steps: int) -> Any:
    """A study with ``n`` COMPLETE trials of ``steps`` reported values each."""
    study = lib.create_study(
        sampler=lib.samplers.RandomSampler(seed=0),
        pruner=lib.pruners.MedianPruner(n_startup_trials=5),
    )
    for _ in range(n):
        t = study.ask()
        x = t.suggest_float("x", 0.0, 1.0)
        for s in range(steps):
            t.report(x + 1.0 / (s + 1), s)
        study.tell(t, x)
    return study


def per_check(lib: Any, study: Any, steps: int, n_new: int) -> float:
    """Mean seconds of one report + should_prune over ``n_new`` new trials."""
    total, count = 0.0, 0
    for _ in range(n_new):
        t = study.ask()
        x = t.suggest_float("x", 0.0, 1.0)
        t0 = time.perf_counter()
        for s in range(steps):
            t.report(x + 1.0 / (s + 1), s)
            t.should_prune()
        total += time.perf_counter() - t0
        count += steps
        study.tell(t, x)
    return total / count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--new", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    libs = []
    for name in ("ferrotune", "optuna"):
        try:
            lib = importlib.import_module(name)
        except ImportError:
            continue
        lib.logging.set_verbosity(lib.logging.WARNING)
        libs.append((name, lib))
    print(f"| library | trials | us per report + should_prune (median of {args.repeats}) |")
    print("|---|---|---|")
    for n in args.trials:
        for name, lib in libs:
            study = fill(lib, n, args.steps)
            times = [per_check(lib, study, args.steps, args.new) for _ in range(args.repeats)]
            print(f"| {name} | {n} | {statistics.median(times) * 1e6:.1f} |", flush=True)


if __name__ == "__main__":
    main()

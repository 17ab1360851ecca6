"""Cost of one ``report`` + ``should_prune`` at a given number of finished trials, in
memory and on SQLite, with each library's pruners.

A study is filled with ``n`` COMPLETE trials that each reported ``steps`` intermediate
values (random sampler, one parameter; built in memory, then copied with the library's
``copy_study`` for SQLite, so that filling stays quick); then ``--new`` new trials report
step by step and ask ``should_prune`` after each report, stopping when pruned, as an
objective does. The median over repeats of the mean time per report + check is printed,
for ferrotune and Optuna (when installed). Pruners: ``median`` (``MedianPruner(
n_startup_trials=5)``), ``sh`` (``SuccessiveHalvingPruner(min_resource=1,
reduction_factor=3)``: rungs at steps 1, 3, 9) and ``hyperband`` (``HyperbandPruner(
min_resource=1, max_resource=steps, reduction_factor=3)``).

    python benches/pruning.py [--trials 1000 10000] [--steps 20] [--new 20] [--repeats 3]
        [--storage memory sqlite] [--pruner median sh hyperband] [--libraries ferrotune optuna]
"""

from __future__ import annotations

import argparse
import importlib
import os
import statistics
import tempfile
import time
from typing import Any


def make_pruner(lib: Any, name: str, steps: int) -> Any:
    if name == "median":
        return lib.pruners.MedianPruner(n_startup_trials=5)
    if name == "sh":
        return lib.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3)
    return lib.pruners.HyperbandPruner(min_resource=1, max_resource=steps, reduction_factor=3)


def fill(lib: Any, n: int, steps: int, storage: str, pruner: Any, workdir: str) -> Any:
    """A study with ``n`` COMPLETE trials of ``steps`` reported values each, in memory or
    in a new SQLite file of ``workdir``."""
    memory = lib.storages.InMemoryStorage()
    study = lib.create_study(
        storage=memory, sampler=lib.samplers.RandomSampler(seed=0), pruner=pruner
    )
    for _ in range(n):
        t = study.ask()
        x = t.suggest_float("x", 0.0, 1.0)
        for s in range(steps):
            t.report(x + 1.0 / (s + 1), s)
        study.tell(t, x)
    if storage == "memory":
        return study
    path = os.path.join(workdir, f"{lib.__name__}-{n}-{time.monotonic_ns()}.db")
    url = f"sqlite:///{path}"
    lib.copy_study(
        from_study_name=study.study_name,
        from_storage=memory,
        to_storage=url,
        to_study_name="bench",
    )
    return lib.load_study(
        study_name="bench",
        storage=url,
        sampler=lib.samplers.RandomSampler(seed=1),
        pruner=pruner,
    )


def per_check(lib: Any, study: Any, steps: int, n_new: int) -> float:
    """Mean seconds of one report + should_prune over the steps of ``n_new`` new trials
    (a pruned trial stops)."""
    total, count = 0.0, 0
    for _ in range(n_new):
        t = study.ask()
        x = t.suggest_float("x", 0.0, 1.0)
        t0 = time.perf_counter()
        pruned = False
        for s in range(steps):
            t.report(x + 1.0 / (s + 1), s)
            count += 1
            if t.should_prune():
                pruned = True
                break
        total += time.perf_counter() - t0
        if pruned:
            study.tell(t, state=lib.trial.TrialState.PRUNED)
        else:
            study.tell(t, x)
    return total / count


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--new", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--storage", nargs="+", default=["memory"], choices=["memory", "sqlite"])
    ap.add_argument(
        "--pruner", nargs="+", default=["median"], choices=["median", "sh", "hyperband"]
    )
    ap.add_argument("--libraries", nargs="+", default=["ferrotune", "optuna"])
    args = ap.parse_args()
    libs = []
    for name in args.libraries:
        try:
            lib = importlib.import_module(name)
        except ImportError:
            continue
        lib.logging.set_verbosity(lib.logging.WARNING)
        libs.append((name, lib))
    workdir = tempfile.mkdtemp(prefix="ferrotune-pruning-")
    print(
        "| storage | pruner | library | trials | us per report + should_prune "
        f"(median of {args.repeats}) |"
    )
    print("|---|---|---|---|---|")
    for storage in args.storage:
        for pruner_name in args.pruner:
            for n in args.trials:
                for name, lib in libs:
                    pruner = make_pruner(lib, pruner_name, args.steps)
                    study = fill(lib, n, args.steps, storage, pruner, workdir)
                    times = [
                        per_check(lib, study, args.steps, args.new) for _ in range(args.repeats)
                    ]
                    us = statistics.median(times) * 1e6
                    print(f"| {storage} | {pruner_name} | {name} | {n} | {us:.1f} |", flush=True)


if __name__ == "__main__":
    main()

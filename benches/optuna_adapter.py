"""Time per trial of ferrotune's TPE inside an Optuna study (ferrotune.integration.optuna)
against Optuna's own TPESampler, with Optuna's RandomSampler as the floor (the study's own
bookkeeping: trial creation, storage writes, FrozenTrial copies), on a 10-D mixed space and
a trivial objective, in Optuna's in-memory storage.

For each run the time spent inside the sampler's hooks (before_trial,
infer_relative_search_space, sample_relative, sample_independent, after_trial) is measured
too; the rest of a trial is Optuna's study.

Run (needs optuna beside ferrotune):

    python benches/optuna_adapter.py --trials 1000 --repeat 3
"""

from __future__ import annotations

import argparse
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import optuna

import ferrotune
from ferrotune.integration import optuna as fo

HOOKS = (
    "before_trial",
    "infer_relative_search_space",
    "sample_relative",
    "sample_independent",
    "after_trial",
)


def objective(trial: Any) -> float:
    """Ten parameters: four floats (one log, one stepped), three ints (one log), three
    categoricals."""
    v = trial.suggest_float("x0", -5, 5) ** 2
    v += trial.suggest_float("x1", -5, 5) ** 2
    v += trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    v += trial.suggest_float("drop", 0.0, 0.5, step=0.05)
    v += trial.suggest_int("n0", 0, 10)
    v += trial.suggest_int("n1", -3, 3)
    v += trial.suggest_int("units", 8, 512, log=True) / 512
    v += float(trial.suggest_categorical("act", ["relu", "gelu", "tanh"]) == "relu")
    v += float(trial.suggest_categorical("opt", ["adam", "sgd"]) == "sgd")
    v += trial.suggest_categorical("k", [1, 2, 4, 8]) / 8
    return float(v)


def timed_hooks(sampler: Any) -> list[float]:
    """Wraps the sampler's hooks on the instance; returns the list their time adds to."""
    spent = [0.0]

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - t0

        return inner

    for name in HOOKS:
        setattr(sampler, name, wrap(getattr(sampler, name)))
    return spent


def run_optuna(sampler: Any, n: int) -> tuple[float, float, float]:
    """(ms per trial, ms per trial in the sampler's hooks, best value)."""
    spent = timed_hooks(sampler)
    study = optuna.create_study(sampler=sampler)
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    total = time.perf_counter() - t0
    return total / n * 1e3, spent[0] / n * 1e3, study.best_value


def run_native(n: int) -> tuple[float, float, float]:
    study = ferrotune.create_study(sampler=ferrotune.samplers.TPESampler(seed=0))
    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return (time.perf_counter() - t0) / n * 1e3, float("nan"), study.best_value


RUNS: dict[str, Callable[[int], tuple[float, float, float]]] = {
    "optuna RandomSampler (floor)": lambda n: run_optuna(optuna.samplers.RandomSampler(seed=0), n),
    "adapter RandomSampler": lambda n: run_optuna(fo.RandomSampler(seed=0), n),
    "optuna TPESampler": lambda n: run_optuna(optuna.samplers.TPESampler(seed=0), n),
    "adapter TPESampler": lambda n: run_optuna(fo.TPESampler(seed=0), n),
    "ferrotune study, TPESampler": run_native,
}


def summary(results: dict[str, tuple[float, float]]) -> None:
    """The ratio to Optuna's TPE, and the adapter's trial split into the study's share and
    the adapter's own."""
    ours, hooks = results["adapter TPESampler"]
    theirs = results["optuna TPESampler"][0]
    print(f"\nadapter TPE / Optuna TPE, time per trial: {ours / theirs:.3f}")
    print(
        f"adapter TPE trial {ours:.3f} ms = Optuna's study {ours - hooks:.3f} ms "
        f"({(ours - hooks) / ours:.0%}) + the adapter's hooks {hooks:.3f} ms"
    )
    native = results.get("ferrotune study, TPESampler")
    if native is not None:
        print(
            f"of the hooks, about {native[0]:.3f} ms is the Rust TPE (a whole trial of a "
            f"ferrotune study) and {hooks - native[0]:.3f} ms the mirror and the conversions"
        )
    floor = results.get("optuna RandomSampler (floor)")
    if floor is not None:
        print(f"floor, Optuna's study with its RandomSampler: {floor[0]:.3f} ms per trial")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", type=int, default=1000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of each; the fastest is shown")
    ap.add_argument("--runs", nargs="+", choices=list(RUNS), default=list(RUNS))
    args = ap.parse_args()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("ferrotune").setLevel(logging.WARNING)
    results = {}
    print(f"{args.trials} trials, 10-D mixed space, Optuna {optuna.__version__} in-memory study")
    print("| run | ms per trial | in the sampler's hooks | rest (the study) | best value |")
    print("|---|---|---|---|---|")
    # The runs interleaved, --repeat rounds; the fastest of each is shown (the least
    # disturbed by other work on the machine).
    rounds: dict[str, list[tuple[float, float, float]]] = {name: [] for name in args.runs}
    for _ in range(args.repeat):
        for name in args.runs:
            rounds[name].append(RUNS[name](args.trials))
    for name in args.runs:
        per, hooks, best = min(rounds[name])
        results[name] = (per, hooks)
        rest = per - hooks
        print(f"| {name} | {per:.3f} | {hooks:.3f} | {rest:.3f} | {best:.4f} |")
    if "optuna TPESampler" in results and "adapter TPESampler" in results:
        summary(results)


if __name__ == "__main__":
    main()

"""Time per trial of ferrotune's CmaEsSampler beside Optuna's, on a trivial objective
(a sum of squares of d floats), so that the cost measured is the sampler's and the
study's.

Run (needs optuna beside ferrotune):

    python benches/cmaes_overhead.py --dims 10 40 --trials 1000 10000 --optuna-max 1000
"""

from __future__ import annotations

import argparse
import logging
import time
from typing import Any

import ferrotune


def _objective(d: int) -> Any:
    def objective(trial: Any) -> float:
        return sum(trial.suggest_float(f"x{i}", -5, 5) ** 2 for i in range(d))

    return objective


def per_trial_ms(make_study: Any, d: int, n: int) -> float:
    study = make_study()
    t0 = time.perf_counter()
    study.optimize(_objective(d), n_trials=n)
    return (time.perf_counter() - t0) / n * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dims", type=int, nargs="+", default=[10, 40])
    ap.add_argument("--trials", type=int, nargs="+", default=[1000, 10000])
    ap.add_argument("--optuna-max", type=int, default=1000, help="most trials for Optuna")
    args = ap.parse_args()
    logging.getLogger("ferrotune").setLevel(logging.WARNING)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    print(f"{'dims':>4} {'trials':>7} {'ferrotune ms':>13} {'optuna ms':>10} {'ratio':>6}")
    for d in args.dims:
        for n in args.trials:
            ours = per_trial_ms(
                lambda: ferrotune.create_study(sampler=ferrotune.samplers.CmaEsSampler(seed=0)),
                d,
                n,
            )
            theirs = float("nan")
            if n <= args.optuna_max:
                theirs = per_trial_ms(
                    lambda: optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=0)),
                    d,
                    n,
                )
            print(f"{d:>4} {n:>7} {ours:>13.3f} {theirs:>10.3f} {theirs / ours:>6.1f}")


if __name__ == "__main__":
    main()

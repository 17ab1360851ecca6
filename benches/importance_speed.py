"""Time of ``get_param_importances`` with ferrotune's evaluators against Optuna's, on the
same trials.

For each study size, one set of uniform random configurations of a mixed 6-parameter space
(float, log float, stepped float, int, log int, categorical) with a synthetic objective is
loaded into a ferrotune study and an Optuna study (the same rows), and each library's
PED-ANOVA, MDI and fANOVA evaluators (their defaults: 64 trees of depth 64; seed 0) are
timed through ``get_param_importances``. The table gives seconds per call (the best of
``--repeat`` calls; Optuna's fANOVA runs once, in a forked process stopped after
``--optuna-fanova-limit`` seconds, its time then a lower bound), Optuna's time divided by
ferrotune's, and the largest difference of the normalised importances between the two
(fANOVA and MDI: different random forests, so close but not equal; PED-ANOVA: the same
numbers).

    PYTHONPATH=python python benches/importance_speed.py            # 1,000 and 10,000
    PYTHONPATH=python python benches/importance_speed.py --sizes 1000 --repeat 1
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import time
from collections.abc import Callable
from queue import Empty
from typing import Any

import numpy as np

from _common import quiet

EVALUATORS = (
    "PedAnovaImportanceEvaluator",
    "MeanDecreaseImpurityImportanceEvaluator",
    "FanovaImportanceEvaluator",
)
SHORT = {
    "FanovaImportanceEvaluator": "fANOVA",
    "PedAnovaImportanceEvaluator": "PED-ANOVA",
    "MeanDecreaseImpurityImportanceEvaluator": "MDI",
}


def _space(lib: Any) -> dict[str, Any]:
    d = lib.distributions
    return {
        "x": d.FloatDistribution(-5.0, 5.0),
        "lr": d.FloatDistribution(1e-5, 1e-1, log=True),
        "drop": d.FloatDistribution(0.0, 0.5, step=0.05),
        "layers": d.IntDistribution(1, 8),
        "units": d.IntDistribution(8, 512, log=True),
        "act": d.CategoricalDistribution(["relu", "tanh", "gelu"]),
    }


def _rows(n: int, seed: int) -> list[tuple[dict[str, Any], float]]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = {
            "x": float(rng.uniform(-5, 5)),
            "lr": float(math.exp(rng.uniform(math.log(1e-5), math.log(1e-1)))),
            "drop": float(0.05 * rng.integers(0, 11)),
            "layers": int(rng.integers(1, 9)),
            "units": int(
                min(512, max(8, round(math.exp(rng.uniform(math.log(8), math.log(512))))))
            ),
            "act": ["relu", "tanh", "gelu"][int(rng.integers(3))],
        }
        value = (
            (p["x"] / 5) ** 2 * 4
            + (math.log10(p["lr"]) + 3) ** 2 / 4
            + 0.5 * (p["act"] == "gelu")
            + 0.1 * p["layers"] * (p["x"] > 0)
            + 0.001 * p["units"]
        )
        out.append((p, value))
    return out


def _study(lib: Any, rows: list[tuple[dict[str, Any], float]]) -> Any:
    space = _space(lib)
    study = lib.create_study()
    study.add_trials(
        lib.trial.create_trial(params=p, distributions=space, value=v) for p, v in rows
    )
    return study


def _timed_in_child(call: Callable[[], dict[str, float]], limit: float) -> tuple[float, Any]:
    """One call in a forked process, stopped after ``limit`` seconds: (seconds, result),
    the result None when the limit was reached (the time is then a lower bound)."""
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def run() -> None:
        t0 = time.perf_counter()
        result = call()
        queue.put((time.perf_counter() - t0, result))

    child = ctx.Process(target=run)
    t0 = time.perf_counter()
    child.start()
    try:
        return queue.get(timeout=limit)
    except Empty:
        child.kill()
        return time.perf_counter() - t0, None
    finally:
        child.join()


def _best_time(call: Callable[[], dict[str, float]], repeat: int) -> tuple[float, dict[str, float]]:
    best, result = math.inf, {}
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = call()
        best = min(best, time.perf_counter() - t0)
    return best, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--optuna-fanova-limit",
        type=float,
        default=1800.0,
        help="stop Optuna's fANOVA after this many seconds (reported as a lower bound)",
    )
    args = parser.parse_args()
    quiet()
    import optuna

    import ferrotune
    import ferrotune.importance

    print("| trials | evaluator | ferrotune s | Optuna s | Optuna / ferrotune | max abs diff |")
    print("|---:|---|---:|---:|---:|---:|")
    for n in args.sizes:
        rows = _rows(n, seed=n)
        studies = {"ferrotune": _study(ferrotune, rows), "optuna": _study(optuna, rows)}
        for name in EVALUATORS:
            _row(n, name, studies, args)


def _row(n: int, name: str, studies: dict[str, Any], args: argparse.Namespace) -> None:
    import optuna

    import ferrotune

    times: dict[str, float] = {}
    results: dict[str, Any] = {}
    for lib_name, lib in (("ferrotune", ferrotune), ("optuna", optuna)):
        kwargs = {} if name == "PedAnovaImportanceEvaluator" else {"seed": 0}
        evaluator = getattr(lib.importance, name)(**kwargs)

        def call(lib: Any = lib, e: Any = evaluator, s: Any = studies[lib_name]) -> Any:
            return lib.importance.get_param_importances(s, evaluator=e)

        if lib_name == "optuna" and name == "FanovaImportanceEvaluator":
            times[lib_name], results[lib_name] = _timed_in_child(call, args.optuna_fanova_limit)
        else:
            times[lib_name], results[lib_name] = _best_time(call, args.repeat)
    mine, theirs = results["ferrotune"], results["optuna"]
    ratio = times["optuna"] / times["ferrotune"]
    if theirs is None:
        print(
            f"| {n:,} | {SHORT[name]} | {times['ferrotune']:.4f} "
            f"| > {times['optuna']:.0f} (stopped) | > {ratio:.0f}x | n/a |",
            flush=True,
        )
        return
    diff = max(abs(mine[k] - theirs[k]) for k in theirs)
    print(
        f"| {n:,} | {SHORT[name]} | {times['ferrotune']:.4f} | {times['optuna']:.3f} "
        f"| {ratio:.0f}x | {diff:.3f} |",
        flush=True,
    )


if __name__ == "__main__":
    main()

"""Solution quality of ferrotune's CmaEsSampler beside Optuna's CmaEsSampler and the
`cmaes` package (CyberAgent), on 10-D Rosenbrock, Ackley, Rastrigin and Levy.

Each run minimises one problem with a budget of evaluations; the table gives the
median (and quartiles) over seeds of the best value found. Ackley and Rastrigin are
shifted (optimum at 1.234 in every coordinate) so that the centre of the box, where
every CMA-ES starts, is not the optimum (Levy's, at 1, is off-centre already). All
three searches run in the box normalised to [0, 1] with mean 0.5 and sigma 1/6
(Optuna's defaults); the `cmaes` runs ask and tell whole generations directly.

Run (needs optuna and cmaes beside ferrotune):

    python benches/cmaes_quality.py --evals 1000 --seeds 20
"""

from __future__ import annotations

import argparse
import logging
import math
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import ferrotune

Problem = tuple[str, float, float, Callable[[np.ndarray], float]]
SHIFT = 1.234


def rosenbrock(x: np.ndarray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def ackley(x: np.ndarray) -> float:
    z = x - SHIFT
    n = len(z)
    return float(
        -20.0 * math.exp(-0.2 * math.sqrt(np.sum(z * z) / n))
        - math.exp(np.sum(np.cos(2 * math.pi * z)) / n)
        + 20.0
        + math.e
    )


def rastrigin(x: np.ndarray) -> float:
    z = x - SHIFT
    return float(10 * len(z) + np.sum(z * z - 10 * np.cos(2 * math.pi * z)))


def levy(x: np.ndarray) -> float:
    w = 1 + (x - 1) / 4
    head = math.sin(math.pi * w[0]) ** 2
    mid = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(math.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + math.sin(2 * math.pi * w[-1]) ** 2)
    return float(head + mid + tail)


PROBLEMS: list[Problem] = [
    ("rosenbrock", -5.0, 10.0, rosenbrock),
    ("ackley", -32.768, 32.768, ackley),
    ("rastrigin", -5.12, 5.12, rastrigin),
    ("levy", -10.0, 10.0, levy),
]


def _objective(problem: Problem, dim: int) -> Callable[[Any], float]:
    _, lo, hi, f = problem

    def objective(trial: Any) -> float:
        return f(np.array([trial.suggest_float(f"x{i}", lo, hi) for i in range(dim)]))

    return objective


def run_ferrotune(problem: Problem, dim: int, evals: int, seed: int, **kw: Any) -> float:
    sampler = ferrotune.samplers.CmaEsSampler(seed=seed, **kw)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective(problem, dim), n_trials=evals)
    return float(study.best_value)


def run_optuna(problem: Problem, dim: int, evals: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=seed))
    study.optimize(_objective(problem, dim), n_trials=evals)
    return float(study.best_value)


def run_cmaes(problem: Problem, dim: int, evals: int, seed: int, **kw: Any) -> float:
    import cmaes

    _, lo, hi, f = problem
    bounds = np.array([[0.0, 1.0]] * dim)
    opt = cmaes.CMA(mean=np.full(dim, 0.5), sigma=1 / 6, bounds=bounds, seed=seed, **kw)
    best, used = math.inf, 0
    while used < evals:
        sols = []
        for _ in range(opt.population_size):
            x = opt.ask()
            v = f(lo + x * (hi - lo))
            best, used = min(best, v), used + 1
            sols.append((x, v))
            if used == evals:
                break
        if len(sols) == opt.population_size:
            opt.tell(sols)
    return best


RUNNERS: dict[str, Callable[[Problem, int, int, int], float]] = {
    "ferrotune": run_ferrotune,
    "ferrotune-ipop": lambda p, d, e, s: run_ferrotune(p, d, e, s, restart_strategy="ipop"),
    "ferrotune-bipop": lambda p, d, e, s: run_ferrotune(p, d, e, s, restart_strategy="bipop"),
    "ferrotune-lr_adapt": lambda p, d, e, s: run_ferrotune(p, d, e, s, lr_adapt=True),
    "optuna": run_optuna,
    "cmaes": run_cmaes,
    "cmaes-lr_adapt": lambda p, d, e, s: run_cmaes(p, d, e, s, lr_adapt=True),
}


def mixed(trial: Any) -> float:
    """A mixed space: 6 floats in [-5, 5] (sphere around 1.234) and 4 categoricals of
    6 choices, each adding 10 unless it takes its one good choice."""
    x = np.array([trial.suggest_float(f"x{i}", -5, 5) for i in range(6)]) - SHIFT
    cats = [trial.suggest_categorical(f"c{i}", list("abcdef")) for i in range(4)]
    return float(np.sum(x * x) + sum(10.0 * (c != "abcd"[i]) for i, c in enumerate(cats)))


def run_mixed(name: str, evals: int, seed: int) -> float:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    if name == "optuna":
        study: Any = optuna.create_study(sampler=optuna.samplers.CmaEsSampler(seed=seed))
    else:
        cat = name == "ferrotune"
        sampler = ferrotune.samplers.CmaEsSampler(seed=seed, model_categorical=cat)
        study = ferrotune.create_study(sampler=sampler)
    study.optimize(mixed, n_trials=evals)
    return float(study.best_value)


def _p_value(a: list[float], b: list[float]) -> str:
    """Two-sided Mann-Whitney U p-value of ``a`` against ``b`` (scipy), or ''."""
    if a is b:
        return ""
    try:
        from scipy.stats import mannwhitneyu
    except ImportError:
        return "(no scipy)"
    return f"{mannwhitneyu(a, b, alternative='two-sided').pvalue:.3g}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--evals", type=int, default=1000)
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--dim", type=int, default=10)
    ap.add_argument("--only", nargs="*", default=list(RUNNERS), help="runners to include")
    ap.add_argument("--mixed", action="store_true", help="also the mixed space with categoricals")
    ap.add_argument("--problems", nargs="*", help="a subset of the problems (default: all)")
    args = ap.parse_args()
    logging.getLogger("ferrotune").setLevel(logging.WARNING)
    print(f"{args.dim}-D, {args.evals} evaluations, {args.seeds} seeds: best value")
    head = f"{'problem':<11} {'runner':<19} {'median':>11} {'q1':>11} {'q3':>11} {'s/run':>7}"
    print(f"{head} {'p vs ' + args.only[0]:>24}")
    for problem in PROBLEMS:
        if args.problems and problem[0] not in args.problems:
            continue
        first: list[float] = []
        for name in args.only:
            t0 = time.perf_counter()
            res = [RUNNERS[name](problem, args.dim, args.evals, s) for s in range(args.seeds)]
            per_run = (time.perf_counter() - t0) / args.seeds
            q1, med, q3 = statistics.quantiles(res, n=4, method="inclusive")
            row = f"{med:>11.4g} {q1:>11.4g} {q3:>11.4g} {per_run:>7.2f}"
            first = first or res
            print(f"{problem[0]:<11} {name:<19} {row} {_p_value(res, first):>24}")
    if args.mixed:
        for name in ("ferrotune", "ferrotune-nocat", "optuna"):
            t0 = time.perf_counter()
            res = [run_mixed(name, args.evals, s) for s in range(args.seeds)]
            per_run = (time.perf_counter() - t0) / args.seeds
            q1, med, q3 = statistics.quantiles(res, n=4, method="inclusive")
            row = f"{med:>11.4g} {q1:>11.4g} {q3:>11.4g} {per_run:>7.2f}"
            print(f"{'mixed':<11} {name:<19} {row}")


if __name__ == "__main__":
    main()

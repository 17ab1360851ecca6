"""Regret of RFSampler next to SMAC3's HPO facade, TPE, GP and random on a mixed/conditional suite.

Problems (all minimised, regret = value - optimum):

- ``transformer``: the running example (``ferrotune.examples.transformer_space`` /
  ``transformer_loss``, 9 parameters, two conditional on ``optimizer``); optimum 0.5.
- ``branin_cat``: Branin on ``x0 in [-5, 10], x1 in [0, 15]`` plus three categorical noise
  dimensions of five choices each that do not change the value; optimum 0.397887.
- ``digits_models``: scikit-learn's ``load_digits``, a choice of SVC (C, gamma), logistic
  regression (C) or k-NN (k, weights), each model's parameters conditional on the choice;
  the value is the 3-fold cross-validated log-loss.
- ``cancer_models``: ``load_breast_cancer`` (standardised), SVC (C, kernel in rbf/poly/linear,
  gamma only for rbf, degree only for poly: nested conditions), logistic regression (C,
  penalty) or a decision tree (max_depth, min_samples_leaf, criterion); 5-fold CV log-loss.

The two scikit-learn tasks are tabulated: cross-validation over every point of a fixed grid
(half-decade steps for log-scaled parameters, listed in ``_TASKS``) is run once and cached in
``benches/results/rf_tables/<task>.json``; the objective snaps each numeric parameter to the
nearest grid value (on the log scale for log parameters) and reads the table. Training on every
evaluation would cost 20 seeds x 200 trials x 5 methods x seconds per fit; the table keeps the
landscape of a real task while making all methods see exactly the same function. The optimum
is the best table entry. The value is the mean cross-validated log-loss (``predict_proba``;
SVC with ``probability=True``, Platt scaling with a fixed seed), a continuous score: with
1 - accuracy several grid points tied at the best value (a few of hundreds of images) and
every method reached the optimum within 100 trials, so regret could not tell methods apart.

Each (method, problem, seed) run is cached as
``benches/results/rf_quality/<method>/<problem>_<seed>.json`` (the 200 values in evaluation
order), so SMAC3's slow runs are computed once; ``--report`` reads the cache and prints
median best-so-far regret at budgets 50/100/200, and one-sided Mann-Whitney U p-values
(scipy) of RFSampler against SMAC3 (H1: RFSampler worse) and against random (H1: RFSampler
better).

Run (from benches/):
    PYTHONPATH=../python nice python rf_quality.py --methods smac --seeds 20      # slow peer
    PYTHONPATH=../python nice python rf_quality.py --methods rf,tpe,gp,random --seeds 20
    PYTHONPATH=../python python rf_quality.py --report --seeds 20
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import shutil
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).resolve().parent / "results"
TABLES = RESULTS / "rf_tables"
RUNS = RESULTS / "rf_quality"
BUDGETS = (50, 100, 200)
PROBLEMS = ("transformer", "branin_cat", "digits_models", "cancer_models")
METHODS = ("rf", "smac", "tpe", "gp", "random")

# A parameter: (kind, spec, condition) with kind in "float"/"int"/"cat"; spec (low, high, log,
# grid) for numeric parameters (grid None for a continuous problem) or the list of choices;
# condition None or (parent, [values]).
Spec = tuple[str, Any, Any]


def _half_decades(lo: int, hi: int) -> list[float]:
    """10**e for e = lo, lo + 0.5, ..., hi."""
    return [float(10.0 ** (e / 2.0)) for e in range(2 * lo, 2 * hi + 1)]


_TASKS: dict[str, dict[str, Spec]] = {
    "digits_models": {
        "model": ("cat", ["svc", "logreg", "knn"], None),
        "svc_C": ("float", (1e-2, 1e3, True, _half_decades(-2, 3)), ("model", ["svc"])),
        "svc_gamma": ("float", (1e-5, 1e-1, True, _half_decades(-5, -1)), ("model", ["svc"])),
        "logreg_C": ("float", (1e-4, 1e2, True, _half_decades(-4, 2)), ("model", ["logreg"])),
        "knn_k": ("int", (1, 30, False, list(range(1, 31))), ("model", ["knn"])),
        "knn_weights": ("cat", ["uniform", "distance"], ("model", ["knn"])),
    },
    "cancer_models": {
        "model": ("cat", ["svc", "logreg", "tree"], None),
        "svc_C": ("float", (1e-3, 1e3, True, _half_decades(-3, 3)), ("model", ["svc"])),
        "svc_kernel": ("cat", ["rbf", "poly", "linear"], ("model", ["svc"])),
        "svc_gamma": ("float", (1e-4, 1e1, True, _half_decades(-4, 1)), ("svc_kernel", ["rbf"])),
        "svc_degree": ("int", (2, 5, False, [2, 3, 4, 5]), ("svc_kernel", ["poly"])),
        "logreg_C": ("float", (1e-4, 1e3, True, _half_decades(-4, 3)), ("model", ["logreg"])),
        "logreg_penalty": ("cat", ["l1", "l2"], ("model", ["logreg"])),
        "tree_depth": ("int", (1, 20, False, list(range(1, 21))), ("model", ["tree"])),
        "tree_leaf": ("int", (1, 64, True, [1, 2, 4, 8, 16, 32, 64]), ("model", ["tree"])),
        "tree_criterion": ("cat", ["gini", "entropy"], ("model", ["tree"])),
    },
}

_TRANSFORMER: dict[str, Spec] = {
    "learning_rate": ("float", (1e-5, 1e-2, True, None), None),
    "d_model": ("cat", [128, 256, 512], None),
    "n_heads": ("cat", [4, 8, 16], None),
    "num_encoder_layers": ("int", (2, 6, False, None), None),
    "dropout": ("float", (0.1, 0.3, False, None), None),
    "activation": ("cat", ["relu", "gelu"], None),
    "optimizer": ("cat", ["adam", "sgd"], None),
    "beta1": ("float", (0.8, 0.99, False, None), ("optimizer", ["adam"])),
    "beta2": ("float", (0.9, 0.9999, False, None), ("optimizer", ["adam"])),
}

_BRANIN_CAT: dict[str, Spec] = {
    "x0": ("float", (-5.0, 10.0, False, None), None),
    "x1": ("float", (0.0, 15.0, False, None), None),
    **{f"noise{i}": ("cat", ["a", "b", "c", "d", "e"], None) for i in range(3)},
}


# --- The scikit-learn tables ---------------------------------------------------------------------


def _estimator(task: str, p: Mapping[str, Any]) -> Any:
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    m = p["model"]
    if m == "svc":
        kernel = p.get("svc_kernel", "rbf")
        kw: dict[str, Any] = {"C": p["svc_C"], "kernel": kernel}
        if kernel == "rbf":
            kw["gamma"] = p["svc_gamma"]
        if kernel == "poly":
            kw["degree"] = p["svc_degree"]
        est: Any = SVC(**kw, probability=True, random_state=0, max_iter=200_000)
    elif m == "logreg":
        solver = "liblinear" if "logreg_penalty" in p else "lbfgs"
        extra = {"penalty": p["logreg_penalty"]} if "logreg_penalty" in p else {}
        est = LogisticRegression(C=p["logreg_C"], solver=solver, max_iter=300, **extra)
    elif m == "knn":
        est = KNeighborsClassifier(n_neighbors=p["knn_k"], weights=p["knn_weights"])
    else:
        est = DecisionTreeClassifier(
            max_depth=p["tree_depth"],
            min_samples_leaf=p["tree_leaf"],
            criterion=p["tree_criterion"],
            random_state=0,
        )
    return make_pipeline(StandardScaler(), est) if task == "cancer_models" else est


def _grid_points(space: Mapping[str, Spec]) -> list[dict[str, Any]]:
    """Every active assignment of the grid (conditions respected)."""
    points: list[dict[str, Any]] = [{}]
    for name, (kind, spec, cond) in space.items():  # parents come before children
        values = spec if kind == "cat" else spec[3]
        new = []
        for p in points:
            if cond is not None and p.get(cond[0], None) not in cond[1]:
                new.append(p)
                continue
            new.extend({**p, name: v} for v in values)
        points = new
    return points


def _key(p: Mapping[str, Any]) -> str:
    return json.dumps(sorted(p.items()))


def tabulate(task: str) -> dict[str, float]:
    path = TABLES / f"{task}.json"
    if path.exists():
        return dict(json.loads(path.read_text()))
    from sklearn.datasets import load_breast_cancer, load_digits
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    x, y = (load_digits if task == "digits_models" else load_breast_cancer)(return_X_y=True)
    folds = 3 if task == "digits_models" else 5
    cv = StratifiedKFold(folds, shuffle=True, random_state=0)
    table: dict[str, float] = {}
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for p in _grid_points(_TASKS[task]):
            score = cross_val_score(_estimator(task, p), x, y, cv=cv, scoring="neg_log_loss")
            table[_key(p)] = float(-score.mean())
    print(f"# tabulated {task}: {len(table)} points in {time.perf_counter() - t0:.0f} s")
    TABLES.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(table, indent=0))
    return table


def _snap(value: float, grid: list[float], log: bool) -> float:
    f = math.log if log else float
    return min(grid, key=lambda g: abs(f(g) - f(value)))


def _table_objective(task: str) -> tuple[Callable[[Mapping[str, Any]], float], float]:
    table = tabulate(task)
    space = _TASKS[task]

    def fn(params: Mapping[str, Any]) -> float:
        p = {}
        for name, v in params.items():
            kind, spec, _ = space[name]
            p[name] = v if kind == "cat" else type(spec[3][0])(_snap(v, spec[3], spec[2]))
        return table[_key(p)]

    return fn, min(table.values())


def problem(name: str) -> tuple[dict[str, Spec], Callable[[Mapping[str, Any]], float], float]:
    """(space, objective, optimum)."""
    if name == "transformer":
        from ferrotune.examples import transformer_loss

        return _TRANSFORMER, transformer_loss, 0.5
    if name == "branin_cat":
        from ferrotune.benchmarks import get_problem

        br = get_problem("branin")
        return _BRANIN_CAT, lambda p: br({"x0": p["x0"], "x1": p["x1"]}), float(br.optimum)
    fn, best = _table_objective(name)
    return _TASKS[name], fn, best


# --- The methods ---------------------------------------------------------------------------------


def ferrotune_space(space: Mapping[str, Spec]) -> Any:
    from ferrotune._search_space import Condition, Divisible, SearchSpace
    from ferrotune.distributions import (
        CategoricalDistribution,
        FloatDistribution,
        IntDistribution,
    )

    dists: dict[str, Any] = {}
    conds = {}
    for name, (kind, spec, cond) in space.items():
        if kind == "cat":
            dists[name] = CategoricalDistribution(spec)
        elif kind == "float":
            dists[name] = FloatDistribution(spec[0], spec[1], log=spec[2])
        else:
            dists[name] = IntDistribution(spec[0], spec[1], log=spec[2])
        if cond is not None:
            conds[name] = Condition(cond[0], cond[1])
    constraints = [Divisible("d_model", "n_heads")] if "d_model" in space else []
    return SearchSpace(dists, conditions=conds, constraints=constraints)


def run_ferrotune(method: str, name: str, seed: int, budget: int) -> list[float]:
    import ferrotune
    import ferrotune.logging

    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    space_spec, fn, _ = problem(name)
    samplers = ferrotune.samplers
    sampler = {
        "rf": lambda: samplers.RFSampler(seed=seed),
        "tpe": lambda: samplers.TPESampler(seed=seed),
        "gp": lambda: samplers.GPSampler(seed=seed),
        "random": lambda: samplers.RandomSampler(seed=seed),
    }[method]()
    study = ferrotune.create_study(sampler=sampler)
    space = ferrotune_space(space_spec)
    values = []
    for _ in range(budget):
        trial = study.ask(space)
        v = float(fn(trial.params))
        study.tell(trial, v)
        values.append(v)
    return values


def smac_space(space: Mapping[str, Spec], seed: int) -> Any:
    from ConfigSpace import (
        Categorical,
        ConfigurationSpace,
        EqualsCondition,
        Float,
        InCondition,
        Integer,
    )

    cs = ConfigurationSpace(seed=seed)
    hps = {}
    for name, (kind, spec, _) in space.items():
        if kind == "cat":
            hps[name] = Categorical(name, spec)
        elif kind == "float":
            hps[name] = Float(name, (spec[0], spec[1]), log=spec[2])
        else:
            hps[name] = Integer(name, (spec[0], spec[1]), log=spec[2])
    cs.add(list(hps.values()))
    for name, (_, _, cond) in space.items():
        if cond is not None:
            parent, values = cond
            if len(values) == 1:
                cs.add(EqualsCondition(hps[name], hps[parent], values[0]))
            else:
                cs.add(InCondition(hps[name], hps[parent], values))
    return cs


def run_smac(name: str, seed: int, budget: int) -> list[float]:
    import logging

    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    logging.getLogger("smac").setLevel(logging.ERROR)
    space_spec, fn, _ = problem(name)
    out = Path(tempfile.mkdtemp(prefix="smac_rfq_"))
    try:
        scenario = Scenario(
            smac_space(space_spec, seed),
            deterministic=True,
            n_trials=budget,
            seed=seed,
            output_directory=out,
        )
        smac = HyperparameterOptimizationFacade(
            scenario, lambda config, seed=0: 0.0, overwrite=True, logging_level=40
        )
        values = []
        for _ in range(budget):
            info = smac.ask()
            v = float(fn(dict(info.config)))
            smac.tell(info, TrialValue(cost=v))
            values.append(v)
        return values
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_path(method: str, name: str, seed: int) -> Path:
    return RUNS / method / f"{name}_{seed}.json"


def run(method: str, name: str, seed: int, budget: int) -> list[float]:
    path = run_path(method, name, seed)
    if path.exists():
        cached = json.loads(path.read_text())
        if len(cached["values"]) >= budget:
            return list(cached["values"])[:budget]
    t0 = time.perf_counter()
    values = (
        run_smac(name, seed, budget)
        if method == "smac"
        else run_ferrotune(method, name, seed, budget)
    )
    elapsed = time.perf_counter() - t0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"values": values, "seconds": elapsed}))
    print(f"# {method} {name} seed {seed}: best {min(values):.5g} in {elapsed:.1f} s", flush=True)
    return values


# --- Report --------------------------------------------------------------------------------------


def _regrets(method: str, name: str, seeds: list[int], optimum: float) -> np.ndarray | None:
    rows = []
    for s in seeds:
        path = run_path(method, name, s)
        if not path.exists():
            return None
        rows.append(np.minimum.accumulate(np.asarray(json.loads(path.read_text())["values"])))
    return np.maximum(np.asarray(rows) - optimum, 0.0)


def report(methods: list[str], names: list[str], seeds: list[int]) -> None:
    from scipy.stats import mannwhitneyu

    print(f"median regret over {len(seeds)} seeds (best so far at each budget)\n")
    header = ["problem", "budget", *methods, "p(rf worse than smac)", "p(rf better than random)"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for name in names:
        _, _, optimum = problem(name)
        reg = {m: _regrets(m, name, seeds, optimum) for m in methods}
        for b in BUDGETS:
            cells = [name, str(b)]
            at = {m: (None if r is None or r.shape[1] < b else r[:, b - 1]) for m, r in reg.items()}
            cells += ["-" if at[m] is None else f"{np.median(at[m]):.4g}" for m in methods]
            for other, alt in (("smac", "greater"), ("random", "less")):
                a, o = at.get("rf"), at.get(other)
                if a is None or o is None:
                    cells.append("-")
                elif np.all(a == o):
                    cells.append("1 (identical)")
                else:
                    cells.append(f"{mannwhitneyu(a, o, alternative=alt).pvalue:.3g}")
            print("| " + " | ".join(cells) + " |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--methods", default=",".join(METHODS))
    ap.add_argument("--problems", default=",".join(PROBLEMS))
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--first-seed", type=int, default=0, help="run seeds first-seed..seeds-1")
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--report", action="store_true", help="only print the table from the cache")
    ap.add_argument(
        "--seed-list", default=None, help="report on these seeds, e.g. 0-5,10-15 (default: all)"
    )
    args = ap.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    names = [n for n in args.problems.split(",") if n]
    seeds = list(range(args.seeds))
    if args.report:
        if args.seed_list:
            seeds = []
            for part in args.seed_list.split(","):
                lo, _, hi = part.partition("-")
                seeds += list(range(int(lo), int(hi or lo) + 1))
        report(methods, names, seeds)
        return
    for name in names:
        problem(name)  # build the tables first
    # Seed-major, so that an interrupted run has the same seeds on every problem.
    for seed, name, method in itertools.product(seeds[args.first_seed :], names, methods):
        run(method, name, seed, args.budget)
    print(f"done: {len(seeds)} seeds", file=sys.stderr)


if __name__ == "__main__":
    main()

"""Gradient-based HPO against black-box samplers: validation loss per inner training.

Problems (scikit-learn's datasets, standardised on the training split; fixed splits):

- ``ridge-pf``: ridge regression on ``load_diabetes`` augmented to 80 features (the 10
  originals, their 45 pairwise products, and 25 standard normal noise features), one
  log-scaled L2 penalty per feature in [1e-4, 1e4] (80 hyperparameters); validation MSE.
- ``logreg-pf``: L2 logistic regression on ``load_breast_cancer`` (30 features), one
  log-scaled penalty per feature in [1e-4, 1e4] (30 hyperparameters); validation log-loss.
- ``ridge-1`` and ``logreg-1``: the same with one penalty for all features (one
  hyperparameter): where a gradient has little to offer over a black-box search.

Each trial is one inner training (closed form for ridge; L-BFGS to tolerance for logistic
regression) at the sampler's hyperparameters. The hypergradient sampler reports the exact
hypergradient from ``ferrotune.hypergradient`` (for ridge it costs no extra solve; for
logistic regression one conjugate-gradient solve with Hessian-vector products, counted in
its time, not in the trainings). The table gives, per problem and sampler, the median over
seeds of the best validation loss after 10, 25, 50 and 100 trainings, the test loss of the
final best configuration (held out: was the validation loss overfitted?) and seconds per run.

    python benches/hypergradient.py [--seeds 10] [--trials 100] [--problems ...]
                                    [--samplers hypergradient,tpe,gp,cmaes,random]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

Data = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _split(x: np.ndarray, y: np.ndarray, seed: int = 0) -> Data:
    """Fixed 40/30/30 train/validation/test split, standardised by the training split."""
    idx = np.random.default_rng(seed).permutation(len(y))
    a, b = int(0.4 * len(y)), int(0.7 * len(y))
    tr, va, te = idx[:a], idx[a:b], idx[b:]
    mu, sd = x[tr].mean(axis=0), x[tr].std(axis=0) + 1e-12
    z = (x - mu) / sd
    return z[tr], y[tr], z[va], y[va], z[te], y[te]


def diabetes_augmented() -> Data:
    from sklearn.datasets import load_diabetes

    x, y = load_diabetes(return_X_y=True)
    i, j = np.triu_indices(x.shape[1], k=1)
    noise = np.random.default_rng(0).normal(size=(x.shape[0], 25))
    return _split(np.hstack([x, x[:, i] * x[:, j], noise]), (y - y.mean()) / y.std())


def breast_cancer() -> Data:
    from sklearn.datasets import load_breast_cancer

    x, y = load_breast_cancer(return_X_y=True)
    return _split(x, y.astype(float))


class Problem:
    """A validation loss (and hypergradient) of per-feature or shared L2 penalties."""

    def __init__(self, name: str, data: Data, kind: str, shared: bool) -> None:
        self.name, self.data, self.kind, self.shared = name, data, kind, shared
        p = data[0].shape[1]
        self.names = ["alpha"] if shared else [f"a{j:02d}" for j in range(p)]
        self.trainings = 0

    def evaluate(self, alpha: Any, split: str = "val") -> Any:
        from ferrotune.hypergradient import logistic_hypergradient, ridge_hypergradient

        xt, yt, xv, yv, xs, ys = self.data
        xe, ye = (xv, yv) if split == "val" else (xs, ys)
        self.trainings += 1
        if self.kind == "ridge":
            return ridge_hypergradient(xt, yt, xe, ye, alpha)
        return logistic_hypergradient(xt, yt, xe, ye, alpha, tol=1e-8)

    def objective(self, report: bool) -> Callable[[Any], float]:
        def f(trial: Any) -> float:
            vals = [trial.suggest_float(n, 1e-4, 1e4, log=True) for n in self.names]
            alpha = vals[0] if self.shared else np.array(vals)
            hg = self.evaluate(alpha)
            if report:
                g = np.atleast_1d(hg.gradient)
                trial.report_gradient(dict(zip(self.names, map(float, g), strict=True)))
            return float(hg.value)

        return f


def problems() -> dict[str, Callable[[], Problem]]:
    return {
        "ridge-pf": lambda: Problem("ridge-pf", diabetes_augmented(), "ridge", False),
        "logreg-pf": lambda: Problem("logreg-pf", breast_cancer(), "logreg", False),
        "ridge-1": lambda: Problem("ridge-1", diabetes_augmented(), "ridge", True),
        "logreg-1": lambda: Problem("logreg-1", breast_cancer(), "logreg", True),
    }


def make_sampler(name: str, seed: int) -> Any:
    from ferrotune import samplers as s

    return {
        "hypergradient": lambda: s.HypergradientSampler(seed=seed),
        "tpe": lambda: s.TPESampler(seed=seed, multivariate=True),
        "gp": lambda: s.GPSampler(seed=seed),
        "cmaes": lambda: s.CmaEsSampler(seed=seed),
        "random": lambda: s.RandomSampler(seed=seed),
    }[name]()


def run(problem: Problem, sampler: str, seed: int, n_trials: int) -> dict[str, Any]:
    import ferrotune

    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    study = ferrotune.create_study(sampler=make_sampler(sampler, seed))
    t0 = time.perf_counter()
    study.optimize(problem.objective(report=sampler == "hypergradient"), n_trials=n_trials)
    seconds = time.perf_counter() - t0
    values = [t.value for t in study.trials]
    best = np.minimum.accumulate(values)
    params = study.best_params
    alpha = params["alpha"] if problem.shared else np.array([params[n] for n in problem.names])
    test = float(problem.evaluate(alpha, split="test").value)
    return {"best": best.tolist(), "test": test, "seconds": seconds}


def table(results: dict[tuple[str, str], list[dict[str, Any]]], budgets: list[int]) -> str:
    head = " | ".join(f"val@{b}" for b in budgets)
    lines = [
        f"| problem | sampler | {head} | test (best) | s/run |",
        "|---|---|" + "---|" * (len(budgets) + 2),
    ]
    for (prob, samp), runs in results.items():
        cells = [f"{statistics.median(r['best'][b - 1] for r in runs):.4f}" for b in budgets]
        test = statistics.median(r["test"] for r in runs)
        secs = statistics.median(r["seconds"] for r in runs)
        lines.append(f"| {prob} | {samp} | {' | '.join(cells)} | {test:.4f} | {secs:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--problems", default="ridge-pf,logreg-pf,ridge-1,logreg-1")
    ap.add_argument("--samplers", default="hypergradient,tpe,gp,cmaes,random")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    budgets = [b for b in (10, 25, 50, 100, 200, 400) if b <= args.trials]
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    makers = problems()
    for pname in args.problems.split(","):
        problem = makers[pname]()
        for sampler in args.samplers.split(","):
            runs = [run(problem, sampler, seed, args.trials) for seed in range(args.seeds)]
            results[(pname, sampler)] = runs
            print(f"{pname} {sampler}: done", file=sys.stderr, flush=True)
    print(f"median over {args.seeds} seeds, {args.trials} trainings per run")
    print(table(results, budgets))


if __name__ == "__main__":
    main()

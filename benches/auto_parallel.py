"""Parallel workers and AutoSampler's choice: the samplers in synchronous batches of ``q``.

``q`` workers are simulated in one process: each round asks ``q`` trials (all RUNNING
together, so every sampler sees the others as pending: the GP's Kriging believer, TPE's
constant liar, CMA-ES's generation), evaluates them and tells them all. With ``q = 1`` this
is the sequential run. Each run's best-so-far regret at 50 and 200 trials (those within the
budget) is appended to ``--out`` (JSON lines); ``--report`` prints the median per (problem,
budget, sampler, q), the ratio of the median at ``q`` to the sequential one, and one-sided
Mann-Whitney U p-values of AutoSampler against each other sampler at the same ``q``.

Samplers: ``auto`` (AutoSampler), ``auto-gp`` (AutoSampler without its trust-region rule),
``trust`` (TrustRegionSampler), ``gp`` (GPSampler), ``tpe`` (TPESampler, multivariate,
constant liar), ``cmaes`` (CmaEsSampler), ``random``.

Run (from benches/, in the peers' environment):
    PYTHONPATH=../python nice python auto_parallel.py --problems branin,hartmann6,levy10s \\
        --samplers auto,tpe,cmaes --batches 1,8 --seeds 10 --budget 200 --out par.jsonl
    PYTHONPATH=../python python auto_parallel.py --report --out par.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

import suite
from _common import fmt, markdown_table, parse_list, quiet

AT = (50, 200, 1000)


def make_sampler(name: str, seed: int) -> Any:
    from ferrotune import samplers

    if name == "auto":
        return samplers.AutoSampler(seed=seed)
    if name == "auto-gp":
        return samplers.AutoSampler(seed=seed, trust_region=False)
    if name == "trust":
        return samplers.TrustRegionSampler(seed=seed)
    if name == "gp":
        return samplers.GPSampler(seed=seed)
    if name == "tpe":
        return samplers.TPESampler(
            seed=seed, multivariate=True, constant_liar=True, warn_independent_sampling=False
        )
    if name == "cmaes":
        return samplers.CmaEsSampler(seed=seed)
    if name == "random":
        return samplers.RandomSampler(seed=seed)
    raise ValueError(f"unknown sampler {name!r}")


def run(name: str, label: str, seed: int, budget: int, q: int) -> list[float]:
    """The objective values of one run in the order the trials were asked."""
    import ferrotune

    problem = suite.build_problem(label, seed)
    study = ferrotune.create_study(sampler=make_sampler(name, seed))
    values: list[float] = []
    while len(values) < budget:
        batch = []
        for _ in range(min(q, budget - len(values))):
            trial = study.ask(problem.search_space) if problem.conditional else study.ask()
            if problem.conditional:
                params = dict(trial.params)
            else:
                params = suite.suggest_active(trial, problem)
            batch.append((trial, params))
        for trial, params in batch:
            value = suite.evaluate(problem, params)
            study.tell(trial, value)
            values.append(value)
    return values


def report(out: Path) -> None:
    from scipy.stats import mannwhitneyu

    runs: dict[tuple[str, str, int], dict[int, dict[str, float]]] = defaultdict(dict)
    for line in out.read_text().splitlines():
        r = json.loads(line)
        runs[(r["problem"], r["sampler"], r["q"])][r["seed"]] = r["regret"]
    labels = list(dict.fromkeys(k[0] for k in runs))
    names = list(dict.fromkeys(k[1] for k in runs))
    qs = sorted({k[2] for k in runs})
    rows = []
    for label in labels:
        for b in AT:
            for q in qs:
                present = [n for n in names if (label, n, q) in runs]
                if not present or str(b) not in next(iter(runs[(label, present[0], q)].values())):
                    continue
                seeds = sorted(set.intersection(*(set(runs[(label, n, q)]) for n in present)))
                regret = {n: [runs[(label, n, q)][s][str(b)] for s in seeds] for n in present}
                for n in present:
                    med = float(np.median(regret[n]))
                    seq = runs.get((label, n, 1))
                    ratio = "-"
                    if q != 1 and seq is not None and all(s in seq for s in seeds):
                        m1 = float(np.median([seq[s][str(b)] for s in seeds]))
                        ratio = fmt(med / m1) if m1 > 0 else "-"
                    p = "-"
                    if n != "auto" and "auto" in regret:
                        worse = mannwhitneyu(regret["auto"], regret[n], alternative="greater")
                        better = mannwhitneyu(regret["auto"], regret[n], alternative="less")
                        p = f"{worse.pvalue:.3f} / {better.pvalue:.3f}"
                    rows.append([label, b, q, n, len(seeds), fmt(med), ratio, p])
    header = ["problem", "budget", "q", "sampler", "seeds", "median regret"]
    header += ["/ sequential", "p auto worse / better"]
    print(markdown_table(header, rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--problems", help="comma-separated suite labels")
    ap.add_argument("--samplers", default="auto,tpe,cmaes")
    ap.add_argument("--batches", default="1,8", help="comma-separated batch sizes q")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--out", required=True, help="JSON lines of runs (appended)")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    quiet()
    out = Path(args.out)
    if args.report:
        report(out)
        return 0
    labels = parse_list(args.problems) or []
    if not labels:
        ap.error("--problems is needed to run")
    names = parse_list(args.samplers) or []
    batches = [int(q) for q in parse_list(args.batches) or []]
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        for label in labels:
            optimum = suite.build_problem(label, seed).optimum
            for q in batches:
                for name in names:
                    values = run(name, label, seed, args.budget, q)
                    regret = {str(b): min(values[:b]) - optimum for b in AT if b <= args.budget}
                    rec = {"sampler": name, "problem": label, "seed": seed, "q": q}
                    rec["regret"] = regret
                    with out.open("a") as fh:
                        fh.write(json.dumps(rec) + "\n")
                    print(rec, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

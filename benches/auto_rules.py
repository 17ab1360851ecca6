"""AutoSampler's rules, measured: variants of its GP phase and CMA-ES warm start on suite
problems, beside the single samplers cached by ``suite.py``.

A variant is ``name=gp_trials:patience:alpha[:gp]`` (``gp_trials`` and ``patience`` as
AutoSampler's arguments, ``-`` for None; ``alpha``: the warm start's least step size,
``_WARM_ALPHA``; ``gp``: the GP's options from 10 parameters on, ``_GP_OPTIONS_HIGH_DIM``:
``power``, ``warp`` or ``power+warp``). Each run's best-so-far regret at 50, 200 and 1,000
trials (those within the budget) is appended to ``--out`` (JSON lines); ``--report`` prints
the median per (problem, variant) and, from ``suite.py``'s cache for the same seeds,
ferrotune's GP, TPE and CMA-ES and Optuna's TPE and CMA-ES.

Run (from benches/, in the peers' environment):
    PYTHONPATH=../python nice python auto_rules.py --variants gp100=100:-:0.1,stall=-:40:0.1 \\
        --problems hartmann6,levy10s --seeds 5 --budget 1000 --out rules.jsonl
    PYTHONPATH=../python python auto_rules.py --report --out rules.jsonl
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

import suite
from _common import fmt, markdown_table, parse_list, quiet

PEERS = ("ferrotune:gp", "ferrotune:tpe", "ferrotune:cmaes", "optuna:tpe", "optuna:cmaes")
AT = (50, 200, 1000)


Variant = tuple[str, int | None, int | None, float, dict[str, object]]


def parse_variant(text: str) -> Variant:
    name, _, spec = text.partition("=")
    gp, patience, alpha, *options = spec.split(":")
    opts: dict[str, object] = {}
    for o in options[0].split("+") if options else []:
        opts.update({"power": {"output_transform": "power"}, "warp": {"input_warping": True}}[o])
    return (
        name,
        None if gp == "-" else int(gp),
        None if patience == "-" else int(patience),
        float(alpha),
        opts,
    )


def run(variant: Variant, label: str, seed: int, budget: int) -> list[float]:
    import ferrotune
    from ferrotune.samplers import _auto

    _, gp_trials, patience, alpha, options = variant
    _auto._WARM_ALPHA = alpha
    _auto._GP_OPTIONS_HIGH_DIM = options
    problem = suite.build_problem(label, seed)
    sampler = ferrotune.samplers.AutoSampler(seed=seed, gp_trials=gp_trials, patience=patience)
    study = ferrotune.create_study(sampler=sampler)
    values = []
    for _ in range(budget):
        trial = study.ask(problem.search_space) if problem.conditional else study.ask()
        params = dict(trial.params) if problem.conditional else suite.suggest_active(trial, problem)
        value = suite.evaluate(problem, params)
        study.tell(trial, value)
        values.append(value)
    return values


def report(out: Path) -> None:
    runs: dict[tuple[str, str], dict[int, dict[str, float]]] = defaultdict(dict)
    for line in out.read_text().splitlines():
        r = json.loads(line)
        runs[(r["problem"], r["variant"])][r["seed"]] = r["regret"]
    variants = list(dict.fromkeys(v for _, v in runs))
    rows = []
    for label in dict.fromkeys(p for p, _ in runs):
        seeds = sorted(
            set.intersection(*(set(runs[(label, v)]) for v in variants if (label, v) in runs))
        )
        optimum = {s: suite.build_problem(label, s).optimum for s in seeds}
        for b in AT:
            row: list[object] = [label, b, len(seeds)]
            if str(b) not in next(iter(runs[(label, variants[0])].values())):
                continue
            row += [
                fmt(float(np.median([runs[(label, v)][s][str(b)] for s in seeds])))
                for v in variants
            ]
            for m in PEERS:
                recs = [suite.cached(m, label, s, b) for s in seeds]
                ok = all(r is not None for r in recs)
                row.append(
                    fmt(
                        float(
                            np.median(
                                [
                                    min(r["values"][:b]) - optimum[s]
                                    for r, s in zip(recs, seeds, strict=True)
                                ]
                            )
                        )
                    )
                    if ok
                    else "-"
                )
            rows.append(row)
    print(markdown_table(["problem", "budget", "seeds", *variants, *PEERS], rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--variants", help="comma-separated name=gp_trials:patience:alpha")
    ap.add_argument("--problems", help="comma-separated suite labels")
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--out", required=True, help="JSON lines of runs (appended)")
    ap.add_argument("--report", action="store_true")
    args = ap.parse_args(argv)
    quiet()
    out = Path(args.out)
    if args.report:
        report(out)
        return 0
    variants = [parse_variant(v) for v in parse_list(args.variants) or []]
    labels = parse_list(args.problems) or []
    if not variants or not labels:
        ap.error("--variants and --problems are needed to run")
    for seed in range(args.seeds):
        for label in labels:
            optimum = suite.build_problem(label, seed).optimum
            for variant in variants:
                values = run(variant, label, seed, args.budget)
                regret = {str(b): min(values[:b]) - optimum for b in AT if b <= args.budget}
                rec = {"variant": variant[0], "problem": label, "seed": seed, "regret": regret}
                with out.open("a") as fh:
                    fh.write(json.dumps(rec) + "\n")
                print(rec, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Overhead per trial (ask + tell, no objective cost) of RFSampler next to SMAC3's HPO facade.

Both optimisers get the same history of ``n - window - 1`` uniformly random trials of the
``branin_cat`` problem of ``rf_quality.py`` (Branin plus three categorical noise
dimensions), told without asking, then one untimed ask/tell (SMAC3 first returns its
one-point initial design), then ``window`` timed ask/tell pairs: the mean time per trial
in the window of trials that ends at ``n``. SMAC3 fits its model once per 8 asks
(``retrain_after``), so the window averages over its refits; RFSampler refits on every
ask. Measuring a window instead of a whole run keeps SMAC3 at 1,000 trials affordable.

Run (from benches/):
    PYTHONPATH=../python nice python rf_overhead.py --n 200,1000 --window 24 --repeats 3
"""

from __future__ import annotations

import argparse
import logging
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

import rf_quality as q


def _history(n: int, seed: int) -> list[tuple[dict[str, Any], float]]:
    _, fn, _ = q.problem("branin_cat")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        p = {
            "x0": float(rng.uniform(-5.0, 10.0)),
            "x1": float(rng.uniform(0.0, 15.0)),
            **{f"noise{i}": str(rng.choice(["a", "b", "c", "d", "e"])) for i in range(3)},
        }
        out.append((p, float(fn(p))))
    return out


def time_rf(n: int, window: int, seed: int) -> float:
    import ferrotune
    import ferrotune.logging
    from ferrotune.trial import create_trial

    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    space_spec, fn, _ = q.problem("branin_cat")
    space = q.ferrotune_space(space_spec)
    study = ferrotune.create_study(sampler=ferrotune.samplers.RFSampler(seed=seed))
    for p, v in _history(n - window - 1, seed):
        study.add_trial(create_trial(params=p, distributions=space.distributions, value=v))
    values = []
    t0 = 0.0
    for i in range(window + 1):
        if i == 1:
            t0 = time.perf_counter()
        trial = study.ask(space)
        v = fn(trial.params)
        study.tell(trial, v)
        values.append(v)
    return (time.perf_counter() - t0) / window


def time_smac(n: int, window: int, seed: int) -> float:
    from ConfigSpace import Configuration
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialInfo, TrialValue

    logging.getLogger("smac").setLevel(logging.ERROR)
    space_spec, fn, _ = q.problem("branin_cat")
    cs = q.smac_space(space_spec, seed)
    out = Path(tempfile.mkdtemp(prefix="smac_rfo_"))
    try:
        scenario = Scenario(
            cs, deterministic=True, n_trials=n + 10, seed=seed, output_directory=out
        )
        smac = HyperparameterOptimizationFacade(
            scenario,
            lambda config, seed=0: 0.0,
            initial_design=HyperparameterOptimizationFacade.get_initial_design(
                scenario, n_configs=1
            ),
            overwrite=True,
            logging_level=40,
        )
        for p, v in _history(n - window - 1, seed):
            smac.tell(TrialInfo(Configuration(cs, values=p), seed=0), TrialValue(cost=v))
        t0 = 0.0
        for i in range(window + 1):
            if i == 1:
                t0 = time.perf_counter()
            info = smac.ask()
            smac.tell(info, TrialValue(cost=fn(dict(info.config))))
        return (time.perf_counter() - t0) / window
    finally:
        shutil.rmtree(out, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", default="200,1000")
    ap.add_argument("--window", type=int, default=24)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--smac-repeats", type=int, default=None, help="default: --repeats")
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    rows = []
    for n in [int(v) for v in args.n.split(",")]:
        rf = [time_rf(n, args.window, s) for s in range(args.repeats)]
        sm = [time_smac(n, args.window, s) for s in range(args.smac_repeats or args.repeats)]
        rows.append((n, np.median(rf), np.median(sm)))
        print(f"# n={n}: rf {rf} smac {sm}", flush=True)
    print(
        f"\nmean ask+tell time per trial, window of {args.window} trials ending at n,"
        " median of repeats\n"
    )
    print("| trials | RFSampler (ms) | SMAC3 HPO (ms) | SMAC3 / RFSampler |")
    print("|---|---|---|---|")
    for n, rf, sm in rows:
        print(f"| {n} | {1e3 * rf:.1f} | {1e3 * sm:.0f} | {sm / rf:.0f}x |")


if __name__ == "__main__":
    main()

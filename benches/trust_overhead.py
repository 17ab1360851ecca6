"""TrustRegionSampler's time per trial against the peers' local and default samplers.

Each method runs the same ask-and-tell loop of ``suite.py`` (``suite.ask_tell_run`` and
``suite.ngopt_run``) for ``--budget`` trials on a 10-D and a 40-D suite problem (the
objective itself costs microseconds), ``--seeds`` times; the table gives the median
milliseconds per trial and the ratio to TrustRegionSampler's, in one run on one machine.
Peers: Nevergrad's NGOpt told the budget (COBYLA at these budgets and dimensions),
Optuna 5's CmaEsSampler and TPESampler (its default).

Run (from benches/, in the peers' environment):
    PYTHONPATH=../python nice python trust_overhead.py --budget 200 --seeds 3
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import suite
from _common import markdown_table, quiet, version

METHODS = ["ferrotune:trust", "nevergrad:ngopt", "optuna:cmaes", "optuna:tpe"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budget", type=int, default=200)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--problems", default="rosenbrock10s,sum_squares40s")
    args = ap.parse_args()
    quiet()
    rows = []
    for label in args.problems.split(","):
        ms: dict[str, float] = {}
        for method in METHODS:
            run = suite.make_run(method)
            if run is None:
                continue
            times = []
            for seed in range(args.seeds):
                problem = suite.build_problem(label, seed)
                t0 = time.perf_counter()
                run(problem, args.budget, seed)
                times.append((time.perf_counter() - t0) / args.budget * 1e3)
            ms[method] = float(np.median(times))
        base = ms["ferrotune:trust"]
        for method, v in ms.items():
            rows.append([label, method, f"{v:.3g}", f"{v / base:.1f}"])
    print(markdown_table(["problem", "method", "ms / trial", "ratio to trust"], rows))
    print(f"\nversions: nevergrad {version('nevergrad')}, optuna {version('optuna')}")


if __name__ == "__main__":
    main()

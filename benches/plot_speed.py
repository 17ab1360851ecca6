"""Time to build the plots of a 10,000-trial study: ferrotune.visualization against
optuna.visualization on the same trials.

Both studies hold the same trials (made with each library's ``create_trial`` and
``add_trials``): 5 parameters (two uniform floats, a log-scale float, an int and a
3-way categorical), one objective, ten intermediate values each. Each plot function is
timed from the call to the returned figure (plotly ``Figure`` or matplotlib ``Axes``; no
image is rendered), the median of ``--repeats`` calls. A call that runs past
``--timeout`` seconds is stopped and reported as such.

    python benches/plot_speed.py [--n 10000] [--repeats 3] [--timeout 300] [--quick]
                                 [--out results.jsonl]
"""

from __future__ import annotations

import argparse
import json
import signal
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

#: (label, function name, keyword arguments): the plots timed, in order.
PLOTS: list[tuple[str, str, dict[str, Any]]] = [
    ("optimization_history", "plot_optimization_history", {}),
    ("intermediate_values", "plot_intermediate_values", {}),
    ("parallel_coordinate", "plot_parallel_coordinate", {}),
    ("contour x-lr (float, log)", "plot_contour", {"params": ["x", "lr"]}),
    ("contour n-lr (int, log)", "plot_contour", {"params": ["n", "lr"]}),
    ("contour x-c (float, categorical)", "plot_contour", {"params": ["x", "c"]}),
    ("slice", "plot_slice", {}),
    ("edf", "plot_edf", {}),
    ("rank x-lr", "plot_rank", {"params": ["x", "lr"]}),
    ("timeline", "plot_timeline", {}),
]
MATPLOTLIB = [
    "optimization_history",
    "intermediate_values",
    "parallel_coordinate",
    "contour x-lr (float, log)",
]


def trial_data(n: int, seed: int = 0) -> list[tuple[dict[str, Any], float]]:
    rng = np.random.default_rng(seed)
    x = rng.uniform(-5, 5, n)
    y = rng.uniform(-5, 5, n)
    lr = 10 ** rng.uniform(-5, -1, n)
    k = rng.integers(1, 11, n)
    c = rng.choice(["relu", "tanh", "gelu"], n)
    value = x**2 + y**2 + (np.log10(lr) + 3) ** 2 + 0.1 * k + (c == "tanh")
    return [
        (
            {
                "x": float(x[i]),
                "y": float(y[i]),
                "lr": float(lr[i]),
                "n": int(k[i]),
                "c": str(c[i]),
            },
            float(value[i]),
        )
        for i in range(n)
    ]


def build(lib: Any, data: list[tuple[dict[str, Any], float]]) -> Any:
    d = lib.distributions
    dists = {
        "x": d.FloatDistribution(-5, 5),
        "y": d.FloatDistribution(-5, 5),
        "lr": d.FloatDistribution(1e-5, 1e-1, log=True),
        "n": d.IntDistribution(1, 10),
        "c": d.CategoricalDistribution(["relu", "tanh", "gelu"]),
    }
    study = lib.create_study()
    # Ten intermediate values per trial, as a learning curve reported with Trial.report.
    study.add_trials(
        [
            lib.trial.create_trial(
                params=p,
                distributions=dists,
                value=v,
                intermediate_values={s: v + 1.0 / (s + 1) for s in range(10)},
            )
            for p, v in data
        ]
    )
    return study


class _PlotTimeoutError(Exception):
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise _PlotTimeoutError


def timed(call: Callable[[], Any], repeats: int, timeout: float) -> float | None:
    """Median seconds of ``repeats`` calls (one call when the first takes over 10 s);
    None when a call runs past ``timeout``."""
    times = []
    for _ in range(repeats):
        signal.signal(signal.SIGALRM, _alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
        start = time.perf_counter()
        try:
            call()
        except _PlotTimeoutError:
            return None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            _close_figures()
        times.append(time.perf_counter() - start)
        if times[-1] > 10:
            break
    return statistics.median(times)


def _close_figures() -> None:
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--quick", action="store_true", help="1,000 trials, one repeat")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.quick:
        args.n, args.repeats = 1000, 1
    import matplotlib

    matplotlib.use("Agg")
    import optuna
    import optuna.visualization as ovis
    import optuna.visualization.matplotlib as ovis_mpl

    import ferrotune
    import ferrotune.visualization as fvis
    import ferrotune.visualization.matplotlib as fvis_mpl

    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.simplefilter("ignore")
    data = trial_data(args.n)
    studies = {"ferrotune": build(ferrotune, data), "optuna": build(optuna, data)}
    modules = {"ferrotune": (fvis, fvis_mpl), "optuna": (ovis, ovis_mpl)}
    rows = []
    for label, name, kwargs in PLOTS:
        for backend in ("plotly", "matplotlib"):
            if backend == "matplotlib" and label not in MATPLOTLIB:
                continue
            row: dict[str, Any] = {"plot": label, "backend": backend, "n": args.n}
            for lib in ("ferrotune", "optuna"):
                fn = getattr(modules[lib][backend == "matplotlib"], name)
                study = studies[lib]
                row[lib] = timed(
                    lambda fn=fn, s=study, kw=kwargs: fn(s, **kw), args.repeats, args.timeout
                )
            rows.append(row)
            print(json.dumps(row), flush=True)
            if args.out:
                with open(args.out, "a") as f:
                    f.write(json.dumps(row) + "\n")
    print_table(rows, args)


def _fmt(t: float | None, timeout: float) -> str:
    return f"> {timeout:.0f} s (stopped)" if t is None else f"{t:.3f} s"


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace) -> None:
    print(f"\n{args.n} trials, median of {args.repeats} (figure built, not rendered)\n")
    print("| plot | backend | ferrotune | optuna | optuna / ferrotune |")
    print("|---|---|---:|---:|---:|")
    for r in rows:
        f, o = r["ferrotune"], r["optuna"]
        if f is None or o is None:
            ratio = f"> {args.timeout / f:.0f}" if f and o is None else "n/a"
        else:
            ratio = f"{o / f:.1f}"
        print(
            f"| {r['plot']} | {r['backend']} | {_fmt(f, args.timeout)} | "
            f"{_fmt(o, args.timeout)} | {ratio} |"
        )


if __name__ == "__main__":
    main()

"""Time per ask + tell of Gaussian-process samplers at n completed trials, on a 10-D float space.

Running a GP sampler to 1,000 trials takes hours with some peers, so each measurement starts
from a study pre-filled with ``n`` uniformly random points (the same points for every library),
then takes one untimed warm-up step (the first fit on those points, timed separately as the
"first step") and times the following steps.  A step is ask + 10 suggests + objective + tell.
The objective is 10-D Ackley from ``ferrotune.benchmarks`` (cheap next to a GP step).

ferrotune's GPSampler refits the model on every trial up to 200 observations and beyond that
only once the data have grown by 5%, with cheap appends in between; to time a representative
mix, ferrotune is timed over ``max(--steps, ceil(n / 20))`` steps (one whole refit period) and
the mean per step is reported.  The peers refit on every step and are timed over ``--steps``.
Libraries are interleaved and the whole thing repeated; the table shows the median over
repeats and ratios peer/ferrotune.  A (library, n) cell that exceeds ``--max-seconds`` is
interrupted and reported as skipped, and so are that library's larger n.

    python benches/gp.py [--quick] [--out results.jsonl] [--ns 100,300,1000] [--steps 5]
                         [--repeats 3] [--max-seconds 600] [--libraries ferrotune,optuna,skopt]

``--libraries`` also takes ``ferrotune-warp`` (ferrotune's GP with input warping only) and
``ferrotune-warp-power`` (with input warping and the power output transform), timed like
``ferrotune``, the GP with its defaults (neither option on this 10-D space: the defaults turn
both on below 10 parameters); not run by default.
"""

from __future__ import annotations

import argparse
import math
import signal
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from _common import (
    Recorder,
    fmt,
    load,
    load_benchmarks,
    markdown_table,
    median,
    parse_list,
    print_versions,
    quiet,
    version,
)

GP_LIBRARIES = ("ferrotune", "ferrotune-warp", "ferrotune-warp-power", "optuna", "skopt")
DEFAULT_LIBRARIES = ("ferrotune", "optuna", "skopt")
# ferrotune's GPSampler with options, by the name given to --libraries.
VARIANTS: dict[str, dict[str, Any]] = {
    "ferrotune-warp": {"input_warping": True, "output_transform": None},
    "ferrotune-warp-power": {"input_warping": True, "output_transform": "power"},
}
DIM = 10

# A cell takes (points, values, steps, seed) and returns the first step's time and the time of
# each timed step, in seconds.
Cell = Callable[[np.ndarray, list[float], int, int], tuple[float, list[float]]]


class OverBudgetError(BaseException):  # not swallowed by `except Exception`
    pass


def _alarm(signum: int, frame: Any) -> None:
    raise OverBudgetError


def _frozen_trial(mod: Any, params: dict[str, float], dists: dict[str, Any], value: float) -> Any:
    """A COMPLETE trial to pre-fill a study with, through ``create_trial`` where it exists."""
    create = getattr(mod.trial, "create_trial", None)
    if create is not None:
        return create(value=value, params=params, distributions=dists)
    return mod.trial.FrozenTrial(
        number=0,
        state=mod.trial.TrialState.COMPLETE,
        value=value,
        datetime_start=None,
        datetime_complete=None,
        params=params,
        distributions=dists,
        user_attrs={},
        system_attrs={},
        intermediate_values={},
    )


def ask_tell_cell(library: str, problem: Any, **options: Any) -> Cell | None:
    """ferrotune and optuna: ``add_trials`` to pre-fill, then ask/suggest/tell steps;
    ``options`` go to the ``GPSampler``."""
    mod = load(library)
    if mod is None or not hasattr(mod.samplers, "GPSampler"):
        return None
    if library == "optuna":
        try:
            import torch  # noqa: F401  (optuna's GPSampler needs it)
        except Exception as exc:
            print(f"# skipping optuna: its GPSampler needs torch ({exc})", file=sys.stderr)
            return None
    names = list(problem.params)
    bounds = [(p.low, p.high) for p in problem.params.values()]
    dists = {
        n: mod.distributions.FloatDistribution(lo, hi)
        for n, (lo, hi) in zip(names, bounds, strict=True)
    }

    def cell(points: np.ndarray, values: list[float], steps: int, seed: int) -> Any:
        sampler = mod.samplers.GPSampler(seed=seed, **options)
        study = mod.create_study(direction="minimize", sampler=sampler)
        study.add_trials(
            _frozen_trial(mod, dict(zip(names, map(float, x), strict=True)), dists, v)
            for x, v in zip(points, values, strict=True)
        )
        clock = time.perf_counter
        times = []
        for _ in range(steps + 1):
            t0 = clock()
            trial = study.ask()
            params = {
                n: trial.suggest_float(n, lo, hi) for n, (lo, hi) in zip(names, bounds, strict=True)
            }
            study.tell(trial, problem(params))
            times.append(clock() - t0)
        return times[0], times[1:]

    return cell


def skopt_cell(problem: Any) -> Cell | None:
    """scikit-optimize: ``Optimizer(base_estimator="GP", acq_func="EI")``, ``tell`` of lists."""
    if load("skopt") is None:
        return None
    from skopt import Optimizer
    from skopt.space import Real

    names = list(problem.params)
    dims = [Real(p.low, p.high, name=n) for n, p in problem.params.items()]

    def cell(points: np.ndarray, values: list[float], steps: int, seed: int) -> Any:
        opt = Optimizer(dims, base_estimator="GP", acq_func="EI", random_state=seed)
        opt.tell([list(map(float, x)) for x in points], list(values))
        clock = time.perf_counter
        times = []
        for _ in range(steps + 1):
            t0 = clock()
            x = opt.ask()
            opt.tell(x, problem(dict(zip(names, x, strict=True))))
            times.append(clock() - t0)
        return times[0], times[1:]

    return cell


def make_cell(library: str, problem: Any) -> Cell | None:
    if library in ("ferrotune", "optuna"):
        return ask_tell_cell(library, problem)
    if library in VARIANTS:
        return ask_tell_cell("ferrotune", problem, **VARIANTS[library])
    if library == "skopt":
        return skopt_cell(problem)
    raise ValueError(library)


def steps_for(library: str, n: int, steps: int) -> int:
    # ferrotune refits once per 5% growth beyond 200 observations: time one whole period.
    ferrotune = library == "ferrotune" or library in VARIANTS
    return max(steps, math.ceil(n / 20)) if ferrotune else steps


def _ratio_rows(
    ns: Sequence[int], libs: Sequence[str], med: dict[tuple[str, int], float], skipped: set
) -> list[list[object]]:
    rows: list[list[object]] = []
    for n in ns:
        row: list[object] = [n]
        for lib in libs:
            row.append("skipped (> budget)" if (lib, n) in skipped else fmt(med.get((lib, n))))
        base = med.get(("ferrotune", n))
        for lib in libs:
            if lib == "ferrotune":
                continue
            v = med.get((lib, n))
            if (lib, n) in skipped:
                row.append("skipped (> budget)")
            elif base is None or v is None:
                row.append("-")
            else:
                row.append(f"{fmt(v / base)}x")
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="n = 100,300, 3 steps, 1 repeat")
    parser.add_argument("--out", help="append the JSON lines to this file")
    parser.add_argument("--ns", help="comma-separated trial counts (default 100,300,1000)")
    parser.add_argument("--steps", type=int, help="timed steps per cell (default 5, quick 3)")
    parser.add_argument("--repeats", type=int, help="repeats (default 3, quick 1)")
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="budget per (library, n) cell"
    )
    parser.add_argument("--libraries", help=f"comma-separated subset of {','.join(GP_LIBRARIES)}")
    parser.add_argument("--problem", default="ackley", help="a scalable ferrotune.benchmarks one")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    quiet()
    ns_text = args.ns or ("100,300" if args.quick else "100,300,1000")
    ns = sorted(int(x) for x in ns_text.split(","))
    steps = args.steps or (3 if args.quick else 5)
    repeats = args.repeats or (1 if args.quick else 3)
    wanted = parse_list(args.libraries) or list(DEFAULT_LIBRARIES)
    bad = [lib for lib in wanted if lib not in GP_LIBRARIES]
    if bad:
        parser.error(f"unknown libraries {bad}; known: {GP_LIBRARIES}")
    problem = load_benchmarks().get_problem(args.problem, dim=DIM)
    lows = np.array([p.low for p in problem.params.values()])
    highs = np.array([p.high for p in problem.params.values()])

    cells: dict[str, Cell] = {}
    for lib in GP_LIBRARIES:
        if lib in wanted:
            cell = make_cell(lib, problem)
            if cell is not None:
                cells[lib] = cell
    if not cells:
        print("no library to benchmark", file=sys.stderr)
        return 1

    signal.signal(signal.SIGALRM, _alarm)
    rec = Recorder(args.out)
    libs = list(cells)
    per_step: dict[tuple[str, int], list[float]] = {}
    first: dict[tuple[str, int], list[float]] = {}
    skipped: set[tuple[str, int]] = set()
    for rep in range(repeats):
        for n in ns:
            # The same random points for every library at this (repeat, n).
            rng = np.random.default_rng([args.seed + rep, n])
            points = lows + (highs - lows) * rng.random((n, DIM))
            values = [
                problem(dict(zip(problem.params, map(float, x), strict=True))) for x in points
            ]
            order = libs[rep % len(libs) :] + libs[: rep % len(libs)]  # rotate to interleave
            for lib in order:
                if any(s == lib and m <= n for s, m in skipped):
                    skipped.add((lib, n))
                    continue
                k = steps_for(lib, n, steps)
                t0 = time.perf_counter()
                signal.setitimer(signal.ITIMER_REAL, args.max_seconds)
                try:
                    first_s, times = cells[lib](points, values, k, args.seed + rep)
                except OverBudgetError:
                    skipped.add((lib, n))
                    msg = f"# {lib} at n={n}: over {args.max_seconds:g} s, skipped"
                    print(msg, file=sys.stderr)
                    rec.emit(
                        {
                            "bench": "gp",
                            "library": lib,
                            "version": version("ferrotune" if lib in VARIANTS else lib),
                            "n": n,
                            "repeat": rep,
                            "skipped": f"> {args.max_seconds:g} s",
                        }
                    )
                    continue
                finally:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                mean_ms = float(np.mean(times)) * 1e3
                per_step.setdefault((lib, n), []).append(mean_ms)
                first.setdefault((lib, n), []).append(first_s * 1e3)
                rec.emit(
                    {
                        "bench": "gp",
                        "library": lib,
                        "version": version("ferrotune" if lib in VARIANTS else lib),
                        "problem": f"{args.problem}{DIM}d",
                        "n": n,
                        "repeat": rep,
                        "steps": k,
                        "ms_per_step": round(mean_ms, 3),
                        "median_ms_per_step": round(median(times) * 1e3, 3),
                        "max_ms_per_step": round(max(times) * 1e3, 3),
                        "first_step_ms": round(first_s * 1e3, 3),
                        "cell_seconds": round(time.perf_counter() - t0, 3),
                    }
                )
    rec.close()

    skipped = {key for key in skipped if key not in per_step}  # skipped in every repeat
    med = {key: median(v) for key, v in per_step.items()}
    med_first = {key: median(v) for key, v in first.items()}
    peers = [lib for lib in libs if lib != "ferrotune"]
    header = ["n"] + [f"{lib} ms/step" for lib in libs]
    if "ferrotune" in libs:
        header += [f"{lib}/ferrotune" for lib in peers]
    print()
    print(
        f"### GP samplers: time per ask+tell step after n pre-filled random trials, "
        f"{args.problem} {DIM}-D, median of {repeats}"
    )
    print()
    print(markdown_table(header, _ratio_rows(ns, libs, med, skipped)))
    print()
    print("First step after the pre-fill (the first fit on the n points):")
    print()
    print(markdown_table(header, _ratio_rows(ns, libs, med_first, skipped)))
    print()
    print(f"steps timed: {steps} per cell; ferrotune max({steps}, ceil(n/20)) (one refit period)")
    print_versions([lib for lib in libs if lib not in VARIANTS])
    return 0


if __name__ == "__main__":
    sys.exit(main())

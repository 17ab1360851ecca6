"""Anytime regret against cumulative compute on multi-fidelity problems, against the peers.

Every method optimises a problem of ``ferrotune.benchmarks`` (``mf_hartmann3``,
``mf_hartmann6``, ``mf_branin``, ``digits_mlp_tabular``, ``digits_mlp``, and the digits task's
log-loss versions ``digits_mlp_logloss_tabular``, ``digits_mlp_logloss``) until it has trained
``--budget`` full-budget-equivalent evaluations, i.e. ``budget * max_budget`` steps (default
per problem: 300 on the Hartmann problems, 100 on the digits tables, 20 on the live digits
task; see ``DEFAULT_BUDGETS``).  The default run: ``mf_hartmann6`` and ``digits_mlp_tabular``,
20 seeds, every method but ``smac-mf`` (minutes per run: ask for it by name).  Methods:

- ``random``: ferrotune's RandomSampler, every trial trained to the full budget, no pruning;
- ``ft-hb-random``, ``ft-sh-random``, ``ft-hb-tpe``, ``ft-hb-tpe-ba``, ``ft-bohb``,
  ``ft-dehb``: ferrotune's RandomSampler + HyperbandPruner / SuccessiveHalvingPruner,
  TPESampler + HyperbandPruner (``ft-hb-tpe-ba``: ``TPESampler(budget_aware=True)``),
  BOHBSampler + HyperbandPruner, DEHBSampler + HyperbandPruner (the same resources);
- ``optuna-hb-random``, ``optuna-hb-tpe``: the same with Optuna (same pruner arguments);
- ``ft-hb-oracle``, ``ft-sh-oracle``: ``ft-hb-random`` and ``ft-sh-random`` where every report
  is the configuration's *full-budget* value, so the pruner ranks perfectly: a bound on what
  any low-fidelity signal could give the same schedule with random sampling (compute is still
  the steps trained; on request only);
- ``dehb``: DEHB (``pip install dehb``) through its ask/tell interface;
- ``smac-mf``: SMAC3's MultiFidelityFacade (random forest + Hyperband intensifier).

Compute is the sum of steps trained.  A pruned trial trains step by step and costs the steps up
to its pruning point; DEHB and SMAC evaluate a configuration at a budget ``b`` directly and cost
``b`` steps, also when the configuration was evaluated at a lower budget before (they train
from scratch: DEHB counts it so itself).  Regret is the best value among the *full-budget*
evaluations so far minus the known optimum (infinite before the first one): the incumbent of
the literature, never a low-fidelity value.  The tables give the median [25%, 75%] regret at
1/9, 1/3 and 1 of random search's compute, the compute at which the median regret reaches random
search's final median regret (as a fraction of random's), and the best full-budget value at 300
full-budget equivalents beside DEHB's published table.

All pruners use ``min_resource = min_budget`` (``--min-resource`` sets another),
``reduction_factor = 3``; Hyperband has ``max_resource = max_budget``.  The pruners decide
only at rung steps (``min_resource * 3^k``), so by default a trial evaluates the problem and
reports only at those steps and at the full budget; its compute is still every step up to
where it stopped.  ``--every-step`` reports every step instead (slower; the same decisions).

    python benches/multifidelity.py [--quick] [--problems mf_hartmann6,digits_mlp_tabular]
        [--methods random,ft-hb-random,dehb] [--seeds 20] [--budget 300] [--jobs 2]
        [--min-resource 3] [--out results.json]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing import get_context
from typing import Any

import numpy as np

from _common import fmt, load, markdown_table, parse_list, print_versions, quiet, suggest_all

METHODS = (
    "random",
    "ft-hb-random",
    "ft-sh-random",
    "ft-hb-oracle",
    "ft-sh-oracle",
    "ft-hb-tpe",
    "ft-hb-tpe-ba",
    "ft-bohb",
    "ft-dehb",
    "optuna-hb-random",
    "optuna-hb-tpe",
    "dehb",
    "smac-mf",
)
#: SMAC3 takes about 0.1 s per trial here (minutes per run): run it on request only.  The
#: oracles are bounds, not methods: also on request.
DEFAULT_METHODS = tuple(m for m in METHODS if m != "smac-mf" and not m.endswith("oracle"))
#: The headline problems; mf_hartmann3 completes the DEHB table (README: its own command).
DEFAULT_PROBLEMS = ("mf_hartmann6", "digits_mlp_tabular")
#: Full-budget-equivalent evaluations per problem unless --budget is given.  At 300 on the
#: digits table random search finds the best grid point on most seeds; at 100 it stops short.
DEFAULT_BUDGETS = {
    "mf_hartmann3": 300.0,
    "mf_hartmann6": 300.0,
    "mf_branin": 100.0,
    "digits_mlp_tabular": 100.0,
    "digits_mlp": 20.0,
    "digits_mlp_logloss_tabular": 100.0,
    "digits_mlp_logloss": 20.0,
}
REDUCTION_FACTOR = 3
#: BOHBSampler's keyword arguments for ``ft-bohb`` as JSON (``--bohb-args``; through the
#: environment so that the worker processes see them).
BOHB_ARGS_ENV = "FERROTUNE_BENCH_BOHB_ARGS"
#: The pruners' ``min_resource`` when not the problem's least budget (``--min-resource``;
#: through the environment for the worker processes).
MIN_RESOURCE_ENV = "FERROTUNE_BENCH_MIN_RESOURCE"


def min_resource(problem: Any) -> int:
    """The pruners' (and DEHBSampler's) least resource: ``--min-resource`` or the problem's
    least whole budget."""
    least = max(1, math.ceil(problem.min_budget))
    return max(least, int(os.environ.get(MIN_RESOURCE_ENV, least)))


FRACTIONS = (1 / 9, 1 / 3, 1.0)
#: Regret read off every run at these fractions of random search's compute (for --out).
GRID = tuple(float(x) for x in np.geomspace(1 / 81, 1.0, 33))
#: DEHB's published mean +- std of the final value at 300 full-budget-equivalent evaluations.
DEHB_PUBLISHED = {"mf_hartmann3": (-3.741, 0.098), "mf_hartmann6": (-2.314, 0.262)}
DEHB_TABLE_BUDGET = 300


# --- One run -------------------------------------------------------------------------------------


@dataclass
class Run:
    """One optimisation run: after each evaluation, the compute spent so far (steps) and the
    full-budget value it gave (NaN when it stopped, or was evaluated, below the full budget)."""

    compute: list[float] = field(default_factory=list)
    full_values: list[float] = field(default_factory=list)
    reported_steps: list[float] = field(default_factory=list)

    def add(self, steps: float, full_value: float | None) -> None:
        total = (self.compute[-1] if self.compute else 0.0) + steps
        self.compute.append(total)
        self.reported_steps.append(steps)
        self.full_values.append(math.nan if full_value is None else float(full_value))

    @property
    def total(self) -> float:
        return self.compute[-1] if self.compute else 0.0


def checkpoints(problem: Any, every_step: bool) -> list[int]:
    """The steps at which a pruned trial evaluates the problem and reports: the rung steps
    ``min_resource(problem) * 3^k`` below the full budget and the full budget (every step
    with ``every_step``)."""
    first, last = min_resource(problem), math.floor(problem.max_budget)
    if every_step:
        first = max(1, math.ceil(problem.min_budget))
        return list(range(first, last + 1))
    steps, s = [], first
    while s < last:
        steps.append(s)
        s *= REDUCTION_FACTOR
    return [*steps, last]


def values_at(problem: Any, params: Mapping[str, Any], steps: Sequence[int]) -> Any:
    """``(step, value)`` at ``steps``, lazily; a problem that trains incrementally (the digits
    task) runs one training through every step rather than one from scratch per step."""
    if problem.steps_fn is None:
        return ((s, problem.evaluate(params, s)) for s in steps)
    wanted = set(steps)
    first = max(1, math.ceil(problem.min_budget))
    stream = enumerate(problem.steps(params), start=first)
    return ((s, v) for s, v in stream if s in wanted)


def _pruner(lib: Any, kind: str, problem: Any) -> Any:
    r = min_resource(problem)
    if kind == "hb":
        return lib.pruners.HyperbandPruner(
            min_resource=r,
            max_resource=math.floor(problem.max_budget),
            reduction_factor=REDUCTION_FACTOR,
        )
    return lib.pruners.SuccessiveHalvingPruner(min_resource=r, reduction_factor=REDUCTION_FACTOR)


def _sampler(lib: Any, kind: str, seed: int, problem: Any) -> Any:
    if kind == "random":
        return lib.samplers.RandomSampler(seed=seed)
    if kind == "tpe":
        return lib.samplers.TPESampler(seed=seed)
    if kind == "tpe-ba":
        return lib.samplers.TPESampler(seed=seed, budget_aware=True)
    if kind == "dehb":
        # DEHB follows HyperbandPruner's brackets: the same resources as _pruner's.
        return lib.samplers.DEHBSampler(
            seed=seed,
            min_resource=min_resource(problem),
            max_resource=math.floor(problem.max_budget),
            reduction_factor=REDUCTION_FACTOR,
        )
    return lib.samplers.BOHBSampler(seed=seed, **json.loads(os.environ.get(BOHB_ARGS_ENV, "{}")))


def run_pruned(
    library: str,
    sampler: str,
    pruner: str | None,
    problem: Any,
    total_steps: float,
    seed: int,
    every_step: bool = False,
    oracle: bool = False,
) -> Run:
    """Ask/tell with an Optuna-style library until ``total_steps`` steps are trained.

    Without a pruner every trial is trained to the full budget in one evaluation.  With
    ``oracle`` every report is the full-budget value (a perfect ranking at every rung).
    """
    lib = load(library)
    if lib is None:
        raise RuntimeError(f"{library} is not installed")
    study = lib.create_study(
        direction="minimize",
        # Hyperband assigns trials to brackets by a hash of the study's name: fixed, so that a
        # seed repeats (an unnamed study gets a random name).
        study_name=f"{problem.name}-seed{seed}",
        sampler=_sampler(lib, sampler, seed, problem),
        pruner=None if pruner is None else _pruner(lib, pruner, problem),
    )
    pruned = lib.trial.TrialState.PRUNED
    last = math.floor(problem.max_budget)
    steps = checkpoints(problem, every_step) if pruner is not None else [last]
    run = Run()
    while run.total < total_steps:
        trial = study.ask()
        params = suggest_all(trial, problem.params)
        reports = values_at(problem, params, steps)
        if oracle:
            final = problem.evaluate(params, last)
            reports = ((s, final) for s in steps)
        for step, value in reports:
            if step == last:
                study.tell(trial, value)
                run.add(step, value)
                break
            trial.report(value, step)
            if trial.should_prune():
                study.tell(trial, state=pruned)
                run.add(step, None)
                break
    return run


def _configspace(problem: Any, seed: int) -> Any:
    from ConfigSpace import ConfigurationSpace, Float, Integer

    cs = ConfigurationSpace(seed=seed)
    for name, p in problem.params.items():
        if p.kind == "float" and p.step is None:
            cs.add(Float(name, (p.low, p.high), log=p.log))
        elif p.kind == "int" and p.step in (None, 1):
            cs.add(Integer(name, (int(p.low), int(p.high)), log=p.log))
        else:
            raise ValueError(f"{problem.name}: parameter {name!r} ({p}) has no ConfigSpace form")
    return cs


def _budget(problem: Any, b: float) -> float:
    """A peer's budget on the problem's scale: clipped to its range, whole for epoch budgets."""
    b = min(problem.max_budget, max(problem.min_budget, float(b)))
    return float(round(b)) if problem.integer_budget else b


def _params(config: Any) -> dict[str, Any]:
    return {k: (v.item() if isinstance(v, np.generic) else v) for k, v in dict(config).items()}


def run_dehb(problem: Any, total_steps: float, seed: int) -> Run:
    """DEHB's ask/tell loop; each job at fidelity ``b`` costs ``b`` steps (trained afresh)."""
    from dehb import DEHB
    from loguru import logger

    out = tempfile.mkdtemp(prefix="dehb-")
    try:
        dehb = DEHB(
            cs=_configspace(problem, seed),
            min_fidelity=problem.min_budget,
            max_fidelity=problem.max_budget,
            eta=REDUCTION_FACTOR,
            n_workers=1,
            seed=seed,
            output_path=out,
            log_level="ERROR",
            save_freq="end",
        )
        run = Run()
        while run.total < total_steps:
            job = dehb.ask()
            b = _budget(problem, job["fidelity"])
            value = problem.evaluate(_params(job["config"]), b)
            dehb.tell(job, {"fitness": value, "cost": b})
            run.add(b, value if b == problem.max_budget else None)
        return run
    finally:
        logger.remove()  # DEHB adds a log file handler per instance
        shutil.rmtree(out, ignore_errors=True)


def run_smac(problem: Any, total_steps: float, seed: int) -> Run:
    """SMAC3's MultiFidelityFacade (Hyperband intensifier, eta 3) through ask/tell; each trial
    at budget ``b`` costs ``b`` steps."""
    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    out = tempfile.mkdtemp(prefix="smac-")
    try:
        scenario = Scenario(
            _configspace(problem, seed),
            deterministic=True,
            n_trials=10**9,
            min_budget=problem.min_budget,
            max_budget=problem.max_budget,
            seed=seed,
            output_directory=out,
        )
        smac = MultiFidelityFacade(
            scenario,
            lambda config, seed=0, budget=1.0: 0.0,  # never called: ask/tell only
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=REDUCTION_FACTOR),
            overwrite=True,
            logging_level=40,
        )
        run = Run()
        while run.total < total_steps:
            info = smac.ask()
            b = _budget(problem, info.budget)
            value = problem.evaluate(_params(info.config), b)
            smac.tell(info, TrialValue(cost=value))
            run.add(b, value if b == problem.max_budget else None)
        return run
    finally:
        shutil.rmtree(out, ignore_errors=True)


def run_method(method: str, problem: Any, total_steps: float, seed: int, every_step: bool) -> Run:
    """One run of a method (a name of :data:`METHODS`)."""
    if method == "random":
        return run_pruned("ferrotune", "random", None, problem, total_steps, seed)
    if method == "dehb":
        return run_dehb(problem, total_steps, seed)
    if method == "smac-mf":
        return run_smac(problem, total_steps, seed)
    library, pruner, sampler = _SPEC[method]
    oracle = method.endswith("oracle")
    return run_pruned(library, sampler, pruner, problem, total_steps, seed, every_step, oracle)


_SPEC = {
    "ft-hb-random": ("ferrotune", "hb", "random"),
    "ft-sh-random": ("ferrotune", "sh", "random"),
    "ft-hb-oracle": ("ferrotune", "hb", "random"),
    "ft-sh-oracle": ("ferrotune", "sh", "random"),
    "ft-hb-tpe": ("ferrotune", "hb", "tpe"),
    "ft-hb-tpe-ba": ("ferrotune", "hb", "tpe-ba"),
    "ft-bohb": ("ferrotune", "hb", "bohb"),
    "ft-dehb": ("ferrotune", "hb", "dehb"),
    "optuna-hb-random": ("optuna", "hb", "random"),
    "optuna-hb-tpe": ("optuna", "hb", "tpe"),
}


def available(method: str) -> str | None:
    """``None`` when a method can run here, else why not."""
    needs = {"dehb": "dehb", "smac-mf": "smac"}.get(method)
    if needs is None:
        needs = "optuna" if method.startswith("optuna") else "ferrotune"
    if load(needs) is None:
        return f"{needs} is not installed"
    if method in ("ft-bohb", "ft-dehb"):
        import ferrotune.samplers

        name = "BOHBSampler" if method == "ft-bohb" else "DEHBSampler"
        if not hasattr(ferrotune.samplers, name):
            return f"this ferrotune has no samplers.{name}"
    return None


# --- Bookkeeping ---------------------------------------------------------------------------------


def regret_curve(
    run: Run, optimum: float | None
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """The compute after each evaluation and the regret of the best full-budget value so far
    (``inf`` before the first full-budget evaluation).  With an unknown optimum (the live
    digits task) the "regret" is the value itself."""
    values = np.asarray(run.full_values, dtype=float)
    optimum = 0.0 if optimum is None else optimum
    best = np.fmin.accumulate(np.where(np.isnan(values), np.inf, values))
    return np.asarray(run.compute, dtype=float), best - optimum


def regret_at(compute: np.ndarray[Any, Any], regret: np.ndarray[Any, Any], at: Any) -> Any:
    """The regret after the last evaluation that finished within compute ``at`` (vectorised)."""
    idx = np.searchsorted(compute, np.asarray(at, dtype=float), side="right") - 1
    return np.where(idx >= 0, regret[np.maximum(idx, 0)], np.inf)


_BIG = 1e300


def quantiles(x: Any, q: Sequence[float], axis: int = 0) -> np.ndarray[Any, Any]:
    """Quantiles over seeds that keep ``inf`` (no incumbent yet) as ``inf``."""
    a = np.where(np.isinf(np.asarray(x, dtype=float)), _BIG, x)
    out = np.quantile(a, q, axis=axis)
    return np.where(out >= _BIG / 2, np.inf, out)


def compute_to_reach(runs: Sequence[Run], optimum: float | None, target: float) -> float:
    """The least compute at which the median regret over ``runs`` is at most ``target``
    (``inf`` if never)."""
    curves = [regret_curve(r, optimum) for r in runs]
    points = np.unique(np.concatenate([c for c, _ in curves]))
    medians = quantiles(np.stack([regret_at(c, g, points) for c, g in curves]), [0.5])[0]
    hit = np.nonzero(medians <= target)[0]
    return float(points[hit[0]]) if hit.size else math.inf


# --- Driver --------------------------------------------------------------------------------------


def _task(args: tuple[str, str, int, float, bool]) -> dict[str, Any]:
    method, problem_name, seed, budget, every_step = args
    from ferrotune.benchmarks import get_multi_fidelity_problem

    problem = get_multi_fidelity_problem(problem_name)
    start = time.perf_counter()
    run = run_method(method, problem, budget * problem.max_budget, seed, every_step)
    return {
        "method": method,
        "problem": problem_name,
        "seed": seed,
        "budget": budget,
        "seconds": time.perf_counter() - start,
        "compute": run.compute,
        "full_values": run.full_values,
        "reported_steps": run.reported_steps,
    }


def run_all(
    methods: Sequence[str],
    budgets: Mapping[str, float],
    seeds: int,
    jobs: int,
    every_step: bool = False,
) -> list[dict[str, Any]]:
    """Every (method, problem, seed) run, ``budgets`` mapping each problem to its budget in
    full-budget-equivalent evaluations, on ``jobs`` processes, in a fixed order."""
    tasks = [
        (m, p, s, b, every_step) for p, b in budgets.items() for m in methods for s in range(seeds)
    ]
    if jobs <= 1:
        return [_task(t) for t in tasks]
    with get_context("spawn").Pool(jobs, initializer=quiet) as pool:
        return list(pool.imap(_task, tasks, chunksize=1))


def _runs(records: Iterable[Mapping[str, Any]], method: str, problem: str) -> list[Run]:
    return [
        Run(list(r["compute"]), list(r["full_values"]), list(r["reported_steps"]))
        for r in records
        if r["method"] == method and r["problem"] == problem
    ]


def summarise(records: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per problem: its budget, random search's final median regret (the target), and per method
    the regret quartiles at :data:`FRACTIONS` of random search's compute, the compute ratio to
    reach the target, the final values and the per-run regret on :data:`GRID`."""
    from ferrotune.benchmarks import get_multi_fidelity_problem

    out: dict[str, dict[str, Any]] = {}
    for pname in dict.fromkeys(r["problem"] for r in records):
        problem = get_multi_fidelity_problem(pname)
        budget = max(r["budget"] for r in records if r["problem"] == pname)
        total = budget * problem.max_budget
        methods = list(dict.fromkeys(r["method"] for r in records if r["problem"] == pname))
        random_runs = _runs(records, "random", pname)
        target = math.nan
        if random_runs:
            finals = [regret_at(*regret_curve(r, problem.optimum), total) for r in random_runs]
            target = float(quantiles(finals, [0.5])[0])
        summaries = {}
        for m in methods:
            runs = _runs(records, m, pname)
            summaries[m] = _summary(runs, problem, total, target, min(budget, DEHB_TABLE_BUDGET))
            secs = [r["seconds"] for r in records if r["method"] == m and r["problem"] == pname]
            summaries[m]["seconds_median"] = float(np.median(secs))
        out[pname] = {"budget": budget, "target_regret": target, "methods": summaries}
    return out


def _best_full(run: Run, n: int) -> float:
    """The best full-budget value among the first ``n`` evaluations at any budget (a pruned
    trial is one evaluation), ``inf`` if none reached the full budget."""
    values = np.asarray(run.full_values[:n], dtype=float)
    return float(np.min(values[~np.isnan(values)], initial=np.inf))


def _summary(
    runs: Sequence[Run], problem: Any, total: float, target: float, table_budget: float
) -> dict[str, Any]:
    curves = [regret_curve(r, problem.optimum) for r in runs]
    at = np.array([f * total for f in FRACTIONS])
    per_run = np.stack([regret_at(c, g, at) for c, g in curves])
    q = quantiles(per_run, [0.25, 0.5, 0.75])
    table_at = table_budget * problem.max_budget
    offset = 0.0 if problem.optimum is None else problem.optimum
    finals = np.array([regret_at(c, g, table_at) for c, g in curves]) + offset
    first = [_best_full(r, DEHB_TABLE_BUDGET) for r in runs]
    reach = compute_to_reach(runs, problem.optimum, target) if math.isfinite(target) else math.nan
    grid = np.array(GRID) * total
    return {
        "regret": {
            f"{f:.4f}": {"q25": float(q[0, i]), "median": float(q[1, i]), "q75": float(q[2, i])}
            for i, f in enumerate(FRACTIONS)
        },
        "reach_random_final_ratio": reach / total,
        "final_value_mean": float(np.mean(finals)),
        "final_value_std": float(np.std(finals)),
        "first_evaluations_value_mean": float(np.mean(first)),
        "first_evaluations_value_std": float(np.std(first)),
        "trials_median": float(np.median([len(r.compute) for r in runs])),
        "grid_regret": [regret_at(c, g, grid).tolist() for c, g in curves],
    }


# --- Output --------------------------------------------------------------------------------------


def _cell(q: Mapping[str, float]) -> str:
    return f"{fmt(q['median'])} [{fmt(q['q25'])}, {fmt(q['q75'])}]"


def print_tables(summary: Mapping[str, Mapping[str, Any]]) -> None:
    """The anytime table per problem, then the DEHB table."""
    header = [
        "method",
        *(f"regret @ {label}" for label in ("1/9", "1/3", "1")),
        "compute to reach random's final / random's",
        "trials",
        "s/run",
    ]
    for pname, ps in summary.items():
        print(
            f"\n### {pname}, {fmt(ps['budget'])} full-budget-equivalent evaluations: median "
            f"[25%, 75%] regret at fractions of random's compute (random's final median "
            f"{fmt(ps['target_regret'])})\n"
        )
        rows = [
            [
                m,
                *(_cell(s["regret"][f"{f:.4f}"]) for f in FRACTIONS),
                fmt(s["reach_random_final_ratio"]),
                fmt(s["trials_median"]),
                fmt(s["seconds_median"]),
            ]
            for m, s in ps["methods"].items()
        ]
        print(markdown_table(header, rows))
    rows = []
    for pname, (mean, std) in DEHB_PUBLISHED.items():
        if pname not in summary:
            continue
        for m, s in summary[pname]["methods"].items():
            here = f"{s['final_value_mean']:.4f} +- {s['final_value_std']:.4f}"
            evals = (
                f"{s['first_evaluations_value_mean']:.3f} +- {s['first_evaluations_value_std']:.3f}"
            )
            rows.append([pname, m, here, evals, f"{mean:.3f} +- {std:.3f}"])
    if rows:
        print("\n### Best full-budget value (mean +- std over seeds) against DEHB's table\n")
        header = [
            "problem",
            "method",
            f"at {DEHB_TABLE_BUDGET} full-budget equivalents (or the budget, if less)",
            f"after {DEHB_TABLE_BUDGET} evaluations at any budget",
            f"DEHB published ({DEHB_TABLE_BUDGET})",
        ]
        print(markdown_table(header, rows))


def _budgets(problems: Sequence[str], budget: float | None) -> dict[str, float]:
    return {p: budget if budget is not None else DEFAULT_BUDGETS.get(p, 100.0) for p in problems}


def main(argv: Sequence[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--problems", help=f"comma-separated (default {','.join(DEFAULT_PROBLEMS)})")
    ap.add_argument(
        "--methods", help=f"comma-separated from {','.join(METHODS)} (default all but smac-mf)"
    )
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument(
        "--budget", type=float, help="full-budget-equivalent evaluations (default per problem)"
    )
    ap.add_argument("--jobs", type=int, default=2, help="worker processes (default 2)")
    ap.add_argument("--every-step", action="store_true", help="report every step")
    ap.add_argument("--quick", action="store_true", help="3 seeds, budget 20, ferrotune only")
    ap.add_argument("--out", help="write the summary (and per-run regret curves) as JSON here")
    ap.add_argument(
        "--bohb-args",
        help="BOHBSampler keyword arguments for ft-bohb as JSON, e.g. '{\"min_bandwidth\": 0.02}'",
    )
    ap.add_argument(
        "--min-resource",
        type=int,
        help="the pruners' min_resource (default: the problem's least budget); the rungs "
        "start there (DEHB and SMAC keep the problem's range)",
    )
    args = ap.parse_args(argv)
    if args.min_resource is not None:
        os.environ[MIN_RESOURCE_ENV] = str(args.min_resource)
    if args.bohb_args:
        if not isinstance(json.loads(args.bohb_args), dict):
            ap.error("--bohb-args must be a JSON object")
        os.environ[BOHB_ARGS_ENV] = args.bohb_args
    quiet()
    problems = parse_list(args.problems) or list(DEFAULT_PROBLEMS)
    methods = parse_list(args.methods) or list(DEFAULT_METHODS)
    if args.quick:
        args.seeds, args.budget = 3, 20.0
        methods = parse_list(args.methods) or [m for m in METHODS if m.startswith(("ft", "ra"))]
    unknown = sorted(set(methods) - set(METHODS))
    if unknown:
        ap.error(f"unknown method(s) {unknown}; known: {', '.join(METHODS)}")
    runnable = []
    for m in methods:
        why = available(m)
        if why is None:
            runnable.append(m)
        else:
            print(f"# skipping {m}: {why}", file=sys.stderr)
    budgets = _budgets(problems, args.budget)
    records = run_all(runnable, budgets, args.seeds, args.jobs, args.every_step)
    summary = summarise(records)
    print_tables(summary)
    libs = {"dehb": "dehb", "smac-mf": "smac"}
    used = {libs.get(m, "optuna" if m.startswith("optuna") else "ferrotune") for m in runnable}
    print_versions([lib for lib in ("ferrotune", "optuna", "dehb", "smac") if lib in used])
    if args.out:
        meta = {
            "budgets": budgets,
            "seeds": args.seeds,
            "methods": runnable,
            "bohb_args": json.loads(args.bohb_args or "{}"),
            "min_resource": args.min_resource,
        }
        with open(args.out, "w", encoding="utf-8") as fh:
            json.dump({"config": meta, "summary": summary}, fh)


if __name__ == "__main__":
    main()

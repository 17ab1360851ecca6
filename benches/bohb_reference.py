"""BOHBSampler against the reference implementation, HpBandSter's BOHB, at equal compute.

Three runs per seed on a multi-fidelity problem of ``ferrotune.benchmarks`` with budgets 1 to
27 (eta 3), each stopped after ``--budget`` full-budget evaluations of compute (steps):

- ``hpbandster``: HpBandSter's BOHB configuration generator under HpBandSter's synchronous
  Hyperband schedule (one worker: sample, evaluate, register, one configuration at a time); a
  promoted configuration costs the steps beyond its previous budget;
- ``hpbandster-in-ft``: the same generator proposing the trials of ferrotune's
  ``HyperbandPruner`` loop (reports at every step, registered at the rungs 1, 3, 9, 27);
- ``ft-bohb`` (and ``ft-bohb-paper``, the paper's settings): ``BOHBSampler`` in that loop.

The second and third differ only in the generator, so they tell a faithful sampler from a
buggy one; the first adds HpBandSter's schedule.  Prints the median [25%, 75%] simple regret.
HpBandSter needs its own environment (it pins old ConfigSpace releases)::

    python3 -m venv .venv-hpb && .venv-hpb/bin/pip install hpbandster
    PYTHONPATH=python .venv-hpb/bin/python benches/bohb_reference.py --problem mf_branin --seeds 10

(with ferrotune importable, e.g. ``PYTHONPATH=python`` after ``maturin develop``).
"""

from __future__ import annotations

import argparse
import logging
import math
from typing import Any

import numpy as np

import ferrotune
from ferrotune.benchmarks import get_multi_fidelity_problem
from ferrotune.pruners import HyperbandPruner
from ferrotune.samplers import BOHBSampler, RandomSampler
from ferrotune.trial import TrialState

MAX_BUDGET, ETA, RUNGS = 27, 3, (1, 3, 9, 27)


class _Job:
    """What HpBandSter's generator reads of a finished run."""

    def __init__(self, config: dict[str, Any], budget: float, loss: float) -> None:
        self.kwargs = {"config": config, "budget": budget}
        self.result = {"loss": loss}
        self.exception = None


def _generator(problem: Any, seed: int) -> Any:
    import ConfigSpace
    from hpbandster.optimizers.config_generators.bohb import BOHB

    np.random.seed(seed)
    cs = ConfigSpace.ConfigurationSpace(seed=seed)
    for name, p in problem.params.items():
        cs.add(ConfigSpace.UniformFloatHyperparameter(name, p.low, p.high))
    return BOHB(cs)


def run_hpbandster(problem: Any, seed: int, total: float) -> float:
    """HpBandSter's BOHB with its own Hyperband schedule; regret after ``total`` steps."""
    cg, used, best, it = _generator(problem, seed), 0.0, math.inf, 0
    n_sh = len(RUNGS)
    while True:
        s = n_sh - 1 - it % n_sh
        n0 = int(n_sh // (s + 1) * ETA**s)
        sizes = [max(int(n0 * ETA ** (-i)), 1) for i in range(s + 1)]
        configs = [(dict(cg.get_config(None)[0]), 0) for _ in range(sizes[0])]
        for stage, b in enumerate(RUNGS[-s - 1 :]):
            losses = []
            for config, prev in configs:
                used += b - prev
                if used > total:
                    return float(problem.regret(best)) if math.isfinite(best) else math.inf
                loss = problem.evaluate(config, float(b))
                cg.new_result(_Job(config, float(b), loss))
                best = min(best, loss) if b == MAX_BUDGET else best
                losses.append(loss)
            if stage + 1 < len(sizes):
                configs = [(configs[i][0], b) for i in np.argsort(losses)[: sizes[stage + 1]]]
        it += 1


def run_ferrotune(problem: Any, seed: int, total: float, sampler: Any) -> float:
    """ferrotune's HyperbandPruner loop; ``sampler`` is a ferrotune sampler, or the string
    ``"hpbandster"`` for HpBandSter's generator (trials enqueued)."""
    cg = _generator(problem, seed) if sampler == "hpbandster" else None
    study = ferrotune.create_study(
        sampler=RandomSampler(seed=seed) if cg is not None else sampler,
        pruner=HyperbandPruner(min_resource=1, max_resource=MAX_BUDGET, reduction_factor=ETA),
        study_name=f"{problem.name}-{seed}",
    )
    used, best = 0, math.inf
    while used < total:
        config = dict(cg.get_config(None)[0]) if cg is not None else None
        if config is not None:
            study.enqueue_trial(config)
        trial = study.ask()
        params = {k: trial.suggest_float(k, p.low, p.high) for k, p in problem.params.items()}
        for step in range(1, MAX_BUDGET + 1):
            value = problem.evaluate(params, step)
            used += 1
            trial.report(value, step)
            if cg is not None and step in RUNGS:
                cg.new_result(_Job(params, float(step), value))
            if trial.should_prune():
                study.tell(trial, state=TrialState.PRUNED)
                break
        else:
            study.tell(trial, value)
            best = min(best, value)
    return float(problem.regret(best))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--problem", default="mf_hartmann3")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--budget", type=float, default=100.0, help="full-budget evaluations")
    args = ap.parse_args()
    logging.disable(logging.WARNING)
    ferrotune.logging.set_verbosity(ferrotune.logging.WARNING)
    problem = get_multi_fidelity_problem(args.problem, min_budget=1, max_budget=MAX_BUDGET)
    total = args.budget * MAX_BUDGET
    paper = {"min_bandwidth": 1e-3, "random_fraction": 1 / 3, "pruned_in_bad": False}
    methods = {
        "hpbandster": lambda s: run_hpbandster(problem, s, total),
        "hpbandster-in-ft": lambda s: run_ferrotune(problem, s, total, "hpbandster"),
        "ft-bohb-paper": lambda s: run_ferrotune(problem, s, total, BOHBSampler(seed=s, **paper)),
        "ft-bohb": lambda s: run_ferrotune(problem, s, total, BOHBSampler(seed=s)),
    }
    for name, run in methods.items():
        r = [run(s) for s in range(args.seeds)]
        q = np.quantile(r, [0.25, 0.5, 0.75])
        print(f"{args.problem} {name}: median regret {q[1]:.3g} [{q[0]:.3g}, {q[2]:.3g}]")


if __name__ == "__main__":
    main()

"""Studies shared by the plot tests, built with create_trial so that every value is
known, and an importance evaluator with fixed scores."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.importance import BaseImportanceEvaluator
from ferrotune.trial import TrialState

DISTS = {
    "x": FloatDistribution(-5.0, 5.0),
    "lr": FloatDistribution(1e-5, 1e-1, log=True),
    "n": IntDistribution(1, 10),
    "c": CategoricalDistribution(["a", "b", "c"]),
}
CHOICE_COST = {"a": 0.0, "b": 1.0, "c": 2.0}


def objective(p: dict[str, object]) -> float:
    x, lr = float(p["x"]), float(p["lr"])  # type: ignore[arg-type]
    n = float(p.get("n", 5))  # type: ignore[arg-type]
    return x**2 + (np.log10(lr) + 3.0) ** 2 + CHOICE_COST[str(p["c"])] + 0.1 * n


def random_params(rng: np.random.Generator, i: int) -> dict[str, object]:
    p: dict[str, object] = {
        "x": float(rng.uniform(-5, 5)),
        "lr": float(10 ** rng.uniform(-5, -1)),
        "n": int(rng.integers(1, 11)),
        "c": ["a", "b", "c"][int(rng.integers(3))],
    }
    if i % 3 == 0:  # a conditional parameter: every third trial lacks it
        del p["n"]
    return p


def make_single(n_complete: int = 60, seed: int = 0) -> ferrotune.Study:
    """COMPLETE trials over a conditional space with a log and a categorical parameter,
    plus 3 PRUNED (with intermediate values), 2 FAIL and 1 RUNNING trial."""
    rng = np.random.default_rng(seed)
    study = ferrotune.create_study(study_name=f"single-{seed}")
    trials = []
    for i in range(n_complete):
        p = random_params(rng, i)
        dists = {k: DISTS[k] for k in p}
        curve = {s: objective(p) + 5.0 / (s + 1) for s in range(0, 5)} if i % 10 == 0 else None
        trials.append(
            ferrotune.create_trial(
                params=p, distributions=dists, value=objective(p), intermediate_values=curve
            )
        )
        if i % 20 == 5:
            trials.append(
                ferrotune.create_trial(
                    state=TrialState.PRUNED,
                    params=p,
                    distributions=dists,
                    intermediate_values={0: 50.0, 2: 40.0, 1: 45.0},
                )
            )
        if i % 30 == 7:
            trials.append(
                ferrotune.create_trial(state=TrialState.FAIL, params=p, distributions=dists)
            )
    study.add_trials(trials)
    running = study.ask()
    running.suggest_float("x", -5.0, 5.0)
    return study


def make_constrained(seed: int = 1) -> ferrotune.Study:
    """Single objective, every trial with a constraint (x <= 2 feasible)."""
    rng = np.random.default_rng(seed)
    study = ferrotune.create_study(study_name="constrained")
    trials = []
    for i in range(40):
        p = random_params(rng, i)
        trials.append(
            ferrotune.create_trial(
                params=p,
                distributions={k: DISTS[k] for k in p},
                value=objective(p),
                constraints={"c0": float(p["x"]) - 2.0},  # type: ignore[arg-type]
            )
        )
    study.add_trials(trials)
    return study


def make_multi(n_objectives: int = 2, n: int = 80, seed: int = 2, constrained: bool = False):
    """A study minimising objective 0 and maximising the others, a noisy trade-off."""
    rng = np.random.default_rng(seed)
    directions = ["minimize"] + ["maximize"] * (n_objectives - 1)
    study = ferrotune.create_study(directions=directions, study_name=f"multi{n_objectives}")
    trials = []
    for i in range(n):
        p = random_params(rng, i)
        u = (float(p["x"]) + 5) / 10  # type: ignore[arg-type]
        values = [u] + [
            1 - u**2 - float(rng.uniform(0, 0.3)) + 0.01 * k for k in range(n_objectives - 1)
        ]
        trials.append(
            ferrotune.create_trial(
                params=p,
                distributions={k: DISTS[k] for k in p},
                values=values,
                constraints={"c0": u - 0.8} if constrained else None,
            )
        )
    study.add_trials(trials)
    return study


class KnownScores(BaseImportanceEvaluator):
    """An evaluator with fixed scores, so the plot's bars are known."""

    SCORES: ClassVar[dict[str, float]] = {"x": 6.0, "lr": 3.0, "n": 0.9, "c": 0.05}

    def evaluate(self, study, params=None, *, target=None):  # type: ignore[no-untyped-def]
        names = params if params is not None else list(self.SCORES)
        return {k: self.SCORES[k] for k in names}

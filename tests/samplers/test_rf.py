"""RFSampler (SMAC): regret against random search, declared spaces with conditions and
constraints, define-by-run, parallel workers, pruned trials, argument checks."""

from __future__ import annotations

import math
import statistics

import pytest

import ferrotune
from ferrotune import SearchSpace
from ferrotune.benchmarks import get_problem
from ferrotune.distributions import CategoricalDistribution, FloatDistribution
from ferrotune.examples import transformer_loss, transformer_space
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import RandomSampler, RFSampler
from ferrotune.trial import TrialState

BRANIN = get_problem("branin")


def _branin_cat_regret(sampler: ferrotune.samplers.BaseSampler, n: int) -> float:
    space = SearchSpace(
        {
            "x0": FloatDistribution(-5.0, 10.0),
            "x1": FloatDistribution(0.0, 15.0),
            "noise": CategoricalDistribution(["a", "b", "c", "d"]),
        }
    )
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: BRANIN({"x0": t.params["x0"], "x1": t.params["x1"]}), n, space=space)
    return study.best_value - BRANIN.optimum


def test_branin_with_a_categorical_noise_dimension_beats_random_search() -> None:
    # 15 seeds: the median of 7 moved by 2x between equivalent settings.
    rf = [_branin_cat_regret(RFSampler(seed=s), 60) for s in range(15)]
    rnd = [_branin_cat_regret(RandomSampler(seed=s), 60) for s in range(15)]
    assert statistics.median(rf) < 0.5 * statistics.median(rnd)
    assert statistics.median(rf) < 0.3


def test_the_transformer_space_is_never_violated_and_is_optimised() -> None:
    space = transformer_space()
    best = []
    for seed in range(3):
        study = ferrotune.create_study(sampler=RFSampler(seed=seed))
        study.optimize(lambda t: transformer_loss(t.params), 60, space=space)
        for t in study.trials:
            assert space.is_feasible(t.params)
            assert t.params["d_model"] % t.params["n_heads"] == 0
            assert ("beta1" in t.params) == (t.params["optimizer"] == "adam")
        best.append(study.best_value)
    # The optimum is 0.5; random search's median at 60 trials is about 0.89.
    assert statistics.median(best) < 0.8


def test_callable_constraints_are_never_violated() -> None:
    space = SearchSpace(
        {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)},
        constraints=[lambda p: p["x"] + p["y"] <= 1.0],
    )
    study = ferrotune.create_study(sampler=RFSampler(seed=2, n_startup_trials=5, n_candidates=500))
    # The unconstrained optimum (1, 1) is infeasible: the best lies on x + y = 1.
    study.optimize(lambda t: (t.params["x"] - 1) ** 2 + (t.params["y"] - 1) ** 2, 30, space=space)
    assert all(t.params["x"] + t.params["y"] <= 1.0 for t in study.trials)
    assert study.best_value < 0.6


def test_define_by_run_conditional_objective() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        kind = trial.suggest_categorical("kind", ["quad", "abs"])
        x = trial.suggest_float("x", -4.0, 4.0)
        if kind == "quad":
            lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
            # lr is outside the intersection space, so it is drawn uniformly: its term is
            # noise to the model, kept small so that the "quad" branch is the better one in
            # expectation (with weight 1 it averages 4/3, worse than "abs" at x = 0).
            return (x - 1.0) ** 2 + 0.1 * (math.log10(lr) + 3.0) ** 2
        return abs(x) + 1.0

    values = []
    for seed in range(3):
        study = ferrotune.create_study(sampler=RFSampler(seed=seed, n_candidates=1000))
        study.optimize(objective, 50)
        for t in study.trials:
            assert -4.0 <= t.params["x"] <= 4.0
        values.append(study.best_value)
    assert statistics.median(values) < 0.1


def test_parallel_workers_and_seeds() -> None:
    study = ferrotune.create_study(sampler=RFSampler(seed=3, n_startup_trials=4))
    study.optimize(lambda t: (t.suggest_float("x", -2, 2) - 0.5) ** 2, 24, n_jobs=2)
    assert len(study.trials) == 24
    assert len({t.params["x"] for t in study.trials}) == 24

    def run(seed: int) -> list[float]:
        s = ferrotune.create_study(sampler=RFSampler(seed=seed, n_startup_trials=4))
        s.optimize(lambda t: (t.suggest_float("x", -2, 2) - 0.5) ** 2, 12)
        return [t.params["x"] for t in s.trials]

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_pruned_trials_with_a_multi_fidelity_pruner() -> None:
    study = ferrotune.create_study(
        sampler=RFSampler(seed=4, n_startup_trials=5, n_candidates=500),
        pruner=ferrotune.pruners.SuccessiveHalvingPruner(),
    )

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -3.0, 3.0)
        value = 0.0
        for step in range(1, 10):
            value = (x - 1.0) ** 2 + 1.0 / step
            trial.report(value, step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return value

    study.optimize(objective, 40)
    states = [t.state for t in study.trials]
    assert TrialState.PRUNED in states
    assert study.best_value < 0.2


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"random_fraction": 1.5}, "random_fraction"),
        ({"n_trees": 0}, "n_trees"),
        ({"ratio_features": 0.0}, "ratio_features"),
        ({"min_samples_split": 1}, "min_samples_split"),
        ({"n_startup_trials": -1}, "n_startup_trials"),
        ({"log_y": "yes"}, "log_y"),
        ({"min_distance": 1.0}, "min_distance"),
        ({"min_distance": -0.01}, "min_distance"),
        ({"min_distance": "0.1"}, "min_distance"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, object], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        RFSampler(**kwargs)  # type: ignore[arg-type]


def test_a_plateau_edge_is_not_bisected() -> None:
    # A tabulated objective: C snapped to half decades, a plateau at C = 1. The trees
    # disagree on where the step between two evaluations lies however close they are;
    # no model-based proposal comes within min_distance (unit scale) of an evaluation.

    def f(t: ferrotune.Trial) -> float:
        c = t.suggest_float("C", 1e-4, 1e3, log=True)
        k = t.suggest_categorical("k", ["a", "b"])
        snapped = round(2 * math.log10(c)) / 2
        return abs(snapped) + (0.5 if k == "b" else 0.0)

    study = ferrotune.create_study(
        sampler=RFSampler(seed=1, random_fraction=0.0, n_startup_trials=6, n_candidates=500)
    )
    study.optimize(f, n_trials=50)
    trials = study.trials
    unit = [(math.log10(t.params["C"]) + 4) / 7 for t in trials]
    for i in range(6, len(trials)):
        for j in range(i):
            if trials[j].params["k"] == trials[i].params["k"]:
                assert abs(unit[i] - unit[j]) >= 0.003, (i, j, unit[i], unit[j])
    assert study.best_value == 0.0

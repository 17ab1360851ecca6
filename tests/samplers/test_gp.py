"""GPSampler: optimisation quality against random search and TPE on seeded benchmarks,
values on their distributions, declared spaces, parallel workers, pickling and argument
checking."""

from __future__ import annotations

import math
import pickle
import statistics
from typing import Any

import pytest

import ferrotune
from ferrotune import Divisible, SearchSpace
from ferrotune.benchmarks import Problem, branin, hartmann6
from ferrotune.distributions import CategoricalDistribution, FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import BaseSampler, GPSampler, RandomSampler, TPESampler
from tests._support import in_distribution, suggest

SEEDS = range(5)


def _regret(problem: Problem, sampler: BaseSampler, n_trials: int) -> float:
    study = ferrotune.create_study(sampler=sampler)
    space = problem.space
    study.optimize(
        lambda t: problem({k: suggest(t, k, d) for k, d in space.items()}), n_trials=n_trials
    )
    return problem.regret(study.best_value)


def _median(problem: Problem, make: Any, n_trials: int) -> float:
    return statistics.median(_regret(problem, make(s), n_trials) for s in SEEDS)


# ------------------------------------------------------------------------- quality
def test_branin_beats_random_search_at_30_trials() -> None:
    # Measured: GP median regret 0.003 over seeds 0-4 (and over seeds 0-9), random
    # search 1.22; the bound leaves a wide margin.
    gp = _median(branin(), lambda s: GPSampler(seed=s), 30)
    rnd = _median(branin(), lambda s: RandomSampler(seed=s), 30)
    assert gp < 0.05, gp
    assert gp < rnd / 10, (gp, rnd)


def test_hartmann6_beats_tpe_at_50_trials() -> None:
    # Measured, seeds 0-4: GP median regret 0.006, TPE 0.47. Over 30 seeds the GP is
    # bimodal (the global optimum found, regret < 0.01, or a local one, about 1.5):
    # median 0.14, IQR [0.015, 0.76]; TPE median 0.40, IQR [0.30, 0.58].
    problem = hartmann6()
    gp = _median(problem, lambda s: GPSampler(seed=s), 50)
    tpe = _median(problem, lambda s: TPESampler(seed=s), 50)
    assert gp < tpe, (gp, tpe)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"acquisition": "ei"},
        {"acquisition": "pi"},
        {"acquisition": "ucb"},
        {"acquisition": "ucb", "beta": 2.0},
        {"deterministic_objective": True},
    ],
)
def test_every_acquisition_improves_on_the_start(kwargs: dict[str, Any]) -> None:
    # The median of three seeds: a single run of a greedy (PI) or exploring (UCB with
    # the Srinivas schedule) acquisition can end far off at 30 trials. Measured over
    # seeds 0-9 (regret at 30 trials): PI <= 0.15, UCB 0.01-0.21 with one seed (1) at
    # 0.72, EI <= 0.015; the start-up draws alone (5 trials): about 4.4.
    problem = branin()
    regrets, starts = [], []
    for seed in range(3):
        regrets.append(_regret(problem, GPSampler(seed=seed, n_startup_trials=5, **kwargs), 30))
        starts.append(_regret(problem, GPSampler(seed=seed, n_startup_trials=5, **kwargs), 5))
    regret, start = statistics.median(regrets), statistics.median(starts)
    assert regret < 0.5 and regret <= start, (regrets, starts)


def test_maximisation_is_handled() -> None:
    problem = branin()
    study = ferrotune.create_study(sampler=GPSampler(seed=0), direction="maximize")
    study.optimize(
        lambda t: -problem({k: suggest(t, k, d) for k, d in problem.space.items()}),
        n_trials=30,
    )
    assert problem.regret(-study.best_value) < 0.05


def test_mixed_space_values_stay_in_their_distributions() -> None:
    dists: dict[str, Any] = {
        "lr": ferrotune.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "n": ferrotune.distributions.IntDistribution(1, 512, log=True),
        "k": ferrotune.distributions.IntDistribution(-3, 9, step=3),
        "s": ferrotune.distributions.FloatDistribution(0.0, 1.0, step=0.25),
        "c": CategoricalDistribution(["a", None, 3]),
    }
    study = ferrotune.create_study(sampler=GPSampler(seed=2, n_startup_trials=4))

    def objective(trial: ferrotune.Trial) -> float:
        p = {k: suggest(trial, k, d) for k, d in dists.items()}
        for k, d in dists.items():
            assert in_distribution(d, p[k]), (k, p[k])
        return (
            abs(math.log10(p["lr"]) + 3) + abs(p["n"] - 64) / 64 + p["k"] + p["s"] + (p["c"] == "a")
        )

    study.optimize(objective, n_trials=30)
    assert study.best_value < 1.0


def test_several_objectives_run() -> None:
    study = ferrotune.create_study(sampler=GPSampler(seed=0), directions=["minimize"] * 2)
    study.optimize(
        lambda t: (t.suggest_float("x", 0, 1) ** 2, (t.suggest_float("y", 0, 1) - 1) ** 2),
        n_trials=20,
    )
    assert len(study.best_trials) >= 1


# ---------------------------------------------------------------- declared spaces
def test_declared_space_constraints_hold_after_start_up() -> None:
    space = SearchSpace(
        {
            "d_model": CategoricalDistribution([96, 128, 192, 256, 512]),
            "n_heads": CategoricalDistribution([3, 4, 6, 8, 16]),
            "x": FloatDistribution(0.0, 1.0),
        },
        constraints=[Divisible("d_model", "n_heads"), lambda p: p["x"] < 0.9],
    )
    study = ferrotune.create_study(sampler=GPSampler(seed=4, n_startup_trials=4))

    def objective(trial: ferrotune.Trial) -> float:
        p = trial.params
        assert p["d_model"] % p["n_heads"] == 0 and p["x"] < 0.9
        return (p["x"] - 0.5) ** 2 + p["d_model"] / p["n_heads"] / 100

    study.optimize(objective, n_trials=30, space=space)
    assert study.best_value < 0.1


# -------------------------------------------------------------------- parallelism
def test_two_workers_complete_and_do_not_duplicate() -> None:
    problem = branin()
    study = ferrotune.create_study(sampler=GPSampler(seed=3, n_startup_trials=4))
    study.optimize(
        lambda t: problem({k: suggest(t, k, d) for k, d in problem.space.items()}),
        n_trials=30,
        n_jobs=2,
    )
    assert [t.state for t in study.trials] == [ferrotune.TrialState.COMPLETE] * 30
    points = [tuple(t.params.values()) for t in study.trials]
    assert len(set(points)) == len(points)


def test_a_running_trial_makes_the_next_ask_differ() -> None:
    study = ferrotune.create_study(sampler=GPSampler(seed=5, n_startup_trials=5))
    problem = branin()
    study.optimize(
        lambda t: problem({k: suggest(t, k, d) for k, d in problem.space.items()}),
        n_trials=12,
    )
    a, b = study.ask(), study.ask()
    pa = {k: suggest(a, k, d) for k, d in problem.space.items()}
    pb = {k: suggest(b, k, d) for k, d in problem.space.items()}
    assert pa != pb


def _batch_spread(seed: int) -> list[float]:
    """Hartmann6 asked in rounds of eight (eight workers): the least distance between two
    points of each round, on the unit cube."""
    problem = hartmann6()
    study = ferrotune.create_study(sampler=GPSampler(seed=seed))
    closest = []
    for _ in range(6):
        batch = [study.ask() for _ in range(8)]
        points = [[suggest(t, k, d) for k, d in problem.space.items()] for t in batch]
        closest.append(min(math.dist(p, q) for i, p in enumerate(points) for q in points[i + 1 :]))
        for t, p in zip(batch, points, strict=True):
            study.tell(t, problem(dict(zip(problem.space, p, strict=True))))
    return closest


@pytest.mark.parametrize("seed", [0, 1])
def test_a_round_of_eight_asks_spreads_out(seed: int) -> None:
    # Each ask sees the other RUNNING trials as Kriging-believer observations, and their
    # posterior means count in the incumbent. When they did not, the expected improvement
    # stayed at a pending point whose mean improved on the best and whole rounds came out
    # as one repeated point (distance 0 in the sixth round with seed 0); now the closest
    # pair of a round is 0.029 (seed 0) and 0.0039 (seed 1) apart at the least.
    closest = _batch_spread(seed)
    assert min(closest) > 1e-3, closest


# ------------------------------------------------------------------------ pickling
def _quad(trial: ferrotune.Trial) -> float:
    return (trial.suggest_float("x", -2, 2) - 0.5) ** 2 + trial.suggest_int("n", 0, 8)


def test_pickle_of_a_fresh_sampler_matches_the_seeded_one() -> None:
    copy = pickle.loads(pickle.dumps(GPSampler(seed=5, n_startup_trials=4, acquisition="ei")))
    study = ferrotune.create_study(sampler=copy)
    study.optimize(_quad, n_trials=12)
    ref = ferrotune.create_study(sampler=GPSampler(seed=5, n_startup_trials=4, acquisition="ei"))
    ref.optimize(_quad, n_trials=12)
    assert [t.params for t in study.trials] == [t.params for t in ref.trials]


def test_pickled_copies_continue_identically() -> None:
    """The generator state and the fitted hyperparameters travel through the pickle,
    so two copies continue the same way."""
    sampler = GPSampler(seed=3, n_startup_trials=4)
    original = ferrotune.create_study(sampler=sampler)
    original.optimize(_quad, n_trials=8)
    blob = pickle.dumps(sampler)
    runs = []
    for _ in range(2):
        replica = ferrotune.create_study(sampler=pickle.loads(blob))
        replica.add_trials(original.trials)
        replica.optimize(_quad, n_trials=5)
        runs.append([t.params for t in replica.trials[8:]])
    assert runs[0] == runs[1]
    fresh = ferrotune.create_study(sampler=GPSampler(seed=3, n_startup_trials=4))
    fresh.add_trials(original.trials)
    fresh.optimize(_quad, n_trials=5)
    assert [t.params for t in fresh.trials[8:]] != runs[0]


def test_fitted_hyperparameters_travel_through_the_pickle() -> None:
    sampler = GPSampler(seed=4, n_startup_trials=4)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_quad, n_trials=10)
    fits = sampler._rust.get_fits()
    assert len(fits) == 1 and fits[0] is not None
    theta, n_fit, n_multi = fits[0]
    # 2 lengthscales, signal, noise, then the input warp's (a, b) for each of the 2 dims
    # (the default input_warping="auto" warps a numeric space without constraints).
    assert len(theta) == 8 and all(math.isfinite(v) for v in theta)
    assert 4 <= n_multi <= n_fit <= 10
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy._rust.get_fits() == [None]  # held as warm starts until the next ask
    replica = ferrotune.create_study(sampler=copy)
    replica.add_trials(study.trials)
    replica.optimize(_quad, n_trials=1)
    (after,) = copy._rust.get_fits()
    assert after is not None
    # One warm refit on the same ten trials: the multi-start bookkeeping carries over
    # (a cold fit would set it to 10) and the hyperparameters stay close.
    assert after[2] == n_multi
    assert max(abs(a - b) for a, b in zip(after[0], theta, strict=True)) < 0.5
    # A state of the generator alone (no fits kept) still loads.
    state = sampler.__getstate__()
    state["_rust"] = state["_rust"][:4]
    old = GPSampler.__new__(GPSampler)
    old.__setstate__(state)
    assert old._rust.get_fits() == [None]


# ------------------------------------------------------------------------ arguments
@pytest.mark.parametrize(
    "kwargs",
    [
        {"acquisition": "lcb"},
        {"acquisition": "LogEI"},
        {"beta": 1.0},
        {"acquisition": "ucb", "beta": -1.0},
        {"acquisition": "ucb", "beta": math.nan},
        {"acquisition": "ucb", "beta": math.inf},
        {"acquisition": "ucb", "beta": "1"},
        {"n_startup_trials": -1},
        {"n_startup_trials": 1.5},
        {"n_startup_trials": True},
        {"deterministic_objective": "yes"},
        {"seed": "0"},
    ],
)
def test_bad_arguments_raise(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        GPSampler(**kwargs)


def test_exported_and_documented() -> None:
    assert ferrotune.samplers.GPSampler is GPSampler
    doc = GPSampler.__doc__ or ""
    for word in ("n_startup_trials", "Hvarfner", "Refit schedule", "Deviations"):
        assert word in doc


def test_pruned_trials_do_not_bring_the_same_point_back() -> None:
    # Pruned trials were left out of the model, so nothing changed between asks while
    # trials were pruned, and the same corner was proposed 35 times in 60 trials.
    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        y = trial.suggest_float("y", -5, 5)
        for step in range(9):
            trial.report(x * x + y * y + 1 / (step + 1), step)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return x * x + y * y

    study = ferrotune.create_study(
        sampler=GPSampler(seed=0), pruner=ferrotune.pruners.SuccessiveHalvingPruner()
    )
    study.optimize(objective, n_trials=40)
    points = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert any(t.state == ferrotune.TrialState.PRUNED for t in study.trials)
    assert len(set(points)) == len(points)

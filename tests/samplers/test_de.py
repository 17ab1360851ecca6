"""DESampler: arguments, population bookkeeping through trial tags, declared spaces,
pickling and regret against random search."""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune import Divisible, Linear, SearchSpace
from ferrotune.benchmarks import rosenbrock
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import DESampler, RandomSampler
from ferrotune.trial import TrialState


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"population_size": 3}, "population_size"),
        ({"population_size": 4.0}, "population_size"),
        ({"population_size": True}, "population_size"),
        ({"strategy": "best1bin"}, "strategy"),
        ({"adaptation": "lshade"}, "adaptation"),
        ({"mutation_factor": 0.0}, "mutation_factor"),
        ({"mutation_factor": math.nan}, "mutation_factor"),
        ({"crossover_rate": 1.1}, "crossover_rate"),
        ({"memory_size": 0}, "memory_size"),
        ({"p_best_rate": 0.0}, "p_best_rate"),
        ({"archive_rate": -0.5}, "archive_rate"),
        ({"archive_rate": "1"}, "archive_rate"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        DESampler(**kwargs)


def _tags(study: ferrotune.Study) -> list[list[float]]:
    return [study.core.tag(t.number) for t in study.trials]


def _sphere(trial: ferrotune.Trial) -> float:
    return sum((trial.suggest_float(f"x{i}", -3, 3) - 1) ** 2 for i in range(3))


def test_seeds_reproduce_and_values_are_valid() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        a = trial.suggest_float("a", 1e-4, 1.0, log=True)
        b = trial.suggest_int("b", 0, 40, step=4)
        c = trial.suggest_float("c", -1.0, 1.0, step=0.1)
        d = trial.suggest_categorical("d", ["u", "v", "w"])
        e = trial.suggest_int("e", 1, 512, log=True)
        assert 1e-4 <= a <= 1.0 and b % 4 == 0 and 0 <= b <= 40 and 1 <= e <= 512
        assert abs(round(c * 10) - c * 10) < 1e-9 and d in ("u", "v", "w")
        return abs(math.log(a)) + abs(b - 12) + c * c + "uvw".index(d) + math.log(e)

    runs = []
    for _ in range(2):
        study = ferrotune.create_study(sampler=DESampler(population_size=8, seed=3))
        study.optimize(objective, n_trials=80)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]
    other = ferrotune.create_study(sampler=DESampler(population_size=8, seed=4))
    other.optimize(objective, n_trials=80)
    assert [t.params for t in other.trials] != runs[0]


def test_each_trial_records_its_generation_slot_f_and_cr() -> None:
    study = ferrotune.create_study(sampler=DESampler(population_size=5, seed=0))
    study.optimize(_sphere, n_trials=40)
    tags = _tags(study)
    # [mark, generation, slot, F, CR, the trial vector]; trial 0 was drawn before any
    # parameter was known, so it holds no vector.
    assert len(tags[0]) == 5 and all(len(t) == 5 + 3 for t in tags[1:])
    for t, trial in zip(tags[1:], study.trials[1:], strict=True):
        x = [trial.params[f"x{i}"] for i in range(3)]
        assert np.allclose(x, [-3 + 6 * u for u in t[5:]])
    # One ask at a time: generation g is trials 5g..5g+4, each slot once.
    assert [t[1] for t in tags] == [n // 5 for n in range(40)]
    for g in range(8):
        assert sorted(t[2] for t in tags[5 * g : 5 * g + 5]) == list(range(5)), g
    # Generation 0 is drawn uniformly (F = CR = 0); later ones have SHADE's F and CR.
    assert all(t[3] == 0.0 for t in tags[:5])
    assert all(0 < t[3] <= 1 and 0 <= t[4] <= 1 for t in tags[5:])


def test_two_samplers_sharing_one_storage_fill_one_population() -> None:
    storage = ferrotune.storages.InMemoryStorage()
    a = ferrotune.create_study(storage=storage, study_name="s", sampler=DESampler(seed=1))
    b = ferrotune.create_study(
        storage=storage, study_name="s", sampler=DESampler(seed=2), load_if_exists=True
    )
    pending: list[tuple[ferrotune.Study, ferrotune.Trial]] = []
    for i in range(120):
        study = a if i % 2 == 0 else b
        trial = study.ask()
        pending.append((study, trial))
        if len(pending) == 3:  # three trials in flight; every ninth one fails
            s, t = pending.pop(0)
            if t.number % 9 == 4:
                s.tell(t, state=TrialState.FAIL)
            else:
                s.tell(t, _sphere(t))
    tags = _tags(a)
    generations = max(int(t[1]) for t in tags)
    assert generations >= 4
    for g in range(generations):
        slots = [int(t[2]) for t in tags if t[1] == g]
        assert sorted(set(slots)) == list(range(20)), g
        assert len(slots) <= 20 + 3, (g, len(slots))


def test_threads_share_one_population() -> None:
    study = ferrotune.create_study(sampler=DESampler(population_size=6, seed=5))
    study.optimize(_sphere, n_trials=60, n_jobs=2)
    tags = _tags(study)
    for g in range(int(max(t[1] for t in tags))):
        assert {int(t[2]) for t in tags if t[1] == g} == set(range(6))


def test_declared_space_constraints_are_never_violated() -> None:
    space = SearchSpace(
        {
            "x": FloatDistribution(0.0, 1.0),
            "y": FloatDistribution(0.0, 1.0),
            "n": IntDistribution(1, 6),
            "m": IntDistribution(1, 12),
        },
        constraints=[Linear({"x": 1.0, "y": 1.0}, upper=0.5), Divisible("m", "n")],
    )

    def objective(trial: ferrotune.Trial) -> float:
        p = trial.params
        assert p["x"] + p["y"] <= 0.5 + 1e-12 and p["m"] % p["n"] == 0
        return -(p["x"] + p["y"]) - p["m"] / 12

    study = ferrotune.create_study(sampler=DESampler(population_size=8, seed=2))
    study.optimize(objective, n_trials=200, space=space)
    assert study.best_value < -1.4
    # Trial vectors of the space (F > 0), not the uniform fallback, do the work.
    assert sum(t[3] > 0 for t in _tags(study)) > 150


def test_a_pickled_sampler_continues_the_sequence() -> None:
    sampler = DESampler(population_size=6, seed=7)
    ferrotune.create_study(sampler=sampler).optimize(_sphere, n_trials=9)
    copy = pickle.loads(pickle.dumps(sampler))
    a, b = ferrotune.create_study(sampler=sampler), ferrotune.create_study(sampler=copy)
    a.optimize(_sphere, n_trials=20)
    b.optimize(_sphere, n_trials=20)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]
    assert _tags(a) == _tags(b)


def test_a_pickled_study_continues_its_population() -> None:
    study = ferrotune.create_study(sampler=DESampler(population_size=6, seed=7))
    study.optimize(_sphere, n_trials=20)
    clone = pickle.loads(pickle.dumps(study))
    study.optimize(_sphere, n_trials=10)
    clone.optimize(_sphere, n_trials=10)
    assert [t.params for t in clone.trials] == [t.params for t in study.trials]


def _rastrigin(x: np.ndarray[Any, Any]) -> float:
    return float(10 * len(x) + np.sum(x * x - 10 * np.cos(2 * np.pi * x)))


@pytest.mark.parametrize("strategy", ["current-to-pbest1", "rand1bin"])
def test_regret_beats_random_search(strategy: str) -> None:
    problem = rosenbrock(5)
    names = list(problem.params)
    lo, hi = problem.params[names[0]].low, problem.params[names[0]].high

    def run(sampler: ferrotune.samplers.BaseSampler, f: Any) -> float:
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(f, n_trials=400)
        return study.best_value

    for f in (
        lambda t: problem({k: t.suggest_float(k, lo, hi) for k in names}),
        lambda t: _rastrigin(np.array([t.suggest_float(k, -5.12, 5.12) for k in names])),
    ):
        wins = sum(
            run(DESampler(strategy=strategy, seed=s), f) < run(RandomSampler(seed=s), f)
            for s in range(4)
        )
        assert wins == 4


@pytest.mark.parametrize("kind", ["de", "pso"])
def test_one_sampler_object_serving_two_studies_keeps_their_populations_apart(
    kind: str,
) -> None:
    """Asks alternating between two studies that share one sampler object: each study's
    population holds its own trials only (study A's trials pulled B's population towards
    A's optimum: B's best 0.02-0.25 where B alone reaches 1e-8)."""
    samplers = ferrotune.samplers

    def make() -> Any:
        if kind == "de":
            return samplers.DESampler(population_size=6, seed=0)
        return samplers.PSOSampler(swarm_size=6, seed=0)

    shared = make()
    a = ferrotune.create_study(sampler=shared)
    b = ferrotune.create_study(sampler=shared)
    for _ in range(150):
        for study, sign in ((a, 0.0), (b, 1.0)):
            trial = study.ask()
            study.tell(trial, abs(sign - trial.suggest_float("x", 0, 1)))
    assert a.best_value < 1e-4 and b.best_value < 1e-4
    last_b = [t.params["x"] for t in b.trials[-50:]]
    assert float(np.mean(last_b)) > 0.95

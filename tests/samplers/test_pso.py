"""PSOSampler: arguments, the swarm's bookkeeping through trial tags, the constricted
move, declared spaces, pickling and regret against random search."""

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
from ferrotune.samplers import PSOSampler, RandomSampler
from ferrotune.trial import TrialState


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"swarm_size": 1}, "swarm_size"),
        ({"swarm_size": 2.5}, "swarm_size"),
        ({"cognitive": 0.0}, "cognitive"),
        ({"social": math.inf}, "social"),
        ({"cognitive": 1.0, "social": 2.0}, "exceed 4"),
        ({"max_velocity": 0.0}, "max_velocity"),
        ({"max_velocity": 1.5}, "max_velocity"),
        ({"topology": "star"}, "topology"),
    ],
)
def test_bad_arguments_name_the_argument(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        PSOSampler(**kwargs)


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
        assert 1e-4 <= a <= 1.0 and b % 4 == 0 and 0 <= b <= 40
        assert abs(round(c * 10) - c * 10) < 1e-9 and d in ("u", "v", "w")
        return abs(math.log(a)) + abs(b - 12) + c * c + "uvw".index(d)

    runs = []
    for seed in (3, 3, 4):
        study = ferrotune.create_study(sampler=PSOSampler(swarm_size=8, seed=seed))
        study.optimize(objective, n_trials=80)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1] != runs[2]


def test_moves_follow_the_constriction_formula() -> None:
    # Each tag holds [mark, particle, move, x (d), v (d)]: a move satisfies
    # x' = clip(x + v') with v' = χ (v + φ1 r1 (p - x) + φ2 r2 (g - x)) cut to ±v_max,
    # so (v'/χ - v) must lie in the box spanned by r1, r2 ∈ [0, 1].
    chi = 2 / abs(2 - 4.1 - math.sqrt(4.1**2 - 4 * 4.1))
    assert abs(chi - 0.7298437881) < 1e-9
    study = ferrotune.create_study(sampler=PSOSampler(swarm_size=4, seed=1))
    study.optimize(_sphere, n_trials=40)
    tags = _tags(study)
    values = [t.value for t in study.trials]
    # Trial 0 was drawn before any parameter was known (its tag holds no position),
    # so its particle starts afresh at its move 1.
    assert len(tags[0]) == 3 and all(len(t) == 9 for t in tags[1:])
    # One ask at a time: each sweep of 4 trials moves every particle once.
    for sweep in range(10):
        assert sorted(int(t[1]) for t in tags[4 * sweep : 4 * sweep + 4]) == [0, 1, 2, 3]
    for n in range(4, 40):
        j, m = int(tags[n][1]), int(tags[n][2])
        assert m == n // 4
        # The particle's previous trial (finished: one ask at a time).
        prev = max(k for k in range(n) if int(tags[k][1]) == j)
        if prev == 0:
            continue
        x, v = np.array(tags[prev][3:6]), np.array(tags[prev][6:9])
        nx, nv = np.array(tags[n][3:6]), np.array(tags[n][6:9])
        own = [k for k in range(n) if int(tags[k][1]) == j and k > 0]
        p = np.array(tags[min(own, key=lambda k: values[k])][3:6])
        g = np.array(tags[min(range(1, n), key=lambda k: values[k])][3:6])
        free = (nx > 0) & (nx < 1) & (np.abs(nv) < 0.5)
        assert np.allclose(nx[free], (x + nv)[free])
        a = nv[free] / chi - v[free]
        lo = np.minimum(0, 2.05 * (p - x)[free]) + np.minimum(0, 2.05 * (g - x)[free])
        hi = np.maximum(0, 2.05 * (p - x)[free]) + np.maximum(0, 2.05 * (g - x)[free])
        assert np.all(a >= lo - 1e-9) and np.all(a <= hi + 1e-9)
        assert np.all(np.abs(nv) <= 0.5) and np.all((nx >= 0) & (nx <= 1))


def test_two_samplers_sharing_one_storage_move_one_swarm() -> None:
    storage = ferrotune.storages.InMemoryStorage()
    a = ferrotune.create_study(storage=storage, study_name="s", sampler=PSOSampler(seed=1))
    b = ferrotune.create_study(
        storage=storage, study_name="s", sampler=PSOSampler(seed=2), load_if_exists=True
    )
    pending: list[tuple[ferrotune.Study, ferrotune.Trial]] = []
    for i in range(100):
        study = a if i % 2 == 0 else b
        trial = study.ask()
        pending.append((study, trial))
        if len(pending) == 3:
            s, t = pending.pop(0)
            if t.number % 9 == 4:
                s.tell(t, state=TrialState.PRUNED)
            else:
                s.tell(t, _sphere(t))
    # Each sweep of 20 asks moves every particle once, whichever sampler asks.
    tags = _tags(a)
    assert [t[2] for t in tags] == [n // 20 for n in range(100)]
    for sweep in range(5):
        assert sorted(int(t[1]) for t in tags[20 * sweep : 20 * sweep + 20]) == list(range(20))


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

    study = ferrotune.create_study(sampler=PSOSampler(swarm_size=8, seed=2))
    study.optimize(objective, n_trials=200, space=space)
    assert study.best_value < -1.4
    # Every trial is a particle's position over the space's four parameters.
    assert all(len(t) == 3 + 2 * 4 for t in _tags(study))


def test_a_pickled_sampler_continues_the_sequence() -> None:
    sampler = PSOSampler(swarm_size=6, seed=7)
    ferrotune.create_study(sampler=sampler).optimize(_sphere, n_trials=9)
    copy = pickle.loads(pickle.dumps(sampler))
    a, b = ferrotune.create_study(sampler=sampler), ferrotune.create_study(sampler=copy)
    a.optimize(_sphere, n_trials=20)
    b.optimize(_sphere, n_trials=20)
    assert _tags(a) == _tags(b)


def _rastrigin(x: np.ndarray[Any, Any]) -> float:
    return float(10 * len(x) + np.sum(x * x - 10 * np.cos(2 * np.pi * x)))


@pytest.mark.parametrize("topology", ["global", "ring"])
def test_regret_beats_random_search(topology: str) -> None:
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
            run(PSOSampler(topology=topology, seed=s), f) < run(RandomSampler(seed=s), f)
            for s in range(4)
        )
        assert wins == 4

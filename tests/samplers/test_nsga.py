"""NSGAIISampler and NSGAIIISampler: arguments, generations in a shared study,
constraints, declared spaces and quality against random search."""

from __future__ import annotations

import pickle
from typing import Any

import pytest

import ferrotune
from ferrotune.benchmarks import dtlz2, zdt1
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import NSGAIIISampler, NSGAIISampler, RandomSampler
from ferrotune.samplers.nsgaii import (
    BLXAlphaCrossover,
    SBXCrossover,
    SPXCrossover,
    UNDXCrossover,
    UniformCrossover,
    VSBXCrossover,
)


def _zdt1(trial: ferrotune.Trial, d: int = 10) -> tuple[float, float]:
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(d)]
    g = 1 + 9 * sum(x[1:]) / (d - 1)
    return x[0], g * (1 - (x[0] / g) ** 0.5)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"population_size": 1},
        {"population_size": 2.5},
        {"mutation_prob": 1.5},
        {"crossover_prob": -0.1},
        {"swapping_prob": "x"},
        {"crossover": "undx"},
        {"crossover": "nope"},
        {"crossover": object()},
        {"mutation": object()},
        {"after_trial_strategy": lambda *a: None},
        {"constraints_func": 3},
    ],
)
def test_bad_arguments_are_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        NSGAIISampler(**kwargs)


def test_nsga3_arguments() -> None:
    for kwargs in (
        {"dividing_parameter": 0},
        {"reference_points": [[1.0, 0.0], [1.0]]},
        {"reference_points": [[float("nan"), 1.0]]},
        {"reference_points": "ab"},
    ):
        with pytest.raises(InvalidArgumentError):
            NSGAIIISampler(**kwargs)  # type: ignore[arg-type]
    # Reference points of the wrong width are refused at the first selection.
    s = NSGAIIISampler(population_size=4, reference_points=[[1.0, 0.0, 0.0]], seed=0)
    study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=s)
    with pytest.raises(InvalidArgumentError, match="reference_points"):
        study.optimize(_zdt1, n_trials=12)


def test_crossover_operators() -> None:
    for missing in (VSBXCrossover, UNDXCrossover, SPXCrossover):
        with pytest.raises(InvalidArgumentError, match="not implemented"):
            missing()
    with pytest.raises(InvalidArgumentError):
        SBXCrossover(use_child_gene_prob=0.0)
    with pytest.raises(InvalidArgumentError):
        BLXAlphaCrossover(alpha=-1)
    with pytest.raises(InvalidArgumentError):
        UniformCrossover(swapping_prob=2)
    for c in (
        None,
        "uniform",
        "blxalpha",
        "sbx",
        UniformCrossover(0.3),
        BLXAlphaCrossover(0.2),
        SBXCrossover(eta=15),
    ):
        study = ferrotune.create_study(
            directions=["minimize", "minimize"],
            sampler=NSGAIISampler(population_size=6, crossover=c, seed=1),
        )
        study.optimize(_zdt1, n_trials=30)
        for t in study.trials:
            assert all(0.0 <= v <= 1.0 for v in t.params.values())


def test_generations_are_tagged_and_shared_by_two_samplers() -> None:
    storage = ferrotune.storages.InMemoryStorage()
    a = ferrotune.create_study(
        study_name="s",
        storage=storage,
        directions=["minimize", "minimize"],
        sampler=NSGAIISampler(population_size=5, seed=1),
    )
    b = ferrotune.load_study(
        study_name="s", storage=storage, sampler=NSGAIISampler(population_size=5, seed=2)
    )
    for k in range(40):
        study = a if k % 2 == 0 else b
        study.optimize(_zdt1, n_trials=1)
    gens = [a.core.tag(t.number)[0] for t in a.trials]
    # One run: eight generations of five, not two interleaved runs.
    assert gens == [float(g) for g in range(8) for _ in range(5)]


def test_failed_trials_do_not_stall_a_generation() -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"], sampler=NSGAIISampler(population_size=4, seed=3)
    )

    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        if trial.number % 3 == 0:
            raise ValueError("fails")
        return _zdt1(trial, 3)

    study.optimize(objective, n_trials=30, catch=(ValueError,))
    gens = {}
    for t in study.trials:
        if t.state == ferrotune.TrialState.COMPLETE:
            g = study.core.tag(t.number)[0]
            gens[g] = gens.get(g, 0) + 1
    assert len(gens) >= 5
    assert all(n == 4 for g, n in gens.items() if g < max(gens))


def test_constraints_prefer_feasible_trials() -> None:
    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, 1.0)
        trial.set_user_attr("c", 0.5 - x)  # feasible when x >= 0.5
        return x + y, 1 - x + y

    def constraints(t: ferrotune.FrozenTrial) -> list[float]:
        return [t.user_attrs["c"]]

    for cls in (NSGAIISampler, NSGAIIISampler):
        study = ferrotune.create_study(
            directions=["minimize", "minimize"],
            sampler=cls(population_size=10, seed=4, constraints_func=constraints),
        )
        study.optimize(objective, n_trials=200)
        late = study.trials[-50:]
        feasible = sum(t.params["x"] >= 0.5 for t in late)
        # Random search would give about half; children of feasible parents mostly stay.
        assert feasible >= 40, feasible


def test_declared_space_constraints_are_never_violated() -> None:
    space = ferrotune.SearchSpace(
        {
            "a": ferrotune.distributions.FloatDistribution(0.0, 1.0),
            "b": ferrotune.distributions.FloatDistribution(0.0, 1.0),
            "n": ferrotune.distributions.IntDistribution(1, 8),
        },
        constraints=[ferrotune.Linear({"a": 1.0, "b": 1.0}, upper=0.8)],
    )
    study = ferrotune.create_study(
        directions=["maximize", "maximize"],
        sampler=NSGAIISampler(population_size=8, crossover="blxalpha", seed=5),
    )
    for _ in range(150):
        trial = study.ask(space)
        a, b = trial.params["a"], trial.params["b"]
        assert a + b <= 0.8 + 1e-9
        study.tell(trial, (a + trial.params["n"] / 8, b))


def test_pickled_sampler_continues() -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"],
        sampler=NSGAIIISampler(population_size=4, seed=6, crossover="sbx"),
    )
    study.optimize(_zdt1, n_trials=10)
    loaded = pickle.loads(pickle.dumps(study))
    study.optimize(_zdt1, n_trials=10)
    loaded.optimize(_zdt1, n_trials=10)
    assert [t.params for t in loaded.trials] == [t.params for t in study.trials]


@pytest.mark.parametrize("cls", [NSGAIISampler, NSGAIIISampler])
def test_beats_random_search_on_the_benchmarks(cls: type[NSGAIISampler]) -> None:
    for problem in (zdt1(n_variables=10), dtlz2()):
        for seed in range(3):
            gap = {}
            for name, sampler in (
                ("nsga", cls(seed=seed, population_size=20)),
                ("random", RandomSampler(seed=seed)),
            ):
                study = ferrotune.create_study(directions=problem.directions, sampler=sampler)
                study.optimize(
                    lambda t, p=problem: p({k: t.suggest_float(k, 0, 1) for k in p.params}),
                    n_trials=400,
                )
                gap[name] = problem.hypervolume_gap([t.values for t in study.trials])
            assert gap["nsga"] < gap["random"], (problem.name, seed, gap)


def test_two_threads_fill_generations_together() -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"], sampler=NSGAIISampler(population_size=5, seed=7)
    )
    study.optimize(_zdt1, n_trials=60, n_jobs=2)
    gens: dict[float, int] = {}
    for t in study.trials:
        g = study.core.tag(t.number)[0]
        gens[g] = gens.get(g, 0) + 1
    # Every trial belongs to a generation; each closed one has at least 5 members (a
    # trial asked while the last member ran joins it), so about 60 / 5 generations.
    assert sum(gens.values()) == 60
    closed = [n for g, n in gens.items() if g < max(gens)]
    assert all(n >= 5 for n in closed)
    assert len(gens) >= 8

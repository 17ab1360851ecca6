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
        {"crossover": "nope"},
        {"crossover": "spx", "population_size": 2},
        {"crossover": UNDXCrossover(), "population_size": 2},
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


@pytest.mark.parametrize(
    ("make", "argument"),
    [
        (lambda: SBXCrossover(use_child_gene_prob=0.0), "use_child_gene_prob"),
        (lambda: BLXAlphaCrossover(alpha=-1), "alpha"),
        (lambda: UniformCrossover(swapping_prob=2), "swapping_prob"),
        (lambda: VSBXCrossover(eta=-1.0), "eta"),
        (lambda: VSBXCrossover(uniform_crossover_prob=1.5), "uniform_crossover_prob"),
        (lambda: VSBXCrossover(use_child_gene_prob=0.0), "use_child_gene_prob"),
        (lambda: UNDXCrossover(sigma_xi=-0.5), "sigma_xi"),
        (lambda: UNDXCrossover(sigma_xi=None), "sigma_xi"),  # type: ignore[arg-type]
        (lambda: UNDXCrossover(sigma_eta=float("inf")), "sigma_eta"),
        (lambda: UNDXCrossover(sigma_eta="0.1"), "sigma_eta"),  # type: ignore[arg-type]
        (lambda: SPXCrossover(epsilon=float("nan")), "epsilon"),
        (lambda: SPXCrossover(epsilon=-2), "epsilon"),
    ],
)
def test_bad_crossover_arguments_name_the_argument(make: Any, argument: str) -> None:
    with pytest.raises(InvalidArgumentError, match=argument):
        make()


def _mixed(trial: ferrotune.Trial) -> tuple[float, float]:
    f = trial.suggest_float("f", -2.0, 3.0)
    lg = trial.suggest_float("lg", 1e-4, 1e-1, log=True)
    st = trial.suggest_float("st", 0.0, 1.0, step=0.125)
    i = trial.suggest_int("i", -3, 17)
    j = trial.suggest_int("j", 0, 20, step=4)
    c = trial.suggest_categorical("c", ["a", "b", "c"])
    # Pulls every parameter toward its lower bound, where children often leave it.
    f1 = f + lg + i
    return f1, st + j - f1 + "abc".index(c)


ALL_CROSSOVERS: list[Any] = [
    None,
    "uniform",
    "blxalpha",
    "sbx",
    "vsbx",
    "undx",
    "spx",
    UniformCrossover(0.3),
    BLXAlphaCrossover(0.2),
    SBXCrossover(eta=15),
    VSBXCrossover(eta=5, uniform_crossover_prob=0.3, use_child_gene_prob=0.7),
    UNDXCrossover(sigma_xi=0.4, sigma_eta=0.2),
    SPXCrossover(epsilon=1.5),
]


@pytest.mark.parametrize("crossover", ALL_CROSSOVERS)
@pytest.mark.parametrize("cls", [NSGAIISampler, NSGAIIISampler])
def test_every_crossover_stays_in_bounds_and_on_step_grids(
    cls: type[NSGAIISampler], crossover: Any
) -> None:
    study = ferrotune.create_study(
        directions=["minimize", "minimize"],
        sampler=cls(population_size=6, crossover=crossover, seed=1),
    )
    study.optimize(_mixed, n_trials=60)
    for t in study.trials:
        p = t.params
        assert -2.0 <= p["f"] <= 3.0
        assert 1e-4 <= p["lg"] <= 1e-1
        assert 0.0 <= p["st"] <= 1.0
        assert p["st"] * 8 == round(p["st"] * 8)
        assert isinstance(p["i"], int)
        assert -3 <= p["i"] <= 17
        assert p["j"] in range(0, 21, 4)
        assert p["c"] in ("a", "b", "c")
    assert study.core.tag(59)[0] >= 5  # generations went on


@pytest.mark.parametrize("crossover", ["vsbx", "undx", "spx", UNDXCrossover(sigma_xi=0.3)])
def test_new_crossovers_reproduce_seeds(crossover: Any) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = ferrotune.create_study(
            directions=["minimize", "minimize"],
            sampler=NSGAIISampler(population_size=5, crossover=crossover, seed=seed),
        )
        study.optimize(_zdt1, n_trials=30)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_crossover_strings_and_objects_agree() -> None:
    # A name is the operator with its defaults: the same draws.
    for name, op in (
        ("vsbx", VSBXCrossover()),
        ("undx", UNDXCrossover()),
        ("spx", SPXCrossover()),
    ):
        runs = []
        for c in (name, op):
            study = ferrotune.create_study(
                directions=["minimize", "minimize"],
                sampler=NSGAIISampler(population_size=5, crossover=c, seed=2),
            )
            study.optimize(_zdt1, n_trials=25)
            runs.append([t.params for t in study.trials])
        assert runs[0] == runs[1], name
    assert UNDXCrossover.n_parents == SPXCrossover.n_parents == 3
    assert VSBXCrossover.n_parents == 2


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


def test_reference_points_of_the_wrong_width_fail_at_the_first_ask() -> None:
    """Before, the objective ran a whole population (50 times) before the error."""
    study = ferrotune.create_study(
        directions=["minimize", "minimize"],
        sampler=NSGAIIISampler(seed=0, reference_points=[[1, 0, 0], [0, 1, 0]]),
    )
    calls = []

    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        calls.append(trial.number)
        x = trial.suggest_float("x", 0, 1)
        return x, 1 - x

    with pytest.raises(InvalidArgumentError, match="reference_points"):
        study.optimize(objective, n_trials=100)
    assert calls == []
    assert all(t.state != ferrotune.TrialState.RUNNING for t in study.trials)

"""AutoSampler: which sampler runs when, the switches reaching the study's core, the
CMA-ES warm start, seeds, pickling, threads, constraints and a regret check."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import (
    AutoSampler,
    CmaEsSampler,
    GPSampler,
    NSGAIISampler,
    RandomSampler,
    TPESampler,
    TrustRegionSampler,
)
from ferrotune.samplers._auto import _warm_cmaes
from ferrotune.storages._base import TAG_KEY
from ferrotune.trial import TrialState

CMAES_TAG = 1_129_136_453.0  # the first value of CMA-ES's trial tags


def _sphere(trial: Any, d: int = 3) -> float:
    return sum((trial.suggest_float(f"x{i}", -5, 5) - 1.0) ** 2 for i in range(d))


def _names(sampler: AutoSampler) -> list[str]:
    return [name for _, name in sampler.switches]


def test_numeric_space_runs_the_gp_then_a_warm_started_cma_es() -> None:
    sampler = AutoSampler(seed=0, gp_trials=15, trust_region=False)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=40)
    assert sampler.switches == [(15, "CmaEsSampler")]
    assert isinstance(sampler.current_sampler, CmaEsSampler)
    # The study's core really switched: CMA-ES tags its proposals, the GP does not.
    tags = [t.system_attrs.get(TAG_KEY) for t in study.trials]
    assert all(not tag for tag in tags[:15])
    assert all(tag and tag[0] == CMAES_TAG for tag in tags[15:])


def test_a_declared_conditional_space_stays_with_the_gp_then_goes_to_tpe() -> None:
    space = ferrotune.SearchSpace(
        {"kind": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(0, 1)},
        conditions={"x": ("kind", ["a"])},
    )
    sampler = AutoSampler(seed=0, gp_trials=8)
    study = ferrotune.create_study(sampler=sampler)
    for _ in range(12):
        trial = study.ask(space)
        study.tell(trial, trial.params.get("x", 0.5))
    # The GP models the declared space whole; CMA-ES would draw "x" at random.
    assert sampler.switches == [(8, "TPESampler")]


def test_a_stalled_gp_phase_ends_early_on_a_numeric_space_only() -> None:
    def step(trial: Any) -> float:
        return 0.0 if trial.suggest_float("x", 0, 1) > 0.3 else 1.0

    sampler = AutoSampler(seed=0, patience=15, trust_region=False)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(step, n_trials=80)
    best = study.best_trial.number
    # No value below the best for 15 trials after it, and at least 30 trials: CMA-ES.
    assert sampler.switches == [(max(best + 15, 30), "CmaEsSampler")]

    def step_with_a_choice(trial: Any) -> float:
        trial.suggest_categorical("c", ["p", "q"])
        return step(trial)

    sampler = AutoSampler(seed=0, patience=15, trust_region=False)
    ferrotune.create_study(sampler=sampler).optimize(step_with_a_choice, n_trials=80)
    # Categoricals keep the GP for its whole phase (the power transform from trial 1, once
    # a trial shows the categorical parameter, to trial 99).
    assert sampler.switches == [(1, "GPSampler")]


def test_the_gp_phase_is_shorter_from_ten_parameters_on() -> None:
    sampler = AutoSampler(seed=0, patience=None, trust_region=False)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: _sphere(t, 10), n_trials=105)
    # Once a trial shows ten numeric parameters, a GP with the power transform takes over.
    assert sampler.switches == [(1, "GPSampler"), (100, "CmaEsSampler")]
    gp = sampler._make("gp-high", study)
    assert isinstance(gp, GPSampler) and gp._config["output_transform"] == "power"


def test_define_by_run_conditional_parameters_switch_to_tpe_for_good() -> None:
    def objective(trial: Any) -> float:
        if trial.suggest_categorical("kind", ["a", "b"]) == "a":
            return trial.suggest_float("x", 0, 1)
        return trial.suggest_int("n", 0, 10) / 10

    sampler = AutoSampler(seed=3, gp_trials=20, trust_region=False)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(objective, n_trials=30)
    kinds = {t.params["kind"] for t in study.trials}
    assert kinds == {"a", "b"}
    # Once both branches have finished, TPE takes over and is never left (the GP with the
    # power transform ran the trials between the first, which showed a categorical).
    assert _names(sampler) == ["GPSampler", "TPESampler"]
    assert isinstance(sampler.current_sampler, TPESampler)


def test_constraints_keep_a_constraint_model_after_the_gp() -> None:
    def constraints(trial: Any) -> list[float]:
        return [trial.params["x0"] + trial.params["x1"] - 1.0]

    sampler = AutoSampler(seed=1, gp_trials=12, constraints_func=constraints)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: _sphere(t, 2), n_trials=25)
    assert _names(sampler) == ["TPESampler"]
    # constraints_func ran for every trial, under both samplers.
    for t in study.trials:
        assert t.system_attrs["constraints"] == {"c0": t.params["x0"] + t.params["x1"] - 1.0}


def test_several_objectives_run_the_gp_then_nsga_ii() -> None:
    sampler = AutoSampler(seed=0, gp_trials=10)
    study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def objective(trial: Any) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        y = trial.suggest_float("y", 0, 1)
        return x + y, (1 - x) ** 2 + y

    study.optimize(objective, n_trials=30)
    assert sampler.switches == [(10, "NSGAIISampler")]
    assert isinstance(sampler.current_sampler, NSGAIISampler)
    assert len(study.best_trials) >= 2


def test_several_objectives_keep_the_gp_past_the_single_objective_phase() -> None:
    sampler = AutoSampler(seed=0)
    study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=sampler)
    study.optimize(lambda t: (_sphere(t, 10), t.params["x0"] ** 2), n_trials=110)
    # Ten parameters end a single-objective GP phase at 100; with two objectives NSGA-II
    # did not improve the GP's front, so the GP goes on (to 1,000 trials).
    assert sampler.switches == []
    assert isinstance(sampler.current_sampler, GPSampler)


def test_the_warm_start_is_the_best_trial_and_the_spread_of_the_top_ones() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    dists = {"x": FloatDistribution(0, 10), "lr": FloatDistribution(1e-4, 1, log=True)}
    for i in range(40):
        trial = study.ask(dists)
        study.tell(trial, (trial.params["x"] - 3) ** 2 + math.log10(trial.params["lr"]) ** 2 + i)
    sampler = _warm_cmaes(study, seed=0)
    assert isinstance(sampler, CmaEsSampler)
    ranked = sorted(
        (t for t in study.trials if t.state == TrialState.COMPLETE), key=lambda t: t.value
    )
    assert dict(sampler._x0) == {n: ranked[0].params[n] for n in dists}
    # popsize 4 + floor(3 ln 2) = 6 > 10% of 40: the best six give the spread.
    top = ranked[:6]
    units = {
        "x": [t.params["x"] / 10 for t in top],
        "lr": [(math.log(t.params["lr"]) - math.log(1e-4)) / -math.log(1e-4) for t in top],
    }
    log_sigma = 0.0
    for xs in units.values():
        mean = sum(xs) / len(xs)
        log_sigma += 0.5 * math.log(sum((x - mean) ** 2 for x in xs) / len(xs) + 0.01)
    assert sampler._sigma0 == pytest.approx(math.exp(log_sigma / 2), rel=1e-12)


def test_values_stay_in_bounds_and_on_steps_across_the_switch() -> None:
    dists = {
        "x": FloatDistribution(-2, 2, step=0.25),
        "n": IntDistribution(1, 64, log=True),
        "k": IntDistribution(0, 9, step=3),
        "c": CategoricalDistribution(["p", "q", "r"]),
    }

    def objective(trial: Any) -> float:
        p = {n: trial._suggest(n, d) for n, d in dists.items()}
        return p["x"] ** 2 + math.log(p["n"]) + p["k"] + (p["c"] != "q")

    sampler = AutoSampler(seed=4, gp_trials=10)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(objective, n_trials=30)
    # Trial 0 shows a categorical parameter: the GP from trial 1 (not the trust region),
    # then TPE (which sees the GP's trials).
    assert sampler.switches == [(1, "GPSampler"), (10, "TPESampler")]
    for t in study.trials:
        assert -2 <= t.params["x"] <= 2 and (t.params["x"] / 0.25).is_integer()
        assert 1 <= t.params["n"] <= 64 and t.params["k"] in (0, 3, 6, 9)
        assert t.params["c"] in ("p", "q", "r")


def test_seeds_reproduce_and_pickles_continue_across_a_switch() -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = ferrotune.create_study(
            sampler=AutoSampler(seed=seed, gp_trials=8, trust_region=False)
        )
        study.optimize(_sphere, n_trials=20)
        return [t.params for t in study.trials]

    assert run(7) == run(7)
    assert run(7) != run(8)
    study = ferrotune.create_study(sampler=AutoSampler(seed=2, gp_trials=8, trust_region=False))
    study.optimize(_sphere, n_trials=6)
    loaded = pickle.loads(pickle.dumps(study))
    study.optimize(_sphere, n_trials=10)
    loaded.optimize(_sphere, n_trials=10)
    assert [t.params for t in loaded.trials] == [t.params for t in study.trials]
    assert isinstance(loaded.sampler, AutoSampler)
    assert _names(loaded.sampler) == ["CmaEsSampler"]


def test_one_object_reused_for_another_study_starts_afresh_there() -> None:
    def conditional(trial: Any) -> float:
        if trial.suggest_categorical("a", ["p", "q"]) == "p":
            return float(trial.suggest_float("x", -5, 5) ** 2)
        return trial.suggest_int("n", 0, 10) + 0.5

    def two(trial: Any) -> tuple[float, float]:
        x, y = trial.suggest_float("x", -5, 5), trial.suggest_float("y", -5, 5)
        return x * x, (x - 1) ** 2 + y * y

    # A conditional study hands the object to TPE for good; a numeric study after it is
    # the trust region's again, as with a new object.
    sampler = AutoSampler(seed=0)
    ferrotune.create_study(sampler=sampler).optimize(conditional, n_trials=10)
    assert isinstance(sampler.current_sampler, TPESampler)
    numeric = ferrotune.create_study(sampler=sampler)
    numeric.optimize(_sphere, n_trials=30)
    assert isinstance(sampler.current_sampler, TrustRegionSampler)
    assert sampler.switches == []
    assert numeric.best_value < 1e-6
    # A CMA-ES phase carried over refused a study with two objectives.
    sampler = AutoSampler(seed=0, gp_trials=5, trust_region=False)
    ferrotune.create_study(sampler=sampler).optimize(_sphere, n_trials=10)
    assert isinstance(sampler.current_sampler, CmaEsSampler)
    multi = ferrotune.create_study(sampler=sampler, directions=["minimize", "minimize"])
    multi.optimize(two, n_trials=8)
    assert [t.state for t in multi.trials] == [TrialState.COMPLETE] * 8
    assert isinstance(sampler.current_sampler, NSGAIISampler)


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_two_study_objects_of_one_study_share_the_object_without_restarts(
    kind: str, tmp_path: Any
) -> None:
    # load_study of one URL (or journal file) twice makes two cores: taken for two
    # studies, each turn restarted the object (69 inner samplers in 40 trials).
    from ferrotune.storages import JournalStorage
    from ferrotune.storages.journal import JournalFileBackend

    def storage() -> Any:
        if kind == "sqlite":
            return f"sqlite:///{tmp_path / 'one.db'}"
        return JournalStorage(JournalFileBackend(str(tmp_path / "one.log")))

    sampler = AutoSampler(seed=0, gp_trials=5, trust_region=False)
    ferrotune.create_study(study_name="one", storage=storage())
    a = ferrotune.load_study(study_name="one", storage=storage(), sampler=sampler)
    b = ferrotune.load_study(study_name="one", storage=storage(), sampler=sampler)
    assert a.core is not b.core
    for _ in range(10):
        a.optimize(_sphere, n_trials=1)
        b.optimize(_sphere, n_trials=1)
    assert sampler.switches == [(5, "CmaEsSampler")]
    assert sampler._n_made == 2  # the GP, then CMA-ES: nothing remade
    assert len(a.trials) == 20


def test_threads_share_one_switch_and_lose_no_trial() -> None:
    sampler = AutoSampler(seed=5, gp_trials=10, trust_region=False)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_sphere, n_trials=40, n_jobs=2)
    assert len(study.trials) == 40
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert _names(sampler) == ["CmaEsSampler"]


def test_it_finds_the_sphere_minimum_better_than_random_search() -> None:
    def best(sampler: Any) -> float:
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(lambda t: _sphere(t, 4), n_trials=80)
        return study.best_value

    auto = sorted(best(AutoSampler(seed=s, gp_trials=40)) for s in range(3))
    rand = sorted(best(RandomSampler(seed=s)) for s in range(3))
    # Regret bound at the optimum 0 (x = 1): random search's best of 80 in 4-D is ~2-5.
    assert auto[1] < 0.05 and auto[-1] < rand[0]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"gp_trials": 0}, "gp_trials"),
        ({"patience": -3}, "patience"),
        ({"gp_trials": 2.5}, "gp_trials"),
        ({"gp_trials": True}, "gp_trials"),
        ({"constraints_func": 3}, "constraints_func"),
        ({"seed": "x"}, "seed"),
        ({"trust_region": "yes"}, "trust_region"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        AutoSampler(**kwargs)


def test_the_first_sampler_is_the_trust_region_or_the_gp() -> None:
    sampler = AutoSampler(seed=0)
    assert isinstance(sampler.current_sampler, TrustRegionSampler)
    assert "TrustRegionSampler" in repr(sampler)
    sampler = AutoSampler(seed=0, trust_region=False)
    assert isinstance(sampler.current_sampler, GPSampler)


def test_a_numeric_space_keeps_the_trust_region_and_reaches_the_minimum() -> None:
    sampler = AutoSampler(seed=1)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: _sphere(t, 6), n_trials=120)
    assert sampler.switches == []
    assert isinstance(sampler.current_sampler, TrustRegionSampler)
    # A quadratic in 6-D: the trust region's models are exact; regret at the optimum 0.
    assert study.best_value < 1e-8
    # A declared numeric space with a hard constraint stays in it too, never violated.
    space = ferrotune.SearchSpace(
        {"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)},
        constraints=[ferrotune.Linear({"x": 1.0, "y": 1.0}, upper=1.0)],
    )
    sampler = AutoSampler(seed=2)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(
        lambda t: (t.params["x"] - 0.8) ** 2 + (t.params["y"] - 0.8) ** 2, n_trials=60, space=space
    )
    assert sampler.switches == [] and all(
        t.params["x"] + t.params["y"] <= 1.0 + 1e-12 for t in study.trials
    )
    assert study.best_value < 0.18 + 1e-3  # the constrained optimum x = y = 0.5: 0.18


@pytest.mark.parametrize("kind", ["categorical", "objectives", "constraints", "conditional"])
def test_spaces_outside_the_trust_region_rule_start_with_the_gp(kind: str) -> None:
    sampler = AutoSampler(
        seed=0,
        constraints_func=(lambda t: [t.params["x"] - 0.5]) if kind == "constraints" else None,
    )
    directions = ["minimize", "minimize"] if kind == "objectives" else ["minimize"]
    study = ferrotune.create_study(directions=directions, sampler=sampler)
    space = ferrotune.SearchSpace(
        {"c": CategoricalDistribution(["a", "b"]), "x": FloatDistribution(0, 1)},
        conditions={"x": ("c", ["a"])},
    )
    for _ in range(4):
        if kind == "conditional":
            trial = study.ask(space)
            study.tell(trial, trial.params.get("x", 1.0))
            continue
        trial = study.ask()
        x = trial.suggest_float("x", 0, 1)
        if kind == "categorical":
            trial.suggest_categorical("c", ["a", "b"])
        study.tell(trial, (x, 1 - x) if kind == "objectives" else x)
    assert isinstance(sampler.current_sampler, GPSampler)
    # Known from the first trial (the declared space, the objectives, the constraints):
    # no switch; shown by trial 0 (a define-by-run categorical): a switch at trial 1.
    assert sampler.switches == ([(1, "GPSampler")] if kind == "categorical" else [])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_no_configuration_is_drawn_twice_across_the_first_choice_and_switches(seed: int) -> None:
    """Each inner sampler has its own seed. Seeded by the number of switches, the sampler
    chosen at trial 0 (not a switch) shared the first one's seed, so trial 1 repeated trial 0;
    with several objectives NSGA-II repeated the GP's first trials after the switch."""

    def mixed(trial: Any) -> float:
        x = trial.suggest_float("x", -5, 5)
        return x * x + float(trial.suggest_categorical("d", ["p", "q"]) == "p")

    study = ferrotune.create_study(sampler=AutoSampler(seed=seed))
    study.optimize(mixed, n_trials=30)
    points = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(set(points)) == len(points)

    sampler = AutoSampler(seed=seed, gp_trials=10)
    study = ferrotune.create_study(directions=["minimize", "minimize"], sampler=sampler)

    def two(trial: Any) -> tuple[float, float]:
        x = trial.suggest_float("x", 0, 1)
        return x, 1 - x + trial.suggest_int("n", 0, 3)

    study.optimize(two, n_trials=30)
    assert sampler.switches == [(10, "NSGAIISampler")]
    xs = [t.params["x"] for t in study.trials]
    assert len(set(xs)) == len(xs)


def test_a_categorical_space_starts_the_gp_with_the_power_transform() -> None:
    def objective(trial: Any) -> float:
        offset = {"a": 0.0, "b": 1.0, "c": 2.0}[trial.suggest_categorical("c", ["a", "b", "c"])]
        return offset + (trial.suggest_float("x", -1, 1) - 0.3) ** 2

    sampler = AutoSampler(seed=0)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(objective, n_trials=104)
    # Trial 0 is the trust region's; from trial 1 the GP with the power transform, and
    # from trial 100 the plain GP on every trial.
    assert sampler.switches == [(1, "GPSampler"), (100, "GPSampler")]
    current = sampler.current_sampler
    assert isinstance(current, GPSampler) and current._config["output_transform"] is None
    assert study.best_value < 0.01

    # With a black-box constraint, or several objectives, no transform.
    constrained = AutoSampler(seed=0, constraints_func=lambda t: [0.0])
    ferrotune.create_study(sampler=constrained).optimize(objective, n_trials=3)
    inner = constrained.current_sampler
    assert isinstance(inner, GPSampler) and inner._config["output_transform"] is None

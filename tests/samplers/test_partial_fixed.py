"""PartialFixedSampler fixes some parameters and lets its base
sampler choose the others, for Rust and Python base samplers alike."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import BaseDistribution, FloatDistribution
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import GridSampler, PartialFixedSampler, RandomSampler, TPESampler
from tests._support import SAMPLERS, UserSampler, in_distribution


def objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_float("y", -3, 3)
    k = trial.suggest_int("k", 0, 4)
    c = trial.suggest_categorical("c", ["a", "b"])
    return (x - 2) ** 2 + y**2 + k + (c == "b")


@pytest.mark.parametrize("base", ["random", "tpe", "tpe-univariate", "user", "qmc-sobol", "gp"])
def test_fixed_parameters_are_fixed_and_the_others_sampled(base: str, tmp_path: Path) -> None:
    """Every trial takes the fixed values; the base sampler chooses
    the others (within their distributions, and not all alike), in memory and SQLite."""
    storages: list[Any] = [None]
    try:
        import sqlalchemy  # noqa: F401

        storages.append(f"sqlite:///{tmp_path / 'pf.db'}")
    except ImportError:
        pass
    for storage in storages:
        sampler = PartialFixedSampler({"y": 1.5, "c": "a"}, SAMPLERS[base](0))
        study = ferrotune.create_study(storage=storage, sampler=sampler)
        study.optimize(objective, n_trials=15)
        trials = study.trials
        assert all(t.params["y"] == 1.5 and t.params["c"] == "a" for t in trials)
        for t in trials:
            for name, value in t.params.items():
                assert in_distribution(t.distributions[name], value)
        assert len({t.params["x"] for t in trials}) > 10
        assert len({t.params["k"] for t in trials}) > 1


def test_rust_base_keeps_its_own_sequence() -> None:
    """The wrapper delegates to the base's Rust core: the free parameter follows exactly
    the sequence the base sampler gives when only that parameter is suggested."""
    wrapped = ferrotune.create_study(sampler=PartialFixedSampler({"y": 0.0}, RandomSampler(7)))
    wrapped.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", -1, 1), 20)
    plain = ferrotune.create_study(sampler=RandomSampler(7))
    plain.optimize(lambda t: t.suggest_float("x", 0, 1), 20)
    assert [t.params["x"] for t in wrapped.trials] == [t.params["x"] for t in plain.trials]


def test_tpe_base_still_optimises() -> None:
    """With TPE as the base, the free parameters are still optimised."""
    sampler = PartialFixedSampler({"y": 0.0, "c": "a", "k": 0}, TPESampler(seed=1))
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(objective, n_trials=60)
    random = ferrotune.create_study(
        sampler=PartialFixedSampler({"y": 0.0, "c": "a", "k": 0}, RandomSampler(1))
    )
    random.optimize(objective, n_trials=60)
    assert study.best_value < 0.05
    assert study.best_value < random.best_value


def test_enqueued_values_take_precedence() -> None:
    """An enqueued value wins over the fixed one (as Optuna's enqueued parameters,
    read before the sampler)."""
    study = ferrotune.create_study(sampler=PartialFixedSampler({"y": 1.0}, RandomSampler(0)))
    study.enqueue_trial({"y": -2.0})
    study.optimize(objective, n_trials=3)
    assert [t.params["y"] for t in study.trials] == [-2.0, 1.0, 1.0]


def test_out_of_range_fixed_values_warn_and_the_trial_goes_on() -> None:
    """As Optuna, a fixed value outside the distribution warns; the record keeps to the
    distribution (the nearest number, a sampled choice)."""
    sampler = PartialFixedSampler({"y": 5.0, "c": "zzz"}, RandomSampler(0))
    study = ferrotune.create_study(sampler=sampler)
    with pytest.warns(UserWarning) as record:
        study.optimize(objective, n_trials=30)
    messages = [str(w.message) for w in record]
    assert sum("parameter 'y'" in m and "out of range" in m for m in messages) == 30
    assert sum("parameter 'c'" in m and "not one of the choices" in m for m in messages) == 30
    assert all(t.params["y"] == 3.0 for t in study.trials)
    assert {t.params["c"] for t in study.trials} == {"a", "b"}


def test_grid_base() -> None:
    """A GridSampler base hands out its points for the free parameters."""
    sampler = PartialFixedSampler({"y": 0.5}, GridSampler({"x": [0.0, 1.0, 2.0]}, seed=0))
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 2) + t.suggest_float("y", 0, 1), 10)
    assert sorted(t.params["x"] for t in study.trials) == [0.0, 1.0, 2.0]
    assert all(t.params["y"] == 0.5 for t in study.trials)


class _RelativeUser(UserSampler):
    """A Python sampler with a joint (relative) model over every parameter seen."""

    def __init__(self) -> None:
        super().__init__(0)
        self.spaces: list[set[str]] = []

    def infer_relative_search_space(
        self, study: ferrotune.Study, trial: ferrotune.FrozenTrial
    ) -> dict[str, BaseDistribution]:
        return {"x": FloatDistribution(-5, 5), "y": FloatDistribution(-3, 3)}

    def sample_relative(
        self,
        study: ferrotune.Study,
        trial: ferrotune.FrozenTrial,
        search_space: dict[str, BaseDistribution],
    ) -> dict[str, Any]:
        self.spaces.append(set(search_space))
        return {name: 0.25 for name in search_space}


def test_python_base_with_relative_hooks() -> None:
    """As Optuna, the fixed parameters are removed from the base's relative space."""
    base = _RelativeUser()
    study = ferrotune.create_study(sampler=PartialFixedSampler({"y": 1.0}, base))
    study.optimize(objective, n_trials=4)
    assert base.spaces == [{"x"}] * 4
    assert all(t.params["x"] == 0.25 and t.params["y"] == 1.0 for t in study.trials)


def test_pickle_and_bad_arguments() -> None:
    sampler = PartialFixedSampler({"y": 1.0}, TPESampler(seed=0))
    back = pickle.loads(pickle.dumps(sampler))
    study = ferrotune.create_study(sampler=back)
    study.optimize(objective, n_trials=3)
    assert all(t.params["y"] == 1.0 for t in study.trials)
    with pytest.raises(InvalidArgumentError, match="fixed_params"):
        PartialFixedSampler([("y", 1.0)], RandomSampler(0))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="base_sampler"):
        PartialFixedSampler({"y": 1.0}, "tpe")  # type: ignore[arg-type]


# Base samplers of the tests below, by name.
_BASES: dict[str, Any] = {
    "trust": ferrotune.samplers.TrustRegionSampler,
    "auto": ferrotune.samplers.AutoSampler,
    "cmaes": ferrotune.samplers.CmaEsSampler,
    "tpe": ferrotune.samplers.TPESampler,
    "gp": ferrotune.samplers.GPSampler,
    "de": ferrotune.samplers.DESampler,
}


def _xy(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5, 5)
    y = trial.suggest_float("y", -5, 5)
    trial.suggest_float("fixed", 0, 1)
    return (x - 1) ** 2 + (y - 1) ** 2


@pytest.mark.parametrize("fixed", [0.5, 0.2, 0.97])
@pytest.mark.parametrize("base", ["trust", "auto", "cmaes", "tpe"])
def test_a_fixed_parameter_leaves_the_joint_space(base: str, fixed: float) -> None:
    """The fixed parameter is not a dimension of the base sampler's joint model, as
    Optuna's PartialFixedSampler removes it: the trust region (and AutoSampler, which
    starts numeric spaces on it) proposed steps along the fixed coordinate, got the same
    point back and repeated the space's centre forever (3 distinct points in 60)."""
    inner = _BASES[base](seed=0)
    study = ferrotune.create_study(sampler=PartialFixedSampler({"fixed": fixed}, inner))
    study.optimize(_xy, n_trials=60)
    points = {(t.params["x"], t.params["y"]) for t in study.trials}
    assert all(t.params["fixed"] == fixed for t in study.trials)
    assert len(points) >= 55
    assert study.best_value < {"trust": 1e-6, "auto": 0.1, "cmaes": 0.1, "tpe": 0.5}[base]


def test_auto_sampler_inside_keeps_switching() -> None:
    """AutoSampler behind the wrapper is asked before each trial as it is alone (it
    stayed on its first choice: the trust region on a categorical space, and raised
    the trust region's single-objective error on two objectives)."""

    def mixed(trial: ferrotune.Trial) -> float:
        c = trial.suggest_categorical("c", ["a", "b", "c"])
        trial.suggest_float("fixed", 0, 1)
        return (trial.suggest_float("x", -5, 5) - 1) ** 2 + (c != "b")

    plain = ferrotune.samplers.AutoSampler(seed=0)
    ferrotune.create_study(sampler=plain).optimize(mixed, n_trials=5)
    inner = ferrotune.samplers.AutoSampler(seed=0)
    ferrotune.create_study(sampler=PartialFixedSampler({"fixed": 0.3}, inner)).optimize(
        mixed, n_trials=5
    )
    assert inner.switches == plain.switches == [(1, "GPSampler")]
    two = ferrotune.create_study(
        directions=["minimize", "minimize"],
        sampler=PartialFixedSampler({"fixed": 0.3}, ferrotune.samplers.AutoSampler(seed=0)),
    )
    two.optimize(lambda t: (_xy(t), t.params["x"] ** 2), n_trials=5)
    assert all(t.state == ferrotune.TrialState.COMPLETE for t in two.trials)


@pytest.mark.parametrize("base", ["cmaes", "gp", "de", "trust"])
def test_a_declared_space_keeps_the_base_samplers_model(base: str) -> None:
    """On a declared space the base sampler's joint proposal gives the free values (every
    base sampler drew exactly RandomSampler's points before); a hard constraint of the
    space holds on every trial."""
    from ferrotune import SearchSpace

    space = SearchSpace(
        {
            "x": FloatDistribution(-5, 5),
            "y": FloatDistribution(-5, 5),
            "fixed": FloatDistribution(0, 1),
        },
        constraints=[lambda p: p["x"] + p["y"] <= 4.0],
    )

    # DE's generations need more trials than the model-based samplers.
    n_trials = 240 if base == "de" else 80

    # DE's generations need more trials than the model-based samplers.
    n_trials = 240 if base == "de" else 80

    def run(inner: Any) -> ferrotune.Study:
        study = ferrotune.create_study(sampler=PartialFixedSampler({"fixed": 0.3}, inner))
        study.optimize(
            lambda t: (t.params["x"] - 1) ** 2 + (t.params["y"] - 1) ** 2,
            n_trials=n_trials,
            space=space,
        )
        return study

    study = run(_BASES[base](seed=0))
    random = run(RandomSampler(seed=0))
    assert [t.params for t in study.trials] != [t.params for t in random.trials]
    assert all(t.params["fixed"] == 0.3 for t in study.trials)
    assert all(t.params["x"] + t.params["y"] <= 4.0 for t in study.trials)
    assert study.best_value < random.best_value / 3


def test_population_tags_of_a_declared_space_reach_the_storage(tmp_path: Path) -> None:
    """A population sampler behind the wrapper tags its trials in the storage too, so
    another worker or a reloaded study sees its generations (they stayed in one
    process); a trial enqueued with a value of its own is not a member."""
    from ferrotune import SearchSpace
    from ferrotune.samplers import DESampler

    url = f"sqlite:///{tmp_path / 'tags.db'}"
    space = SearchSpace({"x": FloatDistribution(0, 1), "y": FloatDistribution(0, 1)})
    study = ferrotune.create_study(
        study_name="t", storage=url, sampler=PartialFixedSampler({"x": 0.25}, DESampler(seed=0))
    )
    study.enqueue_trial({"y": 0.5})
    study.optimize(lambda t: t.params["x"] + t.params["y"], n_trials=12, space=space)
    reloaded = ferrotune.load_study(study_name="t", storage=url)
    tags = [t.system_attrs.get("ferrotune:tag") for t in reloaded.trials]
    assert tags[0] is None
    assert all(tag for tag in tags[1:])

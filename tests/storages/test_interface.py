"""The storage interface as a study uses it: every trial change goes through one
storage method (no branch on the kind of storage in Study), and the core mirrors what
the storage recorded."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ferrotune
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.storages import InMemoryStorage
from ferrotune.trial import TrialState, create_trial

from .conftest import StorageFactory


class LoggingStorage(InMemoryStorage):
    """An in-memory storage that keeps, beside the core, its own copy of every trial
    change a study makes: what a database storage would write."""

    writes_params = True

    def __init__(self) -> None:
        super().__init__()
        self.started: list[int] = []
        self.params: dict[int, dict[str, float]] = {}
        self.inter: dict[int, dict[int, float]] = {}
        self.constraints: dict[int, dict[str, float]] = {}
        self.finished: dict[int, tuple[TrialState, list[float]]] = {}

    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        number, fixed = super().start_trial(study_id)
        self.started.append(number)
        return number, fixed

    def create_new_trial(self, study_id: int) -> int:
        number = super().create_new_trial(study_id)
        self.started.append(number)
        return number

    def record_param(
        self, study_id: int, number: int, name: str, dist: Any, internal: float
    ) -> None:
        super().record_param(study_id, number, name, dist, internal)
        self.params.setdefault(number, {})[name] = internal

    def suggest(self, study_id: int, number: int, name: str, dist: Any) -> float:
        value = super().suggest(study_id, number, name, dist)
        self.params.setdefault(number, {})[name] = value
        return value

    def record_space_params(self, study_id: int, number: int, space: Any, row: Any) -> None:
        super().record_space_params(study_id, number, space, row)
        for name, v in zip(space.names, row, strict=True):
            if not math.isnan(v):
                self.params.setdefault(number, {})[name] = v

    def record_intermediate(self, study_id: int, number: int, step: int, value: float) -> None:
        super().record_intermediate(study_id, number, step, value)
        self.inter.setdefault(number, {}).setdefault(step, value)

    def record_constraints(self, study_id: int, number: int, values: dict[str, float]) -> None:
        super().record_constraints(study_id, number, values)
        self.constraints[number] = dict(values)

    def finish_trial(
        self, study_id: int, number: int, state: TrialState, values: list[float]
    ) -> None:
        assert number not in self.finished, f"trial {number} finished twice"
        super().finish_trial(study_id, number, state, values)
        self.finished[number] = (TrialState(state), list(values))


def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -2.0, 2.0)
    k = trial.suggest_int("k", 1, 8, log=True)
    c = trial.suggest_categorical("c", ["a", "b"])
    trial.set_constraint("c0", x - 1.0)
    for step in range(3):
        trial.report(x * step, step)
    if c == "b" and trial.number % 3 == 0:
        raise ferrotune.TrialPruned()
    if trial.number % 5 == 4:
        raise ValueError("a failing trial")
    return x * x + k


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_every_trial_change_reaches_the_storage(sampler: str) -> None:
    """A storage that writes parameters sees every trial start and finish once, every
    parameter (suggested, enqueued, declared in a space, added), every intermediate
    value and constraint: and the study's trials equal what it recorded."""
    storage = LoggingStorage()
    s = TPESampler(seed=0, n_startup_trials=3) if sampler == "tpe" else RandomSampler(seed=0)
    study = ferrotune.create_study(storage=storage, sampler=s)
    study.enqueue_trial({"x": 0.5, "c": "a"})
    study.optimize(_objective, n_trials=12, catch=(ValueError,))
    space = ferrotune.SearchSpace({"x": FloatDistribution(-2.0, 2.0), "k": IntDistribution(1, 8)})
    asked = study.ask(space)
    study.tell(asked, 1.0)
    study.add_trial(
        create_trial(params={"x": 0.25}, distributions={"x": FloatDistribution(-2, 2)}, value=3.0)
    )
    trials = study.get_trials()
    assert sorted(storage.started) == [t.number for t in trials] == list(range(14))
    assert set(storage.finished) == set(storage.started)
    for t in trials:
        state, values = storage.finished[t.number]
        assert state == t.state
        if t.state == TrialState.COMPLETE:
            assert values == t.values
        internal = {n: t.distributions[n].to_internal_repr(v) for n, v in t.params.items()}
        assert storage.params.get(t.number, {}) == internal
        assert storage.inter.get(t.number, {}) == t.intermediate_values
        if t.number < 12:
            assert storage.constraints[t.number] == t.system_attrs["constraints"]
    assert trials[0].params["x"] == 0.5 and trials[0].params["c"] == "a"
    assert {t.state for t in trials} >= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}


@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_every_kind_of_trial_change_is_read_back_from_the_storage(
    make_storage: StorageFactory, sampler: str
) -> None:
    """The same workload on each real storage: another storage object on the same
    backend (another process, for a database) reads back the trials the study holds,
    enqueued, declared-space and added trials included."""
    s = TPESampler(seed=0, n_startup_trials=3) if sampler == "tpe" else RandomSampler(seed=0)
    study = ferrotune.create_study(storage=make_storage(), sampler=s, study_name="w")
    study.enqueue_trial({"x": 0.5, "c": "a"})
    study.optimize(_objective, n_trials=12, catch=(ValueError,))
    space = ferrotune.SearchSpace({"x": FloatDistribution(-2.0, 2.0), "k": IntDistribution(1, 8)})
    study.tell(study.ask(space), 1.0)
    study.add_trial(
        create_trial(params={"x": 0.25}, distributions={"x": FloatDistribution(-2, 2)}, value=3.0)
    )
    mine = study.get_trials()
    theirs = ferrotune.load_study(study_name="w", storage=make_storage()).get_trials()
    assert [t.number for t in theirs] == list(range(14))
    for a, b in zip(mine, theirs, strict=True):
        assert (a.state, a.values, a.params) == (b.state, b.values, b.params)
        assert a.distributions == b.distributions
        assert a.intermediate_values == b.intermediate_values
        assert a.system_attrs == b.system_attrs and a.user_attrs == b.user_attrs
    assert theirs[0].params["x"] == 0.5 and theirs[0].params["c"] == "a"
    assert {t.state for t in theirs} >= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL}


def test_a_storage_that_writes_params_sees_values_sampled_in_rust() -> None:
    """With writes_params, a Rust sampler's draws go through the storage's suggest
    (never only into the core); without it, the core samples them alone."""
    calls: list[str] = []

    class Writing(InMemoryStorage):
        writes_params = True

        def suggest(self, study_id: int, number: int, name: str, dist: Any) -> float:
            calls.append(name)
            return super().suggest(study_id, number, name, dist)

    study = ferrotune.create_study(storage=Writing(), sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("k", 0, 3), n_trials=3)
    assert calls == ["x", "k"] * 3
    calls.clear()

    class Fast(Writing):
        writes_params = False

    fast = ferrotune.create_study(storage=Fast(), sampler=RandomSampler(seed=0))
    fast.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("k", 0, 3), n_trials=3)
    assert calls == []
    assert [t.params for t in fast.trials] == [t.params for t in study.trials]

"""The typed boundary of the study core: states, distributions and trial records cross
as PyO3 classes and enums, never as tuples of numeric codes; exceptions of user
callables reach the user with their own type."""

from __future__ import annotations

import math
from typing import Any

import pytest

import ferrotune
from ferrotune import _core
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import GPSampler, RandomSampler, TPESampler
from ferrotune.trial import TrialState
from ferrotune.trial._state import FROM_CORE, TO_CORE


class CallbackFailedError(Exception):
    """An error type of the user's own."""


def test_core_states_are_the_trial_states() -> None:
    """Every TrialState has a core state of the same name and number, and back."""
    assert {s.name for s in TrialState} == {
        "RUNNING",
        "COMPLETE",
        "PRUNED",
        "FAIL",
        "WAITING",
    }
    for state in TrialState:
        core = getattr(_core.TrialState, state.name)
        assert int(core) == int(state) and core == int(state)
        assert TO_CORE[state] == core and FROM_CORE[core] is state


def test_tell_and_state_take_and_give_the_enum() -> None:
    """StudyCore.state returns a core TrialState; tell refuses a bare number."""
    core = _core.StudyCore([False])
    n = core.ask()
    assert isinstance(core.state(n), _core.TrialState)
    assert core.state(n) == _core.TrialState.RUNNING and core.is_running(n)
    with pytest.raises(TypeError):
        core.tell(n, 1, [0.5])  # type: ignore[arg-type]
    core.tell(n, _core.TrialState.COMPLETE, [0.5])
    assert core.state(n) == _core.TrialState.COMPLETE and not core.is_running(n)
    core.ensure_trial(3, _core.TrialState.WAITING)
    assert core.state(3) == _core.TrialState.WAITING


@pytest.mark.parametrize(
    ("dist", "kind", "fields"),
    [
        (_core.Dist.float("x", 0.5, 2.0, None, True), "FLOAT", (0.5, 2.0, None, True, 0)),
        (_core.Dist.float("x", 0.0, 1.0, 0.25, False), "FLOAT", (0.0, 1.0, 0.25, False, 0)),
        (_core.Dist.int("k", -3, 9, 3, False), "INT", (-3.0, 9.0, 3.0, False, 0)),
        (_core.Dist.int("k", 1, 64, 1, True), "INT", (1.0, 64.0, 1.0, True, 0)),
        (_core.Dist.categorical("c", 4), "CATEGORICAL", (0.0, 3.0, None, False, 4)),
    ],
)
def test_dist_getters(dist: _core.Dist, kind: str, fields: tuple[Any, ...]) -> None:
    """A core distribution reads back what it was built with."""
    assert dist.kind == getattr(_core.DistKind, kind)
    assert (dist.low, dist.high, dist.step, dist.log, dist.n_choices) == fields


def test_records_are_typed_and_read_only() -> None:
    """record/records give TrialRecord objects whose parameters resolve, through
    param_dist, to their names and distributions; a record cannot be changed."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    dists = {
        "x": FloatDistribution(1e-3, 1.0, log=True),
        "k": IntDistribution(0, 10, step=2),
        "c": CategoricalDistribution(["a", "b", None]),
    }
    trial = study.ask(dists)
    trial.report(0.25, 3)
    study.tell(trial, 1.5)
    rec = study.core.record(trial.number)
    assert isinstance(rec, _core.TrialRecord)
    assert rec.state == _core.TrialState.COMPLETE and rec.values == [1.5]
    assert rec.intermediate == [(3, 0.25)]
    assert not math.isnan(rec.started) and rec.completed >= rec.started
    seen = {}
    for key, value in rec.params:
        name, dist = study.core.param_dist(key)
        assert isinstance(dist, _core.Dist) and dist.contains(value)
        seen[name] = (dist, value)
    assert set(seen) == set(dists)
    assert seen["x"][0].kind == _core.DistKind.FLOAT and seen["x"][0].log
    assert seen["k"][0].kind == _core.DistKind.INT and seen["k"][0].step == 2.0
    assert seen["c"][0].n_choices == 3
    assert [r.values for r in study.core.records(0, 10)] == [[1.5]]
    with pytest.raises(AttributeError):
        rec.values = [0.0]  # type: ignore[misc]


def test_intersection_space_gives_distributions() -> None:
    """The core's intersection space is (name, Dist) pairs; the study's public one is
    the parameters every COMPLETE trial shares, as ferrotune distributions."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=1))

    def objective(t: ferrotune.Trial) -> float:
        x = t.suggest_float("x", 0.0, 1.0)
        if t.number % 2:
            t.suggest_int("odd_only", 0, 3)
        return x + len(t.suggest_categorical("c", ["u", "vv"]))

    study.optimize(objective, n_trials=6)
    pairs = study.core.intersection_space()
    assert all(isinstance(d, _core.Dist) for _, d in pairs)
    assert study.intersection_search_space() == {
        "x": FloatDistribution(0.0, 1.0),
        "c": CategoricalDistribution(["u", "vv"]),
    }


def _constraints_study(sampler: str, constraints_func: Any) -> ferrotune.Study:
    make = {
        "tpe": lambda: TPESampler(seed=0, constraints_func=constraints_func),
        "gp": lambda: GPSampler(seed=0, constraints_func=constraints_func),
    }
    return ferrotune.create_study(sampler=make[sampler]())


@pytest.mark.parametrize("sampler", ["tpe", "gp"])
def test_constraints_func_errors_keep_their_type(sampler: str) -> None:
    """An exception raised by a sampler's constraints_func reaches the user as the very
    exception raised; as Optuna's tell, the trial is recorded with its value first
    (COMPLETE), none is left RUNNING."""
    raised = CallbackFailedError("constraints failed")

    def constraints(trial: ferrotune.trial.FrozenTrial) -> list[float]:
        raise raised

    study = _constraints_study(sampler, constraints)
    with pytest.raises(CallbackFailedError) as info:
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert info.value is raised
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    assert study.trials[0].values == [study.trials[0].params["x"]]


@pytest.mark.parametrize("sampler", ["tpe", "gp"])
def test_constraints_func_bad_value_is_chained(sampler: str) -> None:
    """A constraints_func returning something that is not a number gives a ferrotune
    error naming it, chained to the conversion's own error."""
    study = _constraints_study(sampler, lambda t: [object()])
    with pytest.raises(InvalidArgumentError, match="constraints_func") as info:
        study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
    assert isinstance(info.value.__cause__, TypeError)


def test_predicate_error_on_the_python_path_keeps_its_type() -> None:
    """A space's predicate that raises while a Python sampler (no Rust core) samples
    the space: the user gets the very exception raised."""
    raised = CallbackFailedError("predicate failed")

    def predicate(p: dict[str, Any]) -> bool:
        raise raised

    class PySampler(ferrotune.samplers.BaseSampler):
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return dist.to_external_repr(dist._core.from_unit(0.5))

    space = ferrotune.SearchSpace({"x": FloatDistribution(0.0, 1.0)}, constraints=[predicate])
    study = ferrotune.create_study(sampler=PySampler())
    with pytest.raises(CallbackFailedError) as info:
        study.ask(space)
    assert info.value is raised

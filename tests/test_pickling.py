"""In-memory studies survive pickle, copy.deepcopy and joblib (the Optuna
FAQ's way to save a study) with every trial, and a resumed study continues its sampler's
sequence."""

from __future__ import annotations

import copy
import math
import pickle
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune.samplers import (
    BaseSampler,
    BruteForceSampler,
    GPSampler,
    GridSampler,
    PartialFixedSampler,
    QMCSampler,
    RandomSampler,
    TPESampler,
)
from ferrotune.trial import FrozenTrial, TrialState


def _objective(t: ferrotune.Trial) -> float:
    x = t.suggest_float("x", -5.0, 5.0)
    n = t.suggest_int("n", 1, 16, log=True)
    c = t.suggest_categorical("c", ["a", "b", None])
    if c == "a":
        t.suggest_float("only_a", 0.0, 1.0, step=0.25)
    t.report(x * x, 0)
    return (x - 1) ** 2 + n / 8 + (c is None)


def _fields(t: FrozenTrial) -> tuple[Any, ...]:
    return (
        t.number,
        t.state,
        t.values,
        t.params,
        t.distributions,
        t.intermediate_values,
        t.user_attrs,
        t.system_attrs,
        t.datetime_start,
        t.datetime_complete,
    )


def _rich_study() -> ferrotune.Study:
    """Trials in every state, attributes, constraints and an enqueued trial."""
    study = ferrotune.create_study(sampler=TPESampler(seed=0, n_startup_trials=4))
    study.set_user_attr("owner", {"team": [1, 2]})
    study.optimize(_objective, n_trials=8)
    t = study.ask()
    t.suggest_float("x", -5, 5)
    t.set_user_attr("note", "pruned")
    t.report(float("nan"), 3)
    study.tell(t, state=TrialState.PRUNED)
    study.tell(study.ask(), state=TrialState.FAIL)
    t = study.ask()
    t.set_constraint("mem", 1.5)
    t.suggest_float("x", -5, 5)
    study.tell(t, math.inf)
    running = study.ask()
    running.suggest_float("x", -5, 5)
    study.enqueue_trial({"x": 0.5})
    return study


def _same_trials(a: ferrotune.Study, b: ferrotune.Study) -> None:
    # repr: a pruned trial's NaN intermediate value is unequal to itself.
    assert [repr(_fields(t)) for t in a.trials] == [repr(_fields(t)) for t in b.trials]
    assert a.study_name == b.study_name
    assert a.directions == b.directions
    assert a.user_attrs == b.user_attrs


def test_pickle_round_trip_keeps_every_trial() -> None:
    study = _rich_study()
    loaded = pickle.loads(pickle.dumps(study))
    _same_trials(study, loaded)
    states = [t.state for t in loaded.trials]
    assert TrialState.RUNNING in states and TrialState.WAITING in states
    # The loaded study works on: the enqueued trial comes first, the running one can end.
    t = loaded.ask()
    assert t.suggest_float("x", -5, 5) == 0.5
    loaded.tell(t, 100.0)
    loaded.tell(len(study.trials) - 2, 200.0)
    assert loaded.best_value == study.best_value
    assert loaded.trials[-2].state == TrialState.COMPLETE
    assert study.trials[-2].state == TrialState.RUNNING  # the original is untouched


def test_deepcopy_is_independent() -> None:
    study = _rich_study()
    clone = copy.deepcopy(study)
    _same_trials(study, clone)
    clone.optimize(_objective, n_trials=3)
    # The first of the three runs the enqueued (WAITING) trial.
    assert len(clone.trials) == len(study.trials) + 2
    assert study.trials[-1].state == TrialState.WAITING
    clone.set_user_attr("owner", "someone else")
    assert study.user_attrs == {"owner": {"team": [1, 2]}}


def test_joblib_dump_and_load(tmp_path: Path) -> None:
    joblib = pytest.importorskip("joblib")
    study = _rich_study()
    path = tmp_path / "study.pkl"
    joblib.dump(study, path)
    _same_trials(study, joblib.load(path))


def test_multi_objective_study_round_trip() -> None:
    study = ferrotune.create_study(directions=["minimize", "maximize"])
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), 10)
    loaded = pickle.loads(pickle.dumps(study))
    _same_trials(study, loaded)
    assert {t.number for t in loaded.best_trials} == {t.number for t in study.best_trials}


SAMPLERS: dict[str, Callable[[], BaseSampler]] = {
    "random": lambda: RandomSampler(seed=1),
    "tpe": lambda: TPESampler(seed=1, n_startup_trials=5),
    "tpe-multivariate": lambda: TPESampler(seed=1, n_startup_trials=5, multivariate=True),
    "gp": lambda: GPSampler(seed=1, n_startup_trials=5),
    "qmc": lambda: QMCSampler(seed=1),
    "partial-fixed-tpe": lambda: PartialFixedSampler({"y": 4}, TPESampler(seed=1)),
    "grid": lambda: GridSampler({"x": [-1.0, 0.0, 2.5], "y": list(range(11))}, seed=1),
    "brute-force": lambda: BruteForceSampler(seed=1),
}


def _simple(t: ferrotune.Trial) -> float:
    # A stepped float, so that the grid and brute-force samplers can enumerate it.
    x = t.suggest_float("x", -5.0, 5.0, step=0.5)
    y = t.suggest_int("y", 0, 10)
    return (x - 1) ** 2 + (y - 3) ** 2


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_a_pickled_study_continues_its_samplers_sequence(name: str) -> None:
    """The unpickled study proposes exactly what the original proposes next."""
    study = ferrotune.create_study(sampler=SAMPLERS[name]())
    study.optimize(_simple, n_trials=12)
    loaded = pickle.loads(pickle.dumps(study))
    study.optimize(_simple, n_trials=6)
    loaded.optimize(_simple, n_trials=6)
    assert [t.params for t in loaded.trials] == [t.params for t in study.trials]


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_every_sampler_pickles_on_its_own(name: str) -> None:
    """A sampler pickled alone, then used in a study, proposes what the original does."""
    sampler = SAMPLERS[name]()
    clone = pickle.loads(pickle.dumps(sampler))
    a = ferrotune.create_study(sampler=sampler)
    b = ferrotune.create_study(sampler=clone)
    a.optimize(_simple, n_trials=10)
    b.optimize(_simple, n_trials=10)
    assert [t.params for t in a.trials] == [t.params for t in b.trials]


# --------------------------------------------------------- pickles of earlier versions
class _EarlierPickle:
    """Pickles as an object of ``cls`` whose ``__getstate__`` returned ``state``, as an
    earlier version wrote it: loading makes a bare ``cls`` object and hands the state
    to its ``__setstate__`` (the form of pickle protocols 0 and 1; protocol 2 and later
    write the same steps with ``copyreg.__newobj__``)."""

    def __init__(self, cls: type, state: dict[str, Any]) -> None:
        self.cls, self.state = cls, state

    def __reduce__(self) -> Any:
        import copyreg

        return (copyreg._reconstructor, (self.cls, object, None), self.state)


def _continue(sampler: BaseSampler) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_objective, n_trials=3)
    return [t.params for t in study.trials]


def _warm(sampler: BaseSampler, n: int = 8) -> BaseSampler:
    """``sampler`` after a study of ``n`` trials (a GP has fitted its model)."""
    ferrotune.create_study(sampler=sampler).optimize(
        lambda t: t.suggest_float("x", -1, 1) ** 2 + t.suggest_float("y", -1, 1) ** 2,
        n_trials=n,
    )
    return sampler


def _earlier_state(sampler: Any) -> dict[str, Any]:
    """The state the version before the sampler contracts pickled for ``sampler``."""
    words = sampler._rust.get_state()
    if isinstance(sampler, RandomSampler):
        return {"seed": sampler._seed, "state": words}
    if isinstance(sampler, TPESampler):
        return {
            "config": sampler._config,
            "seed": sampler._seed,
            "state": words,
            "constraints_func": None,
            "warn": False,
        }
    if isinstance(sampler, GPSampler):
        return {
            "config": sampler._config,
            "seed": sampler._seed,
            "state": words[:4],
            "fits": sampler._rust.get_fits(),
            "constraints_func": None,
        }
    assert isinstance(sampler, QMCSampler)
    state = {k: v for k, v in sampler.__dict__.items() if k not in ("_lock", "_rust")}
    state["_rust"] = (words[1], words[2:])  # (index, the generator's words)
    return state


@pytest.mark.parametrize(
    "make",
    [
        lambda: RandomSampler(seed=4),
        lambda: TPESampler(seed=4, n_startup_trials=3, warn_independent_sampling=False),
        lambda: GPSampler(seed=4, n_startup_trials=3),
        lambda: QMCSampler(seed=4, warn_independent_sampling=False),
    ],
)
def test_a_sampler_pickled_by_an_earlier_version_loads_and_continues(
    make: Callable[[], Any],
) -> None:
    """The samplers' pickles of the version before the sampler contracts (another
    layout of the core's state) load into the same state and continue the sequence."""
    sampler = _warm(make())
    data = pickle.dumps(_EarlierPickle(type(sampler), _earlier_state(sampler)))
    loaded = pickle.loads(data)
    assert type(loaded) is type(sampler)
    assert loaded.__getstate__() == sampler.__getstate__()
    if isinstance(sampler, GPSampler):  # the fits were in the pickle, and came back
        assert any(f is not None for f in sampler._rust.get_fits())
    assert _continue(loaded) == _continue(sampler)

"""Pickled pruners decide as the originals; optimize() records PRUNED trials."""

from __future__ import annotations

import math
import pickle
from typing import Any

import pytest

import ferrotune
from ferrotune.pruners import (
    BasePruner,
    MedianPruner,
    PatientPruner,
    PercentilePruner,
    ThresholdPruner,
)
from ferrotune.trial import TrialState
from tests.pruners._helpers import decisions, study_with

PRUNERS = [
    MedianPruner(1, 1, 2, n_min_trials=2),
    PercentilePruner(30.0, 0),
    ThresholdPruner(lower=0.2, upper=3.0),
    PatientPruner(MedianPruner(0), patience=1, min_delta=0.1),
    PatientPruner(None, patience=2),
]
DONE = [{s: float((i * 7 + s * 3) % 5) for s in range(6)} for i in range(6)]
REPORTS = [(s, v) for s, v in enumerate([4.0, 4.5, 4.2, 4.8, 4.9, math.nan])]


@pytest.mark.parametrize("pruner", PRUNERS, ids=repr)
def test_a_pickled_pruner_decides_as_the_original(pruner: BasePruner) -> None:
    copy = pickle.loads(pickle.dumps(pruner))
    assert type(copy) is type(pruner)
    assert repr(copy) == repr(pruner)
    assert copy._rust is not None
    want = decisions(study_with(pruner, DONE), REPORTS)
    assert decisions(study_with(copy, DONE), REPORTS) == want
    assert any(want), "the history must exercise pruning"


def test_a_pickled_study_keeps_its_rust_pruner() -> None:
    study = study_with(MedianPruner(0), [{0: 1.0}, {0: 2.0}])
    copy = pickle.loads(pickle.dumps(study))
    assert isinstance(copy.pruner, MedianPruner)
    assert decisions(copy, [(0, 3.0)]) == [True]


def test_one_pruner_shared_by_two_studies_keeps_their_statistics_apart() -> None:
    pruner = MedianPruner(0)
    a = study_with(pruner, [{0: 1.0}])
    b = study_with(pruner, [{0: 10.0}])
    assert decisions(a, [(0, 5.0)]) == [True]
    assert decisions(b, [(0, 5.0)]) == [False]


def _curve(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", 0.0, 1.0)
    for step in range(20):
        trial.report(x + 1.0 / (step + 1), step)
        if trial.should_prune():
            raise ferrotune.TrialPruned()
    return x


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_optimize_records_pruned_trials(n_jobs: int) -> None:
    sampler = ferrotune.samplers.RandomSampler(seed=1)
    study = ferrotune.create_study(sampler=sampler, pruner=MedianPruner(n_startup_trials=5))
    study.optimize(_curve, n_trials=60, n_jobs=n_jobs)
    trials = study.get_trials()
    assert len(trials) == 60
    pruned = [t for t in trials if t.state == TrialState.PRUNED]
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    assert len(pruned) >= 10 and len(complete) >= 5
    # No trial is pruned before five trials are complete.
    first_pruned = min(t.number for t in pruned)
    assert sum(t.number < first_pruned for t in complete) >= 5 or n_jobs > 1
    for t in pruned:
        assert t.last_step is not None and t.last_step < 19
    # A pruned trial stopped early: fewer steps reported than a complete one.
    assert all(len(t.intermediate_values) < 20 for t in pruned)
    assert all(len(t.intermediate_values) == 20 for t in complete)


def test_a_python_pruner_still_works() -> None:
    class Above(BasePruner):
        def prune(self, study: object, trial: ferrotune.FrozenTrial) -> bool:
            step = trial.last_step
            return step is not None and trial.intermediate_values[step] > 1.0

    study = ferrotune.create_study(pruner=Above())
    assert not study._trial_context.rust_pruner
    assert decisions(study, [(0, 0.5), (1, 2.0)]) == [False, True]


def test_switching_to_a_python_pruner_leaves_the_rust_one() -> None:
    study = study_with(ThresholdPruner(upper=1.0), [])
    study.pruner = ferrotune.pruners.NopPruner()
    assert decisions(study, [(0, 5.0)]) == [False]
    with pytest.raises(ferrotune.exceptions.InvalidArgumentError, match="pruner"):
        study.pruner = "median"  # type: ignore[assignment]


def test_sqlite_storage_decides_as_memory(tmp_path: Any) -> None:
    # The percentile rule reads the study's records only: a database study that another
    # "worker" (a second Study object on the same file) fills decides as in memory.
    url = f"sqlite:///{tmp_path / 'prune.db'}"
    worker = ferrotune.create_study(study_name="p", storage=url, pruner=MedianPruner(0))
    checker = ferrotune.load_study(study_name="p", storage=url, pruner=MedianPruner(0))
    memory = ferrotune.create_study(pruner=MedianPruner(0))
    for study in (worker, memory):
        for v in (1.0, 2.0, 3.0):
            t = study.ask()
            t.report(v, 0)
            study.tell(t, v)
    assert decisions(checker, [(0, 2.5), (1, 0.0)]) == decisions(memory, [(0, 2.5), (1, 0.0)])
    assert decisions(checker, [(0, 2.5)]) == [True]

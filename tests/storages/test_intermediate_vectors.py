"""Intermediate vectors (studies with several objectives) in every storage: written,
read back by another storage object on the same backend (another process's view), kept
through sync while the trial runs and after it finishes."""

from __future__ import annotations

import math

import ferrotune
from ferrotune.trial import TrialState

from .conftest import StorageFactory


def test_vectors_round_trip(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(
        storage=make_storage(), study_name="mo", directions=["minimize", "maximize", "minimize"]
    )
    t = study.ask()
    t.report([1.0, 2.0, 3.0], 0)
    t.report([0.5, math.nan, math.inf], 4)
    t.report([9.0, 9.0, 9.0], 0)  # a step reported twice keeps its first vector
    other = ferrotune.load_study(study_name="mo", storage=make_storage())
    running = other.trials[0].intermediate_values
    assert running[0] == [1.0, 2.0, 3.0]
    assert running[4][0] == 0.5 and math.isnan(running[4][1]) and running[4][2] == math.inf
    study.tell(t, state=TrialState.PRUNED)  # a NaN in the last vector: no values
    u = study.ask()
    u.report([3.0, 2.0, 1.0], 7)
    study.tell(u, state=TrialState.PRUNED)  # keeps its last vector
    again = ferrotune.load_study(study_name="mo", storage=make_storage()).trials
    assert [x.state for x in again] == [TrialState.PRUNED, TrialState.PRUNED]
    assert again[0].values is None and again[0].intermediate_values[0] == [1.0, 2.0, 3.0]
    assert again[1].values == [3.0, 2.0, 1.0]
    assert again[1].intermediate_values == {7: [3.0, 2.0, 1.0]}
    # A single-objective study in the same storage keeps floats.
    single = ferrotune.create_study(storage=make_storage(), study_name="so")
    s = single.ask()
    s.report(0.25, 1)
    single.tell(s, 0.25)
    loaded = ferrotune.load_study(study_name="so", storage=make_storage()).trials[0]
    assert loaded.intermediate_values == {1: 0.25}

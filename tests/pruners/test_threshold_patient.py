"""ThresholdPruner and PatientPruner: Optuna's semantics on hand-made histories."""

from __future__ import annotations

import math

import pytest

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners import BasePruner, MedianPruner, PatientPruner, ThresholdPruner
from tests.pruners._helpers import decisions, study_with

NAN = math.nan


def test_threshold_prunes_outside_the_bounds_or_nan() -> None:
    study = study_with(ThresholdPruner(lower=0.0, upper=1.0), [])
    assert decisions(study, [(0, 0.5), (1, 1.5)]) == [False, True]
    assert decisions(study, [(0, -0.1)]) == [True]
    assert decisions(study, [(0, NAN)]) == [True]
    # Only the last value counts, whatever the direction.
    study = study_with(ThresholdPruner(upper=1.0), [], direction="maximize")
    assert decisions(study, [(0, 5.0), (1, 0.5)]) == [True, False]


def test_threshold_warm_up_and_interval() -> None:
    study = study_with(ThresholdPruner(upper=1.0, n_warmup_steps=1, interval_steps=2), [])
    assert decisions(study, [(s, 9.0) for s in range(5)]) == [False, True, False, True, False]


def test_threshold_arguments() -> None:
    with pytest.raises(TypeError):
        ThresholdPruner()
    with pytest.raises(InvalidArgumentError, match="lower"):
        ThresholdPruner(lower=2.0, upper=1.0)
    with pytest.raises(InvalidArgumentError, match="upper"):
        ThresholdPruner(upper=NAN)
    with pytest.raises(InvalidArgumentError, match="interval_steps"):
        ThresholdPruner(upper=1.0, interval_steps=0)


def test_patience_without_a_wrapped_pruner() -> None:
    study = study_with(PatientPruner(None, patience=1), [])
    assert decisions(study, [(0, 1.0), (1, 2.0), (2, 3.0)]) == [False, False, True]
    assert decisions(study, [(0, 1.0), (1, 2.0), (2, 0.5)]) == [False, False, False]
    study = study_with(PatientPruner(None, patience=1, min_delta=1.5), [])
    assert decisions(study, [(0, 1.0), (1, 2.0), (2, 2.4)]) == [False, False, False]
    study = study_with(PatientPruner(None, patience=1), [], direction="maximize")
    assert decisions(study, [(0, 3.0), (1, 2.0), (2, 1.0)]) == [False, False, True]
    # A side with only NaN values never prunes.
    study = study_with(PatientPruner(None, patience=0), [])
    assert decisions(study, [(0, 1.0), (1, NAN)]) == [False, False]


def test_patience_asks_the_wrapped_pruner_once_patience_runs_out() -> None:
    # The median pruner alone would prune at step 1 (1.0 > median 0.0); patience waits.
    done = [{s: 0.0 for s in range(4)}]
    study = study_with(PatientPruner(MedianPruner(0), patience=1), done)
    assert decisions(study, [(0, 1.0), (1, 1.5), (2, 2.0)]) == [False, False, True]
    assert decisions(study, [(0, -1.0), (1, 1.0), (2, 1.0)]) == [False, False, False]


class _Counting(BasePruner):
    """A pruner written in Python: prunes always, counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def prune(self, study: object, trial: object) -> bool:
        self.calls += 1
        return True


def test_patience_around_a_python_pruner_runs_in_python() -> None:
    inner = _Counting()
    pruner = PatientPruner(inner, patience=0)
    assert pruner._rust is None
    study = study_with(pruner, [])
    assert decisions(study, [(0, 1.0), (1, 2.0), (2, 0.0)]) == [False, True, False]
    assert inner.calls == 1


def test_patient_arguments() -> None:
    with pytest.raises(InvalidArgumentError, match="patience"):
        PatientPruner(None, patience=-1)
    with pytest.raises(InvalidArgumentError, match="min_delta"):
        PatientPruner(None, patience=1, min_delta=-0.5)
    with pytest.raises(InvalidArgumentError, match="wrapped_pruner"):
        PatientPruner("median", patience=1)  # type: ignore[arg-type]

"""Importances on studies a sampler's search space would mislead (found by a new user)."""

from __future__ import annotations

import pytest

import ferrotune
from ferrotune.importance import (
    FanovaImportanceEvaluator,
    MeanDecreaseImpurityImportanceEvaluator,
    PedAnovaImportanceEvaluator,
    get_param_importances,
)


@pytest.mark.parametrize(
    "evaluator",
    [
        FanovaImportanceEvaluator,
        MeanDecreaseImpurityImportanceEvaluator,
        PedAnovaImportanceEvaluator,
    ],
)
def test_a_trial_pruned_before_its_parameters_changes_nothing(evaluator: type) -> None:
    """The parameters scored are those of the COMPLETE trials (as Optuna): a trial pruned
    before it suggested anything (a worker that asked, then gave up) emptied the result."""
    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.optimize(
        lambda t: t.suggest_float("x", 0, 1) + 10 * t.suggest_float("y", 0, 1), n_trials=30
    )
    make = (
        (lambda: evaluator())
        if evaluator is PedAnovaImportanceEvaluator
        else (lambda: evaluator(seed=0))
    )
    before = get_param_importances(study, evaluator=make())
    assert set(before) == {"x", "y"} and before["y"] > 0.8
    trial = study.ask()
    study.tell(trial, state=ferrotune.TrialState.PRUNED)
    partial = study.ask()
    partial.suggest_float("x", 0, 1)
    study.tell(partial, state=ferrotune.TrialState.PRUNED)
    assert get_param_importances(study, evaluator=make()) == before

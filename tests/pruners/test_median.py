"""MedianPruner and PercentilePruner: Optuna's documented semantics on hand-made
histories (median of the COMPLETE trials at the step, start-up, warm-up, interval,
direction, NaN, n_min_trials)."""

from __future__ import annotations

import math

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.pruners import MedianPruner, PercentilePruner
from ferrotune.trial import TrialState
from tests.pruners._helpers import add, decisions, study_with

NAN = math.nan


def test_defaults_are_optunas() -> None:
    p = MedianPruner()
    assert (p._percentile, p._n_startup_trials, p._n_warmup_steps) == (50.0, 5, 0)
    assert (p._interval_steps, p._n_min_trials) == (1, 1)
    assert isinstance(ferrotune.create_study().pruner, MedianPruner)  # as Optuna


def test_prunes_strictly_above_the_median_of_complete_trials() -> None:
    study = study_with(MedianPruner(0), [{0: 1.0}, {0: 2.0}, {0: 3.0}])
    assert decisions(study, [(0, 2.5)]) == [True]
    assert decisions(study, [(0, 2.0)]) == [False]  # equal to the median: kept
    assert decisions(study, [(0, 0.5)]) == [False]


def test_maximize_flips_the_comparison() -> None:
    study = study_with(MedianPruner(0), [{0: 1.0}, {0: 2.0}, {0: 3.0}], direction="maximize")
    assert decisions(study, [(0, 1.5)]) == [True]
    assert decisions(study, [(0, 2.5)]) == [False]


def test_the_trials_best_value_over_its_steps_is_compared() -> None:
    # Median 5 at step 1; the trial's best (1.0 at step 0) is what counts.
    study = study_with(MedianPruner(0), [{0: 0.0, 1: 5.0}, {0: 0.0, 1: 5.0}])
    assert decisions(study, [(0, 1.0), (1, 10.0)]) == [True, False]


def test_pruned_and_failed_trials_do_not_count() -> None:
    study = study_with(MedianPruner(0), [{0: 10.0}])
    add(study, [{0: -5.0}, {0: -5.0}], TrialState.PRUNED)
    add(study, [{0: -5.0}], TrialState.FAIL)
    assert decisions(study, [(0, 9.0)]) == [False]  # the median is 10, not -5


def test_no_pruning_before_n_startup_trials_are_complete() -> None:
    study = study_with(MedianPruner(n_startup_trials=2), [{0: 1.0}])
    assert decisions(study, [(0, 5.0)]) == [False]
    add(study, [{0: 1.0}], TrialState.COMPLETE)
    assert decisions(study, [(0, 5.0)]) == [True]


def test_no_pruning_during_warm_up() -> None:
    study = study_with(MedianPruner(0, n_warmup_steps=2), [{s: 0.0 for s in range(5)}])
    assert decisions(study, [(s, 1.0) for s in range(4)]) == [False, False, True, True]


def test_checks_only_at_the_first_report_of_each_interval() -> None:
    # Warm-up 1, every 2 steps: checks at 1, 3, 5; a skipped check point moves on.
    study = study_with(
        MedianPruner(0, n_warmup_steps=1, interval_steps=2), [{s: 0.0 for s in range(8)}]
    )
    assert decisions(study, [(s, 1.0) for s in range(6)]) == [
        False, True, False, True, False, True,
    ]  # fmt: skip
    assert decisions(study, [(0, 1.0), (2, 1.0), (4, 1.0), (7, 1.0)]) == [
        False, True, True, True,
    ]  # fmt: skip


def test_nan() -> None:
    study = study_with(MedianPruner(0), [{0: 1.0, 1: NAN}, {0: 1.0, 1: NAN}])
    # A trial that reported only NaN is pruned.
    assert decisions(study, [(0, NAN)]) == [True]
    # A step where the complete trials reported only NaN never prunes.
    assert decisions(study, [(0, 0.5), (1, 9.0)]) == [False, False]
    # NaN values of other trials are left out of the median.
    study = study_with(MedianPruner(0), [{0: NAN}, {0: 1.0}, {0: 3.0}])
    assert decisions(study, [(0, 2.5)]) == [True]


def test_n_min_trials_counts_the_trials_that_reported_the_step() -> None:
    study = study_with(MedianPruner(0, n_min_trials=2), [{0: 0.0, 1: 0.0}, {0: 0.0}])
    assert decisions(study, [(0, 1.0)]) == [True]
    assert decisions(study, [(0, -1.0), (1, 1.0)]) == [False, False]


def test_percentile() -> None:
    done = [{0: float(v)} for v in (1, 2, 3, 4, 5)]
    study = study_with(PercentilePruner(25.0, 0), done)  # 25th percentile: 2.0
    assert decisions(study, [(0, 2.5)]) == [True]
    assert decisions(study, [(0, 1.5)]) == [False]
    study = study_with(PercentilePruner(25.0, 0), done, direction="maximize")  # 75th: 4.0
    assert decisions(study, [(0, 3.5)]) == [True]
    assert decisions(study, [(0, 4.5)]) == [False]


def test_a_trial_without_reports_is_not_pruned() -> None:
    study = study_with(MedianPruner(0), [{0: 1.0}])
    assert not study.ask().should_prune()


def test_multi_objective_raises_as_optuna() -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"], pruner=MedianPruner())
    t = study.ask()
    with pytest.raises(NotImplementedError):
        t.should_prune()


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"percentile": -1.0}, "percentile"),
        ({"percentile": 100.5}, "percentile"),
        ({"percentile": NAN}, "percentile"),
        ({"percentile": 50.0, "n_startup_trials": -1}, "n_startup_trials"),
        ({"percentile": 50.0, "n_warmup_steps": -1}, "n_warmup_steps"),
        ({"percentile": 50.0, "interval_steps": 0}, "interval_steps"),
        ({"percentile": 50.0, "n_min_trials": 0}, "n_min_trials"),
        ({"percentile": 50.0, "interval_steps": 1.5}, "interval_steps"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(InvalidArgumentError, match=name):
        PercentilePruner(**kwargs)  # type: ignore[arg-type]
    assert issubclass(InvalidArgumentError, ValueError)

"""Regressions for behaviours a review found missing or wrong; each test fails on the
code before its fix."""

from __future__ import annotations

import copy
import pickle
import signal
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError, InvalidDistributionError
from ferrotune.trial import FrozenTrial, TrialState


def _study(**kw: object) -> ferrotune.Study:
    return ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0), **kw)  # type: ignore[arg-type]


def test_sigint_stops_parallel_optimize_and_loses_nothing() -> None:
    code = textwrap.dedent(
        """
        import os, signal, threading, time, ferrotune
        # Ctrl-C's handler even in a background job, whose children ignore SIGINT.
        signal.signal(signal.SIGINT, signal.default_int_handler)
        study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
        def objective(t):
            time.sleep(0.01)
            return t.suggest_float("x", 0, 1)
        threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        try:
            study.optimize(objective, n_trials=None, n_jobs=4)
        except KeyboardInterrupt:
            pass
        states = [t.state.name for t in study.trials]
        assert "RUNNING" not in states, states
        print(len(states))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 0


def test_objective_returning_none_fails_the_trial() -> None:
    study = _study()
    study.optimize(lambda t: None, n_trials=3)  # type: ignore[arg-type,return-value]
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 3


def test_frozen_trial_from_tell_copies_and_pickles_as_a_snapshot() -> None:
    study = _study()
    t = study.ask()
    t.suggest_float("x", 0, 1)
    fr = study.tell(t, 1.0)
    for clone in (copy.deepcopy(fr), pickle.loads(pickle.dumps(fr)), copy.copy(fr)):
        assert type(clone) is FrozenTrial
        assert clone.params == fr.params and clone.values == [1.0]


def test_pruned_trial_keeps_its_last_intermediate_value() -> None:
    study = _study()
    t = study.ask()
    t.report(0.9, 1)
    t.report(0.5, 3)
    study.tell(t, state=TrialState.PRUNED)
    assert study.trials[0].values == [0.5]


def test_add_trial_with_bad_input_leaves_no_trial_behind() -> None:
    study = _study()
    dist = ferrotune.distributions.FloatDistribution(0, 1)
    bad = [
        FrozenTrial(0, TrialState.COMPLETE, None, None, None, {"x": 0.5}, {"x": dist}, {}, {}, {}),
        FrozenTrial(0, TrialState.COMPLETE, 1.0, None, None, {"x": 2.0}, {"x": dist}, {}, {}, {}),
        FrozenTrial(0, TrialState.COMPLETE, 1.0, None, None, {"x": 0.5}, {}, {}, {}, {}),
        FrozenTrial(
            0, TrialState.COMPLETE, float("nan"), None, None, {"x": 0.5}, {"x": dist}, {}, {}, {}
        ),
    ]
    for fr in bad:
        with pytest.raises(InvalidArgumentError):
            study.add_trial(fr)
    assert study.trials == []


def test_best_trial_skips_trials_that_violate_constraints() -> None:
    study = _study()
    for x, c in [(0.1, 1.0), (0.5, -1.0), (0.9, -0.5)]:
        t = study.ask()
        t.suggest_float("x", x, x)
        t.set_constraint("c", c)
        study.tell(t, x)
    assert study.best_value == 0.5


@pytest.mark.parametrize(
    ("low", "high"),
    [(-(2**63), 2**63 - 1), (-(2**62), 2**62), (0, 2**70), (0, float("inf"))],
)
def test_unrepresentable_int_ranges_are_refused_with_the_parameter_named(
    low: int, high: float
) -> None:
    t = _study().ask()
    with pytest.raises(InvalidDistributionError, match=r"parameter 'n'"):
        t.suggest_int("n", low, high)  # type: ignore[arg-type]


def test_overflowing_float_range_and_bad_types_name_the_parameter() -> None:
    t = _study().ask()
    with pytest.raises(InvalidDistributionError, match=r"parameter 'w'"):
        t.suggest_float("w", -1e308, 1e308)
    with pytest.raises(InvalidDistributionError, match=r"parameter 'w'"):
        t.suggest_float("w", "a", 1)  # type: ignore[arg-type]


def test_enqueue_skip_if_exists_needs_the_same_parameters() -> None:
    study = _study()
    t = study.ask()
    t.suggest_float("x", 0.5, 0.5)
    t.suggest_float("y", 0, 1)
    study.tell(t, 1.0)
    study.enqueue_trial({"x": 0.5}, skip_if_exists=True)
    assert study.trials[-1].state == TrialState.WAITING


def test_multivariate_tpe_joint_sample_survives_fixed_distributions() -> None:
    """`ask(fixed_distributions=...)` must use the joint (relative) sample, not a fresh
    univariate draw: with the relative values pending, the suggested values equal them."""
    dist = ferrotune.distributions.FloatDistribution(-5, 5)
    a = ferrotune.create_study(sampler=ferrotune.samplers.TPESampler(seed=3))
    b = ferrotune.create_study(sampler=ferrotune.samplers.TPESampler(seed=3))
    for s in (a, b):
        for i in range(12):
            t = s.ask()
            s.tell(t, (t.suggest_float("x", -5, 5) - 1) ** 2 + i * 0)
    ta = a.ask()
    xa = ta.suggest_float("x", -5, 5)
    tb = b.ask(fixed_distributions={"x": dist})
    assert tb.params["x"] == xa


def test_second_constraint_value_is_ignored_with_a_warning() -> None:
    t = _study().ask()
    t.set_constraint("c", -1.0)
    with pytest.warns(UserWarning, match="already set"):
        t.set_constraint("c", 5.0)
    assert t.constraints == {"c": -1.0}


_ = signal  # the SIGINT test sends the signal from the child itself


def test_tpe_constraints_func_as_in_optuna() -> None:
    """Optuna's `constraints_func` works: the values are stored on the trial and
    best_trial only considers feasible trials."""

    def cons(t: FrozenTrial) -> list[float]:
        return [0.5 - t.params["x"]]  # feasible when x >= 0.5

    sampler = ferrotune.samplers.TPESampler(seed=0, n_startup_trials=5, constraints_func=cons)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=40)
    assert all(t.system_attrs["constraints"] == {"c0": 0.5 - t.params["x"]} for t in study.trials)
    assert study.best_params["x"] >= 0.5
    feasible_late = sum(t.params["x"] >= 0.5 for t in study.trials[20:])
    assert feasible_late >= 10


# --- found by a new user's scripts (2026-12-04) --------------------------------------------------


def test_numpy_integers_are_report_steps_and_trial_counts() -> None:
    import numpy as np

    study = ferrotune.create_study()

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for epoch in np.arange(3):
            trial.report(x, epoch)
        return x

    study.optimize(objective, n_trials=np.int64(2))
    assert len(study.trials) == 2
    assert all(t.state == ferrotune.trial.TrialState.COMPLETE for t in study.trials)
    assert list(study.trials[0].intermediate_values) == [0, 1, 2]
    trial = study.ask()
    for bad in (True, -1, 2.5, float("nan")):
        with pytest.raises(InvalidArgumentError, match="step must be an int"):
            trial.report(0.5, bad)  # type: ignore[arg-type]
    # A float holding a whole number is that step, as Optuna's int(step) takes it.
    trial.report(0.25, 4.0)  # type: ignore[arg-type]
    trial.report(0.125, np.float64(5.0))  # type: ignore[arg-type]
    study.tell(trial, 0.1)
    assert study.trials[-1].intermediate_values == {4: 0.25, 5: 0.125}
    # Pruner arguments from numpy (a config array) are ints too.
    ferrotune.pruners.SuccessiveHalvingPruner(min_resource=np.int64(1))
    ferrotune.pruners.HyperbandPruner(min_resource=np.int64(1), max_resource=np.int32(27))
    for bad_n in (True, -1, 1.5):
        with pytest.raises(InvalidArgumentError, match="n_trials"):
            study.optimize(objective, n_trials=bad_n)  # type: ignore[arg-type]


def test_a_missing_study_is_a_key_error_as_in_optuna(tmp_path: Any) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    with pytest.raises(KeyError):
        ferrotune.load_study(study_name="nope", storage=url)
    with pytest.raises(InvalidArgumentError, match="no study named 'nope'"):
        ferrotune.load_study(study_name="nope", storage=url)
    with pytest.raises(ferrotune.exceptions.UnknownStudyError):
        ferrotune.delete_study(study_name="nope", storage=url)
    # Optuna's idiom: create the study when it is missing.
    try:
        study = ferrotune.load_study(study_name="s", storage=url)
    except KeyError:
        study = ferrotune.create_study(study_name="s", storage=url)
    assert study.study_name == "s"


def test_a_log_loss_problem_refuses_another_metric() -> None:
    from ferrotune.benchmarks import get_multi_fidelity_problem

    with pytest.raises(InvalidArgumentError, match="log-loss"):
        get_multi_fidelity_problem("digits_mlp_logloss_tabular", metric="error")
    assert get_multi_fidelity_problem("digits_mlp_logloss_tabular", metric="log_loss").name == (
        "digits_mlp_logloss_tabular"
    )


@pytest.mark.parametrize("state", [TrialState.PRUNED, TrialState.FAIL])
def test_values_with_a_pruned_or_failed_state_are_refused_as_in_optuna(state: TrialState) -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.suggest_float("x", 0, 1)
    with pytest.raises(InvalidArgumentError, match="values cannot be given"):
        study.tell(trial, 1.0, state=state)
    assert study.trials[0].state == TrialState.RUNNING  # nothing changed: tell it properly
    study.tell(trial, state=state)
    assert study.trials[0].state == state


def test_add_trial_reads_optunas_list_of_constraints() -> None:
    """A migrated script stores constraints as Optuna does, a list under the system
    attribute "constraints": they count (named "0", "1", ... as Optuna and import_study
    name them), so an infeasible trial is not on the front. They were ignored."""
    study = ferrotune.create_study(directions=["minimize", "minimize"])
    dist = {"x": ferrotune.distributions.FloatDistribution(0, 1)}
    for f0, f1, c in [(0.2, 0.9, -1.0), (0.1, 0.95, 1.0)]:
        study.add_trial(
            ferrotune.create_trial(
                params={"x": 0.5},
                distributions=dist,
                values=[f0, f1],
                system_attrs={"constraints": [c]},
            )
        )
    assert [t.number for t in study.best_trials] == [0]
    assert study.trials[1].constraints == {"0": 1.0}

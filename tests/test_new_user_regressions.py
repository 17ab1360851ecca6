"""Bugs an Optuna user met in ordinary scripts (new-user passes): each test fails on the
code before its fix."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.distributions import FloatDistribution, IntDistribution
from ferrotune.exceptions import IncompatibleDistributionError, InvalidArgumentError
from ferrotune.samplers import RandomSampler, RFSampler


def test_a_name_suggested_again_with_another_range_keeps_its_first_value() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        units = trial.suggest_int("units", 16, 128)
        if units > 64:
            assert trial.suggest_int("units", 16, 256) == units
        x = trial.suggest_float("x", 0.0, 1.0)
        assert trial.suggest_float("x", 0.0, 2.0) == x
        return units + x

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        study.optimize(objective, n_trials=12)
    assert all(t.state == ferrotune.TrialState.COMPLETE for t in study.trials)
    assert any("'x' was suggested before" in str(w.message) for w in caught)
    # Another kind of distribution is still an error, as in Optuna.
    trial = study.ask()
    trial.suggest_int("k", 1, 3)
    with pytest.raises(IncompatibleDistributionError, match="IntDistribution"):
        trial.suggest_float("k", 1.0, 3.0)
    with pytest.raises(IncompatibleDistributionError):
        trial.suggest_categorical("units", [1, 2])


def test_frozen_trials_take_new_values_and_sort_by_number() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    trial = study.trials[0]
    trial.value = 3.0
    assert trial.values == [3.0]
    trial.values = [4]
    assert trial.value == 4.0
    trial.value = None
    assert trial.values is None
    assert [t.number for t in sorted(reversed(study.trials))] == [0, 1, 2]
    assert max(study.trials).number == 2


def test_best_trial_says_when_no_complete_trial_is_feasible() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    trial.set_constraint("c", 1.0)
    study.tell(trial, 0.5)
    with pytest.raises(InvalidArgumentError, match="no feasible trial"):
        _ = study.best_trial
    with pytest.raises(InvalidArgumentError, match="no trial is complete"):
        _ = ferrotune.create_study().best_trial


@pytest.mark.parametrize("storage", ["memory", "sqlite"])
def test_add_trial_with_bad_parts_writes_nothing(storage: str, tmp_path: Any) -> None:
    url = None
    if storage == "sqlite":
        pytest.importorskip("sqlalchemy")
        url = f"sqlite:///{tmp_path / 'add.db'}"
    study = ferrotune.create_study(storage=url, sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    bad = [
        ferrotune.create_trial(
            params={"x": 0.5},
            distributions={"x": FloatDistribution(0.0, 1.0)},
            value=1.0,
            user_attrs={"note": object()},
        ),
        ferrotune.create_trial(
            params={"x": 0.5},
            distributions={"x": FloatDistribution(0.0, 1.0)},
            value=1.0,
            system_attrs={"note": object()},
        ),
        ferrotune.create_trial(
            params={"x": 5}, distributions={"x": IntDistribution(0, 10)}, value=1.0
        ),
    ]
    for trial in bad:
        with pytest.raises(ValueError):
            study.add_trial(trial)
    assert [t.state for t in study.trials] == [ferrotune.TrialState.COMPLETE] * 2


def test_add_trials_takes_an_optuna_studys_trials() -> None:
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    old = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    old.optimize(
        lambda t: (
            t.suggest_float("x", 0, 1) + t.suggest_int("k", 1, 3, step=2)
            if t.suggest_categorical("c", ["a", "b"]) == "a"
            else 5.0
        ),
        n_trials=6,
    )
    new = ferrotune.create_study()
    new.add_trials(old.trials)
    assert [t.params for t in new.trials] == [t.params for t in old.trials]
    assert [t.values for t in new.trials] == [t.values for t in old.trials]
    assert new.best_value == old.best_value
    assert [t.datetime_start for t in new.trials] == [t.datetime_start for t in old.trials]


def test_add_trials_keeps_the_constraints_of_optunas_trials() -> None:
    # Optuna 5's set_constraint writes "constraints:<name>" attributes, which add_trial
    # copied as plain attributes: the infeasible trial counted as feasible.
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    old = optuna.create_study(directions=["minimize", "maximize"])
    for x, y in [(0.9, 1.0), (0.1, 0.5)]:
        t = old.ask()
        t.set_constraint("c", x - 0.5)
        old.tell(t, [x, y])
    new = ferrotune.create_study(directions=["minimize", "maximize"])
    new.add_trials(old.trials)
    assert [t.constraints for t in new.trials] == [t.constraints for t in old.trials]
    assert [t.number for t in new.best_trials] == [t.number for t in old.best_trials] == [1]
    # Optuna's list form is named as Optuna names it.
    listed = ferrotune.trial.create_trial(value=1.0, system_attrs={"constraints": [2.0, -1.0]})
    new1 = ferrotune.create_study()
    new1.add_trial(listed)
    assert new1.trials[0].constraints == {"0": 2.0, "1": -1.0}


def test_rf_sampler_takes_a_value_near_the_largest_double() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -1.0, 1.0)
        return -1e308 if trial.number == 3 else x

    study = ferrotune.create_study(sampler=RFSampler(seed=0, n_candidates=200))
    study.optimize(objective, n_trials=25)
    assert all(t.state == ferrotune.TrialState.COMPLETE for t in study.trials)


def _enqueue_with_bad_attrs() -> None:
    ferrotune.create_study().enqueue_trial({"x": 0.5}, user_attrs=5)  # type: ignore[arg-type]


def _suggest_with_int_name() -> None:
    ferrotune.create_study().ask().suggest_categorical(3, [1])  # type: ignore[arg-type]


_BAD_CALLS: list[tuple[str, Any, str]] = [
    ("huge value", lambda: ferrotune.create_trial(value=10**400), "values must be numbers"),
    (
        "step not an int",
        lambda: ferrotune.create_trial(value=1.0, intermediate_values={"a": 1.0}),
        "step must be an int",
    ),
    (
        "fractional step",
        lambda: ferrotune.create_trial(value=1.0, intermediate_values={1.5: 1.0}),
        "step must be an int",
    ),
    ("user_attrs not a mapping", _enqueue_with_bad_attrs, "user_attrs must be a mapping"),
    (
        "conditions not a mapping",
        lambda: ferrotune.SearchSpace({"a": IntDistribution(0, 1)}, conditions=5),
        "conditions must be a mapping",
    ),
    (
        "condition not a pair",
        lambda: ferrotune.SearchSpace(
            {"a": IntDistribution(0, 1), "b": IntDistribution(0, 1)}, conditions={"a": 5}
        ),
        "parameter 'a'",
    ),
    (
        "constraints not a list",
        lambda: ferrotune.SearchSpace({"a": IntDistribution(0, 1)}, constraints=5),
        "constraints must be a list",
    ),
    ("Linear of a list", lambda: ferrotune.Linear([("a", 1)], upper=1), "coefficients"),
    ("Forbidden of an int", lambda: ferrotune.Forbidden(5), "assignment must be a mapping"),
    ("Linear text coefficient", lambda: ferrotune.Linear({"a": "x"}, upper=1), "'a'"),
    ("Linear infinite bound", lambda: ferrotune.Linear({"a": 1}, upper=float("inf")), "upper"),
    ("parameter name not a str", _suggest_with_int_name, "parameter name must be a str"),
    ("study name not a str", lambda: ferrotune.create_study(study_name=5), "study_name"),
]


@pytest.mark.parametrize(("what", "call", "needle"), _BAD_CALLS, ids=[c[0] for c in _BAD_CALLS])
def test_bad_arguments_get_a_value_error_naming_them(what: str, call: Any, needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        call()


def test_a_float_step_that_holds_an_int_is_that_step() -> None:
    trial = ferrotune.create_trial(value=1.0, intermediate_values={2.0: 0.5})
    assert trial.intermediate_values == {2: 0.5}


def test_a_grid_changed_on_resume_runs_its_own_points() -> None:
    from ferrotune.samplers import GridSampler

    study = ferrotune.create_study(sampler=GridSampler({"x": [1, 2, 3]}, seed=0))
    study.optimize(lambda t: t.suggest_int("x", 1, 6), n_trials=3)
    study.sampler = GridSampler({"x": [4, 5, 6]}, seed=0)
    study.optimize(lambda t: t.suggest_int("x", 1, 6), n_trials=3)
    assert sorted(t.params["x"] for t in study.trials) == [1, 2, 3, 4, 5, 6]


def test_a_grid_sampler_pickled_before_it_tracked_unseen_trials_still_asks() -> None:
    from ferrotune.samplers import GridSampler

    sampler = GridSampler({"x": [1, 2, 3]}, seed=0)
    state = sampler.__getstate__()
    del state["_unseen"]
    old = GridSampler.__new__(GridSampler)
    old.__setstate__(state)
    study = ferrotune.create_study(sampler=old)
    study.optimize(lambda t: t.suggest_int("x", 1, 3), n_trials=None)
    assert sorted(t.params["x"] for t in study.trials) == [1, 2, 3]


def test_an_exported_grid_study_resumes_under_optunas_grid_sampler(tmp_path: Any) -> None:
    optuna = pytest.importorskip("optuna")
    pytest.importorskip("sqlalchemy")
    from ferrotune.integration.optuna import export_study
    from ferrotune.samplers import GridSampler

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = ferrotune.create_study(sampler=GridSampler({"x": [1, 2, 3, 4]}, seed=0))
    study.optimize(lambda t: t.suggest_int("x", 1, 4), n_trials=2)
    url = f"sqlite:///{tmp_path / 'o.db'}"
    export_study(study, url)
    other = optuna.load_study(
        study_name=study.study_name,
        storage=url,
        sampler=optuna.samplers.GridSampler({"x": [1, 2, 3, 4]}, seed=0),
    )
    other.optimize(lambda t: t.suggest_int("x", 1, 4), n_trials=2)
    assert len(other.trials) == 4


def test_a_refused_add_trial_leaves_the_categorical_choices_alone() -> None:
    from ferrotune.distributions import CategoricalDistribution

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_int("n", 0, 3), n_trials=1)
    bad = ferrotune.create_trial(
        params={"c": "a", "n": 0.5},
        distributions={"c": CategoricalDistribution(["a", "b"]), "n": FloatDistribution(0, 1)},
        value=1.0,
    )
    with pytest.raises(IncompatibleDistributionError):
        study.add_trial(bad)
    trial = study.ask()
    assert trial.suggest_categorical("c", ["x", "y"]) in ("x", "y")


def test_distribution_errors_write_floats_briefly() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.suggest_float("x", 1e-300, 1e300, log=True)
    study.tell(trial, 0.0)
    with pytest.raises(IncompatibleDistributionError) as e:
        study.ask().suggest_int("x", 0, 1)
    assert "1e-300" in str(e.value) and len(str(e.value)) < 300


def test_a_multi_objective_snapshot_refuses_a_single_value() -> None:
    from ferrotune.exceptions import MultiObjectiveError

    trial = ferrotune.create_trial(values=[1.0, 2.0])
    with pytest.raises(MultiObjectiveError):
        trial.value = 3.0
    assert trial.values == [1.0, 2.0]


def test_a_name_suggested_again_on_another_scale_is_an_error_as_in_optuna() -> None:
    trial = ferrotune.create_study().ask()
    trial.suggest_float("x", 0.1, 1.0)
    with pytest.raises(IncompatibleDistributionError):
        trial.suggest_float("x", 0.1, 1.0, log=True)


def test_benchmark_conditions_on_a_stepped_float_match_its_grid_points() -> None:
    from ferrotune.benchmarks import Param, Problem

    problem = Problem(
        "p",
        {"x": Param.real(0.0, 1.0, step=0.1), "y": Param.integer(0, 1).when("x", [0.3])},
        0.0,
        {"x": 0.0},
        lambda p: 0.0,
    )
    assert problem.active({"x": 0.1 * 3, "y": 1}) == {"x": 0.1 * 3, "y": 1}
    assert problem.active({"x": 0.4, "y": 1}) == {"x": 0.4}


def test_a_forbidden_value_within_the_step_tolerance_names_its_grid_point() -> None:
    space = ferrotune.SearchSpace(
        {"x": FloatDistribution(0.0, 10.0, step=0.001)},
        constraints=[ferrotune.Forbidden({"x": 5.00000004})],
    )
    assert not space.is_feasible({"x": 5.0})
    assert space.is_feasible({"x": 5.001})


def test_values_set_on_the_trial_tell_returns_survive_its_other_fields() -> None:
    study = ferrotune.create_study()
    frozen = study.tell(study.ask(), 2.0)
    frozen.values = [7.0]
    assert frozen.state == ferrotune.TrialState.COMPLETE
    assert frozen.values == [7.0]
    assert study.trials[0].values == [2.0]  # the study's record is not the snapshot's


def test_linear_takes_whatever_float_reads() -> None:
    import decimal

    import numpy as np

    c = ferrotune.Linear({"x": np.array(1.0), "y": decimal.Decimal("1.5")}, upper=np.float32(2))
    assert c.coefficients == (("x", 1.0), ("y", 1.5)) and c.upper == 2.0
    with pytest.raises(ValueError, match="coefficient of 'x'"):
        ferrotune.Linear({"x": 10**400}, upper=1.0)
    with pytest.raises(ValueError, match="coefficient of 'x'"):
        ferrotune.Linear({"x": True}, upper=1.0)


def test_a_grid_counts_trials_that_ended_with_part_of_their_point() -> None:
    from ferrotune.samplers import GridSampler

    def objective(trial: ferrotune.Trial) -> float:
        a = trial.suggest_categorical("a", [0, 1])
        if a == 0:
            trial.suggest_categorical("b", [0, 1])
        return a

    grid = {"a": [0, 1], "b": [0, 1]}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=0))
    study.optimize(objective, n_trials=None)
    assert len(study.trials) == 4
    study.sampler = GridSampler(grid, seed=0)
    study.optimize(objective, n_trials=None)
    assert len(study.trials) == 5  # one repeat past the end, as a finished grid gives


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_add_trial_checks_against_what_other_workers_recorded(kind: str, tmp_path: Any) -> None:
    if kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        storage: Any = f"sqlite:///{tmp_path / 'a.db'}"
    else:
        from ferrotune.storages import JournalStorage
        from ferrotune.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(tmp_path / "a.log")))
    first = ferrotune.create_study(storage=storage, study_name="a")
    other = ferrotune.load_study(study_name="a", storage=storage)
    first.optimize(lambda t: t.suggest_float("z", 0.0, 1.0), n_trials=1)
    bad = ferrotune.create_trial(
        value=1.0, params={"z": 1}, distributions={"z": IntDistribution(0, 3)}
    )
    with pytest.raises(IncompatibleDistributionError):
        other.add_trial(bad)
    fresh = ferrotune.load_study(study_name="a", storage=storage)
    assert [t.state for t in fresh.trials] == [ferrotune.TrialState.COMPLETE]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_study_objects_on_one_storage_keep_their_own_sampler_and_pruner(
    kind: str, tmp_path: Any
) -> None:
    # Both bound into the study's shared core, and the last Study object built won:
    # load_study or copy_study silently swapped the first study's pruner and sampler.
    storage: Any = (
        ferrotune.storages.InMemoryStorage()
        if kind == "memory"
        else ferrotune.storages.RDBStorage(f"sqlite:///{tmp_path / 'one.db'}")
    )
    first = ferrotune.create_study(
        storage=storage,
        study_name="s",
        sampler=RandomSampler(seed=0),
        pruner=ferrotune.pruners.ThresholdPruner(upper=10.0),
    )
    second = ferrotune.load_study(
        study_name="s",
        storage=storage,
        sampler=RandomSampler(seed=1),
        pruner=ferrotune.pruners.NopPruner(),
    )
    alone = ferrotune.create_study(sampler=RandomSampler(seed=0))
    xs = []
    for _ in range(3):
        # Both asked before either suggests: the sampler is bound again at each suggest.
        trial = first.ask()
        other = second.ask()
        xs.append(trial.suggest_float("x", 0.0, 1.0))
        other.suggest_float("x", 0.0, 1.0)
        trial.report(50.0, 0)
        assert trial.should_prune()
        first.tell(trial, state=ferrotune.TrialState.PRUNED)
        other.report(50.0, 0)
        assert not other.should_prune()
        second.tell(other, 1.0)
    expected = []
    for _ in range(3):
        trial = alone.ask()
        expected.append(trial.suggest_float("x", 0.0, 1.0))
        alone.tell(trial, 1.0)
    assert xs == expected


def test_optunas_trial_pruned_prunes_the_trial() -> None:
    # An objective (or an Optuna pruning callback) raising optuna.TrialPruned failed the
    # trial and stopped optimize.
    optuna = pytest.importorskip("optuna")

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        trial.report(x, 0)
        if trial.number % 2:
            raise optuna.TrialPruned()
        return x

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(objective, n_trials=4)
    assert [t.state.name for t in study.trials] == ["COMPLETE", "PRUNED"] * 2


def test_a_step_reported_again_warns_and_keeps_its_first_value() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.report(1.0, 3)
    with pytest.warns(UserWarning, match="step 3 of trial 0 is already reported"):
        trial.report(2.0, 3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trial.report(2.0, 4)
    study.tell(trial, 0.0)
    assert study.trials[0].intermediate_values == {3: 1.0, 4: 2.0}


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite:/nope", "Could not parse"),
        ("sqlite:////nonexistent-ferrotune-dir/x.db", "does not exist"),
    ],
)
def test_a_bad_database_url_is_a_clear_error(url: str, fragment: str) -> None:
    # sqlalchemy's ArgumentError and "unable to open database file" came out raw.
    pytest.importorskip("sqlalchemy")
    with pytest.raises(InvalidArgumentError, match=fragment):
        ferrotune.create_study(storage=url)


def test_a_percent_encoded_sqlite_path_is_read_as_sqlalchemy_reads_it(tmp_path: Any) -> None:
    pytest.importorskip("sqlalchemy")
    (tmp_path / "my dir").mkdir()
    url = f"sqlite:///{tmp_path}/my%20dir/a.db"
    ferrotune.create_study(storage=url, study_name="s").optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=1
    )
    assert (tmp_path / "my dir" / "a.db").exists()


# ------------------------------------------------ the optimize loop (sixth pass)


def test_a_nested_optimize_is_refused_as_optuna_does() -> None:
    """A nested optimize shared the outer loop's stop flag: study.stop() before an inner
    optimize was undone by it (6 trials ran for n_trials=5 and a stop)."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    errors: list[BaseException] = []

    def objective(trial: ferrotune.Trial) -> float:
        try:
            trial.study.optimize(lambda t: t.suggest_float("y", 0.0, 1.0), n_trials=1)
        except RuntimeError as e:
            errors.append(e)
        return trial.suggest_float("x", 0.0, 1.0)

    study.optimize(objective, n_trials=3, n_jobs=2)
    assert len(errors) == 3 and "Nested" in str(errors[0])
    assert len(study.trials) == 3
    # Outside the loop it runs again; a stop from a callback still ends it.
    study.optimize(
        lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=5, callbacks=[lambda s, t: s.stop()]
    )
    assert len(study.trials) == 4


def test_tell_refuses_a_frozen_trial_of_another_study() -> None:
    a = ferrotune.create_study(study_name="a")
    a.ask()
    c = ferrotune.create_study(study_name="c")
    c.ask()
    with pytest.raises(InvalidArgumentError, match="not a trial of study 'a'"):
        a.tell(c.trials[0], 3.0)
    assert a.trials[0].state == ferrotune.TrialState.RUNNING
    # Its own snapshot is taken.
    a.tell(a.trials[0], 1.0)
    assert a.trials[0].values == [1.0]


def test_numpy_numbers_are_taken_for_n_jobs_and_timeout() -> None:
    np = pytest.importorskip("numpy")
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(
        lambda t: t.suggest_float("x", 0.0, 1.0),
        n_trials=np.int64(4),
        n_jobs=np.int64(2),
        timeout=np.float32(60.0),
    )
    assert len(study.trials) == 4
    for bad in (np.float64(2.0), 0, -2, True):
        with pytest.raises(InvalidArgumentError, match="n_jobs"):
            study.optimize(lambda t: 0.0, n_trials=1, n_jobs=bad)
    for bad_t in (np.float64("nan"), -1, "1"):
        with pytest.raises(InvalidArgumentError, match="timeout"):
            study.optimize(lambda t: 0.0, n_trials=1, timeout=bad_t)


def test_trials_are_logged_with_optunas_lines(caplog: pytest.LogCaptureFixture) -> None:
    ferrotune.logging.enable_propagation()
    try:
        ferrotune.logging.set_verbosity("info")
        with caplog.at_level("INFO", logger="ferrotune"):
            study = ferrotune.create_study(study_name="logged", sampler=RandomSampler(seed=0))
            study.optimize(lambda t: t.suggest_int("k", 3, 3) * 1.0, n_trials=2)
            mo = ferrotune.create_study(directions=["minimize", "maximize"])
            mo.optimize(lambda t: (t.suggest_int("a", 1, 1), 2.0), n_trials=1)
    finally:
        ferrotune.logging.disable_propagation()
        ferrotune.logging.set_verbosity(ferrotune.logging.INFO)
    lines = [r.getMessage() for r in caplog.records]
    assert "A new study created in memory with name: logged" in lines
    assert (
        "Trial 1 finished with value: 3.0 and parameters: {'k': 3}. "
        "Best is trial 0 with value: 3.0." in lines
    )
    assert "Trial 0 finished with values: [1.0, 2.0] and parameters: {'a': 1}." in lines
    with pytest.raises(InvalidArgumentError, match="unknown level name 'loud'"):
        ferrotune.logging.set_verbosity("loud")


def test_a_value_whose_float_raises_fails_the_trial_under_catch() -> None:
    class Odd:
        def __float__(self) -> float:
            raise RuntimeError("no float here")

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        study.optimize(lambda t: Odd() if t.number == 0 else 1.0, n_trials=3, catch=(Exception,))
    assert [t.state for t in study.trials] == [
        ferrotune.TrialState.FAIL,
        ferrotune.TrialState.COMPLETE,
        ferrotune.TrialState.COMPLETE,
    ]


# ------------------------------------------------ sampler arguments (population pass)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: ferrotune.samplers.CmaEsSampler(n_startup_trials=10**30), "n_startup_trials"),
        (lambda: ferrotune.samplers.NSGAIISampler(population_size=10**30), "population_size"),
        (lambda: ferrotune.samplers.TrustRegionSampler(n_points=10**30), "n_points"),
        (lambda: ferrotune.samplers.RFSampler(max_depth=10**30), "max_depth"),
        (lambda: ferrotune.samplers.RFSampler(min_samples_leaf=2**64), "min_samples_leaf"),
        (lambda: ferrotune.samplers.ReinforceSampler(ppo_epochs=5000), "ppo_epochs"),
        (lambda: ferrotune.samplers.BruteForceSampler(avoid_premature_stop="no"), "premature"),
        (lambda: ferrotune.samplers.QMCSampler(warn_independent_sampling="no"), "warn_indep"),
        (lambda: ferrotune.samplers.GASampler(mode="aging", n_elites=5), "n_elites"),
    ],
)
def test_bad_sampler_arguments_are_named(make: Any, name: str) -> None:
    """Huge ints raised the binding's OverflowError; string flags counted as True; the
    aging GA took n_elites it never uses."""
    with pytest.raises(InvalidArgumentError, match=name):
        make()


def test_rf_sampler_refuses_several_objectives_as_the_others_do() -> None:
    study = ferrotune.create_study(directions=["minimize", "maximize"], sampler=RFSampler(seed=0))
    with pytest.raises(InvalidArgumentError, match="one objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=1)


# --- gradient-based and reinforcement-learning search, importance (a new-user pass) ------
def _quadratic_with_gradient(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -10.0, 10.0)
    trial.report_gradient({"x": 2.0 * (x - 3.0)})
    return (x - 3.0) ** 2


def test_a_hypergradient_sampler_reused_by_a_second_study_descends_there_too() -> None:
    """The second study's first 20 trials all repeated one point: the scan position was
    the first study's, so their gradients were never read."""
    from ferrotune.samplers import HypergradientSampler

    sampler = HypergradientSampler(seed=0)
    first = ferrotune.create_study(sampler=sampler)
    first.optimize(_quadratic_with_gradient, n_trials=20)
    second = ferrotune.create_study(sampler=sampler)
    second.optimize(_quadratic_with_gradient, n_trials=20)
    xs = [t.params["x"] for t in second.trials]
    assert len(set(xs)) == 20
    # A fresh descent from the same start, as a new sampler with the seed gives.
    fresh = ferrotune.create_study(sampler=HypergradientSampler(seed=0))
    fresh.optimize(_quadratic_with_gradient, n_trials=20)
    assert xs == [t.params["x"] for t in fresh.trials]
    assert abs(xs[-1] - 3.0) < abs(xs[0] - 3.0)


@pytest.mark.parametrize("bad", ["1e3", b"1", "nan"])
def test_a_gradient_given_as_a_string_is_refused(bad: Any) -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    with pytest.raises(InvalidArgumentError, match=r"gradient for parameter 'x'.*not a number"):
        trial.report_gradient({"x": bad})


def test_rewards_at_the_float_limit_leave_the_controller_learning() -> None:
    """Values of 1e308 and -1e308 overflowed the reward statistics to NaN: the controller
    then drew the first choice of every parameter for good."""
    from ferrotune.distributions import CategoricalDistribution
    from ferrotune.samplers import ReinforceSampler

    space = ferrotune.SearchSpace(
        {f"op{i}": CategoricalDistribution(["conv", "pool", "skip"]) for i in range(4)}
    )
    study = ferrotune.create_study(sampler=ReinforceSampler(seed=0))
    study.optimize(lambda t: [1e308, -1e308][t.number % 2], n_trials=4, space=space)
    study.optimize(lambda t: 0.0, n_trials=30, space=space)
    assert len({tuple(t.params.values()) for t in study.trials[4:]}) > 5


def test_logistic_hypergradient_checks_max_iter_and_warns_when_it_stops_early() -> None:
    from ferrotune.hypergradient import logistic_hypergradient

    rng = np.random.default_rng(0)
    x, xv = rng.normal(size=(80, 3)), rng.normal(size=(40, 3))
    y = (x[:, 0] + 0.5 * rng.normal(size=80) > 0).astype(float)
    yv = (xv[:, 0] + 0.5 * rng.normal(size=40) > 0).astype(float)
    for bad in (0, -1, 1.5, True):
        with pytest.raises(InvalidArgumentError, match="max_iter"):
            logistic_hypergradient(x, y, xv, yv, 1.0, solver="newton", max_iter=bad)
    with pytest.warns(RuntimeWarning, match="max_iter=1"):
        logistic_hypergradient(x, y, xv, yv, 1.0, solver="newton", max_iter=1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logistic_hypergradient(x, y, xv, yv, 1.0, solver="newton")


def test_ridge_hypergradient_refuses_collinear_features_without_penalty_either_way() -> None:
    """With an intercept (centred features) rounding let the factorisation through."""
    from ferrotune.hypergradient import ridge_hypergradient

    rng = np.random.default_rng(0)
    x, xv = rng.normal(size=(50, 3)), rng.normal(size=(20, 3))
    y, yv = x @ [1.0, -2.0, 0.5], xv @ [1.0, -2.0, 0.5]
    xd, xvd = np.c_[x, x[:, 0]], np.c_[xv, xv[:, 0]]
    for intercept in (True, False):
        with pytest.raises(InvalidArgumentError, match="singular"):
            ridge_hypergradient(xd, y, xvd, yv, np.zeros(4), fit_intercept=intercept)
    ridge_hypergradient(x, y, xv, yv, np.zeros(3))  # independent features: fine


def test_importance_params_that_are_not_a_list_raise_type_error_as_optuna() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_float("y", 0, 1), 10)
    with pytest.raises(TypeError, match="params"):
        ferrotune.importance.get_param_importances(study, params="x")  # type: ignore[arg-type]


def test_a_hypergradient_sampler_given_a_new_study_of_the_same_name_starts_again() -> None:
    """Keyed by name, a re-created study (a notebook cell run again) repeated one point."""
    import pickle

    from ferrotune.samplers import HypergradientSampler

    sampler = HypergradientSampler(seed=0)
    ferrotune.create_study(study_name="exp", sampler=sampler).optimize(
        _quadratic_with_gradient, n_trials=10
    )
    again = ferrotune.create_study(study_name="exp", sampler=sampler)
    again.optimize(_quadratic_with_gradient, n_trials=10)
    assert len({t.params["x"] for t in again.trials}) == 10
    # A pickled study goes on with its sampler's descent (no restart).
    restored = pickle.loads(pickle.dumps(again))
    restored.optimize(_quadratic_with_gradient, n_trials=1)
    fresh = ferrotune.create_study(sampler=HypergradientSampler(seed=0))
    fresh.optimize(_quadratic_with_gradient, n_trials=11)
    assert restored.trials[-1].params["x"] == fresh.trials[-1].params["x"]


def test_hypergradient_helpers_on_badly_scaled_but_well_posed_data() -> None:
    """The singularity check compared pivots with the largest diagonal entry (features of
    scale 1e8 and 1 were refused); Newton warned at the rounding floor of large sums."""
    from ferrotune.hypergradient import logistic_hypergradient, ridge_hypergradient

    rng = np.random.default_rng(1)
    x, xv = rng.normal(size=(200, 2)) * [1e8, 1.0], rng.normal(size=(50, 2)) * [1e8, 1.0]
    y, yv = x @ [1e-8, 2.0], xv @ [1e-8, 2.0]
    for alpha in (np.full(2, 1e-3), np.zeros(2)):
        hg = ridge_hypergradient(x, y, xv, yv, alpha)
        assert np.all(np.isfinite(hg.gradient))
    x = rng.normal(size=(20000, 3)) * 1e3
    labels = (x[:, 0] + 300.0 * rng.normal(size=20000) > 0).astype(float)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        logistic_hypergradient(x, labels, x[:500], labels[:500], 1.0, solver="newton")

"""Regressions on the study API: infinite values, deleted studies and finished trials, tell's
trial argument, Optuna's positional ask and enqueued values. Each test fails on the code
before its fix, which its docstring describes."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import (
    FerrotuneError,
    InvalidArgumentError,
    InvalidTrialError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from ferrotune.samplers import GPSampler, RandomSampler, TPESampler
from ferrotune.trial import TrialState

# ------------------------------------------------------------------------ infinite values


@pytest.mark.parametrize("value", [math.inf, -math.inf])
def test_infinite_values_are_complete_as_in_optuna(value: float) -> None:
    """Optuna records +-inf as COMPLETE; only NaN fails."""
    study = ferrotune.create_study()
    frozen = study.tell(study.ask(), value)
    assert frozen.state == TrialState.COMPLETE
    assert frozen.values == [value]
    assert study.tell(study.ask(), math.nan).state == TrialState.FAIL


def test_best_trial_ranks_infinite_values() -> None:
    """-inf is the best value of a minimisation, +inf the worst; reversed when
    maximising."""
    for direction, expected in (("minimize", -math.inf), ("maximize", math.inf)):
        study = ferrotune.create_study(direction=direction)
        for v in (1.0, math.inf, -math.inf, 0.0):
            study.tell(study.ask(), v)
        assert study.best_value == expected
    multi = ferrotune.create_study(directions=["minimize", "minimize"])
    for v in ([math.inf, 0.0], [0.0, math.inf], [1.0, 1.0], [2.0, 2.0]):
        multi.tell(multi.ask(), v)
    assert sorted(t.number for t in multi.best_trials) == [0, 1, 2]


def _inf_region_share(sampler: ferrotune.samplers.BaseSampler, n_trials: int) -> float:
    """Share of the trials after the first ten that fall where the objective is +inf."""
    study = ferrotune.create_study(sampler=sampler)

    def objective(t: ferrotune.Trial) -> float:
        x = t.suggest_float("x", 0.0, 1.0)
        y = t.suggest_float("y", 0.0, 1.0)
        return math.inf if x > 0.5 else (x - 0.25) ** 2 + (y - 0.5) ** 2

    study.optimize(objective, n_trials=n_trials)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    later = study.trials[10:]
    return sum(t.params["x"] > 0.5 for t in later) / len(later)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tpe_learns_to_avoid_an_infinite_region(seed: int) -> None:
    """TPE used to sample the region where a minimisation returns inf *more*
    than random search (the trials were FAIL and ignored). Random search puts half its
    points there; TPE must put far fewer once its model starts."""
    tpe = _inf_region_share(TPESampler(seed=seed, n_startup_trials=10), 80)
    rnd = _inf_region_share(RandomSampler(seed=seed), 80)
    assert rnd > 0.3
    assert tpe < 0.25, (tpe, rnd)


@pytest.mark.parametrize("seed", [0, 1])
def test_gp_learns_to_avoid_an_infinite_region(seed: int) -> None:
    """The GP clips +inf to the worst finite value (as Optuna's GPSampler), so
    its model sees the region as bad instead of skipping those trials."""
    share = _inf_region_share(GPSampler(seed=seed, n_startup_trials=10), 30)
    assert share < 0.25, share


def test_multi_objective_tpe_runs_with_infinite_values() -> None:
    """MOTPE's hypervolume selection is finite with infinite losses."""
    study = ferrotune.create_study(
        directions=["minimize", "maximize"], sampler=TPESampler(seed=0, n_startup_trials=5)
    )

    def objective(t: ferrotune.Trial) -> tuple[float, float]:
        x = t.suggest_float("x", 0.0, 1.0)
        if x > 0.8:
            return math.inf, -math.inf
        return x, x * x

    study.optimize(objective, n_trials=40)
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    assert all(0.0 <= t.params["x"] <= 1.0 for t in study.trials)


# -------------------------------------------------------- deleted studies, finished trials


def test_a_deleted_study_refuses_optimize_at_once() -> None:
    """A deleted in-memory study accepted optimize() and its trials vanished."""
    storage = ferrotune.storages.InMemoryStorage()
    study = ferrotune.create_study(storage=storage, study_name="gone")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    ferrotune.delete_study(study_name="gone", storage=storage)
    calls: list[int] = []

    def objective(t: ferrotune.Trial) -> float:
        calls.append(t.number)
        return 0.0

    with pytest.raises(StudyNotFoundError) as info:
        study.optimize(objective, n_trials=3)
    assert "gone" in str(info.value)
    assert isinstance(info.value, ValueError) and isinstance(info.value, KeyError)
    assert calls == []
    with pytest.raises(StudyNotFoundError):
        study.ask()
    # A new study of the same name is another study.
    again = ferrotune.create_study(storage=storage, study_name="gone")
    with pytest.raises(StudyNotFoundError):
        study.ask()
    assert again.ask().number == 0


def test_a_deleted_database_study_refuses_ask(tmp_path: Any) -> None:
    """Database storages: a study deleted through another object refuses ask."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = ferrotune.create_study(storage=url, study_name="gone")
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=2)
    ferrotune.delete_study(study_name="gone", storage=url)
    with pytest.raises(StudyNotFoundError):
        study.optimize(lambda t: 0.0, n_trials=1)


@pytest.mark.parametrize("state", [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL])
def test_a_finished_trial_cannot_be_changed(state: TrialState) -> None:
    """``set_user_attr`` after tell was accepted. Every change to a finished trial
    raises UpdateFinishedTrialError (Optuna's name), and the record stays as it was."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    trial = study.ask()
    x = trial.suggest_float("x", 0, 1)
    trial.set_user_attr("before", 1)
    study.tell(trial, 1.0 if state == TrialState.COMPLETE else None, state=state)
    changes = [
        lambda: trial.set_user_attr("after", 2),
        lambda: trial.set_system_attr("after", 2),
        lambda: trial.report(0.5, 1),
        lambda: trial.suggest_float("new", 0, 1),
        lambda: trial.suggest_int("n", 0, 3),
        lambda: trial.suggest_categorical("c", ["a", "b"]),
        lambda: trial.set_constraint("c0", 0.0),
        lambda: study.tell(trial, 2.0),
        lambda: study.tell(trial.number, state=TrialState.FAIL),
    ]
    for change in changes:
        with pytest.raises(UpdateFinishedTrialError) as info:
            change()
        assert isinstance(info.value, RuntimeError) and isinstance(info.value, ValueError)
    # Reading the value it already has is still allowed, as in Optuna.
    assert trial.suggest_float("x", 0, 1) == x
    frozen = study.trials[0]
    assert frozen.state == state
    assert frozen.user_attrs == {"before": 1}
    assert frozen.params == {"x": x}
    assert frozen.intermediate_values == {}


def test_a_trial_finished_by_another_worker_cannot_be_told_again(tmp_path: Any) -> None:
    """Database storages: the database decides; a second tell through another
    worker's Study object (whose record is stale) raises UpdateFinishedTrialError."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    a = ferrotune.create_study(storage=url, study_name="s")
    b = ferrotune.load_study(study_name="s", storage=url)
    trial = a.ask()
    b.trials  # noqa: B018 - b's record now holds the RUNNING trial
    a.tell(trial, 1.0)
    with pytest.raises(UpdateFinishedTrialError):
        b.tell(trial.number, 2.0)
    assert [t.values for t in a.trials] == [[1.0]]
    assert [t.values for t in b.trials] == [[1.0]]


# ------------------------------------------------------------------ tell's trial argument


@pytest.mark.parametrize(
    ("bad", "error"),
    [
        (-1, InvalidTrialError),
        (3, InvalidTrialError),
        (2**70, InvalidTrialError),
        ("0", InvalidArgumentError),
        (0.0, InvalidArgumentError),
        (None, InvalidArgumentError),
        (True, InvalidArgumentError),
    ],
)
def test_tell_names_a_bad_trial_argument(bad: Any, error: type) -> None:
    """``tell(-1)`` gave OverflowError, ``tell("0")`` AttributeError."""
    study = ferrotune.create_study()
    study.ask()
    with pytest.raises(error) as info:
        study.tell(bad, 1.0)
    assert isinstance(info.value, ValueError)
    assert repr(bad)[:10] in str(info.value) or str(bad) in str(info.value)
    assert [t.state for t in study.trials] == [TrialState.RUNNING]


def test_tell_accepts_numpy_integers_and_refuses_another_studys_trial() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    assert study.tell(np.int64(trial.number), 1.0).state == TrialState.COMPLETE
    other = ferrotune.create_study()
    foreign = other.ask()
    study.ask()
    with pytest.raises(InvalidArgumentError, match="another study"):
        study.tell(foreign, 1.0)


def test_tell_refuses_an_unknown_state() -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    with pytest.raises(InvalidArgumentError):
        study.tell(trial, state=TrialState.RUNNING)
    with pytest.raises(InvalidArgumentError):
        study.tell(trial, state=17)  # type: ignore[arg-type]
    assert study.trials[0].state == TrialState.RUNNING


# ---------------------------------------------------------------- Optuna's positional ask


def test_ask_takes_optunas_positional_dict() -> None:
    """Optuna's ask-and-tell tutorial passes the distributions positionally."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    distributions = {
        "C": FloatDistribution(1e-7, 10.0, log=True),
        "solver": CategoricalDistribution(["lbfgs", "saga"]),
        "n": IntDistribution(1, 9, step=2),
    }
    for _ in range(20):
        trial = study.ask(distributions)
        assert set(trial.params) == {"C", "solver", "n"}
        assert 1e-7 <= trial.params["C"] <= 10.0
        assert trial.params["solver"] in ("lbfgs", "saga")
        assert trial.params["n"] in (1, 3, 5, 7, 9)
        study.tell(trial, trial.params["C"])
    assert study.ask(fixed_distributions=distributions).params.keys() == distributions.keys()


@pytest.mark.parametrize(
    "bad",
    [42, "x", [FloatDistribution(0, 1)], {"x": (0, 1)}, {1: FloatDistribution(0, 1)}],
)
def test_ask_refuses_what_is_neither_a_space_nor_distributions(bad: Any) -> None:
    study = ferrotune.create_study()
    with pytest.raises(InvalidArgumentError):
        study.ask(bad)
    assert study.trials == []


def test_ask_refuses_distributions_given_twice() -> None:
    study = ferrotune.create_study()
    d = {"x": FloatDistribution(0, 1)}
    with pytest.raises(InvalidArgumentError):
        study.ask(d, fixed_distributions=d)
    assert study.trials == []


def test_every_new_error_is_a_ferrotune_error() -> None:
    for cls in (StudyNotFoundError, UpdateFinishedTrialError):
        assert issubclass(cls, FerrotuneError) and issubclass(cls, ValueError)


# ------------------------------------------------------ enqueued values, numpy and ranges


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_enqueued_numpy_scalars_are_stored_on_every_storage(kind: str, tmp_path: Any) -> None:
    """numpy scalars in enqueue_trial failed on SQLite (not JSON serialisable)."""
    storage: Any = None
    if kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    study = ferrotune.create_study(storage=storage)
    study.enqueue_trial({"n": np.int64(3), "x": np.float32(0.5), "b": np.bool_(True)})
    t = study.ask()
    assert t.suggest_int("n", 0, 5) == 3 and type(t.params["n"]) is int
    assert t.suggest_float("x", 0, 1) == 0.5
    assert t.suggest_categorical("b", [True, False]) is True
    with pytest.raises(InvalidArgumentError):
        study.enqueue_trial([("x", 1)])  # type: ignore[arg-type]


def test_out_of_range_enqueued_value_on_a_declared_space_warns_and_goes_on() -> None:
    """An enqueued value outside its distribution warns and records the nearest
    valid value, on a declared space as with suggest_* (with a Python sampler too)."""

    class Uniform(ferrotune.samplers.BaseSampler):
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return dist.to_external_repr(dist._core.from_unit(0.5))

    space = ferrotune.SearchSpace({"x": FloatDistribution(0, 1), "n": IntDistribution(0, 10)})
    for sampler in (RandomSampler(seed=0), Uniform()):
        study = ferrotune.create_study(sampler=sampler)
        study.enqueue_trial({"x": 7.0, "n": -3})
        with pytest.warns(UserWarning):
            t = study.ask(space)
        assert t.params["x"] == 1.0 and t.params["n"] == 0


@pytest.mark.parametrize("make", [lambda: RandomSampler(seed=0), lambda: TPESampler(seed=0)])
def test_a_log_range_a_few_ulps_wide_reaches_its_low_end(make: Any) -> None:
    """Found by hypothesis: exp(ln(9)) != 9, so a log range [9, 9 + 1 ulp] never gave
    9.0 and a predicate ``p0 <= 9`` made the space look infeasible."""
    high = float(np.nextafter(9.0, 10.0))
    space = ferrotune.SearchSpace(
        {"p0": FloatDistribution(9.0, high, log=True)}, constraints=[lambda p: p["p0"] <= 9.0]
    )
    study = ferrotune.create_study(sampler=make())
    for _ in range(15):
        t = study.ask(space)
        assert t.params["p0"] == 9.0
        study.tell(t, 0.0)


def test_numpy_integers_are_integer_bounds() -> None:
    """numpy integers are integers (as in Optuna): bounds, steps and suggest_int."""
    d = IntDistribution(np.int64(0), np.int32(10), step=np.int64(2))
    assert (d.low, d.high, d.step) == (0, 10, 2)
    t = ferrotune.create_study().ask()
    assert 0 <= t.suggest_int("n", np.int64(0), np.int64(4)) <= 4
    with pytest.raises(ferrotune.exceptions.InvalidDistributionError):
        IntDistribution(np.bool_(False), 3)


def test_tell_a_trial_asked_through_another_study_object_of_the_same_study(
    tmp_path: Any,
) -> None:
    """Two Study objects of one database study are two workers: either may tell a trial
    the other asked (found by the API fuzz test, tests/test_fuzz_api.py)."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    a = ferrotune.create_study(storage=url, study_name="s")
    b = ferrotune.load_study(study_name="s", storage=url)
    trial = a.ask()
    assert b.tell(trial, 1.0).state == TrialState.COMPLETE
    other = ferrotune.create_study(storage=url, study_name="other")
    with pytest.raises(InvalidArgumentError, match="another study"):
        other.tell(a.ask(), 1.0)


# ------------------------------------------------------------------ found by a code review


def test_an_objective_returning_a_huge_int_fails_its_trial() -> None:
    """10**400 raised a plain OverflowError and left the trial RUNNING."""
    study = ferrotune.create_study()
    study.optimize(lambda t: 10**400, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.FAIL] * 2
    assert study.tell(study.ask(), 10**400).state == TrialState.FAIL
    trial = study.ask()
    for bad in (lambda: trial.report(10**400, 1), lambda: trial.report(1.0, 2**70)):
        with pytest.raises(InvalidArgumentError):
            bad()


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_system_exit_in_an_objective_leaves_no_running_trial(n_jobs: int) -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))

    def objective(t: ferrotune.Trial) -> float:
        x = t.suggest_float("x", 0, 1)
        if t.number == 3:
            raise SystemExit(1)
        return x

    with pytest.raises(SystemExit):
        study.optimize(objective, n_trials=20, n_jobs=n_jobs)
    states = [t.state for t in study.trials]
    assert TrialState.RUNNING not in states and TrialState.FAIL in states


def test_a_sampler_whose_after_trial_raises_leaves_no_running_trial() -> None:
    class Broken(ferrotune.samplers.RandomSampler):
        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            raise RuntimeError("after_trial failed")

    study = ferrotune.create_study(sampler=Broken(seed=0))
    with pytest.raises(RuntimeError, match="after_trial failed"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    # As Optuna's tell: the trial is recorded as told (here COMPLETE with its value)
    # before the hook's error goes on, so the evaluation is not lost.
    assert [t.state for t in study.trials] == [TrialState.COMPLETE]
    assert study.trials[0].values == [study.trials[0].params["x"]]


def test_every_operation_on_a_deleted_in_memory_study_raises() -> None:
    """After delete_study, tell and add_trial were silently lost and the rest
    raised KeyError."""
    storage = ferrotune.storages.InMemoryStorage()
    study = ferrotune.create_study(storage=storage, study_name="gone")
    trial = study.ask()
    study.tell(study.ask(), 1.0)
    done = study.trials[1]
    ferrotune.delete_study(study_name="gone", storage=storage)
    for op in (
        lambda: study.tell(trial, 1.0),
        lambda: study.add_trial(done),
        lambda: study.enqueue_trial({"x": 1.0}),
        lambda: study.set_user_attr("k", 1),
        lambda: study.trials,
        lambda: study.best_trial,
        lambda: study.best_trials,
    ):
        with pytest.raises(StudyNotFoundError):
            op()


def test_add_trial_refuses_what_is_not_a_frozen_trial() -> None:
    study = ferrotune.create_study()
    with pytest.raises(InvalidArgumentError, match="FrozenTrial"):
        study.add_trial(5)  # type: ignore[arg-type]
    assert study.trials == []


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_enqueue_skip_if_exists_sees_trials_enqueued_by_another_worker(
    kind: str, tmp_path: Any
) -> None:
    """As Optuna, an enqueued trial's fixed parameters count as its values."""
    storage: Any = ferrotune.storages.InMemoryStorage()
    if kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        storage = f"sqlite:///{tmp_path / 'db.sqlite'}"
    a = ferrotune.create_study(storage=storage, study_name="s")
    b = ferrotune.load_study(study_name="s", storage=storage)
    a.enqueue_trial({"x": 0.5}, skip_if_exists=True)
    b.enqueue_trial({"x": 0.5}, skip_if_exists=True)
    a.enqueue_trial({"x": 0.25}, skip_if_exists=True)
    assert [t.system_attrs["fixed_params"] for t in a.trials] == [{"x": 0.5}, {"x": 0.25}]


def test_a_sampler_stuck_on_an_infeasible_region_does_not_stall_a_declared_space() -> None:
    """New-user report: PartialFixedSampler(TPE) on a declared space took minutes per
    trial: the Python-path rejection loop asked the model up to 100,000 times (and an
    outer loop repeated it for predicates). The sampler now proposes a bounded number of
    candidates, then uniform draws take over; predicates are checked in the same loop."""
    from ferrotune import Divisible

    calls = []

    class Stubborn(ferrotune.samplers.BaseSampler):
        """Always proposes the infeasible corner (12 heads, 6 layers)."""

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            calls.append(name)
            return dist.to_external_repr(dist._core.from_unit(0.999999))

    space = ferrotune.SearchSpace(
        {
            "d_model": CategoricalDistribution([128, 256, 512]),
            "n_heads": CategoricalDistribution([4, 8, 16, 12]),
            "layers": IntDistribution(2, 6),
        },
        constraints=[Divisible("d_model", "n_heads"), lambda p: p["layers"] * p["d_model"] <= 2048],
    )
    study = ferrotune.create_study(sampler=Stubborn())
    for _ in range(5):
        study.enqueue_trial({"d_model": 512})
        t = study.ask(space)
        assert t.params["d_model"] == 512 and 512 % t.params["n_heads"] == 0
        assert t.params["layers"] * 512 <= 2048
        study.tell(t, 0.0)
    # At most 32 candidates per trial come from the sampler (two free parameters each).
    assert len(calls) <= 5 * 32 * 2
    study.enqueue_trial({"d_model": 512, "n_heads": 12})
    with pytest.raises(ferrotune.exceptions.InfeasibleSpaceError, match="fixed values"):
        study.ask(space)


def test_small_points_of_the_new_user_report() -> None:
    """Each of these surprised a new user (an Optuna user would expect Optuna's answer)."""
    study = ferrotune.create_study()
    trial = study.ask()
    # tell(state=COMPLETE) without values: an error, and the trial stays RUNNING.
    with pytest.raises(InvalidArgumentError):
        study.tell(trial, state=TrialState.COMPLETE)
    assert study.trials[0].state == TrialState.RUNNING
    # A parameter name that is not a str.
    with pytest.raises(InvalidArgumentError, match="name must be a str"):
        trial.suggest_float(3, 0, 1)  # type: ignore[arg-type]
    # optimize() of something that is not a function records nothing.
    with pytest.raises(InvalidArgumentError):
        study.optimize(42, n_trials=1)  # type: ignore[arg-type]
    assert len(study.trials) == 1
    with pytest.raises(InvalidArgumentError):
        ferrotune.logging.set_verbosity("loud")  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="NaN"):
        ferrotune.samplers.GridSampler({"x": [1.0, math.nan]})
    assert str(TrialState.COMPLETE) == "TrialState.COMPLETE"


def test_trials_dataframe_uses_the_metric_names() -> None:
    pytest.importorskip("pandas")
    multi = ferrotune.create_study(directions=["minimize", "maximize"])
    multi.set_metric_names(["loss", "acc"])
    multi.tell(multi.ask(), [1.0, 2.0])
    df = multi.trials_dataframe()
    assert list(df["values_loss"]) == [1.0] and list(df["values_acc"]) == [2.0]
    single = ferrotune.create_study()
    single.tell(single.ask(), 3.0)
    assert list(single.trials_dataframe()["value"]) == [3.0]
    single.set_metric_names(["rmse"])
    assert list(single.trials_dataframe()["value_rmse"]) == [3.0]


_SIZES = [
    ("TPESampler", "n_ei_candidates", 100_000),
    ("GASampler", "population_size", 100_000),
    ("GASampler", "tournament_size", 100_000),
    ("RFSampler", "n_trees", 10_000),
    ("RFSampler", "n_candidates", 1_000_000),
    ("RFSampler", "n_local_search", 100_000),
    ("CmaEsSampler", "popsize", 100_000),
    ("CmaEsSampler", "inc_popsize", 100),
    ("DESampler", "population_size", 100_000),
    ("DESampler", "memory_size", 100_000),
    ("PSOSampler", "swarm_size", 100_000),
    ("BOHBSampler", "num_samples", 100_000),
]


@pytest.mark.parametrize(("cls", "arg", "cap"), _SIZES)
def test_sizes_the_rust_core_allocates_are_bounded(cls: str, arg: str, cap: int) -> None:
    """A size beyond memory used to abort the interpreter in Rust (an allocation
    failure is not a catchable panic); it is refused, naming the argument."""
    import ferrotune.samplers as samplers
    from ferrotune.exceptions import InvalidArgumentError

    make = getattr(samplers, cls)
    make(**{arg: cap})
    for bad in (cap + 1, 10**12, 10**18):
        with pytest.raises(InvalidArgumentError, match=arg):
            make(**{arg: bad})


def test_dehb_refuses_brackets_beyond_a_billion_configurations() -> None:
    from ferrotune.exceptions import InvalidArgumentError
    from ferrotune.samplers import DEHBSampler

    DEHBSampler(min_resource=2, max_resource=2 * 10**9)
    with pytest.raises(InvalidArgumentError, match="max_resource"):
        DEHBSampler(min_resource=2, max_resource=2 * 10**9 + 1)

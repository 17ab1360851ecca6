"""Study: Optuna's semantics for directions, ask/tell, results, queues and storage."""

from __future__ import annotations

import copy
import datetime
import math
import pickle
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune import StudyDirection, TrialState
from ferrotune.distributions import CategoricalDistribution, FloatDistribution, IntDistribution
from ferrotune.exceptions import (
    DuplicatedStudyError,
    InvalidArgumentError,
    InvalidTrialError,
)
from ferrotune.samplers import RandomSampler
from ferrotune.storages import InMemoryStorage


# ----------------------------------------------------------------------- directions
@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, [StudyDirection.MINIMIZE]),
        ({"direction": "maximize"}, [StudyDirection.MAXIMIZE]),
        ({"direction": StudyDirection.MAXIMIZE}, [StudyDirection.MAXIMIZE]),
        (
            {"directions": ["minimize", "maximize"]},
            [StudyDirection.MINIMIZE, StudyDirection.MAXIMIZE],
        ),
    ],
)
def test_directions(kwargs: dict[str, Any], expected: list[StudyDirection]) -> None:
    study = ferrotune.create_study(**kwargs)
    assert study.directions == expected
    if len(expected) == 1:
        assert study.direction == expected[0]
    else:
        with pytest.raises(ValueError):
            _ = study.direction


# ------------------------------------------------------------------------- ask/tell
def test_ask_tell_round_trip() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    trial = study.ask()
    x = trial.suggest_float("x", -1.0, 1.0)
    assert study.trials[0].state == TrialState.RUNNING
    frozen = study.tell(trial, x**2)
    assert frozen.state == TrialState.COMPLETE
    assert frozen.value == x**2 and frozen.values == [x**2]
    assert frozen.params == {"x": x}
    assert isinstance(frozen.datetime_complete, datetime.datetime)
    assert frozen.duration is not None and frozen.duration >= datetime.timedelta(0)
    assert study.trials[0].value == x**2


def test_tell_by_number_and_with_states() -> None:
    study = ferrotune.create_study()
    a, b, c = study.ask(), study.ask(), study.ask()
    study.tell(a.number, 1.0)
    study.tell(b, state=TrialState.PRUNED)
    study.tell(c, state=TrialState.FAIL)
    assert [t.state for t in study.trials] == [
        TrialState.COMPLETE,
        TrialState.PRUNED,
        TrialState.FAIL,
    ]
    assert study.trials[1].values is None and study.trials[2].values is None


@pytest.mark.parametrize("first", [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL])
def test_tell_on_a_finished_trial_raises(first: TrialState) -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    study.tell(trial, 1.0 if first == TrialState.COMPLETE else None, state=first)
    for again in (
        lambda: study.tell(trial, 2.0),
        lambda: study.tell(trial.number, 2.0),
        lambda: study.tell(trial, state=TrialState.FAIL),
        lambda: study.tell(trial, math.nan),
    ):
        with pytest.raises(InvalidTrialError) as info:
            again()
        assert isinstance(info.value, ValueError)
    assert study.trials[0].state == first
    frozen = study.tell(trial, 3.0, skip_if_finished=True)
    assert frozen.state == first


def test_tell_unknown_trial_number_raises() -> None:
    study = ferrotune.create_study()
    with pytest.raises(InvalidTrialError):
        study.tell(5, 1.0)


@pytest.mark.parametrize(
    "bad",
    [math.nan, [1.0, 2.0], [], "abc", None, [math.nan]],
    ids=["nan", "two-values", "no-values", "string", "none-in-list", "list-nan"],
)
def test_bad_values_mark_the_trial_failed(bad: Any) -> None:
    study = ferrotune.create_study()
    trial = study.ask()
    value = [None] if bad is None else bad
    frozen = study.tell(trial, value)
    assert frozen.state == TrialState.FAIL
    assert frozen.values is None
    with pytest.raises(ValueError):
        _ = study.best_trial


def test_wrong_number_of_values_in_a_multi_objective_study_fails() -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"])
    assert study.tell(study.ask(), 1.0).state == TrialState.FAIL
    assert study.tell(study.ask(), [1.0, 2.0, 3.0]).state == TrialState.FAIL
    assert study.tell(study.ask(), [1.0, 2.0]).state == TrialState.COMPLETE


def test_numpy_and_int_values_are_accepted() -> None:
    np = pytest.importorskip("numpy")
    study = ferrotune.create_study()
    assert study.tell(study.ask(), np.float32(0.5)).values == [0.5]
    assert study.tell(study.ask(), 3).values == [3.0]


# ------------------------------------------------------------------------- best_*
@given(
    values=st.lists(
        st.one_of(st.floats(-1e6, 1e6), st.just(math.nan), st.none()), min_size=1, max_size=30
    ),
    direction=st.sampled_from(["minimize", "maximize"]),
)
def test_best_trial_matches_an_independent_computation(
    values: list[float | None], direction: str
) -> None:
    study = ferrotune.create_study(direction=direction)
    for v in values:
        t = study.ask()
        t.suggest_float("x", 0.0, 1.0)
        if v is None:
            study.tell(t, state=TrialState.PRUNED)
        else:
            study.tell(t, v)
    complete = [(i, v) for i, v in enumerate(values) if v is not None and math.isfinite(v)]
    if not complete:
        with pytest.raises(ValueError):
            _ = study.best_trial
        return
    sign = 1.0 if direction == "minimize" else -1.0
    best_value = min(sign * v for _, v in complete) * sign
    first_best = next(i for i, v in complete if v == best_value)
    assert study.best_value == best_value
    assert study.best_trial.number == first_best
    assert study.best_params == study.trials[first_best].params


def test_best_trial_on_multi_objective_study_raises() -> None:
    study = ferrotune.create_study(directions=["minimize", "minimize"])
    study.tell(study.ask(), [1.0, 2.0])
    with pytest.raises(ValueError):
        _ = study.best_trial
    with pytest.raises(ValueError):
        _ = study.trials[0].value
    assert study.trials[0].values == [1.0, 2.0]


@given(
    points=st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 6)).map(lambda p: (float(p[0]), float(p[1]))),
        min_size=1,
        max_size=25,
    ),
    directions=st.tuples(
        st.sampled_from(["minimize", "maximize"]), st.sampled_from(["minimize", "maximize"])
    ),
)
def test_best_trials_is_the_pareto_front(
    points: list[tuple[float, float]], directions: tuple[str, str]
) -> None:
    study = ferrotune.create_study(directions=list(directions))
    for p in points:
        study.tell(study.ask(), list(p))
    study.tell(study.ask(), state=TrialState.FAIL)
    signs = [1.0 if d == "minimize" else -1.0 for d in directions]

    def dominates(a: tuple[float, float], b: tuple[float, float]) -> bool:
        sa = [s * x for s, x in zip(signs, a, strict=True)]
        sb = [s * x for s, x in zip(signs, b, strict=True)]
        return all(x <= y for x, y in zip(sa, sb, strict=True)) and sa != sb

    expected = {i for i, p in enumerate(points) if not any(dominates(q, p) for q in points)}
    assert {t.number for t in study.best_trials} == expected
    for t in study.best_trials:
        assert t.state == TrialState.COMPLETE


# ---------------------------------------------------------------- enqueue / add_trial
def test_enqueue_trial_fixes_listed_params_and_samples_the_others() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=1))
    study.enqueue_trial({"x": 0.25, "act": "gelu", "n": 4}, user_attrs={"source": "prior"})
    study.enqueue_trial({"x": 0.75})
    seen = []

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        act = trial.suggest_categorical("act", ["relu", "gelu"])
        n = trial.suggest_int("n", 1, 8)
        y = trial.suggest_float("y", -1.0, 1.0)
        seen.append((x, act, n, y))
        return x

    study.optimize(objective, n_trials=4)
    assert seen[0][:3] == (0.25, "gelu", 4)
    assert seen[1][0] == 0.75
    assert -1.0 <= seen[0][3] <= 1.0 and -1.0 <= seen[1][3] <= 1.0
    assert study.trials[0].user_attrs == {"source": "prior"}
    assert [t.state for t in study.trials] == [TrialState.COMPLETE] * 4
    # Unlisted parameters are sampled: the two enqueued trials do not share y.
    assert seen[0][3] != seen[1][3]


def test_enqueued_trial_is_waiting_until_asked() -> None:
    study = ferrotune.create_study()
    study.enqueue_trial({"x": 0.5})
    assert [t.state for t in study.trials] == [TrialState.WAITING]
    assert study.get_trials(states=(TrialState.WAITING,))[0].number == 0
    trial = study.ask()
    assert trial.number == 0
    assert trial.suggest_float("x", 0.0, 1.0) == 0.5


def test_enqueued_value_outside_the_distribution_warns() -> None:
    """As Optuna, an out-of-range enqueued value warns and the trial
    goes on (ferrotune records the nearest value of the distribution)."""
    study = ferrotune.create_study()
    study.enqueue_trial({"x": 2.0})
    trial = study.ask()
    with pytest.warns(UserWarning, match=r"parameter 'x'.*out of range"):
        assert trial.suggest_float("x", 0.0, 1.0) == 1.0


def test_enqueue_skip_if_exists() -> None:
    study = ferrotune.create_study()
    study.enqueue_trial({"x": 0.1})
    study.enqueue_trial({"x": 0.1}, skip_if_exists=True)
    assert len(study.trials) == 1
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=1)
    study.enqueue_trial({"x": 0.1}, skip_if_exists=True)
    assert len(study.trials) == 1
    study.enqueue_trial({"x": 0.2}, skip_if_exists=True)
    assert len(study.trials) == 2


def test_add_trial() -> None:
    source = ferrotune.create_study(sampler=RandomSampler(seed=2))

    def objective(t: ferrotune.Trial) -> float:
        t.report(0.5, 1)
        t.set_user_attr("k", "v")
        return t.suggest_float("x", 0.0, 1.0) + t.suggest_int("n", 0, 3)

    source.optimize(objective, n_trials=5)
    target = ferrotune.create_study()
    target.tell(target.ask(), 100.0)
    target.add_trial(source.best_trial)
    added = target.trials[1]
    assert added.number == 1
    assert added.state == TrialState.COMPLETE
    assert added.params == source.best_trial.params
    assert added.distributions == source.best_trial.distributions
    assert added.value == source.best_value
    assert added.intermediate_values == {1: 0.5}
    assert added.user_attrs == {"k": "v"}
    assert target.best_trial.number == 1


def test_add_trial_built_by_hand() -> None:
    study = ferrotune.create_study(direction="maximize")
    frozen = ferrotune.FrozenTrial(
        number=0,
        state=TrialState.COMPLETE,
        value=7.0,
        datetime_start=None,
        datetime_complete=None,
        params={"x": 0.5, "c": "b"},
        distributions={"x": FloatDistribution(0, 1), "c": CategoricalDistribution(["a", "b"])},
        user_attrs={},
        system_attrs={},
        intermediate_values={},
    )
    study.add_trials([frozen])
    assert study.best_params == {"x": 0.5, "c": "b"}
    assert study.best_value == 7.0
    # The categorical's choices are now fixed for the study.
    trial = study.ask()
    with pytest.raises(ValueError, match=r"parameter 'c'"):
        trial.suggest_categorical("c", ["x", "y"])


def test_add_trial_refuses_running_trials() -> None:
    study = ferrotune.create_study()
    study.ask()
    with pytest.raises(InvalidArgumentError, match="RUNNING"):
        study.add_trial(study.trials[0])
    assert len(study.trials) == 1


@pytest.mark.parametrize("kind", ["memory", "sqlite", "journal"])
def test_add_trial_keeps_times_pruned_values_and_enqueues_waiting(kind: str, tmp_path: Any) -> None:
    """As Optuna's add_trial: the trial's start and completion times and a PRUNED trial's
    value are kept, in every storage and after a reload; a WAITING trial is enqueued."""
    from ferrotune.trial import create_trial

    if kind == "memory":
        storage: Any = ferrotune.storages.InMemoryStorage()
    elif kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        storage = f"sqlite:///{tmp_path / 'a.db'}"
    else:
        from ferrotune.storages import JournalStorage
        from ferrotune.storages.journal import JournalFileBackend

        storage = JournalStorage(JournalFileBackend(str(tmp_path / "j.log")))
    study = ferrotune.create_study(study_name="s", storage=storage)
    dist = FloatDistribution(0, 1)
    start = datetime.datetime(2020, 1, 2, 3, 4, 5, 250000)
    done = start + datetime.timedelta(seconds=7)
    complete = create_trial(value=0.5, params={"x": 0.25}, distributions={"x": dist})
    complete.datetime_start, complete.datetime_complete = start, done
    pruned = create_trial(
        value=0.05,
        state=TrialState.PRUNED,
        params={"x": 0.5},
        distributions={"x": dist},
        intermediate_values={0: 0.05},
    )
    waiting = create_trial(
        state=TrialState.WAITING,
        params={"x": 0.75},
        distributions={"x": dist},
        user_attrs={"why": "rerun"},
    )
    for t in (complete, pruned, waiting):
        study.add_trial(t)
    for s in (study, ferrotune.load_study(study_name="s", storage=storage)):
        a, b, c = s.trials
        assert (a.datetime_start, a.datetime_complete, a.duration) == (
            start,
            done,
            datetime.timedelta(seconds=7),
        )
        assert (b.state, b.value) == (TrialState.PRUNED, 0.05)
        assert (c.state, c.user_attrs) == (TrialState.WAITING, {"why": "rerun"})
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)
    assert study.trials[2].params == {"x": 0.75} and study.trials[2].state == TrialState.COMPLETE
    # A trial that enqueue_trial made holds its values in fixed_params: kept by a copy.
    study.enqueue_trial({"x": 0.3})
    ferrotune.copy_study(
        from_study_name="s", from_storage=storage, to_storage=(copy := InMemoryStorage())
    )
    copied = ferrotune.load_study(study_name="s", storage=copy)
    assert copied.trials[-1].state == TrialState.WAITING
    assert copied.ask().suggest_float("x", 0, 1) == 0.3
    # A WAITING trial's intermediate values are not kept: said, not dropped silently.
    reported = create_trial(
        state=TrialState.WAITING,
        params={"x": 0.25},
        distributions={"x": dist},
        intermediate_values={1: 0.5},
    )
    with pytest.warns(UserWarning, match="1 intermediate values are not kept"):
        study.add_trial(reported)
    assert study.trials[-1].state == TrialState.WAITING
    assert study.trials[-1].intermediate_values == {}
    # No start time: a trial of no duration; an end before the start: refused.
    timeless = create_trial(value=1.0)
    timeless.datetime_start = None
    study.add_trial(timeless)
    assert study.trials[-1].duration == datetime.timedelta(0)
    backwards = create_trial(value=1.0)
    backwards.datetime_start = backwards.datetime_complete + datetime.timedelta(seconds=1)
    with pytest.raises(InvalidArgumentError, match="before it started"):
        study.add_trial(backwards)


# ------------------------------------------------------------------- reading results
def test_get_trials_filters_by_state() -> None:
    study = ferrotune.create_study()
    study.tell(study.ask(), 1.0)
    study.tell(study.ask(), state=TrialState.PRUNED)
    study.tell(study.ask(), state=TrialState.FAIL)
    study.ask()
    study.enqueue_trial({})
    by_state = {
        s: [t.number for t in study.get_trials(states=(s,))]
        for s in (
            TrialState.COMPLETE,
            TrialState.PRUNED,
            TrialState.FAIL,
            TrialState.RUNNING,
            TrialState.WAITING,
        )
    }
    assert by_state == {
        TrialState.COMPLETE: [0],
        TrialState.PRUNED: [1],
        TrialState.FAIL: [2],
        TrialState.RUNNING: [3],
        TrialState.WAITING: [4],
    }
    both = study.get_trials(states=[TrialState.COMPLETE, TrialState.FAIL])
    assert [t.number for t in both] == [0, 2]
    assert len(study.get_trials()) == 5


def test_trials_are_snapshots() -> None:
    study = ferrotune.create_study()
    study.tell(study.ask(), 1.0)
    snapshot = study.trials[0]
    snapshot.params["x"] = 99
    assert study.trials[0].params == {}


def test_best_trial_can_be_copied_and_pickled() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    best = study.best_trial
    assert copy.deepcopy(best) == best
    assert pickle.loads(pickle.dumps(best)) == best


def test_trials_dataframe_single_objective() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=3))

    def objective(t: ferrotune.Trial) -> float:
        t.set_user_attr("tag", t.number * 10)
        x = t.suggest_float("x", 0.0, 1.0)
        if t.number == 2:
            t.suggest_int("extra", 0, 3)
        if t.number == 3:
            raise ferrotune.TrialPruned
        return x

    study.optimize(objective, n_trials=4)
    df = study.trials_dataframe()
    assert len(df) == 4
    assert list(df["number"]) == [0, 1, 2, 3]
    assert list(df["state"]) == ["COMPLETE", "COMPLETE", "COMPLETE", "PRUNED"]
    for col in ("value", "datetime_start", "datetime_complete", "duration", "params_x"):
        assert col in df.columns
    assert list(df["user_attrs_tag"]) == [0, 10, 20, 30]
    assert list(df["params_x"]) == [t.params["x"] for t in study.trials]
    assert list(df["value"])[:3] == [t.value for t in study.trials[:3]]
    assert math.isnan(df["value"][3])
    extra = list(df["params_extra"])
    assert math.isnan(extra[0]) and extra[2] == study.trials[2].params["extra"]
    only = study.trials_dataframe(attrs=("number", "params"))
    assert set(only.columns) == {"number", "params_x", "params_extra"}


def test_trials_dataframe_multi_objective() -> None:
    study = ferrotune.create_study(directions=["minimize", "maximize"])
    study.tell(study.ask(), [1.0, 2.0])
    df = study.trials_dataframe()
    assert list(df["values_0"]) == [1.0] and list(df["values_1"]) == [2.0]
    assert "value" not in df.columns


def test_trials_dataframe_columns_follow_attrs_as_optuna() -> None:
    """Optuna's rules: the attributes' order, each group sorted, "value" meaning "values"
    with several objectives and "values" giving values_0 with one; other FrozenTrial
    fields as columns; an unknown one refused; no trials, an empty frame."""
    pytest.importorskip("pandas")
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    assert study.trials_dataframe().empty
    for i in range(3):
        t = study.ask()
        t.suggest_float("b", 0, 1)
        if i == 2:  # a parameter first seen in a later trial stays with the params
            t.suggest_int("a", 0, 3)
        t.report(0.5, 1)
        study.tell(t, float(i))
    df = study.trials_dataframe()
    assert list(df.columns) == [
        "number", "value", "datetime_start", "datetime_complete", "duration",
        "params_a", "params_b", "state",
    ]  # fmt: skip
    assert list(study.trials_dataframe(attrs=("state", "number")).columns) == ["state", "number"]
    assert list(study.trials_dataframe(attrs=("number", "values")).columns) == [
        "number",
        "values_0",
    ]
    extra = study.trials_dataframe(attrs=("number", "distributions", "last_step"))
    assert list(extra.columns) == ["number", "distributions_a", "distributions_b", "last_step"]
    assert extra["last_step"].tolist() == [1, 1, 1]
    with pytest.raises(InvalidArgumentError, match="no_such"):
        study.trials_dataframe(attrs=("number", "no_such"))

    mo = ferrotune.create_study(directions=["minimize", "maximize"])
    t = mo.ask()
    t.suggest_float("x", 0, 1)
    mo.tell(t, [1.0, 2.0])
    df = mo.trials_dataframe(attrs=("number", "value", "params", "state"))
    assert list(df.columns) == ["number", "values_0", "values_1", "params_x", "state"]
    assert df["values_1"].tolist() == [2.0]


def test_study_user_attrs() -> None:
    study = ferrotune.create_study()
    study.set_user_attr("dataset", "electricity")
    study.set_user_attr("dataset", "traffic")
    study.set_system_attr("s", 1)
    assert study.user_attrs == {"dataset": "traffic"}
    assert study.system_attrs == {"s": 1}


# ---------------------------------------------------------------------------- storage
def test_load_study_shares_the_storage() -> None:
    storage = InMemoryStorage()
    study = ferrotune.create_study(storage=storage, study_name="shared", direction="maximize")
    study.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=3)
    study.set_user_attr("k", 1)
    loaded = ferrotune.load_study(study_name="shared", storage=storage)
    assert loaded.direction == StudyDirection.MAXIMIZE
    assert [t.params for t in loaded.trials] == [t.params for t in study.trials]
    assert loaded.best_trial.number == study.best_trial.number
    assert loaded.user_attrs == {"k": 1}
    loaded.optimize(lambda t: t.suggest_float("x", 0.0, 1.0), n_trials=2)
    assert len(study.trials) == 5
    # Categorical choices are part of the shared study.
    study.tell(study.ask(fixed_distributions={"c": CategoricalDistribution(["a", "b"])}), 0.0)
    with pytest.raises(ValueError, match=r"parameter 'c'"):
        loaded.ask().suggest_categorical("c", ["a", "z"])


def test_load_study_without_a_name_needs_exactly_one_study() -> None:
    storage = InMemoryStorage()
    ferrotune.create_study(storage=storage, study_name="only")
    assert ferrotune.load_study(study_name=None, storage=storage).study_name == "only"
    ferrotune.create_study(storage=storage, study_name="second")
    with pytest.raises(InvalidArgumentError):
        ferrotune.load_study(study_name=None, storage=storage)
    with pytest.raises(InvalidArgumentError, match="missing"):
        ferrotune.load_study(study_name="missing", storage=storage)


def test_enqueued_trial_runs_in_a_study_loaded_from_the_same_storage() -> None:
    """Enqueued trials live in the storage (WAITING), as in Optuna: whichever Study
    object asks next runs them."""
    storage = InMemoryStorage()
    study = ferrotune.create_study(storage=storage, study_name="queue")
    study.enqueue_trial({"x": 0.5})
    loaded = ferrotune.load_study(study_name="queue", storage=storage)
    trial = loaded.ask()
    assert trial.number == 0
    assert trial.suggest_float("x", 0.0, 1.0) == 0.5


def test_duplicated_study_name() -> None:
    storage = InMemoryStorage()
    first = ferrotune.create_study(storage=storage, study_name="dup")
    first.tell(first.ask(), 1.0)
    with pytest.raises(DuplicatedStudyError) as info:
        ferrotune.create_study(storage=storage, study_name="dup")
    assert isinstance(info.value, ValueError)
    again = ferrotune.create_study(storage=storage, study_name="dup", load_if_exists=True)
    assert len(again.trials) == 1
    assert ferrotune.get_all_study_names(storage) == ["dup"]


def test_load_if_exists_creates_when_missing() -> None:
    storage = InMemoryStorage()
    study = ferrotune.create_study(storage=storage, study_name="new", load_if_exists=True)
    assert study.trials == []
    assert ferrotune.get_all_study_names(storage) == ["new"]


def test_generated_names_are_unique_and_delete_study() -> None:
    storage = InMemoryStorage()
    a = ferrotune.create_study(storage=storage)
    b = ferrotune.create_study(storage=storage)
    assert a.study_name != b.study_name
    assert sorted(ferrotune.get_all_study_names(storage)) == sorted([a.study_name, b.study_name])
    ferrotune.delete_study(study_name=a.study_name, storage=storage)
    assert ferrotune.get_all_study_names(storage) == [b.study_name]
    with pytest.raises(ValueError):
        ferrotune.load_study(study_name=a.study_name, storage=storage)


def test_studies_in_one_storage_are_independent() -> None:
    storage = InMemoryStorage()
    a = ferrotune.create_study(storage=storage, study_name="a")
    b = ferrotune.create_study(storage=storage, study_name="b")
    a.tell(a.ask(fixed_distributions={"p": IntDistribution(0, 3)}), 1.0)
    assert b.trials == []
    b.ask().suggest_categorical("p", ["x"])  # "p" has another kind in study a only


def test_trials_dataframe_gives_intermediate_values_and_system_attrs_when_asked() -> None:
    pytest.importorskip("pandas")
    study = ferrotune.create_study()
    study.enqueue_trial({"x": 0.5})

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        for i in range(3):
            trial.report(x * i, i)
        return x

    study.optimize(objective, n_trials=2)
    df = study.trials_dataframe(attrs=("number", "value", "intermediate_values", "system_attrs"))
    assert [c for c in df.columns if c.startswith("intermediate_values_")] == [
        "intermediate_values_0",
        "intermediate_values_1",
        "intermediate_values_2",
    ]
    assert df["intermediate_values_2"].tolist() == [2 * t.params["x"] for t in study.trials]
    assert "system_attrs_fixed_params" in df.columns  # the enqueued trial's, as Optuna
    # Not by default (ferrotune's samplers keep their bookkeeping there).
    assert not any(c.startswith(("system_attrs", "intermediate")) for c in study.trials_dataframe())


def test_tell_without_value_or_state_fails_the_trial_as_optuna(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An ask/tell loop whose objective returned None: Optuna fails the trial with a
    warning (it used to raise here and leave the trial RUNNING); COMPLETE without values
    is still refused."""
    study = ferrotune.create_study()
    trial = study.ask()
    with pytest.raises(InvalidArgumentError, match="COMPLETE"):
        study.tell(trial, state=TrialState.COMPLETE)
    assert study.trials[0].state == TrialState.RUNNING
    with caplog.at_level("WARNING", logger="ferrotune"):
        frozen = study.tell(trial, None)
    assert frozen.state == TrialState.FAIL and frozen.values is None
    assert "None" in caplog.text
    study.tell(study.ask(), 1.0)
    assert [t.state for t in study.trials] == [TrialState.FAIL, TrialState.COMPLETE]


def test_the_default_sampler_is_auto_sampler_and_finds_the_optimum() -> None:
    from ferrotune.samplers import AutoSampler

    storage = ferrotune.storages.InMemoryStorage()
    study = ferrotune.create_study(storage=storage)
    assert isinstance(study.sampler, AutoSampler)
    study.optimize(lambda t: (t.suggest_float("x", -5, 5) - 1.0) ** 2, n_trials=30)
    assert study.best_value < 1e-3
    again = ferrotune.load_study(study_name=study.study_name, storage=storage)
    assert isinstance(again.sampler, AutoSampler)

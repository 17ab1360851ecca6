"""The storage contract, run on every storage (in-memory, SQLite, PostgreSQL)."""

from __future__ import annotations

import math
import threading

import pytest

import ferrotune
from ferrotune.exceptions import (
    DuplicatedStudyError,
    InvalidArgumentError,
    InvalidTrialError,
    UpdateFinishedTrialError,
)
from ferrotune.samplers import RandomSampler, TPESampler
from ferrotune.study import StudyDirection
from ferrotune.trial import TrialState

from .conftest import StorageFactory


def _objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -5.0, 5.0)
    n = trial.suggest_int("n", 1, 8, log=True)
    act = trial.suggest_categorical("act", ["relu", "gelu", "tanh"])
    trial.report(x, 0)
    trial.report(x / 2, 1)
    trial.set_user_attr("tag", {"n": n})
    return x * x + n + (act == "relu")


def test_study_management(make_storage: StorageFactory) -> None:
    st = make_storage()
    sid = st.create_new_study([StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE], "a")
    st.create_new_study([StudyDirection.MINIMIZE], "b")
    with pytest.raises(DuplicatedStudyError):
        st.create_new_study([StudyDirection.MINIMIZE], "a")
    other = make_storage()
    assert sorted(other.get_all_study_names()) == ["a", "b"]
    assert other.get_study_id_from_name("a") == sid
    assert other.get_study_name_from_id(sid) == "a"
    assert other.get_study_directions(sid) == [StudyDirection.MAXIMIZE, StudyDirection.MINIMIZE]
    with pytest.raises(KeyError):
        other.get_study_id_from_name("nope")
    other.delete_study(sid)
    assert make_storage().get_all_study_names() == ["b"]
    generated = st.create_new_study([StudyDirection.MINIMIZE])
    assert st.get_study_name_from_id(generated).startswith("no-name-")


def test_study_attrs(make_storage: StorageFactory) -> None:
    st = make_storage()
    sid = st.create_new_study([StudyDirection.MINIMIZE], "s")
    st.set_study_user_attr(sid, "owner", {"name": "ada", "tags": [1, 2]})
    st.set_study_system_attr(sid, "v", 1)
    st.set_study_system_attr(sid, "v", 2)
    other = make_storage()
    assert other.get_study_user_attrs(sid) == {"owner": {"name": "ada", "tags": [1, 2]}}
    assert other.get_study_system_attrs(sid) == {"v": 2}


def test_optimize_and_reload(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(
        storage=make_storage(), study_name="opt", sampler=RandomSampler(seed=1)
    )
    study.optimize(_objective, n_trials=30)
    study.set_user_attr("done", True)
    loaded = ferrotune.load_study(study_name="opt", storage=make_storage())
    trials = loaded.trials
    assert [t.number for t in trials] == list(range(30))
    assert all(t.state == TrialState.COMPLETE for t in trials)
    for a, b in zip(study.trials, trials, strict=True):
        assert a.params == b.params
        assert a.values == b.values
        assert a.intermediate_values == b.intermediate_values
        assert a.user_attrs == b.user_attrs
        assert a.distributions == b.distributions
        assert b.datetime_start is not None and b.datetime_complete is not None
    assert loaded.best_value == study.best_value
    assert loaded.user_attrs == {"done": True}
    assert set(loaded._choices) == {"act"}


def test_resume_continues_numbering_and_sampler_sees_history(
    make_storage: StorageFactory,
) -> None:
    first = ferrotune.create_study(
        storage=make_storage(), study_name="r", sampler=RandomSampler(seed=0)
    )
    first.optimize(_objective, n_trials=20)
    best = first.best_value
    seen: list[int] = []

    class Spy(RandomSampler):
        def before_trial(self, study: ferrotune.Study, trial: ferrotune.FrozenTrial) -> None:
            seen.append(len(study.get_trials(states=(TrialState.COMPLETE,))))

    again = ferrotune.load_study(study_name="r", storage=make_storage(), sampler=Spy(seed=3))
    again.optimize(_objective, n_trials=5)
    numbers = [t.number for t in again.trials]
    assert numbers == list(range(25))
    assert seen[0] == 20
    assert again.best_value <= best
    assert again._core.n_trials() == 25


def test_tpe_resumes_with_old_trials(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(
        storage=make_storage(), study_name="tpe", sampler=TPESampler(seed=0, n_startup_trials=5)
    )
    study.optimize(_objective, n_trials=12)
    loaded = ferrotune.load_study(
        study_name="tpe", storage=make_storage(), sampler=TPESampler(seed=1, n_startup_trials=5)
    )
    loaded.optimize(_objective, n_trials=3)
    assert len(loaded.trials) == 15
    assert all(t.state == TrialState.COMPLETE for t in loaded.trials)


def test_ask_tell_states_and_finished_errors(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(storage=make_storage(), study_name="at")
    t0 = study.ask()
    t0.suggest_float("x", 0, 1)
    study.tell(t0, 0.5)
    with pytest.raises(InvalidTrialError, match=r"trial 0 has already finished"):
        study.tell(t0, 0.7)
    study.tell(t0, 0.7, skip_if_finished=True)
    t1 = study.ask()
    study.tell(t1, state=TrialState.PRUNED)
    t2 = study.ask()
    study.tell(t2, state=TrialState.FAIL)
    t3 = study.ask()
    study.tell(t3, float("nan"))  # a NaN value fails the trial, as in Optuna
    states = [t.state for t in ferrotune.load_study(study_name="at", storage=make_storage()).trials]
    assert states == [TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL, TrialState.FAIL]


def test_tell_from_another_process_view_is_exclusive(make_storage: StorageFactory) -> None:
    a = ferrotune.create_study(storage=make_storage(), study_name="x")
    trial = a.ask()
    b = ferrotune.load_study(study_name="x", storage=make_storage())
    b.tell(trial.number, 1.0)
    if make_storage() is a._storage:
        pytest.skip("one in-memory storage: the same core")
    with pytest.raises(InvalidTrialError):
        a.tell(trial, 2.0)
    assert a.trials[0].values == [1.0]


def test_enqueue_trial(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(storage=make_storage(), study_name="q")
    study.enqueue_trial({"x": 0.25, "act": "tanh"}, user_attrs={"why": "seed"})
    other = ferrotune.load_study(study_name="q", storage=make_storage())
    trial = other.ask()
    assert trial.suggest_float("x", 0, 1) == 0.25
    assert trial.suggest_categorical("act", ["relu", "tanh"]) == "tanh"
    assert trial.user_attrs == {"why": "seed"}
    other.tell(trial, 1.0)
    assert study.ask().number == 1


def test_enqueued_values_live_in_the_storage_only(make_storage: StorageFactory) -> None:
    """A Study that enqueues (as RetryFailedTrialCallback's does, and never asks) keeps
    nothing per enqueued trial: the storage hands the values back when the trial
    starts, to whichever Study object starts it."""
    study = ferrotune.create_study(storage=make_storage(), study_name="queue")
    numbers = [study.enqueue_trial({"x": i / 10, "act": "relu"}) for i in range(5)]
    assert numbers == list(range(5))
    assert [study.get_fixed_params(n) for n in range(5)] == [None] * 5
    assert study.enqueue_trial({"x": 0.2, "act": "relu"}, skip_if_exists=True) is None
    assert study.enqueue_trial({"x": 0.2, "act": "gelu"}, skip_if_exists=True) == 5
    other = ferrotune.load_study(study_name="queue", storage=make_storage())
    for s, n in ((study, 0), (other, 1), (study, 2)):
        trial = s.ask()
        assert trial.number == n
        assert trial.suggest_float("x", 0, 1) == n / 10
        assert trial.suggest_categorical("act", ["relu", "gelu"]) == "relu"
        s.tell(trial, 1.0)


def test_trial_attrs_and_constraints(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(storage=make_storage(), study_name="attrs")
    trial = study.ask()
    trial.set_user_attr("u", [1, "two"])
    trial.set_system_attr("s", {"k": 1.5})
    trial.set_constraint("c0", -1.0)
    trial.set_constraint("c1", 2.0)
    study.tell(trial, 3.0)
    loaded = ferrotune.load_study(study_name="attrs", storage=make_storage()).trials[0]
    assert loaded.user_attrs == {"u": [1, "two"]}
    assert loaded.system_attrs["s"] == {"k": 1.5}
    assert loaded.system_attrs["constraints"] == {"c0": -1.0, "c1": 2.0}


def test_intermediate_values_and_nan(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(storage=make_storage(), study_name="iv")
    trial = study.ask()
    trial.report(1.0, 0)
    trial.report(float("nan"), 1)
    trial.report(float("inf"), 2)
    trial.report(5.0, 0)  # kept: the first value of a step
    study.tell(trial, 1.0)
    iv = ferrotune.load_study(study_name="iv", storage=make_storage()).trials[0]
    assert iv.intermediate_values[0] == 1.0
    assert math.isnan(iv.intermediate_values[1])
    assert iv.intermediate_values[2] == math.inf


def test_multi_objective(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(
        storage=make_storage(),
        study_name="mo",
        directions=["minimize", "maximize"],
        sampler=RandomSampler(seed=0),
    )
    study.optimize(lambda t: (t.suggest_float("x", 0, 1), t.suggest_float("y", 0, 1)), 20)
    loaded = ferrotune.load_study(study_name="mo", storage=make_storage())
    assert {t.number for t in loaded.best_trials} == {t.number for t in study.best_trials}


def test_threads_share_one_storage(make_storage: StorageFactory) -> None:
    study = ferrotune.create_study(
        storage=make_storage(), study_name="th", sampler=RandomSampler(seed=0)
    )
    study.optimize(_objective, n_trials=40, n_jobs=4)
    numbers = sorted(t.number for t in study.trials)
    assert numbers == list(range(40))
    assert all(t.state == TrialState.COMPLETE for t in study.trials)


def test_two_studies_objects_interleave(make_storage: StorageFactory) -> None:
    ferrotune.create_study(storage=make_storage(), study_name="il")
    workers = [
        ferrotune.load_study(study_name="il", storage=make_storage(), sampler=RandomSampler(seed=i))
        for i in range(3)
    ]
    errors: list[BaseException] = []

    def run(s: ferrotune.Study) -> None:
        try:
            s.optimize(_objective, n_trials=15)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    final = ferrotune.load_study(study_name="il", storage=make_storage()).trials
    assert [t.number for t in final] == list(range(45))
    assert all(t.state == TrialState.COMPLETE for t in final)


def test_copy_study(make_storage: StorageFactory) -> None:
    src = ferrotune.create_study(
        storage=make_storage(), study_name="src", sampler=RandomSampler(seed=0)
    )
    src.optimize(_objective, n_trials=10)
    src.set_user_attr("k", "v")
    src.set_trial_system_attr(3, "note", {"a": [1, 2]})
    dst_storage = ferrotune.storages.InMemoryStorage()
    ferrotune.copy_study(from_study_name="src", from_storage=make_storage(), to_storage=dst_storage)
    dst = ferrotune.load_study(study_name="src", storage=dst_storage)
    assert [t.params for t in dst.trials] == [t.params for t in src.trials]
    assert [t.values for t in dst.trials] == [t.values for t in src.trials]
    assert dst.user_attrs == {"k": "v"}
    assert [t.system_attrs for t in dst.trials] == [t.system_attrs for t in src.trials]
    assert dst.trials[3].system_attrs["note"] == {"a": [1, 2]}
    back = make_storage()
    ferrotune.copy_study(
        from_study_name="src", from_storage=dst_storage, to_storage=back, to_study_name="copy"
    )
    again = ferrotune.load_study(study_name="copy", storage=make_storage())
    assert [t.params for t in again.trials] == [t.params for t in src.trials]
    # The times travel with the trials, through both copies.
    times = [(t.datetime_start, t.datetime_complete) for t in src.trials]
    assert [(t.datetime_start, t.datetime_complete) for t in again.trials] == times
    with pytest.raises(DuplicatedStudyError):
        ferrotune.copy_study(from_study_name="src", from_storage=dst_storage, to_storage=back)


def test_create_study_load_if_exists_and_delete(make_storage: StorageFactory) -> None:
    st = make_storage()
    a = ferrotune.create_study(storage=st, study_name="le", direction="maximize")
    a.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    with pytest.raises(DuplicatedStudyError):
        ferrotune.create_study(storage=make_storage(), study_name="le")
    b = ferrotune.create_study(storage=make_storage(), study_name="le", load_if_exists=True)
    assert b.direction == StudyDirection.MAXIMIZE
    assert len(b.trials) == 3
    ferrotune.delete_study(study_name="le", storage=make_storage())
    assert ferrotune.get_all_study_names(make_storage()) == []


def _fields(t: ferrotune.trial.FrozenTrial, times: bool = True) -> dict[str, object]:
    """A trial's fields, NaN spelt "nan" (NaN != NaN)."""

    def nan(v: object) -> object:
        return "nan" if isinstance(v, float) and math.isnan(v) else v

    out: dict[str, object] = {
        "number": t.number,
        "state": t.state,
        "values": None if t.values is None else [nan(v) for v in t.values],
        "params": {k: (type(v), v) for k, v in t.params.items()},
        "distributions": t.distributions,
        "intermediate_values": {k: nan(v) for k, v in t.intermediate_values.items()},
        "user_attrs": t.user_attrs,
        "system_attrs": t.system_attrs,
    }
    if times:
        out["datetime_start"] = t.datetime_start
        out["datetime_complete"] = t.datetime_complete
    return out


def _mixed_trials(study: ferrotune.Study, first: int) -> ferrotune.Trial:
    """Trials of every state, with conditional parameters of every kind, a changed
    range, intermediate values (NaN included), constraints and attributes; returns
    the one left RUNNING."""
    for i in range(first, first + 12):
        trial = study.ask()
        x = trial.suggest_float("x", -5.0, 5.0 if i < first + 6 else 10.0)
        if i % 2:
            trial.suggest_int("n", 1, 64, log=True)
            trial.suggest_float("q", 0.0, 1.0, step=0.25)
        else:
            trial.suggest_categorical("act", ["relu", None, 2, 1.5, True])
            trial.suggest_int("k", -3, 9, step=3)
        if i % 3 == 0:
            trial.report(x, 0)
            trial.report(float("nan"), 3)
            trial.report(-x, 1)
        if i % 4 == 0:
            trial.set_user_attr("tag", {"i": i, "l": [1, "two", None]})
            trial.set_system_attr("sys", i)
            trial.set_constraint("c1", float(i % 2))
            trial.set_constraint("c0", -1.0)
        kind = i % 5
        if kind == 1:
            study.tell(trial, state=TrialState.PRUNED)
        elif kind == 2:
            study.tell(trial, state=TrialState.FAIL)
        else:
            study.tell(trial, x * x)
    running = study.ask()
    running.suggest_float("x", -5.0, 10.0)
    running.report(1.0, 0)  # writes the parameter too
    running.set_user_attr("live", True)
    study.enqueue_trial({"x": 0.5}, user_attrs={"queued": 1})
    return running


def test_loading_reads_back_every_kind_of_trial(make_storage: StorageFactory) -> None:
    writer = ferrotune.create_study(
        storage=make_storage(), study_name="mixed", sampler=RandomSampler(seed=3)
    )
    running = _mixed_trials(writer, 0)
    early = ferrotune.load_study(study_name="mixed", storage=make_storage())
    assert len(early.trials) == 14
    # A trial `early` has read as RUNNING changes and finishes.
    running.set_user_attr("after", 1)
    running.report(2.0, 1)
    writer.tell(running, 0.0)
    # The first ask starts the enqueued trial 13. Read by `early` incrementally, by
    # `late` at once.
    _mixed_trials(writer, 14)
    late = ferrotune.load_study(study_name="mixed", storage=make_storage())
    expected = writer.trials
    assert len(expected) == 27
    assert {t.state for t in expected} == set(TrialState)
    assert expected[12].user_attrs == {"live": True, "after": 1}
    for study in (early, late):
        got = study.trials
        # Start times are taken by the writer's core and its database write apart.
        assert [_fields(t, times=False) for t in got] == [_fields(t, times=False) for t in expected]
        # The batch read equals the trial-by-trial one, times included.
        assert [_fields(t) for t in got] == [_fields(study._frozen(n)) for n in range(27)]
        assert [t.number for t in study.get_trials(states=[TrialState.PRUNED])] == [
            t.number for t in expected if t.state == TrialState.PRUNED
        ]
    # Copies: changing one trial's dicts changes nothing else.
    got = late.trials
    got[0].user_attrs["new"] = 1
    got[0].params["x"] = None
    assert "new" not in late.trials[0].user_attrs
    assert late.trials[0].params == expected[0].params


def test_attributes_json_cannot_hold_are_refused_on_every_storage(
    make_storage: StorageFactory,
) -> None:
    """What a study accepts does not depend on its storage: a database cannot write a
    set, so memory refuses it too (system attributes as user attributes)."""
    study = ferrotune.create_study(storage=make_storage(), sampler=RandomSampler(seed=0))
    trial = study.ask()
    for set_attr in (
        lambda: study.set_trial_system_attr(trial.number, "k", {1, 2}),
        lambda: trial.set_system_attr("k", {1, 2}),
        lambda: trial.set_user_attr("k", {1, 2}),
        lambda: study.set_system_attr("k", object()),
        lambda: study.set_user_attr("k", {1, 2}),
    ):
        with pytest.raises(InvalidArgumentError, match="'k'"):
            set_attr()
    study.set_trial_system_attr(trial.number, "ok", {"a": [1.5, None]})
    assert study.get_trial(trial.number).system_attrs == {"ok": {"a": [1.5, None]}}
    assert "k" not in study.system_attrs and "k" not in study.user_attrs


def test_constraints_of_a_finished_trial_are_refused_on_every_storage(
    make_storage: StorageFactory,
) -> None:
    storage = make_storage()
    study = ferrotune.create_study(storage=storage, sampler=RandomSampler(seed=0))
    trial = study.ask()
    study.set_trial_constraints(trial.number, {"c": -1.0})
    study.tell(trial, 1.0)
    with pytest.raises(UpdateFinishedTrialError):
        study.set_trial_constraints(trial.number, {"c": 1.0})
    with pytest.raises(UpdateFinishedTrialError):
        sid = storage.get_study_id_from_name(study.study_name)
        storage.record_constraints(sid, trial.number, {"c": 1.0})
    again = ferrotune.load_study(study_name=study.study_name, storage=make_storage())
    for s in (study, again):
        assert s.get_trial(trial.number).system_attrs["constraints"] == {"c": -1.0}

"""MaxTrialsCallback, metric names, study summaries and the
top-level names Optuna tutorials use on their first lines."""

from __future__ import annotations

import pickle
import threading
from pathlib import Path
from typing import Any

import pytest

import ferrotune
from ferrotune import TrialState
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import RandomSampler
from ferrotune.storages import InMemoryStorage
from ferrotune.study import MaxTrialsCallback, StudyDirection, StudySummary


def _sqlite(tmp_path: Path, name: str = "extras.db") -> str:
    pytest.importorskip("sqlalchemy")
    return f"sqlite:///{tmp_path / name}"


def test_top_level_names() -> None:
    """The names of Optuna's first tutorial lines exist and are
    exported."""
    assert ferrotune.TrialPruned is ferrotune.exceptions.TrialPruned
    for name in ("TrialPruned", "logging", "get_all_study_summaries", "create_trial"):
        assert name in ferrotune.__all__ and hasattr(ferrotune, name)
    assert "MaxTrialsCallback" in ferrotune.study.__all__
    assert "StudySummary" in ferrotune.study.__all__
    assert {"FixedTrial", "create_trial"} <= set(ferrotune.trial.__all__)
    assert "PartialFixedSampler" in ferrotune.samplers.__all__
    study = ferrotune.create_study()

    def pruned(trial: ferrotune.Trial) -> float:
        trial.suggest_float("x", 0, 1)
        raise ferrotune.TrialPruned()

    study.optimize(pruned, n_trials=2)
    assert [t.state for t in study.trials] == [TrialState.PRUNED] * 2


# ------------------------------------------------------------------ MaxTrialsCallback
def test_max_trials_callback_stops_at_n_complete_trials() -> None:
    """The study stops when n trials in the given states exist,
    however many the optimize call was allowed."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(
        lambda t: t.suggest_float("x", 0, 1), n_trials=100, callbacks=[MaxTrialsCallback(10)]
    )
    assert len(study.trials) == 10
    # It counts the whole study: a second run adds nothing once 10 are complete...
    study.optimize(lambda t: 0.0, n_trials=100, callbacks=[MaxTrialsCallback(10)])
    assert len(study.trials) == 11  # (the callback runs after a trial, as in Optuna)
    # ...and a larger limit continues up to it.
    study.optimize(lambda t: 0.0, n_trials=100, callbacks=[MaxTrialsCallback(15)])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 15


def test_max_trials_callback_counts_only_its_states() -> None:
    """Failed trials do not count towards ``(COMPLETE,)``; with ``states=None`` every
    trial counts; with ``(FAIL,)`` only failures."""

    def flaky(trial: ferrotune.Trial) -> float:
        if trial.number % 2:
            raise ValueError("odd")
        return trial.suggest_float("x", 0, 1)

    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(flaky, n_trials=100, catch=ValueError, callbacks=[MaxTrialsCallback(5)])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 5
    assert len(study.trials) == 9
    study2 = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study2.optimize(flaky, n_trials=100, catch=ValueError, callbacks=[MaxTrialsCallback(5, None)])
    assert len(study2.trials) == 5
    study3 = ferrotune.create_study(sampler=RandomSampler(seed=0))
    cb = MaxTrialsCallback(3, states=(TrialState.FAIL,))
    study3.optimize(flaky, n_trials=100, catch=ValueError, callbacks=[cb])
    assert len(study3.get_trials(states=(TrialState.FAIL,))) == 3
    assert len(study3.trials) == 6


def test_max_trials_callback_counts_a_trial_left_running() -> None:
    """An unfinished trial counts when it is in ``states`` and, once it finishes, in
    its final state (the callback keeps watching the trials it saw unfinished)."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    left = study.ask()  # stays RUNNING through the runs below
    every = MaxTrialsCallback(5, states=None)
    study.optimize(lambda t: 0.0, n_trials=100, callbacks=[every])
    assert len(study.trials) == 5  # the RUNNING one counts
    complete = MaxTrialsCallback(7)
    study.optimize(lambda t: 0.0, n_trials=100, callbacks=[complete])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 7
    assert study.get_trial(left.number).state == TrialState.RUNNING
    study.tell(left, 1.0)  # now 8 COMPLETE: the next run stops after one trial
    study.optimize(lambda t: 0.0, n_trials=100, callbacks=[complete])
    assert len(study.get_trials(states=(TrialState.COMPLETE,))) == 9
    assert study.get_trial_states() == [TrialState.COMPLETE] * 9
    assert study.get_trial_states(7, 100) == [TrialState.COMPLETE] * 2


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite"])
def test_max_trials_callback_with_two_workers(storage_kind: str, tmp_path: Path) -> None:
    """With n_jobs=2 the study stops at n COMPLETE trials, plus at
    most the one trial the other worker was already running (as in Optuna: the stop
    lets running trials finish, and no trial starts after it); the count the callback
    reads incrementally equals ``len(get_trials(states=...))`` at every call."""
    storage: Any = None if storage_kind == "memory" else _sqlite(tmp_path)
    study = ferrotune.create_study(storage=storage, sampler=RandomSampler(seed=0))
    cb = MaxTrialsCallback(12)
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def check(st: ferrotune.Study, trial: ferrotune.FrozenTrial) -> None:
        with lock:
            seen.append((cb._count(st), len(st.get_trials(states=(TrialState.COMPLETE,)))))

    def objective(t: ferrotune.Trial) -> float:
        if t.number % 3 == 2:
            raise ferrotune.TrialPruned()
        return t.suggest_float("x", 0, 1)

    study.optimize(objective, n_trials=200, n_jobs=2, callbacks=[cb, check])
    complete = len(study.get_trials(states=(TrialState.COMPLETE,)))
    assert 12 <= complete <= 13
    assert all(t.state.is_finished() for t in study.trials)
    # Every third trial is pruned: the study stopped long before its 200 trials.
    assert len(study.trials) <= 13 * 3 // 2 + 2
    # The incremental count is the plain count (the other worker may finish a trial
    # between the two reads).
    assert all(abs(a - b) <= 1 for a, b in seen)
    assert cb._count(study) == complete


def test_max_trials_callback_incremental_count_matches_the_plain_count() -> None:
    """The incremental count (finished trials are read once) equals the plain one,
    also with unfinished trials before finished ones and for every state set."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    states: list[Any] = [None, (TrialState.COMPLETE,), (TrialState.RUNNING, TrialState.FAIL)]
    cbs = [MaxTrialsCallback(10**6, s) for s in states]
    running = []
    for i in range(40):
        t = study.ask()
        t.suggest_float("x", 0, 1)
        if i % 7 == 3:
            running.append(t)  # left running for a while
        elif i % 5 == 0:
            study.tell(t, state=TrialState.FAIL)
        else:
            study.tell(t, 1.0)
        if i % 9 == 8 and running:
            study.tell(running.pop(0), 0.5)
        for cb, s in zip(cbs, states, strict=True):
            assert cb._count(study) == len(study.get_trials(states=s))
    # A callback object used with two studies keeps them apart.
    other = ferrotune.create_study()
    other.optimize(lambda t: 0.0, n_trials=3)
    assert cbs[0]._count(other) == 3
    assert cbs[0]._count(study) == 40
    back = pickle.loads(pickle.dumps(cbs[1]))
    assert back._count(study) == len(study.get_trials(states=(TrialState.COMPLETE,)))


def test_max_trials_callback_rejects_bad_n() -> None:
    for bad in (-1, 1.5, True, "3"):
        with pytest.raises(InvalidArgumentError, match="n_trials"):
            MaxTrialsCallback(bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------------- metric names
def test_metric_names(tmp_path: Path) -> None:
    """None until set; stored in the study's system attributes (as
    Optuna) so they persist; the count must match the number of objectives."""
    url = _sqlite(tmp_path)
    for storage in (None, url):
        study = ferrotune.create_study(
            storage=storage, study_name="m", directions=["minimize", "maximize"]
        )
        assert study.metric_names is None
        with pytest.raises(InvalidArgumentError, match="2 objective"):
            study.set_metric_names(["loss"])
        with pytest.raises(InvalidArgumentError, match="2 objective"):
            study.set_metric_names(["a", "b", "c"])
        with pytest.raises(InvalidArgumentError):
            study.set_metric_names("ab")
        assert study.metric_names is None
        study.set_metric_names(["loss", "accuracy"])
        assert study.metric_names == ["loss", "accuracy"]
        assert study.system_attrs["study:metric_names"] == ["loss", "accuracy"]
    back = ferrotune.load_study(study_name="m", storage=url)
    assert back.metric_names == ["loss", "accuracy"]
    single = ferrotune.create_study()
    single.set_metric_names(["loss"])
    assert single.metric_names == ["loss"]


# -------------------------------------------------------------------------- summaries
def _fill(storage: Any) -> dict[str, ferrotune.Study]:
    a = ferrotune.create_study(storage=storage, study_name="a", sampler=RandomSampler(seed=1))
    a.optimize(lambda t: t.suggest_float("x", -1, 1) ** 2, n_trials=6)
    a.set_user_attr("owner", "me")
    b = ferrotune.create_study(
        storage=storage, study_name="b", direction="maximize", sampler=RandomSampler(seed=2)
    )
    b.optimize(lambda t: t.suggest_int("k", 0, 9) * 1.0, n_trials=4)
    b.ask()  # one still running
    c = ferrotune.create_study(storage=storage, study_name="c", directions=["minimize", "minimize"])
    c.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    empty = ferrotune.create_study(storage=storage, study_name="empty")
    return {"a": a, "b": b, "c": c, "empty": empty}


@pytest.mark.parametrize("storage_kind", ["memory", "sqlite"])
def test_get_all_study_summaries(storage_kind: str, tmp_path: Path) -> None:
    """One summary per study with Optuna's fields: the best trial of
    single-objective studies (None for several objectives, or when not asked for), the
    number of trials in any state, the earliest start, the user attributes."""
    storage: Any = InMemoryStorage() if storage_kind == "memory" else _sqlite(tmp_path)
    studies = _fill(storage)
    summaries = ferrotune.get_all_study_summaries(storage)
    assert all(isinstance(s, StudySummary) for s in summaries)
    by_name = {s.study_name: s for s in summaries}
    assert sorted(by_name) == ["a", "b", "c", "empty"]
    assert [s.study_name for s in sorted(summaries)] == ["a", "b", "c", "empty"]
    for name in studies:
        s = by_name[name]
        # (Read back through the storage, as the summaries are.)
        study = ferrotune.load_study(study_name=name, storage=storage)
        trials = study.trials
        assert s.n_trials == len(trials)
        starts = [t.datetime_start for t in trials if t.datetime_start is not None]
        assert s.datetime_start == (min(starts) if starts else None)
        assert s.user_attrs == study.user_attrs
        assert s.directions == study.directions
    assert by_name["a"].direction == StudyDirection.MINIMIZE
    assert by_name["b"].direction == StudyDirection.MAXIMIZE
    for name in ("a", "b"):
        best = by_name[name].best_trial
        assert best is not None
        assert best.number == studies[name].best_trial.number
        assert best.params == studies[name].best_params
        assert best.value == studies[name].best_value
        assert best.distributions == studies[name].best_trial.distributions
    assert by_name["a"].user_attrs == {"owner": "me"}
    assert by_name["b"].n_trials == 5
    assert by_name["c"].best_trial is None
    with pytest.raises(InvalidArgumentError):
        _ = by_name["c"].direction
    assert by_name["empty"].best_trial is None and by_name["empty"].n_trials == 0
    assert by_name["empty"].datetime_start is None
    without = ferrotune.get_all_study_summaries(storage, include_best_trial=False)
    assert all(s.best_trial is None for s in without)
    assert [s.n_trials for s in sorted(without)] == [s.n_trials for s in sorted(summaries)]
    assert ferrotune.study.get_all_study_summaries is ferrotune.get_all_study_summaries


def test_summaries_leave_open_studies_untouched() -> None:
    """Reading summaries sets no sampler: an open study continues its own sequence."""
    seqs = []
    for read in (False, True):
        storage = InMemoryStorage()
        study = ferrotune.create_study(storage=storage, sampler=RandomSampler(seed=5))
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        if read:
            ferrotune.get_all_study_summaries(storage)
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
        seqs.append([t.params["x"] for t in study.trials])
    assert seqs[0] == seqs[1]


def test_rust_samplers_skip_the_after_trial_hook_unless_constraints_need_it() -> None:
    # Without constraints_func their after_trial does nothing: a study must not build a
    # snapshot of every trial at its tell to call it.
    from ferrotune.samplers import CmaEsSampler, GASampler, NSGAIISampler, TPESampler

    for sampler in (TPESampler(), CmaEsSampler(), GASampler(), NSGAIISampler()):
        assert not ferrotune.create_study(sampler=sampler)._hook_after, sampler
    seen: list[int] = []

    def constraints(trial: ferrotune.trial.FrozenTrial) -> list[float]:
        seen.append(trial.number)
        return [0.0]

    study = ferrotune.create_study(sampler=TPESampler(constraints_func=constraints))
    study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=3)
    assert seen == [0, 1, 2]


def test_search_space_module_as_optuna() -> None:
    """optuna.search_space's two names: COMPLETE trials (PRUNED too when asked), a
    parameter whose distribution changed left out, sorted by name; the incremental class
    agrees with the function at every step, and refuses a second study."""
    from ferrotune.distributions import FloatDistribution
    from ferrotune.exceptions import InvalidArgumentError
    from ferrotune.search_space import IntersectionSearchSpace, intersection_search_space

    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    incremental = IntersectionSearchSpace()
    with_pruned = IntersectionSearchSpace(include_pruned=True)
    for i in range(8):
        t = study.ask()
        t.suggest_float("z", 0, 1)
        t.suggest_float("a", 0, 1 if i < 5 else 2)  # its range changes at trial 5
        if i != 6:
            t.suggest_int("m", 1, 3)
        if i == 6:
            study.tell(t, state=ferrotune.TrialState.PRUNED)
        else:
            study.tell(t, float(i))
        if i == 3:
            study.ask()  # a running trial in the middle
        trials = study.get_trials(deepcopy=False)
        assert incremental.calculate(study) == intersection_search_space(trials)
        assert with_pruned.calculate(study) == intersection_search_space(trials, True)
    final = intersection_search_space(study.trials)
    assert list(final) == ["m", "z"] and final["z"] == FloatDistribution(0, 1)
    assert list(intersection_search_space(study.trials, include_pruned=True)) == ["z"]
    with pytest.raises(InvalidArgumentError, match="multiple studies"):
        incremental.calculate(ferrotune.create_study())
    assert ferrotune.search_space.intersection_search_space([]) == {}

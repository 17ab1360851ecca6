"""BruteForceSampler: every leaf of a define-by-run tree once, then the study stops."""

from __future__ import annotations

import pickle
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import ferrotune
from ferrotune.exceptions import InvalidDistributionError
from ferrotune.samplers import BruteForceSampler
from ferrotune.trial import TrialState


def conditional_objective(trial: ferrotune.Trial) -> float:
    """Optuna's example, with one more branch that suggests nothing."""
    c = trial.suggest_categorical("c", ["float", "int", "none"])
    if c == "float":
        return trial.suggest_float("x", 1.0, 3.0, step=0.5)
    if c == "int":
        a = trial.suggest_int("a", 1, 3)
        b = trial.suggest_int("b", a, 3)
        return float(a + b)
    return 0.0


# Independent enumeration of the leaves of conditional_objective.
CONDITIONAL_LEAVES = (
    {(("c", "float"), ("x", 1.0 + 0.5 * k)) for k in range(5)}
    | {(("c", "int"), ("a", a), ("b", b)) for a in (1, 2, 3) for b in range(a, 4)}
    | {(("c", "none"),)}
)


def _leaf(trial: ferrotune.trial.FrozenTrial) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted(trial.params.items(), key=lambda kv: kv[0] != "c"))


def _leaves(study: ferrotune.Study) -> list[tuple[tuple[str, Any], ...]]:
    return [_leaf(t) for t in study.trials]


@pytest.mark.parametrize("seed", range(5))
def test_conditional_space_every_leaf_once_then_stop(seed: int) -> None:
    """A conditional define-by-run space is enumerated exactly:
    every leaf once, then the study stops by itself."""
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    study.optimize(conditional_objective)
    leaves = _leaves(study)
    assert len(leaves) == len(CONDITIONAL_LEAVES) == 12
    assert set(leaves) == CONDITIONAL_LEAVES


def test_seed_sets_the_order() -> None:
    def order(seed: int) -> list[Any]:
        study = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
        study.optimize(conditional_objective)
        return _leaves(study)

    assert order(3) == order(3)
    assert order(3) != order(4)


@pytest.mark.parametrize("avoid_premature_stop", [False, True])
def test_parallel_workers_cover_the_tree(avoid_premature_stop: bool) -> None:
    study = ferrotune.create_study(
        sampler=BruteForceSampler(seed=1, avoid_premature_stop=avoid_premature_stop)
    )
    study.optimize(conditional_objective, n_trials=200, n_jobs=2)
    leaves = _leaves(study)
    assert set(leaves) <= CONDITIONAL_LEAVES
    if avoid_premature_stop:
        assert set(leaves) == CONDITIONAL_LEAVES
    # Workers share the sampler's view of the running trials: few duplicates.
    assert len(leaves) < 200


def test_resumed_study_continues_the_enumeration() -> None:
    """A new (or unpickled) sampler reads the trials already in the
    study and tries only the rest."""
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=2))
    study.optimize(conditional_objective, n_trials=5)
    restored = pickle.loads(pickle.dumps(study.sampler))
    study.sampler = restored
    study.optimize(conditional_objective, n_trials=3)
    study.sampler = BruteForceSampler(seed=9)
    study.optimize(conditional_objective)
    leaves = _leaves(study)
    assert len(leaves) == 12
    assert set(leaves) == CONDITIONAL_LEAVES


def test_failed_and_pruned_trials_count_as_tried() -> None:
    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_int("x", 0, 5)
        if x == 2:
            raise ValueError("boom")
        if x == 3:
            raise ferrotune.TrialPruned()
        return float(x)

    study = ferrotune.create_study(sampler=BruteForceSampler(seed=0))
    study.optimize(objective, catch=ValueError)
    assert sorted(t.params["x"] for t in study.trials) == list(range(6))
    states = {t.params["x"]: t.state for t in study.trials}
    assert states[2] == TrialState.FAIL
    assert states[3] == TrialState.PRUNED


def test_float_without_step_is_an_error_naming_it() -> None:
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=0))
    with pytest.raises(InvalidDistributionError, match="'lr'"):
        study.optimize(lambda t: t.suggest_float("lr", 1e-3, 1.0))


def test_ask_and_tell_reads_the_study() -> None:
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=4))
    seen = []
    for _ in range(6):
        trial = study.ask()
        seen.append((trial.suggest_int("a", 0, 2), trial.suggest_categorical("b", [True, False])))
        study.tell(trial, 0.0)
    assert sorted(seen) == sorted((a, b) for a in range(3) for b in (True, False))


# A random define-by-run tree: each node suggests one parameter; each of its values
# leads to a subtree or ends the trial.
Tree = Any


def _trees(depth: int) -> st.SearchStrategy[Tree]:
    leaf = st.none()
    if depth == 0:
        return leaf
    return st.one_of(
        leaf,
        st.integers(1, 3).flatmap(lambda k: st.lists(_trees(depth - 1), min_size=k, max_size=k)),
    )


def _count(tree: Tree) -> int:
    return 1 if tree is None else sum(_count(sub) for sub in tree)


def _walk(trial: ferrotune.Trial, tree: Tree, path: str) -> None:
    while tree is not None:
        k = trial.suggest_int(f"p{path}", 0, len(tree) - 1)
        path += str(k)
        tree = tree[k]


@settings(max_examples=40, deadline=None)
@given(tree=_trees(3), seed=st.integers(0, 2**32))
def test_random_conditional_trees_are_enumerated_exactly(tree: Tree, seed: int) -> None:
    """Property test: any conditional tree, every leaf once, then stop."""
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    study.optimize(lambda t: _walk(t, tree, "") or 0.0, n_trials=1000)
    paths = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(paths) == len(set(paths)) == _count(tree)


def test_study_resumed_from_sqlite_continues_the_enumeration(tmp_path: Any) -> None:
    """A study loaded from a database (whose rows do not keep the
    order in which parameters were suggested) is continued, not restarted."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'bf.db'}"
    for seed in range(3):
        name = f"s{seed}"
        first = ferrotune.create_study(
            study_name=name, storage=url, sampler=BruteForceSampler(seed=seed)
        )
        first.optimize(conditional_objective, n_trials=5)
        again = ferrotune.load_study(
            study_name=name, storage=url, sampler=BruteForceSampler(seed=seed + 10)
        )
        again.optimize(conditional_objective)
        leaves = _leaves(again)
        assert len(leaves) == 12
        assert set(leaves) == CONDITIONAL_LEAVES


def test_on_a_database_the_sampler_adds_no_round_trip(tmp_path: Any) -> None:
    """The study pulls other workers' changes once per ask; the sampler reads what
    that brought at each suggest, so a study syncs as often with it as with random
    sampling."""
    pytest.importorskip("sqlalchemy")
    from ferrotune.storages import RDBStorage

    counts = []
    for sampler in (BruteForceSampler(seed=0), ferrotune.samplers.RandomSampler(seed=0)):
        storage = RDBStorage(f"sqlite:///{tmp_path / f'{type(sampler).__name__}.db'}")
        study = ferrotune.create_study(storage=storage, sampler=sampler)
        calls = [0]
        sync = storage.sync

        def counting(study_id: int, _sync: Any = sync, _calls: list[int] = calls) -> None:
            _calls[0] += 1
            _sync(study_id)

        storage.sync = counting  # type: ignore[method-assign]
        study.optimize(conditional_objective, n_trials=6)
        counts.append(calls[0])
    assert counts[0] == counts[1]


# A resumed study continues its sampler's sequence.
def three_parameter_objective(trial: ferrotune.Trial) -> float:
    """A stepped float, an int and a categorical, two of them conditional."""
    c = trial.suggest_categorical("c", ["a", "b", "none"])
    if c == "none":
        return 0.0
    x = trial.suggest_float("x", 0.0, 1.0, step=0.25)
    if c == "a":
        return x + trial.suggest_int("n", 0, 4)
    return x


def reviewer_objective(trial: ferrotune.Trial) -> float:
    """The reproduction of the review: three unconditional parameters."""
    x = trial.suggest_float("x", 0, 1, step=0.25)
    n = trial.suggest_int("n", 0, 10)
    return x + n + (trial.suggest_categorical("c", ["a", "b"]) == "a")


def _params(study: ferrotune.Study) -> list[dict[str, Any]]:
    return [t.params for t in study.trials]


@pytest.mark.parametrize("objective", [three_parameter_objective, reviewer_objective])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("resume_after", [0, 3, 6, 11])
def test_pickled_study_continues_the_sequence(objective: Any, seed: int, resume_after: int) -> None:
    """A study pickled after some trials proposes, from there on,
    exactly what the uninterrupted study proposes (the tree rebuilt from the trials
    draws the same branches as the one grown trial by trial)."""
    n_trials = 30
    whole = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    whole.optimize(objective, n_trials=n_trials)
    first = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    first.optimize(objective, n_trials=resume_after)
    resumed = pickle.loads(pickle.dumps(first))
    resumed.optimize(objective, n_trials=n_trials - resume_after)
    # The original, continued after the pickling, agrees as well.
    first.optimize(objective, n_trials=n_trials - resume_after)
    assert _params(resumed) == _params(whole)
    assert _params(first) == _params(whole)


@pytest.mark.parametrize("objective", [three_parameter_objective, reviewer_objective])
@pytest.mark.parametrize("resume_after", [3, 6, 11])
def test_reloaded_sqlite_study_continues_the_sequence(
    tmp_path: Any, objective: Any, resume_after: int
) -> None:
    """A new sampler object with the same generator state on a
    study loaded back from SQLite (whose rows do not keep the order in which the
    parameters were suggested) proposes what the original sampler proposes."""
    pytest.importorskip("sqlalchemy")
    n_trials = 25
    whole = ferrotune.create_study(sampler=BruteForceSampler(seed=5))
    whole.optimize(objective, n_trials=n_trials)
    url = f"sqlite:///{tmp_path / 'bf.db'}"
    sampler = BruteForceSampler(seed=5)
    first = ferrotune.create_study(study_name="s", storage=url, sampler=sampler)
    first.optimize(objective, n_trials=resume_after)
    again = ferrotune.load_study(
        study_name="s", storage=url, sampler=pickle.loads(pickle.dumps(sampler))
    )
    again.optimize(objective, n_trials=n_trials - resume_after)
    assert _params(again) == _params(whole)


def test_a_reused_sampler_does_not_mistake_a_new_study_for_an_old(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sampler recognises its study by a weak reference, not by
    ``id()``, which a new study reuses once the old one is freed (simulated here by
    an ``id`` that answers the same for every object)."""
    import ferrotune.samplers._brute_force as module

    monkeypatch.setattr(module, "id", lambda obj: 1, raising=False)
    sampler = BruteForceSampler(seed=0)
    for _ in range(3):
        study = ferrotune.create_study(sampler=sampler)
        study.optimize(conditional_objective, n_trials=100)
        assert sorted(_leaves(study)) == sorted(CONDITIONAL_LEAVES)
        del study


# A random define-by-run space: each node suggests one parameter (an int, a stepped
# float or a categorical); each of its values leads to a subtree or ends the trial.
Space = Any


def _spaces(depth: int) -> st.SearchStrategy[Space]:
    if depth == 0:
        return st.none()
    node = st.tuples(
        st.sampled_from(["int", "float", "cat"]),
        st.integers(1, 3).flatmap(lambda k: st.lists(_spaces(depth - 1), min_size=k, max_size=k)),
    )
    return st.one_of(st.none(), node)


def _run_space(trial: ferrotune.Trial, space: Space) -> float:
    path = ""
    while space is not None:
        kind, subs = space
        name, n = f"p{path}", len(subs)
        if kind == "int":
            k = trial.suggest_int(name, 0, n - 1)
        elif kind == "float":
            k = round(trial.suggest_float(name, 0.0, (n - 1) * 0.5, step=0.5) * 2)
        else:
            k = int(trial.suggest_categorical(name, [str(i) for i in range(n)]))
        path += str(k)
        space = subs[k]
    return 0.0


def _n_leaves(space: Space) -> int:
    return 1 if space is None else sum(_n_leaves(sub) for sub in space[1])


@settings(max_examples=40, deadline=None)
@given(space=_spaces(3), seed=st.integers(0, 2**32), cut=st.floats(0.0, 1.0))
def test_random_spaces_continue_the_sequence_after_pickling(
    space: Space, seed: int, cut: float
) -> None:
    """Property test: any small conditional space, pickled after any
    number of trials, continues with the uninterrupted sequence, and still tries
    every leaf once."""

    def objective(trial: ferrotune.Trial) -> float:
        return _run_space(trial, space)

    total = _n_leaves(space)
    whole = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    whole.optimize(objective, n_trials=1000)
    leaves = [tuple(sorted(t.params.items())) for t in whole.trials]
    assert len(leaves) == len(set(leaves)) == total
    first = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    first.optimize(objective, n_trials=int(cut * total))
    resumed = pickle.loads(pickle.dumps(first))
    resumed.optimize(objective, n_trials=1000)
    first.optimize(objective, n_trials=1000)
    assert _params(resumed) == _params(first)
    if int(cut * total) < total:
        assert _params(resumed) == _params(whole)

"""BruteForceSampler: every leaf of a define-by-run tree once, then the study stops
(issue 10 item 16)."""

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
def test_issue10_item16_conditional_space_every_leaf_once_then_stop(seed: int) -> None:
    """Issue 10 item 16: a conditional define-by-run space is enumerated exactly:
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
    """Issue 10 item 16: a new (or unpickled) sampler reads the trials already in the
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
    """Issue 10 item 16, the class: any conditional tree, every leaf once, then stop."""
    study = ferrotune.create_study(sampler=BruteForceSampler(seed=seed))
    study.optimize(lambda t: _walk(t, tree, "") or 0.0, n_trials=1000)
    paths = [tuple(sorted(t.params.items())) for t in study.trials]
    assert len(paths) == len(set(paths)) == _count(tree)


def test_study_resumed_from_sqlite_continues_the_enumeration(tmp_path: Any) -> None:
    """Issue 10 item 16: a study loaded from a database (whose rows do not keep the
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

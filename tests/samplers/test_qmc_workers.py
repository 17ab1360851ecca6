"""QMCSampler keeps its position in the study, so a resumed study and
workers sharing a seed continue one sequence instead of repeating its points."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

import ferrotune
from ferrotune import SearchSpace
from ferrotune.distributions import FloatDistribution
from ferrotune.samplers import QMCSampler


def _objective(t: ferrotune.Trial) -> float:
    return t.suggest_float("x", 0.0, 1.0)


def _storage(kind: str, tmp_path: Path) -> ferrotune.storages.BaseStorage | str:
    if kind == "sqlite":
        pytest.importorskip("sqlalchemy")
        return f"sqlite:///{tmp_path / 'qmc.db'}"
    return ferrotune.storages.InMemoryStorage()


def _xs(study: ferrotune.Study) -> list[float]:
    return [t.params["x"] for t in study.trials]


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_two_workers_with_one_seed_share_the_sequence(kind: str, tmp_path: Path) -> None:
    """Two workers x 20 trials gave 21 distinct points (each repeated the other's)."""
    storage = _storage(kind, tmp_path)
    first = ferrotune.create_study(storage=storage, study_name="q", sampler=QMCSampler(seed=7))
    first.optimize(_objective, n_trials=1)  # the relative space needs one COMPLETE trial
    workers = [
        ferrotune.load_study(study_name="q", storage=storage, sampler=QMCSampler(seed=7))
        for _ in range(2)
    ]
    threads = [threading.Thread(target=w.optimize, args=(_objective, 20)) for w in workers]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    xs = _xs(workers[0])
    assert len(xs) == 41
    assert len(set(xs)) == 41
    # The 40 sequence points are the first 40 of one scrambled sequence: no two share
    # a cell of width 1/32 beyond what 40 points in 32 cells force.
    cells = [int(x * 32) for x in xs[1:]]
    assert max(cells.count(c) for c in set(cells)) <= 2


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_a_resumed_study_continues_the_sequence(kind: str, tmp_path: Path) -> None:
    """A study resumed with a new sampler of the same seed takes the next points: the
    first 64 sequence points, split over two runs, still fill all 64 cells."""
    storage = _storage(kind, tmp_path)
    study = ferrotune.create_study(storage=storage, study_name="q", sampler=QMCSampler(seed=3))
    study.optimize(_objective, n_trials=33)
    resumed = ferrotune.load_study(study_name="q", storage=storage, sampler=QMCSampler(seed=3))
    resumed.optimize(_objective, n_trials=32)
    xs = _xs(resumed)
    assert sorted(int(x * 64) for x in xs[1:]) == list(range(64))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_declared_space_workers_continue_one_sequence(kind: str, tmp_path: Path) -> None:
    """On a declared space, two Study objects of one storage with one seed (two workers)
    take distinct points of one sequence."""
    storage = _storage(kind, tmp_path)
    space = SearchSpace({"x": FloatDistribution(0.0, 1.0)})
    a = ferrotune.create_study(storage=storage, study_name="q", sampler=QMCSampler(seed=1))
    b = ferrotune.load_study(study_name="q", storage=storage, sampler=QMCSampler(seed=1))
    for _ in range(16):
        for s in (a, b):
            t = s.ask(space)
            s.tell(t, t.params["x"])
    xs = _xs(a)
    assert sorted(int(x * 32) for x in xs) == list(range(32))


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_first_trials_of_workers_with_one_seed_differ(kind: str, tmp_path: Path) -> None:
    """Before the relative space is known, parameters are drawn independently: two
    workers with one seed drew the same first point (39 distinct points of 40)."""
    storage = _storage(kind, tmp_path)
    a = ferrotune.create_study(storage=storage, study_name="q", sampler=QMCSampler(seed=7))
    b = ferrotune.load_study(study_name="q", storage=storage, sampler=QMCSampler(seed=7))
    ta, tb = a.ask(), b.ask()
    xa, xb = ta.suggest_float("x", 0.0, 1.0), tb.suggest_float("x", 0.0, 1.0)
    assert xa != xb
    # The same trial number with the same seed draws the same value in any process.
    c = ferrotune.create_study(sampler=QMCSampler(seed=7))
    assert c.ask().suggest_float("x", 0.0, 1.0) == xa

"""The adapters of ferrotune's Python-level samplers inside Optuna studies: the grid
sampler (Optuna's ``grid_id`` / ``search_space`` bookkeeping and ``study.stop()`` with
ferrotune's order), the brute-force sampler and the partial-fixed sampler."""

from __future__ import annotations

import os
import pickle
import uuid
from pathlib import Path
from typing import Any

import pytest

optuna = pytest.importorskip("optuna")

import ferrotune  # noqa: E402
from ferrotune.exceptions import InvalidArgumentError  # noqa: E402
from ferrotune.integration import optuna as fo  # noqa: E402

GRID = {"x": [0, 1, 2, 3], "c": ["a", "b", "c"]}
N = 12


@pytest.fixture(autouse=True)
def quiet() -> Any:
    level = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(level)


def storage_urls(tmp_path: Path) -> list[str]:
    """SQLite, and PostgreSQL when a server is given (in a schema of its own: Optuna's
    tables must not sit beside ferrotune's in the database other tests use)."""
    urls = [f"sqlite:///{tmp_path / 'workers.db'}"]
    url = os.environ.get("FERROTUNE_TEST_POSTGRES_URL")
    if url:
        import sqlalchemy as sa

        engine = sa.create_engine(url)
        with engine.begin() as conn:
            conn.execute(sa.text("CREATE SCHEMA IF NOT EXISTS optuna_plugin_tests"))
        engine.dispose()
        urls.append(
            url + ("&" if "?" in url else "?") + "options=-csearch_path%3Doptuna_plugin_tests"
        )
    return urls


def objective(trial: Any) -> float:
    return trial.suggest_int("x", 0, 3) + len(trial.suggest_categorical("c", ["a", "b", "c"]))


def points(study: Any) -> list[tuple[Any, ...]]:
    return [(t.params["x"], t.params["c"]) for t in study.trials]


def test_every_point_once_then_the_study_stops() -> None:
    study = optuna.create_study(sampler=fo.GridSampler(GRID, seed=1))
    study.optimize(objective, n_trials=100)
    assert sorted(points(study)) == sorted((x, c) for x in GRID["x"] for c in GRID["c"])
    assert [t.system_attrs["search_space"] for t in study.trials] == [GRID] * N
    assert sorted(t.system_attrs["grid_id"] for t in study.trials) == list(range(N))


def test_seed_sets_the_order() -> None:
    orders = []
    for seed in (1, 1, 2):
        study = optuna.create_study(sampler=fo.GridSampler(GRID, seed=seed))
        study.optimize(objective, n_trials=N)
        orders.append(points(study))
    assert orders[0] == orders[1] != orders[2]


def test_workers_on_one_storage_never_share_a_point(tmp_path: Path) -> None:
    """Two workers (each with its own sampler object) asking in turn, trials left running:
    each point is handed out once, in one worker's order, and the grid is exhausted only
    once every trial has finished."""
    for url in storage_urls(tmp_path):
        name = f"h13grid-{uuid.uuid4().hex[:12]}"
        _grid_workers(url, name)
        optuna.delete_study(study_name=name, storage=url)


def _grid_workers(url: str, name: str) -> None:
    a = optuna.create_study(storage=url, study_name=name, sampler=fo.GridSampler(GRID, seed=4))
    b = optuna.load_study(storage=url, study_name=name, sampler=fo.GridSampler(GRID, seed=4))
    trials = [(s, s.ask()) for _ in range(N // 2) for s in (a, b)]
    for _, t in trials:
        objective(t)
    assert not a.sampler.is_exhausted(a)
    for s, t in trials:
        s.tell(t, 1.0)
    assert sorted(points(a)) == sorted((x, c) for x in GRID["x"] for c in GRID["c"])
    assert a.sampler.is_exhausted(a) and b.sampler.is_exhausted(b)
    # The same order as one worker alone.
    alone = optuna.create_study(sampler=fo.GridSampler(GRID, seed=4))
    alone.optimize(objective, n_trials=N)
    assert points(a) == points(alone)


def test_threads_of_one_study_run_every_point_once() -> None:
    study = optuna.create_study(sampler=fo.GridSampler(GRID, seed=2))
    study.optimize(objective, n_trials=N, n_jobs=2)
    assert len(set(points(study))) == N


def test_is_exhausted_waits_for_running_trials() -> None:
    study = optuna.create_study(sampler=fo.GridSampler({"x": [0, 1]}, seed=0))
    first, second = study.ask(), study.ask()
    for t in (first, second):
        t.suggest_int("x", 0, 1)
    study.tell(first, 0.0)
    assert not study.sampler.is_exhausted(study)
    study.tell(second, 0.0)
    assert study.sampler.is_exhausted(study)


def test_enqueued_trials_keep_their_values_and_the_grid_is_still_covered() -> None:
    study = optuna.create_study(sampler=fo.GridSampler(GRID, seed=3))
    study.enqueue_trial({"x": 2, "c": "b"})
    study.optimize(objective, n_trials=100)
    assert study.trials[0].params == {"x": 2, "c": "b"}
    assert "grid_id" not in study.trials[0].system_attrs
    on_grid = points(study)[1:]
    assert sorted(on_grid) == sorted((x, c) for x in GRID["x"] for c in GRID["c"])


def test_an_enqueued_trial_without_every_grid_parameter_is_a_clear_error() -> None:
    study = optuna.create_study(sampler=fo.GridSampler(GRID, seed=3))
    study.enqueue_trial({"x": 1})
    with pytest.raises(InvalidArgumentError, match=r"'c'.*enqueue every"):
        study.optimize(objective, n_trials=1)


def test_past_the_end_a_point_is_repeated_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    study = optuna.create_study(sampler=fo.GridSampler({"x": [0, 1]}, seed=0))
    study.optimize(lambda t: t.suggest_int("x", 0, 1), n_trials=5)
    assert len(study.trials) == 2
    study.optimize(lambda t: t.suggest_int("x", 0, 1), n_trials=5)  # stops again at once
    assert len(study.trials) == 3
    assert study.trials[2].params["x"] in (0, 1)
    assert "repeating a point" in caplog.text


def test_bad_arguments_are_clear_errors() -> None:
    space = ferrotune.SearchSpace({"x": ferrotune.distributions.IntDistribution(0, 3)})
    with pytest.raises(InvalidArgumentError, match=r"search_space.*declared space"):
        fo.GridSampler(space)
    with pytest.raises(InvalidArgumentError, match="'x'"):
        fo.GridSampler({"x": []})
    study = optuna.create_study(sampler=fo.GridSampler({"x": [0]}, seed=0))
    with pytest.raises(InvalidArgumentError, match="'y' is not in the GridSampler"):
        study.optimize(lambda t: t.suggest_int("y", 0, 1), n_trials=1)


def test_pickled_sampler_continues_the_same_order() -> None:
    sampler = fo.GridSampler(GRID, seed=8)
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=5)
    study.sampler = pickle.loads(pickle.dumps(sampler))
    study.optimize(objective, n_trials=100)
    alone = optuna.create_study(sampler=fo.GridSampler(GRID, seed=8))
    alone.optimize(objective, n_trials=100)
    assert points(study) == points(alone)
    assert len(study.sampler) == study.sampler.n_points == N


# ------------------------------------------------------------------ brute force
def branchy(trial: Any) -> float:
    c = trial.suggest_categorical("c", ["a", "b"])
    if c == "a":
        return trial.suggest_int("n", 0, 3)
    return trial.suggest_float("x", 0.0, 1.0, step=0.5)


BRANCHES = {("a", 0), ("a", 1), ("a", 2), ("a", 3), ("b", 0.0), ("b", 0.5), ("b", 1.0)}


def branch(t: Any) -> tuple[Any, Any]:
    return (t.params["c"], t.params.get("n", t.params.get("x")))


def test_brute_force_tries_every_branch_once_then_stops() -> None:
    study = optuna.create_study(sampler=fo.BruteForceSampler(seed=0))
    study.optimize(branchy, n_trials=100)
    assert sorted(map(branch, study.trials), key=str) == sorted(BRANCHES, key=str)


def test_brute_force_workers_on_one_storage_continue_one_enumeration(tmp_path: Path) -> None:
    for url in storage_urls(tmp_path):
        name = f"h13grid-{uuid.uuid4().hex[:12]}"
        a = optuna.create_study(storage=url, study_name=name, sampler=fo.BruteForceSampler(1))
        b = optuna.load_study(storage=url, study_name=name, sampler=fo.BruteForceSampler(2))
        for i in range(len(BRANCHES)):
            s = (a, b)[i % 2]
            t = s.ask()
            s.tell(t, branchy(t))
        assert sorted(map(branch, a.trials), key=str) == sorted(BRANCHES, key=str)
        assert all(t.system_attrs["brute_force:order"][0] == "c" for t in a.trials)
        optuna.delete_study(study_name=name, storage=url)


def test_brute_force_float_without_step_is_a_clear_error() -> None:
    study = optuna.create_study(sampler=fo.BruteForceSampler(seed=0))
    with pytest.raises(ValueError, match=r"'x'.*step"):
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=1)


# ---------------------------------------------------------------- partial fixed
def test_partial_fixed_over_an_optuna_sampler_keeps_the_fixed_values() -> None:
    base = optuna.samplers.TPESampler(n_startup_trials=2, seed=0)
    study = optuna.create_study(sampler=fo.PartialFixedSampler({"x": 2}, base))
    study.enqueue_trial({"x": 1})
    study.optimize(objective, n_trials=8)
    assert [t.params["x"] for t in study.trials] == [1] + [2] * 7
    assert len({t.params["c"] for t in study.trials}) > 1
    assert "x" not in study.sampler.infer_relative_search_space(study, study.trials[-1])


def test_partial_fixed_over_the_grid_adapter_covers_the_other_parameters() -> None:
    grid = fo.GridSampler({"c": ["a", "b", "c"], "x": [0]}, seed=0)
    study = optuna.create_study(sampler=fo.PartialFixedSampler({"x": 3}, grid))
    study.optimize(objective, n_trials=10)
    assert sorted(points(study)) == [(3, "a"), (3, "b"), (3, "c")]


def test_partial_fixed_value_outside_the_distribution_warns_and_is_kept(
    caplog: pytest.LogCaptureFixture,
) -> None:
    sampler = fo.PartialFixedSampler({"x": 9}, fo.RandomSampler(seed=0))
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=1)
    assert study.trials[0].params["x"] == 9
    assert "outside" in caplog.text


def test_partial_fixed_bad_arguments_are_clear_errors() -> None:
    with pytest.raises(InvalidArgumentError, match="fixed_params"):
        fo.PartialFixedSampler([("x", 1)], fo.RandomSampler())  # type: ignore[arg-type]
    with pytest.raises(InvalidArgumentError, match="base_sampler"):
        fo.PartialFixedSampler({"x": 1}, ferrotune.samplers.RandomSampler())  # type: ignore[arg-type]

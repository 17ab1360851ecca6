"""GridSampler: every grid point exactly once, then the study stops by itself."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InfeasibleSpaceError, InvalidArgumentError, InvalidSpaceError
from ferrotune.samplers import GridSampler
from tests._support import SpaceSpec, same_choice

GRID = {"a": [1, 2, 3], "b": ["x", "y"], "c": [0.5, None, True]}


def _grid_objective(grid: dict[str, list[Any]]) -> Any:
    def objective(trial: ferrotune.Trial) -> float:
        for name, values in grid.items():
            trial.suggest_categorical(name, values)
        return 0.0

    return objective


def _key(params: dict[str, Any]) -> tuple[Any, ...]:
    return tuple((k, type(v).__name__, v) for k, v in sorted(params.items()))


def test_dict_grid_visits_every_point_once_then_stops() -> None:
    sampler = GridSampler(GRID, seed=1)
    assert len(sampler) == 18
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_grid_objective(GRID), n_trials=1000)
    points = [_key(t.params) for t in study.trials]
    expected = {
        _key(dict(zip(GRID, combo, strict=True))) for combo in itertools.product(*GRID.values())
    }
    assert len(points) == 18
    assert set(points) == expected
    assert sampler.is_exhausted()


def test_dict_grid_stops_without_n_trials() -> None:
    study = ferrotune.create_study(sampler=GridSampler(GRID, seed=2))
    study.optimize(_grid_objective(GRID))
    assert len({_key(t.params) for t in study.trials}) == 18
    assert len(study.trials) == 18


@given(
    sizes=st.lists(st.integers(1, 4), min_size=1, max_size=4),
    seed=st.integers(0, 2**32),
    n_jobs=st.sampled_from([1, 3]),
)
def test_grids_of_any_shape_are_covered_exactly_once(
    sizes: list[int], seed: int, n_jobs: int
) -> None:
    grid = {f"g{i}": list(range(n)) for i, n in enumerate(sizes)}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=seed))
    study.optimize(_grid_objective(grid), n_trials=10_000, n_jobs=n_jobs)
    points = [_key(t.params) for t in study.trials]
    total = 1
    for n in sizes:
        total *= n
    assert len(set(points)) == total
    # Parallel workers may each start one trial past the end; those repeat a point.
    assert total <= len(points) <= total + n_jobs - 1


def test_seed_sets_the_visiting_order() -> None:
    def order(seed: int) -> list[tuple[Any, ...]]:
        study = ferrotune.create_study(sampler=GridSampler(GRID, seed=seed))
        study.optimize(_grid_objective(GRID))
        return [_key(t.params) for t in study.trials]

    assert order(5) == order(5)
    assert order(5) != order(6)


def test_parameter_outside_the_grid_is_an_error() -> None:
    study = ferrotune.create_study(sampler=GridSampler({"a": [1, 2]}, seed=0))
    trial = study.ask()
    assert trial.suggest_categorical("a", [1, 2]) in (1, 2)
    with pytest.raises(ValueError, match="zz"):
        trial.suggest_float("zz", 0.0, 1.0)


def test_grid_values_used_with_suggest_int_and_float() -> None:
    grid = {"n": [1, 4, 16], "x": [0.0, 0.5]}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=0))
    study.optimize(lambda t: t.suggest_int("n", 1, 16) + t.suggest_float("x", 0.0, 1.0))
    assert {(t.params["n"], t.params["x"]) for t in study.trials} == set(
        itertools.product(grid["n"], grid["x"])
    )


@pytest.mark.parametrize(
    "bad",
    [{}, {"a": []}, {"a": "abc"}, {"a": [object()]}, [("a", [1])]],
    ids=["empty", "empty-values", "string", "object", "not-a-mapping"],
)
def test_bad_grid_is_rejected(bad: Any) -> None:
    with pytest.raises(ValueError):
        GridSampler(bad)


def test_declared_space_grid_lists_only_active_feasible_points() -> None:
    space = ferrotune.SearchSpace(
        {
            "d_model": CategoricalDistribution([96, 128, 192]),
            "n_heads": CategoricalDistribution([3, 4, 8]),
            "optimizer": CategoricalDistribution(["adam", "sgd"]),
            "beta1": FloatDistribution(0.8, 0.9, step=0.05),
            "momentum": CategoricalDistribution(["nesterov", "plain"]),
            "dampening": IntDistribution(0, 2),
            "layers": IntDistribution(2, 6, step=2),
        },
        conditions={
            "beta1": ("optimizer", ["adam"]),
            "momentum": ("optimizer", ["sgd"]),
            "dampening": ("momentum", ["plain"]),
        },
        constraints=[
            ferrotune.Divisible("d_model", "n_heads"),
            ferrotune.Forbidden({"layers": 6, "optimizer": "sgd"}),
        ],
    )
    spec = SpaceSpec(
        dists=dict(space.distributions),
        conditions={
            "beta1": ("optimizer", ["adam"]),
            "momentum": ("optimizer", ["sgd"]),
            "dampening": ("momentum", ["plain"]),
        },
        order=["d_model", "n_heads", "optimizer", "beta1", "momentum", "dampening", "layers"],
        divisible=[("d_model", "n_heads")],
        forbidden=[{"layers": 6, "optimizer": "sgd"}],
    )
    # Independent count: feasible (d_model, n_heads) pairs x branches x layers.
    pairs = sum(d % h == 0 for d in (96, 128, 192) for h in (3, 4, 8))
    adam = 3 * 3  # beta1 values x layers
    sgd = (1 + 3) * 2  # (nesterov | plain x dampening) x layers other than 6
    expected = pairs * (adam + sgd)

    sampler = GridSampler(space, seed=0)
    assert len(sampler) == expected
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: 0.0, space=space, n_trials=10 * expected)
    assert len(study.trials) == expected
    keys = {_key(t.params) for t in study.trials}
    assert len(keys) == expected
    for t in study.trials:
        assert spec.violations(t.params) == [], t.params
    grid = space.grid()
    assert {_key(p) for p in grid} == keys


def test_declared_space_grid_applies_python_predicates() -> None:
    space = ferrotune.SearchSpace(
        {"a": IntDistribution(0, 9), "b": IntDistribution(0, 9)},
        constraints=[lambda p: p["a"] + p["b"] == 9],
    )
    assert sorted((p["a"], p["b"]) for p in space.grid()) == [(a, 9 - a) for a in range(10)]


def test_declared_space_with_a_continuous_float_cannot_be_a_grid() -> None:
    space = ferrotune.SearchSpace({"x": FloatDistribution(0.0, 1.0), "n": IntDistribution(0, 3)})
    with pytest.raises(InvalidSpaceError, match=r"parameter 'x'"):
        GridSampler(space)


def test_grid_with_categorical_float_and_none_values() -> None:
    grid = {"v": [None, 1, 1.0, True, "1"]}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=4))
    study.optimize(_grid_objective(grid))
    seen = [t.params["v"] for t in study.trials]
    assert len(seen) == 5
    for v in grid["v"]:
        assert sum(same_choice(v, s) for s in seen) == 1


# ------------------------------------------- declared spaces, huge grids, resumed studies
def _transformer_space() -> ferrotune.SearchSpace:
    return ferrotune.SearchSpace(
        {
            "d_model": CategoricalDistribution([128, 256, 512]),
            "n_heads": CategoricalDistribution([3, 4, 8, 16]),
        },
        constraints=[lambda p: p["d_model"] % p["n_heads"] == 0],
    )


_TRANSFORMER_FEASIBLE = {(d, h) for d in (128, 256, 512) for h in (4, 8, 16)}
_TRANSFORMER_DICT = {"d_model": [128, 256, 512], "n_heads": [3, 4, 8, 16]}


def _pairs(study: ferrotune.Study) -> list[tuple[Any, Any]]:
    return [(t.params["d_model"], t.params["n_heads"]) for t in study.trials]


@pytest.mark.parametrize("form", ["space", "dict"])
def test_ask_space_hands_out_every_feasible_point_once(form: str) -> None:
    """With a predicate constraint, ask(space) used to hand out 6 of
    the 9 feasible points and then raise InfeasibleSpaceError."""
    space = _transformer_space()
    grid = space if form == "space" else _TRANSFORMER_DICT
    sampler = GridSampler(grid, seed=3)
    if form == "space":
        assert len(sampler) == 9
    study = ferrotune.create_study(sampler=sampler)
    for _ in range(9):
        trial = study.ask(space)
        study.tell(trial, 0.0)
    pairs = _pairs(study)
    assert len(set(pairs)) == 9
    assert set(pairs) == _TRANSFORMER_FEASIBLE
    assert sampler.is_exhausted()


@pytest.mark.parametrize("form", ["space", "dict"])
@pytest.mark.parametrize("n_jobs", [1, 2])
@pytest.mark.parametrize("seed", range(4))
def test_optimize_space_covers_the_feasible_grid_then_stops(
    form: str, n_jobs: int, seed: int
) -> None:
    """``optimize(space=...)`` with a predicate used to fail at once when
    the first grid point was infeasible."""
    space = _transformer_space()
    grid = space if form == "space" else _TRANSFORMER_DICT
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=seed))
    study.optimize(lambda t: 0.0, space=space, n_trials=100, n_jobs=n_jobs)
    pairs = _pairs(study)
    assert all(t.state == ferrotune.trial.TrialState.COMPLETE for t in study.trials)
    assert set(pairs) <= _TRANSFORMER_FEASIBLE
    assert set(pairs) == _TRANSFORMER_FEASIBLE
    # Parallel workers racing for the last point may repeat one, as in Optuna.
    assert 9 <= len(pairs) <= 9 + n_jobs - 1


def test_dict_grid_with_conditional_space_has_no_duplicates() -> None:
    """Grid points that differ only in a parameter the space makes
    inactive are one configuration, handed out once."""
    space = ferrotune.SearchSpace(
        {
            "optimizer": CategoricalDistribution(["adam", "sgd"]),
            "beta1": CategoricalDistribution([0.8, 0.9]),
        },
        conditions={"beta1": ("optimizer", ["adam"])},
    )
    study = ferrotune.create_study(
        sampler=GridSampler({"optimizer": ["adam", "sgd"], "beta1": [0.8, 0.9]}, seed=0)
    )
    study.optimize(lambda t: 0.0, space=space, n_trials=50)
    got = sorted(_key(t.params) for t in study.trials)
    assert got == sorted(
        _key(p)
        for p in [
            {"optimizer": "adam", "beta1": 0.8},
            {"optimizer": "adam", "beta1": 0.9},
            {"optimizer": "sgd"},
        ]
    )


@given(
    na=st.integers(1, 6),
    nb=st.integers(1, 6),
    modulus=st.integers(2, 5),
    residues=st.sets(st.integers(0, 4), max_size=4),
    seed=st.integers(0, 2**32),
    form=st.sampled_from(["space", "dict"]),
)
def test_grid_is_exactly_the_feasible_set(
    na: int, nb: int, modulus: int, residues: set[int], seed: int, form: str
) -> None:
    """Property test: any predicate, either grid form; the visited
    set is the feasible set computed independently, each point once."""

    def pred(p: dict[str, Any]) -> bool:
        return (p["a"] + 2 * p["b"]) % modulus not in residues

    feasible = {(a, b) for a in range(na) for b in range(nb) if pred({"a": a, "b": b})}
    space = ferrotune.SearchSpace(
        {"a": IntDistribution(0, na - 1), "b": IntDistribution(0, nb - 1)}, constraints=[pred]
    )
    grid: Any = space if form == "space" else {"a": list(range(na)), "b": list(range(nb))}
    if not feasible:
        with pytest.raises(InfeasibleSpaceError):
            sampler = GridSampler(grid, seed=seed)
            ferrotune.create_study(sampler=sampler).ask(space)
        return
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=seed))
    study.optimize(lambda t: 0.0, space=space, n_trials=100)
    got = [(t.params["a"], t.params["b"]) for t in study.trials]
    assert len(got) == len(set(got)) == len(feasible)
    assert set(got) == feasible


@pytest.mark.parametrize(("n_params", "n_values"), [(4, 1000), (10, 100), (3, 7)])
def test_huge_dict_grids_hand_out_points_at_once(n_params: int, n_values: int) -> None:
    """A 4 x 1,000 dict grid aborted the interpreter allocating
    8 TB; the order is now arithmetic, so any size costs no memory."""
    grid = {f"p{i}": list(range(n_values)) for i in range(n_params)}
    sampler = GridSampler(grid, seed=11)
    assert sampler.n_points == n_values**n_params
    study = ferrotune.create_study(sampler=sampler)
    n = min(200, n_values**n_params)
    for _ in range(n):
        trial = study.ask()
        for name, values in grid.items():
            trial.suggest_categorical(name, values)
        study.tell(trial, 0.0)
    points = [tuple(t.params[f"p{i}"] for i in range(n_params)) for t in study.trials]
    assert len(set(points)) == n
    assert all(0 <= v < n_values for p in points for v in p)
    if n == n_values**n_params:
        assert sampler.is_exhausted()


def test_grid_beyond_u128_is_a_clear_error() -> None:
    """A grid whose size overflows the index range is refused."""
    with pytest.raises(InvalidArgumentError, match=r"2\*\*128"):
        GridSampler({f"p{i}": list(range(100)) for i in range(20)})


def test_resumed_huge_grid_skips_points_already_in_the_study() -> None:
    """Points of trials already in the study map back to their index
    by arithmetic (no dictionary of all points) and are not handed out again."""
    grid = {f"p{i}": list(range(1000)) for i in range(4)}
    study = ferrotune.create_study(sampler=GridSampler(grid, seed=5))
    first = [study.ask() for _ in range(5)]
    for t in first:
        for name, values in grid.items():
            t.suggest_categorical(name, values)
        study.tell(t, 0.0)
    # A second sampler with the same seed would start with the same points.
    study.sampler = GridSampler(grid, seed=5)
    for _ in range(5):
        t = study.ask()
        for name, values in grid.items():
            t.suggest_categorical(name, values)
        study.tell(t, 0.0)
    points = [tuple(t.params.values()) for t in study.trials]
    assert len(set(points)) == 10


_BOUND_SCRIPT = """
import ferrotune
from ferrotune.distributions import IntDistribution
from ferrotune.exceptions import InvalidSpaceError
from ferrotune.samplers import GridSampler

for constraint in (ferrotune.Divisible("a", "b"), lambda p: p["a"] % p["b"] == 0):
    space = ferrotune.SearchSpace(
        {"a": IntDistribution(1, 10**6), "b": IntDistribution(1, 10**6)},
        constraints=[constraint],
    )
    for make in (GridSampler, lambda s: s.grid()):
        try:
            make(space)
        except InvalidSpaceError as e:
            assert "too large to enumerate" in str(e), e
            assert "1000000000000" in str(e), e
        else:
            raise AssertionError("no error")
# Too many points, even where every point is feasible.
wide = ferrotune.SearchSpace({"a": IntDistribution(0, 10**4), "b": IntDistribution(0, 10**4)})
try:
    GridSampler(wide)
except InvalidSpaceError as e:
    assert "more than 1000000 points" in str(e), e
else:
    raise AssertionError("no error")
print("ok")
"""


def test_too_large_declared_grid_is_refused_naming_its_size() -> None:
    """A divisibility constraint (or predicate) over Int(1, 10**6) x
    Int(1, 10**6) used to enumerate for hours; the enumeration is bounded and says
    why. (In a subprocess with a generous timeout, so that a regression fails instead
    of hanging the suite.)"""
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _BOUND_SCRIPT], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


_INTERRUPT_SCRIPT = """
import signal
import sys
import ferrotune
# Ctrl-C's handler even when this test runs in a background job, whose children inherit
# an ignored SIGINT (Python then installs no KeyboardInterrupt handler).
signal.signal(signal.SIGINT, signal.default_int_handler)
import ferrotune._search_space as ss
from ferrotune.distributions import IntDistribution
from ferrotune.samplers import GridSampler

ss._GRID_MAX_STEPS = 2**62  # unbounded: only Ctrl-C can stop it
space = ferrotune.SearchSpace(
    {"a": IntDistribution(1, 10**6), "b": IntDistribution(1, 10**6)},
    constraints=[ferrotune.Divisible("a", "b")],
)
print("ready", flush=True)
try:
    GridSampler(space)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(3)
print("finished", flush=True)
"""


def test_grid_enumeration_stops_on_ctrl_c() -> None:
    """The Rust enumeration checks for signals while it runs, so
    SIGINT reaches Python as KeyboardInterrupt instead of being ignored for hours."""
    import signal
    import subprocess
    import sys
    import time

    proc = subprocess.Popen(
        [sys.executable, "-c", _INTERRUPT_SCRIPT],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(1.0)  # let it enter the Rust loop (not a timing assertion)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 3, (out, err)
    assert "interrupted" in out


def _run_grid(study: ferrotune.Study, n: int, space: ferrotune.SearchSpace | None) -> None:
    for _ in range(n):
        trial = study.ask(space)
        if space is None:
            for name, values in GRID.items():
                trial.suggest_categorical(name, values)
        study.tell(trial, 0.0)


@pytest.mark.parametrize("form", ["dict", "space", "space-with-lambda"])
def test_pickled_grid_sampler_continues_the_sequence(form: str) -> None:
    """A pickled GridSampler keeps its order and visited points: a
    study continued with the unpickled sampler hands out the rest, as an
    uninterrupted run with the same seed does."""
    import pickle

    space: ferrotune.SearchSpace | None = None
    if form == "dict":
        make = lambda: GridSampler(GRID, seed=8)  # noqa: E731
        total = 18
    elif form == "space":
        space = ferrotune.SearchSpace(
            {"a": IntDistribution(1, 12), "b": IntDistribution(1, 6)},
            constraints=[ferrotune.Divisible("a", "b")],
        )
        make = lambda: GridSampler(space, seed=8)  # noqa: E731
        total = len(space.grid())
    else:
        space = _transformer_space()
        make = lambda: GridSampler(space, seed=8)  # noqa: E731
        total = 9

    def keys(study: ferrotune.Study) -> list[tuple[Any, ...]]:
        return [_key(t.params) for t in study.trials]

    straight = ferrotune.create_study(sampler=make())
    _run_grid(straight, total, space)

    study = ferrotune.create_study(sampler=make())
    _run_grid(study, total // 2, space)
    restored = pickle.loads(pickle.dumps(study.sampler))
    study.sampler = restored
    _run_grid(study, total - total // 2, space)
    assert keys(study) == keys(straight)
    assert len(set(keys(study))) == total
    assert restored.is_exhausted()


def test_grid_study_resumed_from_sqlite_skips_points_already_tried(tmp_path: Any) -> None:
    """A study loaded from a database with a fresh sampler (same seed) hands out only
    the points not tried yet."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'grid.db'}"
    first = ferrotune.create_study(study_name="g", storage=url, sampler=GridSampler(GRID, seed=1))
    first.optimize(_grid_objective(GRID), n_trials=7)
    again = ferrotune.load_study(study_name="g", storage=url, sampler=GridSampler(GRID, seed=1))
    again.optimize(_grid_objective(GRID))
    points = [_key(t.params) for t in again.trials]
    assert len(points) == len(set(points)) == 18


@pytest.mark.parametrize("storage", [None, "sqlite"])
def test_an_enqueued_trial_keeps_its_values_and_uses_no_point(storage: Any, tmp_path: Any) -> None:
    """As Optuna's GridSampler: an enqueued trial is not given a grid point (its values
    are used, even one outside the grid), and every point is still visited once."""
    if storage == "sqlite":
        pytest.importorskip("sqlalchemy")
        storage = f"sqlite:///{tmp_path / 'grid.db'}"
    grid = {"x": [0, 1, 2], "y": ["a", "b"]}
    study = ferrotune.create_study(storage=storage, sampler=GridSampler(grid, seed=1))
    study.enqueue_trial({"x": 5, "y": "a"})
    study.enqueue_trial({"x": 1, "y": "b"})
    study.optimize(
        lambda t: t.suggest_int("x", 0, 5) + len(t.suggest_categorical("y", ["a", "b"])),
        n_trials=20,
    )
    params = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert params[:2] == [(5, "a"), (1, "b")]
    # (1, "b") was tried by the enqueued trial: the grid does not repeat it.
    assert sorted(params[2:]) == sorted(set(itertools.product(grid["x"], grid["y"])) - {(1, "b")})


def test_an_enqueued_trial_missing_a_grid_parameter_is_named() -> None:
    study = ferrotune.create_study(sampler=GridSampler({"x": [0, 1], "y": [2, 3]}))
    study.enqueue_trial({"x": 1})
    trial = study.ask()
    assert trial.suggest_categorical("x", [0, 1]) == 1
    with pytest.raises(InvalidArgumentError, match=r"'y'.*enqueued"):
        trial.suggest_categorical("y", [2, 3])


def test_partial_fixed_grid_keeps_enqueued_values() -> None:
    """A PartialFixedSampler over a grid: the enqueued value wins over both."""
    sampler = ferrotune.samplers.PartialFixedSampler({"y": 3}, GridSampler({"x": [0, 1]}))
    study = ferrotune.create_study(sampler=sampler)
    study.enqueue_trial({"x": 7, "y": 9})
    study.optimize(lambda t: t.suggest_int("x", 0, 9) + t.suggest_int("y", 0, 9), n_trials=5)
    params = [(t.params["x"], t.params["y"]) for t in study.trials]
    assert params[0] == (7, 9)
    assert sorted(params[1:]) == [(0, 3), (1, 3)]


def test_one_grid_sampler_serves_two_studies_each_whole() -> None:
    """As Optuna: the same GridSampler object given to a second study runs that study's
    whole grid (it stopped after one trial), also when the studies alternate."""
    sampler = GridSampler({"x": [0, 1, 2, 3, 4], "c": [0, 1]}, seed=0)

    def objective(t: ferrotune.Trial) -> float:
        return t.suggest_int("x", 0, 4) + t.suggest_categorical("c", [0, 1])

    first = ferrotune.create_study(sampler=sampler)
    first.optimize(objective)
    second = ferrotune.create_study(sampler=sampler)
    second.optimize(objective)
    for study in (first, second):
        assert len({tuple(sorted(t.params.items())) for t in study.trials}) == 10
        assert len(study.trials) == 10
    a, b = (ferrotune.create_study(sampler=GridSampler({"x": [0, 1, 2]}, seed=1)) for _ in "ab")
    b.sampler = a.sampler
    for _ in range(3):
        for study in (a, b):
            study.optimize(lambda t: t.suggest_int("x", 0, 2), n_trials=1)
    # Alternating studies share one object but keep their own account of the grid.
    assert sorted(t.params["x"] for t in a.trials) == [0, 1, 2]
    assert sorted(t.params["x"] for t in b.trials) == [0, 1, 2]
    assert a.sampler.is_exhausted(a) and a.sampler.is_exhausted(b)
    # Another study of the same name (another storage) is another study too.
    shared = GridSampler({"x": [0, 1, 2]}, seed=2)
    for _ in range(2):
        study = ferrotune.create_study(study_name="same", sampler=shared)
        study.optimize(lambda t: t.suggest_int("x", 0, 2))
        assert sorted(t.params["x"] for t in study.trials) == [0, 1, 2]


def test_grid_values_may_be_numpy_arrays() -> None:
    import numpy as np

    sampler = GridSampler({"x": np.linspace(0, 1, 5), "n": np.array([1, 2])}, seed=0)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(lambda t: t.suggest_float("x", 0, 1) + t.suggest_int("n", 1, 2))
    assert sorted({(t.params["x"], t.params["n"]) for t in study.trials}) == [
        (x, n) for x in (0.0, 0.25, 0.5, 0.75, 1.0) for n in (1, 2)
    ]
    with pytest.raises(InvalidArgumentError, match="1-D"):
        GridSampler({"x": np.zeros((2, 2))})


def test_a_point_another_worker_is_running_is_not_handed_out(tmp_path: Any) -> None:
    """Worker A has asked for a trial and not yet suggested (its parameters are not in
    the storage); worker B, another study object on the same SQLite file, runs the grid
    to its end: B skips A's point (the trial's grid_id, written at the ask, as Optuna
    does), then every point has been run once."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'grid.db'}"
    grid = {"x": list(range(10))}
    a = ferrotune.create_study(storage=url, study_name="g", sampler=GridSampler(grid, seed=0))
    b = ferrotune.load_study(storage=url, study_name="g", sampler=GridSampler(grid, seed=1))
    running = a.ask()
    b.optimize(lambda t: t.suggest_categorical("x", grid["x"]), n_trials=None)
    a.tell(running, running.suggest_categorical("x", grid["x"]))
    xs = [t.params["x"] for t in ferrotune.load_study(storage=url, study_name="g").trials]
    assert sorted(xs) == grid["x"], xs

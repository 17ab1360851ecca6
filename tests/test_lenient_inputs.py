"""Where Optuna warns and goes on, ferrotune does the same
(a step that does not divide the range, numpy scalars as choices, fixed values out of
range), and a float step too small for its range is rejected when it is built."""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidDistributionError
from tests._support import SAMPLERS, distributions, in_distribution, suggest


@pytest.fixture
def no_warnings() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


def _storages(tmp_path: Path) -> list[Any]:
    out: list[Any] = [None]
    try:
        import sqlalchemy  # noqa: F401
    except ImportError:
        return out
    out.append(f"sqlite:///{tmp_path / 'lenient.db'}")
    return out


# ------------------------------------------------- a step that does not divide the range
def test_float_step_not_dividing_the_range_lowers_high_with_a_warning() -> None:
    """Optuna warns and lowers high to the last grid point."""
    with pytest.warns(UserWarning, match=r"step=0.3 does not divide the range \[0.0, 1.0\]"):
        d = FloatDistribution(0.0, 1.0, step=0.3)
    assert (d.low, d.high, d.step) == (0.0, 0.9, 0.3)
    with pytest.warns(UserWarning, match="lowered to 0.0"):
        assert FloatDistribution(0.0, 1.0, step=2.0).high == 0.0
    with pytest.warns(UserWarning, match="lowered to 9"):
        d2 = IntDistribution(0, 10, step=3)
    assert (d2.low, d2.high, d2.step) == (0, 9, 3)
    assert isinstance(d2.high, int)
    with pytest.warns(UserWarning, match="lowered to -7"):
        assert IntDistribution(-10, -5, step=3).high == -7


@given(
    low=st.floats(-1e6, 1e6),
    step=st.one_of(st.sampled_from([0.001, 0.1, 0.25, 0.3, 1.0]), st.floats(1e-3, 1e3)),
    n=st.integers(0, 1000),
    frac=st.floats(0.01, 0.99),
)
def test_adjusted_float_high_is_the_last_grid_point(
    low: float, step: float, n: int, frac: float
) -> None:
    """The adjusted high is a grid point, at most ``high``, and less
    than one step below it; the adjusted distribution is accepted as is (no second
    warning, the same high: the adjustment is idempotent)."""
    high = low + (n + frac) * step
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = FloatDistribution(low, high, step=step)
    k = round((d.high - d.low) / step)
    assert math.isclose(d.high, d.low + k * step, rel_tol=1e-12, abs_tol=1e-8 * step)
    assert d.low <= d.high <= high
    assert high - d.high < step * (1 + 1e-9)
    if d.high != high:
        assert len(caught) == 1 and "does not divide" in str(caught[0].message)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = FloatDistribution(d.low, d.high, step=step)
    assert again == d


@given(low=st.integers(-(10**6), 10**6), step=st.integers(1, 50), span=st.integers(0, 10**4))
def test_adjusted_int_high_is_the_last_grid_point(low: int, step: int, span: int) -> None:
    """Integers: ``high`` becomes the largest ``low + k * step <= high``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = IntDistribution(low, low + span, step=step)
    assert d.high == low + span // step * step
    assert len(caught) == (0 if span % step == 0 else 1)


def test_ranges_that_a_step_divides_give_no_warning(no_warnings: None) -> None:
    """Ranges valid before (within the float tolerance) stay unchanged."""
    assert FloatDistribution(0.0, 0.9, step=0.3).high == 0.9
    assert FloatDistribution(0.1, 0.7, step=0.2).high == 0.7
    assert FloatDistribution(0.5, 0.5 + 178 * 0.001, step=0.001).high == 0.5 + 178 * 0.001
    assert IntDistribution(1, 9, step=2).high == 9


@pytest.mark.parametrize("sampler_name", ["random", "tpe", "qmc-sobol", "user", "gp"])
def test_suggest_with_a_step_not_dividing_the_range_warns_and_samples_the_grid(
    sampler_name: str, tmp_path: Path
) -> None:
    """``suggest_float``/``suggest_int`` with such a step warn (naming the
    parameter) and go on, on the Rust fast path and the Python path alike; every value
    is on the lowered grid and the recorded distribution is the adjusted one."""
    for storage in _storages(tmp_path):
        study = ferrotune.create_study(storage=storage, sampler=SAMPLERS[sampler_name](0))
        for _ in range(12):
            trial = study.ask()
            with pytest.warns(UserWarning) as record:
                x = trial.suggest_float("x", 0.0, 1.0, step=0.3)
                n = trial.suggest_int("n", 0, 10, step=3)
            messages = [str(w.message) for w in record]
            assert any("parameter 'x'" in m and "lowered to 0.9" in m for m in messages)
            assert any("parameter 'n'" in m and "lowered to 9" in m for m in messages)
            assert x in (0.0, 0.3, 0.6, 0.9) or min(abs(x - g) for g in (0.3, 0.6, 0.9)) < 1e-12
            assert n in (0, 3, 6, 9)
            study.tell(trial, x + n)
        for t in study.trials:
            assert t.distributions["x"] == FloatDistribution(0.0, 0.9, step=0.3)
            assert t.distributions["n"] == IntDistribution(0, 9, step=3)


# ------------------------------------------------------- a step too small for its range
@pytest.mark.parametrize(
    ("low", "high", "step"),
    [(0.0, 1e308, 1e-300), (0.0, 1.0, 5e-324), (-1e300, 1e300, 1e280), (0.0, 1.0, 1e-17)],
)
def test_float_step_too_small_for_the_range_is_rejected_at_construction(
    low: float, high: float, step: float
) -> None:
    """A range of more than 2**53 steps (or infinitely many) used to
    pass validation and then fail every suggest; it is rejected where it is built, on
    every path, with an error naming the parameter and the problem."""
    with pytest.raises(InvalidDistributionError, match=r"2\*\*53"):
        FloatDistribution(low, high, step=step)
    for sampler in (ferrotune.samplers.RandomSampler(seed=0), SAMPLERS["user"](0)):
        study = ferrotune.create_study(sampler=sampler)
        trial = study.ask()
        with pytest.raises(InvalidDistributionError, match=r"parameter 'w'.*2\*\*53"):
            trial.suggest_float("w", low, high, step=step)
        # The trial goes on: another parameter can still be suggested.
        assert 0.0 <= trial.suggest_float("ok", 0.0, 1.0) <= 1.0


# ---------------------------------------------------------- numpy scalars as choices
@pytest.mark.parametrize(
    ("choices", "expected", "warns"),
    [
        ([np.int64(1), np.int64(2)], (1, 2), True),
        ([np.int32(-3), 5], (-3, 5), True),
        ([np.float32(0.5), np.float32(0.25)], (0.5, 0.25), True),
        ([np.bool_(True), np.bool_(False)], (True, False), True),
        ([np.str_("a"), "b"], ("a", "b"), False),
        ([np.float64(1.5), None], (1.5, None), False),
        (np.array([1, 2, 3]), (1, 2, 3), True),
        (np.array([0.5, 1.5]), (0.5, 1.5), False),
    ],
)
def test_numpy_choices_are_converted_to_python_values(
    choices: Any, expected: tuple[Any, ...], warns: bool
) -> None:
    """numpy scalars as categorical choices used to fail; Optuna warns
    and goes on. ferrotune converts them to the Python value they hold (warning as Optuna
    does where the scalar is not a float or str) so storages and samplers see plain
    values, and suggest_categorical returns them on every path."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        d = CategoricalDistribution(choices)
    assert d.choices == expected
    assert [type(c) for c in d.choices] == [type(c) for c in expected]
    assert any("numpy scalars" in str(w.message) for w in caught) == warns
    for sampler_name in ("random", "user", "tpe"):
        study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
        for _ in range(8):
            trial = study.ask()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                v = trial.suggest_categorical("c", choices)
            assert any(type(v) is type(e) and v == e for e in expected)
            study.tell(trial, 0.0)


def test_numpy_choices_persist_in_sqlite(tmp_path: Path) -> None:
    """Converted choices are what the database records and reloads."""
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'np.db'}"
    study = ferrotune.create_study(storage=url, study_name="np")
    with pytest.warns(UserWarning, match="numpy scalars"):
        study.optimize(lambda t: float(t.suggest_categorical("k", np.arange(1, 4))), n_trials=6)
    back = ferrotune.load_study(study_name="np", storage=url)
    assert all(type(t.params["k"]) is int and t.params["k"] in (1, 2, 3) for t in back.trials)


# ------------------------------------------------ fixed values outside the distribution
def _fixed_cases() -> list[tuple[BaseDistribution, Any, Any]]:
    """(distribution, fixed value, value recorded)."""
    return [
        (FloatDistribution(0.0, 1.0), 2.0, 1.0),
        (FloatDistribution(0.0, 1.0), -math.inf, 0.0),
        (FloatDistribution(1e-3, 1.0, log=True), 0.0, 1e-3),
        (FloatDistribution(0.0, 1.0, step=0.25), 0.3, 0.25),
        (FloatDistribution(0.0, 1.0, step=0.25), 0.4, 0.5),
        (FloatDistribution(0.0, 1.0, step=0.25), 7, 1.0),
        (IntDistribution(0, 10), 11, 10),
        (IntDistribution(0, 10), 2.6, 3),
        (IntDistribution(0, 12, step=4), 5, 4),
        (IntDistribution(0, 12, step=4), -100, 0),
        (IntDistribution(1, 100, log=True), 0, 1),
    ]


@pytest.mark.parametrize(("dist", "fixed", "expected"), _fixed_cases())
def test_out_of_range_enqueued_number_warns_and_records_the_nearest_value(
    dist: BaseDistribution, fixed: Any, expected: Any, tmp_path: Path
) -> None:
    """Optuna warns "Fixed parameter ... is out of range" and goes
    on; ferrotune warns, and records the nearest value of the distribution, so no value
    outside its distribution is ever recorded (in memory and in SQLite, reloaded)."""
    for storage in _storages(tmp_path):
        study = ferrotune.create_study(storage=storage, study_name="s")
        study.enqueue_trial({"p": fixed})
        trial = study.ask()
        with pytest.warns(UserWarning, match=r"parameter 'p': fixed value .* out of range"):
            v = suggest(trial, "p", dist)
        assert v == expected and type(v) is type(expected)
        study.tell(trial, 0.0)
        for t in study.trials:
            assert in_distribution(t.distributions["p"], t.params["p"])
            assert t.params["p"] == expected
        if storage is not None:
            back = ferrotune.load_study(study_name="s", storage=storage)
            assert back.trials[0].params["p"] == expected


def test_enqueued_choice_not_among_the_choices_warns_and_samples(tmp_path: Path) -> None:
    """A categorical fixed value that is not a choice (Optuna raises)
    warns and the parameter is sampled among the choices."""
    for storage in _storages(tmp_path):
        study = ferrotune.create_study(
            storage=storage, sampler=ferrotune.samplers.RandomSampler(seed=1)
        )
        seen = set()
        for _ in range(20):
            study.enqueue_trial({"c": "nope", "x": 0.5})
            trial = study.ask()
            with pytest.warns(UserWarning, match=r"parameter 'c': fixed value 'nope' is not"):
                c = trial.suggest_categorical("c", ["a", "b", "c"])
            assert trial.suggest_float("x", 0.0, 1.0) == 0.5
            seen.add(c)
            study.tell(trial, 0.0)
        assert seen == {"a", "b", "c"}


def test_enqueued_value_that_is_not_a_number_is_an_error() -> None:
    """A fixed value that no number can stand for raises (as Optuna), naming the
    parameter."""
    study = ferrotune.create_study()
    for bad in ("abc", None, math.nan):
        study.enqueue_trial({"x": bad})
        trial = study.ask()
        with pytest.raises(InvalidDistributionError, match=r"parameter 'x'"):
            trial.suggest_float("x", 0.0, 1.0)
        study.tell(trial, state=ferrotune.TrialState.FAIL)


@given(dist=distributions, fixed=st.one_of(st.floats(allow_nan=False), st.integers()))
def test_any_fixed_number_gives_a_value_of_the_distribution(
    dist: BaseDistribution, fixed: float
) -> None:
    """Whatever number is enqueued, the trial records a value of the
    distribution: the fixed value itself when it is one, else (with a warning) another."""
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    study.enqueue_trial({"p": fixed})
    trial = study.ask()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v = suggest(trial, "p", dist)
    assert in_distribution(dist, v)
    inside = False
    if not isinstance(dist, CategoricalDistribution):
        inside = dist._contains(float(fixed))
    else:
        inside = any(type(c) is type(fixed) and c == fixed for c in dist.choices)
    if inside:
        assert v == fixed and not caught
    else:
        assert any("fixed value" in str(w.message) for w in caught)
    study.tell(trial, 0.0)
    assert in_distribution(dist, study.trials[0].params["p"])


def test_numpy_scalars_as_fixed_values_match_their_python_values(no_warnings: None) -> None:
    """An enqueued numpy scalar stands for the Python value it holds
    (as in Optuna, where ``np.str_("a")`` is the choice ``"a"``): no warning, no error."""
    study = ferrotune.create_study()
    study.enqueue_trial({"n": np.int64(3), "x": np.float32(0.5), "c": np.str_("b")})
    trial = study.ask()
    assert trial.suggest_int("n", 0, 5) == 3
    assert trial.suggest_float("x", 0, 1) == 0.5
    assert trial.suggest_categorical("c", ["a", "b"]) == "b"
    assert CategoricalDistribution([1, 2]).to_internal_repr(np.int64(2)) == 1.0
    assert CategoricalDistribution([True, 1]).to_internal_repr(np.bool_(True)) == 0.0


@pytest.mark.parametrize(
    "name",
    ["RandomSampler", "TPESampler", "GPSampler", "CmaEsSampler", "QMCSampler", "AutoSampler"],
)
def test_numpy_integer_seeds_are_taken_as_optuna_takes_them(name: str) -> None:
    """'for seed in np.arange(5)' gave numpy integers, refused by every sampler."""
    cls = getattr(ferrotune.samplers, name)

    def run(seed: Any) -> list[dict[str, Any]]:
        study = ferrotune.create_study(sampler=cls(seed=seed))
        study.optimize(lambda t: t.suggest_float("x", 0, 1), n_trials=4)
        return [t.params for t in study.trials]

    assert run(np.int64(7)) == run(7) and run(np.uint8(7)) == run(7)


def test_numpy_values_as_user_attributes_and_catch_none() -> None:
    """trial.set_user_attr('best_epoch', losses.argmin()) failed the trial (a numpy int is
    not JSON); numpy scalars and arrays are stored as Python numbers and lists, at any
    depth. optimize(catch=None), which Optuna takes, raised TypeError."""
    losses = np.array([0.3, 0.2, 0.25])
    study = ferrotune.create_study()

    def objective(t: ferrotune.Trial) -> float:
        t.set_user_attr("best_epoch", losses.argmin())
        t.set_user_attr("curve", {"losses": losses, "ok": np.bool_(True)})
        return float(losses.min())

    study.optimize(objective, n_trials=1, catch=None)
    attrs = study.trials[0].user_attrs
    assert attrs == {"best_epoch": 1, "curve": {"losses": [0.3, 0.2, 0.25], "ok": True}}
    assert type(attrs["best_epoch"]) is int and type(attrs["curve"]["ok"]) is bool
    study.set_user_attr("n", np.int32(3))
    assert study.user_attrs["n"] == 3 and type(study.user_attrs["n"]) is int


def test_reinforce_sizes_are_bounded_and_take_numpy_ints() -> None:
    """hidden_size=100_000 aborted the interpreter (an 80 GB allocation in Rust)."""
    from ferrotune.exceptions import InvalidArgumentError
    from ferrotune.samplers import ReinforceSampler

    ReinforceSampler(hidden_size=np.int64(32), seed=0)
    for kw in ({"hidden_size": 100_000}, {"embedding_size": 10**6}, {"n_bins": 10**9}):
        with pytest.raises(InvalidArgumentError, match=r"must be an int in \["):
            ReinforceSampler(**kw)  # type: ignore[arg-type]

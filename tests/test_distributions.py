"""Distributions: validation, representations, equality, serialisation."""

from __future__ import annotations

import copy
import math
import pickle
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    distribution_to_json,
    json_to_distribution,
)
from ferrotune.exceptions import InvalidArgumentError, InvalidDistributionError
from tests._support import distributions, in_distribution, same_choice


@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: FloatDistribution(1.0, 0.0), "low"),
        (lambda: FloatDistribution(0.0, 1.0, log=True), "log"),
        (lambda: FloatDistribution(-1.0, 1.0, log=True), "log"),
        (lambda: FloatDistribution(0.1, 1.0, log=True, step=0.1), "step"),
        (lambda: FloatDistribution(0.0, 1e308, step=1e-300), "2**53"),
        (lambda: FloatDistribution(0.0, 1.0, step=5e-324), "2**53"),
        (lambda: FloatDistribution(-1e300, 1e300, step=1e280), "2**53"),
        (lambda: FloatDistribution(0.0, 1.0, step=0.0), "step"),
        (lambda: FloatDistribution(0.0, 1.0, step=-0.5), "step"),
        (lambda: FloatDistribution(0.0, math.inf), "finite"),
        (lambda: FloatDistribution(-math.inf, 0.0), "finite"),
        (lambda: FloatDistribution(math.nan, 1.0), "finite"),
        (lambda: IntDistribution(5, 1), "low"),
        (lambda: IntDistribution(0, 10, step=0), "step"),
        (lambda: IntDistribution(0, 10, log=True), "log"),
        (lambda: IntDistribution(1, 9, step=2, log=True), "log"),
        (lambda: IntDistribution(0.5, 3), "low"),  # type: ignore[arg-type]
        (lambda: IntDistribution(0, True), "high"),  # type: ignore[arg-type]
        (lambda: CategoricalDistribution([]), "empty"),
        (lambda: CategoricalDistribution(["a", "b", "a"]), "twice"),
        (lambda: CategoricalDistribution([1.0, 1.0]), "twice"),
        (lambda: CategoricalDistribution([[1], [2]]), "type"),
        (lambda: CategoricalDistribution("abc"), "sequence"),
    ],
)
def test_invalid_arguments_are_rejected(make: Any, needle: str) -> None:
    with pytest.raises(InvalidDistributionError) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert needle in str(info.value)


def test_valid_edge_cases() -> None:
    assert FloatDistribution(0.0, 0.9, step=0.3).step == 0.3
    assert FloatDistribution(1.5, 1.5).single()
    assert FloatDistribution(1.0, 1.0, log=True).single()
    assert IntDistribution(3, 3).single()
    assert IntDistribution(1, 9, step=2).high == 9
    assert IntDistribution(2.0, 4.0).low == 2  # type: ignore[arg-type]
    assert CategoricalDistribution(["only"]).single()
    assert not CategoricalDistribution([1, 2]).single()


def test_categorical_choices_of_equal_value_but_different_type_are_distinct() -> None:
    d = CategoricalDistribution([1, 1.0, True, "1", None])
    assert len(d.choices) == 5
    indices = [d.to_internal_repr(c) for c in d.choices]
    assert indices == [0.0, 1.0, 2.0, 3.0, 4.0]
    for c in d.choices:
        assert same_choice(d.to_external_repr(d.to_internal_repr(c)), c)


def test_a_value_equal_to_one_choice_stands_for_it() -> None:
    """As Optuna's ``choices.index(v)``: 64.0 (a DataFrame column with NaN, a numpy float)
    is the choice 64 when no choice has its type; a value equal to several choices, or
    only of another kind (strings against numbers), is not a choice."""
    d = CategoricalDistribution([32, 64, 128])
    assert d.to_internal_repr(64.0) == 1.0
    assert d.to_internal_repr(np.float64(128.0)) == 2.0
    assert CategoricalDistribution([10, 100]).to_internal_repr(1e2) == 1.0
    # Of its own type first: True is the choice True, not 1.
    both = CategoricalDistribution([1, True])
    assert both.to_internal_repr(True) == 1.0 and both.to_internal_repr(1) == 0.0
    with pytest.raises(InvalidDistributionError, match=r"1\.0 is not one of the choices"):
        both.to_internal_repr(1.0)
    with pytest.raises(InvalidDistributionError):
        CategoricalDistribution(["1", "2"]).to_internal_repr(1)
    with pytest.raises(InvalidDistributionError):
        CategoricalDistribution([1, 2]).to_internal_repr("1")


def test_enqueued_and_grid_values_equal_to_a_choice_are_that_choice() -> None:
    choices = [32, 64, 128]
    study = ferrotune.create_study(sampler=ferrotune.samplers.RandomSampler(seed=0))
    for _ in range(5):
        study.enqueue_trial({"u": 64.0})
    study.optimize(lambda t: float(t.suggest_categorical("u", choices)), n_trials=5)
    assert [t.params["u"] for t in study.trials] == [64] * 5
    assert all(type(t.params["u"]) is int for t in study.trials)
    grid = ferrotune.create_study(sampler=ferrotune.samplers.GridSampler({"u": [32.0, 64.0]}))
    grid.optimize(lambda t: float(t.suggest_categorical("u", [32, 64])), n_trials=4)
    assert sorted(t.params["u"] for t in grid.trials) == [32, 64]


def test_a_grid_value_that_is_no_choice_is_named() -> None:
    grid = ferrotune.create_study(sampler=ferrotune.samplers.GridSampler({"u": ["z", "a"]}))
    with (
        pytest.warns(UserWarning),
        pytest.raises(InvalidArgumentError, match="grid value is not a value of"),
    ):
        grid.optimize(lambda t: len(t.suggest_categorical("u", ["a", "b"])), n_trials=2)


def test_categorical_nan_choice() -> None:
    d = CategoricalDistribution([math.nan, 0.0])
    assert d.to_internal_repr(math.nan) == 0.0
    assert math.isnan(d.to_external_repr(0.0))
    with pytest.raises(InvalidDistributionError):
        CategoricalDistribution([math.nan, float("nan")])


def test_value_not_a_choice() -> None:
    d = CategoricalDistribution(["a", "b"])
    with pytest.raises(InvalidDistributionError, match="'c'"):
        d.to_internal_repr("c")
    with pytest.raises(InvalidDistributionError):
        FloatDistribution(0, 1).to_internal_repr("x")
    with pytest.raises(InvalidDistributionError):
        IntDistribution(0, 1).to_internal_repr(None)


@given(dist=distributions, data=st.data())
def test_internal_repr_round_trips(dist: Any, data: st.DataObject) -> None:
    if isinstance(dist, CategoricalDistribution):
        value = data.draw(st.sampled_from(dist.choices))
    elif isinstance(dist, IntDistribution):
        k = data.draw(st.integers(0, (dist.high - dist.low) // dist.step))
        value = dist.low + k * dist.step
    elif dist.step is not None:
        k = data.draw(st.integers(0, round((dist.high - dist.low) / dist.step)))
        value = min(dist.high, dist.low + k * dist.step)
    else:
        value = data.draw(st.floats(dist.low, dist.high))
    internal = dist.to_internal_repr(value)
    assert isinstance(internal, float)
    assert dist._contains(internal)
    back = dist.to_external_repr(internal)
    assert same_choice(back, value)
    assert in_distribution(dist, back)


@given(dist=distributions)
def test_json_round_trip(dist: Any) -> None:
    back = json_to_distribution(distribution_to_json(dist))
    assert back == dist
    assert hash(back) == hash(dist)
    assert type(back) is type(dist)


def test_json_rejects_unknown_names() -> None:
    with pytest.raises(InvalidDistributionError):
        json_to_distribution('{"name": "UniformDistribution", "attributes": {}}')


def test_equality_and_hash() -> None:
    assert FloatDistribution(0, 1) == FloatDistribution(0.0, 1.0)
    assert FloatDistribution(0, 1) != FloatDistribution(0, 1, step=0.5)
    assert FloatDistribution(1, 2) != FloatDistribution(1, 2, log=True)
    assert FloatDistribution(0, 1) != IntDistribution(0, 1)
    assert IntDistribution(0, 4, step=2) != IntDistribution(0, 4)
    assert CategoricalDistribution([1, 2]) != CategoricalDistribution([2, 1])
    assert CategoricalDistribution([1, 2]) != CategoricalDistribution([1.0, 2.0])
    assert FloatDistribution(0, 1) != "FloatDistribution(0, 1)"
    assert len({FloatDistribution(0, 1), FloatDistribution(0.0, 1.0), IntDistribution(0, 1)}) == 2


@given(dist=distributions)
def test_contains_agrees_with_an_independent_check(dist: Any) -> None:
    probes: list[float] = []
    if isinstance(dist, CategoricalDistribution):
        probes = [-1.0, 0.0, 0.5, float(len(dist.choices) - 1), float(len(dist.choices))]
    else:
        lo, hi = float(dist.low), float(dist.high)
        probes = [lo, hi, lo - 1.0, hi + 1.0, (lo + hi) / 2, math.nan, math.inf]
        if isinstance(dist, IntDistribution):
            probes += [lo + dist.step, lo + 0.5]
        elif dist.step is not None:
            probes += [lo + dist.step / 2]
    for x in probes:
        if isinstance(dist, CategoricalDistribution):
            expected = x >= 0 and x == int(x) and x < len(dist.choices)
        else:
            value = int(x) if isinstance(dist, IntDistribution) and x == x and x % 1 == 0 else x
            expected = in_distribution(dist, value) if math.isfinite(x) else False
        assert dist._contains(x) == expected, (dist, x)


def test_pickle_and_deepcopy() -> None:
    """Distributions travel inside FrozenTrials, which users pickle and deep-copy (as
    with Optuna's distributions)."""
    dists = [
        FloatDistribution(0.0, 1.0),
        FloatDistribution(1e-5, 1e-2, log=True),
        FloatDistribution(0.0, 1.0, step=0.25),
        IntDistribution(1, 9, step=2),
        CategoricalDistribution(["a", None, 1]),
    ]
    for dist in dists:
        for clone in (pickle.loads(pickle.dumps(dist)), copy.deepcopy(dist)):
            assert clone == dist
            value = dist.choices[-1] if isinstance(dist, CategoricalDistribution) else dist.high
            assert clone._contains(clone.to_internal_repr(value))


def test_json_to_distribution_reads_optunas_old_names_and_abbreviated_form() -> None:
    """What Optuna 5's json_to_distribution reads: the distributions deprecated in 3.0 (old
    databases and CLI search spaces hold them) and the abbreviated {"type": ...} form."""
    import json

    from ferrotune.distributions import json_to_distribution
    from ferrotune.exceptions import InvalidDistributionError

    def read(name: str, **attrs: Any) -> Any:
        return json_to_distribution(json.dumps({"name": name, "attributes": attrs}))

    assert read("UniformDistribution", low=0, high=2) == FloatDistribution(0, 2)
    assert read("LogUniformDistribution", low=1e-3, high=1) == FloatDistribution(1e-3, 1, log=True)
    assert read("DiscreteUniformDistribution", low=0, high=1, q=0.25) == FloatDistribution(
        0, 1, step=0.25
    )
    assert read("IntUniformDistribution", low=1, high=9, step=2) == IntDistribution(1, 9, step=2)
    assert read("IntLogUniformDistribution", low=1, high=64, step=1) == IntDistribution(
        1, 64, log=True
    )
    short = json_to_distribution('{"type": "int", "low": 2, "high": 8, "log": true}')
    assert short == IntDistribution(2, 8, log=True)
    assert json_to_distribution('{"type": "float", "low": 0, "high": 1}') == FloatDistribution(0, 1)
    cat = json_to_distribution('{"type": "categorical", "choices": ["a", null]}')
    assert cat == CategoricalDistribution(["a", None])
    for bad in (
        '{"name": "NoSuchDistribution", "attributes": {"low": 0, "high": 1}}',
        '{"name": "UniformDistribution", "attributes": {"low": 0}}',
        '{"type": "complex"}',
        "[1, 2]",
        '{"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 8, "step": 2}}',
        '{"name": "UniformDistribution", "attributes": {"low": 0, "high": 1, "q": 0.5}}',
    ):
        with pytest.raises(InvalidDistributionError):
            json_to_distribution(bad)


def test_a_value_far_from_low_must_lie_on_the_step_grid() -> None:
    """The grid check's tolerance grew with the step count, so far from ``low`` nearly a
    whole step of error passed: high stayed 1e8 + 0.4 for step 1, and an enqueued
    1e6 + 0.005 was kept as given."""
    import warnings as _w

    from ferrotune.distributions import FloatDistribution

    with pytest.warns(UserWarning, match="high is lowered"):
        assert FloatDistribution(0, 1e8 + 0.4, step=1).high == 1e8
    study = ferrotune.create_study()
    study.enqueue_trial({"x": 1e6 + 0.005})
    with _w.catch_warnings():
        _w.simplefilter("ignore")
        trial = study.ask()
        assert trial.suggest_float("x", 0, 2e6, step=1) == 1e6
    # Grid points themselves, far from zero, still pass.
    assert FloatDistribution(131072, 131072.001, step=0.001).high == 131072.001


def test_a_stepped_int_grid_wider_than_2_to_53_is_refused() -> None:
    """Samplers computed such grids in doubles and proposed values off the grid, which
    the suggest then refused partway through a study."""
    from ferrotune.exceptions import InvalidDistributionError

    study = ferrotune.create_study()
    trial = study.ask()
    with pytest.raises(InvalidDistributionError, match="at most 2\\^53"):
        trial.suggest_int("x", -(2**53) + 1, 2**53 - 2, step=3)
    assert trial.suggest_int("y", -(2**53) + 1, 2**53 - 1) % 1 == 0

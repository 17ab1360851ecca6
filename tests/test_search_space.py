"""Declared search spaces: conditions (nested), hard constraints, validation."""

from __future__ import annotations

import warnings
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

import ferrotune
from ferrotune import Condition, Divisible, Forbidden, Linear, SearchSpace
from ferrotune.distributions import (
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import (
    InfeasibleSpaceError,
    InvalidDistributionError,
    InvalidSpaceError,
)
from ferrotune.samplers import RandomSampler
from tests._support import SAMPLERS, SpaceSpec, space_specs

C = CategoricalDistribution
F = FloatDistribution
I = IntDistribution  # noqa: E741

NESTED_CONDITIONS = {
    "optimizer": ("model", ["mlp"]),
    "lr": ("model", ["mlp"]),
    "momentum": ("optimizer", ["sgd"]),
    "nesterov": ("momentum", [0.9, 0.99]),
    "depth": ("model", ["tree", "forest"]),
    "n_trees": ("model", ["forest"]),
}


def _nested_space() -> tuple[SearchSpace, SpaceSpec]:
    dists = {
        # Declared children-first on purpose: the space orders parents first itself.
        "nesterov": C([True, False]),
        "momentum": C([0.0, 0.9, 0.99]),
        "optimizer": C(["sgd", "adam"]),
        "lr": F(1e-4, 1.0, log=True),
        "model": C(["mlp", "tree", "forest"]),
        "depth": I(1, 12),
        "n_trees": I(10, 500, step=10),
    }
    space = SearchSpace(
        dists,
        conditions={c: Condition(p, v) for c, (p, v) in NESTED_CONDITIONS.items()},
        constraints=[Linear({"depth": 1.0, "n_trees": 0.02}, upper=15.0)],
    )
    spec = SpaceSpec(
        dists=dists,
        conditions=dict(NESTED_CONDITIONS),
        order=["model", "optimizer", "lr", "momentum", "nesterov", "depth", "n_trees"],
        linear=[({"depth": 1.0, "n_trees": 0.02}, None, 15.0)],
    )
    return space, spec


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_nested_conditions_present_exactly_when_they_hold(sampler_name: str) -> None:
    space, spec = _nested_space()
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](1))
    branches = set()
    for _ in range(600):
        trial = study.ask(space)
        p = trial.params
        assert spec.violations(p) == [], p
        # Spelled out for the deepest chain: nesterov needs model=mlp, optimizer=sgd
        # and momentum > 0.
        deep = p["model"] == "mlp" and p.get("optimizer") == "sgd" and p["momentum"] > 0
        assert ("nesterov" in p) == deep
        branches.add(tuple(sorted(p)))
        study.tell(trial, 0.0)
    # Every branch of the tree occurs: forest, tree, mlp+adam, mlp+sgd(0), mlp+sgd(>0).
    assert len(branches) == 5


def test_condition_accepts_a_tuple_and_a_single_string_value() -> None:
    space = SearchSpace(
        {"opt": C(["adam", "sgd"]), "beta": F(0.0, 1.0)}, conditions={"beta": ("opt", "adam")}
    )
    assert space.conditions["beta"] == Condition("opt", ["adam"])
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    for _ in range(100):
        p = study.ask(space).params
        assert ("beta" in p) == (p["opt"] == "adam")


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_each_constraint_kind_holds_on_every_draw(sampler_name: str) -> None:
    space = SearchSpace(
        {
            "x": F(0.0, 1.0),
            "y": F(0.0, 1.0),
            "a": I(1, 30),
            "b": I(1, 10),
            "act": C(["relu", "gelu", "tanh"]),
            "layers": I(1, 4),
            "z": F(-1.0, 1.0),
        },
        constraints=[
            Linear({"x": 1.0, "y": 2.0}, upper=1.5),
            Linear({"x": 1.0, "y": -1.0}, lower=-0.5),
            Divisible("a", "b"),
            Forbidden({"act": "tanh", "layers": 4}),
            Forbidden({"act": "relu"}),
            lambda p: p["z"] ** 2 <= 0.5,
        ],
    )
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](2))
    pairs = set()
    for _ in range(500):
        p = study.ask(space).params
        assert p["x"] + 2 * p["y"] <= 1.5 + 1e-9
        assert p["x"] - p["y"] >= -0.5 - 1e-9
        assert p["a"] % p["b"] == 0
        assert p["act"] != "relu"
        assert not (p["act"] == "tanh" and p["layers"] == 4)
        assert p["z"] ** 2 <= 0.5
        pairs.add((p["a"], p["b"]))
    assert (1, 1) in pairs and (30, 10) in pairs and len(pairs) > 40


def test_constraint_with_an_inactive_parameter_does_not_apply() -> None:
    space = SearchSpace(
        {"use": C([True, False]), "k": I(1, 10), "x": F(0.0, 1.0)},
        conditions={"k": ("use", [True])},
        constraints=[Linear({"k": 1.0}, upper=3.0), Forbidden({"k": 2})],
    )
    study = ferrotune.create_study(sampler=RandomSampler(seed=3))
    seen_inactive = False
    for _ in range(300):
        p = study.ask(space).params
        if p["use"]:
            assert p["k"] in (1, 3)
        else:
            assert "k" not in p
            seen_inactive = True
    assert seen_inactive


def test_predicates_receive_the_active_parameters_only() -> None:
    received: list[dict[str, Any]] = []

    def predicate(p: dict[str, Any]) -> bool:
        received.append(dict(p))
        return True

    space = SearchSpace(
        {"opt": C(["adam", "sgd"]), "beta": F(0.0, 1.0), "lr": F(0.1, 1.0)},
        conditions={"beta": ("opt", ["adam"])},
        constraints=[predicate],
    )
    study = ferrotune.create_study(sampler=RandomSampler(seed=4))
    for _ in range(100):
        study.ask(space)
    assert received
    for p in received:
        assert ("beta" in p) == (p["opt"] == "adam")
        assert set(p) <= {"opt", "beta", "lr"}


def test_is_feasible() -> None:
    space, _ = _nested_space()
    assert space.is_feasible({"model": "tree", "depth": 3})
    assert not space.is_feasible({"model": "tree"})  # depth missing
    assert not space.is_feasible({"model": "tree", "depth": 3, "lr": 0.1})  # lr inactive
    assert not space.is_feasible({"model": "tree", "depth": 13})  # outside
    assert not space.is_feasible({"model": "forest", "depth": 12, "n_trees": 500})  # linear
    assert space.is_feasible({"model": "forest", "depth": 5, "n_trees": 500})
    assert not space.is_feasible({"model": "svm"})
    assert not space.is_feasible({"model": "tree", "depth": 3, "unknown": 1})


@given(spec=space_specs(max_params=4))
def test_every_draw_is_feasible_by_is_feasible(spec: SpaceSpec) -> None:
    space = spec.build()
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    for _ in range(10):
        assert space.is_feasible(study.ask(space).params)


@given(seed=st.integers(0, 2**32))
def test_enqueued_values_are_used_in_a_declared_space(seed: int) -> None:
    space, spec = _nested_space()
    study = ferrotune.create_study(sampler=RandomSampler(seed=seed))
    study.enqueue_trial({"model": "mlp", "optimizer": "sgd", "momentum": 0.9})
    p = study.ask(space).params
    assert p["model"] == "mlp" and p["optimizer"] == "sgd" and p["momentum"] == 0.9
    assert "nesterov" in p and "depth" not in p
    assert spec.violations(p) == []


def _kind_space() -> SearchSpace:
    return SearchSpace({"kind": C(["a", "b"]), "x": F(0.0, 1.0)}, conditions={"x": ("kind", "a")})


@pytest.mark.parametrize("value", [5.0, "abc"])
def test_enqueued_values_for_inactive_parameters_are_ignored(value: Any) -> None:
    # As in Optuna: a value for a parameter that the row leaves out is never checked.
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.enqueue_trial({"kind": "b", "x": value})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        trial = study.ask(_kind_space())
    assert trial.params == {"kind": "b"}
    assert study.tell(trial, 1.0).state == ferrotune.trial.TrialState.COMPLETE


def test_enqueued_values_for_active_parameters_are_still_checked() -> None:
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.enqueue_trial({"kind": "a", "x": 5.0})
    with pytest.warns(UserWarning, match="'x'.*out of range"):
        trial = study.ask(_kind_space())
    assert trial.params == {"kind": "a", "x": 1.0}
    study.enqueue_trial({"kind": "a", "x": "abc"})
    with pytest.raises(InvalidDistributionError, match="'x'"):
        study.ask(_kind_space())
    assert study.trials[-1].state == ferrotune.trial.TrialState.FAIL
    assert study.trials[-1].params == {}


def test_declared_params_are_recorded_with_their_distributions() -> None:
    space, _ = _nested_space()
    study = ferrotune.create_study(sampler=RandomSampler(seed=5))
    trial = study.ask(space)
    frozen = study.tell(trial, 1.0)
    assert frozen.params == trial.params
    for name in frozen.params:
        assert frozen.distributions[name] == space.distributions[name]


def test_define_by_run_keeps_a_declared_parameters_value() -> None:
    space = SearchSpace({"x": F(0.0, 1.0)})
    study = ferrotune.create_study(sampler=RandomSampler(seed=5))
    trial = study.ask(space)
    x = trial.params["x"]
    assert trial.suggest_float("x", 0.0, 1.0) == x
    with pytest.warns(RuntimeWarning, match="suggested before"):
        assert trial.suggest_float("x", 0.0, 2.0) == x  # the declared value stands
    with pytest.raises(ferrotune.exceptions.IncompatibleDistributionError):
        trial.suggest_int("x", 0, 2)


def test_enumerated_constraints_cover_every_feasible_combination() -> None:
    space = SearchSpace(
        {"a": I(1, 12), "b": I(1, 12), "c": C([2, 3])},
        constraints=[Divisible("a", "b"), Divisible("b", "c")],
    )
    feasible = {
        (a, b, c) for a in range(1, 13) for b in range(1, 13) for c in (2, 3) if a % b == b % c == 0
    }
    study = ferrotune.create_study(sampler=RandomSampler(seed=6))
    seen = set()
    for _ in range(3000):
        p = study.ask(space).params
        seen.add((p["a"], p["b"], p["c"]))
    assert seen == feasible


# ----------------------------------------------------------------------- validation
@pytest.mark.parametrize(
    ("make", "needle"),
    [
        (lambda: SearchSpace({}), "parameter"),
        (lambda: SearchSpace({"": F(0, 1)}), "''"),
        (lambda: SearchSpace({"x": (0, 1)}), "x"),  # type: ignore[dict-item]
        (lambda: SearchSpace({"x": F(0, 1)}, max_draws=0), "max_draws"),
        (lambda: SearchSpace({"x": F(0, 1)}, conditions={"y": ("x", [0])}), "y"),
        (lambda: SearchSpace({"x": F(0, 1)}, conditions={"x": ("p", [0])}), "p"),
        (
            lambda: SearchSpace({"o": C(["a", "b"]), "x": F(0, 1)}, conditions={"x": ("o", ["c"])}),
            "x",
        ),
        (lambda: SearchSpace({"x": I(0, 4)}, constraints=[Divisible("x", "nope")]), "nope"),
        (lambda: SearchSpace({"x": I(0, 4)}, constraints=[Linear({"ghost": 1}, upper=1)]), "ghost"),
        (lambda: SearchSpace({"x": I(0, 4)}, constraints=[Forbidden({"x": 1, "w": 2})]), "w"),
        (lambda: SearchSpace({"x": I(0, 4)}, constraints=[Forbidden({"x": 9})]), "x"),
        (lambda: SearchSpace({"x": F(0, 1), "n": I(1, 3)}, constraints=[Divisible("x", "n")]), "x"),
        (
            lambda: SearchSpace(
                {"s": C(["a"]), "x": F(0, 1)}, constraints=[Linear({"s": 1}, upper=1)]
            ),
            "s",
        ),
        (lambda: SearchSpace({"x": F(0, 1)}, constraints=["x < 1"]), "constraint"),  # type: ignore[list-item]
        (lambda: Linear({"x": 1.0}), "upper"),
        (lambda: Linear({"x": 1.0}, lower=0.8, upper=0.2), "lower=0.8"),
        (
            lambda: SearchSpace({"a": F(0, 1), "b": F(0, 1)}, conditions={"b": ("a", [0.5])}),
            "'a', a float without a step",
        ),
    ],
    ids=[
        "no-params",
        "empty-name",
        "not-a-distribution",
        "max-draws",
        "condition-on-unknown-child",
        "condition-on-unknown-parent",
        "condition-value-not-a-parent-value",
        "divisible-unknown",
        "linear-unknown",
        "forbidden-unknown",
        "forbidden-value-outside",
        "divisible-on-float",
        "linear-on-strings",
        "unknown-constraint-type",
        "linear-without-bounds",
        "linear-lower-above-upper",
        "condition-on-a-continuous-float",
    ],
)
def test_malformed_spaces_are_rejected(make: Any, needle: str) -> None:
    with pytest.raises(InvalidSpaceError) as info:
        make()
    assert isinstance(info.value, ValueError)
    assert needle in str(info.value)


@pytest.mark.parametrize(
    "conditions",
    [
        {"a": ("b", [1]), "b": ("a", [1])},
        {"a": ("b", [1]), "b": ("c", [1]), "c": ("a", [1])},
        {"a": ("a", [1])},
    ],
    ids=["two", "three", "self"],
)
def test_condition_cycles_are_rejected(conditions: dict[str, Any]) -> None:
    dists = {n: C([1, 2]) for n in "abc"}
    with pytest.raises(InvalidSpaceError, match="cycle"):
        SearchSpace(dists, conditions=conditions)


def test_empty_enumerated_feasible_set_is_reported_when_the_space_is_built() -> None:
    with pytest.raises(InfeasibleSpaceError, match='"a", "b"'):
        SearchSpace({"a": C([3, 5, 7]), "b": C([2, 4])}, constraints=[Divisible("a", "b")])
    with pytest.raises(InfeasibleSpaceError):
        SearchSpace({"a": I(0, 3)}, constraints=[Linear({"a": 1.0}, lower=4.0)])


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_infeasible_space_with_default_max_draws_raises(sampler_name: str) -> None:
    """An empty feasible set that only rejection can discover still ends in an error."""
    space = SearchSpace(
        {"x": F(0.0, 1.0), "y": F(0.0, 1.0)}, constraints=[Linear({"x": 1, "y": 1}, lower=2.5)]
    )
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
    with pytest.raises(InfeasibleSpaceError):
        study.ask(space)


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_enqueued_values_in_a_declared_space_keep_the_constraints(sampler_name: str) -> None:
    space = SearchSpace(
        {"a": I(1, 12), "b": I(1, 12), "x": F(0.0, 1.0)}, constraints=[Divisible("a", "b")]
    )
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
    bs = set()
    for _ in range(40):
        study.enqueue_trial({"a": 6})
        p = study.ask(space).params
        assert p["a"] == 6 and 6 % p["b"] == 0, p
        bs.add(p["b"])
    assert bs == {1, 2, 3, 6}
    study.enqueue_trial({"a": 5, "b": 2})
    with pytest.raises(InfeasibleSpaceError):
        study.ask(space)


@pytest.mark.parametrize("sampler_name", list(SAMPLERS))
def test_stepped_float_values_in_conditions_and_forbidden_name_their_grid_points(
    sampler_name: str,
) -> None:
    """A stepped float's grid value 0 + 3 * 0.1 is 0.30000000000000004: a Forbidden
    value or a condition's value written 0.3 still names it."""
    space = SearchSpace(
        {"x": F(0.0, 1.0, step=0.1), "k": I(0, 3), "m": I(0, 1)},
        conditions={"m": Condition("x", [0.3, 0.5])},
        constraints=[Forbidden({"x": 0.7}), Forbidden({"x": 0.4, "k": 1})],
    )
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
    study.optimize(lambda t: t.params["x"] + t.params["k"], n_trials=60, space=space)
    for t in study.trials:
        x, k = t.params["x"], t.params["k"]
        step = round(x / 0.1)
        assert step != 7 and not (step == 4 and k == 1), t.params
        assert ("m" in t.params) == (step in (3, 5)), t.params
    grid = space.grid()
    # 10 x-values (0.7 forbidden) x 4 k-values, less (0.4, 1); m doubles x = 0.3 and 0.5.
    assert len(grid) == 10 * 4 - 1 + 2 * 4
    assert space.is_feasible({"x": 0.3, "k": 0, "m": 1})
    assert not space.is_feasible({"x": 0.1 * 7, "k": 0})
    assert not space.is_feasible({"x": 0.3, "k": 0})  # m is active at 0.3


def test_a_condition_takes_one_value_alone() -> None:
    space = SearchSpace({"n": I(1, 3), "m": I(0, 1)}, conditions={"m": Condition("n", 3)})
    assert space.conditions["m"] == Condition("n", [3])
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: 0.0, n_trials=30, space=space)
    assert all(("m" in t.params) == (t.params["n"] == 3) for t in study.trials)


def test_a_predicate_reading_an_inactive_parameter_does_not_apply() -> None:
    space = SearchSpace(
        {"opt": C(["adam", "sgd"]), "beta1": F(0.8, 0.99)},
        conditions={"beta1": Condition("opt", ["adam"])},
        constraints=[lambda p: p["beta1"] < 0.9],
    )
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    study.optimize(lambda t: 0.0, n_trials=40, space=space)
    assert {t.params["opt"] for t in study.trials} == {"adam", "sgd"}
    assert all(t.params["beta1"] < 0.9 for t in study.trials if t.params["opt"] == "adam")
    # A KeyError for a name the space does not have is the predicate's own bug.
    bad = SearchSpace({"x": F(0.0, 1.0)}, constraints=[lambda p: p["typo"] < 1])
    with pytest.raises(KeyError):
        ferrotune.create_study().ask(bad)

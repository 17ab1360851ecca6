"""The conformance suite every sampler passes.

Two registries: ``tests._support.SAMPLERS`` (samplers that draw any define-by-run or
declared space: random, QMC, TPE, GP and a minimal user-written BaseSampler), run
through hypothesis-generated distributions and spaces; and ``CLASSES`` below, which
lists every public sampler class once (the registry test fails when a class is missing)
for the checks every class must pass: values inside their distributions (bounds, step
grids, log ranges, choices), seeds reproduce, declared spaces never violated (conditions,
constraints, predicates), pickling continues the sequence, ``reseed_rng`` changes it,
and ``optimize(n_jobs=2)`` works. A new sampler adds one entry to ``CLASSES``.
"""

from __future__ import annotations

import math
import pickle
from collections.abc import Callable
from dataclasses import dataclass
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
from ferrotune.exceptions import InfeasibleSpaceError
from ferrotune.samplers import (
    AutoSampler,
    BaseSampler,
    BOHBSampler,
    BruteForceSampler,
    CmaEsSampler,
    DEHBSampler,
    DESampler,
    GASampler,
    GPSampler,
    GridSampler,
    HypergradientSampler,
    NSGAIIISampler,
    NSGAIISampler,
    PartialFixedSampler,
    PSOSampler,
    QMCSampler,
    RandomSampler,
    ReinforceSampler,
    RFSampler,
    TPESampler,
    TrustRegionSampler,
)
from ferrotune.trial import TrialState
from tests._support import (
    SAMPLERS,
    distributions,
    in_distribution,
    same_choice,
    space_specs,
    suggest,
)

SAMPLER_NAMES = list(SAMPLERS)
N_TRIALS = 12

seeds = st.integers(0, 2**64 - 1)


def _run_define_by_run(
    sampler_name: str, seed: int, dists: list[Any], n_trials: int = N_TRIALS
) -> list[dict[str, Any]]:
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](seed))
    returned = []
    for i in range(n_trials):
        trial = study.ask()
        values = {f"p{k}": suggest(trial, f"p{k}", d) for k, d in enumerate(dists)}
        returned.append(values)
        study.tell(trial, float(i))
    return returned


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
@given(dists=st.lists(distributions, min_size=1, max_size=5), seed=seeds)
def test_define_by_run_values_are_inside_their_distributions(
    sampler_name: str, dists: list[Any], seed: int
) -> None:
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](seed))
    for i in range(N_TRIALS):
        trial = study.ask()
        values = {}
        for k, d in enumerate(dists):
            v = suggest(trial, f"p{k}", d)
            assert in_distribution(d, v), (f"p{k}", d, v)
            # A repeated suggestion of the same name and distribution is the same value.
            assert same_choice(suggest(trial, f"p{k}", d), v)
            values[f"p{k}"] = v
        frozen = study.tell(trial, float(i))
        assert frozen.params.keys() == values.keys()
        for name, v in values.items():
            assert same_choice(frozen.params[name], v), (name, frozen.params[name], v)
        assert frozen.distributions == {f"p{k}": d for k, d in enumerate(dists)}


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
@given(dists=st.lists(distributions, min_size=1, max_size=4), seed=seeds)
def test_same_seed_same_sequence(sampler_name: str, dists: list[Any], seed: int) -> None:
    a = _run_define_by_run(sampler_name, seed, dists)
    b = _run_define_by_run(sampler_name, seed, dists)
    assert len(a) == len(b)
    for ra, rb in zip(a, b, strict=True):
        assert all(same_choice(ra[k], rb[k]) for k in ra), (ra, rb)


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_different_seeds_give_different_sequences(sampler_name: str) -> None:
    dists = [FloatDistribution(0.0, 1.0), FloatDistribution(-5.0, 5.0)]
    a = _run_define_by_run(sampler_name, 1, dists, n_trials=8)
    b = _run_define_by_run(sampler_name, 2, dists, n_trials=8)
    assert a != b


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
@given(spec=space_specs(), seed=seeds)
def test_declared_space_draws_never_violate_the_space(
    sampler_name: str, spec: Any, seed: int
) -> None:
    space = spec.build()
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](seed))
    for i in range(N_TRIALS):
        trial = study.ask(space)
        params = trial.params
        assert spec.violations(params) == [], params
        assert space.is_feasible(params)
        study.tell(trial, float(i))
    for frozen in study.trials:
        assert spec.violations(frozen.params) == []


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
@given(spec=space_specs(max_params=4), seed=seeds)
def test_declared_space_same_seed_same_sequence(sampler_name: str, spec: Any, seed: int) -> None:
    space = spec.build()

    def run() -> list[dict[str, Any]]:
        study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](seed))
        for _ in range(6):
            study.tell(study.ask(space), 0.0)
        return [t.params for t in study.trials]

    a, b = run(), run()
    for ra, rb in zip(a, b, strict=True):
        assert ra.keys() == rb.keys()
        assert all(same_choice(ra[k], rb[k]) for k in ra), (ra, rb)


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_declared_space_mixed_with_define_by_run(sampler_name: str) -> None:
    """The declared part keeps its constraint when the objective also suggests values,
    including after the first trial (when a joint sampler models the history)."""
    space = ferrotune.SearchSpace(
        {
            "d_model": CategoricalDistribution([96, 128, 192, 256, 512]),
            "n_heads": CategoricalDistribution([3, 4, 6, 8, 16]),
            "x": FloatDistribution(0.0, 1.0),
            "y": FloatDistribution(0.0, 1.0),
        },
        constraints=[
            ferrotune.Divisible("d_model", "n_heads"),
            ferrotune.Linear({"x": 1.0, "y": 1.0}, upper=1.0),
        ],
    )
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](3))

    def objective(trial: ferrotune.Trial) -> float:
        p = trial.params
        assert p["d_model"] % p["n_heads"] == 0
        assert p["x"] + p["y"] <= 1.0 + 1e-9
        w = trial.suggest_int("warmup", 0, 4000, step=100)
        assert 0 <= w <= 4000 and w % 100 == 0
        return p["x"] + w

    study.optimize(objective, n_trials=150, space=space)
    states = {t.state for t in study.trials}
    assert states == {ferrotune.TrialState.COMPLETE}
    assert len(study.trials) == 150


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_dynamic_ranges_stay_in_bounds(sampler_name: str) -> None:
    """Optuna's define-by-run idiom: a range that depends on an earlier value. Every
    value must lie in the range asked for in *its* trial, whatever earlier trials used."""
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0.0, 1.0)
        y = trial.suggest_float("y", 0.0, x)
        n = trial.suggest_int("n", 1, 10)
        m = trial.suggest_int("m", 0, n)
        assert 0.0 <= y <= x
        assert 0 <= m <= n
        return y + m

    study.optimize(objective, n_trials=40)
    assert [t.state for t in study.trials] == [ferrotune.TrialState.COMPLETE] * 40


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_infeasible_declared_space_raises_instead_of_hanging(sampler_name: str) -> None:
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
    never = ferrotune.SearchSpace(
        {"x": FloatDistribution(0.0, 1.0), "y": FloatDistribution(0.0, 1.0)},
        constraints=[ferrotune.Linear({"x": 1.0, "y": 1.0}, upper=-1.0)],
        max_draws=2_000,
    )
    with pytest.raises(InfeasibleSpaceError):
        study.ask(never)
    rejected = ferrotune.SearchSpace(
        {"x": FloatDistribution(0.0, 1.0)}, constraints=[lambda p: False], max_draws=2_000
    )
    with pytest.raises(InfeasibleSpaceError):
        study.ask(rejected)


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_values_cover_small_discrete_distributions(sampler_name: str) -> None:
    """Every value of small discrete distributions is reachable (no value starved, the
    top of the range included)."""
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](11))
    seen: dict[str, set[Any]] = {"i": set(), "s": set(), "c": set(), "l": set()}

    def objective(trial: ferrotune.Trial) -> float:
        seen["i"].add(trial.suggest_int("i", -2, 7, step=3))
        seen["s"].add(trial.suggest_float("s", 0.0, 1.0, step=0.25))
        seen["c"].add(trial.suggest_categorical("c", ["a", None, 3]))
        seen["l"].add(trial.suggest_int("l", 1, 4, log=True))
        return 0.0

    study.optimize(objective, n_trials=300)
    assert seen["i"] == {-2, 1, 4, 7}
    assert seen["s"] == {0.0, 0.25, 0.5, 0.75, 1.0}
    assert seen["c"] == {"a", None, 3}
    assert seen["l"] == {1, 2, 3, 4}


@pytest.mark.parametrize("sampler_name", SAMPLER_NAMES)
def test_single_valued_distributions(sampler_name: str) -> None:
    study = ferrotune.create_study(sampler=SAMPLERS[sampler_name](0))
    for _ in range(5):
        t = study.ask()
        assert t.suggest_float("f", 2.5, 2.5) == 2.5
        assert t.suggest_float("fl", 0.5, 0.5, log=True) == 0.5
        assert t.suggest_int("i", 7, 7) == 7
        assert t.suggest_categorical("c", ["only"]) == "only"
        study.tell(t, 0.0)


def test_user_sampler_value_outside_distribution_is_rejected() -> None:
    class Broken(ferrotune.samplers.BaseSampler):
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return 2.0

    study = ferrotune.create_study(sampler=Broken())
    trial = study.ask()
    with pytest.raises(ValueError, match=r"parameter 'x'"):
        trial.suggest_float("x", 0.0, 1.0)
    assert "x" not in trial.params


def test_user_sampler_hooks_are_called() -> None:
    calls: list[tuple[str, int]] = []

    class Recording(ferrotune.samplers.BaseSampler):
        def before_trial(self, study: Any, trial: Any) -> None:
            calls.append(("before", trial.number))

        def after_trial(self, study: Any, trial: Any, state: Any, values: Any) -> None:
            calls.append(("after", trial.number))
            assert state == ferrotune.TrialState.COMPLETE
            assert values == [float(trial.number)]

        def infer_relative_search_space(self, study: Any, trial: Any) -> dict[str, Any]:
            return {"r": IntDistribution(0, 10)}

        def sample_relative(self, study: Any, trial: Any, space: Any) -> dict[str, Any]:
            return {"r": 7}

        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            return dist.low

    study = ferrotune.create_study(sampler=Recording())
    study.optimize(
        lambda t: float(t.number) + 0 * t.suggest_int("r", 0, 10) + t.suggest_float("z", 0, 1),
        n_trials=3,
    )
    assert calls == [(hook, n) for n in range(3) for hook in ("before", "after")]
    assert all(t.params == {"r": 7, "z": 0.0} for t in study.trials)


def test_float_values_are_finite_for_extreme_log_ranges() -> None:
    for name, factory in SAMPLERS.items():
        study = ferrotune.create_study(sampler=factory(5))
        for _ in range(50):
            t = study.ask()
            v = t.suggest_float("lr", 1e-300, 1e300, log=True)
            assert math.isfinite(v) and 1e-300 <= v <= 1e300, (name, v)
            study.tell(t, 0.0)


# ------------------------------------------------------------ every sampler class
# Every public sampler class is listed here once, with what the shared checks below may
# ask of it. A new sampler adds one entry (the registry test fails until it does).
@dataclass(frozen=True)
class Entry:
    make: Callable[[int], BaseSampler]
    #: `reseed_rng` changes the sequence (False: the sequence is fixed by the seed, as
    #: Optuna's QMCSampler and GridSampler, whose `reseed_rng` leaves the order).
    reseed_changes: bool = True
    #: Draws declared spaces of continuous parameters (a grid needs discrete ones).
    continuous_space: bool = True
    #: The sampler for a declared space, when it needs to be given the space.
    for_space: Callable[[ferrotune.SearchSpace, int], BaseSampler] | None = None


_GRID = {"x": [-5.0, -0.5, 2.5, 5.0], "n": [1, 2, 16], "k": [0, 4, 10], "c": ["a", "b", None]}

CLASSES: dict[str, Entry] = {
    "RandomSampler": Entry(lambda seed: RandomSampler(seed=seed)),
    "QMCSampler": Entry(
        lambda seed: QMCSampler(seed=seed, warn_independent_sampling=False),
        reseed_changes=False,
    ),
    "TPESampler": Entry(lambda seed: TPESampler(seed=seed, n_startup_trials=3)),
    "GPSampler": Entry(lambda seed: GPSampler(seed=seed, n_startup_trials=3)),
    # The model starts once d + 3 trials have finished.
    "BOHBSampler": Entry(lambda seed: BOHBSampler(seed=seed)),
    "CmaEsSampler": Entry(lambda seed: CmaEsSampler(seed=seed, popsize=4)),
    # Small populations, so that the checks' few trials reach mutation and moves.
    "DESampler": Entry(lambda seed: DESampler(seed=seed, population_size=4)),
    "PSOSampler": Entry(lambda seed: PSOSampler(seed=seed, swarm_size=3)),
    "DEHBSampler": Entry(lambda seed: DEHBSampler(seed=seed, max_resource=9)),
    # A small population, so that breeding (not the uniform generation 0) is exercised.
    "GASampler": Entry(lambda seed: GASampler(seed=seed, population_size=3)),
    "GridSampler": Entry(
        lambda seed: GridSampler(_GRID, seed=seed),
        reseed_changes=False,
        continuous_space=False,
        for_space=lambda space, seed: GridSampler(space, seed=seed),
    ),
    "BruteForceSampler": Entry(lambda seed: BruteForceSampler(seed=seed), continuous_space=False),
    # A small population so that generations close and children are made.
    "NSGAIISampler": Entry(lambda seed: NSGAIISampler(seed=seed, population_size=3)),
    "NSGAIIISampler": Entry(lambda seed: NSGAIIISampler(seed=seed, population_size=3)),
    "ReinforceSampler": Entry(lambda seed: ReinforceSampler(seed=seed)),
    "PartialFixedSampler": Entry(
        lambda seed: PartialFixedSampler({"k": 4}, TPESampler(seed=seed, n_startup_trials=3))
    ),
    "RFSampler": Entry(lambda seed: RFSampler(seed=seed, n_startup_trials=3, n_candidates=200)),
    # Switches from its GP to CMA-ES (or TPE on conditional spaces) within the checks.
    "AutoSampler": Entry(lambda seed: AutoSampler(seed=seed, gp_trials=6)),
    # These checks report no gradient: the fallback's draws (its own tests step).
    "HypergradientSampler": Entry(lambda seed: HypergradientSampler(seed=seed)),
    "TrustRegionSampler": Entry(lambda seed: TrustRegionSampler(seed=seed)),
}
CLASS_NAMES = list(CLASSES)

# The define-by-run objective of the class checks: discrete parameters only (stepped,
# log, categorical), so that the grid and brute-force samplers can enumerate it.
OBJECTIVE_DISTS = {
    "x": FloatDistribution(-5.0, 5.0, step=0.5),
    "n": IntDistribution(1, 16, log=True),
    "k": IntDistribution(0, 10, step=2),
    "c": CategoricalDistribution(["a", "b", None]),
}


def _objective(trial: ferrotune.Trial) -> float:
    p = {name: suggest(trial, name, d) for name, d in OBJECTIVE_DISTS.items()}
    return (p["x"] - 1) ** 2 + p["n"] / 8 + p["k"] + (p["c"] is None)


def _params(study: ferrotune.Study) -> list[dict[str, Any]]:
    return [t.params for t in study.trials]


def test_every_sampler_class_is_in_the_suite() -> None:
    public = {
        name
        for name in ferrotune.samplers.__all__
        if name != "BaseSampler" and issubclass(getattr(ferrotune.samplers, name), BaseSampler)
    }
    assert public == set(CLASSES)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_values_stay_in_bounds_and_seeds_reproduce(name: str) -> None:
    def run(seed: int) -> list[dict[str, Any]]:
        study = ferrotune.create_study(sampler=CLASSES[name].make(seed))
        study.optimize(_objective, n_trials=12)
        for t in study.trials:
            assert t.params.keys() == OBJECTIVE_DISTS.keys()
            for p, v in t.params.items():
                assert in_distribution(OBJECTIVE_DISTS[p], v), (p, v)
        return _params(study)

    assert run(3) == run(3)
    assert run(3) != run(4)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_declared_space_constraints_are_never_violated(name: str) -> None:
    """Conditions, declarative constraints and a predicate, through each sampler."""
    dists: dict[str, Any] = {
        "kind": CategoricalDistribution(["a", "b"]),
        "m": IntDistribution(1, 12),
        "k": IntDistribution(0, 10, step=2),
        "x": FloatDistribution(-5.0, 5.0, step=0.5),
    }
    if CLASSES[name].continuous_space:
        dists["y"] = FloatDistribution(1e-3, 1.0, log=True)
    space = ferrotune.SearchSpace(
        dists,
        conditions={"x": ("kind", ["a"])},
        constraints=[
            ferrotune.Linear({"m": 1, "k": 1}, upper=14),
            lambda p: p["m"] % 3 != 0,
        ],
    )
    entry = CLASSES[name]
    sampler = entry.make(0) if entry.for_space is None else entry.for_space(space, 0)
    study = ferrotune.create_study(sampler=sampler)
    for i in range(12):
        if isinstance(study.sampler, GridSampler) and study.sampler.is_exhausted():
            break
        trial = study.ask(space)
        p = trial.params
        assert ("x" in p) == (p["kind"] == "a"), p
        assert p["m"] + p["k"] <= 14 and p["m"] % 3 != 0, p
        assert space.is_feasible(p), p
        study.tell(trial, float(i))


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_pickling_continues_the_sequence(name: str) -> None:
    study = ferrotune.create_study(sampler=CLASSES[name].make(1))
    study.optimize(_objective, n_trials=6)
    loaded = pickle.loads(pickle.dumps(study))
    study.optimize(_objective, n_trials=6)
    loaded.optimize(_objective, n_trials=6)
    assert _params(loaded) == _params(study)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_reseed_rng_changes_the_sequence(name: str) -> None:
    a, b = CLASSES[name].make(2), CLASSES[name].make(2)
    b.reseed_rng()
    sa, sb = ferrotune.create_study(sampler=a), ferrotune.create_study(sampler=b)
    sa.optimize(_objective, n_trials=8)
    sb.optimize(_objective, n_trials=8)
    if CLASSES[name].reseed_changes:
        assert _params(sa) != _params(sb)
    else:
        assert _params(sa) == _params(sb)


@pytest.mark.parametrize("name", CLASS_NAMES)
def test_works_inside_optimize_with_two_threads(name: str) -> None:
    study = ferrotune.create_study(sampler=CLASSES[name].make(5))
    study.optimize(_objective, n_trials=16, n_jobs=2)
    assert len(study.trials) == 16
    assert all(t.state == TrialState.COMPLETE for t in study.trials)
    for t in study.trials:
        for p, v in t.params.items():
            assert in_distribution(OBJECTIVE_DISTS[p], v), (p, v)


def test_a_python_samplers_error_in_a_declared_space_is_raised_unchanged() -> None:
    """The core's constrained sampler calls a Python sampler for its proposals: what the
    sampler raises reaches the caller as it was raised."""

    class Failing(BaseSampler):
        def sample_independent(self, study: Any, trial: Any, name: str, dist: Any) -> Any:
            raise KeyError(name)

    space = ferrotune.SearchSpace({"a": IntDistribution(0, 3), "b": IntDistribution(0, 3)})
    study = ferrotune.create_study(sampler=Failing())
    with pytest.raises(KeyError, match="'a'"):
        study.ask(space)
    # A fixed value for every parameter needs no proposal.
    study.enqueue_trial({"a": 1, "b": 2})
    assert study.ask(space).params == {"a": 1, "b": 2}

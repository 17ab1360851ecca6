"""Shared pieces of the test suite: strategies for random distributions and declared
spaces, checkers written independently of the library, and the samplers under test."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import hypothesis.strategies as st

import ferrotune
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.samplers import (
    BaseSampler,
    BOHBSampler,
    CmaEsSampler,
    DEHBSampler,
    DESampler,
    GASampler,
    GPSampler,
    NSGAIIISampler,
    NSGAIISampler,
    PSOSampler,
    QMCSampler,
    RandomSampler,
    ReinforceSampler,
    TPESampler,
)

# Relative tolerance when checking that a float lies on its step grid.
GRID_TOL = 1e-8
# Relative tolerance of linear constraints (the documented one of the core).
LINEAR_TOL = 1e-9


# --------------------------------------------------------------------------- checkers
def same_choice(a: Any, b: Any) -> bool:
    """Categorical identity: 1, 1.0 and True are different choices."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


def in_distribution(dist: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` (external representation) is a value of ``dist``, checked
    without the library's own ``_contains``."""
    if isinstance(dist, CategoricalDistribution):
        return any(same_choice(value, c) for c in dist.choices)
    if isinstance(dist, IntDistribution):
        if type(value) is not int:
            return False
        return dist.low <= value <= dist.high and (value - dist.low) % dist.step == 0
    if isinstance(dist, FloatDistribution):
        if type(value) is not float or not math.isfinite(value):
            return False
        if not dist.low <= value <= dist.high:
            return False
        if dist.step is not None:
            k = (value - dist.low) / dist.step
            return abs(k - round(k)) <= GRID_TOL * max(1.0, abs(k))
        return True
    raise TypeError(f"unknown distribution {dist!r}")


def discrete_values(dist: BaseDistribution) -> list[Any] | None:
    """Every value of a categorical or int distribution (None for floats)."""
    if isinstance(dist, CategoricalDistribution):
        return list(dist.choices)
    if isinstance(dist, IntDistribution):
        return list(range(dist.low, dist.high + 1, dist.step))
    return None


def suggest(trial: ferrotune.Trial, name: str, dist: BaseDistribution) -> Any:
    """The define-by-run ``suggest_*`` call matching ``dist``."""
    if isinstance(dist, FloatDistribution):
        return trial.suggest_float(name, dist.low, dist.high, step=dist.step, log=dist.log)
    if isinstance(dist, IntDistribution):
        return trial.suggest_int(name, dist.low, dist.high, step=dist.step, log=dist.log)
    assert isinstance(dist, CategoricalDistribution)
    return trial.suggest_categorical(name, list(dist.choices))


# --------------------------------------------------------------------------- samplers
class UserSampler(BaseSampler):
    """A minimal user-written sampler: independent draws from Python's ``random``."""

    def __init__(self, seed: int | None = None) -> None:
        self.rng = random.Random(seed)

    def sample_independent(
        self,
        study: ferrotune.Study,
        trial: ferrotune.FrozenTrial,
        param_name: str,
        param_distribution: BaseDistribution,
    ) -> Any:
        d = param_distribution
        if isinstance(d, CategoricalDistribution):
            return self.rng.choice(d.choices)
        if isinstance(d, IntDistribution):
            if d.log:
                a, b = math.log(d.low - 0.5), math.log(d.high + 0.5)
                return min(d.high, max(d.low, round(math.exp(self.rng.uniform(a, b)))))
            return d.low + d.step * self.rng.randint(0, (d.high - d.low) // d.step)
        assert isinstance(d, FloatDistribution)
        if d.log:
            v = math.exp(self.rng.uniform(math.log(d.low), math.log(d.high)))
            return min(d.high, max(d.low, v))
        if d.step is not None:
            n = round((d.high - d.low) / d.step)
            return min(d.high, d.low + d.step * self.rng.randint(0, n))
        return self.rng.uniform(d.low, d.high)


SamplerFactory = Callable[[int | None], BaseSampler]

SAMPLERS: dict[str, SamplerFactory] = {
    "random": lambda seed: RandomSampler(seed=seed),
    "qmc-sobol": lambda seed: QMCSampler(
        qmc_type="sobol", seed=seed, warn_independent_sampling=False
    ),
    "qmc-halton": lambda seed: QMCSampler(
        qmc_type="halton", seed=seed, warn_independent_sampling=False
    ),
    "user": lambda seed: UserSampler(seed),
    # A short start-up so that the model, not the random start, is exercised.
    "tpe": lambda seed: TPESampler(seed=seed, n_startup_trials=3),
    "tpe-univariate": lambda seed: TPESampler(seed=seed, n_startup_trials=3, multivariate=False),
    "gp": lambda seed: GPSampler(seed=seed, n_startup_trials=3),
    "bohb": lambda seed: BOHBSampler(seed=seed),
    "cmaes": lambda seed: CmaEsSampler(seed=seed, popsize=4),
    # rand/1: current-to-pbest (the default, in CLASSES of the conformance suite)
    # contracts towards the best members and may settle, on the flat objective of the
    # coverage check, before visiting every value.
    "de": lambda seed: DESampler(seed=seed, strategy="rand1bin"),
    "pso": lambda seed: PSOSampler(seed=seed),
    "dehb": lambda seed: DEHBSampler(seed=seed, max_resource=9),
    "ga": lambda seed: GASampler(seed=seed, population_size=3),
    "ga-aging": lambda seed: GASampler(seed=seed, population_size=3, mode="aging"),
    "tpe-budget-aware": lambda seed: TPESampler(seed=seed, n_startup_trials=3, budget_aware=True),
    "nsga2": lambda seed: NSGAIISampler(seed=seed, population_size=3),
    "nsga3-sbx": lambda seed: NSGAIIISampler(seed=seed, population_size=3, crossover="sbx"),
    "reinforce": lambda seed: ReinforceSampler(seed=seed),
}


# ------------------------------------------------------------------------- strategies
def choice_key(c: Any) -> tuple[str, Any]:
    return (type(c).__name__, c)


choice_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-100, 100),
    st.floats(-100, 100, allow_nan=False),
    st.text(max_size=4),
)


@st.composite
def float_distributions(draw: st.DrawFn) -> FloatDistribution:
    kind = draw(st.sampled_from(["plain", "step", "log"]))
    if kind == "log":
        low = draw(st.floats(1e-6, 1e3))
        ratio = draw(st.one_of(st.just(1.0), st.floats(1.0, 1e6)))
        return FloatDistribution(low, low * ratio, log=True)
    low = draw(st.floats(-1e3, 1e3))
    if kind == "step":
        step = draw(st.one_of(st.sampled_from([0.001, 0.1, 0.25, 0.5, 1.0]), st.floats(1e-3, 10)))
        n = draw(st.integers(0, 200))
        return FloatDistribution(low, low + n * step, step=step)
    width = draw(st.one_of(st.just(0.0), st.floats(0.0, 1e3)))
    return FloatDistribution(low, low + width)


@st.composite
def int_distributions(draw: st.DrawFn) -> IntDistribution:
    if draw(st.booleans()):
        low = draw(st.integers(1, 1000))
        return IntDistribution(low, low + draw(st.integers(0, 100_000)), log=True)
    low = draw(st.integers(-1000, 1000))
    step = draw(st.integers(1, 10))
    return IntDistribution(low, low + step * draw(st.integers(0, 100)), step=step)


categorical_distributions = st.lists(
    choice_values, min_size=1, max_size=6, unique_by=choice_key
).map(CategoricalDistribution)

distributions = st.one_of(float_distributions(), int_distributions(), categorical_distributions)


# ------------------------------------------------------------------ declared spaces
@dataclass
class SpaceSpec:
    """A declared space plus an independent description used to check its draws."""

    dists: dict[str, BaseDistribution]
    conditions: dict[str, tuple[str, list[Any]]]
    order: list[str]  # parents first
    divisible: list[tuple[str, str]] = field(default_factory=list)
    linear: list[tuple[dict[str, float], float | None, float | None]] = field(default_factory=list)
    forbidden: list[dict[str, Any]] = field(default_factory=list)
    predicates: list[Callable[[dict[str, Any]], bool]] = field(default_factory=list)
    declared_order: list[str] = field(default_factory=list)

    def build(self, **kwargs: Any) -> ferrotune.SearchSpace:
        constraints: list[Any] = [ferrotune.Divisible(a, b) for a, b in self.divisible]
        constraints += [ferrotune.Linear(c, lower=lo, upper=up) for c, lo, up in self.linear]
        constraints += [ferrotune.Forbidden(a) for a in self.forbidden]
        constraints += list(self.predicates)
        return ferrotune.SearchSpace(
            {n: self.dists[n] for n in self.declared_order},
            conditions={c: ferrotune.Condition(p, v) for c, (p, v) in self.conditions.items()},
            constraints=constraints,
            **kwargs,
        )

    def active(self, params: Mapping[str, Any]) -> set[str]:
        """Names that must be present in a configuration with these parent values."""
        out: set[str] = set()
        for name in self.order:
            cond = self.conditions.get(name)
            if cond is None:
                out.add(name)
                continue
            parent, values = cond
            holds = parent in params and any(same_choice(params[parent], v) for v in values)
            if parent in out and holds:
                out.add(name)
        return out

    def violations(self, params: Mapping[str, Any]) -> list[str]:
        """Every way ``params`` breaks the space (empty when it is a valid draw)."""
        bad: list[str] = []
        expected = self.active(params)
        if set(params) != expected:
            bad.append(f"active params {sorted(params)} != expected {sorted(expected)}")
        for n, v in params.items():
            if n in self.dists and not in_distribution(self.dists[n], v):
                bad.append(f"{n}={v!r} outside {self.dists[n]!r}")
        for a, b in self.divisible:
            present = a in params and b in params
            if present and (params[b] == 0 or params[a] % params[b] != 0):
                bad.append(f"{a}={params[a]} not divisible by {b}={params[b]}")
        for coefs, lo, up in self.linear:
            if not all(n in params for n in coefs):
                continue
            terms = [c * float(params[n]) for n, c in coefs.items()]
            s = sum(terms)
            scale = max([1.0, *(abs(t) for t in terms)])
            if up is not None and s > up + LINEAR_TOL * max(scale, abs(up)):
                bad.append(f"linear {coefs} = {s} > upper {up}")
            if lo is not None and s < lo - LINEAR_TOL * max(scale, abs(lo)):
                bad.append(f"linear {coefs} = {s} < lower {lo}")
        for assignment in self.forbidden:
            if all(n in params for n in assignment) and all(
                same_choice(params[n], v) for n, v in assignment.items()
            ):
                bad.append(f"forbidden combination {assignment}")
        for i, pred in enumerate(self.predicates):
            if not pred(dict(params)):
                bad.append(f"predicate {i} is false")
        return bad


def _is_condition_parent(dist: BaseDistribution) -> bool:
    vals = discrete_values(dist)
    return vals is not None and 1 <= len(vals) <= 30


@st.composite
def space_specs(draw: st.DrawFn, max_params: int = 5) -> SpaceSpec:
    """A random feasible declared space: nested conditions, and constraints on disjoint
    sets of parameters, each of which leaves a large share of its parameters' values."""
    n = draw(st.integers(1, max_params))
    names = [f"p{i}" for i in range(n)]
    dists: dict[str, BaseDistribution] = {nm: draw(distributions) for nm in names}
    conditions: dict[str, tuple[str, list[Any]]] = {}
    for i in range(1, n):
        parents = [p for p in names[:i] if _is_condition_parent(dists[p])]
        if parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            vals = discrete_values(dists[parent])
            assert vals is not None
            idx = draw(st.lists(st.integers(0, len(vals) - 1), min_size=1, max_size=3, unique=True))
            conditions[names[i]] = (parent, [vals[k] for k in idx])
    spec = SpaceSpec(dists=dists, conditions=conditions, order=list(names))
    used: set[str] = set()

    # Divisibility, on two parameters of its own (the denominator may be conditional).
    if draw(st.booleans()):
        if draw(st.booleans()):
            lo = draw(st.integers(0, 60))
            num: BaseDistribution = IntDistribution(lo, lo + draw(st.integers(0, 60)))
        else:
            num = CategoricalDistribution(
                draw(st.lists(st.integers(0, 200), min_size=1, max_size=6, unique=True))
            )
        if draw(st.booleans()):
            den: BaseDistribution = IntDistribution(1, draw(st.integers(1, 12)))
        else:
            rest = draw(st.lists(st.integers(2, 12), max_size=4, unique=True))
            den = CategoricalDistribution([1, *rest])
        spec.dists["num"] = num
        spec.dists["den"] = den
        spec.order += ["num", "den"]
        parents = [p for p in names if _is_condition_parent(dists[p])]
        if parents and draw(st.booleans()):
            parent = draw(st.sampled_from(parents))
            vals = discrete_values(dists[parent])
            assert vals is not None
            spec.conditions["den"] = (parent, [vals[draw(st.integers(0, len(vals) - 1))]])
        spec.divisible.append(("num", "den"))

    # Linear: on non-log numeric parameters; the bound keeps the corner that minimises
    # (or maximises) the sum feasible, so discrete grids cannot make it empty.
    numeric = [
        nm
        for nm in names
        if isinstance(dists[nm], (FloatDistribution, IntDistribution)) and not dists[nm].log  # type: ignore[attr-defined]
    ]
    if numeric and draw(st.booleans()):
        k = draw(st.integers(1, min(3, len(numeric))))
        terms = draw(st.lists(st.sampled_from(numeric), min_size=k, max_size=k, unique=True))
        coefs = {t: draw(st.one_of(st.floats(-3.0, -0.1), st.floats(0.1, 3.0))) for t in terms}
        lows = [min(c * dists[t].low, c * dists[t].high) for t, c in coefs.items()]  # type: ignore[attr-defined]
        highs = [max(c * dists[t].low, c * dists[t].high) for t, c in coefs.items()]  # type: ignore[attr-defined]
        mn, mx = sum(lows), sum(highs)
        continuous = all(
            isinstance(dists[t], FloatDistribution) and dists[t].step is None  # type: ignore[attr-defined]
            for t in terms
        )
        mode = draw(
            st.sampled_from(["upper", "lower", "both"] if continuous else ["upper", "lower"])
        )
        if mode == "upper":
            bounds = (None, mn + draw(st.floats(0.5, 1.0)) * (mx - mn))
        elif mode == "lower":
            bounds = (mn + draw(st.floats(0.0, 0.5)) * (mx - mn), None)
        else:
            bounds = (
                mn + draw(st.floats(0.0, 0.2)) * (mx - mn),
                mn + draw(st.floats(0.8, 1.0)) * (mx - mn),
            )
        spec.linear.append((coefs, bounds[0], bounds[1]))
        used.update(terms)

    # Forbidden: one combination of discrete parameters with at least two values each.
    discrete = [
        nm
        for nm in names
        if nm not in used and (vals := discrete_values(dists[nm])) is not None and len(vals) >= 2
    ]
    if discrete and draw(st.booleans()):
        k = draw(st.integers(1, min(2, len(discrete))))
        chosen = draw(st.lists(st.sampled_from(discrete), min_size=k, max_size=k, unique=True))
        assignment = {}
        for nm in chosen:
            vals = discrete_values(dists[nm])
            assert vals is not None
            assignment[nm] = draw(st.sampled_from(vals))
        spec.forbidden.append(assignment)
        used.update(chosen)

    # A Python predicate on one more parameter; it must cope with the parameter being
    # inactive, since predicates receive the active parameters only.
    free = [nm for nm in names if nm not in used]
    if free and draw(st.booleans()):
        nm = draw(st.sampled_from(free))
        d = dists[nm]
        if isinstance(d, CategoricalDistribution):
            if len(d.choices) >= 2:
                banned = draw(st.sampled_from(d.choices))
                spec.predicates.append(
                    lambda p, nm=nm, banned=banned: nm not in p or not same_choice(p[nm], banned)
                )
        else:
            thr = d.low + draw(st.floats(0.5, 1.0)) * (d.high - d.low)  # type: ignore[attr-defined]
            spec.predicates.append(lambda p, nm=nm, thr=thr: nm not in p or p[nm] <= thr)

    spec.declared_order = draw(st.permutations(spec.order))
    return spec


def params_of(trials: Sequence[ferrotune.FrozenTrial]) -> list[dict[str, Any]]:
    return [dict(t.params) for t in trials]

"""TPESampler: kernel numerics against scipy, values on their distributions, seeding and
pickling, optimisation quality (single-objective, constant liar, black-box constraints,
MOTPE), declared spaces, and the gamma/weights callables."""

from __future__ import annotations

import itertools
import json
import math
import pickle
import statistics
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special, stats

import ferrotune
from ferrotune import Condition, Divisible, Forbidden, Linear, SearchSpace, _core
from ferrotune.benchmarks import branin
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.samplers import RandomSampler, TPESampler
from tests._support import in_distribution, same_choice

_REPO = Path(__file__).resolve().parents[2]

# Examples for the hypothesis tests that run whole studies: a fraction of the profile's.
_STUDY_EXAMPLES = max(8, settings.default.max_examples // 2)


# ============================================================================ numerics
def _close_log_ndtr(got: float, want: float) -> bool:
    if abs(want) > 1e-300:
        return abs(got - want) <= 1e-10 * abs(want)
    return abs(got - want) <= 1e-300


def test_log_ndtr_matches_scipy_on_a_grid() -> None:
    xs = np.unique(
        [
            *np.linspace(-1000.0, 40.0, 10_401),
            *np.linspace(-40.0, -30.0, 1001),  # around the switch to the asymptotic series
            *np.linspace(-1.0, 8.0, 901),
            *[-37.0 - 1e-9, -37.0 + 1e-9, 6.0 - 1e-9, 6.0 + 1e-9, 37.5, 38.5],
        ]
    )
    bad = []
    for x in xs:
        got, want = _core.log_ndtr(float(x)), float(special.log_ndtr(x))
        if not _close_log_ndtr(got, want):
            bad.append((float(x), got, want, abs(got - want) / max(abs(want), 1e-300)))
    bad.sort(key=lambda r: -r[3])
    assert not bad, (
        f"{len(bad)} of {len(xs)} points off by more than 1e-10 relative, in "
        f"[{min(r[0] for r in bad)}, {max(r[0] for r in bad)}]; worst (x, got, scipy, rel): "
        f"{bad[:3]}"
    )


# The whole range, and denser around the branch points (-37, 0 and 6).
_log_ndtr_xs = st.one_of(st.floats(-1000.0, 40.0), st.floats(-40.0, -34.0), st.floats(-1.0, 9.0))


@given(x=_log_ndtr_xs)
def test_log_ndtr_matches_scipy(x: float) -> None:
    got, want = _core.log_ndtr(x), float(special.log_ndtr(x))
    assert _close_log_ndtr(got, want), (x, got, want)


def test_log_ndtr_limits() -> None:
    assert _core.log_ndtr(0.0) == pytest.approx(-math.log(2.0), rel=1e-15)
    assert _core.log_ndtr(math.inf) == 0.0
    assert _core.log_ndtr(-1e4) == pytest.approx(float(special.log_ndtr(-1e4)), rel=1e-12)
    # Monotone across both branch points.
    xs = [-37.0 - 1e-6, -37.0, -37.0 + 1e-6, 6.0 - 1e-6, 6.0, 6.0 + 1e-6]
    vals = [_core.log_ndtr(x) for x in xs]
    assert vals == sorted(vals)


def _close_ndtri(got: float, want: float) -> bool:
    return abs(got - want) <= 1e-12 * abs(want) + 1e-15


def test_ndtri_matches_scipy_on_a_grid() -> None:
    ps = np.concatenate(
        [
            np.logspace(-300, -1, 1500),
            np.linspace(0.001, 0.999, 999),
            1.0 - np.logspace(-16, -1, 300),
            [0.5, 0.075, 0.925, 1e-300, 1.0 - 1e-16],
        ]
    )
    bad = [
        (float(p), _core.ndtri(float(p)), float(special.ndtri(p)))
        for p in ps
        if not _close_ndtri(_core.ndtri(float(p)), float(special.ndtri(p)))
    ]
    assert not bad, bad[:5]
    assert _core.ndtri(0.0) == -math.inf
    assert _core.ndtri(1.0) == math.inf


@given(p=st.floats(1e-300, 1.0 - 1e-16, exclude_min=True, exclude_max=True))
def test_ndtri_matches_scipy(p: float) -> None:
    got, want = _core.ndtri(p), float(special.ndtri(p))
    assert _close_ndtri(got, want), (p, got, want)


def _scipy_truncnorm_logpdf(x: float, mu: float, sigma: float, low: float, high: float) -> float:
    a, b = (low - mu) / sigma, (high - mu) / sigma
    return float(stats.truncnorm.logpdf(x, a=a, b=b, loc=mu, scale=sigma))


@pytest.mark.parametrize(
    ("a", "b"),
    [(30.0, 31.0), (-31.0, -30.0), (8.0, 9.0), (-40.0, -39.0), (38.0, 40.0), (-2.0, 3.0)],
)
@pytest.mark.parametrize(("mu", "sigma"), [(0.0, 1.0), (2.5, 0.01), (-300.0, 40.0)])
def test_truncnorm_logpdf_matches_scipy_in_far_tails(
    a: float, b: float, mu: float, sigma: float
) -> None:
    low, high = mu + a * sigma, mu + b * sigma
    for t in np.linspace(0.0, 1.0, 21):
        x = min(high, max(low, low + float(t) * (high - low)))
        got = _core.truncnorm_logpdf(x, mu, sigma, low, high)
        want = _scipy_truncnorm_logpdf(x, mu, sigma, low, high)
        assert math.isfinite(got)
        assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (x, mu, sigma, low, high)


@given(
    a=st.floats(-40.0, 40.0),
    width=st.floats(1e-3, 40.0),
    mu=st.floats(-100.0, 100.0),
    log_sigma=st.floats(-3.0, 3.0),
    t=st.floats(0.0, 1.0),
)
def test_truncnorm_logpdf_matches_scipy(
    a: float, width: float, mu: float, log_sigma: float, t: float
) -> None:
    sigma = 10.0**log_sigma
    low, high = mu + a * sigma, mu + (a + width) * sigma
    x = min(high, max(low, low + t * (high - low)))
    got = _core.truncnorm_logpdf(x, mu, sigma, low, high)
    want = _scipy_truncnorm_logpdf(x, mu, sigma, low, high)
    assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (x, mu, sigma, low, high)


def test_truncnorm_logpdf_outside_the_range_is_minus_infinity() -> None:
    assert _core.truncnorm_logpdf(-0.1, 0.0, 1.0, 0.0, 1.0) == -math.inf
    assert _core.truncnorm_logpdf(1.1, 0.0, 1.0, 0.0, 1.0) == -math.inf


def _close_ppf(got: float, want: float) -> bool:
    return abs(got - want) <= 1e-9 * max(1.0, abs(want))


@pytest.mark.parametrize(
    ("a", "b"),
    [(-40.0, -39.0), (8.0, 9.0), (30.0, 31.0), (-9.0, -8.0), (-0.5, 0.5), (-3.0, 10.0)],
)
def test_truncnorm_ppf_matches_scipy(a: float, b: float) -> None:
    us = [0.0, 1e-300, 1e-12, *np.linspace(0.0, 1.0, 101)[1:-1], 1.0 - 1e-7, 1.0]
    xs = [_core.truncnorm_ppf(float(u), a, b) for u in us]
    for u, x in zip(us, xs, strict=True):
        want = float(stats.truncnorm.ppf(u, a, b))
        assert a <= x <= b, (u, x)
        assert _close_ppf(x, want), (u, x, want)
    assert xs == sorted(xs)


@given(
    a=st.floats(-40.0, 40.0),
    width=st.floats(1e-3, 40.0),
    u=st.one_of(st.floats(0.0, 1.0 - 1e-6), st.floats(1e-300, 1e-3)),
)
def test_truncnorm_ppf_matches_scipy_random(a: float, width: float, u: float) -> None:
    # Up to 1 - 1e-6: closer to 1 the quantile is ill-conditioned in u, and scipy itself
    # drifts from the exact answer.
    b = a + width
    got = _core.truncnorm_ppf(u, a, b)
    want = float(stats.truncnorm.ppf(u, a, b))
    assert a <= got <= b
    assert _close_ppf(got, want), (u, a, b, got, want)


# ======================================================== values inside distributions
@st.composite
def _dists(draw: st.DrawFn) -> BaseDistribution:
    kind = draw(st.sampled_from(["float", "step", "logfloat", "int", "logint", "cat"]))
    if kind == "float":
        low = draw(st.floats(-1e4, 1e4))
        return FloatDistribution(low, low + 10.0 ** draw(st.floats(-6.0, 4.0)))
    if kind == "step":
        low = draw(st.floats(-100.0, 100.0))
        step = draw(st.sampled_from([0.001, 0.1, 0.25, 0.5, 1.0, 2.5]))
        return FloatDistribution(low, low + step * draw(st.integers(1, 300)), step=step)
    if kind == "logfloat":
        low = 10.0 ** draw(st.floats(-8.0, 3.0))
        return FloatDistribution(low, low * 10.0 ** draw(st.floats(0.01, 8.0)), log=True)
    if kind == "int":
        low = draw(st.integers(-1000, 1000))
        step = draw(st.integers(1, 10))
        return IntDistribution(low, low + step * draw(st.integers(1, 200)), step=step)
    if kind == "logint":
        low = draw(st.integers(1, 1000))
        return IntDistribution(low, low + draw(st.integers(1, 1_000_000)), log=True)
    choices = draw(
        st.lists(
            st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.text(max_size=3)),
            min_size=2,
            max_size=6,
            unique_by=lambda c: (type(c).__name__, c),
        )
    )
    return CategoricalDistribution(choices)


def _suggest(trial: ferrotune.Trial, name: str, d: BaseDistribution) -> Any:
    if isinstance(d, FloatDistribution):
        return trial.suggest_float(name, d.low, d.high, step=d.step, log=d.log)
    if isinstance(d, IntDistribution):
        return trial.suggest_int(name, d.low, d.high, step=d.step, log=d.log)
    assert isinstance(d, CategoricalDistribution)
    return trial.suggest_categorical(name, list(d.choices))


def _unit(d: BaseDistribution, v: Any) -> float:
    """Position of ``v`` in its distribution, in [0, 1] (for a smooth objective)."""
    if isinstance(d, CategoricalDistribution):
        return next(i for i, c in enumerate(d.choices) if same_choice(c, v)) / len(d.choices)
    assert isinstance(d, (FloatDistribution, IntDistribution))
    lo, hi, x = float(d.low), float(d.high), float(v)
    if d.log:
        lo, hi, x = math.log(lo), math.log(hi), math.log(x)
    return (x - lo) / (hi - lo) if hi > lo else 0.0


def _run_define_by_run(
    sampler: TPESampler, dists: Sequence[BaseDistribution], gated: Sequence[bool], n: int
) -> list[dict[str, Any]]:
    """Runs ``n`` trials; gated parameters are suggested only when ``gate == "on"``.
    Checks every returned value and the recorded parameters."""
    study = ferrotune.create_study(sampler=sampler)
    out = []
    for _ in range(n):
        trial = study.ask()
        on = trial.suggest_categorical("gate", ["on", "off"]) == "on" if any(gated) else True
        values: dict[str, Any] = {}
        loss = 0.0
        for i, (d, g) in enumerate(zip(dists, gated, strict=True)):
            if g and not on:
                continue
            v = _suggest(trial, f"p{i}", d)
            assert in_distribution(d, v), (f"p{i}", d, v)
            values[f"p{i}"] = v
            loss += (_unit(d, v) - 0.3) ** 2
        frozen = study.tell(trial, loss)
        recorded = {k: v for k, v in frozen.params.items() if k != "gate"}
        assert recorded.keys() == values.keys()
        assert all(same_choice(recorded[k], v) for k, v in values.items())
        out.append(dict(frozen.params))
    return out


_CONFIGS = {
    "multivariate": {"multivariate": True},
    "univariate": {"multivariate": False},
    "group": {"multivariate": True, "group": True},
}


@pytest.mark.parametrize("config", list(_CONFIGS))
@settings(max_examples=_STUDY_EXAMPLES)
@given(
    dists=st.lists(_dists(), min_size=1, max_size=5),
    gated=st.lists(st.booleans(), min_size=5, max_size=5),
    seed=st.integers(0, 2**32 - 1),
)
def test_values_are_inside_their_distributions_after_startup(
    config: str, dists: list[BaseDistribution], gated: list[bool], seed: int
) -> None:
    sampler = TPESampler(seed=seed, n_startup_trials=3, **_CONFIGS[config])
    _run_define_by_run(sampler, dists, gated[: len(dists)], 30)


# ================================================================== seeds, pickling
def _seed_objective(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -3.0, 3.0)
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    q = trial.suggest_float("q", 0.0, 1.0, step=0.05)
    n = trial.suggest_int("n", 1, 512, log=True)
    k = trial.suggest_int("k", -10, 10, step=2)
    c = trial.suggest_categorical("c", ["a", "b", None, 3])
    extra = trial.suggest_float("y", 0.0, 1.0) if c == "a" else 0.0
    return (x - 1) ** 2 + abs(math.log10(lr) + 3) + q + abs(n - 40) / 40 + abs(k) + extra


def _seed_run(seed: int, multivariate: bool, n_trials: int = 25) -> list[dict[str, Any]]:
    sampler = TPESampler(seed=seed, n_startup_trials=5, multivariate=multivariate)
    study = ferrotune.create_study(sampler=sampler)
    study.optimize(_seed_objective, n_trials=n_trials)
    return [t.params for t in study.trials]


@pytest.mark.parametrize("multivariate", [True, False])
def test_same_seed_same_sequence(multivariate: bool) -> None:
    first = _seed_run(11, multivariate)
    assert first == _seed_run(11, multivariate)
    assert first != _seed_run(12, multivariate)


def test_seed_reproduces_in_another_process() -> None:
    script = textwrap.dedent(
        """
        import json
        from tests.samplers.test_tpe import _seed_run
        print(json.dumps([_seed_run(11, True), _seed_run(11, False)]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
        cwd=_REPO,
    )
    theirs = json.loads(out.stdout)
    assert theirs == json.loads(json.dumps([_seed_run(11, True), _seed_run(11, False)]))


def test_pickle_round_trip_continues_the_sequence() -> None:
    sampler = TPESampler(seed=3, n_startup_trials=5)
    original = ferrotune.create_study(sampler=sampler)
    original.optimize(_seed_objective, n_trials=15)
    history = original.trials

    copy = pickle.loads(pickle.dumps(sampler))
    replica = ferrotune.create_study(sampler=copy)
    replica.add_trials(history)
    # A fresh sampler with the same seed on the same history: the generator state, not
    # just the seed, must have travelled through the pickle.
    fresh = ferrotune.create_study(sampler=TPESampler(seed=3, n_startup_trials=5))
    fresh.add_trials(history)

    for s in (original, replica, fresh):
        s.optimize(_seed_objective, n_trials=10)
    ours = [t.params for t in original.trials[15:]]
    assert [t.params for t in replica.trials[15:]] == ours
    assert [t.params for t in fresh.trials[15:]] != ours


def test_reused_sampler_does_not_carry_one_study_into_the_next() -> None:
    """A sampler used on one study, then on another, samples the second exactly as a
    copy with the same generator state that never saw the first study."""
    sampler = TPESampler(seed=9, n_startup_trials=5)
    first = ferrotune.create_study(sampler=sampler)
    first.optimize(_seed_objective, n_trials=30)
    copy = pickle.loads(pickle.dumps(sampler))

    def other(trial: ferrotune.Trial) -> float:
        # The same names and distributions, another landscape.
        return -_seed_objective(trial)

    runs = []
    for s in (sampler, copy):
        study = ferrotune.create_study(sampler=s)
        study.optimize(other, n_trials=25)
        runs.append([t.params for t in study.trials])
    assert runs[0] == runs[1]


def test_pickle_of_a_fresh_sampler_matches_the_seeded_one() -> None:
    copy = pickle.loads(pickle.dumps(TPESampler(seed=5, n_startup_trials=5)))
    study = ferrotune.create_study(sampler=copy)
    study.optimize(_seed_objective, n_trials=20)
    ref = ferrotune.create_study(sampler=TPESampler(seed=5, n_startup_trials=5))
    ref.optimize(_seed_objective, n_trials=20)
    assert [t.params for t in study.trials] == [t.params for t in ref.trials]


# ========================================================================= branin
def _branin_regret(sampler: ferrotune.samplers.BaseSampler, n_trials: int = 100) -> float:
    problem = branin()
    study = ferrotune.create_study(sampler=sampler)

    def objective(trial: ferrotune.Trial) -> float:
        x0 = trial.suggest_float("x0", -5.0, 10.0)
        x1 = trial.suggest_float("x1", 0.0, 15.0)
        return problem({"x0": x0, "x1": x1})

    study.optimize(objective, n_trials=n_trials)
    return problem.regret(study.best_value)


def test_branin_regret_beats_random() -> None:
    # Seeds 0-4 give a TPE median regret of about 0.036 (random: about 0.39); over 44
    # groups of 5 seeds the TPE median never exceeded 0.06.
    tpe = [_branin_regret(TPESampler(seed=s)) for s in range(5)]
    rnd = [_branin_regret(RandomSampler(seed=s)) for s in range(5)]
    assert min(tpe) >= -1e-9
    assert statistics.median(tpe) < statistics.median(rnd), (tpe, rnd)
    assert statistics.median(tpe) < 0.15, tpe


# =================================================================== constant liar
def _batch_min_distance(seed: int, liar: bool, dim: int, batch: int) -> float:
    """Minimum pairwise distance of ``batch`` trials asked (and suggested) before any
    of them is told, after 20 finished trials."""
    study = ferrotune.create_study(
        sampler=TPESampler(seed=seed, constant_liar=liar, n_startup_trials=10)
    )

    def suggest_all(trial: ferrotune.Trial) -> list[float]:
        return [trial.suggest_float(f"x{i}", -5.0, 5.0) for i in range(dim)]

    study.optimize(lambda t: sum((x - 1.0) ** 2 for x in suggest_all(t)), n_trials=20)
    points = [suggest_all(study.ask()) for _ in range(batch)]
    return min(math.dist(p, q) for p, q in itertools.combinations(points, 2))


@pytest.mark.parametrize(("dim", "batch"), [(1, 4), (2, 8)])
def test_constant_liar_spreads_parallel_asks(dim: int, batch: int) -> None:
    # Measured over 30 seeds: with the liar the mean minimum distance is 5-20x larger,
    # and larger for 26-30 of the 30 seeds.
    seeds = range(10)
    liar = [_batch_min_distance(s, True, dim, batch) for s in seeds]
    plain = [_batch_min_distance(s, False, dim, batch) for s in seeds]
    assert statistics.mean(liar) > 3.0 * statistics.mean(plain), (liar, plain)
    assert sum(a > b for a, b in zip(liar, plain, strict=True)) >= 7, (liar, plain)


# ============================================================ black-box constraints
def _constrained_run(sampler: ferrotune.samplers.BaseSampler, n: int = 80) -> tuple[float, float]:
    """Minimises x^2 + y^2 under 1 - x - y <= 0 (optimum 0.5 at x = y = 0.5); returns the
    best feasible value and the feasible fraction of the second half."""
    study = ferrotune.create_study(sampler=sampler)

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -2.0, 2.0)
        y = trial.suggest_float("y", -2.0, 2.0)
        trial.set_constraint("c", 1.0 - x - y)
        return x * x + y * y

    study.optimize(objective, n_trials=n)
    trials = study.trials
    feasible = [1.0 - t.params["x"] - t.params["y"] <= 0.0 for t in trials]
    assert feasible == [t.system_attrs["constraints"]["c"] <= 0.0 for t in trials]
    values = [t.value for t, ok in zip(trials, feasible, strict=True) if ok]
    best = min(v for v in values if v is not None) if values else math.inf
    return best, sum(feasible[n // 2 :]) / (n - n // 2)


def test_black_box_constraints_steer_to_the_feasible_optimum() -> None:
    # Seeds 0-4: TPE best feasible 0.52-0.59 (median 0.543), feasible fraction of the
    # second half 0.6-0.65; random: 0.2-0.35. TPE without set_constraint reaches a
    # median of 0.70 with 5-8% feasible.
    tpe = [_constrained_run(TPESampler(seed=s)) for s in range(5)]
    rnd = [_constrained_run(RandomSampler(seed=s)) for s in range(5)]
    assert all(b >= 0.5 - 1e-9 for b, _ in tpe)  # no feasible point beats the optimum
    assert statistics.median(b for b, _ in tpe) < 0.6, tpe
    tpe_frac = statistics.mean(f for _, f in tpe)
    rnd_frac = statistics.mean(f for _, f in rnd)
    assert tpe_frac > rnd_frac + 0.15, (tpe, rnd)


# ================================================================== multi-objective
_ZDT_DIM = 3


def _zdt1(trial: ferrotune.Trial) -> tuple[float, float]:
    x = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(_ZDT_DIM)]
    g = 1.0 + 9.0 * sum(x[1:]) / (_ZDT_DIM - 1)
    return x[0], g * (1.0 - math.sqrt(x[0] / g))


def _dominates(a: Sequence[float], b: Sequence[float]) -> bool:
    return all(p <= q for p, q in zip(a, b, strict=True)) and any(
        p < q for p, q in zip(a, b, strict=True)
    )


def _hypervolume_2d(points: Sequence[Sequence[float]], ref: tuple[float, float]) -> float:
    hv, floor = 0.0, ref[1]
    for x, y in sorted(p for p in points if p[0] < ref[0] and p[1] < ref[1]):
        if y < floor:
            hv += (ref[0] - x) * (floor - y)
            floor = y
    return hv


def _zdt_front(sampler: ferrotune.samplers.BaseSampler) -> tuple[ferrotune.Study, float]:
    study = ferrotune.create_study(sampler=sampler, directions=["minimize", "minimize"])
    study.optimize(_zdt1, n_trials=100)
    front = [t.values for t in study.best_trials]
    return study, _hypervolume_2d([v for v in front if v is not None], (1.1, 11.0))


def test_motpe_front_is_non_dominated_and_beats_random() -> None:
    # Seeds 0-7 measured: TPE hypervolume 11.25-11.60, random 10.36-10.91 (the true
    # front's is 12.1 - 1/3 = 11.77).
    for seed in range(3):
        study, hv_tpe = _zdt_front(TPESampler(seed=seed))
        best = study.best_trials
        values = [t.values for t in best if t.values is not None]
        assert values and len(values) == len(best)
        assert all(len(v) == 2 for v in values)
        for a, b in itertools.permutations(values, 2):
            assert not _dominates(a, b), (a, b)
        complete = [t.values for t in study.trials if t.values is not None]
        assert len(complete) == 100
        # Nothing dominates the front, and everything off the front is dominated.
        for v in values:
            assert not any(_dominates(c, v) for c in complete)
        for c in complete:
            if c not in values:
                assert any(_dominates(v, c) for v in values)
        _, hv_rnd = _zdt_front(RandomSampler(seed=seed))
        assert hv_tpe > hv_rnd + 0.3, (seed, hv_tpe, hv_rnd)


# =================================================================== declared spaces
def _no_relu(p: dict[str, Any]) -> bool:
    return p["act"] != "relu"


def _lr_cap(p: dict[str, Any]) -> bool:
    return bool(p["lr"] <= 0.05)


_SPACE = SearchSpace(
    {
        "d_model": CategoricalDistribution([64, 96, 128, 192, 256, 384, 512]),
        "n_heads": IntDistribution(1, 16),
        "x": FloatDistribution(0.0, 1.0),
        "y": FloatDistribution(0.0, 1.0),
        "opt": CategoricalDistribution(["sgd", "adam", "adamw"]),
        "layers": IntDistribution(1, 8),
        "momentum": FloatDistribution(0.0, 0.99),
        "beta1": FloatDistribution(0.8, 0.999),
        "sched": CategoricalDistribution(["const", "cosine"]),
        "warmup": IntDistribution(0, 1000, step=50),
        "act": CategoricalDistribution(["relu", "gelu", "tanh"]),
        "lr": FloatDistribution(1e-5, 1e-1, log=True),
    },
    conditions={
        "momentum": Condition("opt", ["sgd"]),
        "beta1": ("opt", ["adam", "adamw"]),
        "sched": Condition("opt", ["adam", "adamw"]),
        "warmup": Condition("sched", ["cosine"]),
    },
    constraints=[
        Divisible("d_model", "n_heads"),
        Linear({"x": 1.0, "y": 1.0}, upper=1.0),
        Forbidden({"opt": "sgd", "layers": 6}),
        _no_relu,
        _lr_cap,
    ],
)


def _space_loss(p: dict[str, Any]) -> float:
    """Pulls against every constraint: large d_model with 7 heads, x + y large, sgd with
    6 layers, the largest learning rate."""
    return (
        -p["d_model"] / 512
        + abs(p["n_heads"] - 7) / 4
        - 2 * (p["x"] + p["y"])
        + (p["opt"] != "sgd")
        + abs(p["layers"] - 6) / 2
        - math.log10(p["lr"])
        + p.get("warmup", 0) / 1000
    )


def _space_violations(p: dict[str, Any]) -> list[str]:
    bad = []
    expected = {"d_model", "n_heads", "x", "y", "opt", "layers", "act", "lr"}
    if p["opt"] == "sgd":
        expected.add("momentum")
    else:
        expected |= {"beta1", "sched"}
        if p.get("sched") == "cosine":
            expected.add("warmup")
    if set(p) != expected:
        bad.append(f"active {sorted(p)} != {sorted(expected)}")
    for name, v in p.items():
        if name in _SPACE.distributions and not in_distribution(_SPACE.distributions[name], v):
            bad.append(f"{name}={v!r} outside its distribution")
    if p["d_model"] % p["n_heads"]:
        bad.append("divisible")
    if p["x"] + p["y"] > 1.0 + 1e-9:
        bad.append("linear")
    if p["opt"] == "sgd" and p["layers"] == 6:
        bad.append("forbidden")
    if p["act"] == "relu":
        bad.append("predicate act")
    if p["lr"] > 0.05:
        bad.append("predicate lr")
    return bad


@pytest.mark.parametrize("seed", [0, 1])
def test_declared_space_constraints_and_conditions_hold(seed: int) -> None:
    study = ferrotune.create_study(sampler=TPESampler(seed=seed, n_startup_trials=5))
    seen_opts = set()
    for _ in range(300):
        trial = study.ask(_SPACE)
        params = trial.params
        assert not _space_violations(params), (trial.number, params, _space_violations(params))
        seen_opts.add(params["opt"])
        study.tell(trial, _space_loss(params))
    assert seen_opts == {"sgd", "adam", "adamw"}
    # The model is used: the loss improves on the random start-up.
    losses = [t.value for t in study.trials if t.value is not None]
    assert len(losses) == 300
    assert min(losses[5:]) < min(losses[:5])


def test_declared_space_predicate_rejecting_a_favoured_choice() -> None:
    """Regression: a predicate rejecting the categorical value the model favours used to
    loop forever. Run in a subprocess so that a hang fails instead of blocking."""
    script = textwrap.dedent(
        """
        import collections, json
        import ferrotune
        from ferrotune import SearchSpace
        from ferrotune.distributions import CategoricalDistribution, FloatDistribution
        from ferrotune.samplers import TPESampler

        study = ferrotune.create_study(sampler=TPESampler(seed=0, n_startup_trials=5))
        # A history in which "a" is by far the best choice.
        for _ in range(30):
            t = study.ask()
            c = t.suggest_categorical("c", ["a", "b", "c"])
            study.tell(t, 0.0 if c == "a" else 10.0)
        spaces = [
            SearchSpace(
                {"c": CategoricalDistribution(["a", "b", "c"])},
                constraints=[lambda p: p["c"] != "a"],
            ),
            SearchSpace(
                {"c": CategoricalDistribution(["a", "b", "c"]), "x": FloatDistribution(0, 1)},
                constraints=[lambda p: p["c"] != "a"],
            ),
        ]
        seen = collections.Counter()
        for space in spaces:
            for _ in range(60):
                t = study.ask(space)
                seen[t.params["c"]] += 1
                study.tell(t, 5.0)
        print(json.dumps(seen))
        """
    )
    try:
        out = subprocess.run(
            [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
        )
    except subprocess.TimeoutExpired:
        pytest.fail("asking a declared space with a rejecting predicate hung")
    assert out.returncode == 0, out.stderr
    seen = json.loads(out.stdout)
    assert "a" not in seen
    assert seen.get("b", 0) + seen.get("c", 0) == 120


# ============================================================= gamma and weights
def test_custom_gamma_and_weights_are_used() -> None:
    gammas: list[int] = []
    weights: list[int] = []

    def gamma(n: int) -> int:
        gammas.append(n)
        return 2

    def flat(n: int) -> list[float]:
        weights.append(n)
        return [1.0] * n

    dists = [FloatDistribution(-3.0, 3.0), IntDistribution(0, 20, step=4)]
    sampler = TPESampler(seed=0, n_startup_trials=4, gamma=gamma, weights=flat)
    params = _run_define_by_run(sampler, dists, [False, False], 25)
    assert len(params) == 25
    # Called once the start-up is over, with the number of finished trials.
    assert set(range(4, 25)) <= set(gammas) <= set(range(4, 25))
    assert 2 in weights  # the good set has gamma = 2 observations
    # The callables change the sequence.
    default = _run_define_by_run(TPESampler(seed=0, n_startup_trials=4), dists, [False, False], 25)
    assert default[:4] == params[:4]
    assert default[4:] != params[4:]


def _ask_until_error(sampler: TPESampler, n_trials: int) -> int | None:
    """Index of the trial whose ask/suggest raised InvalidArgumentError, None if none."""
    study = ferrotune.create_study(sampler=sampler)
    for i in range(n_trials):
        try:
            trial = study.ask()
            x = trial.suggest_float("x", 0.0, 1.0)
        except InvalidArgumentError:
            return i
        study.tell(trial, x)
    return None


@pytest.mark.parametrize(
    "bad_weights",
    [lambda n: [-1.0] * n, lambda n: [0.0] * n, lambda n: [math.nan] * n, lambda n: [1.0]],
    ids=["negative", "zero", "nan", "too-short"],
)
def test_invalid_weights_raise_at_first_model_based_ask(
    bad_weights: Callable[[int], list[float]],
) -> None:
    assert issubclass(InvalidArgumentError, ValueError)
    sampler = TPESampler(seed=0, n_startup_trials=3, weights=bad_weights)
    assert _ask_until_error(sampler, 8) == 3


def test_invalid_weights_raise_with_univariate_tpe() -> None:
    """With multivariate=False every parameter is sampled independently: a weights
    callable returning negative values must still be reported, not silently replaced by
    random sampling."""
    sampler = TPESampler(
        seed=0, n_startup_trials=3, multivariate=False, weights=lambda n: [-1.0] * n
    )
    assert _ask_until_error(sampler, 8) == 3


@pytest.mark.parametrize("multivariate", [True, False])
def test_failing_gamma_raises_invalid_argument(multivariate: bool) -> None:
    def gamma(n: int) -> int:
        raise ZeroDivisionError("boom")

    sampler = TPESampler(seed=0, n_startup_trials=3, multivariate=multivariate, gamma=gamma)
    assert _ask_until_error(sampler, 8) == 3


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_ei_candidates": 0},
        {"n_ei_candidates": True},
        {"n_startup_trials": -1},
        {"n_startup_trials": 2.5},
        {"group": True, "multivariate": False},
        {"prior_weight": -1.0},
        {"prior_weight": math.nan},
        {"gamma": 3},
        {"weights": "flat"},
    ],
)
def test_invalid_constructor_arguments(kwargs: dict[str, Any]) -> None:
    with pytest.raises(InvalidArgumentError):
        TPESampler(**kwargs)


@pytest.mark.parametrize("budget_aware", [False, True])
def test_one_tpe_sampler_serves_several_studies(budget_aware: bool) -> None:
    """A TPESampler reused for a second study (as Optuna allows) panicked in Rust (index
    out of bounds) on a conditional space: its kept estimators were indexed by the first
    study's parameters. Studies run one after the other and alternately now complete
    every trial."""

    def objective(t: ferrotune.Trial) -> float:
        k = t.suggest_categorical("k", ["a", "b"])
        x = t.suggest_float("x_" + k, 0, 1)
        if k == "b":
            t.suggest_int("y", 1, 100, log=True)
        return x

    sampler = TPESampler(seed=0, budget_aware=budget_aware)
    first = ferrotune.create_study(sampler=sampler)
    first.optimize(objective, n_trials=40)
    second, third = (ferrotune.create_study(sampler=sampler) for _ in "ab")
    for _ in range(15):
        second.optimize(objective, n_trials=2)
        third.optimize(objective, n_trials=1)
    for study in (first, second, third):
        assert all(t.state == ferrotune.TrialState.COMPLETE for t in study.trials)

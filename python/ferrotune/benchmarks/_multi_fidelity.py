"""Multi-fidelity test problems: an objective with a budget (fidelity) argument.

At the full budget each synthetic problem is the single-fidelity function of
:mod:`ferrotune.benchmarks._problems`, with the same known optimum; lower budgets give a biased,
cheaper approximation whose ranking of configurations stays correlated with the true one.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.benchmarks._problems import (
    _BRANIN_B,
    _BRANIN_C,
    _BRANIN_T,
    _HARTMANN3_A,
    _HARTMANN3_P,
    _HARTMANN3_XOPT,
    _HARTMANN6_A,
    _HARTMANN6_P,
    _HARTMANN6_XOPT,
    _HARTMANN_ALPHA,
    BRANIN_OPTIMUM,
    HARTMANN3_OPTIMUM,
    HARTMANN6_OPTIMUM,
    FloatArray,
    Param,
    _box,
)
from ferrotune.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution


@dataclass(frozen=True, eq=False)
class MultiFidelityProblem:
    """A minimisation problem whose objective takes a budget (epochs, fidelity) as well.

    ``evaluate(params, budget)`` is the objective at ``budget`` in ``[min_budget, max_budget]``;
    at ``max_budget`` it is the true objective, whose known minimum is ``optimum``.

    Cost model: evaluating at ``budget`` costs ``budget / max_budget`` full-budget evaluations
    (:meth:`cost`), so compute is counted as the sum of budgets, as Hyperband does.

    Attributes:
        name: The problem's name, as accepted by :func:`get_multi_fidelity_problem`.
        params: Library-neutral description of the search space (name -> :class:`Param`).
        optimum: The known minimum at the full budget, or ``None`` when not known (the live
            learning task).
        optimal_params: A minimiser at the full budget, or ``None`` when not known.
        min_budget: The smallest budget accepted.
        max_budget: The full budget.
        integer_budget: Whether budgets must be whole numbers (epochs).
        fn: ``fn(params, budget)``, called with checked arguments.
        steps_fn: Optional incremental evaluation (``params -> iterator`` of the values at
            budgets ``1, 2, ...``), used by :meth:`steps` instead of one ``fn`` call per step.
    """

    name: str
    params: dict[str, Param]
    optimum: float | None
    optimal_params: dict[str, Any] | None
    min_budget: float
    max_budget: float
    fn: Callable[[Mapping[str, Any], float], float] = field(repr=False, compare=False)
    integer_budget: bool = False
    steps_fn: Callable[[Mapping[str, Any]], Iterator[float]] | None = field(
        default=None, repr=False, compare=False
    )

    @cached_property
    def space(self) -> dict[str, BaseDistribution]:
        """The search space as ``ferrotune.distributions`` objects (built on first access)."""
        return {name: p.to_distribution() for name, p in self.params.items()}

    @property
    def dim(self) -> int:
        return len(self.params)

    def check_params(self, params: Mapping[str, Any]) -> None:
        """Raise :class:`~ferrotune.exceptions.InvalidArgumentError` naming the first parameter
        that is missing, unknown or outside its domain."""
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(f"{self.name}: params must be a mapping, got {params!r}")
        for name, p in self.params.items():
            if name not in params:
                raise InvalidArgumentError(f"{self.name}: parameter {name!r} is missing")
            if not p.contains(params[name]):
                raise InvalidArgumentError(
                    f"{self.name}: parameter {name!r}={params[name]!r} is outside its domain {p}"
                )
        unknown = sorted(set(params) - set(self.params))
        if unknown:
            raise InvalidArgumentError(f"{self.name}: unknown parameter(s) {unknown}")

    def check_budget(self, budget: Any) -> float:
        """``budget`` as a float, or :class:`~ferrotune.exceptions.InvalidArgumentError` when it
        is not a number in ``[min_budget, max_budget]`` (a whole one for epoch budgets)."""
        if isinstance(budget, bool) or not isinstance(
            budget, (int, float, np.integer, np.floating)
        ):
            raise InvalidArgumentError(f"{self.name}: budget must be a number, got {budget!r}")
        b = float(budget)
        if not (self.min_budget <= b <= self.max_budget):
            raise InvalidArgumentError(
                f"{self.name}: budget={budget!r} is outside "
                f"[min_budget={self.min_budget:g}, max_budget={self.max_budget:g}]"
            )
        if self.integer_budget and b != math.floor(b):
            raise InvalidArgumentError(
                f"{self.name}: budget must be a whole number of epochs, got {budget!r}"
            )
        return b

    def evaluate(self, params: Mapping[str, Any], budget: float | None = None) -> float:
        """The objective at ``budget`` (default: ``max_budget``, the true objective)."""
        b = self.max_budget if budget is None else self.check_budget(budget)
        self.check_params(params)
        return float(self.fn(params, b))

    def __call__(self, params: Mapping[str, Any]) -> float:
        """The true objective (full budget), as :class:`Problem` objects are called."""
        return self.evaluate(params)

    def steps(self, params: Mapping[str, Any]) -> Iterator[float]:
        """The values at budgets ``1, 2, ..., floor(max_budget)`` (those ``>= min_budget``),
        lazily: one step per epoch, for ``trial.report(value, step)`` loops."""
        self.check_params(params)
        if self.steps_fn is not None:
            return self.steps_fn(params)
        first = max(1, math.ceil(self.min_budget))
        last = math.floor(self.max_budget)
        return (float(self.fn(params, float(b))) for b in range(first, last + 1))

    def cost(self, budget: float) -> float:
        """Cost of one evaluation at ``budget`` in full-budget evaluations:
        ``budget / max_budget``."""
        return self.check_budget(budget) / self.max_budget

    def regret(self, value: float) -> float:
        """Simple regret ``value - optimum`` at the full budget."""
        if self.optimum is None:
            raise InvalidArgumentError(f"{self.name}: the optimum is not known, so no regret")
        return float(value) - self.optimum


def _check_budgets(name: str, min_budget: float, max_budget: float) -> None:
    for arg, v in (("min_budget", min_budget), ("max_budget", max_budget)):
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v) or v <= 0:
            raise InvalidArgumentError(f"{name}: {arg} must be a positive number, got {v!r}")
    if not min_budget < max_budget:
        raise InvalidArgumentError(
            f"{name}: min_budget={min_budget!r} must be below max_budget={max_budget!r}"
        )


def _check_nonnegative(name: str, arg: str, v: float) -> None:
    if isinstance(v, bool) or not isinstance(v, numbers.Real) or not (0.0 <= v < math.inf):
        raise InvalidArgumentError(f"{name}: {arg} must be a finite number >= 0, got {v!r}")


def _log_fidelity(budget: float, min_budget: float, max_budget: float) -> float:
    """The budget scaled to ``s in [0, 1]`` on a log scale: 0 at ``min_budget``, 1 at the full
    budget (mfpbench's scaling of the Hartmann fidelity, so Hyperband's geometric budgets are
    spread evenly)."""
    return math.log(budget / min_budget) / math.log(max_budget / min_budget)


def _unit_noise(seed: int, budget: float, x: FloatArray) -> float:
    """``|N(0, 1)|``, a deterministic function of ``(seed, budget, x)``: the same query gives
    the same value in every process (a stable hash, not Python's ``hash``)."""
    key = np.concatenate(([float(seed), budget], x)).astype("<f8").tobytes()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    rng = np.random.default_rng(int.from_bytes(digest, "little"))
    return abs(float(rng.standard_normal()))


# --- Branin ------------------------------------------------------------------------------------

# Kandasamy et al. (2017), appendix: b, c and t of Branin shifted by (1 - z) times these.
_MF_BRANIN_DELTA_B = 0.01
_MF_BRANIN_DELTA_C = 0.1
_MF_BRANIN_DELTA_T = -0.005


def mf_branin(min_budget: float = 1.0, max_budget: float = 100.0) -> MultiFidelityProblem:
    """Multi-fidelity Branin on ``x0 in [-5, 10], x1 in [0, 15]``.

    The multi-fidelity Branin of Kandasamy et al. (2017), "Multi-fidelity Bayesian optimisation
    with continuous approximations" (BOCA), appendix: Branin's coefficients move with the
    fidelity ``z in [0, 1]``, ``b(z) = b - 0.01 (1 - z)``, ``c(z) = c - 0.1 (1 - z)`` and
    ``t(z) = t + 0.005 (1 - z)``.  Kandasamy et al. use three fidelity coordinates; here the
    single ``z`` is the log-scaled budget, ``z = log(budget / min_budget) /
    log(max_budget / min_budget)``.  Noise-free.

    At ``max_budget`` (``z = 1``) it is :func:`branin`: minimum ``5 / (4 pi) = 0.397887`` at
    ``(pi, 2.275)`` (and ``(-pi, 12.275)``, ``(3 pi, 2.475)``).

    Args:
        min_budget: The smallest budget (default 1).
        max_budget: The full budget (default 100).
    """
    _check_budgets("mf_branin", min_budget, max_budget)
    names = ("x0", "x1")

    def fn(params: Mapping[str, Any], budget: float) -> float:
        z = _log_fidelity(budget, min_budget, max_budget)
        x1, x2 = float(params[names[0]]), float(params[names[1]])
        b = _BRANIN_B - _MF_BRANIN_DELTA_B * (1.0 - z)
        c = _BRANIN_C - _MF_BRANIN_DELTA_C * (1.0 - z)
        t = _BRANIN_T - _MF_BRANIN_DELTA_T * (1.0 - z)
        return (x2 - b * x1 * x1 + c * x1 - 6.0) ** 2 + 10.0 * (1.0 - t) * math.cos(x1) + 10.0

    space = {"x0": Param.real(-5.0, 10.0), "x1": Param.real(0.0, 15.0)}
    opt = {"x0": math.pi, "x1": 2.275}
    return MultiFidelityProblem(
        "mf_branin", space, BRANIN_OPTIMUM, opt, float(min_budget), float(max_budget), fn
    )


# --- Hartmann ----------------------------------------------------------------------------------


def _mf_hartmann(
    name: str,
    a: FloatArray,
    p: FloatArray,
    x_opt: tuple[float, ...],
    optimum: float,
    settings: tuple[float, float, float, float, int],
) -> MultiFidelityProblem:
    min_budget, max_budget, bias, noise, seed = settings
    _check_budgets(name, min_budget, max_budget)
    _check_nonnegative(name, "bias", bias)
    _check_nonnegative(name, "noise", noise)
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError(f"{name}: seed must be an integer, got {seed!r}")
    dim = len(x_opt)
    names = tuple(f"x{i}" for i in range(dim))

    def fn(params: Mapping[str, Any], budget: float) -> float:
        x = np.array([float(params[n]) for n in names], dtype=np.float64)
        s = _log_fidelity(budget, min_budget, max_budget)
        # Kandasamy et al. (2017): alpha(z) = alpha - delta (1 - z); mfpbench's bias is delta.
        alpha = _HARTMANN_ALPHA - bias * (1.0 - s)
        value = -float(alpha @ np.exp(-np.sum(a * (x[None, :] - p) ** 2, axis=1)))
        if noise > 0.0 and s < 1.0:
            value += noise * (1.0 - s) * _unit_noise(int(seed), budget, x)
        return value

    opt = {n: float(v) for n, v in zip(names, x_opt, strict=True)}
    return MultiFidelityProblem(
        name, _box(dim, 0.0, 1.0), optimum, opt, float(min_budget), float(max_budget), fn
    )


_MF_HARTMANN_DOC = """Multi-fidelity Hartmann {dim}-D on ``[0, 1]^{dim}``.

    The Hartmann function with its weights ``alpha`` shifted by the fidelity, as Kandasamy et al.
    (2017), "Multi-fidelity Bayesian optimisation with continuous approximations" (BOCA),
    appendix: ``alpha(s) = alpha - bias (1 - s)``, plus a non-negative noise
    ``noise (1 - s) |N(0, 1)|``, with ``s = log(budget / min_budget) / log(max_budget /
    min_budget)`` the log-scaled budget.  This is the ``mfh{dim}`` benchmark of mfpbench (Mallik
    et al.), the one DEHB (Awad et al. 2021) reports on: its defaults ``bias=0.5, noise=0.1`` and
    budgets ``1..100`` (mfpbench queries ``3..100``) are the defaults here.  Kandasamy et al.'s
    own version is ``bias=0.1, noise=0`` with a linear fidelity.  mfpbench's harder presets:
    ``(bias, noise)`` = ``(1.0, 0.2)`` "moderate", ``(2.0, 0.4)`` "bad", ``(4.0, 0.8)``
    "terrible".

    The noise is a deterministic function of ``(seed, budget, params)`` (a stable hash), so a
    query repeats exactly, in any process; it vanishes at the full budget, where the problem is
    :func:`hartmann{dim}` with minimum ``{optimum}``.  Cost: ``budget / max_budget`` (mfpbench
    uses ``0.05 + 0.95 (budget / 100)^2`` instead).

    Args:
        min_budget: The smallest budget (default 1).
        max_budget: The full budget (default 100).
        bias: The shift of ``alpha`` at ``min_budget`` (default 0.5).
        noise: The scale of the noise at ``min_budget`` (default 0.1; 0 for none).
        seed: Seeds the noise (default 0).
    """


def mf_hartmann3(
    min_budget: float = 1.0,
    max_budget: float = 100.0,
    bias: float = 0.5,
    noise: float = 0.1,
    seed: int = 0,
) -> MultiFidelityProblem:
    settings = (min_budget, max_budget, bias, noise, seed)
    return _mf_hartmann(
        "mf_hartmann3", _HARTMANN3_A, _HARTMANN3_P, _HARTMANN3_XOPT, HARTMANN3_OPTIMUM, settings
    )


def mf_hartmann6(
    min_budget: float = 1.0,
    max_budget: float = 100.0,
    bias: float = 0.5,
    noise: float = 0.1,
    seed: int = 0,
) -> MultiFidelityProblem:
    settings = (min_budget, max_budget, bias, noise, seed)
    return _mf_hartmann(
        "mf_hartmann6", _HARTMANN6_A, _HARTMANN6_P, _HARTMANN6_XOPT, HARTMANN6_OPTIMUM, settings
    )


mf_hartmann3.__doc__ = _MF_HARTMANN_DOC.format(dim=3, optimum="-3.86278")
mf_hartmann6.__doc__ = _MF_HARTMANN_DOC.format(dim=6, optimum="-3.32237")


# --- Self-check --------------------------------------------------------------------------------


def self_check_multi_fidelity(n_samples: int = 2_000, seed: int = 0, atol: float = 1e-9) -> None:
    """Check the synthetic multi-fidelity problems; raise ``AssertionError`` on a mismatch.

    For each: the value at ``optimal_params`` at the full budget equals ``optimum``; at the full
    budget the problem equals its single-fidelity function at random points, none of which beats
    the optimum; every budget gives a finite value that repeats exactly.
    """
    from ferrotune.benchmarks._problems import branin, hartmann3, hartmann6

    rng = np.random.default_rng(seed)
    pairs = [(mf_branin(), branin()), (mf_hartmann3(), hartmann3()), (mf_hartmann6(), hartmann6())]
    for mf, sf in pairs:
        assert mf.optimal_params is not None and mf.optimum is not None, mf.name
        assert abs(mf(mf.optimal_params) - mf.optimum) <= atol, mf.name
        for _ in range(n_samples // len(pairs)):
            point = {n: float(rng.uniform(p.low, p.high)) for n, p in mf.params.items()}
            full = mf.evaluate(point)
            assert full == sf(point), (mf.name, point)
            assert full >= mf.optimum - atol, (mf.name, point)
            budget = float(rng.uniform(mf.min_budget, mf.max_budget))
            low = mf.evaluate(point, budget)
            assert math.isfinite(low) and low == mf.evaluate(point, budget), (mf.name, point)

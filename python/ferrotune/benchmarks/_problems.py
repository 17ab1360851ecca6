"""Test problems with known global minima, for tests and benchmarks.

Every problem is a minimisation problem over a search space made of ferrotune distributions.
The objective functions are plain numpy code; the known optima below were checked numerically
(see :func:`self_check`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution

FloatArray: TypeAlias = npt.NDArray[np.float64]
Choice: TypeAlias = bool | int | float | str | None

#: ``("linear", {name: coefficient, ...}, bound)`` means ``sum(coefficient * value) <= bound``.
LinearConstraint: TypeAlias = tuple[Literal["linear"], dict[str, float], float]
#: ``("divisible", a, b)`` means ``params[a] % params[b] == 0``.
DivisibleConstraint: TypeAlias = tuple[Literal["divisible"], str, str]
Constraint: TypeAlias = LinearConstraint | DivisibleConstraint

_LINEAR_TOL = 1e-9


@dataclass(frozen=True)
class Param:
    """A library-neutral description of one parameter of a problem's search space.

    ``kind`` is ``"float"``, ``"int"`` or ``"categorical"``.  ``low``/``high`` are inclusive
    bounds (unused for categoricals), ``step`` a grid step (``None`` for continuous floats,
    ``1`` for plain ints), ``log`` a log-scale flag, and ``choices`` the categories.
    ``condition`` is ``None`` or ``(parent, values)``: the parameter is active only when the
    parameter ``parent`` takes one of ``values`` (a conditional space); an inactive parameter
    is absent from the configuration.
    """

    kind: Literal["float", "int", "categorical"]
    low: float = 0.0
    high: float = 0.0
    step: float | None = None
    log: bool = False
    choices: tuple[Choice, ...] = ()
    condition: tuple[str, tuple[Choice, ...]] | None = None

    @staticmethod
    def real(low: float, high: float, *, step: float | None = None, log: bool = False) -> Param:
        return Param("float", float(low), float(high), step=step, log=log)

    @staticmethod
    def integer(low: int, high: int, *, step: int = 1, log: bool = False) -> Param:
        return Param("int", low, high, step=step, log=log)

    @staticmethod
    def categorical(choices: Sequence[Choice]) -> Param:
        return Param("categorical", choices=tuple(choices))

    def when(self, parent: str, values: Sequence[Choice]) -> Param:
        """This parameter, active only when ``parent`` takes one of ``values``."""
        return replace(self, condition=(parent, tuple(values)))

    def contains(self, value: Any) -> bool:
        """Whether ``value`` is a point of this parameter's domain."""
        if self.kind == "categorical":
            return any(value == c and type(value) is type(c) for c in self.choices)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
            return False
        v = float(value)
        if not (self.low <= v <= self.high):
            return False
        if self.step is not None:
            k = (v - self.low) / self.step
            return abs(k - round(k)) < 1e-8
        return True

    def to_distribution(self) -> BaseDistribution:
        """The equivalent ``ferrotune.distributions`` object."""
        from ferrotune.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        if self.kind == "float":
            return FloatDistribution(self.low, self.high, step=self.step, log=self.log)
        if self.kind == "int":
            step = 1 if self.step is None else int(self.step)
            return IntDistribution(int(self.low), int(self.high), step=step, log=self.log)
        return CategoricalDistribution(list(self.choices))


@dataclass(frozen=True, eq=False)
class Problem:
    """A minimisation problem with a known optimum.

    Attributes:
        name: The problem's name, as accepted by :func:`get_problem`.
        params: Library-neutral description of the search space (name -> :class:`Param`).
        optimum: The known global minimum (of the constrained problem, if constrained).
        optimal_params: A minimiser, or ``None`` if not known in closed form.
        constraints: Hard constraints (see :data:`Constraint`), or ``None``.
        fn: The objective, taking a mapping of parameter values.
    """

    name: str
    params: dict[str, Param]
    optimum: float
    optimal_params: dict[str, Any] | None
    fn: Callable[[Mapping[str, Any]], float] = field(repr=False, compare=False)
    constraints: list[Constraint] | None = None

    @cached_property
    def space(self) -> dict[str, BaseDistribution]:
        """The search space as ``ferrotune.distributions`` objects (built on first access)."""
        return {name: p.to_distribution() for name, p in self.params.items()}

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def conditional(self) -> bool:
        """Whether some parameter is active only for some values of another."""
        return any(p.condition is not None for p in self.params.values())

    def active(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` without the parameters whose condition does not hold (parents first)."""
        out: dict[str, Any] = {}
        for name, p in self.params.items():
            if name not in params:
                continue
            if p.condition is not None:
                parent, values = p.condition
                if parent not in out or not any(
                    _same(self.params[parent], out[parent], v) for v in values
                ):
                    continue
            out[name] = params[name]
        return out

    @cached_property
    def search_space(self) -> SearchSpace:
        """The space as a ferrotune :class:`~ferrotune.SearchSpace`, conditions included
        (for ``study.ask(problem.search_space)``; the hard constraints are not in it)."""
        from ferrotune._search_space import Condition, SearchSpace

        conditions = {
            name: Condition(p.condition[0], p.condition[1])
            for name, p in self.params.items()
            if p.condition is not None
        }
        return SearchSpace(self.space, conditions=conditions)

    def __call__(self, params: Mapping[str, Any]) -> float:
        return float(self.fn(params))

    def regret(self, value: float) -> float:
        """Simple regret ``value - optimum`` (non-negative for feasible points)."""
        return float(value) - self.optimum

    def constraint_values(self, params: Mapping[str, Any]) -> list[float]:
        """One number per constraint, ``<= 0`` when satisfied (the Optuna convention).

        A linear constraint gives ``sum(coef * value) - bound``; a divisibility constraint gives
        ``0.0`` when satisfied and the remainder (``> 0``) otherwise.
        """
        out: list[float] = []
        for c in self.constraints or []:
            if c[0] == "linear":
                _, coefs, bound = c
                out.append(sum(w * float(params[k]) for k, w in coefs.items()) - bound)
            else:
                _, a, b = c
                out.append(float(int(params[a]) % int(params[b])))
        return out

    def is_feasible(self, params: Mapping[str, Any]) -> bool:
        """Whether ``params`` satisfies every constraint (always true when unconstrained)."""
        return all(v <= _LINEAR_TOL for v in self.constraint_values(params))


def _vector(params: Mapping[str, Any], names: Sequence[str]) -> FloatArray:
    return np.array([float(params[n]) for n in names], dtype=np.float64)


def _box(dim: int, low: float, high: float) -> dict[str, Param]:
    return {f"x{i}": Param.real(low, high) for i in range(dim)}


def _vector_problem(
    name: str,
    f: Callable[[FloatArray], float],
    space: dict[str, Param],
    optimum: float,
    x_opt: Sequence[float],
) -> Problem:
    names = tuple(space)

    def fn(params: Mapping[str, Any]) -> float:
        return f(_vector(params, names))

    opt = {n: float(v) for n, v in zip(names, x_opt, strict=True)}
    return Problem(name, space, optimum, opt, fn)


def _check_dim(name: str, dim: int, minimum: int) -> None:
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or dim < minimum:
        raise ValueError(f"{name}: dim must be an integer >= {minimum}, got {dim!r}")


# --- Branin ------------------------------------------------------------------------------------

_BRANIN_B = 5.1 / (4.0 * math.pi**2)
_BRANIN_C = 5.0 / math.pi
_BRANIN_T = 1.0 / (8.0 * math.pi)
BRANIN_OPTIMUM = 0.39788735772973816


def _branin(x: FloatArray) -> float:
    x1, x2 = float(x[0]), float(x[1])
    quad = (x2 - _BRANIN_B * x1 * x1 + _BRANIN_C * x1 - 6.0) ** 2
    return quad + 10.0 * (1.0 - _BRANIN_T) * math.cos(x1) + 10.0


def branin() -> Problem:
    """Branin-Hoo on ``x0 in [-5, 10], x1 in [0, 15]``.

    Three global minimisers, ``(-pi, 12.275)``, ``(pi, 2.275)`` and ``(3 pi, 2.475)``, all with
    value ``5 / (4 pi) = 0.397887...``.
    """
    space = {"x0": Param.real(-5.0, 10.0), "x1": Param.real(0.0, 15.0)}
    return _vector_problem("branin", _branin, space, BRANIN_OPTIMUM, (math.pi, 2.275))


# --- Hartmann ----------------------------------------------------------------------------------

_HARTMANN_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_HARTMANN3_A = np.array(
    [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]]
)
_HARTMANN3_P = 1e-4 * np.array(
    [[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]],
    dtype=np.float64,
)
_HARTMANN6_A = np.array(
    [
        [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
        [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
        [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
        [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
    ]
)
_HARTMANN6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ],
    dtype=np.float64,
)
# Minimisers refined numerically (BFGS + Nelder-Mead to ~1e-13) from the published ones.
_HARTMANN3_XOPT = (0.11458886297873021, 0.5556488896168454, 0.8525469799279678)
_HARTMANN6_XOPT = (
    0.2016895143546786,
    0.15001069292118097,
    0.4768739775473111,
    0.27533243018030845,
    0.3116516151076288,
    0.6573005338278364,
)
HARTMANN3_OPTIMUM = -3.8627797873326597
HARTMANN6_OPTIMUM = -3.3223680114155147


def _hartmann(a: FloatArray, p: FloatArray) -> Callable[[FloatArray], float]:
    def f(x: FloatArray) -> float:
        inner = np.sum(a * (x[None, :] - p) ** 2, axis=1)
        return -float(_HARTMANN_ALPHA @ np.exp(-inner))

    return f


def hartmann3() -> Problem:
    """Hartmann 3-D on ``[0, 1]^3``; minimum ``-3.86278`` near ``(0.1146, 0.5556, 0.8525)``."""
    f = _hartmann(_HARTMANN3_A, _HARTMANN3_P)
    return _vector_problem("hartmann3", f, _box(3, 0.0, 1.0), HARTMANN3_OPTIMUM, _HARTMANN3_XOPT)


def hartmann6() -> Problem:
    """Hartmann 6-D on ``[0, 1]^6``; minimum ``-3.32237``."""
    f = _hartmann(_HARTMANN6_A, _HARTMANN6_P)
    return _vector_problem("hartmann6", f, _box(6, 0.0, 1.0), HARTMANN6_OPTIMUM, _HARTMANN6_XOPT)


# --- Scalable functions ------------------------------------------------------------------------


def _rosenbrock(x: FloatArray) -> float:
    return float(np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2))


def rosenbrock(dim: int = 10) -> Problem:
    """Rosenbrock on ``[-5, 10]^dim`` (``dim >= 2``); minimum ``0`` at ``(1, ..., 1)``."""
    _check_dim("rosenbrock", dim, 2)
    return _vector_problem("rosenbrock", _rosenbrock, _box(dim, -5.0, 10.0), 0.0, [1.0] * dim)


def _ackley(x: FloatArray) -> float:
    a, b, c = 20.0, 0.2, 2.0 * math.pi
    r = math.sqrt(float(np.mean(x * x)))
    s = float(np.mean(np.cos(c * x)))
    # Clamp the rounding error at the optimum, where the exact value is 0.
    return max(0.0, -a * math.exp(-b * r) - math.exp(s) + a + math.e)


def ackley(dim: int = 10) -> Problem:
    """Ackley on ``[-32.768, 32.768]^dim``; minimum ``0`` at the origin."""
    _check_dim("ackley", dim, 1)
    space = _box(dim, -32.768, 32.768)
    return _vector_problem("ackley", _ackley, space, 0.0, [0.0] * dim)


def _rastrigin(x: FloatArray) -> float:
    return float(10.0 * len(x) + np.sum(x * x - 10.0 * np.cos(2.0 * math.pi * x)))


def rastrigin(dim: int = 10) -> Problem:
    """Rastrigin on ``[-5.12, 5.12]^dim``; minimum ``0`` at the origin, with a local minimum
    near every integer point."""
    _check_dim("rastrigin", dim, 1)
    return _vector_problem("rastrigin", _rastrigin, _box(dim, -5.12, 5.12), 0.0, [0.0] * dim)


def _levy(x: FloatArray) -> float:
    w = 1.0 + (x - 1.0) / 4.0
    head = math.sin(math.pi * float(w[0])) ** 2
    mid = np.sum((w[:-1] - 1.0) ** 2 * (1.0 + 10.0 * np.sin(math.pi * w[:-1] + 1.0) ** 2))
    last = float(w[-1])
    tail = (last - 1.0) ** 2 * (1.0 + math.sin(2.0 * math.pi * last) ** 2)
    return head + float(mid) + tail


def levy(dim: int = 10) -> Problem:
    """Levy on ``[-10, 10]^dim``; minimum ``0`` at ``(1, ..., 1)``."""
    _check_dim("levy", dim, 1)
    return _vector_problem("levy", _levy, _box(dim, -10.0, 10.0), 0.0, [1.0] * dim)


def _styblinski_tang_1d() -> tuple[float, float]:
    # The per-coordinate minimiser is the smallest real root of 4 x^3 - 32 x + 5 = 0.
    roots = np.roots([4.0, 0.0, -32.0, 5.0])
    x = float(np.min(roots.real))
    return x, 0.5 * (x**4 - 16.0 * x**2 + 5.0 * x)


STYBLINSKI_TANG_XOPT, STYBLINSKI_TANG_OPT_1D = _styblinski_tang_1d()  # -2.90353..., -39.16617...


def _styblinski_tang(x: FloatArray) -> float:
    return 0.5 * float(np.sum(x**4 - 16.0 * x**2 + 5.0 * x))


def styblinski_tang(dim: int = 10) -> Problem:
    """Styblinski-Tang on ``[-5, 5]^dim``; minimum ``-39.16617 * dim`` at ``x_i = -2.90353``."""
    _check_dim("styblinski_tang", dim, 1)
    return _vector_problem(
        "styblinski_tang",
        _styblinski_tang,
        _box(dim, -5.0, 5.0),
        STYBLINSKI_TANG_OPT_1D * dim,
        [STYBLINSKI_TANG_XOPT] * dim,
    )


# --- Mixed -------------------------------------------------------------------------------------

# Per optimiser choice: (offset added to the objective, scale of the quadratic part, x0 target).
_MIXED_OPTIMISERS: dict[str, tuple[float, float, float]] = {
    "sgd": (1.0, 2.0, -1.0),
    "adam": (0.5, 1.0, 1.5),
    "rmsprop": (0.75, 0.5, 0.0),
}
_MIXED_BATCH_SIZES = (16, 32, 64, 128, 256)


def _mixed(params: Mapping[str, Any]) -> float:
    offset, scale, x0_target = _MIXED_OPTIMISERS[str(params["optimizer"])]
    x0 = float(params["x0"])
    x1 = float(params["x1"])
    lr = float(params["lr"])
    layers = int(params["layers"])
    batch = int(params["batch_size"])
    quad = (
        (x0 - x0_target) ** 2
        + 2.0 * (x1 + 0.5) ** 2
        + (math.log10(lr) + 3.0) ** 2
        + 0.05 * (layers - 6) ** 2
        + 0.1 * (math.log2(batch) - 6.0) ** 2
    )
    return offset + scale * quad


def mixed() -> Problem:
    """A mixed float / log-float / int / categorical problem.

    ``f = offset[opt] + scale[opt] * ((x0 - t[opt])^2 + 2 (x1 + 0.5)^2 + (log10 lr + 3)^2
    + 0.05 (layers - 6)^2 + 0.1 (log2 batch_size - 6)^2)``.  The quadratic part is zero at
    ``x0 = t[opt], x1 = -0.5, lr = 1e-3, layers = 6, batch_size = 64`` (all inside the space and on
    the grids), so the minimum is the smallest offset, ``0.5``, reached with ``optimizer="adam"``.
    """
    space = {
        "x0": Param.real(-5.0, 5.0),
        "x1": Param.real(-5.0, 5.0),
        "lr": Param.real(1e-5, 1e-1, log=True),
        "layers": Param.integer(1, 16),
        "optimizer": Param.categorical(list(_MIXED_OPTIMISERS)),
        "batch_size": Param.categorical(list(_MIXED_BATCH_SIZES)),
    }
    best = min(_MIXED_OPTIMISERS, key=lambda k: _MIXED_OPTIMISERS[k][0])
    offset, _, x0_target = _MIXED_OPTIMISERS[best]
    opt: dict[str, Any] = {
        "x0": x0_target,
        "x1": -0.5,
        "lr": 1e-3,
        "layers": 6,
        "optimizer": best,
        "batch_size": 64,
    }
    return Problem("mixed", space, offset, opt, _mixed)


# --- Constrained -------------------------------------------------------------------------------


def _constrained(params: Mapping[str, Any]) -> float:
    x = float(params["x"])
    y = float(params["y"])
    d_model = int(params["d_model"])
    n_heads = int(params["n_heads"])
    continuous = (x - 1.0) ** 2 + 2.0 * (y - 1.0) ** 2
    return continuous + ((d_model - 100) / 16.0) ** 2 + (n_heads - 7) ** 2


def constrained() -> Problem:
    """A problem whose unconstrained minimiser is infeasible.

    ``f = (x - 1)^2 + 2 (y - 1)^2 + ((d_model - 100) / 16)^2 + (n_heads - 7)^2`` with
    ``x, y in [-2, 2]``, ``d_model in {16, 32, ..., 256}`` and ``n_heads in {1, ..., 12}``,
    under ``x + y <= 1`` and ``d_model % n_heads == 0``.

    Unconstrained, the minimum is ``0.0625`` at ``x = y = 1, d_model = 96, n_heads = 7``, which
    breaks both constraints.  The continuous part separates from the discrete one: on the line
    ``x + y = 1`` the Lagrange conditions give ``x = 1/3, y = 2/3`` with value ``2/3``; among the
    feasible ``(d_model, n_heads)`` pairs the best is ``(112, 7)`` with ``(12/16)^2 = 0.5625``
    (next: ``(96, 6)`` and ``(96, 8)`` at ``1.0625``).  The constrained minimum is
    ``2/3 + 0.5625``.
    """
    space = {
        "x": Param.real(-2.0, 2.0),
        "y": Param.real(-2.0, 2.0),
        "d_model": Param.integer(16, 256, step=16),
        "n_heads": Param.integer(1, 12),
    }
    constraints: list[Constraint] = [
        ("linear", {"x": 1.0, "y": 1.0}, 1.0),
        ("divisible", "d_model", "n_heads"),
    ]
    opt: dict[str, Any] = {"x": 1.0 / 3.0, "y": 2.0 / 3.0, "d_model": 112, "n_heads": 7}
    return Problem("constrained", space, 2.0 / 3.0 + 0.5625, opt, _constrained, constraints)


# --- More continuous functions (Surjanovic & Bingham's Virtual Library of Simulation
# Experiments, https://www.sfu.ca/~ssurjano/optimization.html: definitions and domains) ---------

# The minimiser refined numerically (BFGS + Nelder-Mead) from the published (0.0898, -0.7126).
SIX_HUMP_CAMEL_XOPT = (0.08984201709772313, -0.7126564030341007)
SIX_HUMP_CAMEL_OPTIMUM = -1.0316284534898774


def _six_hump_camel(x: FloatArray) -> float:
    x1, x2 = float(x[0]), float(x[1])
    return (4.0 - 2.1 * x1**2 + x1**4 / 3.0) * x1**2 + x1 * x2 + (-4.0 + 4.0 * x2**2) * x2**2


def six_hump_camel() -> Problem:
    """Six-Hump Camel on ``x0 in [-3, 3], x1 in [-2, 2]`` (Surjanovic & Bingham).

    ``f = (4 - 2.1 x0^2 + x0^4 / 3) x0^2 + x0 x1 + (-4 + 4 x1^2) x1^2``; six local minima, two
    global ones, ``+-(0.0898, -0.7126)``, with value ``-1.0316285``.
    """
    space = {"x0": Param.real(-3.0, 3.0), "x1": Param.real(-2.0, 2.0)}
    return _vector_problem(
        "six_hump_camel", _six_hump_camel, space, SIX_HUMP_CAMEL_OPTIMUM, SIX_HUMP_CAMEL_XOPT
    )


def _goldstein_price(x: FloatArray) -> float:
    x1, x2 = float(x[0]), float(x[1])
    a = 1.0 + (x1 + x2 + 1.0) ** 2 * (
        19.0 - 14.0 * x1 + 3.0 * x1**2 - 14.0 * x2 + 6.0 * x1 * x2 + 3.0 * x2**2
    )
    b = 30.0 + (2.0 * x1 - 3.0 * x2) ** 2 * (
        18.0 - 32.0 * x1 + 12.0 * x1**2 + 48.0 * x2 - 36.0 * x1 * x2 + 27.0 * x2**2
    )
    return a * b


def goldstein_price() -> Problem:
    """Goldstein-Price on ``[-2, 2]^2`` (Surjanovic & Bingham); minimum ``3`` at ``(0, -1)``,
    values spanning six orders of magnitude over the square."""
    return _vector_problem(
        "goldstein_price", _goldstein_price, _box(2, -2.0, 2.0), 3.0, (0.0, -1.0)
    )


# Michalewicz (m = 10) is a sum of one-dimensional terms, so its minimiser is found coordinate by
# coordinate: the minimiser of -sin(x) sin^20(i x^2 / pi) on [0, pi] for i = 1..10, by a grid of
# 2e6 points refined with Brent's method.  The sums for d = 2, 5, 10 are the published optima
# -1.8013, -4.687658, -9.66015.
_MICHALEWICZ_XOPT = (
    2.2029055201716035,
    1.5707963267948966,
    1.2849915705494115,
    1.9230584698654392,
    1.7204697725658575,
    1.5707963267948966,
    1.4544139713617037,
    1.7560865209441525,
    1.6557174168207853,
    1.5707963267948966,
)
_MICHALEWICZ_M = 10


def _michalewicz(x: FloatArray) -> float:
    i = np.arange(1, len(x) + 1, dtype=np.float64)
    inner = np.sin(i * x * x / math.pi) ** (2 * _MICHALEWICZ_M)
    return -float(np.sum(np.sin(x) * inner))


def michalewicz(dim: int = 10) -> Problem:
    """Michalewicz (``m = 10``) on ``[0, pi]^dim`` for ``dim`` from 2 to 10 (Surjanovic &
    Bingham): steep, narrow valleys; ``d!`` local minima.  Minimum ``-1.8013`` (d = 2),
    ``-4.687658`` (d = 5), ``-9.66015`` (d = 10)."""
    if isinstance(dim, bool) or not isinstance(dim, numbers.Integral) or not 2 <= dim <= 10:
        raise ValueError(f"michalewicz: dim must be an integer in [2, 10], got {dim!r}")
    x_opt = _MICHALEWICZ_XOPT[:dim]
    optimum = _michalewicz(np.array(x_opt))
    return _vector_problem("michalewicz", _michalewicz, _box(dim, 0.0, math.pi), optimum, x_opt)


def _griewank(x: FloatArray) -> float:
    i = np.arange(1, len(x) + 1, dtype=np.float64)
    return float(np.sum(x * x) / 4000.0 - np.prod(np.cos(x / np.sqrt(i))) + 1.0)


def griewank(dim: int = 10) -> Problem:
    """Griewank on ``[-600, 600]^dim`` (Surjanovic & Bingham); minimum ``0`` at the origin,
    many regularly spaced local minima on a wide bowl."""
    _check_dim("griewank", dim, 1)
    return _vector_problem("griewank", _griewank, _box(dim, -600.0, 600.0), 0.0, [0.0] * dim)


# The published constant 418.9829 is max x sin(sqrt|x|) rounded; the minimiser of the published
# formula, refined with Brent's method, is x_i = 420.96874..., where the value is
# dim * 1.27e-5 rather than exactly 0.
SCHWEFEL_XOPT = 420.9687436961694


def _schwefel(x: FloatArray) -> float:
    return 418.9829 * len(x) - float(np.sum(x * np.sin(np.sqrt(np.abs(x)))))


def schwefel(dim: int = 10) -> Problem:
    """Schwefel on ``[-500, 500]^dim`` (Surjanovic & Bingham): the best local minima lie far
    apart, near the corners.  ``f = 418.9829 dim - sum x_i sin(sqrt|x_i|)``; minimum
    ``1.27e-5 * dim`` (0 up to the constant's rounding) at ``x_i = 420.9687``."""
    _check_dim("schwefel", dim, 1)
    x_opt = [SCHWEFEL_XOPT] * dim
    optimum = _schwefel(np.array(x_opt))
    return _vector_problem("schwefel", _schwefel, _box(dim, -500.0, 500.0), optimum, x_opt)


def _zakharov(x: FloatArray) -> float:
    s = float(np.sum(0.5 * np.arange(1, len(x) + 1) * x))
    return float(np.sum(x * x)) + s**2 + s**4


def zakharov(dim: int = 10) -> Problem:
    """Zakharov on ``[-5, 10]^dim`` (Surjanovic & Bingham); minimum ``0`` at the origin, a
    plate-shaped valley with no local minima."""
    _check_dim("zakharov", dim, 1)
    return _vector_problem("zakharov", _zakharov, _box(dim, -5.0, 10.0), 0.0, [0.0] * dim)


def _dixon_price(x: FloatArray) -> float:
    i = np.arange(2, len(x) + 1, dtype=np.float64)
    return (float(x[0]) - 1.0) ** 2 + float(np.sum(i * (2.0 * x[1:] ** 2 - x[:-1]) ** 2))


def dixon_price(dim: int = 10) -> Problem:
    """Dixon-Price on ``[-10, 10]^dim`` (``dim >= 2``; Surjanovic & Bingham); minimum ``0`` at
    ``x_i = 2^(-(2^i - 2) / 2^i)``, ``i = 1..dim``."""
    _check_dim("dixon_price", dim, 2)
    x_opt = [2.0 ** (-(2.0**i - 2.0) / 2.0**i) for i in range(1, dim + 1)]
    return _vector_problem("dixon_price", _dixon_price, _box(dim, -10.0, 10.0), 0.0, x_opt)


def _sum_squares(x: FloatArray) -> float:
    return float(np.sum(np.arange(1, len(x) + 1) * x * x))


def sum_squares(dim: int = 40) -> Problem:
    """The axis-parallel hyper-ellipsoid ``sum i x_i^2`` on ``[-10, 10]^dim`` (Surjanovic &
    Bingham's Sum Squares); minimum ``0`` at the origin, condition number ``dim``."""
    _check_dim("sum_squares", dim, 1)
    return _vector_problem("sum_squares", _sum_squares, _box(dim, -10.0, 10.0), 0.0, [0.0] * dim)


# --- Categorical and integer variants (the mixed-variable BO literature) -----------------------

# CoCaBO's scaled components (Ru et al., 2020, "Bayesian optimisation over multiple continuous
# and categorical inputs", ICML; their test-function code): Rosenbrock / 300, Six-Hump Camel
# / 10, Beale / 50, each on 2 x in [-2, 2]^2.


def _cocabo_terms(x: FloatArray) -> tuple[float, float, float]:
    x1, x2 = 2.0 * float(x[0]), 2.0 * float(x[1])
    rosen = (100.0 * (x2 - x1**2) ** 2 + (x1 - 1.0) ** 2) / 300.0
    camel = _six_hump_camel(np.array([x1, x2])) / 10.0
    beale = (
        (1.5 - x1 + x1 * x2) ** 2 + (2.25 - x1 + x1 * x2**2) ** 2 + (2.625 - x1 + x1 * x2**3) ** 2
    ) / 50.0
    return rosen, camel, beale


def _func2c(params: Mapping[str, Any]) -> float:
    rosen, camel, beale = _cocabo_terms(_vector(params, ("x0", "x1")))
    terms = (rosen, camel, beale)
    h1, h2 = int(params["h1"]), int(params["h2"])
    return terms[h1] + terms[min(h2, 2)]


def func2c() -> Problem:
    """CoCaBO's Func2C (Ru et al., 2020): two categoricals choosing the sum of two of
    Rosenbrock, Six-Hump Camel and Beale (scaled) at ``2 x``, ``x in [-1, 1]^2``.

    ``h1 in {0, 1, 2}`` picks Rosenbrock / 300, Six-Hump Camel / 10 or Beale / 50; ``h2 in
    {0..4}`` the second term (2, 3 and 4 all Beale).  Minimum ``2 * -1.0316285 / 10`` with
    ``h1 = h2 = 1`` at ``x = (0.0449, -0.3563)`` (or its negative).  Deviation: the published
    code adds uniform noise of amplitude 1e-6; here the function is deterministic.
    """
    space = {
        "h1": Param.categorical([0, 1, 2]),
        "h2": Param.categorical([0, 1, 2, 3, 4]),
        "x0": Param.real(-1.0, 1.0),
        "x1": Param.real(-1.0, 1.0),
    }
    opt: dict[str, Any] = {
        "h1": 1,
        "h2": 1,
        "x0": SIX_HUMP_CAMEL_XOPT[0] / 2.0,
        "x1": SIX_HUMP_CAMEL_XOPT[1] / 2.0,
    }
    return Problem("func2c", space, 0.2 * SIX_HUMP_CAMEL_OPTIMUM, opt, _func2c)


def _func3c(params: Mapping[str, Any]) -> float:
    rosen, camel, beale = _cocabo_terms(_vector(params, ("x0", "x1")))
    terms = (rosen, camel, beale)
    h3 = int(params["h3"])
    third = (5.0 * camel, 2.0 * rosen, 2.0 * beale, 3.0 * beale)[h3]
    return terms[int(params["h1"])] + terms[min(int(params["h2"]), 2)] + third


def func3c() -> Problem:
    """CoCaBO's Func3C (Ru et al., 2020): Func2C plus a third categorical ``h3 in {0..3}``
    adding ``5 camel``, ``2 rosenbrock``, ``2 beale`` or ``3 beale`` (the scaled terms of
    :func:`func2c`).  Minimum ``7 * -1.0316285 / 10`` with ``h1 = h2 = 1, h3 = 0`` at the
    same ``x``.  Deterministic (the published code adds 1e-6 noise)."""
    space = {
        "h1": Param.categorical([0, 1, 2]),
        "h2": Param.categorical([0, 1, 2, 3, 4]),
        "h3": Param.categorical([0, 1, 2, 3]),
        "x0": Param.real(-1.0, 1.0),
        "x1": Param.real(-1.0, 1.0),
    }
    opt: dict[str, Any] = {
        "h1": 1,
        "h2": 1,
        "h3": 0,
        "x0": SIX_HUMP_CAMEL_XOPT[0] / 2.0,
        "x1": SIX_HUMP_CAMEL_XOPT[1] / 2.0,
    }
    return Problem("func3c", space, 0.7 * SIX_HUMP_CAMEL_OPTIMUM, opt, _func3c)


_ACKLEY_CAT_CHOICES = 11


def _ackley_cat(params: Mapping[str, Any]) -> float:
    k = np.array([int(v) for v in params.values()], dtype=np.float64)
    # Category k stands for the point -32.768 + k * 65.536 / 10 of Ackley's domain.
    return _ackley(-32.768 + k * (65.536 / (_ACKLEY_CAT_CHOICES - 1)))


def ackley_cat(dim: int = 20) -> Problem:
    """Ackley over categoricals (CASMOPOLITAN's Ackley-20c; Wan et al., 2021, "Think global and
    act local: Bayesian optimisation over high-dimensional categorical and mixed search
    spaces", ICML).

    ``dim`` categorical parameters with 11 choices ``0..10`` each; choice ``k`` stands for
    ``-32.768 + 6.5536 k``, evenly spaced over Ackley's domain, and the value is
    :func:`ackley` there.  The samplers see unordered categories.  Minimum ``0`` with every
    choice ``5`` (the origin).  Deterministic (the published code adds 1e-6 noise).
    """
    _check_dim("ackley_cat", dim, 1)
    space = {f"x{i}": Param.categorical(list(range(_ACKLEY_CAT_CHOICES))) for i in range(dim)}
    opt: dict[str, Any] = {name: 5 for name in space}
    return Problem("ackley_cat", space, 0.0, opt, _ackley_cat)


def rosenbrock_int(n_int: int = 7, n_float: int = 3) -> Problem:
    """Rosenbrock on ``[-2, 2]^(n_int + n_float)`` whose first ``n_int`` coordinates are
    integers (the mixed-integer Rosenbrock of mixed-variable BO test suites, 7 + 3 by
    default).  Minimum ``0`` at ``(1, ..., 1)``, which lies on the integer grid."""
    _check_dim("rosenbrock_int", n_int + n_float, 2)
    if n_int < 0 or n_float < 0:
        raise ValueError(f"rosenbrock_int: n_int and n_float must be >= 0, got {n_int}, {n_float}")
    space = {f"x{i}": Param.integer(-2, 2) for i in range(n_int)}
    space.update({f"x{i}": Param.real(-2.0, 2.0) for i in range(n_int, n_int + n_float)})
    x_opt = [1.0] * (n_int + n_float)
    problem = _vector_problem("rosenbrock_int", _rosenbrock, space, 0.0, x_opt)
    opt = {n: (1 if p.kind == "int" else 1.0) for n, p in space.items()}
    return Problem(problem.name, space, 0.0, opt, problem.fn)


# --- Conditional -------------------------------------------------------------------------------


def _transformer(params: Mapping[str, Any]) -> float:
    from ferrotune.examples import transformer_loss

    return transformer_loss(params)


def transformer() -> Problem:
    """The running example: :func:`ferrotune.examples.transformer_space` (9 parameters; Adam's
    ``beta1``, ``beta2`` active only for ``optimizer="adam"``) on the synthetic
    :func:`ferrotune.examples.transformer_loss`.

    Minimum ``0.5`` at ``learning_rate = 1e-3, d_model = 256, n_heads = 8, 4 layers,
    dropout = 0.15, gelu, adam, beta1 = 0.9, beta2 = 0.999``.  The space's constraint
    ``d_model % n_heads == 0`` holds for all nine pairs of choices, so it is left out here.
    """
    space = {
        "learning_rate": Param.real(1e-5, 1e-2, log=True),
        "d_model": Param.categorical([128, 256, 512]),
        "n_heads": Param.categorical([4, 8, 16]),
        "num_encoder_layers": Param.integer(2, 6),
        "dropout": Param.real(0.1, 0.3),
        "activation": Param.categorical(["relu", "gelu"]),
        "optimizer": Param.categorical(["adam", "sgd"]),
        "beta1": Param.real(0.8, 0.99).when("optimizer", ["adam"]),
        "beta2": Param.real(0.9, 0.9999).when("optimizer", ["adam"]),
    }
    opt: dict[str, Any] = {
        "learning_rate": 1e-3,
        "d_model": 256,
        "n_heads": 8,
        "num_encoder_layers": 4,
        "dropout": 0.15,
        "activation": "gelu",
        "optimizer": "adam",
        "beta1": 0.9,
        "beta2": 0.999,
    }
    return Problem("transformer", space, 0.5, opt, _transformer)


# --- Shifted problems --------------------------------------------------------------------------


def shifted(problem: Problem, offset: Mapping[str, float], suffix: str = "_shifted") -> Problem:
    """``problem`` with its landscape moved by ``offset``: ``f'(x) = f(x - offset)``.

    The space and the optimum value stay; the minimiser moves to ``x* + offset``, which must lie
    in the space (and on the grid of a stepped or integer parameter).  As COCO/BBOB's random
    shifts, this takes the optimum away from the centre of the box, which optimisers that start
    there (Nevergrad's first point, CMA-ES's initial mean) would otherwise hit at once.  Valid
    only for functions whose minimum over all of ``R^d`` is at ``optimal_params`` (Ackley,
    Rastrigin, Griewank, Sum Squares, Rosenbrock, ...; not Schwefel or Michalewicz): the
    shifted function reads the original outside its published box.

    Args:
        problem: An unconstrained, unconditional problem with known ``optimal_params``.
        offset: Parameter name -> shift, for numeric parameters (others are not moved).
        suffix: Appended to the problem's name.

    Raises:
        ValueError: The shifted minimiser leaves the space, or ``offset`` names a parameter
            that is unknown or categorical, or the problem is constrained or conditional.
    """
    if problem.constraints or problem.conditional or problem.optimal_params is None:
        raise ValueError(
            f"shifted: {problem.name} must be unconstrained, unconditional, with a known minimiser"
        )
    for name in offset:
        if name not in problem.params or problem.params[name].kind == "categorical":
            raise ValueError(f"shifted: offset names {name!r}, not a numeric parameter")
    opt = dict(problem.optimal_params)
    for name, d in offset.items():
        moved = opt[name] + d
        opt[name] = int(moved) if problem.params[name].kind == "int" else moved
        if not problem.params[name].contains(opt[name]) or opt[name] != moved:
            raise ValueError(f"shifted: {name}'s minimiser {moved!r} leaves the space")
    inner = problem.fn

    def fn(params: Mapping[str, Any]) -> float:
        return inner({k: (v - offset[k] if k in offset else v) for k, v in params.items()})

    return Problem(problem.name + suffix, problem.params, problem.optimum, opt, fn)


# --- Registry ----------------------------------------------------------------------------------

PROBLEMS: dict[str, Callable[..., Problem]] = {
    "branin": branin,
    "hartmann3": hartmann3,
    "hartmann6": hartmann6,
    "rosenbrock": rosenbrock,
    "ackley": ackley,
    "levy": levy,
    "rastrigin": rastrigin,
    "styblinski_tang": styblinski_tang,
    "mixed": mixed,
    "constrained": constrained,
    "six_hump_camel": six_hump_camel,
    "goldstein_price": goldstein_price,
    "michalewicz": michalewicz,
    "griewank": griewank,
    "schwefel": schwefel,
    "zakharov": zakharov,
    "dixon_price": dixon_price,
    "sum_squares": sum_squares,
    "func2c": func2c,
    "func3c": func3c,
    "ackley_cat": ackley_cat,
    "rosenbrock_int": rosenbrock_int,
    "transformer": transformer,
}


def get_problem(name: str, **kwargs: Any) -> Problem:
    """Build the problem called ``name``; keyword arguments go to its factory (e.g. ``dim``)."""
    try:
        factory = PROBLEMS[name]
    except KeyError:
        known = ", ".join(sorted(PROBLEMS))
        raise ValueError(f"unknown problem {name!r}; known problems: {known}") from None
    return factory(**kwargs)


# --- Self-check --------------------------------------------------------------------------------


def _random_point(problem: Problem, rng: np.random.Generator) -> dict[str, Any]:
    """A uniform draw of every parameter, inactive ones dropped."""
    out: dict[str, Any] = {}
    for name, p in problem.params.items():
        if p.kind == "categorical":
            out[name] = p.choices[int(rng.integers(len(p.choices)))]
        elif p.kind == "int":
            step = 1 if p.step is None else int(p.step)
            n = (int(p.high) - int(p.low)) // step
            out[name] = int(p.low) + step * int(rng.integers(n + 1))
        elif p.log:
            out[name] = math.exp(rng.uniform(math.log(p.low), math.log(p.high)))
        else:
            out[name] = float(rng.uniform(p.low, p.high))
    return problem.active(out)


def self_check(n_samples: int = 20_000, seed: int = 0, atol: float = 1e-9) -> None:
    """Check every problem's stated optimum numerically; raise ``AssertionError`` on a mismatch.

    For each problem: the value at ``optimal_params`` equals ``optimum`` (within ``atol``), the
    optimal point lies in the space and is feasible, no random feasible point beats the optimum,
    and no small perturbation of the continuous coordinates of the optimum beats it either.
    """
    rng = np.random.default_rng(seed)
    problems = [factory() for factory in PROBLEMS.values()]
    problems += [rosenbrock(2), ackley(1), levy(1), levy(3), styblinski_tang(1), styblinski_tang(4)]
    problems += [michalewicz(2), michalewicz(5), schwefel(2), dixon_price(2), sum_squares(3)]
    problems += [ackley_cat(2), rosenbrock_int(1, 1), rosenbrock(30)]
    for prob in problems:
        assert prob.optimal_params is not None, prob.name
        opt = prob.optimal_params
        assert set(opt) == set(prob.active(opt)), prob.name
        for name, p in prob.params.items():
            assert p.contains(opt[name]), (prob.name, name, opt[name])
        assert prob.is_feasible(opt), prob.name
        value = prob(opt)
        assert abs(value - prob.optimum) <= atol * max(1.0, abs(prob.optimum)), (
            prob.name,
            value,
            prob.optimum,
        )
        for _ in range(n_samples // len(problems)):
            point = _random_point(prob, rng)
            if prob.is_feasible(point):
                assert prob(point) >= prob.optimum - atol, (prob.name, point)
        for _ in range(200):
            point = dict(opt)
            for name, p in prob.params.items():
                if p.kind == "float" and not p.log and name in opt:
                    width = 1e-4 * (p.high - p.low)
                    point[name] = min(p.high, max(p.low, opt[name] + rng.uniform(-width, width)))
            if prob.is_feasible(point):
                assert prob(point) >= prob.optimum - atol, (prob.name, point)
    # The discrete part of the constrained problem, exhaustively.
    cons = constrained()
    best = min(
        ((d - 100) / 16.0) ** 2 + (h - 7) ** 2
        for d in range(16, 257, 16)
        for h in range(1, 13)
        if d % h == 0
    )
    assert abs(best - 0.5625) < 1e-12, best
    unconstrained = dict(cons.optimal_params or {}, x=1.0, y=1.0, d_model=96)
    assert not cons.is_feasible(unconstrained)
    assert cons(unconstrained) < cons.optimum


def _same(param: Param, a: Any, b: Any) -> bool:
    """Whether ``a`` and ``b`` are the same value of ``param``: for a stepped float the
    same grid point (0.1 * 3 is 0.30000000000000004), as the core's conditions compare."""
    if a == b:
        return True
    if param.kind == "float" and param.step is not None:
        try:
            ka, kb = ((float(x) - param.low) / param.step for x in (a, b))
        except (TypeError, ValueError):
            return False
        return abs(ka - kb) < 0.5 and abs(ka - round(ka)) < 1e-6 and abs(kb - round(kb)) < 1e-6
    return False

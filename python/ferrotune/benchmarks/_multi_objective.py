"""Multi-objective test problems with known Pareto fronts (all objectives minimised).

- :func:`zdt1`, :func:`zdt2`, :func:`zdt3`: Zitzler, Deb and Thiele, "Comparison of
  Multiobjective Evolutionary Algorithms: Empirical Results", Evolutionary Computation 8(2),
  2000 (problems T1-T3): 30 variables in ``[0, 1]``, two objectives, ``f1 = x0``,
  ``g = 1 + 9 sum(x1..) / (n - 1)``; the front is ``g = 1`` (convex, concave, disconnected).
- :func:`dtlz2`: Deb, Thiele, Laumanns and Zitzler, "Scalable Test Problems for Evolutionary
  Multiobjective Optimization", 2005: 3 objectives, 12 variables in ``[0, 1]``; the front is
  the positive octant of the unit sphere.

Each problem documents a reference point and the hypervolume of its true front for it:
``problem.hypervolume(values)`` and ``problem.hypervolume_gap(values)`` (true minus reached,
0 on the front) read a study's results.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ferrotune.benchmarks._problems import Param

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution

__all__ = ["MULTI_OBJECTIVE_PROBLEMS", "MultiObjectiveProblem", "dtlz2", "zdt1", "zdt2", "zdt3"]


@dataclass(frozen=True, eq=False)
class MultiObjectiveProblem:
    """A minimisation problem with several objectives and a known Pareto front.

    Attributes:
        name: The problem's name.
        params: Library-neutral description of the search space (name -> :class:`Param`).
        n_objectives: Number of objectives (all minimised).
        reference_point: The reference point of :meth:`hypervolume`.
        front_hypervolume: The hypervolume of the true Pareto front for that point.
        fn: The objectives, taking a mapping of parameter values.
        front: ``n -> (n, n_objectives)`` points of the true front.
    """

    name: str
    params: dict[str, Param]
    n_objectives: int
    reference_point: tuple[float, ...]
    front_hypervolume: float
    fn: Callable[[Mapping[str, Any]], tuple[float, ...]] = field(repr=False)
    front: Callable[[int], npt.NDArray[np.float64]] = field(repr=False)

    @cached_property
    def space(self) -> dict[str, BaseDistribution]:
        """The search space as ``ferrotune.distributions`` objects."""
        return {name: p.to_distribution() for name, p in self.params.items()}

    @property
    def dim(self) -> int:
        return len(self.params)

    @property
    def directions(self) -> list[str]:
        """``["minimize", ...]``, for ``create_study(directions=...)``."""
        return ["minimize"] * self.n_objectives

    def __call__(self, params: Mapping[str, Any]) -> tuple[float, ...]:
        return self.fn(params)

    def hypervolume(self, values: Sequence[Sequence[float]] | npt.ArrayLike) -> float:
        """The hypervolume of ``values`` (rows of objectives) for :attr:`reference_point`."""
        from ferrotune import hypervolume

        arr = np.asarray(values, dtype=np.float64).reshape(-1, self.n_objectives)
        return hypervolume(arr, self.reference_point)

    def hypervolume_gap(self, values: Sequence[Sequence[float]] | npt.ArrayLike) -> float:
        """``front_hypervolume - hypervolume(values)``: 0 on the true front."""
        return self.front_hypervolume - self.hypervolume(values)


def _unit_box(n: int) -> dict[str, Param]:
    return {f"x{i}": Param.real(0.0, 1.0) for i in range(n)}


def _x(params: Mapping[str, Any], n: int) -> npt.NDArray[np.float64]:
    return np.array([float(params[f"x{i}"]) for i in range(n)], dtype=np.float64)


def _zdt(
    name: str,
    h: Callable[[float, float], float],
    front_f2: Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]],
    front_hv: float,
    n: int,
) -> MultiObjectiveProblem:
    def fn(params: Mapping[str, Any]) -> tuple[float, float]:
        x = _x(params, n)
        f1 = float(x[0])
        g = 1.0 + 9.0 * float(np.sum(x[1:])) / (n - 1)
        return f1, g * h(f1, g)

    def front(k: int) -> npt.NDArray[np.float64]:
        f1 = np.linspace(0.0, 1.0, k)
        return np.column_stack([f1, front_f2(f1)])

    return MultiObjectiveProblem(name, _unit_box(n), 2, (11.0, 11.0), front_hv, fn, front)


def _check_n(name: str, n: int, minimum: int) -> None:
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < minimum:
        raise ValueError(f"{name}: n_variables must be an integer >= {minimum}, got {n!r}")


def zdt1(n_variables: int = 30) -> MultiObjectiveProblem:
    """ZDT1: ``f2 = g (1 - sqrt(f1 / g))``; convex front ``f2 = 1 - sqrt(f1)``.

    Reference point ``(11, 11)``; true front hypervolume ``110 + 10 + 2/3``.
    """
    _check_n("zdt1", n_variables, 2)
    return _zdt(
        "zdt1",
        lambda f1, g: 1.0 - math.sqrt(f1 / g),
        lambda f1: 1.0 - np.sqrt(f1),
        120.0 + 2.0 / 3.0,
        n_variables,
    )


def zdt2(n_variables: int = 30) -> MultiObjectiveProblem:
    """ZDT2: ``f2 = g (1 - (f1 / g)^2)``; concave front ``f2 = 1 - f1^2``.

    Reference point ``(11, 11)``; true front hypervolume ``110 + 10 + 1/3``.
    """
    _check_n("zdt2", n_variables, 2)
    return _zdt(
        "zdt2",
        lambda f1, g: 1.0 - (f1 / g) ** 2,
        lambda f1: 1.0 - f1**2,
        120.0 + 1.0 / 3.0,
        n_variables,
    )


#: The hypervolume of ZDT3's front for (11, 11): the non-dominated part of
#: ``f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)``, computed on 4 million points of the curve
#: (converged to about 1e-6).
ZDT3_FRONT_HYPERVOLUME = 128.778116


def zdt3(n_variables: int = 30) -> MultiObjectiveProblem:
    """ZDT3: ``f2 = g (1 - sqrt(f1 / g) - (f1 / g) sin(10 pi f1))``; a front of five
    disconnected pieces (the non-dominated part of ``f2 = 1 - sqrt(f1) - f1 sin(10 pi f1)``).

    Reference point ``(11, 11)``; true front hypervolume ``128.778116``.
    """
    _check_n("zdt3", n_variables, 2)

    def curve(f1: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        return 1.0 - np.sqrt(f1) - f1 * np.sin(10.0 * math.pi * f1)

    prob = _zdt(
        "zdt3",
        lambda f1, g: 1.0 - math.sqrt(f1 / g) - (f1 / g) * math.sin(10.0 * math.pi * f1),
        curve,
        ZDT3_FRONT_HYPERVOLUME,
        n_variables,
    )

    def front(k: int) -> npt.NDArray[np.float64]:
        # The curve's non-dominated points: f2 below every f2 to its left.
        f1 = np.linspace(0.0, 1.0, max(k, 2) * 50)
        f2 = curve(f1)
        keep = f2 < np.minimum.accumulate(np.concatenate([[np.inf], f2[:-1]]))
        pts = np.column_stack([f1[keep], f2[keep]])
        picked: npt.NDArray[np.float64] = pts[
            np.linspace(0, len(pts) - 1, min(k, len(pts))).astype(int)
        ]
        return picked

    return MultiObjectiveProblem(
        prob.name, prob.params, 2, prob.reference_point, prob.front_hypervolume, prob.fn, front
    )


def dtlz2(n_objectives: int = 3, n_variables: int = 12) -> MultiObjectiveProblem:
    """DTLZ2: ``f_i = (1 + g) * products of cos/sin(x_j pi / 2)``, ``g = sum (x_k - 0.5)^2``
    over the last ``n_variables - n_objectives + 1`` variables; the front is the positive
    part of the unit sphere (``g = 0``).

    Reference point ``(1.1, ..., 1.1)``; true front hypervolume ``1.1^m - V``, with ``V``
    the volume of the unit ball's positive orthant (``pi / 6`` for 3 objectives).
    """
    _check_n("dtlz2", n_objectives, 2)
    _check_n("dtlz2", n_variables, n_objectives)
    m, n = n_objectives, n_variables

    def fn(params: Mapping[str, Any]) -> tuple[float, ...]:
        x = _x(params, n)
        g = float(np.sum((x[m - 1 :] - 0.5) ** 2))
        angles = x[: m - 1] * (math.pi / 2.0)
        out = []
        for i in range(m):
            v = 1.0 + g
            v *= float(np.prod(np.cos(angles[: m - 1 - i])))
            if i > 0:
                v *= math.sin(float(angles[m - 1 - i]))
            out.append(v)
        return tuple(out)

    def front(k: int) -> npt.NDArray[np.float64]:
        rng = np.random.default_rng(0)
        pts = np.abs(rng.normal(size=(k, m)))
        unit: npt.NDArray[np.float64] = pts / np.linalg.norm(pts, axis=1, keepdims=True)
        return unit

    # The positive orthant of the unit m-ball: pi^(m/2) / Gamma(m/2 + 1) / 2^m.
    orthant = math.pi ** (m / 2) / math.gamma(m / 2 + 1) / 2**m
    ref = (1.1,) * m
    return MultiObjectiveProblem("dtlz2", _unit_box(n), m, ref, 1.1**m - orthant, fn, front)


MULTI_OBJECTIVE_PROBLEMS: dict[str, Callable[..., MultiObjectiveProblem]] = {
    "zdt1": zdt1,
    "zdt2": zdt2,
    "zdt3": zdt3,
    "dtlz2": dtlz2,
}

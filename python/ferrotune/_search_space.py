"""Declared search spaces: parameters, conditions and hard constraints.

A declared space travels to Rust once, compiled. Samplers then draw whole
configurations that satisfy every declarative constraint; Python predicates are
checked on each candidate the Rust side proposes.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import numpy as np
import numpy.typing as npt

from ferrotune import _core
from ferrotune.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution
from ferrotune.exceptions import InvalidDistributionError, InvalidSpaceError

__all__ = [
    "Condition",
    "Divisible",
    "Forbidden",
    "Linear",
    "SearchSpace",
]


@dataclass(frozen=True)
class Condition:
    """``child`` is active only when ``parent`` takes one of ``values``."""

    parent: str
    values: tuple[Any, ...]

    def __init__(self, parent: str, values: Iterable[Any]) -> None:
        # One value may be given alone: Condition("optimizer", "adam"), Condition("n", 3).
        if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
            vals: tuple[Any, ...] = (values,)
        else:
            vals = tuple(values)
        object.__setattr__(self, "parent", parent)
        object.__setattr__(self, "values", vals)


@dataclass(frozen=True)
class Divisible:
    """``params[numerator] % params[denominator] == 0`` (integers or numeric choices).

    Example:
        >>> Divisible("d_model", "n_heads")
        Divisible(numerator='d_model', denominator='n_heads')
    """

    numerator: str
    denominator: str


@dataclass(frozen=True)
class Linear:
    """``lower <= sum(coef * params[name]) <= upper`` (either bound may be omitted).

    Example:
        >>> Linear({"x": 1.0, "y": 1.0}, upper=1.0)
        Linear(coefficients=(('x', 1.0), ('y', 1.0)), upper=1.0, lower=None)
    """

    coefficients: tuple[tuple[str, float], ...]
    upper: float | None = None
    lower: float | None = None

    def __init__(
        self,
        coefficients: Mapping[str, float],
        *,
        upper: float | None = None,
        lower: float | None = None,
    ) -> None:
        if upper is None and lower is None:
            raise InvalidSpaceError("Linear constraint needs upper=, lower= or both")
        if not isinstance(coefficients, Mapping):
            raise InvalidSpaceError(
                "Linear constraint: coefficients must be a mapping name -> number, got "
                f"{type(coefficients).__name__}"
            )
        coefs = tuple((k, _finite(v, f"the coefficient of {k!r}")) for k, v in coefficients.items())
        object.__setattr__(self, "coefficients", coefs)
        object.__setattr__(self, "upper", None if upper is None else _finite(upper, "upper"))
        object.__setattr__(self, "lower", None if lower is None else _finite(lower, "lower"))
        if self.upper is not None and self.lower is not None and self.lower > self.upper:
            raise InvalidSpaceError(
                f"Linear constraint: lower={self.lower} is above upper={self.upper}: "
                "no point satisfies it"
            )


def _finite(v: Any, what: str) -> float:
    """A Linear constraint's number: anything ``float()`` reads (numpy, Decimal), finite."""
    try:
        f = float(v)
        ok = not isinstance(v, (bool, np.bool_)) and math.isfinite(f)
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidSpaceError(f"Linear constraint: {what} must be a finite number, got {v!r:.80}")
    return f


@dataclass(frozen=True)
class Forbidden:
    """This combination of values may not occur together.

    Example:
        >>> Forbidden({"optimizer": "sgd", "n_layers": 6})
        Forbidden(assignment=(('optimizer', 'sgd'), ('n_layers', 6)))
    """

    assignment: tuple[tuple[str, Any], ...]

    def __init__(self, assignment: Mapping[str, Any]) -> None:
        if not isinstance(assignment, Mapping):
            raise InvalidSpaceError(
                "Forbidden constraint: the assignment must be a mapping name -> value, got "
                f"{type(assignment).__name__}"
            )
        object.__setattr__(self, "assignment", tuple(assignment.items()))


Predicate = Callable[[dict[str, Any]], bool]
ConstraintLike = Union[Divisible, Linear, Forbidden, Predicate]
ConditionLike = Union[Condition, tuple[str, Iterable[Any]]]

# Bounds of a grid enumeration (None: the core's GRID_LIMIT and GRID_WORK_LIMIT,
# 1,000,000 points and 50,000,000 steps). Module attributes so tests can change them.
_GRID_MAX_POINTS: int | None = None
_GRID_MAX_STEPS: int | None = None


class SearchSpace:
    """A declared search space with conditional parameters and hard constraints.

    Use it with ``study.ask(space)`` or ``study.optimize(func, space=space)`` (the
    objective reads ``trial.params``), alongside define-by-run ``suggest_*`` calls.

    Args:
        params: Parameter name -> distribution.
        conditions: Child name -> ``Condition(parent, values)`` or ``(parent, values)``:
            the child is active only when the parent takes one of the values. Conditions
            can nest; inactive parameters are absent from ``trial.params``.
        constraints: Hard constraints no sampler may violate: :class:`Divisible`,
            :class:`Linear`, :class:`Forbidden` (evaluated in Rust), or any callable
            ``params -> bool`` (True = feasible) receiving the active parameters.
            A constraint with an inactive parameter does not apply (a callable that
            raises KeyError, reading a parameter absent from ``params``, holds).
        max_draws: Candidate draws before the space is declared infeasible
            (:class:`~ferrotune.exceptions.InfeasibleSpaceError`) instead of hanging.

    Constraints between discrete, unconditional parameters are enumerated once
    (up to 262,144 combinations): sampling never rejects for them, and an empty
    feasible set is reported when the space is built. Other constraints are enforced
    by rejection.

    Example:
        >>> from ferrotune.distributions import CategoricalDistribution as C
        >>> space = SearchSpace(
        ...     {"d_model": C([128, 256, 512]), "n_heads": C([4, 8, 16])},
        ...     constraints=[Divisible("d_model", "n_heads")],
        ... )
    """

    def __init__(
        self,
        params: Mapping[str, BaseDistribution],
        conditions: Mapping[str, ConditionLike] | None = None,
        constraints: Sequence[ConstraintLike] | None = None,
        *,
        max_draws: int = 100_000,
    ) -> None:
        if not isinstance(params, Mapping) or not params:
            raise InvalidSpaceError("a SearchSpace needs at least one parameter")
        for name, dist in params.items():
            if not isinstance(name, str) or not name:
                raise InvalidSpaceError(f"parameter names must be non-empty strings, got {name!r}")
            if not isinstance(dist, BaseDistribution):
                raise InvalidSpaceError(
                    f"parameter {name!r}: expected a distribution, got {type(dist).__name__}"
                )
        if isinstance(max_draws, bool) or not isinstance(max_draws, int) or max_draws < 1:
            raise InvalidSpaceError(f"max_draws must be a positive int, got {max_draws!r}")
        self.max_draws = max_draws
        conds: dict[str, Condition] = {}
        if conditions is not None and not isinstance(conditions, Mapping):
            raise InvalidSpaceError(
                "conditions must be a mapping child -> Condition(parent, values), got "
                f"{type(conditions).__name__}"
            )
        for child, spec in (conditions or {}).items():
            if child not in params:
                raise InvalidSpaceError(f"condition on unknown parameter {child!r}")
            if isinstance(spec, Condition):
                cond = spec
            elif isinstance(spec, (tuple, list)) and len(spec) == 2:
                cond = Condition(spec[0], spec[1])
            else:
                raise InvalidSpaceError(
                    f"parameter {child!r}: a condition is Condition(parent, values) or a "
                    f"(parent, values) pair, got {spec!r:.80}"
                )
            if cond.parent not in params:
                raise InvalidSpaceError(
                    f"parameter {child!r}: its condition names unknown parent {cond.parent!r}"
                )
            parent = params[cond.parent]
            if isinstance(parent, FloatDistribution) and parent.step is None:
                raise InvalidSpaceError(
                    f"parameter {child!r}: its condition lists values of {cond.parent!r}, a "
                    "float without a step, which takes any one value with probability 0 "
                    "(condition on an int, a stepped float or a categorical instead)"
                )
            conds[child] = cond
        self.conditions: dict[str, Condition] = conds
        self.names: list[str] = _parents_first(list(params), conds)
        self.distributions: dict[str, BaseDistribution] = {n: params[n] for n in self.names}
        self._index = {n: i for i, n in enumerate(self.names)}
        if constraints is not None and (
            isinstance(constraints, (str, bytes)) or not isinstance(constraints, Iterable)
        ):
            raise InvalidSpaceError(
                f"constraints must be a list of constraints, got {type(constraints).__name__}"
            )
        self.constraints: list[ConstraintLike] = list(constraints or [])
        self._predicates: list[Predicate] = []
        core_constraints: list[tuple[Any, ...]] = []
        for c in self.constraints:
            core_constraints.extend(self._compile_constraint(c))
        core_params = []
        for name in self.names:
            dist = self.distributions[name]
            parent_index = None
            allowed: list[float] = []
            cond_maybe = conds.get(name)
            if cond_maybe is not None:
                parent_index = self._index[cond_maybe.parent]
                pdist = self.distributions[cond_maybe.parent]
                for v in cond_maybe.values:
                    try:
                        allowed.append(pdist.to_internal_repr(v))
                    except InvalidDistributionError as e:
                        raise InvalidSpaceError(
                            f"parameter {name!r}: condition value {v!r} is not a value of "
                            f"parent {cond_maybe.parent!r}"
                        ) from e
            numeric = dist.numeric_values() if isinstance(dist, CategoricalDistribution) else None
            core_params.append((name, dist._core, parent_index, allowed, numeric))
        self._core = _core.Space(core_params, core_constraints)

    def _param_index(self, constraint: object, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise InvalidSpaceError(
                f"constraint {constraint!r} names unknown parameter {name!r}"
            ) from None

    def _compile_constraint(self, c: ConstraintLike) -> list[tuple[Any, ...]]:
        if isinstance(c, Divisible):
            return [
                (
                    "divisible",
                    self._param_index(c, c.numerator),
                    self._param_index(c, c.denominator),
                )
            ]
        if isinstance(c, Linear):
            terms = [(self._param_index(c, k), v) for k, v in c.coefficients]
            out: list[tuple[Any, ...]] = []
            if c.upper is not None:
                out.append(("linear", terms, c.upper))
            if c.lower is not None:
                out.append(("linear", [(i, -v) for i, v in terms], -c.lower))
            return out
        if isinstance(c, Forbidden):
            assignment = []
            for k, v in c.assignment:
                i = self._param_index(c, k)
                try:
                    assignment.append((i, self.distributions[k].to_internal_repr(v)))
                except InvalidDistributionError as e:
                    raise InvalidSpaceError(
                        f"constraint {c!r}: {v!r} is not a value of parameter {k!r}"
                    ) from e
            return [("forbidden", assignment)]
        if callable(c):
            self._predicates.append(c)
            return []
        raise InvalidSpaceError(
            f"unknown constraint {c!r}: use Divisible, Linear, Forbidden or a callable"
        )

    def _external(self, row: Sequence[float]) -> dict[str, Any]:
        """Active parameters of an internal row (NaN = inactive) as external values."""
        return {
            n: self.distributions[n].to_external_repr(v)
            for n, v in zip(self.names, row, strict=True)
            if not math.isnan(v)
        }

    def _internal(self, params: Mapping[str, Any]) -> list[float]:
        return [
            self.distributions[n].to_internal_repr(params[n]) if n in params else math.nan
            for n in self.names
        ]

    def _accept_row(self, row: Sequence[float]) -> bool:
        """The Python predicates on an internal row (called from Rust)."""
        return self._predicates_hold(self._external(row))

    def _predicates_hold(self, params: dict[str, Any]) -> bool:
        for p in self._predicates:
            try:
                if not p(params):
                    return False
            except KeyError as e:
                # A parameter the predicate reads is inactive: it does not apply.
                if e.args and e.args[0] in self.names and e.args[0] not in params:
                    continue
                raise
        return True

    def is_feasible(self, params: Mapping[str, Any]) -> bool:
        """True when ``params`` has exactly the active parameters, each inside its
        distribution, and satisfies every constraint (Python predicates included)."""
        if set(params) - set(self.names):
            return False
        try:
            row = self._internal(params)
        except InvalidDistributionError:
            return False
        return bool(self._core.is_valid(row)) and self._predicates_hold(dict(params))

    def grid(self) -> list[dict[str, Any]]:
        """Every active, feasible configuration of an all-discrete space (Python
        predicates included), first parameter varying slowest.

        Raises:
            InvalidSpaceError: a float has no step, or the space is too large to
                enumerate (more than 1,000,000 points or 50,000,000 steps).
        """
        return [self._external(r) for r in self._feasible_grid().tolist()]

    def _feasible_grid(self) -> npt.NDArray[np.float64]:
        """The rows of :meth:`grid` (internal values, NaN = inactive), enumerated in
        Rust within its bounds (Ctrl-C interrupts it), then filtered by the predicates."""
        rows = self._core.enumerate_grid(_GRID_MAX_POINTS, _GRID_MAX_STEPS)
        if self._predicates and len(rows):
            keep = [self._accept_row(r) for r in rows.tolist()]
            rows = rows[np.asarray(keep, dtype=bool)]
        return rows

    def __repr__(self) -> str:
        return (
            f"SearchSpace({self.distributions}, conditions={self.conditions}, "
            f"constraints={self.constraints})"
        )


def _parents_first(names: list[str], conds: Mapping[str, Condition]) -> list[str]:
    """Orders names so that each parent precedes its children, keeping the given
    order otherwise; a cycle of conditions is an error."""
    out: list[str] = []
    state: dict[str, int] = {}

    def visit(n: str, path: list[str]) -> None:
        if state.get(n) == 2:
            return
        if state.get(n) == 1:
            raise InvalidSpaceError(f"conditions form a cycle: {' -> '.join([*path, n])}")
        state[n] = 1
        c = conds.get(n)
        if c is not None:
            visit(c.parent, [*path, n])
        state[n] = 2
        out.append(n)

    for n in names:
        visit(n, [])
    return out

"""Trials whose ``suggest_*`` answer with given values: FixedTrial, and the shared part
that lets a FrozenTrial re-run an objective with its recorded parameters."""

from __future__ import annotations

import datetime
import math
from collections.abc import Mapping, Sequence
from typing import Any, overload

from ferrotune.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    _warn,
)
from ferrotune.exceptions import IncompatibleDistributionError, InvalidArgumentError
from ferrotune.trial._base import BaseTrial
from ferrotune.trial._trial import _float_high, _int_high, _named

__all__ = ["FixedTrial"]


def _check_compatible(name: str, old: BaseDistribution, new: BaseDistribution) -> None:
    """Optuna's rule for a name suggested twice: the same kind of distribution, the same
    ``log``, and for categoricals the same choices."""
    if type(old) is not type(new):
        raise IncompatibleDistributionError(
            f"parameter {name!r}: {new!r} is not of the kind of {old!r} suggested before"
        )
    if isinstance(old, (FloatDistribution, IntDistribution)):
        assert isinstance(new, (FloatDistribution, IntDistribution))
        if old.log != new.log:
            raise IncompatibleDistributionError(
                f"parameter {name!r}: log={new.log} differs from log={old.log} suggested before"
            )
    elif old != new:
        raise IncompatibleDistributionError(
            f"parameter {name!r}: choices {new!r} differ from {old!r} suggested before"
        )


class _AnswersSuggest(BaseTrial):
    """``suggest_*``, ``report``, ``should_prune`` and ``set_user_attr`` answered from
    values given in advance (``_given``), so an objective written for :class:`Trial`
    runs unchanged."""

    __slots__ = ()

    def _given(self) -> Mapping[str, Any]:
        raise NotImplementedError

    def _known_distributions(self) -> Mapping[str, BaseDistribution]:
        raise NotImplementedError

    def _remember(self, name: str, value: Any, dist: BaseDistribution) -> None:
        """Records that ``name`` was suggested (nothing by default)."""

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """The given value of ``name`` (checked against the distribution)."""
        if step is not None:
            high = _float_high(name, low, high, step)
        value: float = self._answer(
            name, _named(name, FloatDistribution, low, high, log=log, step=step)
        )
        return value

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """The given value of ``name`` as an int (checked against the distribution)."""
        if step != 1:
            high = _int_high(name, low, high, step, log)
        return int(self._answer(name, _named(name, IntDistribution, low, high, log=log, step=step)))

    @overload
    def suggest_categorical(self, name: str, choices: Sequence[str]) -> str: ...
    @overload
    def suggest_categorical(self, name: str, choices: Sequence[int]) -> int: ...
    @overload
    def suggest_categorical(self, name: str, choices: Sequence[float]) -> float: ...
    @overload
    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType: ...

    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """The given value of ``name``, which must be one of ``choices``."""
        value: CategoricalChoiceType = self._answer(
            name, _named(name, CategoricalDistribution, choices)
        )
        return value

    def _answer(self, name: str, dist: BaseDistribution) -> Any:
        given = self._given()
        if name not in given:
            raise InvalidArgumentError(
                f"parameter {name!r} has no value in this {type(self).__name__} "
                f"(it has {sorted(given)})"
            )
        value = given[name]
        try:
            internal = dist.to_internal_repr(value)
        except ValueError as e:
            raise InvalidArgumentError(f"parameter {name!r}: {e}") from None
        if not dist._contains(internal):
            # As Optuna: a warning, and the value as given.
            shown = "nan" if isinstance(value, float) and math.isnan(value) else repr(value)
            _warn(f"parameter {name!r}: the value {shown} is out of range for {dist!r}")
        old = self._known_distributions().get(name)
        if old is not None:
            _check_compatible(name, old, dist)
        self._remember(name, value, dist)
        return value

    def report(self, value: float | Sequence[float], step: int) -> None:
        """Does nothing: a trial with given values is not pruned."""

    def should_prune(self) -> bool:
        """Always False."""
        return False


class FixedTrial(_AnswersSuggest):
    """A trial whose ``suggest_*`` return fixed values, as Optuna's ``FixedTrial``: run an
    objective once with known parameters, outside any study.

    Args:
        params: Parameter name -> value returned by ``suggest_*``.
        number: The trial number the objective sees (0).

    ``suggest_*`` raise :class:`~ferrotune.exceptions.InvalidArgumentError` for a name
    missing from ``params`` (or a value that is not one of the categorical choices) and
    warn, returning the value, when it is outside the suggested range, as in Optuna.
    ``report`` does nothing and ``should_prune`` is False.

    Example:
        >>> from ferrotune.trial import FixedTrial
        >>> def objective(trial):
        ...     return trial.suggest_float("x", -10, 10) ** 2
        >>> objective(FixedTrial({"x": 3.0}))
        9.0
    """

    __slots__ = (
        "_datetime_start",
        "_distributions",
        "_number",
        "_params",
        "_suggested",
        "_system_attrs",
        "_user_attrs",
    )

    def __init__(self, params: Mapping[str, Any], number: int = 0) -> None:
        if not isinstance(params, Mapping):
            raise InvalidArgumentError(
                f"params must be a mapping name -> value, got {type(params).__name__}"
            )
        self._params = dict(params)
        self._number = number
        self._suggested: dict[str, Any] = {}
        self._distributions: dict[str, BaseDistribution] = {}
        self._user_attrs: dict[str, Any] = {}
        self._system_attrs: dict[str, Any] = {}
        self._datetime_start = datetime.datetime.now()

    def _given(self) -> Mapping[str, Any]:
        return self._params

    def _known_distributions(self) -> Mapping[str, BaseDistribution]:
        return self._distributions

    def _remember(self, name: str, value: Any, dist: BaseDistribution) -> None:
        self._suggested[name] = value
        self._distributions[name] = dist

    def set_user_attr(self, key: str, value: Any) -> None:
        """Stores a user attribute (in this object only)."""
        self._user_attrs[key] = value

    def set_system_attr(self, key: str, value: Any) -> None:
        """Stores a system attribute (in this object only)."""
        self._system_attrs[key] = value

    def report_gradient(self, gradient: Mapping[str, float]) -> None:
        """Checks and records a gradient as :meth:`Trial.report_gradient
        <ferrotune.Trial.report_gradient>` does (in this object's system attributes)."""
        from ferrotune.trial._gradient import GRADIENT_KEY, check_gradient, merged

        checked = check_gradient(gradient, self._known_distributions(), 0)
        self._system_attrs[GRADIENT_KEY] = merged(self._system_attrs.get(GRADIENT_KEY), checked)

    def set_constraint(self, key: str, value: float) -> None:
        """Records a black-box constraint value, as :meth:`Trial.set_constraint`."""
        if not isinstance(key, str):
            raise InvalidArgumentError(
                f"constraint name must be a str, got {type(key).__name__} {key!r:.40}"
            )
        try:
            v = float(value)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"constraint {key!r}: {value!r} is not a number") from e
        if math.isnan(v):
            raise InvalidArgumentError(f"constraint {key!r}: value must not be NaN")
        cons = self._system_attrs.setdefault("constraints", {})
        if key in cons:
            _warn(f"constraint {key!r} was already set; the new value is ignored")
            return
        cons[key] = v

    @property
    def constraints(self) -> dict[str, float]:
        """Constraint values recorded with :meth:`set_constraint`."""
        return dict(self._system_attrs.get("constraints", {}))

    @property
    def number(self) -> int:
        """The number given at construction."""
        return self._number

    @property
    def params(self) -> dict[str, Any]:
        """The parameters suggested so far (name -> value)."""
        return self._suggested

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """The distributions of the parameters suggested so far."""
        return self._distributions

    @property
    def user_attrs(self) -> dict[str, Any]:
        """User attributes set with :meth:`set_user_attr`."""
        return self._user_attrs

    @property
    def system_attrs(self) -> dict[str, Any]:
        """System attributes."""
        return self._system_attrs

    @property
    def datetime_start(self) -> datetime.datetime | None:
        """When the object was made."""
        return self._datetime_start

    def __repr__(self) -> str:
        return f"FixedTrial(params={self._params}, number={self._number})"

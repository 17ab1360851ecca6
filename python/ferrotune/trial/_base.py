"""The base class of every kind of trial, with Optuna's deprecated ``suggest_*``."""

from __future__ import annotations

import abc
import datetime
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ferrotune.distributions import BaseDistribution, CategoricalChoiceType

__all__ = ["BaseTrial"]


def _warn(name: str, instead: str) -> None:
    warnings.warn(
        f"{name} is deprecated (as in Optuna, which removes it in 6.0): use {instead}",
        FutureWarning,
        stacklevel=3,
    )


class BaseTrial(abc.ABC):
    """What :class:`~ferrotune.Trial`, :class:`~ferrotune.trial.FixedTrial` and
    :class:`~ferrotune.trial.FrozenTrial` share, as Optuna's ``BaseTrial``: an objective
    annotated with it takes any of them.

    ``suggest_uniform``, ``suggest_loguniform`` and ``suggest_discrete_uniform`` are
    deprecated, as in Optuna: each warns with a :class:`FutureWarning` and calls
    ``suggest_float``.
    """

    __slots__ = ()

    @abc.abstractmethod
    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """A float parameter."""

    @abc.abstractmethod
    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """An int parameter."""

    @abc.abstractmethod
    def suggest_categorical(
        self, name: str, choices: Sequence[CategoricalChoiceType]
    ) -> CategoricalChoiceType:
        """A categorical parameter."""

    @abc.abstractmethod
    def report(self, value: float, step: int) -> None:
        """Reports an intermediate value."""

    @abc.abstractmethod
    def should_prune(self) -> bool:
        """Whether the trial should stop now."""

    @abc.abstractmethod
    def set_user_attr(self, key: str, value: Any) -> None:
        """Sets a user attribute."""

    @abc.abstractmethod
    def set_constraint(self, key: str, value: float) -> None:
        """Sets a black-box constraint value (``<= 0`` feasible)."""

    def report_gradient(self, gradient: Mapping[str, float]) -> None:
        """Reports the gradient of the objective value with respect to continuous float
        parameters (see :meth:`Trial.report_gradient <ferrotune.Trial.report_gradient>`);
        this base implementation does nothing."""

    @property
    @abc.abstractmethod
    def constraints(self) -> dict[str, float]:
        """Constraint name -> value."""

    @property
    @abc.abstractmethod
    def params(self) -> dict[str, Any]:
        """Parameter name -> value."""

    @property
    @abc.abstractmethod
    def distributions(self) -> dict[str, BaseDistribution]:
        """Parameter name -> distribution."""

    @property
    @abc.abstractmethod
    def user_attrs(self) -> dict[str, Any]:
        """User attributes."""

    @property
    @abc.abstractmethod
    def datetime_start(self) -> datetime.datetime | None:
        """When the trial started."""

    @property
    @abc.abstractmethod
    def number(self) -> int:
        """The trial's number in its study."""

    def suggest_uniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: ``suggest_float(name, low, high)``."""
        _warn("suggest_uniform", "suggest_float(name, low, high)")
        return float(self.suggest_float(name, low, high))

    def suggest_loguniform(self, name: str, low: float, high: float) -> float:
        """Deprecated: ``suggest_float(name, low, high, log=True)``."""
        _warn("suggest_loguniform", "suggest_float(name, low, high, log=True)")
        return float(self.suggest_float(name, low, high, log=True))

    def suggest_discrete_uniform(self, name: str, low: float, high: float, q: float) -> float:
        """Deprecated: ``suggest_float(name, low, high, step=q)``."""
        _warn("suggest_discrete_uniform", "suggest_float(name, low, high, step=q)")
        return float(self.suggest_float(name, low, high, step=q))

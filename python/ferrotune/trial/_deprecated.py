"""Optuna's deprecated ``suggest_*`` methods, shared by every kind of trial."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

__all__ = ["DeprecatedSuggest"]


def _warn(name: str, instead: str) -> None:
    warnings.warn(
        f"{name} is deprecated (as in Optuna, which removes it in 6.0): use {instead}",
        FutureWarning,
        stacklevel=3,
    )


class DeprecatedSuggest:
    """``suggest_uniform``, ``suggest_loguniform`` and ``suggest_discrete_uniform``: each
    warns with a :class:`FutureWarning`, as Optuna's, and calls ``suggest_float``."""

    __slots__ = ()

    if TYPE_CHECKING:

        def suggest_float(
            self,
            name: str,
            low: float,
            high: float,
            *,
            step: float | None = None,
            log: bool = False,
        ) -> Any: ...

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

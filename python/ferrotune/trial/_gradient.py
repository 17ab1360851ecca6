"""Hypergradients reported by trials: their check and where they are stored."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ferrotune.distributions import BaseDistribution, FloatDistribution
from ferrotune.exceptions import InvalidArgumentError

#: The trial system attribute holding the gradient a trial reported: a dict parameter
#: name -> derivative of the objective value with respect to the parameter's value (as
#: suggested, also for ``log=True``). Stored like any system attribute, so every storage
#: keeps it and every worker reads it.
GRADIENT_KEY = "ferrotune:gradient"


def check_gradient(
    gradient: Any, distributions: Mapping[str, BaseDistribution], number: int
) -> dict[str, float]:
    """``gradient`` as a dict name -> float, checked against the trial's parameters.

    Raises:
        InvalidArgumentError: ``gradient`` is not a mapping; a name is not a parameter
            the trial suggested; the parameter is not a continuous float (an int, a
            categorical, a float with ``step``); a value is not a finite number. The
            message names the parameter.
    """
    if not isinstance(gradient, Mapping):
        raise InvalidArgumentError(
            f"a gradient is a mapping parameter name -> float, got {type(gradient).__name__}"
        )
    out: dict[str, float] = {}
    for name, g in gradient.items():
        dist = distributions.get(name)
        if dist is None:
            known = ", ".join(map(repr, sorted(distributions))) or "none"
            raise InvalidArgumentError(
                f"gradient for parameter {name!r}: trial {number} has no such parameter "
                f"(its parameters: {known}); suggest it before reporting its gradient"
            )
        if not isinstance(dist, FloatDistribution) or dist.step is not None:
            is_float = isinstance(dist, FloatDistribution)
            kind = "a float with step" if is_float else type(dist).__name__
            raise InvalidArgumentError(
                f"gradient for parameter {name!r}: it is {kind}; gradients are reported "
                "for continuous float parameters only"
            )
        # float() would parse a string; a 0-d array or tensor (torch, jax) is welcome.
        if isinstance(g, (bool, str, bytes, bytearray)):
            raise InvalidArgumentError(f"gradient for parameter {name!r}: {g!r} is not a number")
        try:
            v = float(g)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(
                f"gradient for parameter {name!r}: {g!r} is not a number"
            ) from e
        if not math.isfinite(v):
            raise InvalidArgumentError(
                f"gradient for parameter {name!r}: {v} is not finite (NaN or infinite)"
            )
        out[name] = v
    return out


def merged(old: Any, new: dict[str, float]) -> dict[str, float]:
    """The stored gradient ``old`` (when a dict) updated with ``new``: a name reported
    again takes its new value."""
    out = dict(old) if isinstance(old, dict) else {}
    out.update(new)
    return out

"""Argument checks and the rules' shared pieces, as Optuna's pruners define them."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from ferrotune.exceptions import InvalidArgumentError


def check_int(name: str, value: Any, minimum: int) -> int:
    """``value`` as an int of at least ``minimum``, or an error naming ``name``."""
    # Any integer, numpy's too (values from a config array), as Optuna takes them.
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidArgumentError(f"{name} must be an int, got {value!r:.80}")
    if int(value) < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, got {value}")
    return int(value)


def check_float(name: str, value: Any) -> float:
    """``value`` as a float that is not NaN, or an error naming ``name``."""
    # float() would parse a string and take numpy's bool; a 0-d array passes.
    if isinstance(value, (bool, str, bytes, bytearray, np.bool_)):
        raise InvalidArgumentError(f"{name} must be a number, got {value!r}")
    try:
        v = float(value)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"{name} must be a number, got {value!r:.80}") from e
    if math.isnan(v):
        raise InvalidArgumentError(f"{name} must not be NaN")
    return v


def first_in_interval(step: int, steps: Iterable[int], n_warmup_steps: int, interval: int) -> bool:
    """True when no reported step other than ``step`` lies at or after the latest check
    point (``n_warmup_steps + k * interval``) at or before ``step``."""
    check_point = (step - n_warmup_steps) // interval * interval + n_warmup_steps
    previous = max((s for s in steps if s != step), default=-1)
    return previous < check_point


def best_of(values: Iterable[float], maximize: bool) -> float:
    """The best of ``values``, NaN ignored (NaN when all are)."""
    finite = [v for v in values if not math.isnan(v)]
    if not finite:
        return math.nan
    return max(finite) if maximize else min(finite)

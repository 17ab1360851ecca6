"""Parameter distributions, with Optuna's names, arguments and rules.

Every value has an *internal* float representation: floats are themselves, integers
their value as a float, categoricals the index of the choice. Validation is done once,
in the Rust core, when a distribution is built.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Union

from ferrotune import _core
from ferrotune.exceptions import InvalidDistributionError

__all__ = [
    "BaseDistribution",
    "CategoricalChoiceType",
    "CategoricalDistribution",
    "FloatDistribution",
    "IntDistribution",
    "distribution_to_json",
    "json_to_distribution",
]

CategoricalChoiceType = Union[None, bool, int, float, str]


class BaseDistribution(ABC):
    """A distribution of one parameter."""

    _core: _core.Dist

    @abstractmethod
    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        """The float representation of a value."""

    @abstractmethod
    def to_external_repr(self, param_value_in_internal_repr: float) -> Any:
        """The value of a float representation."""

    def single(self) -> bool:
        """True when the distribution has exactly one value."""
        return self._single()

    @abstractmethod
    def _single(self) -> bool: ...

    def _contains(self, param_value_in_internal_repr: float) -> bool:
        return self._core.contains(float(param_value_in_internal_repr))

    @abstractmethod
    def _key(self) -> tuple[Any, ...]: ...

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, BaseDistribution)
            and type(self) is type(other)
            and (self._key() == other._key())
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__, self._key()))


class _NumericDistribution(BaseDistribution):
    """What float and int distributions share: bounds, log, step and their uses."""

    __slots__ = ()
    low: Any
    high: Any
    log: bool
    step: Any

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.low, self.high, self.log, self.step))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        try:
            return float(param_value_in_external_repr)
        except (TypeError, ValueError) as e:
            raise InvalidDistributionError(
                f"{param_value_in_external_repr!r} is not a number"
            ) from e

    def _single(self) -> bool:
        return bool(self.low == self.high)

    def _key(self) -> tuple[Any, ...]:
        return (self.low, self.high, self.log, self.step)

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(low={self.low}, high={self.high}, log={self.log}, "
            f"step={self.step})"
        )


class FloatDistribution(_NumericDistribution):
    """A real parameter in ``[low, high]``.

    Args:
        low: Lower bound, included.
        high: Upper bound, included.
        log: Sample uniformly in log space (needs ``low > 0``; excludes ``step``).
        step: Grid spacing from ``low``; ``high - low`` must be a multiple of it.

    Raises:
        InvalidDistributionError: For non-finite bounds, ``low > high``, log with
            ``low <= 0``, log with a step, or a step that does not divide the range.
    """

    __slots__ = ("_core", "high", "log", "low", "step")

    def __init__(
        self, low: float, high: float, log: bool = False, step: float | None = None
    ) -> None:
        self.low = _as_float("low", low)
        self.high = _as_float("high", high)
        self.log = bool(log)
        self.step = None if step is None else _as_float("step", step)
        self._core = _core.Dist.float("", self.low, self.high, self.step, self.log)

    def to_external_repr(self, param_value_in_internal_repr: float) -> float:
        return float(param_value_in_internal_repr)


class IntDistribution(_NumericDistribution):
    """An integer parameter in ``[low, high]`` on a grid of ``step``.

    Args:
        low: Lower bound, included.
        high: Upper bound, included.
        log: Sample uniformly in log space (needs ``low >= 1`` and ``step == 1``).
        step: Grid spacing from ``low``; ``high - low`` must be a multiple of it.

    Raises:
        InvalidDistributionError: For ``low > high``, ``step < 1``, a step that does not
            divide the range, or log with ``low < 1`` or ``step != 1``.
    """

    __slots__ = ("_core", "high", "log", "low", "step")

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1) -> None:
        self.low = _as_int("low", low)
        self.high = _as_int("high", high)
        self.step = _as_int("step", step)
        self.log = bool(log)
        try:
            self._core = _core.Dist.int("", self.low, self.high, self.step, self.log)
        except OverflowError as e:  # beyond 64 bits
            raise InvalidDistributionError(
                f"int bounds and step must lie within ±2^53, got low={self.low}, "
                f"high={self.high}, step={self.step}"
            ) from e

    def to_external_repr(self, param_value_in_internal_repr: float) -> int:
        return int(param_value_in_internal_repr)


def _choice_key(c: CategoricalChoiceType) -> tuple[str, Any]:
    # 1, 1.0 and True compare equal in Python; as choices they are distinct.
    if isinstance(c, float) and math.isnan(c):
        return ("nan", None)
    return (type(c).__name__, c)


class CategoricalDistribution(BaseDistribution):
    """One of a fixed sequence of choices (``None``, ``bool``, ``int``, ``float`` or ``str``).

    Args:
        choices: The candidates; non-empty, without duplicates.

    Raises:
        InvalidDistributionError: For empty or duplicate choices, or a choice of
            another type.
    """

    __slots__ = ("_core", "_index", "choices")

    def __init__(self, choices: Sequence[CategoricalChoiceType]) -> None:
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            raise InvalidDistributionError(
                f"choices must be a sequence (list or tuple), got {type(choices).__name__}"
            )
        self.choices = tuple(choices)
        if not self.choices:
            raise InvalidDistributionError("choices must not be empty")
        index: dict[tuple[str, Any], int] = {}
        for i, c in enumerate(self.choices):
            if c is not None and not isinstance(c, (bool, int, float, str)):
                raise InvalidDistributionError(
                    f"choice {c!r} has type {type(c).__name__}; choices must be None, bool, "
                    "int, float or str"
                )
            k = _choice_key(c)
            if k in index:
                raise InvalidDistributionError(f"choice {c!r} appears twice in {self.choices}")
            index[k] = i
        self._index = index
        self._core = _core.Dist.categorical("", len(self.choices))

    def __reduce__(self) -> tuple[Any, ...]:
        return (CategoricalDistribution, (self.choices,))

    def same_choices(self, choices: Sequence[CategoricalChoiceType]) -> bool:
        """True when ``choices`` are these choices, in order and of the same types."""
        if choices is self.choices:
            return True
        if isinstance(choices, (str, bytes)) or not isinstance(choices, Sequence):
            return False  # not choices at all: the constructor says why
        t = tuple(choices)
        return t == self.choices and tuple(map(type, t)) == tuple(map(type, self.choices))

    def to_internal_repr(self, param_value_in_external_repr: Any) -> float:
        try:
            return float(self._index[_choice_key(param_value_in_external_repr)])
        except (KeyError, TypeError) as e:
            raise InvalidDistributionError(
                f"{param_value_in_external_repr!r} is not one of the choices {self.choices}"
            ) from e

    def to_external_repr(self, param_value_in_internal_repr: float) -> CategoricalChoiceType:
        return self.choices[int(param_value_in_internal_repr)]

    def numeric_values(self) -> list[float | None]:
        """Each choice's numeric value (None for non-numbers), as constraints see them."""
        return [
            float(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else None
            for c in self.choices
        ]

    def _single(self) -> bool:
        return len(self.choices) == 1

    def _key(self) -> tuple[Any, ...]:
        return tuple(_choice_key(c) for c in self.choices)

    def __repr__(self) -> str:
        return f"CategoricalDistribution(choices={self.choices})"


def _as_int(name: str, v: Any) -> int:
    if (
        isinstance(v, bool)
        or not isinstance(v, (int, float))
        or (isinstance(v, float) and not (math.isfinite(v) and v.is_integer()))
    ):
        raise InvalidDistributionError(f"{name} must be an integer, got {v!r}")
    return int(v)


def _as_float(name: str, v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise InvalidDistributionError(f"{name} must be a number, got {v!r}") from None


def _from_tuple(
    t: tuple[int, float, float, float | None, bool, int],
    choices: tuple[CategoricalChoiceType, ...] | None,
) -> BaseDistribution:
    kind, low, high, step, log, _n = t
    if kind == 0:
        return FloatDistribution(low, high, log=log, step=step)
    if kind == 1:
        return IntDistribution(int(low), int(high), log=log, step=int(step or 1))
    assert choices is not None, "categorical choices are registered before use"
    return CategoricalDistribution(choices)


def distribution_to_json(dist: BaseDistribution) -> str:
    """Serialises a distribution to JSON (never pickle)."""
    import json

    if isinstance(dist, FloatDistribution):
        attrs: dict[str, Any] = {
            "low": dist.low,
            "high": dist.high,
            "log": dist.log,
            "step": dist.step,
        }
    elif isinstance(dist, IntDistribution):
        attrs = {"low": dist.low, "high": dist.high, "log": dist.log, "step": dist.step}
    elif isinstance(dist, CategoricalDistribution):
        attrs = {"choices": list(dist.choices)}
    else:
        raise InvalidDistributionError(f"unknown distribution {dist!r}")
    return json.dumps({"name": type(dist).__name__, "attributes": attrs})


def json_to_distribution(json_str: str) -> BaseDistribution:
    """Inverse of :func:`distribution_to_json`."""
    import json

    d = json.loads(json_str)
    cls = {
        "FloatDistribution": FloatDistribution,
        "IntDistribution": IntDistribution,
        "CategoricalDistribution": CategoricalDistribution,
    }.get(d.get("name"))
    if cls is None:
        raise InvalidDistributionError(f"unknown distribution name {d.get('name')!r}")
    return cls(**d["attributes"])  # type: ignore[no-any-return]

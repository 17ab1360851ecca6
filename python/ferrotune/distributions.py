"""Parameter distributions, with Optuna's names, arguments and rules.

Every value has an *internal* float representation: floats are themselves, integers
their value as a float, categoricals the index of the choice. Validation is done once,
in the Rust core, when a distribution is built.
"""

from __future__ import annotations

import decimal
import math
import os
import sys
import warnings
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any, Union

import numpy as np

from ferrotune import _core
from ferrotune.exceptions import IncompatibleDistributionError, InvalidDistributionError

__all__ = [
    "BaseDistribution",
    "CategoricalChoiceType",
    "CategoricalDistribution",
    "FloatDistribution",
    "IntDistribution",
    "check_distribution_compatibility",
    "distribution_to_json",
    "json_to_distribution",
]

CategoricalChoiceType = Union[None, bool, int, float, str]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep

#: Stepped float ranges may hold at most this many steps: beyond it, neighbouring grid
#: points are not distinct floats (the same limit is checked in the Rust core).
_MAX_STEPS = 2.0**53
#: Tolerance within which a step divides a float range (as in the Rust core): relative
#: to the step count, plus a few ulps of the bounds for the rounding of ``high - low``.
_STEP_TOL = 1e-8
# At most this much of a step (as the Rust check): far from low, 1e-8 * k alone let a
# value almost a step off count as a grid point.
_MAX_STEP_TOL = 1e-4
_EPS = sys.float_info.epsilon


def _warn(message: str) -> None:
    """``warnings.warn(message)`` attributed to the first caller outside ferrotune, so
    the warning points at the user's line."""
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE_DIR):
        frame = frame.f_back
        level += 1
    warnings.warn(message, UserWarning, stacklevel=level)


def _prefix(name: str) -> str:
    return f"parameter {name!r}: " if name else ""


def _float_grid_high(low: float, high: float, step: float | None, name: str = "") -> float:
    """``high`` lowered to the last grid point ``low + k * step``, with a warning, when
    ``step`` does not divide the range, as Optuna does.

    Arguments that are invalid for another reason are returned unchanged: the Rust
    validation names their problem.

    Raises:
        InvalidDistributionError: When the range holds more than 2**53 steps (or
            infinitely many): the grid points would not be distinct floats.
    """
    if step is None or not (
        math.isfinite(low) and math.isfinite(high) and math.isfinite(step) and step > 0
    ):
        return high
    if low > high or not math.isfinite(high - low):
        return high
    try:
        new_high = _last_grid_point(low, high, step)
    except InvalidDistributionError as e:
        raise InvalidDistributionError(f"{_prefix(name)}{e}") from None
    if new_high == high:
        return high
    _warn(
        f"{_prefix(name)}step={step} does not divide the range [{low}, {high}]; high is "
        f"lowered to {new_high}, the last point of the grid"
    )
    return new_high


def _last_grid_point(low: float, high: float, step: float) -> float:
    """``high`` when it is a grid point ``low + k * step`` (within the relative tolerance
    of the Rust validation), else the largest grid point below it (computed in decimal,
    so that ``[0, 1]`` with step 0.3 gives 0.9)."""
    ratio = (high - low) / step
    if not ratio <= _MAX_STEPS:
        raise InvalidDistributionError(
            f"step={step} is too small for the range [{low}, {high}]: "
            f"(high - low) / step = {ratio:g} exceeds 2**53, so the grid points are not "
            "distinct floats"
        )
    scale = max(abs(low), abs(high))
    relative = min(_STEP_TOL * max(ratio, 1.0), _MAX_STEP_TOL)
    if abs(ratio - round(ratio)) <= relative + 8 * _EPS * scale / step:
        return high
    k = math.floor(ratio)
    return min(float(decimal.Decimal(str(low)) + k * decimal.Decimal(str(step))), high)


def _int_grid_high(low: int, high: int, step: int, log: bool, name: str = "") -> int:
    """The integer counterpart of :func:`_float_grid_high`."""
    if step < 1 or low > high or (log and step != 1) or (high - low) % step == 0:
        return high
    new_high = low + (high - low) // step * step
    _warn(
        f"{_prefix(name)}step={step} does not divide the range [{low}, {high}]; high is "
        f"lowered to {new_high}, the last point of the grid"
    )
    return new_high


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
        except (TypeError, ValueError, OverflowError) as e:
            raise InvalidDistributionError(
                f"{param_value_in_external_repr!r} is not a number"
            ) from e

    def _single(self) -> bool:
        return bool(self.low == self.high)

    def _nearest(self, x: float) -> float:
        """The value of the distribution nearest to ``x`` (internal representation;
        ``x`` not NaN): clipped to ``[low, high]`` and rounded to the step grid."""
        low, high = float(self.low), float(self.high)
        if x <= low:
            return low
        if x >= high:
            return high
        if self.step is None:
            return x
        step = float(self.step)
        k = min(round((x - low) / step), round((high - low) / step))
        return min(low + k * step, high)

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
        step: Grid spacing from ``low``. When it does not divide ``high - low``, ``high``
            is lowered to the last grid point with a warning, as in Optuna.

    Raises:
        InvalidDistributionError: For non-finite bounds, ``low > high``, log with
            ``low <= 0``, log with a step, a step that is not positive, or a range of
            more than 2**53 steps.
    """

    __slots__ = ("_core", "high", "log", "low", "step")

    def __init__(
        self, low: float, high: float, log: bool = False, step: float | None = None
    ) -> None:
        self.low = _as_float("low", low)
        self.log = bool(log)
        self.step = None if step is None else _as_float("step", step)
        self.high = _float_grid_high(self.low, _as_float("high", high), self.step)
        self._core = _core.Dist.float("", self.low, self.high, self.step, self.log)

    def to_external_repr(self, param_value_in_internal_repr: float) -> float:
        return float(param_value_in_internal_repr)


class IntDistribution(_NumericDistribution):
    """An integer parameter in ``[low, high]`` on a grid of ``step``.

    Args:
        low: Lower bound, included.
        high: Upper bound, included.
        log: Sample uniformly in log space (needs ``low >= 1`` and ``step == 1``).
        step: Grid spacing from ``low``. When it does not divide ``high - low``, ``high``
            is lowered to the last grid point with a warning, as in Optuna.

    Raises:
        InvalidDistributionError: For ``low > high``, ``step < 1``, bounds beyond
            ±2**53, or log with ``low < 1`` or ``step != 1``.
    """

    __slots__ = ("_core", "high", "log", "low", "step")

    def __init__(self, low: int, high: int, log: bool = False, step: int = 1) -> None:
        self.low = _as_int("low", low)
        self.step = _as_int("step", step)
        self.log = bool(log)
        self.high = _int_grid_high(self.low, _as_int("high", high), self.step, self.log)
        try:
            self._core = _core.Dist.int("", self.low, self.high, self.step, self.log)
        except OverflowError as e:  # beyond 64 bits
            raise InvalidDistributionError(
                f"int bounds and step must lie within ±2^53, got low={self.low}, "
                f"high={self.high}, step={self.step}"
            ) from e

    def to_external_repr(self, param_value_in_internal_repr: float) -> int:
        return int(param_value_in_internal_repr)


def _plain_choices(choices: tuple[Any, ...]) -> tuple[Any, ...]:
    """Numpy scalars among ``choices`` turned into the Python value they hold.

    ``np.float64`` and ``np.str_`` (subclasses of float and str, which Optuna accepts
    silently) are converted silently; other numpy scalars (``np.int64``, ``np.float32``,
    ``np.bool_``, ...), on which Optuna warns, with a warning.
    """
    if all(c is None or type(c) in (bool, int, float, str) for c in choices):
        return choices
    out: list[Any] = []
    converted: list[Any] = []
    for c in choices:
        if type(c).__module__ == "numpy" and callable(getattr(c, "item", None)):
            v = c.item()
            if v is None or type(v) in (bool, int, float, str):
                if not isinstance(c, (float, str)):
                    converted.append(c)
                c = v
        out.append(c)
    if converted:
        _warn(
            f"categorical choices {converted!r} are numpy scalars; they are converted to "
            "the Python bool, int, float or str they hold (what suggest_categorical returns "
            "and storages record)"
        )
    return tuple(out)


def _is_numpy_vector(x: Any) -> bool:
    return type(x).__module__ == "numpy" and getattr(x, "ndim", None) == 1


def _choice_key(c: CategoricalChoiceType) -> tuple[str, Any]:
    # 1, 1.0 and True compare equal in Python; as choices they are distinct.
    if isinstance(c, float) and math.isnan(c):
        return ("nan", None)
    return (type(c).__name__, c)


def _loosely_equal(choice: CategoricalChoiceType, v: Any) -> bool:
    """``choice == v`` for a number against a number (bools included, as Python
    compares them), never across strings and numbers; False where ``==`` fails."""
    if isinstance(choice, str) or isinstance(v, str) or choice is None or v is None:
        return False
    try:
        return bool(choice == v)
    except Exception:
        return False


class CategoricalDistribution(BaseDistribution):
    """One of a fixed sequence of choices (``None``, ``bool``, ``int``, ``float`` or ``str``).

    Args:
        choices: The candidates (a sequence or a 1-D numpy array); non-empty, without
            duplicates. Numpy scalars are converted to the Python value they hold, with
            a warning for those that are not instances of ``float`` or ``str`` (Optuna
            warns and keeps them).

    Raises:
        InvalidDistributionError: For empty or duplicate choices, or a choice of
            another type.
    """

    __slots__ = ("_core", "_index", "choices")

    def __init__(self, choices: Sequence[CategoricalChoiceType]) -> None:
        if isinstance(choices, (str, bytes)) or not (
            isinstance(choices, Sequence) or _is_numpy_vector(choices)
        ):
            raise InvalidDistributionError(
                f"choices must be a sequence (list or tuple), got {type(choices).__name__}"
            )
        self.choices: tuple[CategoricalChoiceType, ...] = _plain_choices(tuple(choices))
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
        v = param_value_in_external_repr
        if type(v).__module__ == "numpy" and callable(getattr(v, "item", None)):
            v = v.item()  # a numpy scalar stands for the Python value it holds
        try:
            return float(self._index[_choice_key(v)])
        except (KeyError, TypeError):
            pass
        # A value of another type equal to one choice (64.0 for 64, as a DataFrame column
        # with NaN gives back): that choice, as Optuna's choices.index(v) finds it.
        equal = [i for i, c in enumerate(self.choices) if _loosely_equal(c, v)]
        if len(equal) == 1:
            return float(equal[0])
        raise InvalidDistributionError(
            f"{param_value_in_external_repr!r} is not one of the choices {self.choices}"
        )

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
    if isinstance(v, (bool, np.bool_)):
        raise InvalidDistributionError(f"{name} must be an integer, got {v!r}")
    if isinstance(v, (int, np.integer)):
        return int(v)
    if isinstance(v, (float, np.floating)) and math.isfinite(v) and float(v).is_integer():
        return int(v)
    raise InvalidDistributionError(f"{name} must be an integer, got {v!r}")


def _as_float(name: str, v: Any) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        raise InvalidDistributionError(f"{name} must be a number, got {v!r}") from None


def _from_core(
    dist: _core.Dist, choices: tuple[CategoricalChoiceType, ...] | None
) -> BaseDistribution:
    """The distribution of a core :class:`~ferrotune._core.Dist` (a categorical one
    needs the study's ``choices``: the core knows only their number)."""
    kind = dist.kind
    if kind == _core.DistKind.FLOAT:
        return FloatDistribution(dist.low, dist.high, log=dist.log, step=dist.step)
    if kind == _core.DistKind.INT:
        step = dist.step
        return IntDistribution(
            int(dist.low), int(dist.high), log=dist.log, step=int(step if step else 1)
        )
    assert choices is not None, "categorical choices are registered before use"
    return CategoricalDistribution(choices)


def _core_dist_key(dist: _core.Dist) -> tuple[int, float, float, float | None, bool, int]:
    """A hashable value that tells core distributions apart."""
    return (int(dist.kind), dist.low, dist.high, dist.step, dist.log, dist.n_choices)


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
    """Inverse of :func:`distribution_to_json`; also reads what Optuna's function reads:
    the names of the distributions Optuna 3.0 deprecated (``UniformDistribution``,
    ``LogUniformDistribution``, ``DiscreteUniformDistribution``,
    ``IntUniformDistribution``, ``IntLogUniformDistribution``, as the Float or Int
    distribution they stand for) and the abbreviated form
    (``{"type": "float", "low": 0, "high": 1, "log": false, "step": null}``; ``"int"``
    and ``{"type": "categorical", "choices": [...]}``).

    Raises:
        InvalidDistributionError: An unknown name or type, or bad attributes.
    """
    import json

    d = json.loads(json_str)
    if not isinstance(d, dict):
        raise InvalidDistributionError(f"a distribution is a JSON object, got {json_str!r:.80}")
    if "name" not in d and "type" in d:
        return _abbreviated_distribution(d)
    name, attrs = d.get("name"), d.get("attributes")
    if name not in _JSON_NAMES:
        raise InvalidDistributionError(f"unknown distribution name {name!r}")
    if not isinstance(attrs, dict):
        raise InvalidDistributionError(f"distribution {name!r} has no attributes object")
    cls = {
        "FloatDistribution": FloatDistribution,
        "IntDistribution": IntDistribution,
        "CategoricalDistribution": CategoricalDistribution,
    }.get(str(name))
    # Optuna's deprecated classes, each with its own constructor's arguments (an unknown
    # or missing one is a TypeError, as there).
    legacy: dict[str, Any] = {
        "UniformDistribution": lambda low, high: FloatDistribution(low, high),
        "LogUniformDistribution": lambda low, high: FloatDistribution(low, high, log=True),
        "DiscreteUniformDistribution": lambda low, high, q: FloatDistribution(low, high, step=q),
        "IntUniformDistribution": lambda low, high, step=1: IntDistribution(low, high, step=step),
        "IntLogUniformDistribution": lambda low, high, step=1: IntDistribution(
            low, high, log=True, step=step
        ),
    }
    try:
        made = (cls if cls is not None else legacy[str(name)])(**attrs)
    except TypeError as e:
        raise InvalidDistributionError(f"distribution {name!r}: bad attributes {attrs!r}") from e
    return made  # type: ignore[no-any-return]


_JSON_NAMES = (
    "FloatDistribution",
    "IntDistribution",
    "CategoricalDistribution",
    "UniformDistribution",
    "LogUniformDistribution",
    "DiscreteUniformDistribution",
    "IntUniformDistribution",
    "IntLogUniformDistribution",
)


def _abbreviated_distribution(d: dict[str, Any]) -> BaseDistribution:
    """Optuna's abbreviated JSON form of a distribution (``{"type": ...}``)."""
    kind = d["type"]
    try:
        if kind == "categorical":
            return CategoricalDistribution(d["choices"])
        if kind == "float":
            return FloatDistribution(
                d["low"], d["high"], log=d.get("log", False), step=d.get("step")
            )
        if kind == "int":
            step = d.get("step")
            return IntDistribution(
                d["low"], d["high"], log=d.get("log", False), step=1 if step is None else step
            )
    except (KeyError, TypeError) as e:
        raise InvalidDistributionError(f"distribution of type {kind!r}: bad fields {d!r}") from e
    raise InvalidDistributionError(f"unknown distribution type {kind!r}")


def check_distribution_compatibility(
    dist_old: BaseDistribution, dist_new: BaseDistribution
) -> None:
    """Checks that a parameter recorded with ``dist_old`` may take ``dist_new``, as
    Optuna's function: the same kind of distribution, the same ``log`` for numbers, the
    same choices for categoricals (ranges and steps may differ).

    Raises:
        IncompatibleDistributionError: They are incompatible (a ``ValueError``, as
            Optuna raises).
    """
    if type(dist_old) is not type(dist_new):
        raise IncompatibleDistributionError(
            f"cannot set {type(dist_new).__name__} on a parameter recorded with "
            f"{type(dist_old).__name__}"
        )
    if isinstance(dist_old, _NumericDistribution) and isinstance(dist_new, _NumericDistribution):
        if dist_old.log != dist_new.log:
            raise IncompatibleDistributionError(
                f"cannot set log={dist_new.log} on a parameter recorded with log={dist_old.log}"
            )
    elif dist_old != dist_new:
        raise IncompatibleDistributionError(
            f"a categorical parameter keeps its choices: {dist_old!r} cannot become {dist_new!r}"
        )


def _from_optuna(name: str, dist: Any) -> BaseDistribution | None:
    """Optuna's distribution ``dist`` as ferrotune's (a script half moved over still
    imports some of Optuna's classes), else None when ``dist`` is not Optuna's."""
    if not type(dist).__module__.startswith("optuna."):
        return None
    from ferrotune._optuna_io import _from_optuna_dist

    return _from_optuna_dist(name, dist)

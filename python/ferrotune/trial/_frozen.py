from __future__ import annotations

import datetime
import math
import numbers
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.distributions import BaseDistribution
from ferrotune.exceptions import InvalidArgumentError, MultiObjectiveError
from ferrotune.trial._fixed import _AnswersSuggest
from ferrotune.trial._state import TrialState

if TYPE_CHECKING:
    from ferrotune import _core
    from ferrotune.study._study import Study

__all__ = ["FrozenTrial", "create_trial"]

_FIELDS = (
    "number",
    "state",
    "_values",
    "datetime_start",
    "datetime_complete",
    "params",
    "distributions",
    "user_attrs",
    "system_attrs",
    "intermediate_values",
)


class FrozenTrial(_AnswersSuggest):
    """A snapshot of a trial, as Optuna's ``FrozenTrial``.

    Like Optuna's, it answers ``suggest_*`` with its recorded values (``report`` does
    nothing, ``should_prune`` is False), so an objective can re-evaluate a trial:
    ``objective(study.best_trial)``. A name it has no value for raises
    :class:`~ferrotune.exceptions.InvalidArgumentError`; a value outside the suggested
    range warns.

    Attributes:
        number: The trial's number in its study, from 0.
        state: Its :class:`TrialState`.
        values: Objective values (None unless COMPLETE); ``value`` for one objective.
        params: Parameter name -> value, for the parameters the trial has.
        distributions: Parameter name -> distribution.
        intermediate_values: Step -> value reported with ``Trial.report``: a float for a
            single-objective study; for a study with several objectives, step -> list
            of floats, one per objective in the order of the study's directions
            (Optuna has no such form: it cannot report several objectives).
        user_attrs / system_attrs: Attributes set on the trial.
        datetime_start / datetime_complete: Wall-clock times (None when not reached).
    """

    __slots__ = (*_FIELDS, "__weakref__")

    number: int
    state: TrialState
    _values: list[float] | None
    datetime_start: datetime.datetime | None
    datetime_complete: datetime.datetime | None
    params: dict[str, Any]
    distributions: dict[str, BaseDistribution]
    user_attrs: dict[str, Any]
    system_attrs: dict[str, Any]
    intermediate_values: dict[int, Any]

    def __init__(
        self,
        number: int,
        state: TrialState,
        value: float | None,
        datetime_start: datetime.datetime | None,
        datetime_complete: datetime.datetime | None,
        params: dict[str, Any],
        distributions: dict[str, BaseDistribution],
        user_attrs: dict[str, Any],
        system_attrs: dict[str, Any],
        intermediate_values: dict[int, Any],
        trial_id: int | None = None,
        *,
        values: list[float] | None = None,
    ) -> None:
        if value is not None and values is not None:
            raise InvalidArgumentError("give either value or values, not both")
        self.number = number
        self.state = TrialState(state)
        self._values = [float(value)] if value is not None else values
        self.datetime_start = datetime_start
        self.datetime_complete = datetime_complete
        self.params = params
        self.distributions = distributions
        self.user_attrs = user_attrs
        self.system_attrs = system_attrs
        self.intermediate_values = intermediate_values

    def _given(self) -> dict[str, Any]:
        return self.params

    def _known_distributions(self) -> dict[str, BaseDistribution]:
        return self.distributions

    def set_user_attr(self, key: str, value: Any) -> None:
        """Sets a user attribute on this snapshot (not in the study), as Optuna."""
        self.user_attrs[key] = value

    def set_constraint(self, key: str, value: float) -> None:
        """Does nothing: the constraint values recorded with the trial stand."""

    def report_gradient(self, gradient: Mapping[str, float]) -> None:
        """Does nothing: the gradient recorded with the trial stands."""

    @property
    def constraints(self) -> dict[str, float]:
        """The trial's black-box constraint values by name (``<= 0`` feasible), as
        :meth:`Trial.set_constraint <ferrotune.Trial.set_constraint>` recorded them."""
        cons = self.system_attrs.get("constraints", {})
        return dict(cons) if isinstance(cons, dict) else {}

    @property
    def value(self) -> float | None:
        """The objective value of a single-objective trial."""
        if self._values is None:
            return None
        if len(self._values) > 1:
            raise MultiObjectiveError(
                "this trial has several objective values; use FrozenTrial.values"
            )
        return self._values[0]

    @value.setter
    def value(self, v: float | None) -> None:
        # As Optuna: a snapshot's value may be rewritten (before add_trial, say), but
        # not a multi-objective trial's.
        if self._values is not None and len(self._values) > 1:
            raise MultiObjectiveError(
                "this trial has several objective values; set FrozenTrial.values"
            )
        self._values = None if v is None else [float(v)]

    @property
    def values(self) -> list[float] | None:
        """The objective values."""
        return self._values

    @values.setter
    def values(self, v: Sequence[float] | None) -> None:
        self._values = None if v is None else [float(x) for x in v]

    @property
    def _trial_id(self) -> int:
        return self.number

    @property
    def duration(self) -> datetime.timedelta | None:
        """Time from start to completion."""
        if self.datetime_start is None or self.datetime_complete is None:
            return None
        return self.datetime_complete - self.datetime_start

    @property
    def last_step(self) -> int | None:
        """The largest step reported, or None."""
        return max(self.intermediate_values) if self.intermediate_values else None

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return all(getattr(self, f) == getattr(other, f) for f in _FIELDS)

    def __hash__(self) -> int:
        return hash((self.number, self.state))

    # Ordered by number, as Optuna's (sorted(study.trials)).
    def __lt__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return self.number < other.number

    def __le__(self, other: object) -> bool:
        if not isinstance(other, FrozenTrial):
            return NotImplemented
        return self.number <= other.number

    def __repr__(self) -> str:
        return (
            f"FrozenTrial(number={self.number}, state={self.state!r}, values={self.values}, "
            f"params={self.params})"
        )


def _frozen_from_fields(fields: dict[str, Any]) -> FrozenTrial:
    """Rebuilds a FrozenTrial from its fields (the pickle of a lazy one)."""
    t = FrozenTrial.__new__(FrozenTrial)
    for f, v in fields.items():
        object.__setattr__(t, f, v)
    return t


class _LazyFrozenTrial(FrozenTrial):
    """A FrozenTrial whose fields are read from the study on first access, so that
    ``Study.tell`` can return one at no cost when the caller ignores it."""

    __slots__ = ("_study",)

    def __init__(self, study: Study, number: int) -> None:
        self._study = study
        self.number = number

    def _load(self) -> None:
        """Reads the fields from the study, keeping any the caller has set already
        (``trial.values = [...]`` before another field was read)."""
        full = self._study.get_trial(self.number)
        for f in _FIELDS:
            try:
                object.__getattribute__(self, f)
            except AttributeError:
                object.__setattr__(self, f, getattr(full, f))

    def _snapshot(self) -> FrozenTrial:
        self._load()
        return _frozen_from_fields({f: getattr(self, f) for f in _FIELDS})

    def __reduce__(self) -> Any:
        # Copies and pickles are plain FrozenTrials, read now.
        self._load()
        return (_frozen_from_fields, ({f: getattr(self, f) for f in _FIELDS},))

    def __deepcopy__(self, memo: dict[int, Any]) -> FrozenTrial:
        import copy

        return copy.deepcopy(self._snapshot(), memo)

    def __copy__(self) -> FrozenTrial:
        return self._snapshot()

    def __getattr__(self, name: str) -> Any:
        if name not in _FIELDS:
            raise AttributeError(name)
        self._load()
        return object.__getattribute__(self, name)


def _intermediate(v: Any) -> float | list[float]:
    """An intermediate value given to :func:`create_trial`: a float, or a list of floats
    (one per objective)."""
    try:
        if isinstance(v, (str, bytes)) or not hasattr(v, "__iter__"):
            return float(v)
        return [float(x) for x in v]
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidArgumentError(
            f"intermediate value {v!r:.80} is not a float or a sequence of floats"
        ) from e


def intermediate_values_of(rec: _core.TrialRecord) -> dict[int, Any]:
    """``FrozenTrial.intermediate_values`` of a core record: step -> float, or step ->
    list of floats (one per objective) when the trial reported vectors."""
    if not rec.intermediate_rest:
        return dict(rec.intermediate)
    rest = dict(rec.intermediate_rest)
    return {step: [v, *rest.get(step, ())] for step, v in rec.intermediate}


def create_trial(
    *,
    state: TrialState = TrialState.COMPLETE,
    value: float | None = None,
    values: Sequence[float] | None = None,
    params: dict[str, Any] | None = None,
    distributions: dict[str, BaseDistribution] | None = None,
    user_attrs: dict[str, Any] | None = None,
    system_attrs: dict[str, Any] | None = None,
    intermediate_values: dict[int, Any] | None = None,
    constraints: dict[str, float] | None = None,
) -> FrozenTrial:
    """A finished (or waiting) trial made by hand, for :meth:`Study.add_trial
    <ferrotune.Study.add_trial>`, as Optuna's ``create_trial``.

    Args:
        state: Its state (COMPLETE by default).
        value: The objective value of a single-objective COMPLETE trial.
        values: The objective values (one per objective); not with ``value``.
        params: Parameter name -> value; each must be a value of its distribution.
        distributions: Parameter name -> distribution, for the same names as ``params``.
        user_attrs, system_attrs: Attributes of the trial.
        intermediate_values: Step -> value, as reported with ``Trial.report`` (for a
            study with several objectives, step -> one float per objective).
        constraints: Constraint name -> value (``<= 0`` feasible), as
            ``Trial.set_constraint`` records them (in the system attribute
            ``"constraints"``).

    Returns:
        A :class:`FrozenTrial` with number -1 (``add_trial`` numbers it) and start and
        completion times set to now (none for WAITING; no completion unless finished).

    Raises:
        InvalidArgumentError: For both ``value`` and ``values``, a COMPLETE trial without
            values or with a NaN, values on a FAIL trial, names in ``params`` and
            ``distributions`` that differ, or a value outside its distribution.

    Example:
        >>> from ferrotune.distributions import FloatDistribution
        >>> t = create_trial(params={"x": 2.0},
        ...                  distributions={"x": FloatDistribution(0, 10)}, value=4.0)
        >>> study.add_trial(t)  # doctest: +SKIP
    """
    state = TrialState(state)
    if value is not None and values is not None:
        raise InvalidArgumentError("give either value or values, not both")
    vals: list[float] | None = None
    if value is not None or values is not None:
        raw: Sequence[Any] = [value] if value is not None else list(values or [])
        try:
            vals = [float(v) for v in raw]
        except (TypeError, ValueError, OverflowError) as e:
            raise InvalidArgumentError(f"values must be numbers, got {raw!r:.120}") from e
    if state == TrialState.COMPLETE:
        if not vals:
            raise InvalidArgumentError("a COMPLETE trial needs value or values")
        if any(math.isnan(v) for v in vals):
            raise InvalidArgumentError(f"values must not be NaN, got {vals}")
    elif state == TrialState.FAIL and vals is not None:
        raise InvalidArgumentError(f"a FAIL trial has no values, got {vals}")
    params = dict(params or {})
    distributions = dict(distributions or {})
    if set(params) != set(distributions):
        raise InvalidArgumentError(
            f"params {sorted(params)} and distributions {sorted(distributions)} must name "
            "the same parameters"
        )
    for name, v in params.items():
        dist = distributions[name]
        if not isinstance(dist, BaseDistribution):
            from ferrotune.distributions import _from_optuna

            # Optuna's class (a script half moved over): converted.
            dist = distributions[name] = _from_optuna(name, dist) or dist
        if not isinstance(dist, BaseDistribution):
            raise InvalidArgumentError(
                f"parameter {name!r}: {dist!r} is not a ferrotune distribution"
            )
        try:
            ok = dist._contains(dist.to_internal_repr(v))
        except ValueError:
            ok = False
        if not ok:
            raise InvalidArgumentError(f"parameter {name!r}: {v!r} is not a value of {dist!r}")
    system = dict(system_attrs or {})
    if constraints is not None:
        system["constraints"] = _checked_constraints(constraints)
    start = None if state == TrialState.WAITING else datetime.datetime.now()
    return FrozenTrial(
        number=-1,
        state=state,
        value=None,
        values=vals,
        datetime_start=start,
        datetime_complete=start if state.is_finished() else None,
        params=params,
        distributions=distributions,
        user_attrs=dict(user_attrs or {}),
        system_attrs=system,
        intermediate_values={
            _step(k): _intermediate(v) for k, v in (intermediate_values or {}).items()
        },
    )


def _step(k: Any) -> int:
    """An intermediate value's step: an int, or a float that holds one (as ``report``)."""
    if isinstance(k, numbers.Integral) and not isinstance(k, bool):
        return int(k)
    if isinstance(k, numbers.Real) and not isinstance(k, bool) and float(k).is_integer():
        return int(float(k))
    raise InvalidArgumentError(f"intermediate_values: a step must be an int, got {k!r:.80}")


def _checked_constraints(constraints: Any) -> dict[str, float]:
    """``create_trial``'s constraints as the system attribute stores them."""
    if not isinstance(constraints, dict):
        raise InvalidArgumentError(
            f"constraints must be a dict of name -> float, got {type(constraints).__name__}"
        )
    out: dict[str, float] = {}
    for key, value in constraints.items():
        try:
            v = float(value)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"constraint {key!r}: {value!r} is not a number") from e
        if math.isnan(v):
            raise InvalidArgumentError(f"constraint {key!r}: value must not be NaN")
        out[str(key)] = v
    return out

from __future__ import annotations

import datetime
import math
import numbers
import operator
import warnings
from collections.abc import Mapping, Sequence, Set
from typing import TYPE_CHECKING, Any, overload

from ferrotune.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
    _as_int,
    _float_grid_high,
    _int_grid_high,
    _warn,
)
from ferrotune.exceptions import (
    IncompatibleDistributionError,
    InvalidArgumentError,
    InvalidDistributionError,
)
from ferrotune.storages._base import plain_value
from ferrotune.trial._base import BaseTrial

if TYPE_CHECKING:
    from collections.abc import Callable

    from ferrotune import _core
    from ferrotune.storages import BaseStorage
    from ferrotune.study._study import Study
    from ferrotune.trial._frozen import FrozenTrial

__all__ = ["Trial"]


def _report_float(value: Any) -> float:
    """``value`` of ``report`` for a single-objective study, as a float."""
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError) as e:
        raise InvalidArgumentError(f"report: value {value!r:.80} is not a float") from e


def _report_vector(value: Any, n_objectives: int) -> list[float]:
    """``value`` of ``report`` for a study with ``n_objectives`` objectives: one float
    per objective."""
    want = f"a sequence of {n_objectives} floats, one per objective"
    if isinstance(value, (str, bytes, Mapping, Set)):
        items = None
    else:
        try:
            items = list(value)
        except TypeError:
            items = None
    if items is None:
        raise InvalidArgumentError(
            f"report: value {value!r:.80} is not {want} (the study has {n_objectives} objectives)"
        )
    if len(items) != n_objectives:
        raise InvalidArgumentError(
            f"report: {len(items)} value(s) for a study with {n_objectives} objectives; give {want}"
        )
    out = []
    for k, item in enumerate(items):
        try:
            out.append(float(item))
        except (TypeError, ValueError, OverflowError) as e:
            raise InvalidArgumentError(
                f"report: value[{k}] {item!r:.80} is not a float ({want})"
            ) from e
    return out


class _TrialContext:
    """What a study hands each of its trials at construction: its record (the Rust
    core), its storage and id, how suggestions are routed, and the study-wide
    categorical choices. One object per study, updated when its sampler changes, so
    that a trial never reads the study's private attributes."""

    __slots__ = (
        "choices",
        "claim_pruner",
        "claim_sampler",
        "core",
        "fast_suggest",
        "frozen",
        "n_objectives",
        "register_choices",
        "rust_independent",
        "rust_pruner",
        "storage",
        "study_id",
    )

    def __init__(
        self,
        core: _core.StudyCore,
        storage: BaseStorage,
        study_id: int,
        n_objectives: int,
        choices: dict[str, CategoricalDistribution],
        register_choices: Callable[
            [str, Sequence[CategoricalChoiceType] | CategoricalDistribution],
            CategoricalDistribution,
        ],
        frozen: Callable[[int], FrozenTrial],
    ) -> None:
        self.core = core
        self.storage = storage
        self.study_id = study_id
        self.n_objectives = n_objectives
        # The study's categorical distributions by name (the storage's live dict), and
        # the study's check that adds one.
        self.choices = choices
        self.register_choices = register_choices
        # A snapshot of one trial of the study, by number.
        self.frozen = frozen
        # `suggest_*` samples and records in one call into the core.
        self.fast_suggest = False
        # The study's sampler draws independent values in Rust.
        self.rust_independent = False
        # The study's pruner decides in Rust (`StudyCore.should_prune`).
        self.rust_pruner = False
        # Bind the study's own sampler or pruner into the core again when another Study
        # object on the same storage bound its own since (set by the study).
        self.claim_sampler: Callable[[], None] = _nothing
        self.claim_pruner: Callable[[], None] = _nothing


def _nothing() -> None:
    return None


class Trial(BaseTrial):
    """A running trial: the object an objective function receives.

    Each ``suggest_*`` call with a Rust sampler is one call into the core, which checks
    the distribution, samples and records the value. Suggesting a name again with the
    same distribution returns the same value; with another range or step of the same
    kind it warns and returns the first value, as Optuna does; with another kind of
    distribution, another ``log`` setting or other categorical choices it raises
    :class:`~ferrotune.exceptions.IncompatibleDistributionError`.

    Trials are created by :meth:`Study.ask <ferrotune.Study.ask>` and
    :meth:`Study.optimize <ferrotune.Study.optimize>`, not by users.
    """

    __slots__ = (
        "_core",
        "_ctx",
        "_fast",
        "_fixed",
        "_number",
        "_relative",
        "_reported",
        "_write_through",
        "study",
    )

    def __init__(
        self,
        study: Study,
        number: int,
        fixed: dict[str, Any] | None,
        context: _TrialContext,
    ) -> None:
        self.study = study
        self._number = number
        self._ctx = context
        self._core = context.core
        self._fast = context.fast_suggest
        # Values decided before the objective asks for them: enqueued params and grid
        # points (which must fit the suggested distribution), and relative samples of
        # a joint model (names in `_relative`), which give way to independent sampling
        # when the objective suggests a distribution that does not contain them.
        self._fixed: dict[str, Any] = fixed if fixed is not None else {}
        self._relative: set[str] = set()
        # Steps this Trial object reported (a step again warns, as in Optuna).
        self._reported: set[int] = set()
        # Write each parameter to a database at once (trials of the ask/tell API).
        self._write_through = False

    @property
    def number(self) -> int:
        """The trial's number in its study, from 0."""
        return self._number

    @property
    def _trial_id(self) -> int:
        return self._number

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> float:
        """Suggests a real value in ``[low, high]``.

        Args:
            name: Parameter name.
            low: Lower bound, included.
            high: Upper bound, included.
            step: Grid spacing from ``low`` (excludes ``log``). When it does not divide
                ``high - low``, ``high`` is lowered to the last grid point with a
                warning, as in Optuna.
            log: Sample uniformly in log space (needs ``low > 0``).

        Returns:
            The value.

        Raises:
            InvalidDistributionError: For invalid bounds or step (the message names the
                parameter).
            IncompatibleDistributionError: When ``name`` was suggested in this trial with
                another kind of distribution or ``log`` setting (another range or step
                warns and returns the first value, as Optuna).

        Example:
            >>> lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)  # doctest: +SKIP
        """
        if self._fast and name not in self._fixed:
            self._ctx.claim_sampler()
            try:
                return self._core.suggest_float(self._number, name, low, high, step, log)
            except (
                TypeError,
                OverflowError,
                InvalidDistributionError,
                IncompatibleDistributionError,
            ):
                # Bad bounds, or a step to adjust: the Python path below warns and
                # adjusts as Optuna, or names the parameter and the problem (and
                # warns for a range changed within the trial).
                pass
        if step is not None:
            high = _float_high(name, low, high, step)
        return self._suggest(name, _named(name, FloatDistribution, low, high, log=log, step=step))  # type: ignore[no-any-return]

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> int:
        """Suggests an integer in ``[low, high]`` on a grid of ``step``.

        Args:
            name: Parameter name.
            low: Lower bound, included.
            high: Upper bound, included.
            step: Grid spacing from ``low``. When it does not divide ``high - low``,
                ``high`` is lowered to the last grid point with a warning, as in Optuna.
            log: Sample uniformly in log space (needs ``low >= 1`` and ``step == 1``).

        Returns:
            The value.
        """
        if self._fast and name not in self._fixed:
            self._ctx.claim_sampler()
            try:
                return self._core.suggest_int(self._number, name, low, high, step, log)
            except (
                TypeError,
                OverflowError,
                InvalidDistributionError,
                IncompatibleDistributionError,
            ):
                pass  # as in suggest_float
        if step != 1:
            high = _int_high(name, low, high, step, log)
        return self._suggest(name, _named(name, IntDistribution, low, high, log=log, step=step))  # type: ignore[no-any-return]

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
        """Suggests one of ``choices`` (``None``, ``bool``, ``int``, ``float`` or ``str``).

        The choices of a name are fixed for the whole study, as in Optuna.
        """
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"a parameter name must be a str, got {name!r} ({type(name).__name__})"
            )
        known = self._ctx.choices.get(name)
        if known is None or not known.same_choices(choices):
            known = self._ctx.register_choices(name, choices)
        if self._fast and name not in self._fixed:
            self._ctx.claim_sampler()
            return known.choices[self._core.suggest_categorical(self._number, name, len(choices))]
        value: CategoricalChoiceType = self._suggest(name, known)
        return value

    def _suggest(self, name: str, dist: BaseDistribution) -> Any:
        """The general path: fixed values, single-valued distributions, Python samplers."""
        if not isinstance(name, str):
            raise InvalidArgumentError(
                f"a parameter name must be a str, got {name!r} ({type(name).__name__})"
            )
        ctx = self._ctx
        if isinstance(dist, CategoricalDistribution):
            known = ctx.choices.get(name)
            if known is None or known != dist:
                ctx.register_choices(name, dist.choices)
        try:
            existing = self._core.existing(self._number, name, dist._core)
        except IncompatibleDistributionError:
            # Suggested before in this trial with another range of the same kind:
            # Optuna warns and keeps the first value.
            frozen = ctx.frozen(self._number)
            old = frozen.distributions.get(name)
            if (
                old is None
                or type(old) is not type(dist)
                or isinstance(dist, CategoricalDistribution)
                or getattr(old, "log", None) != getattr(dist, "log", None)
            ):
                raise  # as Optuna, which refuses another kind or log setting
            warnings.warn(
                f"parameter {name!r} was suggested before in this trial with {old!r}; "
                f"its value is kept and {dist!r} is ignored (as in Optuna)",
                RuntimeWarning,
                stacklevel=3,
            )
            return frozen.params[name]
        if existing is not None:
            return dist.to_external_repr(existing)
        internal = self._preset(name, dist)
        if internal is not None:
            pass
        elif dist.single():
            internal = dist._core.from_unit(0.5)
        elif ctx.rust_independent:
            # The Rust path: a joint (relative) sample if there is one, else the
            # sampler's independent draw; recorded by the storage.
            self._ctx.claim_sampler()
            internal = ctx.storage.suggest(ctx.study_id, self._number, name, dist)
            self._written()
            return dist.to_external_repr(internal)
        else:
            study = self.study
            frozen = ctx.frozen(self._number)
            value = study.sampler.sample_independent(study, frozen, name, dist)
            internal = dist.to_internal_repr(value)
            if not dist._contains(internal):
                raise InvalidDistributionError(
                    f"parameter {name!r}: the sampler returned {value!r}, outside {dist!r}"
                )
        ctx.storage.record_param(ctx.study_id, self._number, name, dist, internal)
        self._written()
        return dist.to_external_repr(internal)

    def _written(self) -> None:
        """A parameter was recorded: a trial of the ask/tell API writes it at once."""
        if self._write_through:
            self._ctx.storage.flush(self._ctx.study_id, self._number)

    def _preset(self, name: str, dist: BaseDistribution) -> float | None:
        """The internal value fixed for ``name`` before sampling, if any.

        A fixed value outside ``dist`` warns and the trial goes on, as in Optuna; but
        the value recorded is always one of ``dist``: the nearest value for numbers (a
        relative sample that no longer fits is sampled again instead), and a sampled
        value for a choice not among the categorical choices.
        """
        internal, problem = self._check_preset(name, dist)
        if isinstance(problem, Exception):
            raise problem
        if problem is not None:
            _warn(problem)
        return internal

    def _check_preset(
        self, name: str, dist: BaseDistribution
    ) -> tuple[float | None, str | InvalidDistributionError | None]:
        """``_preset`` without its side effects: the value to use and the warning to
        give (a message) or the error to raise, for a caller that reports them only if
        the parameter turns out to be active."""
        if name not in self._fixed:
            return None, None
        value = self._fixed[name]
        try:
            internal = dist.to_internal_repr(value)
        except InvalidDistributionError:
            internal = math.nan
        if dist._contains(internal):
            return internal, None
        if name in self._relative:
            return None, None  # a joint sample that no longer fits: sample independently
        if isinstance(dist, CategoricalDistribution):
            return None, (
                f"parameter {name!r}: fixed value {value!r} is not one of the choices "
                f"{dist.choices}; a value is sampled instead"
            )
        assert isinstance(dist, (FloatDistribution, IntDistribution))
        if math.isnan(internal):
            return None, InvalidDistributionError(
                f"parameter {name!r}: fixed value {value!r} is not a value of {dist!r}"
            )
        nearest = dist._nearest(internal)
        return nearest, (
            f"parameter {name!r}: fixed value {value!r} is out of range for {dist!r} (or "
            f"off its step grid); the nearest value {dist.to_external_repr(nearest)!r} is used"
        )

    def report(self, value: float | Sequence[float], step: int) -> None:
        """Reports an intermediate objective value at ``step`` (for pruning).

        A step reported twice keeps its first value and warns, as in Optuna.

        Args:
            value: A float for a single-objective study. For a study with several
                objectives (which Optuna cannot prune), a sequence of one float per
                objective, in the order of the study's directions:
                :class:`~ferrotune.pruners.SuccessiveHalvingPruner` and
                :class:`~ferrotune.pruners.HyperbandPruner` compare these vectors by
                non-dominated rank, and ``FrozenTrial.intermediate_values`` maps each
                step to its list of values.
            step: The step, an int in ``[0, 2**63)`` (a float holding a whole number,
                such as ``4.0``, is taken as that int).

        Raises:
            InvalidArgumentError: For a value that is not a float (single objective), a
                value that is not a sequence of as many floats as the study has
                objectives (several), or a bad step.
        """
        n = self._ctx.n_objectives
        v: float | list[float] = _report_vector(value, n) if n > 1 else _report_float(value)
        index = _index(step)
        if index is None or not 0 <= index < 2**63:
            raise InvalidArgumentError(
                f"report: step must be an int in [0, 2**63), got {step!r:.80}"
                f" ({type(step).__name__})"
            )
        if index in self._reported:
            warnings.warn(
                f"report: step {index} of trial {self._number} is already reported; the "
                "value reported again is ignored",
                UserWarning,
                stacklevel=2,
            )
        self._ctx.storage.record_intermediate(self._ctx.study_id, self._number, index, v)
        self._reported.add(index)  # after the write: a failed write is not a report

    def should_prune(self) -> bool:
        """True when the study's pruner says this trial should stop now.

        A pruner of ``ferrotune.pruners`` decides in Rust, in one call; a pruner written
        in Python is asked through ``prune(study, frozen_trial)``.

        Raises:
            NotImplementedError: For a study with several objectives and a pruner other
                than :class:`~ferrotune.pruners.NopPruner`,
                :class:`~ferrotune.pruners.SuccessiveHalvingPruner` and
                :class:`~ferrotune.pruners.HyperbandPruner` (Optuna refuses every
                pruner there).
            UpdateFinishedTrialError: When the trial has already finished.
        """
        ctx = self._ctx
        pruner = self.study.pruner
        if pruner._never_prunes():
            return False
        if ctx.n_objectives > 1 and not pruner._multi_objective:
            raise NotImplementedError(
                f"Trial.should_prune is not supported for multi-objective optimization "
                f"with {type(pruner).__name__}; SuccessiveHalvingPruner and HyperbandPruner "
                "prune studies with several objectives"
            )
        # As Optuna's rung pruners (they refuse to record on a finished trial): a decision
        # is for a running trial only, and a rung record must not land on a told one.
        self._check_running()
        ctx.claim_pruner()
        if ctx.rust_pruner:
            # One call into the core in memory; on a database, a sync or (at a rung of
            # successive halving) one serialized transaction.
            return ctx.storage.should_prune(ctx.study_id, self._number)
        return bool(pruner.prune(self.study, ctx.frozen(self._number)))

    def set_constraint(self, key: str, value: float) -> None:
        """Reports a black-box constraint value: ``value <= 0`` means feasible.

        Constraint-aware samplers use them: TPE ranks infeasible trials after feasible
        ones, GPSampler models each constraint and seeks feasible improvement. The
        values are stored on the trial (system attribute ``"constraints"``).
        """
        if not isinstance(key, str):
            raise InvalidArgumentError(
                f"constraint name must be a str, got {type(key).__name__} {key!r:.40}"
            )
        try:
            v = float(value)
        except (TypeError, ValueError) as e:
            raise InvalidArgumentError(f"constraint {key!r}: {value!r} is not a number") from e
        if v != v:
            raise InvalidArgumentError(f"constraint {key!r}: value must not be NaN")
        self._check_running()
        ctx = self._ctx
        cons = dict(
            ctx.storage.get_trial_system_attrs(ctx.study_id, self._number).get("constraints", {})
        )
        if key in cons:
            # As Optuna: the first value reported for a constraint stands.
            import warnings

            warnings.warn(
                f"constraint {key!r} was already set for trial {self._number}; "
                "the new value is ignored",
                stacklevel=2,
            )
            return
        cons[key] = v
        ctx.storage.record_constraints(ctx.study_id, self._number, cons)

    def report_gradient(self, gradient: Mapping[str, float]) -> None:
        """Reports the gradient of the objective value with respect to parameters, for
        :class:`~ferrotune.samplers.HypergradientSampler`.

        ``gradient`` maps a parameter name to the derivative of the value this trial
        will return with respect to that parameter's value **as suggested** (for a
        ``log=True`` parameter too: the sampler applies the chain rule). Call it before
        :meth:`Study.tell <ferrotune.Study.tell>` (or return from the objective after
        it); a name reported again takes its new value, but the sampler reads a trial's
        gradient once, when it first sees one: report it whole. The gradient is stored as the
        trial's system attribute ``"ferrotune:gradient"`` in every storage, so other
        workers' samplers see it while the trial still runs.

        Args:
            gradient: Parameter name -> finite float, for parameters this trial
                suggested with ``suggest_float`` without ``step``.

        Raises:
            InvalidArgumentError: A name that is not a parameter of the trial, a
                parameter that is not a continuous float, or a value that is not a
                finite number (the message names the parameter).
            UpdateFinishedTrialError: The trial has already finished.

        Example:
            >>> def objective(trial):  # doctest: +SKIP
            ...     x = trial.suggest_float("x", -10, 10)
            ...     trial.report_gradient({"x": 2 * (x - 2)})
            ...     return (x - 2) ** 2
        """
        from ferrotune.trial._gradient import GRADIENT_KEY, check_gradient, merged

        self._check_running()
        checked = check_gradient(gradient, self.distributions, self._number)
        ctx = self._ctx
        old = ctx.storage.get_trial_system_attrs(ctx.study_id, self._number).get(GRADIENT_KEY)
        ctx.storage.set_trial_system_attr(
            ctx.study_id, self._number, GRADIENT_KEY, merged(old, checked)
        )

    @property
    def constraints(self) -> dict[str, float]:
        """Constraint values reported with :meth:`set_constraint`."""
        attrs = self._ctx.storage.get_trial_system_attrs(self._ctx.study_id, self._number)
        return dict(attrs.get("constraints", {}))

    def set_user_attr(self, key: str, value: Any) -> None:
        """Stores a JSON-serialisable attribute on the trial.

        Raises:
            UpdateFinishedTrialError: The trial has already finished.
        """
        self._check_running()
        self._ctx.storage.set_trial_user_attr(
            self._ctx.study_id, self._number, key, plain_value(value)
        )

    def set_system_attr(self, key: str, value: Any) -> None:
        """Stores a system attribute on the trial.

        Raises:
            UpdateFinishedTrialError: The trial has already finished.
        """
        self._check_running()
        self._ctx.storage.set_trial_system_attr(self._ctx.study_id, self._number, key, value)

    def _check_running(self) -> None:
        from ferrotune.exceptions import UpdateFinishedTrialError
        from ferrotune.trial._state import FROM_CORE

        state = FROM_CORE[self._core.state(self._number)]
        if state.is_finished():
            raise UpdateFinishedTrialError(
                f"trial {self._number} has already finished ({state.name}): it cannot be changed"
            )

    @property
    def user_attrs(self) -> dict[str, Any]:
        """User attributes."""
        return self._ctx.storage.get_trial_user_attrs(self._ctx.study_id, self._number)

    @property
    def system_attrs(self) -> dict[str, Any]:
        """System attributes."""
        return self._ctx.storage.get_trial_system_attrs(self._ctx.study_id, self._number)

    @property
    def params(self) -> dict[str, Any]:
        """Parameter name -> value, for the parameters suggested so far."""
        return self._ctx.frozen(self._number).params

    @property
    def distributions(self) -> dict[str, BaseDistribution]:
        """Parameter name -> distribution."""
        return self._ctx.frozen(self._number).distributions

    @property
    def datetime_start(self) -> datetime.datetime | None:
        """When the trial started."""
        return self._ctx.frozen(self._number).datetime_start

    def __repr__(self) -> str:
        return f"Trial(number={self._number})"


def _float_high(name: str, low: Any, high: Any, step: Any) -> Any:
    """``high`` lowered to the step grid, warning with the parameter's name; bounds that
    are not numbers are returned unchanged, for the distribution to report."""
    try:
        lo, hi, st = float(low), float(high), float(step)
    except (TypeError, ValueError):
        return high
    return _float_grid_high(lo, hi, st, name)


def _int_high(name: str, low: Any, high: Any, step: Any, log: bool) -> Any:
    """The integer counterpart of :func:`_float_high`."""
    try:
        lo, hi, st = (_as_int("", v) for v in (low, high, step))
    except (ArithmeticError, ValueError):
        return high
    return _int_grid_high(lo, hi, st, bool(log), name)


def _named(name: str, cls: type[BaseDistribution], *args: Any, **kwargs: Any) -> BaseDistribution:
    """Builds a distribution, putting the parameter name into any error."""
    try:
        return cls(*args, **kwargs)
    except InvalidDistributionError as e:
        raise InvalidDistributionError(f"parameter {name!r}: {e}") from None
    except (TypeError, ValueError, ArithmeticError) as e:
        raise InvalidDistributionError(f"parameter {name!r}: {e}") from None


def _index(value: Any) -> int | None:
    """``value`` as an int when it is one (numpy integers too, as Optuna accepts) or a
    float holding a whole number (``4.0``: Optuna takes ``int(step)``; a fraction such as
    ``4.5``, which Optuna would truncate to 4, is refused), else None; a bool is not a
    step."""
    if isinstance(value, bool):
        return None
    if isinstance(value, float) and value.is_integer():  # numpy's float64 is a float
        return int(value)
    try:
        return operator.index(value)
    except TypeError:
        pass
    # numpy's float32 and float16 are not Python floats, but are reals.
    if isinstance(value, numbers.Real):
        as_float = float(value)
        if as_float.is_integer():
            return int(as_float)
    return None

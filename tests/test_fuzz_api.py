"""A property-based fuzz test of the public API.

A hypothesis state machine plays an Optuna user who makes mistakes: it creates studies
(in memory and in SQLite files; one or two objectives; several samplers), asks for trials
(plain, with a declared ``SearchSpace``, with Optuna's positional dict of distributions,
with a bad argument), suggests from random and invalid distributions, reports, tells
random and invalid values, enqueues valid and invalid values, sets user attributes,
runs ``optimize``, reads ``best_trial`` / ``best_trials``, deletes studies and reloads
SQLite studies from disk with a fresh ``Study`` object (between trials: two objects
running trials of one study at once are two workers, which the machine does not model).

The machine keeps its own record of every trial (state, values, parameters, attributes)
and an oracle, written independently of the library, that says for each call whether it
must succeed, must fail, or may do either (where Optuna's behaviour leaves room). After
every step it checks:

- no call raised a Rust ``PanicException`` or anything that is not a
  ``ferrotune.exceptions`` class (no hang either: a guard dumps every thread's stack and
  ends the process when one step takes minutes);
- a trial is RUNNING only while the machine holds it open (a failed operation leaves
  none behind), and trial numbers are dense ``0..n-1``;
- every trial has the state, values, parameters, intermediate values and user attributes
  the machine recorded; every COMPLETE trial has one non-NaN value per objective and
  each parameter inside the distribution it was suggested from, on its step grid.

The expected semantics:
``inf`` values are COMPLETE and NaN is FAIL; a failed ``ask`` leaves no RUNNING trial;
changing a finished trial raises ``UpdateFinishedTrialError``; ``tell(-1)`` and
``tell("0")`` raise a ferrotune ``ValueError``; a deleted study refuses ``ask`` and
``optimize``; a step that does not divide the range, and an enqueued value outside the
distribution, warn as in Optuna instead of failing.
"""

from __future__ import annotations

import faulthandler
import logging
import math
import os
import sys
import uuid
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

import ferrotune
from ferrotune import TrialState
from ferrotune import exceptions as fexc
from ferrotune.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)
from ferrotune.samplers import GPSampler, QMCSampler, RandomSampler, TPESampler
from tests._support import SpaceSpec, same_choice, space_specs

pytest.importorskip("sqlalchemy")

# Changing a finished trial raises Optuna's UpdateFinishedTrialError (a subclass of
# InvalidTrialError).
UpdateFinishedTrialError = fexc.UpdateFinishedTrialError

# Python exceptions other than ferrotune's that a call may raise. Empty on purpose: every
# error of bad input is a ferrotune.exceptions class, even where Optuna raises TypeError
# (``tell("0")``, choices that are not a sequence), because ferrotune promises one
# hierarchy to catch. Add an entry only with the Optuna behaviour it mirrors.
ALLOWED_FOREIGN_ERRORS: tuple[type[BaseException], ...] = ()

# Seconds one step may take before the hang guard dumps the stacks and ends the run.
STEP_TIMEOUT = 300.0

NAN, INF = float("nan"), float("inf")
STATES_FINISHED = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
# A small pool, so that names are reused across kinds, trials and declared spaces.
NAMES = ["x", "n", "c", "p0"]

VALID, INVALID, EITHER = "valid", "invalid", "either"


class UserError(Exception):
    """Raised by the fuzzed objective: a user's error, which optimize() re-raises."""


# ============================================================================ oracle
def _real(v: Any) -> bool:
    """A number that is a float (an int beyond the float range, 10**400, is not)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    return not isinstance(v, int) or abs(v) <= sys.float_info.max


def _choice_key(c: Any) -> tuple[str, Any]:
    if isinstance(c, float) and math.isnan(c):
        return ("nan", None)
    return (type(c).__name__, c)


def _same_value(a: Any, b: Any) -> bool:
    """Equality of parameter or objective values: typed for choices, NaN equal to NaN."""
    return same_choice(a, b)


def _same_floats(a: list[float] | None, b: list[float] | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return len(a) == len(b) and all(
        x == y or (math.isnan(x) and math.isnan(y)) for x, y in zip(a, b, strict=True)
    )


@dataclass(frozen=True)
class Spec:
    """The arguments of one ``suggest_*`` call, valid or not, with the oracle that judges
    them (independent of the library) and a membership test for the values."""

    kind: str  # "float", "int" or "categorical"
    low: Any = None
    high: Any = None
    step: Any = None
    log: bool = False
    choices: Any = None

    @staticmethod
    def of(dist: BaseDistribution) -> Spec:
        if isinstance(dist, FloatDistribution):
            return Spec("float", dist.low, dist.high, dist.step, dist.log)
        if isinstance(dist, IntDistribution):
            return Spec("int", dist.low, dist.high, dist.step, dist.log)
        assert isinstance(dist, CategoricalDistribution)
        return Spec("categorical", choices=tuple(dist.choices))

    def key(self) -> tuple[Any, ...]:
        """Identity of the spec (choices by type, NaN equal to NaN)."""
        choices = (
            tuple(_choice_key(c) for c in self.choices)
            if isinstance(self.choices, (list, tuple))
            else repr(self.choices)
        )
        return (self.kind, repr(self.low), repr(self.high), repr(self.step), self.log, choices)

    def suggest(self, trial: ferrotune.Trial, name: str) -> Any:
        if self.kind == "float":
            return trial.suggest_float(name, self.low, self.high, step=self.step, log=self.log)
        if self.kind == "int":
            return trial.suggest_int(name, self.low, self.high, step=self.step, log=self.log)
        return trial.suggest_categorical(name, self.choices)

    def distribution(self) -> BaseDistribution:
        if self.kind == "float":
            return FloatDistribution(self.low, self.high, log=self.log, step=self.step)
        if self.kind == "int":
            return IntDistribution(self.low, self.high, log=self.log, step=self.step)
        return CategoricalDistribution(self.choices)

    def verdict(self) -> tuple[str, str]:
        """(VALID, INVALID or EITHER, why): what Optuna's rules say of these arguments."""
        if self.kind == "float":
            return self._float_verdict()
        if self.kind == "int":
            return self._int_verdict()
        return self._categorical_verdict()

    def _float_verdict(self) -> tuple[str, str]:
        low, high, step = self.low, self.high, self.step
        if any(isinstance(v, str) for v in (low, high, step)):
            # ferrotune converts with float() like its values; Optuna raises TypeError
            return EITHER, "a bound or step given as a string"
        if not (_real(low) and _real(high)):
            return INVALID, "bounds are not numbers"
        if not (math.isfinite(low) and math.isfinite(high)):
            return INVALID, "non-finite bound"
        if low > high:
            return INVALID, "low > high"
        if self.log and step is not None:
            return INVALID, "log with a step"
        if self.log and low <= 0:
            return INVALID, "log with low <= 0"
        if step is not None and not (_real(step) and math.isfinite(step) and step > 0):
            return INVALID, "step is not a positive number"
        if not math.isfinite(high - low):
            return EITHER, "high - low overflows"
        if step is not None and (high - low) / step > 2.0**50:
            return EITHER, "a grid of more than 2^50 points"
        # A step that does not divide the range is valid: Optuna warns and lowers high
        # to the last point of the grid.
        return VALID, ""

    def _int_verdict(self) -> tuple[str, str]:
        for arg in ("low", "high", "step"):
            v = getattr(self, arg)
            if isinstance(v, float) and math.isfinite(v) and v == int(v):
                return EITHER, f"{arg} is an integral float"
            if isinstance(v, bool) or not isinstance(v, int):
                return INVALID, f"{arg} is not an int"
        if self.step < 1:
            return INVALID, "step < 1"
        if self.low > self.high:
            return INVALID, "low > high"
        if self.log and self.low < 1:
            return INVALID, "log with low < 1"
        if self.log and self.step != 1:
            return INVALID, "log with step != 1"
        if max(abs(self.low), abs(self.high)) > 2**53:
            return EITHER, "bounds beyond 2^53"
        return VALID, ""

    def _categorical_verdict(self) -> tuple[str, str]:
        choices = self.choices
        if not isinstance(choices, (list, tuple)):
            return INVALID, "choices are not a list or tuple"
        if not choices:
            return INVALID, "no choices"
        if any(c is not None and not isinstance(c, (bool, int, float, str)) for c in choices):
            return INVALID, "a choice of another type"
        if len({_choice_key(c) for c in choices}) < len(choices):
            return INVALID, "duplicate choices"
        return VALID, ""

    def admits_enqueued(self, fixed: Any) -> bool:
        """Whether an enqueued value is a value of this valid spec (an int is a float; a
        bool is the int it equals, as Optuna's numeric distributions read it)."""
        if self.kind != "categorical" and isinstance(fixed, bool):
            fixed = int(fixed)
        if self.kind == "float":
            return _real(fixed) and self.admits(float(fixed))
        if self.kind == "int" and isinstance(fixed, float):
            # An integral float is that integer (as Optuna's IntDistribution reads it).
            return math.isfinite(fixed) and fixed.is_integer() and self.admits(int(fixed))
        return self.admits(fixed)

    def is_enqueued(self, value: Any, fixed: Any) -> bool:
        """Whether a suggested ``value`` is the enqueued value ``fixed``."""
        if self.kind == "categorical":
            return same_choice(value, fixed)
        if isinstance(fixed, bool):
            fixed = int(fixed)
        return _real(fixed) and value == fixed

    def admits(self, value: Any) -> bool:
        """Whether ``value`` (external representation) is a value of this valid spec."""
        if self.kind == "categorical":
            return any(same_choice(value, c) for c in self.choices)
        if self.kind == "int":
            if type(value) is not int:
                return False
            return self.low <= value <= self.high and (value - self.low) % self.step == 0
        if type(value) is not float or not math.isfinite(value):
            return False
        # float(): bounds given as strings are converted, as ferrotune does
        low, high = float(self.low), float(self.high)
        step = None if self.step is None else float(self.step)
        if not low <= value <= high:
            return False
        if step is not None:
            k = (value - low) / step
            return abs(k - round(k)) <= 1e-8 * max(1.0, abs(k))
        return True


# ======================================================================= strategies
_choice_pool = [None, True, False, 0, 1, 2, 1.0, 2.5, NAN, INF, "a", "b", ""]
choice_values = st.sampled_from(_choice_pool)


@st.composite
def float_specs(draw: st.DrawFn) -> Spec:
    low = draw(st.one_of(st.floats(-100, 100), st.sampled_from([0.0, 1e-3, 1.0, 1e300])))
    width = draw(st.one_of(st.just(0.0), st.floats(0, 100), st.just(1e300)))
    high = low + width
    log = draw(st.booleans()) and low > 0
    step = None if log or draw(st.booleans()) else draw(st.sampled_from([0.5, 0.25, 1.0, 0.3]))
    if step is not None and width > 0 and draw(st.booleans()):
        high = low + step * draw(st.integers(1, 50))  # on the grid
    spec = Spec("float", low, high, step, log)
    mutation = draw(
        st.sampled_from(
            [None] * 6 + ["swap", "nan", "inf", "str", "none", "log_nonpos", "log_step", "bad_step"]
        )
    )
    if mutation == "swap" and low != high:
        spec = Spec("float", high, low, step, log)
    elif mutation in ("nan", "inf", "str", "none"):
        bad = {"nan": NAN, "inf": INF, "str": "1", "none": None}[mutation]
        spec = Spec("float", *((bad, high) if draw(st.booleans()) else (low, bad)), step, log)
    elif mutation == "log_nonpos":
        spec = Spec("float", draw(st.sampled_from([0.0, -1.0])), abs(high) + 1, None, True)
    elif mutation == "log_step":
        spec = Spec("float", 1.0, 2.0, 0.5, True)
    elif mutation == "bad_step":
        spec = Spec("float", low, high, draw(st.sampled_from([0.0, -0.5, NAN, INF, "1"])), log)
    return spec


@st.composite
def int_specs(draw: st.DrawFn) -> Spec:
    log = draw(st.booleans())
    low = draw(st.integers(1, 50) if log else st.integers(-50, 50))
    step = 1 if log else draw(st.sampled_from([1, 1, 2, 3]))
    high = low + draw(st.integers(0, 60))
    spec = Spec("int", low, high, step, log)
    mutation = draw(
        st.sampled_from(
            [None] * 6
            + ["swap", "float", "nan", "str", "huge", "zero_step", "log_nonpos", "log_step"]
        )
    )
    if mutation == "swap" and low != high:
        spec = Spec("int", high, low, step, log)
    elif mutation in ("float", "nan", "str"):
        bad = {"float": low + 0.5, "nan": NAN, "str": "1"}[mutation]
        spec = Spec("int", *((bad, high) if draw(st.booleans()) else (low, bad)), step, log)
    elif mutation == "huge":
        spec = Spec("int", low, draw(st.sampled_from([2**53 + 1, 2**63, 2**70])), step, log)
    elif mutation == "zero_step":
        spec = Spec("int", low, high, draw(st.sampled_from([0, -1])), False)
    elif mutation == "log_nonpos":
        spec = Spec("int", 0, high, 1, True)
    elif mutation == "log_step":
        spec = Spec("int", 1, 9, 2, True)
    return spec


@st.composite
def categorical_specs(draw: st.DrawFn) -> Spec:
    choices: Any = draw(
        st.lists(choice_values, min_size=1, max_size=4, unique_by=_choice_key).map(tuple)
    )
    mutation = draw(
        st.sampled_from([None] * 6 + ["empty", "duplicate", "bad_type", "not_a_sequence"])
    )
    if mutation == "empty":
        choices = []
    elif mutation == "duplicate":
        choices = [*choices, choices[0]]
    elif mutation == "bad_type":
        choices = [*choices, draw(st.sampled_from([[1], {"a": 1}, b"a", 1j]))]
    elif mutation == "not_a_sequence":
        choices = draw(st.sampled_from(["ab", 3, {1, 2}, None]))
    elif draw(st.booleans()):
        choices = list(choices)
    return Spec("categorical", choices=choices)


specs = st.one_of(float_specs(), int_specs(), categorical_specs())
valid_specs = specs.filter(lambda s: s.verdict()[0] == VALID)

# Mostly numbers; a quarter infinite, NaN or not a number at all.
told_value = st.one_of(
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.floats(-1e6, 1e6),
    st.sampled_from([INF, -INF, NAN, "abc", 10**400]),
)
# How tell() receives the values: the right number of them (a scalar for one
# objective, or a list), one too many, or none at all.
value_shapes = st.sampled_from(["right", "right", "right", "list", "one_more", "none"])
enqueued_value = st.one_of(
    st.floats(-100, 100),
    st.integers(-60, 60),
    choice_values,
    st.sampled_from([1e300, -INF, "x"]),
)
attr_value = st.one_of(
    st.integers(),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
    st.none(),
    # Not JSON: refused on every storage (a database could not hold it).
    st.sampled_from([{1, 2}, b"x", 1j]),
)


def _json_value(v: Any) -> bool:
    return not isinstance(v, (set, bytes, complex))


# ============================================================================ model
@dataclass
class TrialModel:
    """What the machine knows of one trial."""

    state: TrialState
    fixed: dict[str, Any] = field(default_factory=dict)  # enqueued values
    params: dict[str, Any] = field(default_factory=dict)
    domains: dict[str, Spec] = field(default_factory=dict)  # spec each param came from
    values: list[float] | None = None
    intermediate: dict[int, float] = field(default_factory=dict)
    user_attrs: dict[str, Any] = field(default_factory=dict)
    handle: ferrotune.Trial | None = None  # the Trial object, kept after it finishes
    params_known: bool = True  # False for a trial a failed operation marked FAIL


@dataclass
class StudyModel:
    label: str
    study: ferrotune.Study
    name: str
    url: str | None  # SQLite URL; None in memory
    storage: Any  # what delete_study receives
    n_objectives: int
    sampler_name: str
    trials: list[TrialModel] = field(default_factory=list)
    deleted: bool = False
    # Categorical choices the study has registered per name (they are fixed for the
    # whole study), and choices that may have been registered by a call that failed.
    choices: dict[str, tuple[tuple[str, Any], ...]] = field(default_factory=dict)
    maybe_choices: set[str] = field(default_factory=set)
    # A name keeps its kind (float, int, categorical) for the whole study, as ferrotune
    # documents; and kinds that a failed call may have fixed.
    kinds: dict[str, str] = field(default_factory=dict)
    maybe_kinds: set[str] = field(default_factory=set)

    def waiting(self) -> list[int]:
        return [i for i, t in enumerate(self.trials) if t.state == TrialState.WAITING]

    def next_number(self) -> int:
        """The number ``ask`` hands out next: the oldest enqueued trial, or a new one."""
        w = self.waiting()
        return w[0] if w else len(self.trials)


def make_sampler(name: str, seed: int) -> ferrotune.samplers.BaseSampler:
    if name == "random":
        return RandomSampler(seed=seed)
    if name == "tpe":
        return TPESampler(seed=seed, n_startup_trials=3, warn_independent_sampling=False)
    if name == "qmc":
        return QMCSampler(seed=seed, warn_independent_sampling=False)
    assert name == "gp"
    return GPSampler(seed=seed, n_startup_trials=3)


class _Records(logging.Handler):
    """Collects the warnings ferrotune logs during one call."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@dataclass
class Outcome:
    """The result of one guarded call."""

    value: Any = None
    error: BaseException | None = None
    warned: list[str] = field(default_factory=list)


# ========================================================================== machine
class ApiMachine(RuleBasedStateMachine):
    def __init__(self, tmp_dir: Path) -> None:
        super().__init__()
        self.tmp_dir = tmp_dir
        self.studies: list[StudyModel] = []
        self.storages: list[Any] = []  # RDB storages to dispose of at the end

    # ---------------------------------------------------------------- guarded calls
    def attempt(self, what: str, fn: Callable[[], Any]) -> Outcome:
        """Runs one API call; fails the test at once on a panic or a foreign error."""
        faulthandler.dump_traceback_later(STEP_TIMEOUT, exit=True)
        logged = _Records()
        logger = logging.getLogger("ferrotune")
        level = logger.level
        if logger.getEffectiveLevel() > logging.WARNING:
            logger.setLevel(logging.WARNING)  # the warnings are part of the contract
        logger.addHandler(logged)
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                try:
                    value = fn()
                except (KeyboardInterrupt, SystemExit, AssertionError):
                    raise  # a failed check of this machine (or a bare assert in the library)
                except BaseException as e:  # a PanicException is a BaseException
                    self._check_error_class(what, e)
                    value, error = None, e
                else:
                    error = None
        finally:
            logger.removeHandler(logged)
            logger.setLevel(level)
        warned = [str(w.message) for w in caught] + logged.messages
        return Outcome(value=value, error=error, warned=warned)

    @staticmethod
    def _check_error_class(what: str, e: BaseException) -> None:
        if type(e).__name__ == "PanicException":
            raise AssertionError(f"{what} raised a Rust panic: {e}") from e
        if isinstance(e, UserError):
            return
        if not isinstance(e, (fexc.FerrotuneError, *ALLOWED_FOREIGN_ERRORS)):
            raise AssertionError(
                f"{what} raised {type(e).__module__}.{type(e).__name__}: {e}; every error "
                "must be a ferrotune.exceptions class"
            ) from e

    @staticmethod
    def expect_ok(what: str, out: Outcome) -> Any:
        if out.error is not None:
            raise AssertionError(
                f"{what} must succeed but raised {type(out.error).__name__}: {out.error}"
            ) from out.error
        return out.value

    @staticmethod
    def expect_error(what: str, out: Outcome, cls: type[BaseException], why: str) -> None:
        if out.error is None:
            raise AssertionError(
                f"{what} must raise {cls.__name__} ({why}); returned {out.value!r}"
            )
        if not isinstance(out.error, cls):
            raise AssertionError(
                f"{what} must raise {cls.__name__} ({why}); raised "
                f"{type(out.error).__name__}: {out.error}"
            ) from out.error

    # ----------------------------------------------------------------- selections
    def live(self) -> list[StudyModel]:
        return [m for m in self.studies if not m.deleted]

    def has_live(self) -> bool:
        return bool(self.live())

    def pick_study(self, i: int) -> StudyModel:
        live = self.live()
        return live[i % len(live)]

    def handles(self) -> list[tuple[StudyModel, int]]:
        return [(m, n) for m in self.live() for n, t in enumerate(m.trials) if t.handle is not None]

    def has_handles(self) -> bool:
        return bool(self.handles())

    def pick_handle(self, j: int) -> tuple[StudyModel, TrialModel, str]:
        """A trial object the machine holds: three times in four an open one (if any),
        else any, finished ones included. Returns its study, record and a label."""
        handles = self.handles()
        running = [(m, n) for m, n in handles if m.trials[n].state == TrialState.RUNNING]
        pool = running if running and j % 4 else handles
        m, n = pool[j % len(pool)]
        tm = m.trials[n]
        return m, tm, f"{m.label}: trial {n} ({tm.state.name})"

    # -------------------------------------------------------------- model updates
    def opened(self, m: StudyModel, trial: Any, what: str) -> TrialModel:
        """Records a trial handed out by ask (a new one, or the oldest enqueued one)."""
        assert isinstance(trial, ferrotune.Trial), f"{what} returned {trial!r}, not a Trial"
        expected = m.next_number()
        assert trial.number == expected, (
            f"{what} started trial {trial.number}; expected {expected} (the oldest WAITING "
            "trial, else the next number)"
        )
        if expected == len(m.trials):
            m.trials.append(TrialModel(TrialState.RUNNING))
        tm = m.trials[expected]
        tm.state = TrialState.RUNNING
        tm.handle = trial
        return tm

    def after_failed_ask(self, m: StudyModel, what: str) -> None:
        """A failed ask leaves no RUNNING trial: none, or one marked FAIL."""
        expected = m.next_number()
        read = f"{what}, then get_trials()"
        trials = self.expect_ok(read, self.attempt(read, m.study.get_trials))
        for t in trials[len(m.trials) :]:
            assert t.state == TrialState.FAIL, (
                f"{what} failed and left trial {t.number} {t.state.name} (a failed "
                "ask leaves no trial, or a FAIL one)"
            )
            m.trials.append(TrialModel(TrialState.FAIL, params_known=False))
        if expected < len(m.trials) and m.trials[expected].state == TrialState.WAITING:
            state = trials[expected].state
            assert state in (TrialState.WAITING, TrialState.FAIL), (
                f"{what} failed and left enqueued trial {expected} {state.name}"
            )
            if state == TrialState.FAIL:
                m.trials[expected].state = TrialState.FAIL
                m.trials[expected].params_known = False

    def note_attempt(self, m: StudyModel, name: str, spec: Spec, ok: bool) -> None:
        """Records what a call with a spec fixed for the study: the name's kind and
        categorical choices (surely on success; perhaps when the call failed)."""
        if spec.verdict()[0] == INVALID:
            return
        if name not in m.kinds:
            if ok:
                m.kinds[name] = spec.kind
            else:
                m.maybe_kinds.add(name)
        if spec.kind == "categorical" and name not in m.choices:
            if ok:
                m.choices[name] = tuple(_choice_key(c) for c in spec.choices)
            else:
                m.maybe_choices.add(name)

    # ------------------------------------------------------------------ the oracle
    def name_verdict(
        self, m: StudyModel, name: str, spec: Spec, conditional: bool = False
    ) -> tuple[str, str]:
        """The study-wide rules for a name: its kind and categorical choices are fixed.
        (The kind of a conditional parameter of a declared space is checked only when
        it is active; its choices always.)"""
        kind = m.kinds.get(name)
        if kind is not None and kind != spec.kind:
            if conditional:
                return EITHER, f"{name!r} is a {kind} parameter, if it is active"
            return INVALID, f"{name!r} is a {kind} parameter in this study"
        if spec.kind == "categorical":
            key = tuple(_choice_key(c) for c in spec.choices)
            known = m.choices.get(name)
            if known is not None and known != key:
                return INVALID, "categorical choices differ from those the study registered"
            if known is None and name in m.maybe_choices:
                return EITHER, "a failed call may have registered other choices"
        if kind is None and name in m.maybe_kinds:
            return EITHER, "a failed call may have fixed the kind of the name"
        return VALID, ""

    def suggest_verdict(
        self, m: StudyModel, tm: TrialModel, name: str, spec: Spec
    ) -> tuple[str, str]:
        """Whether ``spec.suggest(trial, name)`` must succeed on an open trial."""
        verdict, why = spec.verdict()
        if verdict == INVALID:
            return verdict, why
        if name in tm.params:
            if tm.domains[name].key() == spec.key():
                return verdict, why
            return EITHER, "name suggested before in this trial with another distribution"
        study_verdict, study_why = self.name_verdict(m, name, spec)
        if study_verdict != VALID:
            return study_verdict, study_why
        if name in tm.fixed and verdict == VALID:
            fixed = tm.fixed[name]
            if spec.admits_enqueued(fixed):
                return VALID, ""
            # A number outside the range or off the grid warns, as in Optuna.
            if (spec.kind == "float" and _real(fixed) and math.isfinite(fixed)) or (
                spec.kind == "int" and type(fixed) is int
            ):
                return VALID, ""
            return EITHER, "an enqueued value of another type"
        if name in tm.fixed:
            return EITHER, "an enqueued value and arguments Optuna leaves open"
        return verdict, why

    def check_suggested(
        self, m: StudyModel, tm: TrialModel, name: str, spec: Spec, out: Outcome, what: str
    ) -> None:
        """Checks one suggest's outcome against the oracle and records its value."""
        verdict, why = self.suggest_verdict(m, tm, name, spec)
        self.note_attempt(m, name, spec, out.error is None)
        if verdict == VALID:
            self.expect_ok(what, out)
        elif verdict == INVALID:
            self.expect_error(what, out, ValueError, why)
        if out.error is not None:
            return
        value = out.value
        if name in tm.params:
            assert _same_value(value, tm.params[name]), (
                f"{what} returned {value!r}; the trial already holds {name}={tm.params[name]!r}"
            )
            return
        in_spec = verdict != INVALID and spec.admits(value)
        fixed = name in tm.fixed and spec.is_enqueued(value, tm.fixed[name])
        assert in_spec or fixed, f"{what} returned {value!r}, not a value of {spec}"
        if name in tm.fixed and spec.admits_enqueued(tm.fixed[name]):
            assert spec.is_enqueued(value, tm.fixed[name]), (
                f"{what} returned {value!r}, not the enqueued value {tm.fixed[name]!r}"
            )
        elif name in tm.fixed:
            assert out.warned, f"{what} ignored the enqueued {tm.fixed[name]!r} without a warning"
        tm.params[name] = value
        tm.domains[name] = spec

    # ======================================================================= rules
    @precondition(lambda self: len(self.live()) < 4)
    @rule(
        in_memory=st.booleans(),
        n_objectives=st.sampled_from([1, 1, 2]),
        maximize=st.booleans(),
        sampler=st.sampled_from(["random", "tpe", "qmc", "gp"]),
        seed=st.integers(0, 2**16),
    )
    def create_study(
        self, in_memory: bool, n_objectives: int, maximize: bool, sampler: str, seed: int
    ) -> None:
        directions = ["maximize" if maximize else "minimize", "minimize"][:n_objectives]
        url = None if in_memory else f"sqlite:///{self.tmp_dir / f'{uuid.uuid4().hex}.db'}"
        storage: Any = ferrotune.storages.InMemoryStorage() if in_memory else url
        what = f"create_study({'memory' if in_memory else 'sqlite'}, {directions}, {sampler})"
        study = self.expect_ok(
            what,
            self.attempt(
                what,
                lambda: ferrotune.create_study(
                    storage=storage,
                    sampler=make_sampler(sampler, seed),
                    directions=directions,
                    study_name=f"s{len(self.studies)}",
                ),
            ),
        )
        if url is not None:
            self.storages.append(study._storage)
        label = f"study s{len(self.studies)} ({'memory' if in_memory else 'sqlite'}, {sampler})"
        self.studies.append(
            StudyModel(label, study, study.study_name, url, storage, n_objectives, sampler)
        )

    @precondition(has_live)
    @rule(i=st.integers(0, 7))
    def ask(self, i: int) -> None:
        m = self.pick_study(i)
        what = f"{m.label}: ask()"
        self.opened(m, self.expect_ok(what, self.attempt(what, m.study.ask)), what)

    @precondition(has_live)
    @rule(i=st.integers(0, 7), space=space_specs(max_params=3), infeasible=st.booleans())
    def ask_with_space(self, i: int, space: SpaceSpec, infeasible: bool) -> None:
        m = self.pick_study(i)
        if infeasible:
            space.predicates.append(lambda p: False)
        built = space.build(max_draws=20) if infeasible else space.build()
        what = f"{m.label}: ask(SearchSpace {sorted(space.dists)}, infeasible={infeasible})"
        fixed = m.trials[m.next_number()].fixed if m.waiting() else {}
        verdict, why = (INVALID, "infeasible space") if infeasible else (VALID, "")
        for name, dist in space.dists.items():
            conditional = name in space.conditions
            name_verdict, name_why = self.name_verdict(m, name, Spec.of(dist), conditional)
            if name_verdict == INVALID or (name_verdict == EITHER and verdict == VALID):
                verdict, why = name_verdict, name_why
        if set(fixed) & set(space.dists) and verdict == VALID:
            verdict, why = EITHER, "an enqueued trial fixes values of the space"
        out = self.attempt(what, lambda: m.study.ask(built))
        active = out.value.params if out.error is None else {}
        for name, dist in space.dists.items():
            self.note_attempt(m, name, Spec.of(dist), name in active)
        if verdict == VALID:
            self.expect_ok(what, out)
        elif verdict == INVALID:
            self.expect_error(what, out, ValueError, why)
        if out.error is not None:
            self.after_failed_ask(m, what)
            return
        tm = self.opened(m, out.value, what)
        params = out.value.params
        if not set(fixed) & set(space.dists):
            bad = space.violations(params)
            assert not bad, f"{what} gave {params}, which breaks the space: {bad}"
        for name, value in params.items():
            tm.params[name] = value
            tm.domains[name] = Spec.of(space.dists[name])

    @precondition(has_live)
    @rule(spec=specs)
    def build_distribution(self, spec: Spec) -> None:
        """The distribution classes judge their arguments as suggest_* does."""
        what = f"building the distribution of {spec}"
        out = self.attempt(what, spec.distribution)
        verdict, why = spec.verdict()
        if verdict == VALID:
            self.expect_ok(what, out)
        elif verdict == INVALID:
            self.expect_error(what, out, ValueError, why)

    @precondition(has_live)
    @rule(
        i=st.integers(0, 7),
        named=st.dictionaries(st.sampled_from(NAMES), valid_specs, min_size=1, max_size=3),
        positional=st.booleans(),
    )
    def ask_with_distributions(self, i: int, named: dict[str, Spec], positional: bool) -> None:
        """Optuna's ``study.ask({"x": FloatDistribution(...)})`` , or by keyword."""
        m = self.pick_study(i)
        dists: dict[str, BaseDistribution] = {}
        for name, spec in named.items():
            out = self.attempt(f"{spec}.distribution()", spec.distribution)
            if out.error is not None:
                return  # a valid spec the constructor refuses: checked by the suggest rule
            dists[name] = out.value
        what = f"{m.label}: ask({'' if positional else 'fixed_distributions='}{dists})"
        probe = TrialModel(TrialState.RUNNING)
        if m.waiting():
            probe.fixed = dict(m.trials[m.next_number()].fixed)
        verdicts = [self.suggest_verdict(m, probe, n, Spec.of(d)) for n, d in dists.items()]
        if positional:
            out = self.attempt(what, lambda: m.study.ask(dists))  # type: ignore[arg-type]
        else:
            out = self.attempt(what, lambda: m.study.ask(fixed_distributions=dists))
        for name, dist in dists.items():
            self.note_attempt(m, name, Spec.of(dist), out.error is None)
        if all(v == VALID for v, _ in verdicts):
            self.expect_ok(what, out)
        elif any(v == INVALID for v, _ in verdicts):
            why = next(w for v, w in verdicts if v == INVALID)
            self.expect_error(what, out, ValueError, why)
        if out.error is not None:
            self.after_failed_ask(m, what)
            return
        tm = self.opened(m, out.value, what)
        params = out.value.params
        assert set(params) == set(dists), f"{what} gave params {params}"
        for name, dist in dists.items():
            spec = Spec.of(dist)
            fixed_ok = name in tm.fixed and spec.is_enqueued(params[name], tm.fixed[name])
            assert spec.admits(params[name]) or fixed_ok, (
                f"{what} gave {name}={params[name]!r}, not a value of {dist}"
            )
            tm.params[name] = params[name]
            tm.domains[name] = spec

    @precondition(has_live)
    @rule(
        i=st.integers(0, 7),
        arg=st.sampled_from(
            [5, "space", ["x"], {"x": 3}, {"x": (0.0, 1.0)}, {1: FloatDistribution(0, 1)}]
        ),
    )
    def ask_with_a_bad_argument(self, i: int, arg: Any) -> None:
        m = self.pick_study(i)
        what = f"{m.label}: ask({arg!r})"
        out = self.attempt(what, lambda: m.study.ask(arg))
        self.expect_error(what, out, ValueError, "not a SearchSpace or a dict of distributions")
        self.after_failed_ask(m, what)

    @precondition(has_handles)
    @rule(j=st.integers(0, 50), name=st.sampled_from(NAMES), spec=specs)
    def suggest(self, j: int, name: str, spec: Spec) -> None:
        m, tm, label = self.pick_handle(j)
        trial = tm.handle
        assert trial is not None
        what = f"{label}: suggest {name!r} from {spec}"
        out = self.attempt(what, lambda: spec.suggest(trial, name))
        if tm.state != TrialState.RUNNING:
            self.note_attempt(m, name, spec, False)
            if name in tm.params and tm.domains[name].key() == spec.key():
                # As Optuna: the recorded value may be read back (no change to the trial).
                if out.error is None:
                    assert _same_value(out.value, tm.params[name]), (
                        f"{what} returned {out.value!r}, not the recorded {tm.params[name]!r}"
                    )
            elif self.suggest_verdict(m, tm, name, spec)[0] == VALID:
                self.expect_error(what, out, UpdateFinishedTrialError, "the trial is finished")
            else:
                self.expect_error(what, out, fexc.FerrotuneError, "the trial is finished")
            return
        self.check_suggested(m, tm, name, spec, out, what)

    @precondition(has_handles)
    @rule(
        j=st.integers(0, 50),
        value=st.one_of(
            st.floats(-10, 10), st.floats(-10, 10), st.sampled_from([NAN, INF, "abc", 10**400])
        ),
        step=st.one_of(
            st.integers(0, 5), st.integers(0, 5), st.sampled_from([-1, 1.5, "1", True, 2**70])
        ),
    )
    def report(self, j: int, value: Any, step: Any) -> None:
        m, tm, label = self.pick_handle(j)
        trial = tm.handle
        assert trial is not None
        what = f"{label}: report({value!r}, {step!r})"
        out = self.attempt(what, lambda: trial.report(value, step))
        valid_args = (
            m.n_objectives == 1
            and _real(value)
            and isinstance(step, int)
            and not isinstance(step, bool)
            and 0 <= step < 2**63
        )
        if tm.state != TrialState.RUNNING:
            cls = UpdateFinishedTrialError if valid_args else fexc.FerrotuneError
            self.expect_error(what, out, cls, "the trial is finished")
        elif not valid_args:
            self.expect_error(what, out, ValueError, "bad value or step, or several objectives")
        else:
            self.expect_ok(what, out)
            tm.intermediate.setdefault(step, float(value))  # the first report stands

    @precondition(has_handles)
    @rule(j=st.integers(0, 50), key=st.sampled_from(["k", "note"]), value=attr_value)
    def set_user_attr(self, j: int, key: str, value: Any) -> None:
        _, tm, label = self.pick_handle(j)
        trial = tm.handle
        assert trial is not None
        what = f"{label}: set_user_attr({key!r}, {value!r})"
        out = self.attempt(what, lambda: trial.set_user_attr(key, value))
        if tm.state == TrialState.RUNNING and not _json_value(value):
            self.expect_error(what, out, fexc.InvalidArgumentError, "not a JSON value")
        elif tm.state == TrialState.RUNNING:
            self.expect_ok(what, out)
            tm.user_attrs[key] = value
        else:
            self.expect_error(what, out, UpdateFinishedTrialError, "the trial is finished")

    @precondition(has_live)
    @rule(
        i=st.integers(0, 7),
        j=st.integers(0, 50),
        ref=st.sampled_from(["trial"] * 6 + ["number"] * 3 + ["-1", "'0'", "None", "unknown"]),
        raw=st.lists(told_value, min_size=3, max_size=3),
        shape=value_shapes,
        state=st.sampled_from([None] * 5 + list(TrialState)),
        skip_if_finished=st.booleans(),
    )
    def tell(
        self,
        i: int,
        j: int,
        ref: str,
        raw: list[Any],
        shape: str,
        state: TrialState | None,
        skip_if_finished: bool,
    ) -> None:
        # Mostly a study with an open trial.
        busy = [m for m in self.live() if any(t.state == TrialState.RUNNING for t in m.trials)]
        m = busy[i % len(busy)] if busy and i % 4 else self.pick_study(i)
        values: Any = {
            "right": raw[0] if m.n_objectives == 1 else raw[: m.n_objectives],
            "list": raw[: m.n_objectives],
            "one_more": raw[: m.n_objectives + 1],
            "none": None,
        }[shape]
        # Two times in three an open trial, else any trial (finished, enqueued).
        running = [n for n, t in enumerate(m.trials) if t.state == TrialState.RUNNING]
        known = [n for n, t in enumerate(m.trials) if t.handle is not None or ref == "number"]
        if running and j % 3:
            known = running
        if ref in ("trial", "number") and not known:
            ref = "unknown"
        n = known[j % len(known)] if ref in ("trial", "number") else None
        target: Any = {
            "-1": -1,
            "'0'": "0",
            "None": None,
            "unknown": len(m.trials) + 3,
            "number": n,
            "trial": m.trials[n].handle if n is not None else None,
        }[ref]
        what = (
            f"{m.label}: tell({target!r}, {values!r}, state={state!r}, "
            f"skip_if_finished={skip_if_finished})"
        )
        out = self.attempt(
            what,
            lambda: m.study.tell(target, values, state=state, skip_if_finished=skip_if_finished),
        )
        if n is None:
            # -1, "0", None or a number no trial has
            self.expect_error(what, out, ValueError, "not a trial of the study")
            return
        tm = m.trials[n]
        if tm.state == TrialState.WAITING:
            self.expect_error(what, out, ValueError, "a WAITING trial cannot be told")
            return
        if tm.state != TrialState.RUNNING:
            if skip_if_finished and state in (None, *STATES_FINISHED) and values is not None:
                self.expect_ok(what, out)
            elif not skip_if_finished:
                self.expect_error(what, out, fexc.FerrotuneError, "telling a finished trial")
            return
        self.check_told(m, tm, values, state, out, what)

    def check_told(
        self,
        m: StudyModel,
        tm: TrialModel,
        values: Any,
        state: TrialState | None,
        out: Outcome,
        what: str,
    ) -> None:
        """Optuna's tell on a RUNNING trial: COMPLETE with finite or infinite numbers,
        FAIL (with a warning) for NaN, non-numbers, the wrong count or no values at all."""
        if state in (TrialState.RUNNING, TrialState.WAITING):
            self.expect_error(what, out, ValueError, "not a finished state")
            return
        if state is None and values is None:
            self.expect_ok(what, out)
            tm.state, tm.values = TrialState.FAIL, None
            assert out.warned, f"{what} marked the trial FAIL without a warning"
            return
        if state in (TrialState.PRUNED, TrialState.FAIL):
            if values is None:
                self.expect_ok(what, out)
            if out.error is None:  # with values: Optuna refuses, ferrotune may ignore them
                tm.state = state
                tm.values = self.pruned_values(tm) if state == TrialState.PRUNED else None
            return
        if values is None:  # state=COMPLETE without values: an error, or FAIL
            if out.error is None:
                tm.state, tm.values = TrialState.FAIL, None
            return
        self.expect_ok(what, out)
        seq = values if isinstance(values, list) else [values]
        numbers = all(_real(v) for v in seq)
        if numbers and len(seq) == m.n_objectives and not any(math.isnan(v) for v in seq):
            tm.state, tm.values = TrialState.COMPLETE, [float(v) for v in seq]
        else:
            tm.state, tm.values = TrialState.FAIL, None
            assert out.warned, f"{what} marked the trial FAIL without a warning"

    @staticmethod
    def pruned_values(tm: TrialModel) -> list[float] | None:
        """As Optuna: a pruned trial keeps its last intermediate value unless it is NaN."""
        if not tm.intermediate:
            return None
        last = tm.intermediate[max(tm.intermediate)]
        return None if math.isnan(last) else [last]

    @precondition(has_live)
    @rule(
        i=st.integers(0, 7),
        params=st.dictionaries(st.sampled_from(NAMES), enqueued_value, max_size=3),
    )
    def enqueue_trial(self, i: int, params: dict[str, Any]) -> None:
        m = self.pick_study(i)
        what = f"{m.label}: enqueue_trial({params!r})"
        self.expect_ok(what, self.attempt(what, lambda: m.study.enqueue_trial(params)))
        m.trials.append(TrialModel(TrialState.WAITING, fixed=dict(params)))

    @precondition(has_live)
    @rule(
        i=st.integers(0, 7),
        n_trials=st.integers(1, 3),
        spec=specs,
        name=st.sampled_from(NAMES),
        behaviour=st.sampled_from(
            ["value", "value", "inf", "nan", "none", "wrong_count", "raise", "catch", "prune"]
        ),
    )
    def optimize(self, i: int, n_trials: int, spec: Spec, name: str, behaviour: str) -> None:
        m = self.pick_study(i)
        what = (
            f"{m.label}: optimize(n_trials={n_trials}) with an objective that suggests "
            f"{name!r} from {spec}, then does {behaviour!r}"
        )
        ran: list[tuple[TrialModel, bool]] = []  # (trial, whether its suggest succeeded)

        def objective(trial: ferrotune.Trial) -> Any:
            tm = self.opened(m, trial, what)
            call = f"{what}: trial {trial.number}: suggest"
            out = self.attempt(call, lambda: spec.suggest(trial, name))
            ran.append((tm, out.error is None))
            self.check_suggested(m, tm, name, spec, out, call)
            if out.error is not None:
                raise out.error
            return _objective_result(behaviour, len(ran), m.n_objectives)

        catch = (UserError,) if behaviour == "catch" else ()
        out = self.attempt(
            what, lambda: m.study.optimize(objective, n_trials=n_trials, catch=catch)
        )
        for k, (tm, suggested) in enumerate(ran):
            assert tm.state == TrialState.RUNNING
            v = float(k + 1)
            if not suggested or behaviour in ("nan", "none", "wrong_count", "raise", "catch"):
                tm.state, tm.values = TrialState.FAIL, None
            elif behaviour == "prune":
                tm.state, tm.values = TrialState.PRUNED, self.pruned_values(tm)
            elif behaviour == "inf":
                tm.state, tm.values = TrialState.COMPLETE, [INF] * m.n_objectives
            else:
                tm.state, tm.values = TrialState.COMPLETE, [v, -v][: m.n_objectives]
        if out.error is None:
            assert len(ran) == n_trials, f"{what} ran {len(ran)} trials, not {n_trials}"
        elif isinstance(out.error, UserError):
            assert behaviour == "raise" and len(ran) == 1, f"{what} raised {out.error!r}"
        else:
            assert ran and not ran[-1][1], f"{what} raised {out.error!r}, not from a suggest"

    @precondition(has_live)
    @rule(i=st.integers(0, 7))
    def read_best(self, i: int) -> None:
        """best_trial (one objective) or best_trials (the Pareto front), infinite values
        included, checked against the machine's record."""
        m = self.pick_study(i)
        complete = {n: t.values for n, t in enumerate(m.trials) if t.state == TrialState.COMPLETE}
        if m.n_objectives == 1:
            what = f"{m.label}: best_trial"
            out = self.attempt(what, lambda: m.study.best_trial)
            if not complete:
                self.expect_error(what, out, ValueError, "no COMPLETE trial")
                return
            best = self.expect_ok(what, out)
            pick = max if m.study.direction == ferrotune.StudyDirection.MAXIMIZE else min
            target = pick(v[0] for v in complete.values() if v)
            assert best.number in complete and best.values == [target], (
                f"{what} is trial {best.number} with {best.values}; the best value is {target}"
            )
            return
        what = f"{m.label}: best_trials"
        front = self.expect_ok(what, self.attempt(what, lambda: m.study.best_trials))
        signs = [
            -1.0 if d == ferrotune.StudyDirection.MAXIMIZE else 1.0 for d in m.study.directions
        ]
        costs = {
            n: [s * v for s, v in zip(signs, vals or [], strict=True)]
            for n, vals in complete.items()
        }

        def dominated(a: list[float]) -> bool:
            return any(
                all(x <= y for x, y in zip(b, a, strict=True)) and b != a for b in costs.values()
            )

        expected = {tuple(c) for c in costs.values() if not dominated(c)}
        got = {tuple(costs[t.number]) for t in front if t.number in costs}
        assert all(t.number in costs for t in front), f"{what} holds a trial that is not COMPLETE"
        assert got == expected, f"{what} gives the costs {got}; the Pareto front is {expected}"

    @precondition(lambda self: len(self.live()) >= 2)
    @rule(i=st.integers(0, 7))
    def delete_study(self, i: int) -> None:
        m = self.pick_study(i)
        what = f"{m.label}: delete_study"
        self.expect_ok(
            what,
            self.attempt(
                what, lambda: ferrotune.delete_study(study_name=m.name, storage=m.storage)
            ),
        )
        m.deleted = True

    @precondition(lambda self: any(m.deleted for m in self.studies))
    @rule(i=st.integers(0, 7), op=st.sampled_from(["ask", "optimize"]))
    def use_a_deleted_study(self, i: int, op: str) -> None:
        """A deleted study refuses more trials at once."""
        deleted = [m for m in self.studies if m.deleted]
        m = deleted[i % len(deleted)]
        calls: list[int] = []
        what = f"{m.label} (deleted): {op}"
        if op == "ask":
            out = self.attempt(what, m.study.ask)
        else:
            out = self.attempt(
                what, lambda: m.study.optimize(lambda t: calls.append(1) or 0.0, n_trials=1)
            )
        self.expect_error(what, out, fexc.FerrotuneError, "the study was deleted")
        assert not calls, f"{what} ran the objective"

    @precondition(has_live)
    @rule(in_memory=st.booleans())
    def delete_an_unknown_study(self, in_memory: bool) -> None:
        name = "no-such-study"
        url = f"sqlite:///{self.tmp_dir / 'empty.db'}"
        storage: Any = ferrotune.storages.InMemoryStorage() if in_memory else url
        what = f"delete_study({name!r}) on an empty {'memory' if in_memory else 'sqlite'} storage"
        out = self.attempt(what, lambda: ferrotune.delete_study(study_name=name, storage=storage))
        self.expect_error(what, out, fexc.FerrotuneError, "no such study")

    def reloadable(self) -> list[StudyModel]:
        """SQLite studies without a RUNNING trial. (A second Study object on a study whose
        trials another object runs is two workers: see the notes on reload_from_disk.)"""
        return [
            m
            for m in self.live()
            if m.url is not None and all(t.state != TrialState.RUNNING for t in m.trials)
        ]

    @precondition(lambda self: bool(self.reloadable()))
    @rule(i=st.integers(0, 7), seed=st.integers(0, 2**16))
    def reload_from_disk(self, i: int, seed: int) -> None:
        """A fresh Study object on the same SQLite file sees every trial as recorded.

        Only between trials: parameters are buffered by the storage object that suggested
        them until the trial's next change, so two objects sharing running trials are two
        workers, which this machine does not model.
        """
        sqlite = self.reloadable()
        m = sqlite[i % len(sqlite)]
        what = f"{m.label}: load_study from {m.url}"
        study = self.expect_ok(
            what,
            self.attempt(
                what,
                lambda: ferrotune.load_study(
                    study_name=m.name, storage=m.url, sampler=make_sampler(m.sampler_name, seed)
                ),
            ),
        )
        self.storages.append(study._storage)
        self.compare(m, study, f"{what} (fresh Study object)")
        m.study = study

    # ================================================================== invariants
    def compare(self, m: StudyModel, study: ferrotune.Study, where: str) -> None:
        trials = self.expect_ok(
            f"{where}: get_trials()", self.attempt(f"{where}: get_trials()", study.get_trials)
        )
        numbers = [t.number for t in trials]
        assert numbers == list(range(len(trials))), (
            f"{where}: trial numbers {numbers} are not dense"
        )
        assert len(trials) == len(m.trials), (
            f"{where}: {len(trials)} trials, the machine recorded {len(m.trials)}: "
            f"{[t.state.name for t in trials]}"
        )
        for t, tm in zip(trials, m.trials, strict=True):
            at = f"{where}: trial {t.number}"
            if t.state == TrialState.RUNNING:
                assert tm.state == TrialState.RUNNING, (
                    f"{at} is RUNNING, but the machine holds it as {tm.state.name}: a RUNNING "
                    "trial left behind"
                )
            assert t.state == tm.state, f"{at} is {t.state.name}; expected {tm.state.name}"
            assert t.user_attrs == tm.user_attrs, (
                f"{at}: user_attrs {t.user_attrs} != {tm.user_attrs}"
            )
            inter = {k: float(v) for k, v in t.intermediate_values.items()}
            assert inter.keys() == tm.intermediate.keys() and _same_floats(
                [inter[k] for k in sorted(inter)],
                [tm.intermediate[k] for k in sorted(tm.intermediate)],
            ), f"{at}: intermediate values {inter} != {tm.intermediate}"
            if t.state in STATES_FINISHED:
                assert _same_floats(t.values, tm.values), f"{at}: values {t.values} != {tm.values}"
                if tm.params_known:
                    assert t.params.keys() == tm.params.keys() and all(
                        _same_value(t.params[k], v) for k, v in tm.params.items()
                    ), f"{at}: params {t.params} != {tm.params}"
            if t.state == TrialState.COMPLETE:
                values = t.values or []
                assert len(values) == m.n_objectives and not any(math.isnan(v) for v in values), (
                    f"{at} is COMPLETE with values {t.values}"
                )
                for k, v in t.params.items():
                    spec = tm.domains.get(k)
                    fixed = spec is not None and k in tm.fixed and spec.is_enqueued(v, tm.fixed[k])
                    assert spec is None or spec.admits(v) or fixed, (
                        f"{at} is COMPLETE with {k}={v!r}, outside {spec}"
                    )

    @invariant()
    def every_study_matches_the_model(self) -> None:
        for m in self.live():
            self.compare(m, m.study, m.label)

    def teardown(self) -> None:
        for storage in self.storages:
            storage.dispose()


def _objective_result(behaviour: str, k: int, n_objectives: int) -> Any:
    """What the fuzzed objective of its k-th trial returns (or raises)."""
    v = float(k)
    if behaviour == "prune":
        raise ferrotune.TrialPruned()
    if behaviour in ("raise", "catch"):
        raise UserError("the objective failed")
    return {
        "value": [v, -v][:n_objectives] if n_objectives > 1 else v,
        "inf": [INF] * n_objectives,
        "nan": NAN,
        "none": None,
        "wrong_count": [v] * (n_objectives + 1),
    }[behaviour]


# ============================================================================= test
@pytest.fixture
def hang_guard() -> Iterator[None]:
    """Dumps every thread's stack and ends the run if a step hangs (the machine re-arms
    the timer before each call); no wall-clock assertion."""
    faulthandler.dump_traceback_later(STEP_TIMEOUT, exit=True, file=sys.stderr)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


# Sized by the active hypothesis profile (tests/conftest.py): its number of examples, each
# a sequence of up to 50 steps; the CI profile passes in about 25 s on two cores.
_PROFILE = settings()
FUZZ_SETTINGS = settings(
    _PROFILE,
    max_examples=_PROFILE.max_examples,
    # One failure shrunk at a time keeps a failing run bounded too.
    report_multiple_bugs=False,
    stateful_step_count=int(os.environ.get("FERROTUNE_FUZZ_STEPS", "50")),
    deadline=None,
)


def test_fuzz_public_api(tmp_path: Path, hang_guard: None) -> None:
    """The public API under random valid and invalid use never panics,
    hangs, raises a foreign error, leaves a RUNNING trial behind or loses a trial."""
    run_state_machine_as_test(lambda: ApiMachine(tmp_path), settings=FUZZ_SETTINGS)


# ------------------------------------------------- failures the machine found, pinned
@pytest.mark.parametrize(
    "build",
    [
        lambda: FloatDistribution(0.0, None),  # type: ignore[arg-type]
        lambda: FloatDistribution("a", 1.0),  # type: ignore[arg-type]
        lambda: FloatDistribution(0.0, 1.0, step=[0.5]),  # type: ignore[arg-type]
        lambda: IntDistribution(float("nan"), 1),  # type: ignore[arg-type]
        lambda: IntDistribution(0, float("inf")),  # type: ignore[arg-type]
        lambda: IntDistribution(0, 2**70),
        lambda: IntDistribution(-(2**70), 0),
    ],
    ids=["none", "str", "list-step", "nan-int", "inf-int", "huge-high", "huge-low"],
)
def test_distribution_constructors_raise_invalid_distribution_error(
    build: Callable[[], BaseDistribution],
) -> None:
    """Found by the fuzz test: the constructors raised TypeError, ValueError or
    OverflowError for arguments that ``suggest_*`` reports as InvalidDistributionError."""
    with pytest.raises(fexc.InvalidDistributionError):
        build()


def test_suggest_categorical_with_non_sequence_choices_for_a_known_name() -> None:
    """Found by the fuzz test: once a name had choices, ``suggest_categorical(name, 3)``
    raised TypeError ("'int' object is not iterable") instead of the
    InvalidDistributionError it raises for a new name."""
    study = ferrotune.create_study(sampler=RandomSampler(seed=0))
    trial = study.ask()
    trial.suggest_categorical("c", [1, 2])
    for bad in (3, None, {1, 2}, "ab"):
        with pytest.raises(fexc.InvalidDistributionError, match="'c'"):
            trial.suggest_categorical("c", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("in_memory", [True, False], ids=["memory", "sqlite"])
def test_delete_study_of_an_unknown_name(tmp_path: Path, in_memory: bool) -> None:
    """Found by the fuzz test: deleting a study the storage does not hold raised KeyError;
    it raises the error load_study raises for an unknown name."""
    storage: Any = (
        ferrotune.storages.InMemoryStorage() if in_memory else f"sqlite:///{tmp_path / 'a.db'}"
    )
    with pytest.raises(fexc.InvalidArgumentError, match="no-such-study"):
        ferrotune.delete_study(study_name="no-such-study", storage=storage)


@pytest.mark.parametrize("in_memory", [True, False], ids=["memory", "sqlite"])
def test_a_pruned_trial_does_not_keep_a_nan_intermediate_value(
    tmp_path: Path, in_memory: bool
) -> None:
    """Found by the fuzz test: a trial pruned after reporting NaN got the value NaN. As
    Optuna, a pruned trial keeps its last intermediate value only when it is a number
    (infinite included)."""
    storage = None if in_memory else f"sqlite:///{tmp_path / 'a.db'}"
    study = ferrotune.create_study(storage=storage, sampler=RandomSampler(seed=0))
    for last, expected in ((NAN, None), (INF, [INF]), (1.5, [1.5])):
        trial = study.ask()
        trial.report(0.0, 0)
        trial.report(last, 1)
        assert study.tell(trial, state=TrialState.PRUNED).values == expected
        assert study.trials[trial.number].values == expected

from __future__ import annotations

import abc
import contextlib
import json
import math
import numbers
from collections.abc import Container, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError, InvalidTrialError
from ferrotune.trial._state import FROM_CORE, TO_CORE

if TYPE_CHECKING:
    from ferrotune._search_space import SearchSpace
    from ferrotune.distributions import BaseDistribution
    from ferrotune.study._direction import StudyDirection
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["BaseStorage"]


def plain_value(value: Any, _open: frozenset[int] = frozenset()) -> Any:
    """``value`` with numpy scalars and arrays as Python numbers and lists, at any depth
    (``losses.argmin()`` is a numpy int, which JSON cannot hold; Optuna's in-memory
    storage keeps it as it is). Anything else is returned as it is, a container that
    holds itself too (``to_json`` then refuses it)."""
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (dict, list, tuple)):
        if id(value) in _open:
            return value  # a cycle: left for to_json to refuse
        inner = _open | {id(value)}
        if isinstance(value, dict):
            return {k: plain_value(v, inner) for k, v in value.items()}
        items = [plain_value(v, inner) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def to_json(value: Any, what: str) -> str:
    """``value`` as JSON, as a database storage writes it; a value JSON cannot hold
    raises InvalidArgumentError naming ``what`` (for example "user attribute 'k'"), so
    that what a study accepts does not depend on its storage."""
    try:
        return json.dumps(value)
    except (TypeError, ValueError, RecursionError) as e:
        shown = repr(value)
        if len(shown) > 60:
            shown = shown[:57] + "..."
        raise InvalidArgumentError(
            f"{what}: the value {shown} ({type(value).__name__}) cannot be stored: {e}. "
            "Attributes and enqueued values must be JSON values (str, int, float, bool, "
            "None, and lists and dicts of them), on every storage"
        ) from None


# The heartbeat of a storage that keeps none (a null context can be entered again).
_NO_HEARTBEAT = contextlib.nullcontext()

#: The trial system attribute holding an enqueued trial's fixed parameters (Optuna's key).
FIXED_PARAMS_KEY = "fixed_params"


#: The trial system attribute of a rung record of successive halving (Optuna's name), as
#: ``RUNG_KEY.format(rung)``; its value is ``{"values": [...], "promoted": bool, "order":
#: int}``: the trial's value at the rung, the decision taken there, and the record's place
#: in the study's serialized order of records.
RUNG_KEY = "completed_rung_{}"
_RUNG_PREFIX = "completed_rung_"
#: Where ferrotune's form of a rung record goes in a storage Optuna also reads (a journal
#: file, an Optuna study through ``ferrotune.integration.optuna``'s pruners): Optuna's
#: pruners sort the values under ``RUNG_KEY`` as floats, so Optuna's form (the trial's
#: first value) goes there and ferrotune's under this key. Readers take a record here
#: before one under ``RUNG_KEY``.
JOURNAL_RUNG_KEY = "ferrotune:completed_rung_{}"
_JOURNAL_RUNG_PREFIX = "ferrotune:completed_rung_"

#: A rung record as the core takes and gives it: (trial, rung, values, promoted, order).
RungRecord = tuple[int, int, list[float], bool, int]


#: The trial system attribute holding the sampler's tag of a trial (``History::tag`` in the
#: core): numbers a population sampler attaches to a trial it proposes, such as its generation.
TAG_KEY = "ferrotune:tag"


def sampler_tags(
    system_attrs: Mapping[int, Mapping[str, Any]], numbers: Iterable[int]
) -> list[tuple[int, list[float]]]:
    """The sampler's tags stored in the system attributes of trials ``numbers`` as (number,
    tag) pairs for ``StudyCore.set_tags``; a value that is not a list of finite numbers (another
    tool's attribute of the same name) is skipped."""
    out: list[tuple[int, list[float]]] = []
    for n in numbers:
        v = system_attrs.get(n, {}).get(TAG_KEY)
        if not isinstance(v, list) or not v:
            continue
        try:
            tag = [float(x) for x in v]
        except (TypeError, ValueError):
            continue
        if all(math.isfinite(x) for x in tag):
            out.append((n, tag))
    return out


def rung_attr(record: RungRecord) -> tuple[str, dict[str, Any]]:
    """The system attribute (key, value) that stores a rung record."""
    _, rung, values, promoted, order = record
    return RUNG_KEY.format(rung), {"values": values, "promoted": promoted, "order": order}


def journal_rung_attrs(record: RungRecord) -> list[tuple[str, Any]]:
    """The system attributes (key, value) a rung record is stored as where Optuna reads
    it too (see :data:`JOURNAL_RUNG_KEY`): Optuna's form (the first value alone, which
    Optuna's pruners read) and ferrotune's."""
    key, value = rung_attr(record)
    return [(key, value["values"][0]), (JOURNAL_RUNG_KEY.format(record[1]), value)]


def rung_records(number: int, attrs: Mapping[str, Any]) -> list[RungRecord]:
    """The rung records stored in the system attributes ``attrs`` of trial ``number``
    (attributes that do not hold one as ferrotune writes it are skipped; a rung stored
    under both keys counts once, from :data:`JOURNAL_RUNG_KEY`)."""
    found: dict[int, RungRecord] = {}
    for key, v in attrs.items():
        journal = key.startswith(_JOURNAL_RUNG_PREFIX)
        if not (journal or key.startswith(_RUNG_PREFIX)) or not isinstance(v, dict):
            continue
        try:
            rung = int(key[len(_JOURNAL_RUNG_PREFIX if journal else _RUNG_PREFIX) :])
            values = [float(x) for x in v["values"]]
            order = int(v["order"])
            promoted = v["promoted"]
        except (KeyError, TypeError, ValueError):
            continue
        valid = rung >= 0 and order >= 0 and isinstance(promoted, bool)
        if valid and (journal or rung not in found):
            found[rung] = (number, rung, values, promoted, order)
    return list(found.values())


def check_fixed_params(params: Mapping[str, Any]) -> None:
    """Checks that every enqueued value can be written (see :func:`to_json`)."""
    for key, value in params.items():
        to_json(value, f"enqueue_trial: the value of parameter {key!r}")


class BaseStorage(abc.ABC):
    """Where studies live: the one interface a :class:`~ferrotune.Study` talks to.

    Trial records (states, values, parameters, intermediate values, constraints) are
    kept by a Rust :class:`ferrotune._core.StudyCore` per study, which samplers read as
    columns of floats. A storage hands out that core (:meth:`get_core`) and owns
    everything else: study names, directions, attributes, categorical choices.

    **The trial methods** (:meth:`start_trial`, :meth:`create_new_trial`,
    :meth:`enqueue_trial`, :meth:`record_param`, :meth:`suggest`,
    :meth:`record_space_params`, :meth:`record_intermediate`,
    :meth:`record_constraints`, :meth:`finish_trial`) are the only way a study changes
    a trial. Each one records the change in the core *and* wherever the storage keeps
    it, so a study calls one method per change and never branches on the kind of
    storage. The defaults here act on the core alone: an in-memory storage needs
    nothing more. A storage that writes to a database overrides them, checking each
    change with the core first (the core validates values and trial states) and
    writing it; :meth:`finish_trial` is the exception: the database decides (a trial
    leaves RUNNING exactly once), then the core follows.

    **The core mirror.** After any trial method returns, the core holds what the
    storage holds for the trials this process changed. Trials changed by other
    processes reach the core at :meth:`sync` (a study syncs at every ask and before
    every read of the whole study); in between, the core may lag behind the database
    but never disagrees with it about a trial this process wrote.

    **A new storage** implements the abstract methods below (studies, attributes,
    :meth:`get_core`, :meth:`get_choices`); a storage that keeps trials somewhere
    else also overrides the trial methods, :meth:`sync`, :meth:`flush` and, when it
    writes every parameter, sets :attr:`writes_params` and overrides
    :meth:`_buffer_param`.
    """

    #: True when every parameter must pass through :meth:`record_param` or
    #: :meth:`suggest` (a database writes it). False lets a trial sample and record a
    #: number or a choice with one call into the core (``StudyCore.suggest_float`` and
    #: its siblings), the in-memory hot path. With True, a trial handed out by
    #: ``Study.ask`` calls :meth:`flush` after each parameter (it may be told through
    #: another process).
    writes_params: bool = False

    # ------------------------------------------------------------------ trials
    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        """Starts a trial: the oldest WAITING (enqueued) one, or a new RUNNING one.

        Returns its number and the parameters fixed for it (enqueued values).

        Raises:
            KeyError: The study does not exist (any more).
        """
        core = self.get_core(study_id)
        number = core.pop_waiting()
        if number is None:
            return core.ask(), {}
        fixed = self.get_trial_system_attrs(study_id, number).get(FIXED_PARAMS_KEY, {})
        return number, dict(fixed)

    def create_new_trial(self, study_id: int, *, started: float | None = None) -> int:
        """Starts a new RUNNING trial (enqueued trials stay waiting); returns its number.

        :meth:`Study.add_trial <ferrotune.Study.add_trial>` fills it and finishes it,
        with the start time ``started`` (seconds since the epoch; None: now).
        """
        core = self.get_core(study_id)
        number = core.ask()
        if started is not None:
            core.set_times(number, started=started)
        return number

    def enqueue_trial(self, study_id: int, params: dict[str, Any]) -> int:
        """Adds a WAITING trial with fixed parameters; returns its number.

        Raises:
            InvalidArgumentError: A value JSON cannot hold (before anything is written).
        """
        check_fixed_params(params)
        number = self.get_core(study_id).create_waiting()
        self.set_trial_system_attr(study_id, number, FIXED_PARAMS_KEY, dict(params))
        return number

    def check_name(self, what: str, name: str) -> None:
        """Raises InvalidArgumentError for a name (of a parameter, an attribute, a study)
        this storage cannot hold; every name by default (the database storages limit
        them)."""

    def record_param(
        self, study_id: int, number: int, name: str, dist: BaseDistribution, internal: float
    ) -> None:
        """Records a parameter value chosen outside the core (a Python sampler, a fixed
        value): ``dist`` is a :class:`~ferrotune.distributions.BaseDistribution`,
        ``internal`` the value in its internal representation.

        Raises:
            IncompatibleDistributionError: The trial has a value for ``name`` already.
            InvalidDistributionError: ``internal`` is not a value of ``dist``.
        """
        self.get_core(study_id).set_param(number, name, dist._core, internal)
        if self.writes_params:
            self._buffer_param(study_id, number, name, dist, internal)

    def suggest(self, study_id: int, number: int, name: str, dist: BaseDistribution) -> float:
        """Samples ``name`` for trial ``number`` with the study's Rust sampler (the value
        of a joint sample, if the sampler chose one), records it and returns its
        internal value."""
        value: float = self.get_core(study_id).suggest_dist(number, name, dist._core)
        if self.writes_params:
            self._buffer_param(study_id, number, name, dist, value)
        return value

    def record_space_params(
        self, study_id: int, number: int, space: SearchSpace, row: Sequence[float]
    ) -> None:
        """Records a configuration of a declared :class:`~ferrotune.SearchSpace`
        (internal values in ``space.names`` order, NaN for inactive parameters)."""
        self.get_core(study_id).set_space_params(number, space._core, list(row))
        if self.writes_params:
            for name, v in zip(space.names, row, strict=True):
                if not math.isnan(v):
                    self._buffer_param(study_id, number, name, space.distributions[name], v)

    def _buffer_param(
        self, study_id: int, number: int, name: str, dist: BaseDistribution, internal: float
    ) -> None:
        """Keeps a parameter value just recorded in the core for the storage's next write
        of the trial; called for every parameter when :attr:`writes_params` is set (the
        default, for storages without a backend of their own, does nothing)."""

    def record_intermediate(
        self, study_id: int, number: int, step: int, value: float | Sequence[float]
    ) -> None:
        """Records an intermediate value (a step reported twice keeps its first value):
        a float, or for a study with several objectives one float per objective."""
        core = self.get_core(study_id)
        if isinstance(value, (int, float)):
            core.report(number, step, value)
        else:
            core.report_vector(number, step, list(value))

    def record_constraints(self, study_id: int, number: int, values: dict[str, float]) -> None:
        """Records a trial's constraint values by name (``<= 0`` feasible): in the core,
        in name order, and as the trial's system attribute ``"constraints"``."""
        self.get_core(study_id).set_constraints(number, [values[k] for k in sorted(values)])
        self.set_trial_system_attr(study_id, number, "constraints", dict(values))

    def finish_trial(
        self,
        study_id: int,
        number: int,
        state: TrialState,
        values: list[float],
        *,
        completed: float | None = None,
    ) -> None:
        """Moves a RUNNING trial to a finished state (COMPLETE, PRUNED or FAIL, as
        :class:`~ferrotune.trial.TrialState` or its number), exactly once, at time
        ``completed`` (seconds since the epoch; None: now).

        Raises:
            UpdateFinishedTrialError: The trial has already finished (told elsewhere).
        """
        core = self.get_core(study_id)
        core.tell(number, TO_CORE[state], values)
        if completed is not None:
            core.set_times(number, completed=completed)

    def should_prune(self, study_id: int, number: int) -> bool:
        """Asks the study's Rust pruner whether trial ``number`` should stop now
        (``Trial.should_prune`` with a pruner of ``ferrotune.pruners``).

        A rung-based pruner (successive halving, Hyperband) records the trial's value at
        each rung it reaches, with the decision taken there; the storage keeps each record
        as the trial's system attribute ``completed_rung_{k}`` (see :data:`RUNG_KEY`), so
        that it is stored with the study and, on a shared storage, seen by every worker.
        This default syncs, decides in the core, then stores the records; a storage shared
        by workers makes "take in the records made so far, decide, store" one serialized
        step instead.
        """
        self.sync(study_id)
        pruned, records = self.get_core(study_id).prune(number)
        for record in records:
            key, value = rung_attr(record)
            self.set_trial_system_attr(study_id, record[0], key, value)
        return pruned

    def next_study_counter(self, study_id: int, key: str, count: int = 1) -> int:
        """Reserves ``count`` consecutive values of the study counter ``key`` (kept as a
        study system attribute, from 0) and returns the first.

        Every worker of a study shares the counter, so samplers that walk a sequence
        (QMC) continue it across workers and resumed studies. The in-memory and
        database storages make the reservation atomic; this default, for storages
        written by users, reads and writes the system attribute without a lock.
        """
        start = int(self.get_study_system_attrs(study_id).get(key, 0))
        self.set_study_system_attr(study_id, key, start + count)
        return start

    def flush(self, study_id: int, number: int | None = None) -> None:
        """Writes the parameters of trial ``number`` (of every trial: None) recorded but
        not written yet (a database storage batches them with the trial's next change;
        no-op in memory)."""

    def sync(self, study_id: int) -> None:
        """Pulls trials changed by other workers into the core (no-op in memory)."""

    def heartbeat(self, study_id: int, number: int) -> Any:
        """A context manager that keeps a running trial's heartbeat alive while its
        objective runs (a null context in memory)."""
        return _NO_HEARTBEAT

    @abc.abstractmethod
    def create_new_study(
        self, directions: list[StudyDirection], study_name: str | None = None
    ) -> int:
        """Creates a study and returns its id; raises DuplicatedStudyError on a taken name."""

    @abc.abstractmethod
    def delete_study(self, study_id: int) -> None:
        """Deletes a study and its trials."""

    @abc.abstractmethod
    def get_study_id_from_name(self, study_name: str) -> int:
        """The id of a study; KeyError when there is none of that name."""

    @abc.abstractmethod
    def get_study_name_from_id(self, study_id: int) -> str:
        """The name of a study."""

    @abc.abstractmethod
    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        """The directions of a study's objectives."""

    @abc.abstractmethod
    def get_all_study_names(self) -> list[str]:
        """Names of all studies."""

    @abc.abstractmethod
    def get_core(self, study_id: int) -> _core.StudyCore:
        """The Rust record of a study's trials."""

    @abc.abstractmethod
    def get_choices(self, study_id: int) -> dict[str, Any]:
        """The study's categorical distributions by parameter name (a live dict)."""

    @abc.abstractmethod
    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def set_trial_user_attr(self, study_id: int, number: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def set_trial_system_attr(self, study_id: int, number: int, key: str, value: Any) -> None: ...

    @abc.abstractmethod
    def get_trial_user_attrs(self, study_id: int, number: int) -> dict[str, Any]: ...

    @abc.abstractmethod
    def get_trial_system_attrs(self, study_id: int, number: int) -> dict[str, Any]: ...

    def get_trials_attrs(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The user and the system attributes (copies) of trials ``numbers``, as two
        lists in the order of ``numbers``: what ``Study.get_trials`` reads in one call."""
        return (
            [self.get_trial_user_attrs(study_id, n) for n in numbers],
            [self.get_trial_system_attrs(study_id, n) for n in numbers],
        )

    # ------------------------------------------------------------------ Optuna's reads
    # Optuna's storage methods that address a study; they read what a Study reads. (Its
    # methods that address one trial by a global ``trial_id`` have no counterpart: a
    # ferrotune storage addresses a trial by its study and number.)
    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        """Snapshots of the study's trials in order of their numbers, optionally only
        those in ``states`` (Optuna's storage method). Every call builds new snapshots,
        so ``deepcopy`` changes nothing.

        Raises:
            KeyError: The study does not exist.
        """
        from ferrotune.study._study import stored_trials

        trials = stored_trials(self, study_id)
        return trials if states is None else [t for t in trials if t.state in states]

    def get_n_trials(
        self, study_id: int, state: tuple[TrialState, ...] | TrialState | None = None
    ) -> int:
        """The number of the study's trials, optionally only those in ``state`` (one
        state or a tuple of them), as Optuna's storage method."""
        self.sync(study_id)
        core = self.get_core(study_id)
        n = core.n_trials()
        if state is None:
            return int(n)
        wanted = (state,) if not isinstance(state, tuple) else state
        return sum(FROM_CORE[core.state(i)] in wanted for i in range(n))

    def get_best_trial(self, study_id: int) -> FrozenTrial:
        """The best COMPLETE trial of a single-objective study (Optuna's storage method).

        Raises:
            RuntimeError: The study has several objectives.
            ValueError: No trial is complete.
        """
        from ferrotune.study._direction import StudyDirection

        directions = self.get_study_directions(study_id)
        if len(directions) > 1:
            raise InvalidTrialError("get_best_trial is for single-objective studies")
        self.sync(study_id)
        core = self.get_core(study_id)
        number = core.best_trial(directions[0] == StudyDirection.MAXIMIZE)
        if number is None:
            from ferrotune.trial import TrialState
            from ferrotune.trial._state import FROM_CORE

            complete = (FROM_CORE[core.state(n)] for n in range(core.n_trials()))
            if TrialState.COMPLETE in complete:
                raise InvalidArgumentError("no feasible trial is complete yet")
            raise InvalidArgumentError("no trial is complete yet")
        return self.get_all_trials(study_id)[number]

    def remove_session(self) -> None:
        """Closes the storage's connections (nothing to do in memory)."""


#: Optuna 5's trial system attribute of one constraint value: ``"constraints:<name>"``.
CONSTRAINT_PREFIX = "constraints:"


def split_constraint_attrs(
    system: Mapping[str, Any],
) -> tuple[dict[str, Any], dict[str, float] | None]:
    """A trial's system attributes without their constraint entries, and the constraint
    values by name (None when there are none), from every form a trial carries them in:
    ferrotune's ``"constraints"`` dict, Optuna's ``"constraints"`` list (from its
    ``constraints_func``; named ``"0"``, ``"1"``, ... as Optuna names them) and Optuna 5's
    ``"constraints:<name>"`` attributes (its ``Trial.set_constraint``). An entry that
    holds no numbers stays an ordinary attribute."""
    rest: dict[str, Any] = {}
    cons: dict[str, float] = {}

    def number(v: Any) -> bool:
        # numpy's numbers too (an Optuna constraints_func may return them).
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and v == v

    for key, value in system.items():
        if key == "constraints" and isinstance(value, dict) and all(map(number, value.values())):
            cons.update({str(k): float(v) for k, v in value.items()})
        elif key == "constraints" and isinstance(value, (list, tuple)) and all(map(number, value)):
            cons.update({str(i): float(v) for i, v in enumerate(value)})
        elif isinstance(key, str) and key.startswith(CONSTRAINT_PREFIX) and number(value):
            cons[key[len(CONSTRAINT_PREFIX) :]] = float(value)
        else:
            rest[key] = value
    return rest, (cons or None)

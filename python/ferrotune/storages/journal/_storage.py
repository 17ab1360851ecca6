""":class:`JournalStorage`: studies kept as a log of operations in a journal backend,
replayed by every process into its own Rust cores."""

from __future__ import annotations

import contextlib
import copy
import json
import math
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from ferrotune import _core
from ferrotune.distributions import (
    BaseDistribution,
    distribution_to_json,
    json_to_distribution,
)
from ferrotune.exceptions import (
    DuplicatedStudyError,
    IncompatibleDistributionError,
    InvalidArgumentError,
    InvalidTrialError,
    StudyNotFoundError,
    UpdateFinishedTrialError,
)
from ferrotune.storages._base import (
    _RUNG_PREFIX,
    CONSTRAINT_PREFIX,
    FIXED_PARAMS_KEY,
    BaseStorage,
    check_fixed_params,
    journal_rung_attrs,
    rung_records,
    to_json,
)
from ferrotune.storages.journal._base import BaseJournalBackend
from ferrotune.storages.journal._replay import (
    _FAIL,
    _RUNNING,
    _WAITING,
    CHOICES_PREFIX,
    HEARTBEAT_KEY,
    REST_FIELD,
    JournalOperation,
    JStudy,
    Replay,
    from_time,
)

if TYPE_CHECKING:
    from ferrotune.study._direction import StudyDirection
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial, TrialState

__all__ = ["JournalStorage"]

_T = TypeVar("_T")
_STATE_NAMES = {0: "RUNNING", 1: "COMPLETE", 2: "PRUNED", 3: "FAIL", 4: "WAITING"}
_Op = JournalOperation


class _Heartbeat:
    """Appends a running trial's heartbeat every ``interval`` seconds from a daemon thread."""

    def __init__(self, beat: Callable[[], None], number: int, interval: float) -> None:
        self._beat = beat
        self._number = number
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> _Heartbeat:
        self._beat()
        self._thread = threading.Thread(
            target=self._run, name=f"ferrotune-heartbeat-{self._number}", daemon=True
        )
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            # A lost beat (a passing I/O error) is retried at the next one.
            with contextlib.suppress(Exception):
                self._beat()

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


class JournalStorage(BaseStorage):
    """Studies kept as a journal: a log of operations appended by every process and
    replayed by each into its Rust cores, Optuna's storage for many processes on one
    machine or on a network file system (with
    :class:`~ferrotune.storages.journal.JournalFileBackend`).

    Every change (a study, an attribute, a trial started, a parameter, a report, a
    result) is one JSON record; a process reads only the records added since its last
    read, and feeds the trials they change to each study's core in one call. With a
    backend that has a lock (the file backend), a change that must happen once (a trial
    started from the queue, a trial finished, a study name taken, a shared counter) is
    decided under the lock from the replayed journal, so no record that would be
    refused is ever written: a trial leaves RUNNING exactly once, an enqueued trial is
    started by one worker, trial numbers are unique and gap-free. Without a lock the
    first record in the log wins and the other writers get the error, as in Optuna.

    Parameters wait for the trial's next record (a report, an attribute, a heartbeat,
    its end) and are appended with it, so a trial of ``optimize`` costs two appends
    (start, result); a trial from :meth:`~ferrotune.Study.ask` writes each one at once.
    A study's rung records (successive halving, Hyperband), samplers' tags,
    intermediate vectors of several objectives and heartbeats are kept as
    :class:`~ferrotune.storages.RDBStorage` keeps them, each decision at a rung made
    under the lock. Constraint values are written as Optuna 5 writes them (one trial
    system attribute ``"constraints:<name>"`` each) and read in every form Optuna
    writes (those, and its ``constraints_func``'s list, named ``"0"``, ``"1"``, ...),
    so each library honours the other's constraints.

    The records are Optuna's (its ``JournalOperation`` codes and fields, and its lock
    file), so a journal Optuna wrote loads here and continues, and Optuna reads a
    journal ferrotune wrote. Deviations: the records ferrotune adds are ones Optuna
    skips or keeps as plain attributes (heartbeats: the trial system attribute
    ``ferrotune:heartbeat``; categorical choices fixed by the first worker: study system
    attributes ``ferrotune:choices:<name>``; objectives 1, 2, ... of an intermediate
    vector: the field ``ferrotune:rest``); ferrotune keeps attributes set on a finished
    trial, which Optuna's replay drops. Left out: Optuna's snapshots
    (``BaseJournalSnapshot``, for its Redis backend; a process replays the whole log
    once when it opens the journal) and the Redis backend.

    Args:
        log_storage: The journal backend, for example
            ``JournalFileBackend("./journal.log")``.
        heartbeat_interval: Seconds between heartbeats of a trial run by
            :meth:`~ferrotune.Study.optimize` (one record each); None (default) records
            none. A ferrotune extension (Optuna's journal storage has no heartbeats).
        grace_period: A RUNNING trial whose heartbeat is older than this many seconds is
            marked FAIL by the next worker that starts a trial; defaults to twice the
            heartbeat interval.
        heartbeat_stale_trial_callback: Called as ``callback(study, frozen_trial)`` for
            each trial marked FAIL that way, for example
            :class:`~ferrotune.storages.RetryHeartbeatStaleTrialCallback`.
        failed_trial_callback: Deprecated name of ``heartbeat_stale_trial_callback``
            (as in Optuna 5; a FutureWarning).

    Raises:
        InvalidArgumentError: ``log_storage`` is not a journal backend, or
            ``heartbeat_interval`` or ``grace_period`` is not a number of seconds > 0.

    Example:
        >>> import ferrotune
        >>> from ferrotune.storages import JournalStorage
        >>> from ferrotune.storages.journal import JournalFileBackend
        >>> storage = JournalStorage(JournalFileBackend("./journal.log"))  # doctest: +SKIP
        >>> study = ferrotune.create_study(storage=storage, study_name="run-1")  # doctest: +SKIP
    """

    writes_params = True

    def __init__(
        self,
        log_storage: BaseJournalBackend,
        *,
        heartbeat_interval: float | None = None,
        grace_period: float | None = None,
        heartbeat_stale_trial_callback: Callable[[Study, FrozenTrial], None] | None = None,
        failed_trial_callback: Callable[[Study, FrozenTrial], None] | None = None,
    ) -> None:
        if heartbeat_stale_trial_callback is not None and failed_trial_callback is not None:
            raise InvalidArgumentError(
                "give heartbeat_stale_trial_callback or failed_trial_callback (its "
                "deprecated name), not both"
            )
        if failed_trial_callback is not None:
            warnings.warn(
                "failed_trial_callback is deprecated (as in Optuna 5): use "
                "heartbeat_stale_trial_callback",
                FutureWarning,
                stacklevel=2,
            )
        if not isinstance(log_storage, BaseJournalBackend):
            raise InvalidArgumentError(
                "log_storage must be a journal backend (ferrotune.storages.journal."
                f"JournalFileBackend, or a BaseJournalBackend), got {type(log_storage).__name__}"
            )
        for arg, value in (
            ("heartbeat_interval", heartbeat_interval),
            ("grace_period", grace_period),
        ):
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0 < value < math.inf
            ):
                raise InvalidArgumentError(
                    f"{arg} must be a number of seconds > 0 or None, got {value!r}"
                )
        self._backend = log_storage
        self.heartbeat_interval = heartbeat_interval
        self.grace_period = (
            grace_period
            if grace_period is not None or heartbeat_interval is None
            else 2.0 * heartbeat_interval
        )
        self.heartbeat_stale_trial_callback = (
            heartbeat_stale_trial_callback or failed_trial_callback
        )
        # The attribute the heartbeat check reads (and Optuna's deprecated name of it).
        self.failed_trial_callback = self.heartbeat_stale_trial_callback
        self._prefix = f"{uuid.uuid4()}-"
        self._lock = threading.RLock()
        self._dists: dict[str, tuple[BaseDistribution, _core.Dist]] = {}
        self._replay = Replay(self._prefix, self._dist, self._save_choices)
        # Parameters recorded but not yet appended, by (study id, trial number).
        self._pending: dict[tuple[int, int], list[dict[str, Any]]] = {}
        # Rung records decided here whose append failed (appended with the next ones).
        self._unwritten_rungs: list[Any] = []
        self._helper: JournalStorage | None = None
        self._helper_studies: dict[int, Study] = {}
        with self._lock:
            self._read()

    def __getstate__(self) -> dict[str, Any]:
        # Pickled as its backend and settings; the unpickled storage replays the journal.
        return {
            "backend": self._backend,
            "heartbeat_interval": self.heartbeat_interval,
            "grace_period": self.grace_period,
            "heartbeat_stale_trial_callback": self.heartbeat_stale_trial_callback,
        }

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(  # type: ignore[misc]
            state["backend"],
            heartbeat_interval=state["heartbeat_interval"],
            grace_period=state["grace_period"],
            heartbeat_stale_trial_callback=state["heartbeat_stale_trial_callback"],
        )

    def __repr__(self) -> str:
        return f"JournalStorage({self._backend!r})"

    # ------------------------------------------------------------------ the journal
    def _dist(self, dist_json: str) -> tuple[BaseDistribution, _core.Dist]:
        hit = self._dists.get(dist_json)
        if hit is None:
            dist: BaseDistribution = json_to_distribution(dist_json)
            hit = (dist, dist._core)
            self._dists[dist_json] = hit
        return hit

    def _worker_id(self) -> str:
        return self._prefix + str(threading.get_ident())

    def _log(self, op: JournalOperation, **fields: Any) -> dict[str, Any]:
        return {"op_code": int(op), "worker_id": self._worker_id(), **fields}

    def _read(self) -> None:
        """Replays the records added since the last read (under ``self._lock``)."""
        logs = self._backend.read_logs(self._replay.n_read)
        self._replay.apply(logs, repr(self._backend))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """This storage's thread lock, then the backend's lock if it has one, with the
        journal read up to its end inside both (most of it read before the backend's
        lock, which other processes wait for)."""
        with self._lock:
            self._read()
            locked = getattr(self._backend, "locked", None)
            with locked() if locked is not None else contextlib.nullcontext():
                self._read()
                yield

    def _append(self, logs: list[dict[str, Any]]) -> None:
        """Appends ``logs`` and reads them back (inside :meth:`_locked`)."""
        if logs:
            self._backend.append_logs(logs)
            self._read()

    def sync(self, study_id: int) -> None:
        """Fails stale trials (with heartbeats configured), then reads the records other
        processes added since the last read."""
        if self.heartbeat_interval is not None:
            self.fail_stale_trials(study_id)
        with self._lock:
            self._read()

    def _study(self, study_id: int) -> JStudy:
        """The study, after reading the journal if it is not known yet.

        Raises:
            StudyNotFoundError: No such study (deleted, or never created).
        """
        study = self._replay.studies.get(study_id)
        if study is None:
            with self._lock:
                self._read()
                study = self._replay.studies.get(study_id)
        if study is None:
            raise StudyNotFoundError(f"no study with id {study_id} in {self._backend!r}")
        return study

    def _number_check(self, study: JStudy, number: int) -> None:
        if not 0 <= number < len(study.states):
            with self._lock:
                self._read()
        if not 0 <= number < len(study.states):
            raise KeyError(f"no trial with number {number}")

    # ------------------------------------------------------------------ studies
    def create_new_study(
        self, directions: list[StudyDirection], study_name: str | None = None
    ) -> int:
        name = study_name if study_name is not None else f"no-name-{uuid.uuid4()}"
        with self._locked():
            replay = self._replay
            if name in replay.by_name:
                raise DuplicatedStudyError(f"a study named {name!r} already exists")
            log = self._log(
                _Op.CREATE_STUDY, study_name=name, directions=[int(d) for d in directions]
            )
            self._append([log])
            sid = replay.by_name.get(name)
            # (Without a backend lock, another worker's record of the name may be first.)
            if sid is None or replay.studies[sid].creator != self._worker_id():
                raise DuplicatedStudyError(f"a study named {name!r} already exists")
            return sid

    def delete_study(self, study_id: int) -> None:
        with self._locked():
            self._study(study_id)
            self._append([self._log(_Op.DELETE_STUDY, study_id=study_id)])
        with self._lock:
            self._pending = {k: v for k, v in self._pending.items() if k[0] != study_id}

    def get_study_id_from_name(self, study_name: str) -> int:
        with self._lock:
            self._read()
            sid = self._replay.by_name.get(study_name)
        if sid is None:
            raise KeyError(f"no study named {study_name!r}")
        return sid

    def get_study_name_from_id(self, study_id: int) -> str:
        return self._study(study_id).name

    def get_study_directions(self, study_id: int) -> list[StudyDirection]:
        from ferrotune.study._direction import StudyDirection

        return [StudyDirection(d) for d in self._study(study_id).directions]

    def get_all_study_names(self) -> list[str]:
        with self._lock:
            self._read()
            return [s.name for s in self._replay.studies.values()]

    def get_core(self, study_id: int) -> _core.StudyCore:
        return self._study(study_id).core

    def get_choices(self, study_id: int) -> dict[str, Any]:
        return self._study(study_id).choices

    def _save_choices(self, study_id: int, name: str, dist: Any) -> Any:
        """Records the categorical choices of ``name`` unless the study holds some
        already (another worker's); returns the distribution the study holds.

        Raises:
            IncompatibleDistributionError: The study holds other choices for ``name``.
        """
        dj = distribution_to_json(dist)
        with self._locked():
            study = self._study(study_id)
            held = study.choice_attrs.get(name)
            if held is None and name in study.choices:
                held = distribution_to_json(study.choices[name])  # from a trial's parameter
            if held is None:
                key = CHOICES_PREFIX + name
                self._append(
                    [self._log(_Op.SET_STUDY_SYSTEM_ATTR, study_id=study_id, system_attr={key: dj})]
                )
                held = study.choice_attrs[name]
        if held == dj:
            return dist
        held_dist = self._dist(held)[0]
        if held_dist != dist:
            raise IncompatibleDistributionError(
                f"parameter {name!r}: categorical choices {list(dist.choices)} differ from "
                f"{held_dist!r}, which this study already holds (recorded by another worker)"
            )
        return held_dist

    def _set_study_attr(self, study_id: int, kind: str, key: str, value: Any) -> None:
        to_json(value, f"study {kind} attribute {key!r}")
        op = _Op.SET_STUDY_USER_ATTR if kind == "user" else _Op.SET_STUDY_SYSTEM_ATTR
        with self._locked():
            self._study(study_id)
            self._append([self._log(op, study_id=study_id, **{f"{kind}_attr": {key: value}})])

    def set_study_user_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "user", key, value)

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        self._set_study_attr(study_id, "system", key, value)

    def get_study_user_attrs(self, study_id: int) -> dict[str, Any]:
        self.sync(study_id)
        with self._lock:
            return copy.deepcopy(self._study(study_id).user_attrs)

    def get_study_system_attrs(self, study_id: int) -> dict[str, Any]:
        self.sync(study_id)
        with self._lock:
            return copy.deepcopy(self._study(study_id).system_attrs)

    def next_study_counter(self, study_id: int, key: str, count: int = 1) -> int:
        with self._locked():
            study = self._study(study_id)
            start = int(study.system_attrs.get(key, 0))
            log = self._log(
                _Op.SET_STUDY_SYSTEM_ATTR, study_id=study_id, system_attr={key: start + count}
            )
            self._append([log])
            return start

    # ------------------------------------------------------------------ trials
    def _trial_id(self, study: JStudy, number: int) -> int:
        self._number_check(study, number)
        return study.trial_ids[number]

    def _take_pending(self, study_id: int, number: int) -> list[dict[str, Any]]:
        return self._pending.pop((study_id, number), [])

    def _check_running(self, study: JStudy, number: int) -> None:
        """Raises unless trial ``number`` is RUNNING in the journal as replayed."""
        self._number_check(study, number)
        state = study.states[number]
        if state != _RUNNING:
            error = InvalidTrialError if state == _WAITING else UpdateFinishedTrialError
            raise error(
                f"trial {number} is {_STATE_NAMES.get(state, state)}, not RUNNING: "
                "it cannot be changed"
            )

    def start_trial(self, study_id: int) -> tuple[int, dict[str, Any]]:
        if self.heartbeat_interval is not None:
            self.fail_stale_trials(study_id)
        while True:
            with self._locked():
                study = self._study(study_id)
                now = from_time(time.time())
                if not study.waiting:
                    self._append(
                        [self._log(_Op.CREATE_TRIAL, study_id=study_id, datetime_start=now)]
                    )
                    _, number = self._replay.created.pop(self._worker_id())
                    return number, {}
                number = next(iter(study.waiting))
                log = self._log(
                    _Op.SET_TRIAL_STATE_VALUES,
                    trial_id=study.trial_ids[number],
                    state=_RUNNING,
                    values=None,
                    datetime_start=now,
                )
                self._append([log])
                if self._replay.won.pop((study_id, number, "run"), None) == self._worker_id():
                    fixed = study.trial_system_attrs.get(number, {}).get(FIXED_PARAMS_KEY, {})
                    return number, copy.deepcopy(dict(fixed))
            # Without a backend lock another worker started that trial first: the next.

    def create_new_trial(self, study_id: int, *, started: float | None = None) -> int:
        with self._locked():
            self._study(study_id)
            now = from_time(time.time() if started is None else started)
            self._append([self._log(_Op.CREATE_TRIAL, study_id=study_id, datetime_start=now)])
            return self._replay.created.pop(self._worker_id())[1]

    def enqueue_trial(self, study_id: int, params: dict[str, Any]) -> int:
        check_fixed_params(params)
        # Optuna's record of an enqueued trial (a WAITING trial created whole).
        log = self._log(
            _Op.CREATE_TRIAL,
            study_id=study_id,
            state=_WAITING,
            value=None,
            values=None,
            datetime_start=None,
            distributions={},
            params={},
            user_attrs={},
            system_attrs={FIXED_PARAMS_KEY: dict(params)},
            intermediate_values={},
        )
        with self._locked():
            self._study(study_id)
            self._append([log])
            return self._replay.created.pop(self._worker_id())[1]

    def _buffer_param(
        self, study_id: int, number: int, name: str, dist: Any, internal: float
    ) -> None:
        """Keeps a parameter's record for the trial's next append."""
        with self._lock:
            tid = self._trial_id(self._study(study_id), number)
            log = self._log(
                _Op.SET_TRIAL_PARAM,
                trial_id=tid,
                param_name=name,
                param_value_internal=float(internal),
                distribution=distribution_to_json(dist),
            )
            self._pending.setdefault((study_id, number), []).append(log)

    def flush(self, study_id: int, number: int | None = None) -> None:
        """Appends the parameters recorded but not yet written (of one trial, or all)."""
        with self._locked():
            keys = [k for k in self._pending if k[0] == study_id and number in (None, k[1])]
            logs = [log for k in keys for log in self._pending.pop(k)]
            self._append(logs)

    def _write_trial(
        self,
        study_id: int,
        number: int,
        make: Callable[[JStudy, int], list[dict[str, Any]]],
        running: bool = True,
    ) -> None:
        """Appends the records ``make(study, trial_id)`` after the trial's parameters not
        yet written, in one append; they are kept for the next write when it fails."""
        with self._locked():
            study = self._study(study_id)
            if running:
                self._check_running(study, number)
            tid = self._trial_id(study, number)
            logs = make(study, tid)
            pending = self._take_pending(study_id, number)
            try:
                self._append(pending + logs)
            except BaseException:
                if pending:
                    self._pending[(study_id, number)] = pending + self._pending.get(
                        (study_id, number), []
                    )
                raise

    def record_intermediate(
        self, study_id: int, number: int, step: int, value: float | Sequence[float]
    ) -> None:
        core = self._study(study_id).core
        fields: dict[str, Any] = {"step": step}
        if isinstance(value, (int, float)):
            core.report(number, step, value)
            fields["intermediate_value"] = float(value)
        else:
            vector = [float(x) for x in value]
            core.report_vector(number, step, vector)
            fields["intermediate_value"] = vector[0]
            fields[REST_FIELD] = [None if math.isnan(x) else x for x in vector[1:]]
        self._write_trial(
            study_id,
            number,
            lambda s, tid: [self._log(_Op.SET_TRIAL_INTERMEDIATE_VALUE, trial_id=tid, **fields)],
        )

    def finish_trial(
        self,
        study_id: int,
        number: int,
        state: TrialState,
        values: list[float],
        *,
        completed: float | None = None,
    ) -> None:
        now = from_time(time.time() if completed is None else completed)

        def make(study: JStudy, tid: int) -> list[dict[str, Any]]:
            vals = [float(v) for v in values] if values else None
            return [
                self._log(
                    _Op.SET_TRIAL_STATE_VALUES,
                    trial_id=tid,
                    state=int(state),
                    values=vals,
                    datetime_complete=now,
                )
            ]

        self._write_trial(study_id, number, make)
        if self._replay.won.pop((study_id, number, "finish"), None) != self._worker_id():
            raise UpdateFinishedTrialError(
                f"trial {number} was finished by another worker first (its record came first)"
            )

    # ------------------------------------------------------------------ pruning
    def should_prune(self, study_id: int, number: int) -> bool:
        """The study's Rust pruner's answer for trial ``number``.

        Between two rungs of successive halving the trial's own reports decide, with no
        journal work. A trial reaching a rung is decided under the journal's lock: the
        records added so far are read (the other workers' rung records among them), the
        core decides, and the record (``completed_rung_{k}``) is appended, numbered by
        its place in the journal. Other pruners read the journal, then decide.
        """
        core = self._study(study_id).core
        code = core.prune_check(number)
        if code == 3:  # needs the other workers' finished trials
            self.sync(study_id)
            code = core.prune_check(number)
            if code == 3:
                return bool(core.should_prune(number))
        if code < 2:
            return code == 1
        with self._locked():
            study = self._study(study_id)
            order = self._replay.n_read  # the number the first record below will have
            pruned, made = core.prune(number, order)
            records = [(*r[:4], order) for r in [*self._unwritten_rungs, *made]]
            self._unwritten_rungs = []
            logs = []
            for record in records:
                tid = self._trial_id(study, record[0])
                # One record per attribute: Optuna's replay takes one attribute per record.
                for key, value in journal_rung_attrs(record):
                    logs.append(
                        self._log(_Op.SET_TRIAL_SYSTEM_ATTR, trial_id=tid, system_attr={key: value})
                    )
            try:
                self._append(logs)
            except BaseException:
                self._unwritten_rungs = records
                raise
        return bool(pruned)

    # ------------------------------------------------------------------ trial attrs
    def _set_trial_attr(self, study_id: int, number: int, kind: str, key: str, value: Any) -> None:
        to_json(value, f"trial {kind} attribute {key!r}")
        op = _Op.SET_TRIAL_USER_ATTR if kind == "user" else _Op.SET_TRIAL_SYSTEM_ATTR
        attrs = [(key, value)]
        if kind == "system":
            # A rung record in ferrotune's form (copy_study, add_trial): stored as
            # should_prune stores one, Optuna's form under Optuna's key.
            record = rung_records(number, {key: value})
            if record and key.startswith(_RUNG_PREFIX):
                attrs = journal_rung_attrs(record[0])
        self._write_trial(
            study_id,
            number,
            lambda s, tid: [
                self._log(op, trial_id=tid, **{f"{kind}_attr": {k: v}}) for k, v in attrs
            ],
            running=False,
        )

    def record_constraints(self, study_id: int, number: int, values: dict[str, float]) -> None:
        """Records a trial's constraint values in Optuna 5's form, one system attribute
        ``"constraints:<name>"`` each, one record each, so that Optuna reads them (its
        reader takes a ``"constraints"`` attribute for its old list form); the replay
        gathers them into ferrotune's ``"constraints"`` dict."""
        attrs = {CONSTRAINT_PREFIX + str(k): float(v) for k, v in values.items()}
        to_json(attrs, "constraint values")
        # The core refuses a finished trial before anything is written.
        self.get_core(study_id).set_constraints(number, [values[k] for k in sorted(values)])
        # One record per attribute: Optuna's replay takes one attribute per record.
        self._write_trial(
            study_id,
            number,
            lambda s, tid: [
                self._log(_Op.SET_TRIAL_SYSTEM_ATTR, trial_id=tid, system_attr={k: v})
                for k, v in attrs.items()
            ],
            running=False,
        )

    def set_trial_user_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        self._set_trial_attr(study_id, number, "user", key, value)

    def set_trial_system_attr(self, study_id: int, number: int, key: str, value: Any) -> None:
        self._set_trial_attr(study_id, number, "system", key, value)

    def get_trial_user_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return self.get_trials_attrs(study_id, [number])[0][0]

    def get_trial_system_attrs(self, study_id: int, number: int) -> dict[str, Any]:
        return self.get_trials_attrs(study_id, [number])[1][0]

    def get_trials_attrs(
        self, study_id: int, numbers: Sequence[int]
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        study = self._study(study_id)
        for n in numbers:
            self._number_check(study, n)
        with self._lock:
            out: list[list[dict[str, Any]]] = []
            for store in (study.trial_user_attrs, study.trial_system_attrs):
                if not store:
                    out.append([{} for _ in numbers])
                    continue
                # One JSON round trip deep-copies them all.
                found = json.loads(json.dumps([store.get(n) for n in numbers]))
                out.append([{} if a is None else a for a in found])
        return out[0], out[1]

    # ------------------------------------------------------------------ heartbeats
    def heartbeat(self, study_id: int, number: int) -> Any:
        if self.heartbeat_interval is None:
            return super().heartbeat(study_id, number)
        return _Heartbeat(lambda: self._beat(study_id, number), number, self.heartbeat_interval)

    def _beat(self, study_id: int, number: int) -> None:
        now = time.time()
        with self._lock:
            study = self._study(study_id)
            if number < len(study.states) and study.states[number] != _RUNNING:
                return  # finished (here or elsewhere): no more beats
        self._write_trial(
            study_id,
            number,
            lambda s, tid: [
                self._log(_Op.SET_TRIAL_SYSTEM_ATTR, trial_id=tid, system_attr={HEARTBEAT_KEY: now})
            ],
        )

    def fail_stale_trials(self, study_id: int) -> list[int]:
        """Marks FAIL the RUNNING trials whose heartbeat is older than the grace period,
        calls ``failed_trial_callback`` for each, and returns their numbers.

        Only this call's own transitions are returned: when several workers look at once,
        each stale trial is failed (and retried) by exactly one of them.
        """
        if self.heartbeat_interval is None or self.grace_period is None:
            return []
        grace = self.grace_period
        with self._lock:
            self._read()
            beats = self._study(study_id).heartbeats
            if not any(beat < time.time() - grace for beat in beats.values()):
                return []  # the common case: no lock taken
        with self._locked():
            study = self._study(study_id)
            deadline = time.time() - grace
            stale = [n for n, beat in study.heartbeats.items() if beat < deadline]
            now = from_time(time.time())
            self._append(
                [
                    self._log(
                        _Op.SET_TRIAL_STATE_VALUES,
                        trial_id=study.trial_ids[n],
                        state=_FAIL,
                        values=None,
                        datetime_complete=now,
                    )
                    for n in stale
                ]
            )
            wid = self._worker_id()
            won = self._replay.won
            failed = [n for n in stale if won.pop((study_id, n, "finish"), None) == wid]
        if failed and self.failed_trial_callback is not None:
            study_obj = self._callback_study(study_id)
            for number in failed:
                self.failed_trial_callback(study_obj, study_obj.get_trial(number))
        return failed

    def _callback_study(self, study_id: int) -> Study:
        """A Study for failed-trial callbacks, on a twin storage with cores of its own
        (so that the user's sampler on this storage's core is left alone)."""
        from ferrotune.samplers import RandomSampler
        from ferrotune.study._study import Study

        with self._lock:
            if self._helper is None:
                # No heartbeats: the helper never fails trials itself.
                self._helper = JournalStorage(self._backend)
            study = self._helper_studies.get(study_id)
            if study is None:
                name = self.get_study_name_from_id(study_id)
                study = Study(name, self._helper, sampler=RandomSampler())
                self._helper_studies[study_id] = study
        self._helper.sync(study_id)
        return study

"""Running a study's ``optimize`` over a Dask cluster (``dask.distributed``).

Each Dask worker runs :meth:`~ferrotune.Study.optimize` against the study's shared storage
(PostgreSQL across machines; SQLite or a journal file on one machine or a shared file
system): trials are pulled from the storage, not routed through the Dask scheduler.
Needs ``pip install 'ferrotune[dask]'`` (``dask[distributed]``).
"""

from __future__ import annotations

import numbers
import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages import BaseStorage, InMemoryStorage, get_storage

if TYPE_CHECKING:
    from distributed import Client

    from ferrotune.pruners import BasePruner
    from ferrotune.samplers import BaseSampler
    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["optimize"]

_TICKETS = "ferrotune:dask:{}:tickets"
# Seconds between two looks of a worker that waits for the last trials to end.
_POLL = 0.2


def optimize(
    func: Callable[..., Any],
    n_trials: int | None = None,
    timeout: float | None = None,
    *,
    study_name: str,
    storage: str | BaseStorage,
    client: Client | None = None,
    sampler: BaseSampler | None = None,
    pruner: BasePruner | None = None,
    n_workers: int | None = None,
    catch: Iterable[type[Exception]] | type[Exception] = (),
    callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None = None,
) -> None:
    """Runs ``optimize(func, ...)`` of the study ``study_name`` on every worker of a Dask
    cluster, ``n_trials`` trials in all, each worker pulling trials from ``storage``.

    Each worker loads the study (as :func:`ferrotune.load_study` with ``sampler`` and
    ``pruner``, which travel pickled with their state; each worker reseeds the sampler's
    random numbers, so that workers do not propose the same values). Workers take
    numbered tickets from a counter in the storage, so exactly ``n_trials`` trials are
    started, however many workers there are, plus one for each trial lost with its
    worker.

    **Lost workers.** Give the storage heartbeats (``RDBStorage(url,
    heartbeat_interval=...,
    heartbeat_stale_trial_callback=RetryHeartbeatStaleTrialCallback())``, or the same
    arguments of :class:`~ferrotune.storages.JournalStorage`): a trial whose worker
    died (its heartbeat stopped) is marked FAIL by another worker once it is older than
    the grace period, the callback enqueues its retry with the same parameters, and the
    worker that marked it runs one trial more than its tickets (the retry, or without a
    callback a new trial). Dask itself runs the dead worker's loop again on another
    worker. Workers that have no ticket left wait until the trials started by this call
    have ended, so that a lost trial is noticed.

    Optuna has no such function: its ``DaskStorage`` keeps the study in the Dask
    scheduler, where every storage call is a round trip. With a shared storage,
    ``client.submit(study.optimize, func, n_trials=..., pure=False)`` also works here,
    without the exact count and the retries.

    Args:
        func: The objective; it must pickle (cloudpickle: closures and lambdas do).
        n_trials: Trials to start in all (None: until ``timeout``).
        timeout: Seconds after which no worker starts another trial (None: no limit).
        study_name: The study, which must exist in ``storage``.
        storage: A database URL or a shared storage object (an
            :class:`~ferrotune.storages.RDBStorage` or a
            :class:`~ferrotune.storages.JournalStorage`), pickled to the workers with its
            settings; not an in-memory storage.
        client: The Dask client; default: the current one (``distributed.get_client``).
        sampler: The workers' sampler (default: AutoSampler, as for ``load_study``).
        pruner: The workers' pruner (default: median, as for ``load_study``).
        n_workers: Concurrent ``optimize`` loops; default: one per Dask worker thread.
        catch: Exceptions of ``func`` that fail the trial and go on (as in ``optimize``).
        callbacks: Called on the workers after each trial (they must pickle).

    Raises:
        InvalidArgumentError: An in-memory storage, neither ``n_trials`` nor
            ``timeout``, or a count that is not an int >= 1.
        MissingDependencyError: ``distributed`` is not installed.
        Exception: The first error of a worker (an objective's exception not in
            ``catch``); the other workers are cancelled.
    """
    shared = _check_arguments(storage, n_trials, timeout, n_workers)
    dask_client = _client(client)
    if n_workers is None:
        n_workers = max(1, sum(dask_client.nthreads().values()))
    import ferrotune

    study = ferrotune.load_study(study_name=study_name, storage=shared)
    run = uuid.uuid4().hex
    catch_t = tuple(catch) if isinstance(catch, Iterable) else (catch,)
    task = _Task(
        study_name,
        shared,
        (sampler, pruner),
        func,
        n_trials,
        None if timeout is None else time.time() + timeout,
        run,
        len(study.get_trial_states()),
        (catch_t, list(callbacks or ())),
    )
    futures = [dask_client.submit(task, i, pure=False) for i in range(n_workers)]
    try:
        dask_client.gather(futures)
    except BaseException:
        dask_client.cancel(futures)
        raise


def _check_arguments(
    storage: str | BaseStorage, n_trials: int | None, timeout: float | None, n_workers: int | None
) -> BaseStorage:
    """The shared storage, after the arguments are checked."""
    for name, value in (("n_trials", n_trials), ("n_workers", n_workers)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1
        ):
            raise InvalidArgumentError(f"{name} must be an int >= 1 or None, got {value!r}")
    if n_trials is None and timeout is None:
        raise InvalidArgumentError("give n_trials or timeout (or both)")
    if storage is None or isinstance(storage, InMemoryStorage):
        raise InvalidArgumentError(
            "storage: optimize on Dask needs a shared storage (a database URL, an "
            "RDBStorage or a JournalStorage), not an in-memory one: its workers are other "
            "processes"
        )
    shared = get_storage(storage)
    if getattr(shared, "heartbeat_interval", None) is None:
        warnings.warn(
            "storage has no heartbeat_interval: a trial lost with its Dask worker stays "
            "RUNNING and is never retried (see ferrotune.integration.dask.optimize)",
            UserWarning,
            stacklevel=3,
        )
    return shared


def _client(client: Client | None) -> Any:
    """The Dask client (typed Any: ``distributed`` ships no complete annotations)."""
    try:
        import distributed
    except ImportError as e:
        from ferrotune.exceptions import MissingDependencyError

        raise MissingDependencyError(
            f"ferrotune.integration.dask needs Dask's distributed scheduler ({e}): "
            "pip install 'ferrotune[dask]'"
        ) from e
    return client if client is not None else distributed.get_client()


class _Owed:
    """A storage's ``failed_trial_callback`` that counts the trials this worker marked
    FAIL because their worker was lost (then calls the storage's own callback): this
    worker runs one more trial for each, in place of the lost one."""

    def __init__(self, inner: Callable[[Study, FrozenTrial], None] | None) -> None:
        self.inner = inner
        self.count = 0

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        self.count += 1
        if self.inner is not None:
            self.inner(study, trial)

    def take(self) -> bool:
        """Whether a trial is owed (and counts it as run)."""
        if self.count > 0:
            self.count -= 1
            return True
        return False


class _Task:
    """One worker's loop: take a ticket, run one trial, until none is left (pickled to
    the Dask workers)."""

    def __init__(
        self,
        study_name: str,
        storage: BaseStorage,
        samplers: tuple[BaseSampler | None, BasePruner | None],
        func: Callable[..., Any],
        n_trials: int | None,
        deadline: float | None,
        run: str,
        first: int,
        handlers: tuple[tuple[type[Exception], ...], list[Callable[[Study, FrozenTrial], None]]],
    ) -> None:
        self.study_name = study_name
        self.storage = storage
        self.sampler, self.pruner = samplers
        self.func = func
        self.n_trials = n_trials
        self.deadline = deadline
        self.tickets = _TICKETS.format(run)
        self.first = first  # trials numbered from here on are this call's
        self.catch, self.callbacks = handlers

    def __call__(self, index: int) -> int:
        """Runs trials on this worker; returns how many."""
        import ferrotune

        storage: Any = self.storage
        owed = _Owed(getattr(storage, "failed_trial_callback", None))
        if hasattr(storage, "failed_trial_callback"):
            storage.failed_trial_callback = owed
        study = ferrotune.load_study(
            study_name=self.study_name, storage=storage, sampler=self.sampler, pruner=self.pruner
        )
        study.sampler.reseed_rng()  # workers must not repeat each other's draws
        ran = 0
        while not self._late():
            if (
                not owed.take()
                and self.n_trials is not None
                and study.next_study_counter(self.tickets) >= self.n_trials
            ):
                if self._linger(study, owed):
                    continue  # a lost trial to run again
                break
            study.optimize(self.func, n_trials=1, catch=self.catch, callbacks=self.callbacks)
            ran += 1
        return ran

    def _late(self) -> bool:
        return self.deadline is not None and time.time() >= self.deadline

    def _linger(self, study: Study, owed: _Owed) -> bool:
        """Once the tickets are gone: waits while trials of this call are running, failing
        those whose heartbeat stopped; True when this worker owes a trial for a lost one,
        False when every trial of this call has ended."""
        from ferrotune.trial import TrialState

        fail_stale = getattr(self.storage, "fail_stale_trials", None)
        sid = self.storage.get_study_id_from_name(self.study_name)
        while not self._late():
            if owed.count > 0:
                return True
            if TrialState.RUNNING not in study.get_trial_states(self.first):
                return owed.count > 0
            if fail_stale is not None:
                fail_stale(sid)
            time.sleep(_POLL)
        return False

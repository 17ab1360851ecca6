"""Running a study's ``optimize`` over a Dask cluster (``dask.distributed``).

Each Dask worker runs :meth:`~ferrotune.Study.optimize` against the study's shared storage
(PostgreSQL across machines; SQLite or a journal file on one machine or a shared file
system): trials are pulled from the storage, not routed through the Dask scheduler.
Needs ``pip install 'dask[distributed]'``.
"""

from __future__ import annotations

import time
import uuid
import warnings
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages import InMemoryStorage

if TYPE_CHECKING:
    from distributed import Client

    from ferrotune.study._study import Study
    from ferrotune.trial import FrozenTrial

__all__ = ["optimize"]

_TICKETS = "ferrotune:dask:{}:tickets"
_LOST = "ferrotune:dask:{}:lost"
# Seconds between two looks of a worker that waits for the last trials to end.
_POLL = 0.2


def optimize(
    study: Study,
    func: Callable[..., Any],
    n_trials: int | None = None,
    timeout: float | None = None,
    *,
    client: Client | None = None,
    n_workers: int | None = None,
    catch: Iterable[type[Exception]] | type[Exception] = (),
    callbacks: Iterable[Callable[[Study, FrozenTrial], None]] | None = None,
) -> None:
    """Runs ``study.optimize(func, ...)`` on every worker of a Dask cluster, ``n_trials``
    trials in all, each worker pulling trials from the study's shared storage.

    The study travels to the workers pickled (its storage as its URL or journal file and
    settings, its sampler with its state; each worker reseeds the sampler's random
    numbers, so that workers do not propose the same values). Workers take numbered
    tickets from a counter in the storage, so exactly ``n_trials`` trials are started,
    however many workers there are, plus one for each trial lost with its worker.

    **Lost workers.** Give the storage heartbeats (``RDBStorage(url,
    heartbeat_interval=..., failed_trial_callback=RetryFailedTrialCallback())``, or the
    same arguments of :class:`~ferrotune.storages.JournalStorage`): a trial whose worker
    died (its heartbeat stopped) is marked FAIL by another worker once it is older than
    the grace period, the callback enqueues its retry with the same parameters, and the
    lost trial's ticket is given back, so the retry runs within the ``n_trials``. Dask
    itself runs the dead worker's task again on another worker. Workers that have no
    ticket left wait until the trials started by this call have ended (or failed by
    heartbeat), so that a lost trial is still retried.

    Optuna has no such function (its ``DaskStorage`` keeps the study in the Dask
    scheduler, where every storage call is a round trip through it); ``client.submit(
    study.optimize, func, n_trials=..., pure=False)`` also works with a shared storage,
    without the exact count and the retries.

    Args:
        study: A study on a storage that the workers can reach (not in memory).
        func: The objective; it must pickle (cloudpickle: closures and lambdas do).
        n_trials: Trials to start in all (None: until ``timeout``).
        timeout: Seconds after which no worker starts another trial (None: no limit).
        client: The Dask client; default: the current one (``distributed.get_client``).
        n_workers: Concurrent ``optimize`` loops; default: one per Dask worker thread.
        catch: Exceptions of ``func`` that fail the trial and go on (as in ``optimize``).
        callbacks: Called on the workers after each trial (they must pickle).

    Raises:
        InvalidArgumentError: An in-memory study, neither ``n_trials`` nor ``timeout``,
            or a count that is not an int >= 1.
        MissingDependencyError: ``distributed`` is not installed.
        Exception: The first error of a worker (an objective's exception not in
            ``catch``); the other workers are cancelled.
    """
    if isinstance(study._storage, InMemoryStorage):
        raise InvalidArgumentError(
            "optimize on Dask needs a study on a shared storage (an RDBStorage URL or a "
            "JournalStorage), not an in-memory one: its workers run in other processes"
        )
    for name, value in (("n_trials", n_trials), ("n_workers", n_workers)):
        if value is not None and (
            isinstance(value, bool) or not isinstance(value, int) or value < 1
        ):
            raise InvalidArgumentError(f"{name} must be an int >= 1 or None, got {value!r}")
    if n_trials is None and timeout is None:
        raise InvalidArgumentError("give n_trials or timeout (or both)")
    if getattr(study._storage, "heartbeat_interval", None) is None:
        warnings.warn(
            "the study's storage has no heartbeat_interval: a trial lost with its Dask worker "
            "stays RUNNING and is never retried (see ferrotune.integration.dask.optimize)",
            UserWarning,
            stacklevel=2,
        )
    dask_client = _client(client)
    if n_workers is None:
        n_workers = max(1, sum(dask_client.nthreads().values()))
    run = uuid.uuid4().hex
    deadline = None if timeout is None else time.time() + timeout
    first = len(study.get_trials(deepcopy=False))
    catch_t = tuple(catch) if isinstance(catch, Iterable) else (catch,)
    task = _Task(study, func, n_trials, deadline, run, first, catch_t, list(callbacks or ()))
    futures = [dask_client.submit(task, i, pure=False) for i in range(n_workers)]
    try:
        dask_client.gather(futures)
    except BaseException:
        dask_client.cancel(futures)
        raise
    study._storage.sync(study._study_id)


def _client(client: Client | None) -> Any:
    """The Dask client (typed Any: ``distributed`` ships no complete annotations)."""
    try:
        import distributed
    except ImportError as e:
        from ferrotune.exceptions import MissingDependencyError

        raise MissingDependencyError(
            f"ferrotune.integration.dask needs Dask's distributed scheduler ({e}): "
            "pip install 'dask[distributed]'"
        ) from e
    return client if client is not None else distributed.get_client()


class _CountLost:
    """A storage's ``failed_trial_callback`` that first gives back the ticket of the
    trial lost with its worker (then calls the storage's own callback)."""

    def __init__(self, inner: Callable[[Study, FrozenTrial], None] | None, key: str) -> None:
        self.inner = inner
        self.key = key

    def __call__(self, study: Study, trial: FrozenTrial) -> None:
        study.next_study_counter(self.key)
        if self.inner is not None:
            self.inner(study, trial)


class _Task:
    """One worker's loop: take a ticket, run one trial, until none is left (pickled to
    the Dask workers with the study)."""

    def __init__(
        self,
        study: Study,
        func: Callable[..., Any],
        n_trials: int | None,
        deadline: float | None,
        run: str,
        first: int,
        catch: tuple[type[Exception], ...],
        callbacks: list[Callable[[Study, FrozenTrial], None]],
    ) -> None:
        self.study = study
        self.func = func
        self.n_trials = n_trials
        self.deadline = deadline
        self.tickets = _TICKETS.format(run)
        self.lost = _LOST.format(run)
        self.first = first
        self.catch = catch
        self.callbacks = callbacks

    def __call__(self, index: int) -> int:
        """Runs trials on this worker; returns how many."""
        study = self.study
        study.sampler.reseed_rng()  # workers must not repeat each other's draws
        storage: Any = study._storage
        if not isinstance(storage.failed_trial_callback, _CountLost):
            storage.failed_trial_callback = _CountLost(storage.failed_trial_callback, self.lost)
        ran = 0
        while not self._late():
            if self.n_trials is not None:
                ticket = study.next_study_counter(self.tickets)
                if not self._wait_for(ticket):
                    break
            study.optimize(self.func, n_trials=1, catch=self.catch, callbacks=self.callbacks)
            ran += 1
        return ran

    def _late(self) -> bool:
        return self.deadline is not None and time.time() >= self.deadline

    def _limit(self) -> int:
        assert self.n_trials is not None, "only a count has a limit"
        return self.n_trials + int(self.study.system_attrs.get(self.lost, 0))

    def _wait_for(self, ticket: int) -> bool:
        """Whether ``ticket`` may start a trial: at once if it is below the limit; else
        once a trial of this call is lost (its ticket given back), or False when every
        trial of this call has ended."""
        from ferrotune.trial import TrialState

        assert self.n_trials is not None, "only a count has tickets"
        if ticket < self.n_trials:
            return True  # no look at the lost trials' count needed
        study = self.study
        fail_stale = getattr(study._storage, "fail_stale_trials", None)
        while ticket >= self._limit():
            if self._late():
                return False
            running = [
                t
                for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                if t.number >= self.first
            ]
            if not running:
                return ticket < self._limit()
            if fail_stale is not None:
                fail_stale(study._study_id)
            time.sleep(_POLL)
        return True

"""The interface of a journal's log: where :class:`JournalStorage` keeps its records."""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import Any

__all__ = ["BaseJournalBackend"]


class BaseJournalBackend(abc.ABC):
    """Where a :class:`~ferrotune.storages.JournalStorage` keeps its log of operations.

    A backend holds a sequence of JSON records, numbered from 0 in the order they were
    appended, and must be safe for several processes at once: records appended by one
    :meth:`append_logs` call stay together and every reader sees the same order.

    A backend may also offer ``locked()``, a context manager that holds the backend's
    lock (re-entrant in the thread that holds it; :meth:`append_logs` inside it does
    not take it again), as :class:`~ferrotune.storages.journal.JournalFileBackend`
    does: the storage then reads the latest records, checks and appends under one lock,
    so that no record that would be refused is ever written. Without it, the storage
    appends first and learns from the log which record came first (as Optuna's
    journal storage always does).
    """

    @abc.abstractmethod
    def read_logs(self, log_number_from: int) -> Iterable[dict[str, Any]]:
        """The records numbered ``log_number_from`` and later, in order (0: all)."""

    @abc.abstractmethod
    def append_logs(self, logs: list[dict[str, Any]]) -> None:
        """Appends ``logs`` (JSON-serialisable dicts) at the end, together."""

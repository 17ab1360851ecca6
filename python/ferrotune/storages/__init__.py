"""Storages: where studies and their trials live."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages._base import BaseStorage
from ferrotune.storages._callbacks import (
    RetryFailedTrialCallback,
    RetryHeartbeatStaleTrialCallback,
)
from ferrotune.storages._in_memory import InMemoryStorage
from ferrotune.storages.journal._deprecated import (
    BaseJournalLogStorage,
    JournalFileStorage,
)
from ferrotune.storages.journal._deprecated import (
    JournalFileOpenLockAlias as JournalFileOpenLock,
)
from ferrotune.storages.journal._deprecated import (
    JournalFileSymlinkLockAlias as JournalFileSymlinkLock,
)
from ferrotune.storages.journal._storage import JournalStorage

if TYPE_CHECKING:
    from ferrotune.storages._rdb import RDBStorage
    from ferrotune.study._study import Study

__all__ = [
    "BaseStorage",
    "BaseJournalLogStorage",
    "InMemoryStorage",
    "JournalFileOpenLock",
    "JournalFileStorage",
    "JournalFileSymlinkLock",
    "JournalStorage",
    "RDBStorage",
    "RetryFailedTrialCallback",
    "RetryHeartbeatStaleTrialCallback",
    "fail_stale_trials",
    "get_storage",
]


def __getattr__(name: str) -> Any:
    # RDBStorage needs SQLAlchemy (an optional extra): imported when first used.
    if name == "RDBStorage":
        try:
            from ferrotune.storages._rdb import RDBStorage
        except ImportError as e:
            raise _missing_sqlalchemy(e, "sqlite", "postgres") from e
        return RDBStorage
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _missing_sqlalchemy(e: ImportError, *extras: str) -> ImportError:
    """The error of a database storage without SQLAlchemy, naming the extras."""
    from ferrotune.exceptions import MissingDependencyError

    hint = " or ".join(f"pip install 'ferrotune[{x}]'" for x in extras)
    return MissingDependencyError(f"database storages need SQLAlchemy 2 ({e}): {hint}")


def get_storage(storage: str | BaseStorage | None) -> BaseStorage:
    """The storage for ``create_study(storage=...)``: a new in-memory one for None, an
    :class:`RDBStorage` for a database URL (``sqlite:///...``, ``postgresql+psycopg://...``).
    """
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, str):
        if not storage.startswith(("sqlite:", "sqlite+", "postgresql", "postgres:")):
            raise InvalidArgumentError(
                f"storage URL {storage!r}: use sqlite:///path/study.db or "
                "postgresql+psycopg://user:password@host/db"
            )
        try:
            from ferrotune.storages._rdb import RDBStorage
        except ImportError as e:
            extra = "sqlite" if storage.startswith("sqlite") else "postgres"
            raise _missing_sqlalchemy(e, extra) from e
        return RDBStorage(storage)
    raise InvalidArgumentError(
        f"storage must be None, a URL or a BaseStorage, got {type(storage).__name__}"
    )


def fail_stale_trials(study: Study) -> None:
    """Marks FAIL the study's RUNNING trials whose heartbeat is older than the storage's
    grace period, and calls the storage's ``heartbeat_stale_trial_callback`` for each
    (Optuna's function). A worker's ``ask`` already does this on a storage with
    heartbeats; a storage without heartbeats has nothing to fail.
    """
    from ferrotune.study._study import fail_stale_trials_of

    fail_stale_trials_of(study)

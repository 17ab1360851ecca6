"""Optuna's names from before its ``storages.journal`` package (deprecated in Optuna 4.0,
to be removed in 6.0), kept so that code using them moves over."""

from __future__ import annotations

import warnings
from typing import Any

from ferrotune.storages.journal._base import BaseJournalBackend
from ferrotune.storages.journal._file import (
    BaseJournalFileLock,
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
)

__all__ = [
    "BaseJournalLogStorage",
    "JournalFileOpenLockAlias",
    "JournalFileStorage",
    "JournalFileSymlinkLockAlias",
]


def _warn(old: str, new: str) -> None:
    warnings.warn(
        f"{old} is deprecated (as in Optuna since 4.0; removed in its 6.0): use {new}",
        FutureWarning,
        stacklevel=3,
    )


class BaseJournalLogStorage(BaseJournalBackend):
    """Deprecated name of :class:`~ferrotune.storages.journal.BaseJournalBackend`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _warn("BaseJournalLogStorage", "ferrotune.storages.journal.BaseJournalBackend")
        super().__init__(*args, **kwargs)


class JournalFileStorage(JournalFileBackend):
    """Deprecated name of :class:`~ferrotune.storages.journal.JournalFileBackend`."""

    def __init__(self, file_path: str, lock_obj: BaseJournalFileLock | None = None) -> None:
        _warn("JournalFileStorage", "ferrotune.storages.journal.JournalFileBackend")
        super().__init__(file_path, lock_obj)


class JournalFileSymlinkLockAlias(JournalFileSymlinkLock):
    """``ferrotune.storages.JournalFileSymlinkLock``: deprecated import path of
    :class:`~ferrotune.storages.journal.JournalFileSymlinkLock`."""

    def __init__(self, filepath: str, grace_period: float | None = 30) -> None:
        _warn(
            "The import path ferrotune.storages.JournalFileSymlinkLock",
            "ferrotune.storages.journal.JournalFileSymlinkLock",
        )
        super().__init__(filepath, grace_period)


class JournalFileOpenLockAlias(JournalFileOpenLock):
    """``ferrotune.storages.JournalFileOpenLock``: deprecated import path of
    :class:`~ferrotune.storages.journal.JournalFileOpenLock`."""

    def __init__(self, filepath: str, grace_period: float | None = 30) -> None:
        _warn(
            "The import path ferrotune.storages.JournalFileOpenLock",
            "ferrotune.storages.journal.JournalFileOpenLock",
        )
        super().__init__(filepath, grace_period)


JournalFileSymlinkLockAlias.__name__ = JournalFileSymlinkLockAlias.__qualname__ = (
    "JournalFileSymlinkLock"
)
JournalFileOpenLockAlias.__name__ = JournalFileOpenLockAlias.__qualname__ = "JournalFileOpenLock"

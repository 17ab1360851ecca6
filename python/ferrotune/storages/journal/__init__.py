"""Journal storages: studies kept as a log of operations (Optuna's
``optuna.storages.journal``)."""

from ferrotune.storages.journal._base import BaseJournalBackend
from ferrotune.storages.journal._file import (
    JournalFileBackend,
    JournalFileOpenLock,
    JournalFileSymlinkLock,
)
from ferrotune.storages.journal._storage import JournalStorage

__all__ = [
    "BaseJournalBackend",
    "JournalFileBackend",
    "JournalFileOpenLock",
    "JournalFileSymlinkLock",
    "JournalStorage",
]

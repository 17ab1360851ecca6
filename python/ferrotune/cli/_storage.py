"""The storage a command names with ``--storage`` (and ``--storage-class``)."""

from __future__ import annotations

import os
from typing import Any

from ferrotune.exceptions import CLIUsageError
from ferrotune.storages import BaseStorage

STORAGE_ENV = "FERROTUNE_STORAGE"
STORAGE_CLASSES = ("RDBStorage", "JournalFileBackend")
STORAGE_HELP = (
    "database URL (sqlite:///example.db, postgresql+psycopg://user:pw@host/db) or a journal "
    f"file's path; default: the {STORAGE_ENV} environment variable"
)


def storage_url(url: str | None) -> str:
    """``url``, else the environment's, else a usage error."""
    url = url or os.environ.get(STORAGE_ENV)
    if not url:
        raise CLIUsageError(f"no storage: give --storage URL (or set {STORAGE_ENV})")
    return url


def _sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:///path`` URL (None for other URLs and in-memory SQLite)."""
    if not url.startswith("sqlite:///"):
        return None
    path = url[len("sqlite:///") :].split("?", 1)[0]
    return path if path and path != ":memory:" else None


def open_storage(
    url: str | None, storage_class: str | None = None, *, create: bool = False, **kwargs: Any
) -> BaseStorage:
    """The storage at ``url``: a journal file for a path (or ``--storage-class
    JournalFileBackend``), a database otherwise. Unless ``create``, a SQLite or journal file
    that does not exist is an error rather than a new empty store (a mistyped path would
    otherwise show no studies)."""
    url = storage_url(url)
    if storage_class not in (None, *STORAGE_CLASSES):
        raise CLIUsageError(
            f"--storage-class {storage_class!r}: use one of {', '.join(STORAGE_CLASSES)}"
        )
    journal = storage_class == "JournalFileBackend" or (storage_class is None and "://" not in url)
    path = url if journal else _sqlite_path(url)
    if path is not None and not create and not os.path.exists(path):
        raise CLIUsageError(f"--storage {url!r}: no such file {path!r}")
    if journal:
        from ferrotune.storages import JournalStorage
        from ferrotune.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url), **kwargs)
    if not url.startswith(("sqlite:", "postgresql", "postgres:")):
        raise CLIUsageError(
            f"--storage {url!r}: use sqlite:///path/study.db, "
            "postgresql+psycopg://user:password@host/db or a journal file's path"
        )
    from ferrotune.storages import RDBStorage

    storage: BaseStorage = RDBStorage(url, **kwargs)
    return storage


def close_storage(storage: BaseStorage) -> None:
    """Releases a database storage's connections (a no-op for other storages)."""
    dispose = getattr(storage, "dispose", None)
    if callable(dispose):
        dispose()

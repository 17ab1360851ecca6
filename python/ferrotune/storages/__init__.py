"""Storages: where studies and their trials live."""

from __future__ import annotations

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.storages._base import BaseStorage
from ferrotune.storages._in_memory import InMemoryStorage

__all__ = ["BaseStorage", "InMemoryStorage", "get_storage"]


def get_storage(storage: str | BaseStorage | None) -> BaseStorage:
    """The storage for ``create_study(storage=...)``: a new in-memory one for None."""
    if storage is None:
        return InMemoryStorage()
    if isinstance(storage, BaseStorage):
        return storage
    if isinstance(storage, str):
        raise InvalidArgumentError(
            f"storage URL {storage!r}: database storages (SQLite, PostgreSQL) are not "
            "available in this version; pass None for an in-memory study"
        )
    raise InvalidArgumentError(
        f"storage must be None, a URL or a BaseStorage, got {type(storage).__name__}"
    )

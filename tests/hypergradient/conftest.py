"""Storages for the gradient tests: every call returns a new storage object on one backend
(as another worker would have). PostgreSQL runs with ``FERROTUNE_TEST_POSTGRES_URL``; its
studies get unique names and are deleted afterwards, so the server is never reset."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ferrotune.storages import BaseStorage, InMemoryStorage

StorageFactory = Callable[[], BaseStorage]


@pytest.fixture(params=["memory", "sqlite", "journal", "postgres"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageFactory]:
    if request.param == "memory":
        shared = InMemoryStorage()
        yield lambda: shared
        return
    if request.param == "journal":
        from ferrotune.storages import JournalStorage
        from ferrotune.storages.journal import JournalFileBackend

        path = str(tmp_path / "journal.log")
        yield lambda: JournalStorage(JournalFileBackend(path))
        return
    from ferrotune.storages import RDBStorage

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        url = os.environ.get("FERROTUNE_TEST_POSTGRES_URL", "")
        if not url:
            pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
    made: list[RDBStorage] = []

    def database() -> BaseStorage:
        made.append(RDBStorage(url))
        return made[-1]

    yield database
    for st in made:
        st.dispose()


@pytest.fixture
def study_name() -> str:
    """A study name no other test (or helper sharing the server) uses."""
    return f"hypergradient-{uuid.uuid4().hex}"

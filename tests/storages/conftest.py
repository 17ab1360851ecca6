"""Storage fixtures: one suite over in-memory, SQLite, PostgreSQL and journal storages.

The PostgreSQL parameters run when ``FERROTUNE_TEST_POSTGRES_URL`` names a server (as
``scripts/test.sh`` arranges with ``scripts/postgres.sh``) and are skipped otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ferrotune.storages import BaseStorage, InMemoryStorage

POSTGRES_URL = os.environ.get("FERROTUNE_TEST_POSTGRES_URL")

StorageFactory = Callable[..., BaseStorage]


def reset_postgres(url: str) -> None:
    """Drops ferrotune's tables, so that each test starts from an empty database."""
    import sqlalchemy as sa

    from ferrotune.storages._rdb import _schema

    engine = sa.create_engine(url)
    with engine.begin() as conn:
        _schema.metadata.drop_all(conn)
    engine.dispose()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
    reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'study.db'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'study.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
    reset_postgres(POSTGRES_URL)
    yield POSTGRES_URL


@pytest.fixture(params=["memory", "sqlite", "postgres", "journal"])
def make_storage(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[StorageFactory]:
    """A factory of storages on one shared backend: every call on a database or journal
    backend returns a new storage object (as another process would have) on the same
    database or journal file."""
    made: list[BaseStorage] = []
    if request.param == "memory":
        shared = InMemoryStorage()

        def memory(**_: object) -> BaseStorage:
            return shared

        yield memory
        return
    if request.param == "journal":
        from ferrotune.storages import JournalStorage
        from ferrotune.storages.journal import JournalFileBackend

        path = str(tmp_path / "journal.log")

        def journal(**kwargs: object) -> BaseStorage:
            return JournalStorage(JournalFileBackend(path), **kwargs)  # type: ignore[arg-type]

        yield journal
        return
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'study.db'}"
    else:
        if not POSTGRES_URL:
            pytest.skip("FERROTUNE_TEST_POSTGRES_URL is not set")
        reset_postgres(POSTGRES_URL)
        url = POSTGRES_URL
    from ferrotune.storages import RDBStorage

    def database(**kwargs: object) -> BaseStorage:
        st = RDBStorage(url, **kwargs)  # type: ignore[arg-type]
        made.append(st)
        return st

    yield database
    for st in made:
        st.dispose()  # type: ignore[attr-defined]

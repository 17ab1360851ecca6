"""Fixtures of the plot tests. PNGs go to ``$FERROTUNE_ARTIFACTS`` (default: a pytest
temporary directory) for a person to look at."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import ferrotune
from tests.visualization._studies import make_constrained, make_multi, make_single


@pytest.fixture(scope="session")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    where = os.environ.get("FERROTUNE_ARTIFACTS")
    path = Path(where) if where else tmp_path_factory.mktemp("plots")
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def single() -> ferrotune.Study:
    return make_single()


@pytest.fixture(scope="module")
def constrained() -> ferrotune.Study:
    return make_constrained()


@pytest.fixture(scope="module")
def multi() -> ferrotune.Study:
    return make_multi()


@pytest.fixture(scope="module")
def multi3() -> ferrotune.Study:
    return make_multi(3)


@pytest.fixture
def empty() -> ferrotune.Study:
    return ferrotune.create_study()


@pytest.fixture
def warnings_logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """caplog that sees ferrotune's logger (which does not propagate by default)."""
    log = logging.getLogger("ferrotune")
    before = log.propagate
    log.propagate = True
    with caplog.at_level(logging.WARNING, logger="ferrotune"):
        yield caplog
    log.propagate = before

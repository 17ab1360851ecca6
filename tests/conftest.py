"""Test configuration: hypothesis profiles, and the check that a run of scripts/test.sh
tests the installed wheel.

Select one with the environment variable ``HYPOTHESIS_PROFILE`` (default ``ci``):

- ``ci``: the default, sized so the whole suite runs in a few minutes on two cores, with
  the same examples on every run;
- ``dev``: a quick pass while editing;
- ``thorough``: many more examples, for a nightly or pre-release run.
"""

from __future__ import annotations

import importlib
import os
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

_COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
}

# CI runs the same examples every time (derandomize): a run on a clean clone must not pass
# or fail by luck. The other profiles explore new examples on every run.
settings.register_profile("ci", max_examples=100, derandomize=True, **_COMMON)
settings.register_profile("dev", max_examples=15, **_COMMON)
settings.register_profile("thorough", max_examples=600, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# ------------------------------------------------------------------ installed wheel
# scripts/test.sh installs the release wheel into a fresh virtualenv and sets
# FERROTUNE_TEST_WHEEL=1: the run must then test that installation, never the source tree
# in python/ (put on sys.path by PYTHONPATH, a ``pythonpath`` setting or the .pth file of a
# ``maturin develop``), nor an extension left there by an earlier build.
def _installed_wheel_problem() -> str | None:
    """Why the imported ferrotune is not the installed one, or None when it is."""
    site = {Path(sysconfig.get_paths()[k]).resolve() for k in ("purelib", "platlib")}
    for name in ("ferrotune", "ferrotune._core"):
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            return f"cannot import {name}: {exc}"
        file = getattr(module, "__file__", None)
        where = Path(file).resolve() if file else None
        if where is None or not any(where.is_relative_to(s) for s in site):
            return (
                f"{name} was imported from {where}, not from the installed wheel in "
                f"{' or '.join(map(str, sorted(site)))}"
            )
    return None


def pytest_collection_finish(session: pytest.Session) -> None:
    """With FERROTUNE_TEST_WHEEL=1, stop before any test runs unless
    ferrotune and its extension are the ones installed in site-packages."""
    if os.environ.get("FERROTUNE_TEST_WHEEL") != "1":
        return
    problem = _installed_wheel_problem()
    if problem is not None:
        pytest.exit(
            f"FERROTUNE_TEST_WHEEL=1, but {problem}", returncode=pytest.ExitCode.USAGE_ERROR
        )


@pytest.fixture(autouse=True)
def _keep_ferrotune_verbosity() -> Iterator[None]:
    """Restore the "ferrotune" logger's level after each test: a bench or command run
    in-process may quiet it, and later tests check the default."""
    import ferrotune.logging

    level = ferrotune.logging.get_verbosity()
    yield
    ferrotune.logging.set_verbosity(level)

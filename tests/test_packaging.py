"""What a user installs is what the tests test.

scripts/test.sh builds the release wheel, installs it into a fresh virtualenv and runs
this suite against it; these tests pin the pieces of that chain that could silently
weaken: the licence in the installed metadata, the guard in tests/conftest.py that stops
a run importing the source tree, and the failure of a run that collects no tests.
"""

from __future__ import annotations

import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _pytest_env(**extra: str) -> dict[str, str]:
    """This interpreter's environment, its ``python`` first on PATH."""
    env = dict(os.environ, **extra)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def test_license_file_is_mit_and_in_the_installed_metadata() -> None:
    """The MIT LICENSE that pyproject declares exists and is installed."""
    text = (REPO / "LICENSE").read_text()
    assert text.startswith("MIT License")
    assert "Copyright (c) 2026 the ferrotune developers" in text
    dist = importlib.metadata.distribution("ferrotune")
    assert dist.metadata["License-Expression"] == "MIT"
    assert dist.metadata.get_all("License-File") == ["LICENSE"]
    assert dist.read_text("licenses/LICENSE") == text


def test_wheel_guard_stops_a_run_that_imports_another_ferrotune(tmp_path: Path) -> None:
    """With FERROTUNE_TEST_WHEEL=1 a run whose ferrotune does not come
    from site-packages (here a package earlier on sys.path, as python/ would be) stops
    before any test runs, naming where ferrotune came from."""
    shadow = tmp_path / "ferrotune"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("")
    (shadow / "_core.py").write_text("")
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "tests/test_packaging.py"],
        cwd=REPO,
        env=_pytest_env(FERROTUNE_TEST_WHEEL="1", PYTHONPATH=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 4, out.stdout + out.stderr
    where = (shadow / "__init__.py").resolve()
    assert f"ferrotune was imported from {where}" in out.stdout + out.stderr
    assert "passed" not in out.stdout


def _pytest_script(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(REPO / "scripts" / "pytest.sh"), *args],
        cwd=REPO,
        env=_pytest_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_pytest_script_fails_when_no_test_is_collected() -> None:
    """``scripts/pytest.sh`` (the test script's pytest step) exits non-zero
    with a clear message when nothing is collected, and zero when a test passes."""
    empty = _pytest_script("tests/test_packaging.py", "-k", "no_test_is_named_like_this")
    assert empty.returncode == 5, empty.stdout + empty.stderr
    assert "pytest collected no tests" in empty.stderr
    one = _pytest_script("tests/test_packaging.py", "-k", "test_license_file")
    assert one.returncode == 0, one.stdout + one.stderr
    assert "1 passed" in one.stdout

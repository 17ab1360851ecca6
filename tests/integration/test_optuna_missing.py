"""ferrotune.integration.optuna without Optuna installed: a clear MissingDependencyError
naming the extra (it was a bare ModuleNotFoundError), still an ImportError."""

from __future__ import annotations

import subprocess
import sys

_SCRIPT = """
import importlib.abc, sys

class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name == "optuna" or name.startswith("optuna."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)

sys.meta_path.insert(0, Block())
import ferrotune  # never needs Optuna
from ferrotune.exceptions import MissingDependencyError
try:
    import ferrotune.integration.optuna
except MissingDependencyError as e:
    assert isinstance(e, ImportError)
    print("missing:", e)
"""


def test_integration_optuna_names_the_extra_when_optuna_is_missing() -> None:
    out = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, timeout=120, check=True
    )
    assert "missing:" in out.stdout and "ferrotune[optuna]" in out.stdout, out.stderr

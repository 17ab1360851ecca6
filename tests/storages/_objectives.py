"""Objectives run by worker processes in the storage tests (`ferrotune worker`)."""

from __future__ import annotations

import os
import time
from pathlib import Path

import ferrotune


def quadratic(trial: ferrotune.Trial) -> float:
    x = trial.suggest_float("x", -10.0, 10.0)
    k = trial.suggest_int("k", 0, 4)
    return (x - 2.0) ** 2 + k


def hang_first(trial: ferrotune.Trial) -> float:
    """Records the trial's number and parameters, then waits to be killed
    (when FERROTUNE_TEST_HANG names a file, which it creates)."""
    x = trial.suggest_float("x", -10.0, 10.0)
    flag = os.environ.get("FERROTUNE_TEST_HANG")
    if flag and not Path(flag).exists():
        Path(flag).write_text(f"{trial.number} {x!r}")
        time.sleep(600)
    return x * x

"""Optuna's plots drawn with matplotlib (``pip install "ferrotune[plot]"``)."""

from __future__ import annotations

from ferrotune.visualization import _imports

__all__ = ["is_available"]


def is_available() -> bool:
    """Whether matplotlib is installed (so that these plots can be drawn)."""
    return _imports.is_available("matplotlib.pyplot")

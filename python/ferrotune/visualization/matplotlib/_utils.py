"""Helpers shared by the matplotlib plots."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ferrotune.visualization import _imports


@contextlib.contextmanager
def ggplot() -> Iterator[Any]:
    """``matplotlib.pyplot`` inside Optuna's ggplot style (scoped, not set globally as
    Optuna's ``plt.style.use`` does)."""
    plt = _imports.plt()
    with plt.style.context("ggplot"):
        yield plt


def category_positions(labels: list[str], values: Any) -> Any:
    """The position of each string in ``labels`` (its tick)."""
    import numpy as np

    lookup = {label: i for i, label in enumerate(labels)}
    return np.array([lookup[v] for v in values], dtype=np.float64)

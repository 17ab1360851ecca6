"""Lazy imports of the optional plotting libraries (plotly, matplotlib).

``import ferrotune`` and ``import ferrotune.visualization`` never import either; a plot
function imports its library on call and raises :class:`MissingDependencyError` naming the
extra to install when it is missing.
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from ferrotune.exceptions import MissingDependencyError

_HINT = 'pip install "ferrotune[plot]"'


@cache
def _module(name: str) -> Any:
    return importlib.import_module(name)


def _load(name: str, library: str) -> Any:
    try:
        return _module(name)
    except ImportError as e:
        raise MissingDependencyError(
            f"this plot needs {library}, which is not installed: {_HINT}"
        ) from e


def go() -> Any:
    """``plotly.graph_objects``."""
    return _load("plotly.graph_objects", "plotly")


def subplots() -> Any:
    """``plotly.subplots.make_subplots``."""
    return _load("plotly.subplots", "plotly").make_subplots


def plotly_colors() -> Any:
    """``plotly.colors``."""
    return _load("plotly.colors", "plotly")


def plt() -> Any:
    """``matplotlib.pyplot``."""
    return _load("matplotlib.pyplot", "matplotlib")


def mpl_module(name: str) -> Any:
    """A submodule of matplotlib, e.g. ``"matplotlib.collections"``."""
    return _load(name, "matplotlib")


def is_available(library: str) -> bool:
    """Whether ``library`` imports."""
    try:
        _module(library)
    except ImportError:
        return False
    return True

"""Optuna's plots of a study, drawn with plotly (``ferrotune.visualization``) or
matplotlib (:mod:`ferrotune.visualization.matplotlib`).

The functions have Optuna 5's names, arguments and defaults. Both libraries are optional:
``pip install "ferrotune[plot]"``. Neither is imported until a plot is drawn; a plot
without its library raises :class:`~ferrotune.exceptions.MissingDependencyError`.

Each plot reads the study once into numpy arrays, so studies of 10,000 trials render in
about a second (see ``benches/plot_speed.py``).

Example:
    >>> from ferrotune.visualization import plot_optimization_history  # doctest: +SKIP
    >>> plot_optimization_history(study).show()  # doctest: +SKIP
"""

from __future__ import annotations

from ferrotune.visualization import _imports, matplotlib
from ferrotune.visualization._contour import plot_contour
from ferrotune.visualization._edf import plot_edf
from ferrotune.visualization._hypervolume_history import plot_hypervolume_history
from ferrotune.visualization._intermediate_values import plot_intermediate_values
from ferrotune.visualization._optimization_history import plot_optimization_history
from ferrotune.visualization._parallel_coordinate import plot_parallel_coordinate
from ferrotune.visualization._param_importances import plot_param_importances
from ferrotune.visualization._pareto_front import plot_pareto_front
from ferrotune.visualization._rank import plot_rank
from ferrotune.visualization._slice import plot_slice
from ferrotune.visualization._timeline import plot_timeline

__all__ = [
    "is_available",
    "matplotlib",
    "plot_contour",
    "plot_edf",
    "plot_hypervolume_history",
    "plot_intermediate_values",
    "plot_optimization_history",
    "plot_parallel_coordinate",
    "plot_param_importances",
    "plot_pareto_front",
    "plot_rank",
    "plot_slice",
    "plot_timeline",
]


def is_available() -> bool:
    """Whether plotly is installed (so that these plots can be drawn)."""
    return _imports.is_available("plotly.graph_objects")

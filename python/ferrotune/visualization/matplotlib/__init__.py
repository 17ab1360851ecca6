"""Optuna's plots drawn with matplotlib (``pip install "ferrotune[plot]"``).

Each function takes the arguments of its plotly twin in :mod:`ferrotune.visualization`,
draws the same data, and returns matplotlib ``Axes``. matplotlib is imported on the first
plot, not with this module.
"""

from __future__ import annotations

from ferrotune.visualization import _imports
from ferrotune.visualization.matplotlib._contour import plot_contour
from ferrotune.visualization.matplotlib._edf import plot_edf
from ferrotune.visualization.matplotlib._hypervolume_history import plot_hypervolume_history
from ferrotune.visualization.matplotlib._intermediate_values import plot_intermediate_values
from ferrotune.visualization.matplotlib._optimization_history import plot_optimization_history
from ferrotune.visualization.matplotlib._parallel_coordinate import plot_parallel_coordinate
from ferrotune.visualization.matplotlib._param_importances import plot_param_importances
from ferrotune.visualization.matplotlib._pareto_front import plot_pareto_front
from ferrotune.visualization.matplotlib._rank import plot_rank
from ferrotune.visualization.matplotlib._slice import plot_slice
from ferrotune.visualization.matplotlib._timeline import plot_timeline

__all__ = [
    "is_available",
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
    """Whether matplotlib is installed (so that these plots can be drawn)."""
    return _imports.is_available("matplotlib.pyplot")

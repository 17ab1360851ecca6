"""matplotlib's plot_intermediate_values."""

from __future__ import annotations

from typing import Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._intermediate_values import intermediate_info
from ferrotune.visualization.matplotlib._utils import ggplot


def plot_intermediate_values(study: Study) -> Any:
    """Plot each trial's intermediate values against their steps, with matplotlib.

    The same data as :func:`ferrotune.visualization.plot_intermediate_values`; the
    curves are one ``LineCollection`` (a colour per trial from ``tab20``, infeasible
    trials grey), so that thousands of trials draw quickly.

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    curves = intermediate_info(study)
    with ggplot() as plt:
        _, ax = plt.subplots(tight_layout=True)
        ax.set_title("Intermediate Values Plot")
        ax.set_xlabel("Step")
        ax.set_ylabel("Intermediate Value")
        if not curves:
            return ax
        cmap = plt.get_cmap("tab20")
        segments = [np.column_stack([c.steps, c.values]) for c in curves]
        colors = [cmap(i % 20) if c.feasible else "#CCCCCC" for i, c in enumerate(curves)]
        lines = _imports.mpl_module("matplotlib.collections").LineCollection(
            segments, colors=colors, alpha=0.7, linewidths=1.0
        )
        ax.add_collection(lines)
        ax.autoscale_view()
    return ax

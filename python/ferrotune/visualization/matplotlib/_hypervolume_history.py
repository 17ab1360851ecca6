"""matplotlib's plot_hypervolume_history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ferrotune.study import Study
from ferrotune.visualization._hypervolume_history import hypervolume_info
from ferrotune.visualization.matplotlib._utils import ggplot


def plot_hypervolume_history(study: Study, reference_point: Sequence[float]) -> Any:
    """Plot the hypervolume after each trial, with matplotlib (the data of
    :func:`ferrotune.visualization.plot_hypervolume_history`).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    info = hypervolume_info(study, reference_point)
    with ggplot() as plt:
        _, ax = plt.subplots()
        ax.set_title("Hypervolume History Plot")
        ax.set_xlabel("Trial")
        ax.set_ylabel("Hypervolume")
        ax.plot(info.numbers, info.values, marker="o", color=plt.get_cmap("tab10")(0), alpha=0.5)
    return ax

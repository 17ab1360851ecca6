"""matplotlib's plot_edf."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.study import Study
from ferrotune.visualization._edf import edf_info
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_edf(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the empirical distribution function of the objective values, with matplotlib
    (the data of :func:`ferrotune.visualization.plot_edf`).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    info = edf_info(study, target, target_name)
    with ggplot() as plt:
        _, ax = plt.subplots()
        ax.set_title("Empirical Distribution Function Plot")
        ax.set_xlabel(target_name)
        ax.set_ylabel("Cumulative Probability")
        ax.set_ylim(0, 1)
        cmap = plt.get_cmap("tab20")
        for i, (name, y) in enumerate(zip(info.names, info.ys, strict=True)):
            ax.plot(info.x, y, color=cmap(i % 20), alpha=0.7, label=name)
        if len(info.names) >= 2:
            ax.legend()
    return ax

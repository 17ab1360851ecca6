"""matplotlib's plot_rank."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._contour import Axis
from ferrotune.visualization._rank import COLORMAP, RankInfo, rank_info, tick_info
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_rank(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot parameter pairs as scatter plots coloured by the objective's rank, with
    matplotlib (the data of :func:`ferrotune.visualization.plot_rank`).

    Returns:
        A ``matplotlib.axes.Axes`` for one or two parameters, else an ``(n, n)`` array of
        them.
    """
    info = rank_info(study, params, target, target_name)
    title = f"Rank ({info.target_name})"
    cm = _imports.mpl_module("matplotlib.cm")
    with ggplot() as plt:
        n = len(info.params)
        if n == 0:
            _, ax = plt.subplots()
            ax.set_title(title)
            return ax
        if n <= 2:
            # One Axes: the two parameters against each other, or one against itself
            # (as Optuna; plt.subplots(1, 1) gives no array to index).
            fig, ax = plt.subplots()
            ax.set_title(title)
            _subplot(info, info.axes[info.params[0]], info.axes[info.params[-1]], ax)
            target_axes: Any = ax
        else:
            fig, ax = plt.subplots(n, n, figsize=(3 * n, 3 * n))
            fig.suptitle(title)
            for yi, yn in enumerate(info.params):
                for xi, xn in enumerate(info.params):
                    _subplot(info, info.axes[xn], info.axes[yn], ax[yi, xi])
            target_axes = ax.ravel().tolist()
        mappable = cm.ScalarMappable(cmap=plt.get_cmap(COLORMAP))
        mappable.set_array(np.array([0.0, 1.0]))
        ticks, text = tick_info(info.values)
        bar = fig.colorbar(mappable, ax=target_axes, ticks=ticks)
        bar.ax.set_yticklabels(text)
    return ax


def _positions(axis: Axis, rows: np.ndarray) -> np.ndarray:
    if axis.is_cat:
        return np.asarray(axis.cell[rows], dtype=np.float64)
    return np.asarray(axis.points[rows], dtype=np.float64)


def _subplot(info: RankInfo, x: Axis, y: Axis, ax: Any) -> None:
    ax.label_outer()
    ax.set(xlabel=x.name, ylabel=y.name)
    for axis, lim, scale, ticks, labels in (
        (x, ax.set_xlim, ax.set_xscale, ax.set_xticks, ax.set_xticklabels),
        (y, ax.set_ylim, ax.set_yscale, ax.set_yticks, ax.set_yticklabels),
    ):
        lim(*axis.range)
        if axis.is_cat:
            ticks(np.arange(len(axis.grid)))
            labels(axis.grid)
        elif axis.is_log:
            scale("log")
    rows = np.flatnonzero(x.present & y.present)
    ax.scatter(
        _positions(x, rows), _positions(y, rows), c=info.colors[rows] / 255, edgecolors="grey"
    )

"""matplotlib's plot_contour."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization._contour import (
    CROWDED,
    Axis,
    SubContour,
    contour_info,
    fill_gaps,
)
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_contour(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the objective as a contour over each pair of parameters, with matplotlib.

    The grid of :func:`ferrotune.visualization.plot_contour`, its empty cells filled as
    plotly's ``connectgaps`` does (:func:`fill_gaps`, numpy; Optuna solves the same
    equation with scipy's sparse solver on a 100 x 100 grid).

    Returns:
        A ``matplotlib.axes.Axes`` for two parameters, else an ``(n, n)`` array of them.
    """
    info = contour_info(study, params, target, target_name)
    with ggplot() as plt:
        cmap = plt.get_cmap("Blues_r" if info.reverse_scale else "Blues")
        n = len(info.params)
        if n <= 1:
            _, ax = plt.subplots()
            ax.set_title("Contour Plot")
            return ax
        if n == 2:
            fig, ax = plt.subplots()
            ax.set_title("Contour Plot")
            cs = _subplot(info.subplots[0][0], ax, cmap)
            if cs is not None:
                fig.colorbar(cs, ax=ax).set_label(info.target_name)
            return ax
        fig, axs = plt.subplots(n, n, figsize=(3 * n, 3 * n))
        fig.suptitle("Contour Plot")
        last = None
        for yi in range(n):
            for xi in range(n):
                cs = _subplot(info.subplots[yi][xi], axs[yi, xi], cmap)
                last = cs if cs is not None else last
        if last is not None:
            fig.colorbar(last, ax=axs.ravel().tolist()).set_label(info.target_name)
    return axs


def _coords(axis: Axis) -> np.ndarray:
    """Grid coordinates: the values for a number, positions for a category."""
    if axis.is_cat:
        return np.arange(len(axis.grid), dtype=np.float64)
    return np.asarray(axis.grid, dtype=np.float64)


def _points(axis: Axis, rows: np.ndarray) -> np.ndarray:
    if axis.is_cat:
        return np.asarray(axis.cell[rows], dtype=np.float64)
    return np.asarray(axis.points[rows], dtype=np.float64)


def _subplot(sub: SubContour, ax: Any, cmap: Any) -> Any:
    ax.label_outer()
    ax.set(xlabel=sub.x.name, ylabel=sub.y.name)
    for axis, lim, scale, ticks, labels in (
        (sub.x, ax.set_xlim, ax.set_xscale, ax.set_xticks, ax.set_xticklabels),
        (sub.y, ax.set_ylim, ax.set_yscale, ax.set_yticks, ax.set_yticklabels),
    ):
        lim(*axis.range)
        if axis.is_cat:
            ticks(np.arange(len(axis.grid)))
            labels(axis.grid)
        else:
            scale("log" if axis.is_log else "linear")
    if sub.z is None or len(sub.x.grid) < 2 or len(sub.y.grid) < 2:
        return None
    xs, ys = _coords(sub.x), _coords(sub.y)
    z = fill_gaps(sub.z)
    both = sub.x.present & sub.y.present
    small = int(both.sum()) > CROWDED  # many trials: fainter lines, smaller markers
    ax.contour(
        xs, ys, z, 15, linewidths=0.2 if small else 0.5, colors="k", alpha=0.4 if small else 1.0
    )
    cs = ax.contourf(xs, ys, z, 15, cmap=cmap.reversed())
    for ok, color in ((True, "black"), (False, "#cccccc")):
        rows = np.flatnonzero(both & (sub.feasible == ok))
        ax.scatter(
            _points(sub.x, rows),
            _points(sub.y, rows),
            marker="o",
            c=color,
            s=4 if small else 20,
            edgecolors="grey",
            linewidth=0.3 if small else 2.0,
            alpha=0.5 if small else 1.0,
        )
    return cs

"""matplotlib's plot_parallel_coordinate."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._parallel_coordinate import parallel_info

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_parallel_coordinate(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the trials as lines across the objective and parameter axes, with matplotlib
    (the data of :func:`ferrotune.visualization.plot_parallel_coordinate`: one
    ``LineCollection``, each parameter's own axis on a twin y axis).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    info = parallel_info(study, params, target, target_name)
    coll = _imports.mpl_module("matplotlib.collections")
    colors = _imports.mpl_module("matplotlib.colors")
    plt = _imports.plt()
    with plt.style.context("default"):  # Optuna draws this one without the ggplot style
        fig, ax = plt.subplots(figsize=(max(6.4, 1.6 * (len(info.params) + 2)), 4.8))
        cmap = plt.get_cmap("Blues_r" if info.reverse_scale else "Blues")
        ax.set_title("Parallel Coordinate Plot", y=1.03)
        ax.spines["top"].set_visible(False)
        ax.spines["bottom"].set_visible(False)
        first = info.objectives[0]
        if not info.params or len(first.values) == 0:
            return ax
        dims = info.objectives[1:] + info.params
        lo, hi = first.range
        if lo == hi:
            pad = abs(lo) * 0.05 if lo != 0.0 else 0.5
            lo, hi = lo - pad, hi + pad
        order = info.draw_order
        ys = np.column_stack([first.values] + [lo + d.normalized() * (hi - lo) for d in dims])
        ys = ys[order]
        xs = np.arange(len(dims) + 1, dtype=np.float64)
        segments = np.stack([np.broadcast_to(xs, ys.shape), ys], axis=2)
        lc = coll.LineCollection(segments, cmap=cmap)
        lc.set_array(info.color_values[order])
        if info.feasibility is not None:
            feasible = info.feasibility[order]
            lc.set_linestyle(["solid" if f else "dotted" for f in feasible])
        if info.is_rank_color:
            top = int(info.color_values.max())
            lc.set_norm(colors.BoundaryNorm(np.arange(-0.5, top + 1.5), cmap.N))
        ax.set_xlim(0, len(dims))
        ax.set_ylim(lo, hi)
        ax.add_collection(lc)
        bar = fig.colorbar(lc, pad=0.1, ax=ax)
        bar.set_label(info.colorbar_title)
        if info.is_rank_color:
            bar.set_ticks(list(range(int(info.color_values.max()) + 1)))
        ax.set_xticks(xs)
        ax.set_xticklabels([d.label for d in info.objectives + info.params], rotation=330)
        _param_axes(ax, dims)
        fig.subplots_adjust(bottom=0.2)
    return ax


def _param_axes(ax: Any, dims: list[Any]) -> None:
    for i, dim in enumerate(dims):
        twin = ax.twinx()
        if dim.is_log and not dim.has_missing:
            twin.set_ylim(10 ** dim.range[0], 10 ** dim.range[1])
            twin.set_yscale("log")
        else:
            lo, hi = dim.range
            twin.set_ylim(lo, hi) if lo != hi else twin.set_ylim(lo - 0.5, hi + 0.5)
        twin.spines["top"].set_visible(False)
        twin.spines["bottom"].set_visible(False)
        twin.xaxis.set_visible(False)
        twin.grid(False)
        twin.spines["right"].set_position(("axes", (i + 1) / len(dims)))
        if dim.tickvals and (dim.is_cat or dim.has_missing or dim.is_log):
            if dim.is_log and not dim.has_missing:
                twin.set_yticks([10**t for t in dim.tickvals])
            else:
                twin.set_yticks(list(dim.tickvals))
            twin.set_yticklabels(list(dim.ticktext))

"""matplotlib's plot_slice."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization._slice import SliceSubplot, slice_info
from ferrotune.visualization.matplotlib._utils import category_positions, ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_slice(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the objective against each parameter, with matplotlib (the data of
    :func:`ferrotune.visualization.plot_slice`).

    Returns:
        A ``matplotlib.axes.Axes`` for one parameter, else an array of them.
    """
    info = slice_info(study, params, target, target_name)
    with ggplot() as plt:
        cmap = plt.get_cmap("Blues")
        if not info.subplots:
            _, ax = plt.subplots()
            ax.set_title("Slice Plot")
            return ax
        n = len(info.subplots)
        fig, axs = plt.subplots(1, n, sharey=True, figsize=(max(6.4, 4 * n), 4.8), squeeze=False)
        fig.suptitle("Slice Plot")
        sc = None
        for ax, sub in zip(axs[0], info.subplots, strict=True):
            sc = _subplot(sub, ax, cmap)
        axs[0, 0].set_ylabel(info.target_name)
        if sc is not None:
            fig.colorbar(sc, ax=axs.ravel().tolist()).set_label("Trial")
    return axs[0, 0] if n == 1 else axs[0]


def _subplot(sub: SliceSubplot, ax: Any, cmap: Any) -> Any:
    ax.set_xlabel(sub.param_name)
    if sub.is_numerical:
        x = np.asarray(sub.x, dtype=np.float64)
        if sub.is_log:
            ax.set_xscale("log")
    else:
        labels = sub.labels or []
        x = category_positions(labels, sub.x)
        ax.set_xticks(np.arange(len(labels)))
        ax.set_xticklabels(labels)
        ax.set_xlim(-0.5, len(labels) - 0.5)
    ok = sub.feasible
    sc = ax.scatter(x[ok], sub.y[ok], c=sub.numbers[ok], cmap=cmap, edgecolors="grey")
    if (~ok).any():
        ax.scatter(x[~ok], sub.y[~ok], c="#cccccc")
    return sc

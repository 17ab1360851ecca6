"""matplotlib's plot_optimization_history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.study import Study
from ferrotune.visualization._optimization_history import best_numbers, history_infos
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_optimization_history(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
    error_bar: bool = False,
) -> Any:
    """Plot each trial's objective value and the best value so far, with matplotlib.

    The same data and arguments as
    :func:`ferrotune.visualization.plot_optimization_history`.

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    infos = history_infos(study, target, target_name, error_bar)
    with ggplot() as plt:
        _, ax = plt.subplots(tight_layout=True)
        ax.set_title("Optimization History Plot")
        ax.set_xlabel("Trial")
        ax.set_ylabel(target_name)
        cmap = plt.get_cmap("tab10")
        for i, info in enumerate(infos):
            ok = info.feasible
            first, second = (
                (cmap(0), cmap(3)) if len(infos) == 1 else (cmap(2 * i), cmap(2 * i + 1))
            )
            if info.stds is not None:
                ax.errorbar(
                    info.numbers,
                    info.values,
                    yerr=info.stds,
                    capsize=5,
                    fmt="o",
                    color=first,
                    label=info.label,
                )
            else:
                ax.scatter(
                    info.numbers[ok], info.values[ok], color=first, alpha=1, label=info.label
                )
            if info.best is not None:
                xs = best_numbers(info)
                ax.plot(xs, info.best, color=second, alpha=0.5, label=info.best_label)
                if info.best_stds is not None:
                    ax.fill_between(
                        xs,
                        info.best - info.best_stds,
                        info.best + info.best_stds,
                        color="tab:red",
                        alpha=0.2,
                    )
            if (~ok).any():
                ax.scatter(info.numbers[~ok], info.values[~ok], color="#cccccc")
        if infos:
            ax.legend(loc="upper right")
    return ax

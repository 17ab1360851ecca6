"""matplotlib's plot_pareto_front."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from ferrotune.study import Study
from ferrotune.visualization._pareto_front import ParetoInfo, TrialGroup, pareto_info
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_pareto_front(
    study: Study,
    *,
    target_names: list[str] | None = None,
    include_dominated_trials: bool = True,
    constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    targets: Callable[[FrozenTrial], Sequence[float]] | None = None,
) -> Any:
    """Plot the COMPLETE trials in objective space, with matplotlib (the data of
    :func:`ferrotune.visualization.plot_pareto_front`; a 3-D axes for 3 targets).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    info = pareto_info(study, target_names, include_dominated_trials, constraints_func, targets)
    with ggplot() as plt:
        fig = plt.figure()
        three = info.n_targets == 3
        ax = fig.add_subplot(projection="3d") if three else fig.add_subplot()
        ax.set_title("Pareto-front Plot")
        ax.set_xlabel(info.target_names[0])
        ax.set_ylabel(info.target_names[1])
        if three:
            ax.set_zlabel(info.target_names[2])
        cmap = plt.get_cmap("tab10")
        groups = [(info.best, cmap(3), "Best Trial")]
        if info.include_dominated_trials:
            groups.append((info.non_best, cmap(0), "Trial"))
        if info.has_constraints:
            groups.append((info.infeasible, "#cccccc", "Infeasible Trial"))
        for group, color, label in groups:
            _scatter(ax, info, group, color, label)
        if any(len(g.numbers) for g, _, _ in groups):
            ax.legend()
    return ax


def _scatter(ax: Any, info: ParetoInfo, group: TrialGroup, color: Any, label: str) -> None:
    v = group.values
    if info.n_targets == 3:
        ax.scatter(v[:, 0], v[:, 1], v[:, 2], color=color, label=label)
    else:
        ax.scatter(v[:, 0], v[:, 1], color=color, label=label)

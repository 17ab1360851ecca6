"""matplotlib's plot_param_importances."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.importance import BaseImportanceEvaluator
from ferrotune.study import Study
from ferrotune.visualization._param_importances import importance_infos
from ferrotune.visualization.matplotlib._utils import ggplot

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial


def plot_param_importances(
    study: Study,
    evaluator: BaseImportanceEvaluator | None = None,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot each parameter's importance as a horizontal bar, with matplotlib (the data of
    :func:`ferrotune.visualization.plot_param_importances`; one bar per objective and
    parameter for a study with several objectives).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    infos = [i for i in importance_infos(study, evaluator, params, target, target_name) if i.values]
    with ggplot() as plt:
        _, ax = plt.subplots()
        ax.set_title("Hyperparameter Importances", loc="left")
        ax.set_xlabel("Hyperparameter Importance")
        ax.set_ylabel("Hyperparameter")
        if not infos:
            return ax
        names = infos[0].names
        height = 0.8 / len(infos)
        cmap = plt.get_cmap("tab20c")
        for k, info in enumerate(infos):
            pos = np.arange(len(info.names)) + k * height
            bars = ax.barh(
                pos,
                info.values,
                height=height,
                align="center",
                label=info.target_name,
                color=cmap(k % 20),
            )
            ax.bar_label(bars, labels=info.labels, padding=3, fontsize=8)
        ax.set_yticks(np.arange(len(names)) + height * (len(infos) - 1) / 2)
        ax.set_yticklabels(names)
        ax.set_xlim(0, max(max(i.values) for i in infos) * 1.2)
        if len(infos) > 1:
            ax.legend(loc="best")
    return ax

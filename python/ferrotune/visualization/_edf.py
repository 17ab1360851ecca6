"""plot_edf: the empirical distribution function of the objective values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._data import as_studies, check_plot_args, complete_finite, logger

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import FloatArray

#: Points on the x axis, as Optuna.
NUM_SAMPLES_X_AXIS = 100


@dataclass(frozen=True)
class EdfInfo:
    names: list[str]
    x: FloatArray
    ys: list[FloatArray]


def edf_info(
    study: Study | Sequence[Study],
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> EdfInfo:
    """Each study's EDF on a common grid of :data:`NUM_SAMPLES_X_AXIS` points spanning
    every study's finite COMPLETE values (studies without any are left out)."""
    studies = as_studies(study)
    check_plot_args(studies, target, target_name)
    if not studies:
        logger.warning("There are no studies.")
        return EdfInfo([], np.zeros(0), [])
    names, all_values = [], []
    for s in studies:
        _, values = complete_finite(s, target)
        if values.size:
            names.append(s.study_name)
            all_values.append(np.sort(values))
    if not all_values:
        logger.warning("There are no complete trials.")
        return EdfInfo([], np.zeros(0), [])
    joined = np.concatenate(all_values)
    x = np.linspace(joined.min(), joined.max(), NUM_SAMPLES_X_AXIS)
    ys = [np.searchsorted(v, x, side="right") / v.size for v in all_values]
    return EdfInfo(names, x, ys)


def plot_edf(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the empirical distribution function of the objective values (Optuna's plot):
    the fraction of COMPLETE trials with a finite value at or below each x.

    Args:
        study: A study, or several (one line each, named by study).
        target: Maps a trial to the value (needed to pick one objective).
        target_name: The x axis' title.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    layout = go.Layout(
        title="Empirical Distribution Function Plot",
        xaxis={"title": target_name},
        yaxis={"title": "Cumulative Probability"},
    )
    info = edf_info(study, target, target_name)
    if not info.ys:
        return go.Figure(data=[], layout=layout)
    traces = [
        go.Scatter(x=info.x, y=y, name=name, mode="lines")
        for name, y in zip(info.names, info.ys, strict=True)
    ]
    fig = go.Figure(data=traces, layout=layout)
    fig.update_yaxes(range=[0, 1])
    return fig

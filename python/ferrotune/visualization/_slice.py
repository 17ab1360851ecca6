"""plot_slice: the objective against each parameter."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._data import (
    check_plot_args,
    complete_finite,
    logger,
    selected_params,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class SliceSubplot:
    """One parameter: the trials that have it, in order of their numbers (a categorical
    parameter's points grouped by choice, in the choices' order, as Optuna).

    ``x`` holds numbers for a numerical parameter and ``repr(choice)`` strings for a
    categorical one; ``labels`` the categorical axis' ordered ``repr`` labels."""

    param_name: str
    x: npt.NDArray[Any]
    y: FloatArray
    numbers: IntArray
    feasible: BoolArray
    is_log: bool
    is_numerical: bool
    labels: list[str] | None


@dataclass(frozen=True)
class SliceInfo:
    target_name: str
    subplots: list[SliceSubplot]


def slice_info(
    study: Study,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> SliceInfo:
    check_plot_args(study, target, target_name)
    table, values = complete_finite(study, target)
    if len(table) == 0:
        logger.warning("Your study does not have any completed trials.")
        return SliceInfo(target_name, [])
    subplots = []
    for name in selected_params(table, params):
        col = table.params[name]
        rows = np.flatnonzero(col.present)
        if col.is_categorical:
            rows = rows[np.argsort(col.index[rows], kind="stable")]
            labels = [repr(c) for c in col.choices]
            x: npt.NDArray[Any] = np.array(labels, dtype=object)[col.index[rows]]
            ordered: list[str] | None = labels
        else:
            x, ordered = col.value[rows], None
        subplots.append(
            SliceSubplot(
                param_name=name,
                x=x,
                y=values[rows],
                numbers=table.number[rows],
                feasible=table.feasible[rows],
                is_log=col.is_log,
                is_numerical=not col.is_categorical,
                labels=ordered,
            )
        )
    return SliceInfo(target_name, subplots)


def plot_slice(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the objective against each parameter, one panel each (Optuna's plot).

    A trial that lacks a parameter is left out of its panel. Points are coloured by
    trial number; infeasible trials are grey. Log parameters get a log axis, categorical
    ones a category axis in the order of their choices.

    Args:
        study: The study.
        params: The parameters (default: all, sorted by name).
        target: Maps a trial to the plotted value (needed to pick one objective).
        target_name: The y axis' title.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    info = slice_info(study, params, target, target_name)
    layout = go.Layout(title="Slice Plot")
    if not info.subplots:
        return go.Figure(data=[], layout=layout)
    if len(info.subplots) == 1:
        sub = info.subplots[0]
        fig = go.Figure(data=_traces(go, sub, True), layout=layout)
        fig.update_xaxes(title_text=sub.param_name)
        fig.update_yaxes(title_text=info.target_name)
        _style_x(fig, sub, None)
        return fig
    n = len(info.subplots)
    fig = _imports.subplots()(rows=1, cols=n, shared_yaxes=True)
    fig.update_layout(layout)
    for col, sub in enumerate(info.subplots, start=1):
        for t in _traces(go, sub, col == 1):
            fig.add_trace(t, row=1, col=col)
        fig.update_xaxes(title_text=sub.param_name, row=1, col=col)
        if col == 1:
            fig.update_yaxes(title_text=info.target_name, row=1, col=1)
        _style_x(fig, sub, col)
    if n > 3:
        fig.update_layout(width=300 * n)
    return fig


def _style_x(fig: Any, sub: SliceSubplot, col: int | None) -> None:
    row = None if col is None else 1
    if not sub.is_numerical:
        fig.update_xaxes(
            type="category", categoryorder="array", categoryarray=sub.labels, row=row, col=col
        )
    elif sub.is_log:
        fig.update_xaxes(type="log", row=row, col=col)


def _traces(go: Any, sub: SliceSubplot, showscale: bool) -> list[Any]:
    ok, x = sub.feasible, sub.x
    out = [
        go.Scatter(
            x=x[ok],
            y=sub.y[ok],
            mode="markers",
            name="Feasible Trial",
            marker={
                "line": {"width": 0.5, "color": "Grey"},
                "color": sub.numbers[ok],
                "colorscale": _imports.plotly_colors().sequential.Blues,
                "colorbar": {"title": "Trial", "x": 1.0, "xpad": 40},
                "showscale": showscale,
            },
            showlegend=False,
        )
    ]
    if (~ok).any():
        out.append(
            go.Scatter(
                x=x[~ok],
                y=sub.y[~ok],
                mode="markers",
                name="Infeasible Trial",
                marker={"color": "#cccccc"},
                showlegend=False,
            )
        )
    return out

"""plot_optimization_history: each trial's value and the best value so far."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study, StudyDirection
from ferrotune.visualization import _imports
from ferrotune.visualization._data import (
    COMPLETE,
    as_studies,
    check_plot_args,
    logger,
    target_values,
    trial_table,
)

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import BoolArray, FloatArray, IntArray


@dataclass(frozen=True)
class HistoryInfo:
    """One study's (or, with error bars, the studies' mean) history.

    ``values`` and ``stds`` are per point of ``numbers``; ``feasible`` marks the points
    drawn in colour (the rest are infeasible, grey); ``best`` is the best feasible value
    so far at each number (None with a custom target), NaN before the first one.
    """

    numbers: IntArray
    values: FloatArray
    feasible: BoolArray
    label: str
    best: FloatArray | None
    best_label: str
    stds: FloatArray | None = None
    best_stds: FloatArray | None = None
    best_numbers: IntArray | None = None  # where the best line runs (None: ``numbers``)


def _one_study(study: Study, target: Any, label: str, best_label: str) -> tuple[HistoryInfo, int]:
    table = trial_table(study)
    values = target_values(table, target)
    complete = table.state == COMPLETE
    feasible = complete & table.feasible
    best = None
    if target is None:
        if study.directions[0] == StudyDirection.MINIMIZE:
            best = np.minimum.accumulate(np.where(feasible, values, np.inf))
        else:
            best = np.maximum.accumulate(np.where(feasible, values, -np.inf))
        best = np.where(np.isinf(best), np.nan, best)
    # The best line runs over every trial number (as Optuna), the markers over COMPLETE.
    info = HistoryInfo(
        numbers=table.number[complete],
        values=values[complete],
        feasible=feasible[complete],
        label=label,
        best=best,
        best_label=best_label,
        best_numbers=table.number,
    )
    return info, int(complete.sum())


def best_numbers(info: HistoryInfo) -> IntArray:
    """The trial numbers the best-value line runs over."""
    return info.numbers if info.best_numbers is None else info.best_numbers


def _error_bar(infos: list[HistoryInfo], target_name: str, with_best: bool) -> HistoryInfo:
    """Mean and standard deviation per trial number over the studies (feasible values;
    Optuna's error-bar aggregation)."""
    size = max(int(best_numbers(i).max()) + 1 for i in infos)
    vals = np.full((len(infos), size), np.nan)
    bests = np.full((len(infos), size), np.nan)
    for k, info in enumerate(infos):
        vals[k, info.numbers[info.feasible]] = info.values[info.feasible]
        if info.best is not None:
            bests[k, best_numbers(info)] = info.best
    has = ~np.isnan(vals).all(axis=0)
    numbers = np.flatnonzero(has)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns of bests
        mean = np.nanmean(vals[:, has], axis=0)
        std = np.nanstd(vals[:, has], axis=0)
        best = np.nanmean(bests[:, has], axis=0) if with_best else None
        best_std = np.nanstd(bests[:, has], axis=0) if with_best else None
    return HistoryInfo(
        numbers=numbers,
        values=mean,
        feasible=np.ones(len(numbers), dtype=np.bool_),
        label=target_name,
        best=best,
        best_label="Best Value",
        stds=std,
        best_stds=best_std,
    )


def history_infos(
    study: Study | Sequence[Study],
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
    error_bar: bool,
) -> list[HistoryInfo]:
    """Each study's history (or one mean history with ``error_bar``); [] when there is
    nothing to draw (logged, as Optuna)."""
    check_plot_args(study, target, target_name)
    studies = as_studies(study)
    infos: list[HistoryInfo] = []
    n_complete = 0
    for s in studies:
        many = len(studies) > 1
        label = f"{target_name} of {s.study_name}" if many else target_name
        best_label = f"Best Value of {s.study_name}" if many else "Best Value"
        info, complete = _one_study(s, target, label, best_label)
        infos.append(info)
        n_complete += complete
    if not studies:
        logger.warning("There are no studies.")
    if n_complete == 0:
        logger.warning("There are no complete trials.")
        return []
    if not error_bar:
        return infos
    if not any(i.feasible.any() for i in infos):
        logger.warning("There are no feasible trials.")
        return []
    return [_error_bar(infos, target_name, target is None)]


def plot_optimization_history(
    study: Study | Sequence[Study],
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
    error_bar: bool = False,
) -> Any:
    """Plot each trial's objective value and the best value so far (Optuna's plot).

    Args:
        study: A study, or several to compare (one pair of traces each, or their mean and
            standard deviation with ``error_bar``).
        target: Maps a trial to the plotted value; required for a study with several
            objectives. With a target no best-value line is drawn (its direction is
            unknown).
        target_name: The value's name on the axis and the legend.
        error_bar: Draw the mean over the studies per trial number, with the standard
            deviation as error bars (and a band around the mean best value).

    Returns:
        A ``plotly.graph_objects.Figure``. Infeasible trials (a constraint > 0) are grey
        and never count as best; only COMPLETE trials are drawn.
    """
    go = _imports.go()
    infos = history_infos(study, target, target_name, error_bar)
    layout = go.Layout(
        title="Optimization History Plot", xaxis={"title": "Trial"}, yaxis={"title": target_name}
    )
    traces: list[Any] = []
    for info in infos:
        traces.extend(_traces(go, info))
    return go.Figure(data=traces, layout=layout)


def _traces(go: Any, info: HistoryInfo) -> list[Any]:
    error_y = None
    if info.stds is not None:
        error_y = {"type": "data", "array": info.stds, "visible": True}
    ok = info.feasible
    out = [
        go.Scatter(
            x=info.numbers[ok],
            y=info.values[ok],
            error_y=error_y,
            mode="markers",
            name=info.label,
        )
    ]
    if info.best is not None:
        xs = best_numbers(info) if info.stds is None else info.numbers
        out.append(go.Scatter(x=xs, y=info.best, name=info.best_label, mode="lines"))
        if info.best_stds is not None:
            upper, lower = info.best + info.best_stds, info.best - info.best_stds
            out.append(
                go.Scatter(x=xs, y=upper, mode="lines", line={"width": 0.01}, showlegend=False)
            )
            out.append(
                go.Scatter(
                    x=xs,
                    y=lower,
                    mode="none",
                    showlegend=False,
                    fill="tonexty",
                    fillcolor="rgba(255,0,0,0.2)",
                )
            )
    out.append(
        go.Scatter(
            x=info.numbers[~ok],
            y=info.values[~ok],
            mode="markers",
            name="Infeasible Trial",
            marker={"color": "#cccccc"},
            showlegend=False,
        )
    )
    return out

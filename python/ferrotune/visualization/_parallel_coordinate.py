"""plot_parallel_coordinate: one line per trial across the objective and the parameters."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.trial import TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._data import (
    ParamColumn,
    check_plot_args,
    complete_finite,
    is_reverse_scale,
    logger,
    loss_matrix,
    nondomination_ranks,
    selected_params,
    trial_table,
)

if TYPE_CHECKING:
    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import BoolArray, FloatArray, IntArray

MISSING_LABEL = "None"
#: Lines are drawn in this many colour groups (one plotly trace per group and line
#: style), so that 10,000 trials make ~100 traces rather than 10,000.
COLOR_LEVELS = 48


@dataclass(frozen=True)
class Dimension:
    """One vertical axis: ``values`` per trial in axis units (log10 for a log
    parameter, choice position for a categorical one), ``range`` in the same units."""

    label: str
    values: FloatArray
    range: tuple[float, float]
    is_log: bool = False
    is_cat: bool = False
    tickvals: tuple[float, ...] = ()
    ticktext: tuple[str, ...] = ()
    has_missing: bool = False

    def normalized(self, values: FloatArray | None = None) -> FloatArray:
        v = self.values if values is None else values
        lo, hi = self.range
        if lo == hi:
            return np.full(len(v), 0.5)
        return np.asarray((v - lo) / (hi - lo), dtype=np.float64)


@dataclass(frozen=True)
class ParallelInfo:
    objectives: list[Dimension]
    params: list[Dimension]
    reverse_scale: bool
    colorbar_title: str
    color_values: FloatArray
    is_rank_color: bool
    draw_order: IntArray
    feasibility: BoolArray | None


def _numerical(label: str, values: FloatArray) -> Dimension:
    rng = (float(values.min()), float(values.max())) if values.size else (0.0, 0.0)
    return Dimension(label, values, rng)


def _missing_value(lo: float, hi: float) -> float:
    return lo - 1.0 if lo == hi else lo - (hi - lo) * 0.12 / 0.88


def _label(name: str) -> str:
    return name if len(name) < 20 else f"{name[:17]}..."


def _log_dimension(col: ParamColumn) -> Dimension:
    logs = np.log10(col.value[col.present])
    lo, hi = float(logs.min()), float(logs.max())
    ticks = [float(t) for t in range(math.ceil(lo), math.floor(hi) + 1)]
    ticks = ([lo] if lo not in ticks else []) + ticks + ([hi] if hi not in ticks else [])
    text = [f"{10**t:.3g}" for t in ticks]
    values = np.full(len(col.present), np.nan)
    values[col.present] = logs
    missing = not col.present.all()
    if missing:
        mv = _missing_value(lo, hi)
        values[~col.present] = mv
        ticks, text, lo = [mv, *ticks], [MISSING_LABEL, *text], mv
    return Dimension(
        _label(col.name), values, (lo, hi), True, False, tuple(ticks), tuple(text), missing
    )


def _categorical_dimension(col: ParamColumn) -> Dimension:
    used = np.unique(col.index[col.present])
    if col.is_numerical:  # numbers in numeric order, as Optuna
        used = used[np.argsort(np.asarray(col.choices, dtype=np.float64)[used], kind="stable")]
    else:  # in order of first appearance, as Optuna
        first = {int(k): int(np.argmax(col.index == k)) for k in used}
        used = np.array(sorted(used, key=lambda k: first[int(k)]), dtype=np.int64)
    missing = not col.present.all()
    offset = 1 if missing else 0
    position = np.zeros(len(col.choices) + 1, dtype=np.float64)
    position[used] = np.arange(len(used)) + offset
    values = np.where(col.present, position[col.index], 0.0)
    text = [str(col.choices[k]) for k in used]
    if missing:
        text = [MISSING_LABEL] + [f"{t} (value)" if t == MISSING_LABEL else t for t in text]
    ticks = tuple(float(t) for t in range(len(text)))
    rng = (float(values.min()), float(values.max()))
    return Dimension(_label(col.name), values, rng, False, True, ticks, tuple(text), missing)


def _linear_dimension(col: ParamColumn) -> Dimension:
    present = col.value[col.present]
    lo, hi = float(present.min()), float(present.max())
    values = col.value.copy()
    missing = not col.present.all()
    if not missing:
        return Dimension(_label(col.name), values, (lo, hi))
    mv = _missing_value(lo, hi)
    values[~col.present] = mv
    valid = [lo] if lo == hi else [float(v) for v in np.linspace(lo, hi, num=5)]
    ticks = (mv, *valid)
    text = (MISSING_LABEL, *(f"{v:.3g}" for v in valid))
    return Dimension(_label(col.name), values, (mv, hi), False, False, ticks, text, True)


def param_dimension(col: ParamColumn) -> Dimension:
    if col.is_log:
        return _log_dimension(col)
    if col.is_categorical:
        return _categorical_dimension(col)
    return _linear_dimension(col)


def parallel_info(
    study: Study,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> ParallelInfo:
    """The axes, colours and draw order (Optuna's rules: missing values on a ``None``
    tick, log axes in log10, categorical axes by position; a study with several
    objectives and no target gets one axis per objective and Pareto-rank colours)."""
    multi = target is None and len(study.directions) > 1
    if multi:
        table = trial_table(study, states=(TrialState.COMPLETE,))
        table = table.take(np.isfinite(table.values).all(axis=1))
        names = study.metric_names or [f"Objective {i}" for i in range(len(study.directions))]
        objectives = [_numerical(n, table.values[:, i]) for i, n in enumerate(names)]
        ranks = nondomination_ranks(loss_matrix(table.values, study.directions))
        color = ranks.astype(np.float64)
        order = np.argsort(-ranks, kind="stable")
        title, reverse = "Pareto Rank", True
    else:
        check_plot_args(study, target, target_name)
        table, values = complete_finite(study, target)
        objectives = [_numerical(target_name, values)]
        color, order = values, np.arange(len(values))
        title, reverse = target_name, is_reverse_scale(study, target)
    names_ = selected_params(table, params)
    if len(table) == 0:
        logger.warning("Your study does not have any completed trials.")
        names_ = []
    feasibility = table.feasible & table.constrained if table.constrained.any() else None
    dims = [param_dimension(table.params[n]) for n in names_]
    return ParallelInfo(objectives, dims, reverse, title, color, multi, order, feasibility)


def color_range(info: ParallelInfo) -> tuple[float, float]:
    if info.is_rank_color:
        return -0.5, float(info.color_values.max()) + 0.5
    lo, hi = float(info.color_values.min()), float(info.color_values.max())
    return (lo - 0.5, hi + 0.5) if lo == hi else (lo, hi)


def plot_parallel_coordinate(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the trials as lines across the objective and parameter axes (Optuna's plot).

    A trial without a parameter meets that axis at a ``None`` tick; a log parameter has a
    log axis; a categorical one a tick per choice. When some trial has constraint values,
    feasible trials are solid lines and infeasible ones dotted. For a study with several
    objectives and no ``target``, every objective gets an axis and lines are coloured by
    Pareto rank.

    Unlike Optuna 5, which makes one plotly trace per trial, the lines are grouped into
    :data:`COLOR_LEVELS` colour levels (one trace each, lines separated by gaps), so that
    10,000 trials render in about a second; hover text shows each trial's values.

    Args:
        study: The study.
        params: The parameters to draw (default: all, sorted by name).
        target: Maps a trial to the plotted value (needed to pick one objective).
        target_name: The objective axis' and colour bar's title.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    info = parallel_info(study, params, target, target_name)
    layout = go.Layout(
        title={"text": "Parallel Coordinate Plot", "y": 1, "yanchor": "bottom", "yref": "paper"}
    )
    if not info.params or len(info.objectives[0].values) == 0:
        return go.Figure(data=[], layout=layout)
    dims = info.objectives + info.params
    traces = _line_traces(go, info, dims)
    traces.extend(_legend_traces(go, info))
    layout.update(
        xaxis={
            "tickmode": "array",
            "tickvals": list(range(len(dims))),
            "ticktext": [d.label for d in dims],
            "range": (-0.2, len(dims) - 0.8),
            "showgrid": False,
            "zeroline": False,
        },
        yaxis={"range": (-0.08, 1.08), "visible": False, "fixedrange": True},
        annotations=_annotations(dims),
        shapes=[
            {
                "type": "line",
                "x0": i,
                "x1": i,
                "y0": 0,
                "y1": 1,
                "layer": "below",
                "line": {"color": "#888", "width": 1},
            }
            for i in range(len(dims))
        ],
        hovermode="closest",
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 1, "xanchor": "right", "y": 1, "yanchor": "bottom"},
    )
    return go.Figure(data=traces, layout=layout)


def color_levels(info: ParallelInfo) -> IntArray:
    """Each trial's colour level in ``[0, COLOR_LEVELS)`` (after the scale's reversal)."""
    lo, hi = color_range(info)
    t = np.full(len(info.color_values), 0.5) if lo == hi else (info.color_values - lo) / (hi - lo)
    if info.reverse_scale:
        t = 1.0 - t
    return np.clip((t * COLOR_LEVELS).astype(np.int64), 0, COLOR_LEVELS - 1)


def _line_traces(go: Any, info: ParallelInfo, dims: list[Dimension]) -> list[Any]:
    colors = _imports.plotly_colors()
    scale = colors.sequential.Blues
    ys = np.stack([d.normalized() for d in dims], axis=1)  # (n, n_dims)
    levels = color_levels(info)
    feasible = np.ones(len(levels), np.bool_) if info.feasibility is None else info.feasibility
    rank_in_order = np.empty(len(levels), dtype=np.int64)
    rank_in_order[info.draw_order] = np.arange(len(levels))
    n_dims = len(dims)
    traces = []
    # Groups drawn in the order of their first trial in draw_order (Pareto ranks: worst first).
    for ok in (True, False):
        for level in range(COLOR_LEVELS):
            rows = np.flatnonzero((levels == level) & (feasible == ok))
            if rows.size == 0:
                continue
            rows = rows[np.argsort(rank_in_order[rows], kind="stable")]
            x = np.tile(np.append(np.arange(n_dims, dtype=np.float64), np.nan), rows.size)
            y = np.concatenate([ys[rows], np.full((rows.size, 1), np.nan)], axis=1).ravel()
            color = colors.find_intermediate_color(
                *_scale_pair(scale, (level + 0.5) / COLOR_LEVELS), colortype="rgb"
            )
            traces.append(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines",
                    line={"color": color, "dash": "solid" if ok else "dot", "width": 1.2},
                    opacity=0.5,
                    showlegend=False,
                    connectgaps=False,
                    hoverinfo="skip",
                )
            )
    return traces


def _scale_pair(scale: list[str], value: float) -> tuple[str, str, float]:
    scaled = value * (len(scale) - 1)
    lower = min(int(scaled), len(scale) - 2)
    return scale[lower], scale[lower + 1], scaled - lower


def _legend_traces(go: Any, info: ParallelInfo) -> list[Any]:
    out = []
    if info.feasibility is not None:
        for name, dash in (("Feasible", "solid"), ("Infeasible", "dot")):
            out.append(
                go.Scatter(
                    x=[None],
                    y=[None],
                    mode="lines",
                    name=name,
                    showlegend=True,
                    line={"color": "#2F3B52", "dash": dash, "width": 2},
                    hoverinfo="skip",
                )
            )
    lo, hi = color_range(info)
    colorbar: dict[str, Any] = {"title": info.colorbar_title}
    if info.is_rank_color:
        colorbar["tickvals"] = list(range(int(info.color_values.max()) + 1))
    marker = {
        "color": [lo, hi],
        "cmin": lo,
        "cmax": hi,
        "showscale": True,
        "colorbar": colorbar,
        "colorscale": _imports.plotly_colors().sequential.Blues,
        "reversescale": info.reverse_scale,
    }
    out.append(
        go.Scatter(
            x=[None, None],
            y=[None, None],
            mode="markers",
            marker=marker,
            showlegend=False,
            hoverinfo="skip",
        )
    )
    return out


def _annotations(dims: list[Dimension]) -> list[dict[str, Any]]:
    out = []
    for axis, dim in enumerate(dims):
        if dim.tickvals:
            ticks, text = list(dim.tickvals), list(dim.ticktext)
        elif dim.range[0] == dim.range[1]:
            ticks, text = [dim.range[0]], [f"{dim.range[0]:.3g}"]
        else:
            ticks = [float(v) for v in np.linspace(*dim.range, num=5)]
            text = [f"{v:.3g}" for v in ticks]
        for y, t in zip(dim.normalized(np.asarray(ticks, dtype=np.float64)), text, strict=True):
            out.append(
                {
                    "x": axis,
                    "y": float(y),
                    "text": t,
                    "showarrow": False,
                    "xanchor": "right",
                    "xshift": -4,
                    "font": {"size": 10, "color": "#555"},
                }
            )
    return out

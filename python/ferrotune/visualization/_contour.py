"""plot_contour: the objective over each pair of parameters."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study, StudyDirection
from ferrotune.visualization import _imports
from ferrotune.visualization._data import (
    ParamColumn,
    check_plot_args,
    complete_finite,
    is_reverse_scale,
    logger,
    padded_range,
    selected_params,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import BoolArray, FloatArray, IntArray

#: At most this many grid columns (rows) per parameter: up to this many distinct values
#: each get their own column, as in Optuna; more are binned evenly (in log10 space for a
#: log parameter) and each cell shows its best trial.
MAX_GRID = 100


@dataclass(frozen=True)
class Axis:
    """One parameter's axis: ``grid`` holds the contour's coordinates (padded ends for a
    number, the choices' strings for a category); ``cell`` each trial's grid index (-1
    where the trial lacks the parameter); ``points`` each trial's plotted coordinate."""

    name: str
    range: tuple[float, float]
    is_log: bool
    is_cat: bool
    grid: list[Any]
    cell: IntArray
    points: npt.NDArray[Any]  # floats (NaN where absent) or strings (None where absent)
    present: BoolArray


@dataclass(frozen=True)
class SubContour:
    x: Axis
    y: Axis
    z: FloatArray | None  # (len(y.grid), len(x.grid)); None when nothing to draw
    feasible: BoolArray


@dataclass(frozen=True)
class ContourInfo:
    params: list[str]
    subplots: list[list[SubContour]]  # [y][x]
    reverse_scale: bool
    target_name: str


def _numeric_axis(col: ParamColumn) -> Axis:
    v = col.value[col.present]
    lo, hi = float(v.min()), float(v.max())
    rng = padded_range(lo, hi, col.is_log)
    cell = np.full(len(col.present), -1, dtype=np.int64)
    unique = np.unique(v)
    if unique.size < 2:
        grid: list[Any] = [float(u) for u in unique]
        cell[col.present] = 0
    elif unique.size <= MAX_GRID:
        grid = [rng[0], *(float(u) for u in unique), rng[1]]
        cell[col.present] = np.searchsorted(unique, v) + 1
    else:
        t = np.log10(v) if col.is_log else v
        t_lo, t_hi = float(t.min()), float(t.max())
        k = np.clip(((t - t_lo) / (t_hi - t_lo) * MAX_GRID).astype(np.int64), 0, MAX_GRID - 1)
        centres = t_lo + (np.arange(MAX_GRID) + 0.5) * (t_hi - t_lo) / MAX_GRID
        if col.is_log:
            centres = 10**centres
        grid = [rng[0], *(float(c) for c in centres), rng[1]]
        cell[col.present] = k + 1
    points = col.value  # NaN where absent
    return Axis(col.name, rng, col.is_log, False, grid, cell, points, col.present)


def _categorical_axis(col: ParamColumn) -> Axis:
    labels = np.array([str(c) for c in col.choices] + [""], dtype=object)
    strings = labels[col.index]  # index -1 picks the trailing ""
    grid = sorted({str(s) for s in strings[col.present]})
    span = len(grid) - 1
    pad = span * 0.05
    lookup = {g: i for i, g in enumerate(grid)}
    cell = np.array([lookup[s] if p else -1 for s, p in zip(strings, col.present, strict=True)])
    points = strings.copy()
    points[~col.present] = None
    return Axis(col.name, (-pad, span + pad), False, True, grid, cell, points, col.present)


def axis_of(col: ParamColumn) -> Axis:
    return _numeric_axis(col) if col.is_numerical else _categorical_axis(col)


def z_grid(
    x: Axis, y: Axis, values: FloatArray, direction: StudyDirection | None
) -> FloatArray | None:
    """Each grid cell's best value (its last one with a custom target; NaN where no trial
    falls): Optuna's z map, on the grid of :class:`Axis`."""
    both = x.present & y.present
    if not both.any():
        return None
    z = np.full((len(y.grid), len(x.grid)), np.nan)
    cy, cx, v = y.cell[both], x.cell[both], values[both]
    if direction is None:
        z[cy, cx] = v
    elif direction == StudyDirection.MINIMIZE:
        np.fmin.at(z, (cy, cx), v)
    else:
        np.fmax.at(z, (cy, cx), v)
    return z


def _subplot(
    x: Axis, y: Axis, values: FloatArray, direction: StudyDirection | None, feasible: BoolArray
) -> SubContour:
    if x.name == y.name:
        return SubContour(x, y, None, feasible)
    for a in (x, y):
        if len(a.grid) < 2:
            logger.warning(f"Param {a.name} unique value length is less than 2.")
            return SubContour(x, y, None, feasible)
    return SubContour(x, y, z_grid(x, y, values, direction), feasible)


def contour_info(
    study: Study,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> ContourInfo:
    check_plot_args(study, target, target_name)
    table, values = complete_finite(study, target)
    if len(table) == 0:
        logger.warning("Your study does not have any completed trials.")
        names: list[str] = []
    else:
        if params is not None and len(params) <= 1:
            logger.warning("The length of params must be greater than 1.")
        names = selected_params(table, params)
    axes = {n: axis_of(table.params[n]) for n in names}
    direction = None if target is not None else study.directions[0]
    feasible = table.feasible
    if len(names) == 2:
        subplots = [[_subplot(axes[names[0]], axes[names[1]], values, direction, feasible)]]
    else:
        subplots = [
            [_subplot(axes[xn], axes[yn], values, direction, feasible) for xn in names]
            for yn in names
        ]
    return ContourInfo(names, subplots, is_reverse_scale(study, target), target_name)


def plot_contour(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot the objective as a contour over each pair of parameters (Optuna's plot).

    Trials that lack one of a pair's parameters are left out of that pair. Log parameters
    get log axes, categorical ones category axes. Two parameters give one contour; more
    give a matrix of them.

    Deviation from Optuna, for large studies: Optuna puts a grid line at every distinct
    value, so 10,000 trials make a 10,000 x 10,000 grid. Here a parameter with more than
    :data:`MAX_GRID` distinct values is binned into :data:`MAX_GRID` even cells (log10
    cells for a log parameter), each holding its best trial's value; with fewer values
    the grid is Optuna's. plotly interpolates the empty cells (``connectgaps``).

    Args:
        study: The study.
        params: The parameters (default: all, sorted by name).
        target: Maps a trial to the plotted value (needed to pick one objective).
        target_name: The colour bar's title.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    info = contour_info(study, params, target, target_name)
    layout = go.Layout(title="Contour Plot")
    n = len(info.params)
    if n <= 1:
        return go.Figure(data=[], layout=layout)
    if n == 2:
        sub = info.subplots[0][0]
        fig = go.Figure(data=_traces(go, sub, info, True), layout=layout)
        _style_axes(fig, sub, None, None)
        fig.update_xaxes(title_text=info.params[0])
        fig.update_yaxes(title_text=info.params[1])
        return fig
    fig = _imports.subplots()(rows=n, cols=n, shared_xaxes=True, shared_yaxes=True)
    fig.update_layout(layout)
    showscale = True
    for yi in range(n):
        for xi in range(n):
            sub = info.subplots[yi][xi]
            traces = _traces(go, sub, info, showscale) if sub.z is not None else [go.Scatter()]
            showscale = showscale and sub.z is None
            for t in traces:
                fig.add_trace(t, row=yi + 1, col=xi + 1)
            _style_axes(fig, sub, yi + 1, xi + 1)
            if xi == 0:
                fig.update_yaxes(title_text=sub.y.name, row=yi + 1, col=1)
            if yi == n - 1:
                fig.update_xaxes(title_text=sub.x.name, row=yi + 1, col=xi + 1)
    return fig


def _style_axes(fig: Any, sub: SubContour, row: int | None, col: int | None) -> None:
    for axis, update in ((sub.x, fig.update_xaxes), (sub.y, fig.update_yaxes)):
        rng: tuple[float, float] = axis.range
        kind = {}
        if axis.is_cat:
            kind = {"type": "category"}
        elif axis.is_log:
            rng = (math.log10(rng[0]), math.log10(rng[1]))
            kind = {"type": "log"}
        update(range=list(rng), row=row, col=col, **kind)


def _traces(go: Any, sub: SubContour, info: ContourInfo, showscale: bool) -> list[Any]:
    if sub.z is None or len(sub.x.grid) < 2 or len(sub.y.grid) < 2:
        return [go.Contour(), go.Scatter(), go.Scatter()]
    contour = go.Contour(
        x=sub.x.grid,
        y=sub.y.grid,
        z=sub.z,
        colorbar={"title": info.target_name},
        colorscale=_imports.plotly_colors().sequential.Blues,
        connectgaps=True,
        contours_coloring="heatmap",
        hoverinfo="none",
        line_smoothing=1.3,
        reversescale=info.reverse_scale,
        showscale=showscale,
    )
    both = sub.x.present & sub.y.present
    out = [contour]
    for ok in (True, False):
        rows = np.flatnonzero(both & (sub.feasible == ok))
        out.append(
            go.Scatter(
                x=sub.x.points[rows],
                y=sub.y.points[rows],
                marker={
                    "line": {"width": 2.0, "color": "Gray"},
                    "color": "black" if ok else "#cccccc",
                },
                mode="markers",
                name="Feasible Trial" if ok else "Infeasible Trial",
                showlegend=False,
            )
        )
    return out


def fill_gaps(z: FloatArray, iterations: int = 200) -> FloatArray:
    """Fill a grid's NaN cells as plotly's ``connectgaps`` does: known cells fixed,
    each unknown cell relaxed towards the mean of its neighbours (Jacobi iterations of
    the discrete Laplace equation with zero-derivative edges), starting from the mean
    of the known cells."""
    known = ~np.isnan(z)
    if not known.any():
        return z
    out = np.where(known, z, np.nanmean(z))
    for _ in range(iterations):
        p = np.pad(out, 1, mode="edge")
        avg = (p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]) / 4.0
        out = np.where(known, z, avg)
    return out

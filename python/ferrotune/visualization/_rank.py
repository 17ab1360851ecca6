"""plot_rank: parameter pairs as scatter plots coloured by the rank of the objective."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.trial import TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._contour import Axis, axis_of
from ferrotune.visualization._data import (
    TrialTable,
    average_ranks,
    check_plot_args,
    logger,
    selected_params,
    target_values,
    trial_table,
)

if TYPE_CHECKING:
    import numpy.typing as npt

    from ferrotune.trial import FrozenTrial
    from ferrotune.visualization._data import FloatArray

#: The colour map of ranks (low values blue, high red), as Optuna.
COLORMAP = "RdYlBu_r"
#: RdYlBu reversed (ColorBrewer), so that colours need neither library to compute.
_RDYLBU_R = np.array(
    [
        (49, 54, 149),
        (69, 117, 180),
        (116, 173, 209),
        (171, 217, 233),
        (224, 243, 248),
        (255, 255, 191),
        (254, 224, 144),
        (253, 174, 97),
        (244, 109, 67),
        (215, 48, 39),
        (165, 0, 38),
    ],
    dtype=np.float64,
)


@dataclass(frozen=True)
class RankInfo:
    params: list[str]
    axes: dict[str, Axis]
    table: TrialTable
    values: FloatArray  # the target per row
    colors: FloatArray  # (n, 3) RGB 0-255, grey for infeasible rows
    fractions: FloatArray  # each row's rank / (n - 1): its place on the colour scale
    target_name: str
    has_custom_target: bool


def rank_fractions(values: FloatArray) -> FloatArray:
    """Each value's rank over ``n - 1`` (ties averaged; 0.5 for a single value)."""
    n = values.size
    return average_ranks(values) / (n - 1) if n >= 2 else np.full(n, 0.5)


def rank_colors(t: FloatArray) -> FloatArray:
    """RGB colours (0-255) of rank fractions ``t`` on RdYlBu_r."""
    pos = t * (len(_RDYLBU_R) - 1)
    lo = np.clip(np.floor(pos).astype(np.int64), 0, len(_RDYLBU_R) - 2)
    frac = (pos - lo)[:, None]
    return np.asarray(_RDYLBU_R[lo] * (1 - frac) + _RDYLBU_R[lo + 1] * frac, dtype=np.float64)


def rank_info(
    study: Study,
    params: list[str] | None,
    target: Callable[[FrozenTrial], float] | None,
    target_name: str,
) -> RankInfo:
    check_plot_args(study, target, target_name)
    table = trial_table(study, states=(TrialState.COMPLETE,))
    values = target_values(table, target)
    nan = np.isnan(values)
    for i in np.flatnonzero(nan):
        logger.warning(
            f"Trial {table.number[i]} is omitted in visualization because its objective "
            "value is nan."
        )
    if nan.any():
        table, values = table.take(~nan), values[~nan]
    if len(table) == 0:
        logger.warning("Your study does not have any completed trials.")
        names: list[str] = []
    else:
        names = selected_params(table, params) if params is None else list(params)
        selected_params(table, names)
    if not names:
        logger.warning("params is an empty list.")
    fractions = rank_fractions(values)
    colors = rank_colors(fractions)
    colors[~table.feasible] = 204.0
    axes = {n: axis_of(table.params[n]) for n in names}
    return RankInfo(names, axes, table, values, colors, fractions, target_name, target is not None)


def plot_rank(
    study: Study,
    params: list[str] | None = None,
    *,
    target: Callable[[FrozenTrial], float] | None = None,
    target_name: str = "Objective Value",
) -> Any:
    """Plot parameter pairs as scatter plots, each trial coloured by the rank of its
    objective value (Optuna's plot: blue best-to-red worst for ascending values,
    infeasible trials grey; trials lacking a parameter are left out of its panels).

    Args:
        study: The study.
        params: The parameters (default: all, sorted by name; given ones keep their
            order).
        target: Maps a trial to the value ranked (needed to pick one objective).
        target_name: The title's and colour bar's name.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    info = rank_info(study, params, target, target_name)
    layout = go.Layout(title=f"Rank ({info.target_name})")
    n = len(info.params)
    if n == 0:
        return go.Figure(data=[], layout=layout)
    if n == 2:
        x, y = info.axes[info.params[0]], info.axes[info.params[1]]
        fig = go.Figure(data=_scatter(go, info, x, y, hover_texts(info)), layout=layout)
        _style(fig, x, y, None, None)
        fig.update_xaxes(title_text=x.name)
        fig.update_yaxes(title_text=y.name)
    else:
        fig = _imports.subplots()(
            rows=n,
            cols=n,
            shared_xaxes=True,
            shared_yaxes=True,
            horizontal_spacing=0.08 / n,
            vertical_spacing=0.08 / n,
        )
        fig.update_layout(layout)
        hover = hover_texts(info)
        for xi, xn in enumerate(info.params):
            for yi, yn in enumerate(info.params):
                x, y = info.axes[xn], info.axes[yn]
                for trace in _scatter(go, info, x, y, hover):
                    fig.add_trace(trace, row=yi + 1, col=xi + 1)
                _style(fig, x, y, yi + 1, xi + 1)
                if xi == 0:
                    fig.update_yaxes(title_text=yn, row=yi + 1, col=1)
                if yi == n - 1:
                    fig.update_xaxes(title_text=xn, row=yi + 1, col=xi + 1)
    fig.add_trace(_colorbar(go, info.values))
    return fig


def _style(fig: Any, x: Axis, y: Axis, row: int | None, col: int | None) -> None:
    for axis, update in ((x, fig.update_xaxes), (y, fig.update_yaxes)):
        rng: tuple[float, float] = axis.range
        kind = {}
        if axis.is_cat:
            kind = {"type": "category"}
        elif axis.is_log:
            rng = (math.log10(rng[0]), math.log10(rng[1]))
            kind = {"type": "log"}
        update(range=list(rng), row=row, col=col, **kind)


def hover_texts(info: RankInfo) -> npt.NDArray[Any]:
    """Optuna's hover text of each row (built once, shared by every panel)."""
    out = []
    for i, t in enumerate(info.table.trials):
        lines = [f"Trial #{t.number}", *(f"{k}: {v}" for k, v in t.params.items())]
        lines.append(f"<b>{info.target_name}: {info.values[i]}</b>")
        if info.has_custom_target and t.values is not None:
            lines += [f"Objective #{j}: {v}" for j, v in enumerate(t.values)]
        out.append("<br>".join(lines))
    return np.array(out, dtype=object)


def _scatter(go: Any, info: RankInfo, x: Axis, y: Axis, hover: npt.NDArray[Any]) -> list[Any]:
    """The panel's points: the feasible ones coloured by rank on the colour scale (numbers,
    which plotly validates quickly), the infeasible ones grey in a second trace."""
    both = x.present & y.present
    out = []
    for ok in (True, False):
        rows = np.flatnonzero(both & (info.table.feasible == ok))
        if not ok and rows.size == 0:
            continue
        marker: dict[str, Any] = {"line": {"width": 0.5, "color": "Grey"}}
        if ok:
            marker.update(color=info.fractions[rows], colorscale=COLORMAP, cmin=0, cmax=1)
        else:
            marker.update(color="#cccccc")
        out.append(
            go.Scatter(
                x=x.points[rows],
                y=y.points[rows],
                marker=marker,
                mode="markers",
                showlegend=False,
                hovertemplate="%{hovertext}<extra></extra>",
                hovertext=hover[rows],
            )
        )
    return out


def tick_info(values: FloatArray) -> tuple[list[float], list[str]]:
    """Colour-bar ticks at the quantiles of the values (Optuna's labels)."""
    where = [0.0, 0.25, 0.5, 0.75, 1.0]
    q = np.quantile(values, where) if values.size else np.zeros(5)
    names = ["min.", "25%", "50%", "75%", "max."]
    return where, [f"{n} ({v:3g})" for n, v in zip(names, q, strict=True)]


def _colorbar(go: Any, values: FloatArray) -> Any:
    ticks, text = tick_info(values)
    return go.Scatter(
        x=[None],
        y=[None],
        mode="markers",
        marker={
            "colorscale": COLORMAP,
            "showscale": True,
            "cmin": 0,
            "cmax": 1,
            "colorbar": {"thickness": 10, "tickvals": ticks, "ticktext": text},
        },
        hoverinfo="none",
        showlegend=False,
    )

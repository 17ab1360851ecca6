"""plot_intermediate_values: the learning curves reported with ``Trial.report``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.study import Study
from ferrotune.trial import TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._data import logger, trial_table

if TYPE_CHECKING:
    from ferrotune.visualization._data import FloatArray, IntArray


@dataclass(frozen=True)
class Curve:
    number: int
    steps: IntArray
    values: FloatArray
    feasible: bool


def intermediate_info(study: Study) -> list[Curve]:
    """The curves of the PRUNED, COMPLETE and RUNNING trials that reported values, steps
    sorted. For a study with several objectives the first objective's curve is drawn."""
    table = trial_table(study, states=(TrialState.PRUNED, TrialState.COMPLETE, TrialState.RUNNING))
    curves = []
    for i, t in enumerate(table.trials):
        iv = t.intermediate_values
        if not iv:
            continue
        steps = np.fromiter(iv.keys(), dtype=np.int64, count=len(iv))
        vals = np.array([v[0] if isinstance(v, list) else v for v in iv.values()], dtype=float)
        order = np.argsort(steps, kind="stable")
        curves.append(Curve(t.number, steps[order], vals[order], bool(table.feasible[i])))
    if len(table) == 0:
        logger.warning("Study instance does not contain trials.")
    elif not curves:
        logger.warning(
            "You need to set up the pruning feature to utilize `plot_intermediate_values()`"
        )
    return curves


def plot_intermediate_values(study: Study) -> Any:
    """Plot each trial's intermediate values against their steps (Optuna's plot): one line
    per PRUNED, COMPLETE or RUNNING trial that reported values; infeasible trials grey.

    Args:
        study: The study.

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    layout = go.Layout(
        title="Intermediate Values Plot",
        xaxis={"title": "Step"},
        yaxis={"title": "Intermediate Value"},
        showlegend=False,
    )
    curves = intermediate_info(study)
    marker: dict[str, Any] = {"maxdisplayed": 10}
    traces = [
        go.Scatter(
            x=c.steps,
            y=c.values,
            mode="lines+markers",
            marker=marker if c.feasible else {**marker, "color": "#CCCCCC"},
            name=f"Trial{c.number}",
        )
        for c in curves
    ]
    return go.Figure(data=traces, layout=layout)

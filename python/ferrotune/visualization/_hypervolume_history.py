"""plot_hypervolume_history: the hypervolume of the feasible Pareto front after each trial."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune._hypervolume import hypervolume
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.study import Study
from ferrotune.trial import TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._data import logger, loss_matrix, trial_table

if TYPE_CHECKING:
    from ferrotune.visualization._data import FloatArray, IntArray


@dataclass(frozen=True)
class HypervolumeInfo:
    numbers: IntArray
    values: FloatArray


def hypervolume_info(study: Study, reference_point: Sequence[float]) -> HypervolumeInfo:
    """The hypervolume after each COMPLETE trial (in order): recomputed with
    :func:`ferrotune.hypervolume` only when a feasible trial enters the front, so the
    cost grows with the number of front changes, not of trials."""
    if len(study.directions) < 2:
        raise InvalidArgumentError(
            "study: must be multi-objective. For single-objective optimization, "
            "please use plot_optimization_history instead."
        )
    ref = np.asarray(reference_point, dtype=np.float64)
    if ref.shape != (len(study.directions),):
        raise InvalidArgumentError(
            "reference_point: its dimension must be the same as the number of objectives."
        )
    if np.isnan(ref).any():
        raise InvalidArgumentError(f"reference_point: must not contain NaN, got {ref.tolist()}")
    table = trial_table(study, states=(TrialState.COMPLETE,), with_params=False)
    if len(table) == 0:
        logger.warning("Your study does not have any completed trials.")
    loss = loss_matrix(table.values, study.directions)
    ref_loss = loss_matrix(ref[None, :], study.directions)[0]
    values = np.zeros(len(table))
    front = np.zeros((0, ref.size))
    current = 0.0
    for i in range(len(table)):
        p = loss[i]
        entering = (
            table.feasible[i]
            and bool((p <= ref_loss).all())
            and not bool((front <= p).all(axis=1).any())
        )
        if entering:
            front = np.vstack([front[(front < p).any(axis=1)], p])
            current = hypervolume(front, ref_loss)
        values[i] = current
    if not table.feasible.any():
        logger.warning("Your study does not have any feasible trials.")
    return HypervolumeInfo(table.number, values)


def plot_hypervolume_history(study: Study, reference_point: Sequence[float]) -> Any:
    """Plot the hypervolume of the feasible trials' Pareto front after each trial
    (Optuna's plot, computed with :func:`ferrotune.hypervolume`).

    Args:
        study: A study with two or more objectives.
        reference_point: The reference point, one value per objective in the study's own
            directions (a maximised objective's reference is a lower bound).

    Returns:
        A ``plotly.graph_objects.Figure``.
    """
    go = _imports.go()
    info = hypervolume_info(study, reference_point)
    layout = go.Layout(
        title="Hypervolume History Plot", xaxis={"title": "Trial"}, yaxis={"title": "Hypervolume"}
    )
    return go.Figure(
        data=go.Scatter(x=info.numbers, y=info.values, mode="lines+markers"), layout=layout
    )

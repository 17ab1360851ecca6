"""plot_pareto_front: the trials in objective space, the non-dominated ones highlighted."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.study import Study
from ferrotune.trial import FrozenTrial, TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._data import (
    hover_text,
    logger,
    loss_matrix,
    nondominated,
    trial_table,
)

if TYPE_CHECKING:
    from ferrotune.visualization._data import FloatArray, IntArray


@dataclass(frozen=True)
class TrialGroup:
    """Trials of one kind: their numbers, plotted values ``(n, n_targets)`` and
    snapshots."""

    numbers: IntArray
    values: FloatArray
    trials: list[FrozenTrial]


@dataclass(frozen=True)
class ParetoInfo:
    n_targets: int
    target_names: list[str]
    best: TrialGroup
    non_best: TrialGroup
    infeasible: TrialGroup
    include_dominated_trials: bool
    has_constraints: bool


def _target_matrix(
    trials: list[FrozenTrial],
    raw: FloatArray,
    targets: Callable[[FrozenTrial], Sequence[float]] | None,
) -> FloatArray:
    if targets is None:
        return raw
    if not trials:
        return np.zeros((0, raw.shape[1]))
    rows = []
    for t in trials:
        v = targets(t)
        if not isinstance(v, Sequence):
            raise InvalidArgumentError(
                f"targets: should return a sequence of target values, returned {type(v)}"
            )
        rows.append([float(x) for x in v])
    return np.asarray(rows, dtype=np.float64).reshape(len(trials), -1)


def pareto_info(
    study: Study,
    target_names: list[str] | None,
    include_dominated_trials: bool,
    constraints_func: Callable[[FrozenTrial], Sequence[float]] | None,
    targets: Callable[[FrozenTrial], Sequence[float]] | None,
) -> ParetoInfo:
    """Split the COMPLETE trials into best (Pareto front of the feasible trials, by the
    study's objectives), other feasible, and infeasible ones (Optuna's rules)."""
    if constraints_func is not None:
        warnings.warn(
            "`constraints_func` is deprecated (as in Optuna 4.0); give the objective "
            "constraints_func to the sampler so that trials carry their constraints.",
            FutureWarning,
            stacklevel=3,
        )
    table = trial_table(study, states=(TrialState.COMPLETE,))
    if constraints_func is not None:
        feasible = np.array(
            [all(c <= 0.0 for c in constraints_func(t)) for t in table.trials], dtype=np.bool_
        )
        has_constraints = True
    else:
        feasible, has_constraints = table.feasible, bool(table.constrained.any())
    if targets is None and len(study.directions) not in (2, 3):
        raise InvalidArgumentError(
            "targets: plot_pareto_front draws 2 or 3 objectives; give targets for a study "
            f"with {len(study.directions)}"
        )
    front = np.zeros(len(table), dtype=np.bool_)
    rows = np.flatnonzero(feasible)
    front[rows[nondominated(loss_matrix(table.values[rows], study.directions))]] = True
    if not front.any():
        what = "completed and feasible" if has_constraints else "completed"
        logger.warning(f"Your study does not have any {what} trials.")
    dominated = feasible & ~front if include_dominated_trials else np.zeros_like(front)
    groups = []
    for mask in (front, dominated, ~feasible):
        idx = np.flatnonzero(mask)
        trials = [table.trials[i] for i in idx]
        values = _target_matrix(trials, table.values[idx], targets)
        groups.append(TrialGroup(table.number[idx], values, trials))
    n_targets = _n_targets(groups, target_names, targets, len(study.directions))
    if target_names is None:
        target_names = study.metric_names or [f"Objective {i}" for i in range(n_targets)]
    elif len(target_names) != n_targets:
        raise InvalidArgumentError(
            f"target_names: the length is supposed to be {n_targets}, got {len(target_names)}"
        )
    best, non_best, infeasible = groups
    return ParetoInfo(
        n_targets,
        list(target_names),
        best,
        non_best,
        infeasible,
        include_dominated_trials,
        has_constraints,
    )


def _n_targets(
    groups: list[TrialGroup], names: list[str] | None, targets: Any, n_objectives: int
) -> int:
    for g in (groups[0], groups[2]):
        if len(g.numbers):
            n = int(g.values.shape[1])
            break
    else:
        if names is not None:
            n = len(names)
        elif targets is None:
            n = n_objectives
        else:
            raise InvalidArgumentError(
                "target_names: needed when targets is given for a study without trials"
            )
    if n not in (2, 3):
        raise InvalidArgumentError(f"targets: plot_pareto_front draws 2 or 3 targets, got {n}")
    return n


def plot_pareto_front(
    study: Study,
    *,
    target_names: list[str] | None = None,
    include_dominated_trials: bool = True,
    constraints_func: Callable[[FrozenTrial], Sequence[float]] | None = None,
    targets: Callable[[FrozenTrial], Sequence[float]] | None = None,
) -> Any:
    """Plot the COMPLETE trials in objective space (Optuna's plot): the Pareto front in
    red (coloured by trial number), dominated trials in blue, infeasible ones grey.

    Whether a trial is on the front is decided by the study's objectives among the
    feasible trials (a trial is infeasible when a constraint value is > 0), even when
    ``targets`` changes what is drawn.

    Args:
        study: A study with 2 or 3 objectives (any number with ``targets``).
        target_names: Axis titles (default: the study's metric names, or
            ``"Objective i"``).
        include_dominated_trials: Also draw the feasible trials off the front.
        constraints_func: Deprecated (as in Optuna): computes a trial's constraints here
            instead of reading those stored with it.
        targets: Maps a trial to the 2 or 3 values drawn.

    Returns:
        A ``plotly.graph_objects.Figure`` (``Scatter`` traces for 2 targets,
        ``Scatter3d`` for 3).
    """
    go = _imports.go()
    info = pareto_info(study, target_names, include_dominated_trials, constraints_func, targets)
    data = []
    if info.has_constraints:
        data.append(_scatter(go, info, info.infeasible, "Infeasible Trial", "infeasible"))
        data.append(_scatter(go, info, info.non_best, "Feasible Trial", "dominated"))
    else:
        data.append(_scatter(go, info, info.non_best, "Trial", "dominated"))
    data.append(_scatter(go, info, info.best, "Best Trial", "best"))
    names = info.target_names
    if info.n_targets == 2:
        layout = go.Layout(title="Pareto-front Plot", xaxis_title=names[0], yaxis_title=names[1])
    else:
        layout = go.Layout(
            title="Pareto-front Plot",
            scene={"xaxis_title": names[0], "yaxis_title": names[1], "zaxis_title": names[2]},
        )
    return go.Figure(data=data, layout=layout)


def _marker(info: ParetoInfo, group: TrialGroup, kind: str) -> dict[str, Any]:
    if kind == "infeasible":
        return {"color": "#cccccc"}
    best = kind == "best"
    colorbar: dict[str, Any] = {"title": "Best Trial" if best else "Trial"}
    if best:
        colorbar.update(x=1.1 if info.include_dominated_trials else 1, xpad=40)
    return {
        "line": {"width": 0.5, "color": "Grey"},
        "color": group.numbers,
        "colorscale": "Reds" if best else "Blues",
        "colorbar": colorbar,
    }


def _scatter(go: Any, info: ParetoInfo, group: TrialGroup, label: str, kind: str) -> Any:
    v = group.values
    common = {
        "text": [hover_text(t) for t in group.trials],
        "mode": "markers",
        "hovertemplate": "%{text}<extra>" + label + "</extra>",
        "marker": _marker(info, group, kind),
        "showlegend": False,
    }
    if info.n_targets == 2:
        return go.Scatter(x=v[:, 0], y=v[:, 1], **common)
    return go.Scatter3d(x=v[:, 0], y=v[:, 1], z=v[:, 2], **common)

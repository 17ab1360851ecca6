"""plot_timeline: each trial's start and end as a horizontal bar."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.study import Study
from ferrotune.trial import TrialState
from ferrotune.visualization import _imports
from ferrotune.visualization._data import hover_text, logger, trial_table

if TYPE_CHECKING:
    from ferrotune.visualization._data import BoolArray, IntArray

#: Bar colour per state, as Optuna.
STATE_COLORS = {
    "COMPLETE": "blue",
    "FAIL": "red",
    "PRUNED": "orange",
    "RUNNING": "green",
    "WAITING": "gray",
}


@dataclass(frozen=True)
class TimelineInfo:
    numbers: IntArray
    states: list[TrialState]
    start: list[datetime.datetime]
    complete: list[datetime.datetime]
    infeasible: BoolArray
    hover: list[str]


def timeline_info(study: Study, n_recent_trials: int | None) -> TimelineInfo:
    """Bars as Optuna draws them: a trial without a start begins at the latest end; a
    RUNNING one ends one second after the latest end (or now, when it is still within 5
    times the longest run); a trial without an end lasts one second."""
    table = trial_table(study)
    trials = table.trials
    if n_recent_trials is not None:
        trials = trials[-n_recent_trials:]
    rows = range(len(table) - len(trials), len(table))
    now = datetime.datetime.now()
    second = datetime.timedelta(seconds=1)
    spans = [
        (t.datetime_start, t.datetime_complete)
        for t in table.trials
        if t.datetime_start is not None and t.datetime_complete is not None
    ]
    longest = max((b - a for a, b in spans), default=None)
    running = [
        t.datetime_start
        for t in table.trials
        if t.state == TrialState.RUNNING and t.datetime_start is not None
    ]
    alive = bool(running) if longest is None else any(now - s < 5 * longest for s in running)
    ends = [t.datetime_complete for t in table.trials if t.datetime_complete is not None]
    latest = now if alive else max(ends, default=now)
    starts, completes = [], []
    for t in trials:
        start = t.datetime_start or latest
        if t.state == TrialState.RUNNING:
            end = latest + second
        else:
            end = t.datetime_complete or start + second
        if end < start:
            logger.warning(
                f"The start and end times for Trial {t.number} seem to be reversed. "
                f"The start time is {start} and the end time is {end}."
            )
        starts.append(start)
        completes.append(end)
    if not trials:
        logger.warning("Your study does not have any trials.")
    infeasible = table.constrained[list(rows)] & ~table.feasible[list(rows)]
    return TimelineInfo(
        numbers=table.number[list(rows)],
        states=[t.state for t in trials],
        start=starts,
        complete=completes,
        infeasible=np.asarray(infeasible, dtype=np.bool_),
        hover=[hover_text(t) for t in trials],
    )


def plot_timeline(study: Study, n_recent_trials: int | None = None) -> Any:
    """Plot each trial as a horizontal bar from its start to its end, coloured by state
    (Optuna's plot; infeasible COMPLETE trials grey).

    Args:
        study: The study.
        n_recent_trials: Draw only the most recent this many trials (default: all); must
            be positive.

    Returns:
        A ``plotly.graph_objects.Figure``.

    Raises:
        InvalidArgumentError: ``n_recent_trials`` is 0 or negative.
    """
    if n_recent_trials is not None and n_recent_trials <= 0:
        raise InvalidArgumentError("n_recent_trials must be a positive integer or None.")
    go = _imports.go()
    info = timeline_info(study, n_recent_trials)
    fig = go.Figure()
    for state, name, rows in bar_groups(info):
        color = "#cccccc" if name == "INFEASIBLE" else STATE_COLORS[state.name]
        fig.add_trace(
            go.Bar(
                name=name,
                x=[(info.complete[i] - info.start[i]).total_seconds() * 1000 for i in rows],
                y=info.numbers[rows],
                base=[info.start[i].isoformat() for i in rows],
                text=[info.hover[i] for i in rows],
                hovertemplate="%{text}<extra>" + name + "</extra>",
                orientation="h",
                marker={"color": color},
                textposition="none",
            )
        )
    fig.update_xaxes(type="date")
    fig.update_layout(
        go.Layout(title="Timeline Plot", xaxis={"title": "Datetime"}, yaxis={"title": "Trial"})
    )
    fig.update_layout(showlegend=True)
    return fig


def bar_groups(info: TimelineInfo) -> list[tuple[TrialState, str, list[int]]]:
    """(state, legend name, rows) per non-empty group, states in name order and the
    infeasible COMPLETE trials before the feasible ones, as Optuna."""
    out: list[tuple[TrialState, str, list[int]]] = []
    for state in sorted(TrialState, key=lambda s: s.name):
        rows = [i for i, s in enumerate(info.states) if s == state]
        if state == TrialState.COMPLETE:
            bad = [i for i in rows if info.infeasible[i]]
            if bad:
                out.append((state, "INFEASIBLE", bad))
            rows = [i for i in rows if not info.infeasible[i]]
        if rows:
            out.append((state, state.name, rows))
    return out

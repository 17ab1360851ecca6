"""matplotlib's plot_timeline."""

from __future__ import annotations

from typing import Any

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.study import Study
from ferrotune.visualization import _imports
from ferrotune.visualization._timeline import STATE_COLORS, bar_groups, timeline_info
from ferrotune.visualization.matplotlib._utils import ggplot


def plot_timeline(study: Study, n_recent_trials: int | None = None) -> Any:
    """Plot each trial as a horizontal bar from its start to its end, with matplotlib
    (the data of :func:`ferrotune.visualization.plot_timeline`).

    Returns:
        A ``matplotlib.axes.Axes``.
    """
    if n_recent_trials is not None and n_recent_trials <= 0:
        raise InvalidArgumentError("n_recent_trials must be a positive integer or None.")
    info = timeline_info(study, n_recent_trials)
    dates = _imports.mpl_module("matplotlib.dates")
    with ggplot() as plt:
        fig, ax = plt.subplots()
        ax.set_title("Timeline Plot")
        ax.set_xlabel("Datetime")
        ax.set_ylabel("Trial")
        for state, name, rows in bar_groups(info):
            color = "#cccccc" if name == "INFEASIBLE" else STATE_COLORS[state.name]
            starts = dates.date2num([info.start[i] for i in rows])
            ends = dates.date2num([info.complete[i] for i in rows])
            ax.barh(info.numbers[rows], ends - starts, left=starts, color=color, label=name)
        if info.start:
            ax.xaxis.set_major_formatter(dates.DateFormatter("%H:%M:%S"))
            ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0))
            fig.autofmt_xdate()
        fig.tight_layout()
    return ax

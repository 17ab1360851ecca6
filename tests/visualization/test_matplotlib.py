"""ferrotune.visualization.matplotlib: the drawn artists checked against the study, and
every plot saved as a PNG (to $FERROTUNE_ARTIFACTS) for a person to look at."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.trial import TrialState

mpl = pytest.importorskip("matplotlib")
mpl.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

from matplotlib.collections import LineCollection, PathCollection  # noqa: E402

from ferrotune.visualization import matplotlib as vm  # noqa: E402
from tests.visualization._studies import KnownScores, make_multi, make_single  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    plt.close("all")


def save(ax: Any, artifacts: Path, name: str) -> Path:
    first = ax.flat[0] if isinstance(ax, np.ndarray) else ax
    path = artifacts / f"matplotlib_{name}.png"
    first.figure.savefig(path, dpi=70)
    assert path.stat().st_size > 5_000  # a real image, not a blank canvas
    return path


def complete(study: ferrotune.Study) -> list[ferrotune.FrozenTrial]:
    return study.get_trials(states=(TrialState.COMPLETE,))


def offsets(ax: Any) -> list[np.ndarray]:
    return [np.asarray(c.get_offsets()) for c in ax.collections if isinstance(c, PathCollection)]


def test_history(single: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_optimization_history(single)
    (points,) = offsets(ax)
    assert len(points) == len(complete(single))
    best = ax.get_lines()[0].get_ydata()
    finite = best[~np.isnan(best)]
    assert (np.diff(finite) <= 0).all() and finite[-1] == pytest.approx(single.best_value)
    assert ax.get_title() == "Optimization History Plot" and ax.get_xlabel() == "Trial"
    save(ax, artifacts, "optimization_history")
    ax = vm.plot_optimization_history([single, make_single(40, seed=7)], error_bar=True)
    save(ax, artifacts, "optimization_history_error_bar")


def test_intermediate_values(single: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_intermediate_values(single)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == sum(
        bool(t.intermediate_values) for t in single.trials if t.state != TrialState.FAIL
    )
    save(ax, artifacts, "intermediate_values")


def test_parallel_coordinate(
    single: ferrotune.Study, multi: ferrotune.Study, artifacts: Path
) -> None:
    ax = vm.plot_parallel_coordinate(single)
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(lines.get_segments()) == len(complete(single))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["Objective Value", "c", "lr", "n", "x"]
    twins = [a for a in ax.figure.axes if a is not ax and a.get_label() != "<colorbar>"]
    cat = [t.get_text() for t in twins[0].get_yticklabels()]
    assert sorted(cat) == ["a", "b", "c"]
    assert twins[1].get_yscale() == "log"
    assert "None" in [t.get_text() for t in twins[2].get_yticklabels()]
    save(ax, artifacts, "parallel_coordinate")
    save(vm.plot_parallel_coordinate(multi), artifacts, "parallel_coordinate_multi")


def test_contour(single: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_contour(single, params=["lr", "x"])
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "lr" and ax.get_ylabel() == "x"
    feasible = offsets(ax)[0]
    assert len(feasible) == len(complete(single))
    save(ax, artifacts, "contour_pair")
    axs = vm.plot_contour(single)
    assert axs.shape == (4, 4)
    assert [t.get_text() for t in axs[0, 0].get_yticklabels()] == ["a", "b", "c"]
    save(axs, artifacts, "contour_matrix")


def test_slice(single: ferrotune.Study, artifacts: Path) -> None:
    axs = vm.plot_slice(single)
    assert [a.get_xlabel() for a in axs] == ["c", "lr", "n", "x"]
    assert [t.get_text() for t in axs[0].get_xticklabels()] == ["'a'", "'b'", "'c'"]
    assert axs[1].get_xscale() == "log"
    assert len(offsets(axs[2])[0]) == sum("n" in t.params for t in complete(single))
    save(axs, artifacts, "slice")


def test_param_importances(
    single: ferrotune.Study, multi: ferrotune.Study, artifacts: Path
) -> None:
    ax = vm.plot_param_importances(single, evaluator=KnownScores())
    widths = [p.get_width() for p in ax.patches]
    assert widths == sorted(widths) and sum(widths) == pytest.approx(1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == ["c", "n", "lr", "x"]
    save(ax, artifacts, "param_importances")
    ax = vm.plot_param_importances(multi, evaluator=KnownScores())
    assert len(ax.patches) == 8
    save(ax, artifacts, "param_importances_multi")


def test_edf(single: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_edf(single)
    y = ax.get_lines()[0].get_ydata()
    assert (np.diff(y) >= 0).all() and y[-1] == 1.0
    save(ax, artifacts, "edf")


def test_rank(single: ferrotune.Study, constrained: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_rank(single, params=["x", "lr"])
    (points,) = ax.collections
    colours = points.get_facecolors()
    values = np.array([t.value for t in complete(single)])
    best, worst = colours[np.argmin(values)], colours[np.argmax(values)]
    assert best[2] > best[0] and worst[0] > worst[2]  # blue for the best, red the worst
    assert ax.get_yscale() == "log"
    save(ax, artifacts, "rank")
    save(vm.plot_rank(constrained), artifacts, "rank_constrained")
    # One parameter: one Axes, the parameter against itself (as Optuna), every trial.
    one = vm.plot_rank(single, params=["x"])
    (points,) = one.collections
    xs = np.array([t.params["x"] for t in complete(single)])
    assert len(points.get_offsets()) == len(xs)
    assert np.allclose(sorted(points.get_offsets()[:, 0]), sorted(xs))


def test_pareto_front(multi: ferrotune.Study, multi3: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_pareto_front(multi)
    best, rest = offsets(ax)
    assert len(best) == len(multi.best_trials) and len(best) + len(rest) == 80
    save(ax, artifacts, "pareto_front")
    ax = vm.plot_pareto_front(multi3)
    assert ax.name == "3d" and ax.get_zlabel() == "Objective 2"
    save(ax, artifacts, "pareto_front_3d")
    ax = vm.plot_pareto_front(make_multi(constrained=True))
    assert len(offsets(ax)) == 3
    save(ax, artifacts, "pareto_front_constrained")


def test_hypervolume_history(multi: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_hypervolume_history(multi, [1.5, -1.0])
    y = ax.get_lines()[0].get_ydata()
    assert len(y) == 80 and (np.diff(y) >= -1e-12).all() and y[-1] > 0
    save(ax, artifacts, "hypervolume_history")


def test_timeline(single: ferrotune.Study, artifacts: Path) -> None:
    ax = vm.plot_timeline(single)
    assert len(ax.patches) == len(single.trials)
    labels = {t.get_text() for t in ax.get_legend().get_texts()}
    assert labels == {t.state.name for t in single.trials}
    save(ax, artifacts, "timeline")


@pytest.mark.parametrize(
    "plot",
    [
        vm.plot_optimization_history,
        vm.plot_intermediate_values,
        vm.plot_parallel_coordinate,
        vm.plot_contour,
        vm.plot_slice,
        vm.plot_edf,
        vm.plot_rank,
        vm.plot_timeline,
        lambda s: vm.plot_param_importances(s, evaluator=KnownScores()),
    ],
)
def test_empty_study(plot, empty, warnings_logged) -> None:  # type: ignore[no-untyped-def]
    ax = plot(empty)
    assert not offsets(ax) and not ax.get_lines() and not ax.patches
    assert warnings_logged.records

"""ferrotune.visualization (plotly): every plot's figure data checked against the study."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError
from ferrotune.trial import TrialState

go = pytest.importorskip("plotly.graph_objects")

from ferrotune import visualization as vis  # noqa: E402
from tests.visualization._studies import DISTS, KnownScores, make_multi, make_single  # noqa: E402


def complete(study: ferrotune.Study) -> list[ferrotune.FrozenTrial]:
    return study.get_trials(states=(TrialState.COMPLETE,))


def dominates(a: np.ndarray, b: np.ndarray) -> bool:
    return bool((a <= b).all() and (a < b).any())


# ------------------------------------------------------------------ optimization history
def test_history_points_and_a_monotone_best_line(single: ferrotune.Study) -> None:
    fig = vis.plot_optimization_history(single)
    values = [t.value for t in complete(single)]
    markers, best, infeasible = fig.data
    assert len(markers.x) == len(values) and sorted(markers.y) == sorted(values)
    assert list(markers.x) == [t.number for t in complete(single)]
    best_y = np.asarray(best.y, dtype=float)
    assert len(best.x) == len(single.trials)  # the line spans every trial number
    finite = best_y[~np.isnan(best_y)]
    assert (np.diff(finite) <= 0).all() and finite[-1] == pytest.approx(min(values))
    assert len(infeasible.x) == 0
    assert fig.layout.xaxis.title.text == "Trial"
    assert fig.layout.yaxis.title.text == "Objective Value"


def test_history_of_several_studies_and_error_bars() -> None:
    a, b = make_single(30, seed=3), make_single(40, seed=4)
    fig = vis.plot_optimization_history([a, b])
    names = [t.name for t in fig.data]
    assert (
        f"Objective Value of {a.study_name}" in names and f"Best Value of {b.study_name}" in names
    )
    bar = vis.plot_optimization_history([a, b], error_bar=True)
    markers = bar.data[0]
    assert markers.error_y.array is not None and len(markers.error_y.array) == len(markers.x)
    # Trial 0 is COMPLETE in both: its mean and standard deviation are the two values'.
    v = [a.trials[0].value, b.trials[0].value]
    assert markers.y[0] == pytest.approx(np.mean(v)) and markers.error_y.array[0] == pytest.approx(
        np.std(v)
    )
    assert any(getattr(t, "fill", None) == "tonexty" for t in bar.data)
    # A study without trials adds nothing to the mean.
    alone = vis.plot_optimization_history([a, ferrotune.create_study()], error_bar=True)
    assert list(alone.data[0].y) == pytest.approx([t.value for t in complete(a)])


def test_history_infeasible_trials_are_grey_and_never_best(constrained: ferrotune.Study) -> None:
    fig = vis.plot_optimization_history(constrained)
    markers, best, infeasible = fig.data
    feasible = [t for t in complete(constrained) if t.params["x"] <= 2.0]
    assert len(markers.x) == len(feasible) and len(infeasible.x) == 40 - len(feasible)
    assert infeasible.marker.color == "#cccccc"
    assert np.nanmin(np.asarray(best.y, dtype=float)) == pytest.approx(
        min(t.value for t in feasible)
    )


def test_history_needs_a_target_for_several_objectives(multi: ferrotune.Study) -> None:
    with pytest.raises(InvalidArgumentError, match="target"):
        vis.plot_optimization_history(multi)
    fig = vis.plot_optimization_history(multi, target=lambda t: t.values[1], target_name="f1")
    assert len(fig.data[0].x) == 80 and len(fig.data) == 2  # no best line with a target


# ------------------------------------------------------------------ intermediate values
def test_intermediate_values_one_sorted_curve_per_reporting_trial(single: ferrotune.Study) -> None:
    fig = vis.plot_intermediate_values(single)
    reporting = [
        t
        for t in single.trials
        if t.intermediate_values and t.state in (TrialState.COMPLETE, TrialState.PRUNED)
    ]
    assert len(fig.data) == len(reporting)
    pruned = [t for t in fig.data if list(t.y) == [50.0, 45.0, 40.0]]
    assert pruned and list(pruned[0].x) == [0, 1, 2]  # steps sorted
    assert fig.layout.xaxis.title.text == "Step"


# ------------------------------------------------------------------ parallel coordinates
def _annotation_texts(fig: go.Figure, axis: int) -> list[str]:
    return [a.text for a in fig.layout.annotations if a.x == axis]


def test_parallel_coordinate_draws_each_trial_once(single: ferrotune.Study) -> None:
    fig = vis.plot_parallel_coordinate(single)
    labels = list(fig.layout.xaxis.ticktext)
    assert labels == ["Objective Value", "c", "lr", "n", "x"]
    lines = [t for t in fig.data if t.mode == "lines" and t.x is not None and len(t.x) > 1]
    n_lines = sum(int(np.isnan(np.asarray(t.y, dtype=float)).sum()) for t in lines)
    assert n_lines == len(complete(single))
    ys = np.concatenate([np.asarray(t.y, dtype=float) for t in lines])
    assert np.nanmin(ys) >= 0.0 and np.nanmax(ys) <= 1.0
    # A categorical axis has one tick per choice, the conditional one a "None" tick, and
    # the log axis' ticks are powers of ten.
    assert set(_annotation_texts(fig, 1)) == {"a", "b", "c"}
    assert "None" in _annotation_texts(fig, 3)
    assert {"0.0001", "0.001", "0.01"} <= set(_annotation_texts(fig, 2))


def test_parallel_coordinate_constraints_and_several_objectives(
    constrained: ferrotune.Study, multi: ferrotune.Study
) -> None:
    fig = vis.plot_parallel_coordinate(constrained, params=["x"])
    dashes = {t.line.dash for t in fig.data if t.mode == "lines" and t.x is not None}
    assert {"solid", "dot"} <= dashes
    fig = vis.plot_parallel_coordinate(multi)
    assert list(fig.layout.xaxis.ticktext)[:2] == ["Objective 0", "Objective 1"]
    colorbar = fig.data[-1].marker.colorbar
    assert colorbar.title.text == "Pareto Rank"
    with pytest.raises(InvalidArgumentError, match="zzz"):
        vis.plot_parallel_coordinate(constrained, params=["zzz"])


# ------------------------------------------------------------------ contour
def test_contour_two_params_log_and_categorical_axes(single: ferrotune.Study) -> None:
    fig = vis.plot_contour(single, params=["lr", "c"])
    contour, feasible, infeasible = fig.data
    assert fig.layout.xaxis.title.text == "c" and fig.layout.yaxis.title.text == "lr"
    assert fig.layout.xaxis.type == "category" and fig.layout.yaxis.type == "log"
    lrs = [t.params["lr"] for t in complete(single)]
    lo, hi = math.log10(min(lrs)), math.log10(max(lrs))
    pad = (hi - lo) * 0.05
    assert fig.layout.yaxis.range == pytest.approx((lo - pad, hi + pad))
    assert list(contour.x) == ["a", "b", "c"]
    z = np.asarray(contour.z, dtype=float)
    assert z.shape == (len(contour.y), 3)
    assert np.nanmin(z) == pytest.approx(single.best_value)
    assert len(feasible.x) == len(lrs) and len(infeasible.x) == 0


def test_contour_leaves_out_trials_without_the_parameter(single: ferrotune.Study) -> None:
    fig = vis.plot_contour(single, params=["n", "x"])
    having = [t for t in complete(single) if "n" in t.params]
    assert len(fig.data[1].x) == len(having)
    z = np.asarray(fig.data[0].z, dtype=float)
    assert np.nanmin(z) == pytest.approx(min(t.value for t in having))


def test_contour_of_parameters_never_together_warns() -> None:
    study = ferrotune.create_study()
    for i in range(6):
        name = "a" if i % 2 else "b"
        dist = DISTS["x"]
        study.add_trial(
            ferrotune.create_trial(params={name: i - 3.0}, distributions={name: dist}, value=i)
        )
    with pytest.warns(UserWarning, match="cannot co-exist"):
        fig = vis.plot_contour(study)
    assert fig.data[0].z is None


def test_contour_matrix_and_large_studies_bin_the_grid() -> None:
    study = make_single(300, seed=5)
    fig = vis.plot_contour(study)
    contours = [t for t in fig.data if isinstance(t, go.Contour) and t.z is not None]
    assert len(contours) == 4 * 3  # every ordered pair of the 4 parameters
    x_contour = next(t for t in contours if len(t.x) > 50)
    assert len(x_contour.x) <= vis._contour.MAX_GRID + 2
    assert sum(bool(t.showscale) for t in contours) == 1


# ------------------------------------------------------------------ slice
def test_slice_panels(single: ferrotune.Study) -> None:
    fig = vis.plot_slice(single)
    by_axis = {t.xaxis: t for t in fig.data if t.name == "Feasible Trial"}
    layout = fig.layout
    titles = [layout[f"xaxis{i if i > 1 else ''}"].title.text for i in range(1, 5)]
    assert titles == ["c", "lr", "n", "x"]
    assert layout.xaxis.type == "category"
    assert list(layout.xaxis.categoryarray) == ["'a'", "'b'", "'c'"]
    assert layout.xaxis2.type == "log"
    n_points = len(by_axis["x3"].x)
    assert n_points == sum("n" in t.params for t in complete(single))
    assert len(by_axis["x4"].x) == len(complete(single))


# ------------------------------------------------------------------ importances
def test_param_importances_bars(single: ferrotune.Study, multi: ferrotune.Study) -> None:
    fig = vis.plot_param_importances(single, evaluator=KnownScores())
    (bar,) = fig.data
    total = sum(KnownScores.SCORES.values())
    assert list(bar.y) == ["c", "n", "lr", "x"]  # smallest at the bottom
    assert list(bar.x) == pytest.approx([KnownScores.SCORES[k] / total for k in bar.y])
    assert bar.text[0] == "<0.01" and bar.orientation == "h"
    fig = vis.plot_param_importances(multi, evaluator=KnownScores())
    assert [b.name for b in fig.data] == ["Objective Value 0", "Objective Value 1"]


# ------------------------------------------------------------------ EDF
def test_edf_is_a_distribution_function(single: ferrotune.Study) -> None:
    other = make_single(20, seed=9)
    fig = vis.plot_edf([single, other])
    assert [t.name for t in fig.data] == [single.study_name, other.study_name]
    for trace in fig.data:
        y = np.asarray(trace.y)
        assert (np.diff(y) >= 0).all() and y[0] >= 0.0 and y[-1] <= 1.0
    assert fig.data[0].y[-1] == 1.0 or fig.data[1].y[-1] == 1.0
    values = np.array([t.value for t in complete(single)])
    x = np.asarray(fig.data[0].x)
    assert fig.data[0].y[50] == pytest.approx((values <= x[50]).mean())
    assert list(fig.layout.yaxis.range) == [0, 1]


# ------------------------------------------------------------------ rank
def test_rank_colours_follow_the_objective(single: ferrotune.Study) -> None:
    fig = vis.plot_rank(single, params=["x", "lr"])
    scatter, colorbar = fig.data
    assert len(scatter.x) == len(complete(single))
    colour = np.asarray(scatter.marker.color, dtype=float)
    values = np.array([t.value for t in complete(single)])
    assert colour[np.argmin(values)] == 0.0 and colour[np.argmax(values)] == 1.0
    assert fig.layout.yaxis.type == "log"
    assert colorbar.marker.colorbar.ticktext[0].startswith("min.")
    matrix = vis.plot_rank(single)
    assert len([t for t in matrix.data if t.x is not None and len(t.x) > 1]) == 16


# ------------------------------------------------------------------ Pareto front
def test_pareto_front_two_objectives(multi: ferrotune.Study) -> None:
    fig = vis.plot_pareto_front(multi)
    dominated, best = fig.data
    loss = lambda x, y: np.array([x, -y])  # noqa: E731 - minimise 0, maximise 1
    front = [loss(x, y) for x, y in zip(best.x, best.y, strict=True)]
    rest = [loss(x, y) for x, y in zip(dominated.x, dominated.y, strict=True)]
    assert len(front) + len(rest) == 80
    assert not any(dominates(a, b) for a in front for b in front)
    assert all(any(dominates(a, b) for a in front) for b in rest)
    assert {t.number for t in multi.best_trials} == set(best.marker.color)
    assert fig.layout.xaxis.title.text == "Objective 0"
    only = vis.plot_pareto_front(multi, include_dominated_trials=False)
    assert len(only.data[0].x) == 0 and len(only.data[1].x) == len(front)


def test_pareto_front_three_objectives_constraints_and_targets(multi3: ferrotune.Study) -> None:
    fig = vis.plot_pareto_front(multi3)
    assert all(isinstance(t, go.Scatter3d) for t in fig.data)
    assert fig.layout.scene.zaxis.title.text == "Objective 2"
    cons = make_multi(constrained=True)
    fig = vis.plot_pareto_front(cons)
    infeasible, _, best = fig.data
    assert all(x > 0.8 for x in infeasible.x) and all(x <= 0.8 for x in best.x)
    assert infeasible.marker.color == "#cccccc"
    fig = vis.plot_pareto_front(
        multi3, targets=lambda t: (t.values[0], t.values[2]), target_names=["a", "c"]
    )
    assert isinstance(fig.data[0], go.Scatter) and fig.layout.yaxis.title.text == "c"
    with pytest.raises(InvalidArgumentError):
        vis.plot_pareto_front(multi3, target_names=["just one"])


def test_pareto_front_constraints_func_is_deprecated_but_applied(multi: ferrotune.Study) -> None:
    with pytest.warns(FutureWarning, match="constraints_func"):
        fig = vis.plot_pareto_front(multi, constraints_func=lambda t: [t.values[0] - 0.5])
    infeasible, feasible, best = fig.data
    assert len(infeasible.x) == sum(t.values[0] > 0.5 for t in multi.trials) > 0
    assert all(x <= 0.5 for x in list(feasible.x) + list(best.x))


# ------------------------------------------------------------------ hypervolume history
def _hv2(points: np.ndarray, ref: np.ndarray) -> float:
    """2-D hypervolume, minimising both: the textbook sweep."""
    pts = points[(points < ref).all(axis=1)]
    pts = pts[np.lexsort((pts[:, 1], pts[:, 0]))]
    volume, y_prev = 0.0, ref[1]
    for x, y in pts:
        if y < y_prev:
            volume += (ref[0] - x) * (y_prev - y)
            y_prev = y
    return volume


def test_hypervolume_history_matches_the_sweep(multi: ferrotune.Study) -> None:
    ref = [1.5, -1.0]
    fig = vis.plot_hypervolume_history(multi, ref)
    y = np.asarray(fig.data[0].y)
    assert len(y) == 80 and (np.diff(y) >= -1e-12).all()
    loss = np.array([[t.values[0], -t.values[1]] for t in complete(multi)])
    for k in (10, 40, 80):
        assert y[k - 1] == pytest.approx(_hv2(loss[:k], np.array([1.5, 1.0])))
    with pytest.raises(InvalidArgumentError):
        vis.plot_hypervolume_history(multi, [1.0])
    with pytest.raises(InvalidArgumentError):
        vis.plot_hypervolume_history(make_single(5), [1.0])
    # A NaN reference point drew a hypervolume of 0 everywhere (Optuna refuses it).
    with pytest.raises(InvalidArgumentError, match="reference_point"):
        vis.plot_hypervolume_history(multi, [float("nan"), -1.0])


# ------------------------------------------------------------------ timeline
def test_timeline_bars_by_state(single: ferrotune.Study) -> None:
    fig = vis.plot_timeline(single)
    by_name = {t.name: len(t.y) for t in fig.data}
    states = [t.state.name for t in single.trials]
    assert by_name == {s: states.count(s) for s in set(states)}
    assert fig.layout.xaxis.type == "date"
    assert len(vis.plot_timeline(single, n_recent_trials=5).data[0].y) <= 5
    with pytest.raises(InvalidArgumentError):
        vis.plot_timeline(single, n_recent_trials=0)


# ------------------------------------------------------------------ empty studies
@pytest.mark.parametrize(
    "plot",
    [
        vis.plot_optimization_history,
        vis.plot_intermediate_values,
        vis.plot_parallel_coordinate,
        vis.plot_contour,
        vis.plot_slice,
        vis.plot_edf,
        vis.plot_rank,
        vis.plot_timeline,
        lambda s: vis.plot_param_importances(s, evaluator=KnownScores()),
    ],
)
def test_empty_study_warns_and_draws_nothing(plot, empty, warnings_logged) -> None:  # type: ignore[no-untyped-def]
    fig = plot(empty)
    assert isinstance(fig, go.Figure)
    assert all(t.x is None or len(t.x) == 0 for t in fig.data if not isinstance(t, go.Contour))
    assert warnings_logged.records, "an empty study is reported in the log"


def test_empty_multi_objective_pareto_and_hypervolume(warnings_logged) -> None:  # type: ignore[no-untyped-def]
    study = ferrotune.create_study(directions=["minimize", "minimize"])
    fig = vis.plot_pareto_front(study)
    assert all(len(t.x) == 0 for t in fig.data)
    fig = vis.plot_hypervolume_history(study, [1.0, 1.0])
    assert len(fig.data[0].x) == 0
    assert warnings_logged.records


def test_only_pruned_and_failed_trials_draw_no_points(warnings_logged) -> None:  # type: ignore[no-untyped-def]
    study = ferrotune.create_study()
    study.add_trial(ferrotune.create_trial(state=TrialState.FAIL))
    study.add_trial(ferrotune.create_trial(state=TrialState.PRUNED, intermediate_values={0: 1.0}))
    assert vis.plot_optimization_history(study).data == ()
    assert len(vis.plot_intermediate_values(study).data) == 1
    assert vis.plot_slice(study).data == ()


# ------------------------------------------------------------------ PNGs through kaleido
def test_every_plot_renders_to_png(single, constrained, multi, multi3, artifacts) -> None:  # type: ignore[no-untyped-def]
    """Each plotly figure rendered by kaleido (it drives a Chrome or Chromium; skipped
    when neither is installed) into $FERROTUNE_ARTIFACTS."""
    pio = pytest.importorskip("plotly.io")
    pytest.importorskip("kaleido")
    chromium = pytest.importorskip("choreographer.browsers.chromium")
    figures = {
        "optimization_history": vis.plot_optimization_history(single),
        "optimization_history_error_bar": vis.plot_optimization_history(
            [single, make_single(40, seed=7)], error_bar=True
        ),
        "intermediate_values": vis.plot_intermediate_values(single),
        "parallel_coordinate": vis.plot_parallel_coordinate(single),
        "parallel_coordinate_multi": vis.plot_parallel_coordinate(multi),
        "parallel_coordinate_constrained": vis.plot_parallel_coordinate(constrained),
        "contour_pair": vis.plot_contour(single, params=["lr", "x"]),
        "contour_matrix": vis.plot_contour(single),
        "slice": vis.plot_slice(single),
        "param_importances": vis.plot_param_importances(single, evaluator=KnownScores()),
        "edf": vis.plot_edf(single),
        "rank": vis.plot_rank(single),
        "pareto_front": vis.plot_pareto_front(multi),
        "pareto_front_3d": vis.plot_pareto_front(multi3),
        "pareto_front_constrained": vis.plot_pareto_front(make_multi(constrained=True)),
        "hypervolume_history": vis.plot_hypervolume_history(multi, [1.5, -1.0]),
        "timeline": vis.plot_timeline(single),
    }
    paths = [artifacts / f"plotly_{name}.png" for name in figures]
    try:
        pio.write_images(list(figures.values()), paths, width=900, height=700)
    except chromium.ChromeNotFoundError:
        pytest.skip("kaleido found no Chrome or Chromium to render with")
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 10_000


def test_a_target_without_a_value_is_left_out_and_a_bad_one_named() -> None:
    # None raised a bare TypeError from float() (Optuna draws the figure).
    study = make_single(5)
    fig = vis.plot_optimization_history(
        study, target=lambda t: None if t.number % 2 else t.value, target_name="z"
    )
    y = np.asarray(fig.data[0].y, dtype=float)
    assert np.isnan(y[1::2]).all() and np.isfinite(y[::2]).all()
    with (
        pytest.raises(InvalidArgumentError, match="target: returned 'a' for trial 0"),
        pytest.warns(UserWarning),
    ):
        vis.plot_optimization_history(study, target=lambda t: "a", target_name="z")

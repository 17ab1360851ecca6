"""The figures' data against Optuna's own plot functions on the same trials (the
reference implementation), and the numpy helpers against plain loops."""

from __future__ import annotations

import itertools
import logging
import warnings
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.visualization import _data
from ferrotune.visualization._contour import fill_gaps

optuna = pytest.importorskip("optuna")
pytest.importorskip("plotly")

import optuna.visualization as ovis  # noqa: E402

from ferrotune import visualization as vis  # noqa: E402
from tests.visualization._studies import DISTS, objective, random_params  # noqa: E402

optuna.logging.set_verbosity(logging.ERROR)


def twin_studies(n: int = 50, n_objectives: int = 1, seed: int = 11) -> tuple[Any, Any]:
    """The same trials in a ferrotune and an Optuna study (a conditional parameter, a
    log and a categorical one; with constraints on every fifth trial)."""
    rng = np.random.default_rng(seed)
    o_dists = {
        "x": optuna.distributions.FloatDistribution(-5.0, 5.0),
        "lr": optuna.distributions.FloatDistribution(1e-5, 1e-1, log=True),
        "n": optuna.distributions.IntDistribution(1, 10),
        "c": optuna.distributions.CategoricalDistribution(["a", "b", "c"]),
    }
    directions = ["minimize"] + ["maximize"] * (n_objectives - 1)
    ours = ferrotune.create_study(directions=directions)
    theirs = optuna.create_study(directions=directions)
    for i in range(n):
        p = random_params(rng, i)
        values = [objective(p)] + [float(rng.uniform(0, 10)) for _ in range(n_objectives - 1)]
        cons = {"c0": float(p["x"]) - 3.0} if i % 5 == 0 else None  # type: ignore[arg-type]
        ours.add_trial(
            ferrotune.create_trial(
                params=p, distributions={k: DISTS[k] for k in p}, values=values, constraints=cons
            )
        )
        system = {"constraints": [cons["c0"]]} if cons else {}
        theirs.add_trial(
            optuna.trial.create_trial(
                params=p,
                distributions={k: o_dists[k] for k in p},
                values=values,
                system_attrs=system,
            )
        )
    return ours, theirs


@pytest.fixture(scope="module")
def twins() -> tuple[Any, Any]:
    return twin_studies()


def arrays(trace: Any) -> tuple[np.ndarray, np.ndarray]:
    return np.asarray(trace.x, dtype=object), np.asarray(trace.y, dtype=float)


def test_history_matches_optuna(twins: tuple[Any, Any]) -> None:
    ours, theirs = twins
    for a, b in zip(
        vis.plot_optimization_history(ours).data,
        ovis.plot_optimization_history(theirs).data,
        strict=True,
    ):
        assert list(a.x) == list(b.x) and a.name == b.name
        np.testing.assert_allclose(np.asarray(a.y, float), np.asarray(b.y, float))


def test_slice_matches_optuna(twins: tuple[Any, Any]) -> None:
    ours, theirs = twins
    a, b = vis.plot_slice(ours), ovis.plot_slice(theirs)
    assert len(a.data) == len(b.data)
    for ta, tb in zip(a.data, b.data, strict=True):
        assert list(ta.x) == list(tb.x)
        np.testing.assert_allclose(np.asarray(ta.y, float), np.asarray(tb.y, float))
    assert a.layout.xaxis.categoryarray == b.layout.xaxis.categoryarray


def test_contour_grid_matches_optuna_below_the_binning_size(twins: tuple[Any, Any]) -> None:
    ours, theirs = twins
    for params in (["lr", "x"], ["c", "n"], ["c", "lr"]):
        a, b = vis.plot_contour(ours, params=params), ovis.plot_contour(theirs, params=params)
        ca, cb = a.data[0], b.data[0]
        for mine, ref in ((ca.x, cb.x), (ca.y, cb.y)):
            if isinstance(ref[0], str):
                assert list(mine) == list(ref)
            else:
                np.testing.assert_allclose(np.asarray(mine, float), np.asarray(ref, float))
        np.testing.assert_allclose(np.asarray(ca.z, float), np.asarray(cb.z, float))
        assert a.layout.xaxis.type == b.layout.xaxis.type
        assert a.layout.yaxis.range == pytest.approx(b.layout.yaxis.range)


def test_parallel_coordinate_lines_match_optuna(twins: tuple[Any, Any]) -> None:
    ours, theirs = twins
    a = vis.plot_parallel_coordinate(ours, params=["lr", "n", "x"])
    b = ovis.plot_parallel_coordinate(theirs, params=["lr", "n", "x"])
    theirs_rows = sorted(
        tuple(np.round(t.y, 9)) for t in b.data if t.mode == "lines" and len(t.x) == 4
    )
    ours_rows = []
    for t in a.data:
        if t.mode == "lines" and t.x is not None and len(t.x) > 1:
            y = np.asarray(t.y, dtype=float).reshape(-1, 5)[:, :4]
            ours_rows += [tuple(np.round(r, 9)) for r in y]
    assert sorted(ours_rows) == theirs_rows
    assert {x.text for x in a.layout.annotations} == {x.text for x in b.layout.annotations}


def test_edf_and_rank_order_match_optuna(twins: tuple[Any, Any]) -> None:
    ours, theirs = twins
    a, b = vis.plot_edf(ours).data[0], ovis.plot_edf(theirs).data[0]
    np.testing.assert_allclose(np.asarray(a.x), np.asarray(b.x))
    np.testing.assert_allclose(np.asarray(a.y), np.asarray(b.y))
    a, b = vis.plot_rank(ours, params=["x", "lr"]), ovis.plot_rank(theirs, params=["x", "lr"])
    assert a.layout.title.text == b.layout.title.text
    assert list(a.data[-1].marker.colorbar.ticktext) == list(b.data[-1].marker.colorbar.ticktext)


def test_pareto_front_and_hypervolume_match_optuna() -> None:
    ours, theirs = twin_studies(60, n_objectives=2, seed=12)
    a, b = vis.plot_pareto_front(ours), ovis.plot_pareto_front(theirs)
    for ta, tb in zip(a.data, b.data, strict=True):  # infeasible, feasible, best
        assert sorted(zip(ta.x, ta.y, strict=True)) == sorted(zip(tb.x, tb.y, strict=True))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hb = ovis.plot_hypervolume_history(theirs, [30.0, 0.0]).data[0]
    ha = vis.plot_hypervolume_history(ours, [30.0, 0.0]).data[0]
    np.testing.assert_allclose(np.asarray(ha.y), np.asarray(hb.y), rtol=1e-9)


# ------------------------------------------------------------------ numpy helpers
def _brute_nondominated(loss: np.ndarray) -> np.ndarray:
    n = len(loss)
    return np.array(
        [
            not any((loss[j] <= loss[i]).all() and (loss[j] < loss[i]).any() for j in range(n))
            for i in range(n)
        ]
    )


@pytest.mark.parametrize(("m", "seed"), list(itertools.product([2, 3, 4], range(4))))
def test_nondominated_and_ranks_against_pairwise_loops(m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    loss = rng.integers(0, 6, size=(60, m)).astype(float)  # many ties and duplicates
    np.testing.assert_array_equal(_data.nondominated(loss), _brute_nondominated(loss))
    ranks = _data.nondomination_ranks(loss)
    remaining, rank = np.arange(len(loss)), 0
    while remaining.size:
        front = _brute_nondominated(loss[remaining])
        assert (ranks[remaining[front]] == rank).all()
        remaining, rank = remaining[~front], rank + 1


def test_average_ranks_against_scipy() -> None:
    stats = pytest.importorskip("scipy.stats")
    values = np.random.default_rng(0).integers(0, 10, 200).astype(float)
    np.testing.assert_allclose(_data.average_ranks(values), stats.rankdata(values) - 1)


def test_fill_gaps_keeps_known_cells_and_solves_laplace() -> None:
    z = np.full((9, 9), np.nan)
    z[0, :], z[-1, :] = 0.0, 8.0  # a linear ramp is harmonic: the fill must reproduce it
    filled = fill_gaps(z, iterations=2000)
    np.testing.assert_allclose(filled, np.repeat(np.arange(9.0)[:, None], 9, axis=1), atol=1e-6)
    assert (filled[0] == 0.0).all()

"""``ferrotune plot KIND`` and ``ferrotune report``: the files they write hold the
expected figures and values and open without a network."""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ferrotune
from ferrotune.cli import main
from ferrotune.cli._report import KINDS, reference_point

pytest.importorskip("plotly")
pytest.importorskip("sqlalchemy")


@pytest.fixture(scope="module")
def url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'report.db'}"
    study = ferrotune.create_study(
        study_name="quad", storage=url, sampler=ferrotune.samplers.RandomSampler(seed=2)
    )

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", -5, 5)
        lr = trial.suggest_float("lr", 1e-4, 1.0, log=True)
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        loss = (x - 1) ** 2 + abs(math.log10(lr) + 2) + (opt == "sgd")
        for step in range(3):
            trial.report(loss + 1 / (step + 1), step)
        return loss

    study.optimize(objective, n_trials=30)
    mo = ferrotune.create_study(
        study_name="mo",
        storage=url,
        directions=["minimize", "maximize"],
        sampler=ferrotune.samplers.RandomSampler(seed=3),
    )
    mo.optimize(lambda t: (t.suggest_float("a", 0, 1), t.suggest_float("b", 0, 1)), n_trials=20)
    ferrotune.create_study(study_name="empty", storage=url)
    return url


def _array(value: Any) -> list[Any]:
    """A trace's array as plotly writes it: a list, or base64 (``bdata``, plotly >= 6)."""
    if isinstance(value, dict) and "bdata" in value:
        raw = base64.b64decode(value["bdata"])
        return list(np.frombuffer(raw, dtype=np.dtype(value["dtype"])))
    return list(value)


def _figure_ids(page: str) -> list[str]:
    return re.findall(r'<section class="figure" id="fig-([\w-]+)">', page)


def _self_contained(page: str, figures: bool = True) -> None:
    # Every script is inline: nothing is fetched from the network to view the page.
    assert not re.search(r"<script[^>]*\bsrc\s*=", page, re.IGNORECASE)
    assert not re.search(r"<link[^>]*https?://", page, re.IGNORECASE)
    assert ("Plotly.newPlot" in page) == figures  # drawn by the inlined plotly.js
    assert len(page) > 1_000_000  # plotly.js itself is inside


def test_report_single_objective(url: str, tmp_path: Path) -> None:
    out = tmp_path / "quad.html"
    assert main(["report", "--storage", url, "--study-name", "quad", "-o", str(out)]) == 0
    page = out.read_text()
    _self_contained(page)
    ids = _figure_ids(page)
    for fid in (
        "history",
        "intermediate",
        "parallel",
        "slice",
        "contour",
        "importance",
        "timeline",
    ):
        assert fid in ids
    study = ferrotune.load_study(study_name="quad", storage=url)
    best = study.best_trial
    # The best trial's table row: its number, value and parameters.
    table = page[page.index('id="best-trials"') : page.index('id="importances"')]
    cells = re.findall(r"<td>([^<]*)</td>", table)
    assert cells[:2] == [str(best.number), f"{best.value:.6g}"]
    assert f"{best.params['x']:.6g}" in cells and best.params["opt"] in cells
    assert f"<td>best value</td><td>{study.best_value:.6g}</td>" in page
    # Every figure is drawn; only the importances may say why not (no default evaluator).
    for fid in ("history", "intermediate", "parallel", "slice", "contour", "edf", "timeline"):
        assert f'id="plot-{fid}"' in page
    section = page[page.index('id="fig-importance"') :][:3000]
    assert 'id="plot-importance"' in section or "importance" in section.lower()
    importances = page[page.index('id="importances"') : page.index('class="figure"')]
    assert "<table" in importances or "importance unavailable" in importances


def test_report_multi_objective(url: str, tmp_path: Path) -> None:
    out = tmp_path / "mo.html"
    assert main(["report", "--storage", url, "--study-name", "mo", "-o", str(out)]) == 0
    page = out.read_text()
    _self_contained(page)
    ids = _figure_ids(page)
    assert {"pareto", "hypervolume", "history-0", "history-1", "parallel-0", "timeline"} <= set(ids)
    # Each is drawn (not replaced by a note).
    for fid in ("pareto", "hypervolume", "history-0", "history-1", "parallel-0", "timeline"):
        assert f'id="plot-{fid}"' in page
    assert "history" not in ids
    mo = ferrotune.load_study(study_name="mo", storage=url)
    table = page[page.index('id="best-trials"') : page.index('id="importances"')]
    numbers = re.findall(r"<tr><td>(\d+)</td>", table)
    assert sorted(map(int, numbers)) == sorted(t.number for t in mo.best_trials)


def test_report_of_an_empty_study(url: str, tmp_path: Path) -> None:
    out = tmp_path / "empty.html"
    assert main(["report", "--storage", url, "--study-name", "empty", "-o", str(out)]) == 0
    page = out.read_text()
    _self_contained(page, figures=False)
    assert "No trial has completed yet" in page
    # Sentences, not empty figures and an empty importance table (docs/cli.md).
    assert 'id="plot-' not in page and 'class="importance"' not in page
    assert "no trial is complete yet" in page
    # A study whose only trial still runs: its timeline, nothing else, and no warnings.
    study = ferrotune.load_study(study_name="empty", storage=url)
    study.ask().suggest_float("x", 0, 1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert main(["report", "--storage", url, "--study-name", "empty", "-o", str(out)]) == 0
    page = out.read_text()
    assert re.findall(r'id="plot-([a-z0-9-]+)"', page) == ["timeline"]


def test_report_of_a_study_whose_trials_were_all_pruned(tmp_path: Path) -> None:
    # Only the timeline was drawn; docs/cli.md promises intermediate values whenever
    # trials reported any.
    url = f"sqlite:///{tmp_path / 'pruned.db'}"
    study = ferrotune.create_study(study_name="p", storage=url)

    def objective(trial: ferrotune.Trial) -> float:
        x = trial.suggest_float("x", 0, 1)
        trial.report(x, 0)
        raise ferrotune.TrialPruned()

    study.optimize(objective, n_trials=3)
    out = tmp_path / "p.html"
    assert main(["report", "--storage", url, "--study-name", "p", "-o", str(out)]) == 0
    page = out.read_text()
    assert re.findall(r'id="plot-([a-z0-9-]+)"', page) == ["intermediate", "timeline"]


def test_report_escapes_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x.db'}"
    study = ferrotune.create_study(study_name="<script>alert(1)</script>", storage=url)
    study.optimize(lambda t: t.suggest_categorical("<b>p</b>", ["<i>a</i>", "b"]) == "b", 4)
    out = tmp_path / "x.html"
    assert main(["report", "--storage", url, "-o", str(out)]) == 0
    page = out.read_text()
    assert "<script>alert(1)</script>" not in page and "<b>p</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def _importance_available(url: str) -> bool:
    from ferrotune.importance import get_param_importances

    try:
        get_param_importances(ferrotune.load_study(study_name="quad", storage=url))
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("kind", KINDS)
def test_plot_every_kind(url: str, tmp_path: Path, kind: str) -> None:
    if kind == "param_importances" and not _importance_available(url):
        pytest.skip("no default importance evaluator in this build")
    study = "mo" if kind in ("pareto_front", "hypervolume_history") else "quad"
    out = tmp_path / f"{kind}.html"
    assert main(["plot", kind, "--storage", url, "--study-name", study, "-o", str(out)]) == 0
    page = out.read_text()
    assert not re.search(r"<script[^>]*\bsrc\s*=", page)
    # The figure's traces are in the page: read them back from its Plotly.newPlot call.
    start = page.index("Plotly.newPlot(")
    data = json.JSONDecoder().raw_decode(page, page.index("[", start))[0]
    assert data and all("type" in trace for trace in data)


def test_plot_options(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "slice.html"
    args = ["plot", "slice", "--storage", url, "--study-name", "quad", "-o", str(out)]
    assert main([*args, "--params", "x"]) == 0
    page = out.read_text()
    data = json.JSONDecoder().raw_decode(page, page.index("[", page.index("Plotly.newPlot(")))[0]
    study = ferrotune.load_study(study_name="quad", storage=url)
    assert len(data) == 1  # one parameter
    xs = _array(data[0]["x"])
    assert sorted(xs) == pytest.approx(sorted(t.params["x"] for t in study.trials))
    out2 = tmp_path / "history.html"
    assert (
        main(["plot", "optimization_history", "--storage", url, "--study-name", "mo",
              "--objective", "1", "-o", str(out2)]) == 0
    )  # fmt: skip
    # Drawn for every objective without --objective, as plot_parallel_coordinate does.
    out3 = tmp_path / "parallel.html"
    assert (
        main(["plot", "parallel_coordinate", "--storage", url, "--study-name", "mo",
              "-o", str(out3)]) == 0
    )  # fmt: skip
    mo = ferrotune.load_study(study_name="mo", storage=url)
    point = reference_point(mo)
    values = [t.values for t in mo.trials]
    assert point[0] > max(v[0] for v in values) and point[1] < min(v[1] for v in values)


@pytest.mark.parametrize(
    ("extra", "fragment"),
    [
        (["slice", "--study-name", "quad", "-o", "x.txt"], "write a .html or a .png"),
        (["timeline", "--study-name", "quad", "-o", "x.html", "--params", "x"], "--params"),
        (["slice", "--study-name", "quad", "-o", "x.html", "--objective", "4"], "1 objective"),
        (["pareto_front", "--study-name", "nope", "-o", "x.html"], "no study named 'nope'"),
        # Single-objective: said so, not "give --reference-point" (which then failed).
        (["hypervolume_history", "--study-name", "empty", "-o", "x.html"], "needs several"),
        # Several objectives: the CLI's option, not the Python argument target=.
        (["slice", "--study-name", "mo", "-o", "x.html"], "--objective I"),
        (["optimization_history", "--study-name", "mo", "-o", "x.html"], "--objective I"),
    ],
)
def test_plot_errors(
    url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    extra: list[str],
    fragment: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main(["plot", extra[0], "--storage", url, *extra[1:]]) == 1
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and fragment in err, err


def test_report_error(url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert (
        main(["report", "--storage", url, "--study-name", "quad", "-o", str(tmp_path / "r.pdf")])
        == 1
    )
    assert "an .html file" in capsys.readouterr().err


def test_plot_png(url: str, tmp_path: Path) -> None:
    pytest.importorskip("kaleido", reason="a PNG needs kaleido (pip install kaleido)")
    out = tmp_path / "contour.png"
    code = main(["plot", "contour", "--storage", url, "--study-name", "quad", "-o", str(out)])
    if code != 0:
        pytest.skip("kaleido found no Chrome to draw with")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_importances_of_a_maximised_objective_rank_what_makes_it_high() -> None:
    """PED-ANOVA scores what makes a given target low; the report's (and ``plot
    param_importances --objective``'s) target is negated for a maximised objective.
    Before, the parameter that made the objective high ranked last."""
    import warnings

    from ferrotune.cli._report import _importances

    study = ferrotune.create_study(
        directions=["maximize", "minimize"], sampler=ferrotune.samplers.RandomSampler(seed=0)
    )

    def objective(trial: ferrotune.Trial) -> tuple[float, float]:
        a = trial.suggest_float("a", 0, 1)
        b = trial.suggest_float("b", 0, 1)
        return (5 + a if a > 0.9 else -b), a + b

    study.optimize(objective, n_trials=300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the low-target notice is not shown
        importances = _importances(study, 0)
    assert isinstance(importances, dict)
    assert importances["a"] > 0.9

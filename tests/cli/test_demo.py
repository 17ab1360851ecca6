"""``ferrotune demo``, the README's first command: it runs, respects the constraint of the
running example, and resumes a study kept in a database."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ferrotune
from ferrotune.cli import main


@pytest.mark.parametrize("sampler", ["tpe", "random", "qmc"])
def test_demo_runs_and_reports_its_best_trial(
    sampler: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--trials", "30", "--sampler", sampler, "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "storage: in memory" in out
    assert re.search(r"^30 trials in ", out, re.M), out
    best = float(re.search(r"best loss ([0-9.]+) at trial", out).group(1))  # type: ignore[union-attr]
    # The progress lines show the best loss so far: it never rises, and ends at the best.
    so_far = [float(v) for v in re.findall(r"best loss ([0-9.]+)$", out, re.M)]
    assert so_far == sorted(so_far, reverse=True) and so_far[-1] == pytest.approx(best, abs=1e-4)
    d_model = int(re.search(r"d_model = (\d+)", out).group(1))  # type: ignore[union-attr]
    n_heads = int(re.search(r"n_heads = (\d+)", out).group(1))  # type: ignore[union-attr]
    assert d_model % n_heads == 0


def test_demo_resumes_a_study_in_a_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("sqlalchemy")
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    assert main(["demo", "--trials", "20", "--storage", url]) == 0
    assert main(["demo", "--trials", "15", "--storage", url]) == 0
    assert "35 trials in" in capsys.readouterr().out
    study = ferrotune.load_study(study_name="demo", storage=url)
    assert len(study.trials) == 35
    assert all(t.params["d_model"] % t.params["n_heads"] == 0 for t in study.trials)


def test_demo_takes_a_journal_path_and_ignores_the_environment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """As its --help says: a path is a journal file (as for the other commands), and
    without --storage the demo runs in memory even when FERROTUNE_STORAGE is set."""
    path = tmp_path / "demo.log"
    assert main(["demo", "--trials", "10", "--storage", str(path)]) == 0
    assert main(["demo", "--trials", "5", "--storage", str(path)]) == 0
    assert "15 trials in" in capsys.readouterr().out
    journal = ferrotune.storages.JournalStorage(
        ferrotune.storages.journal.JournalFileBackend(str(path))
    )
    assert len(ferrotune.load_study(study_name="demo", storage=journal).trials) == 15
    monkeypatch.setenv("FERROTUNE_STORAGE", f"sqlite:///{tmp_path / 'env.db'}")
    assert main(["demo", "--trials", "5"]) == 0
    assert "storage: in memory" in capsys.readouterr().out
    assert not (tmp_path / "env.db").exists()

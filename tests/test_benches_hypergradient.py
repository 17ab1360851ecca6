"""benches/hypergradient.py runs end to end on a small budget, and its problems are what
its docstring says (80 augmented diabetes features, 30 breast-cancer features)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("sklearn")
pytest.importorskip("scipy")

BENCHES = Path(__file__).resolve().parents[1] / "benches"


def test_the_bench_runs_and_its_problems_have_the_documented_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sys.path.insert(0, str(BENCHES))
    try:
        bench = importlib.import_module("hypergradient")
        problems = bench.problems()
        assert problems["ridge-pf"]().data[0].shape[1] == 80
        assert len(problems["logreg-pf"]().names) == 30
        bench.main(
            [
                "--seeds",
                "1",
                "--trials",
                "10",
                "--problems",
                "ridge-1,logreg-pf",
                "--samplers",
                "hypergradient,random",
            ]
        )
    finally:
        sys.path.remove(str(BENCHES))
        sys.modules.pop("hypergradient", None)
    out = capsys.readouterr().out
    assert "| ridge-1 | hypergradient |" in out and "| logreg-pf | random |" in out

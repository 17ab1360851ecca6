"""benches/auto_parallel.py's simulated workers: every asked trial is told, rounds of ``q``
trials are RUNNING together, and a seeded run repeats."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ferrotune

BENCHES = Path(__file__).resolve().parents[1] / "benches"


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHES))
    try:
        import auto_parallel

        yield auto_parallel
    finally:
        sys.path.remove(str(BENCHES))


def test_rounds_run_together_and_lose_no_trial(bench: Any, monkeypatch: Any) -> None:
    running_at_ask: list[int] = []
    real_ask = ferrotune.Study.ask

    def ask(self: ferrotune.Study, *args: Any, **kwargs: Any) -> Any:
        running_at_ask.append(
            sum(t.state == ferrotune.TrialState.RUNNING for t in self.get_trials(deepcopy=False))
        )
        return real_ask(self, *args, **kwargs)

    monkeypatch.setattr(ferrotune.Study, "ask", ask)
    values = bench.run("random", "branin", seed=0, budget=10, q=4)
    assert len(values) == 10
    # Rounds of 4, 4 and the last 2: each ask sees the earlier asks of its round running.
    assert running_at_ask == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1]
    problem = bench.suite.build_problem("branin", 0)
    assert min(values) >= problem.optimum


def test_a_seeded_run_repeats(bench: Any) -> None:
    assert bench.run("tpe", "branin", 3, 24, 8) == bench.run("tpe", "branin", 3, 24, 8)

"""The peers' encodings of benches/_population_peers.py (the ``cmaes`` package and Nevergrad see
``[0, 1]`` boxes): every decoded configuration lies in the problem's space, on its grids."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ferrotune.benchmarks import get_problem

BENCHES = Path(__file__).resolve().parents[1] / "benches"


@pytest.fixture(scope="module")
def peers() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHES))
    try:
        import _population_peers

        yield _population_peers
    finally:
        sys.path.remove(str(BENCHES))


def _in_space(problem: Any, params: dict[str, Any]) -> None:
    assert set(params) == set(problem.params)
    for name, p in problem.params.items():
        v = params[name]
        if p.kind == "categorical":
            assert v in p.choices
            continue
        assert p.low <= v <= p.high, (name, v)
        if p.kind == "int":
            assert isinstance(v, int)
        if p.step is not None:
            k = (v - p.low) / p.step
            assert math.isclose(k, round(k), abs_tol=1e-9), (name, v)


def test_decoded_points_lie_in_the_space(peers: Any) -> None:
    problem = get_problem("mixed")
    decode = peers._decoder(problem.params)
    rng = np.random.default_rng(0)
    corners = [np.zeros(len(problem.params)), np.ones(len(problem.params))]
    for u in corners + [rng.uniform(-0.2, 1.2, len(problem.params)) for _ in range(300)]:
        _in_space(problem, decode(u))
    low, high = decode(corners[0]), decode(corners[1])
    assert low["lr"] == pytest.approx(1e-5) and high["lr"] == pytest.approx(1e-1)
    assert (low["layers"], high["layers"]) == (1, 16)
    seen = {decode(np.full(len(problem.params), (i + 0.5) / 3))["optimizer"] for i in range(3)}
    assert len(seen) == 3  # equal intervals reach every choice


def test_raw_values_are_clipped_onto_the_grid(peers: Any) -> None:
    problem = get_problem("mixed")
    raw = {"x0": 7.0, "x1": -9.0, "lr": 2.0, "layers": 3.6, "optimizer": "adam", "batch_size": 64}
    out = peers._on_grid(problem.params, raw)
    _in_space(problem, out)
    assert (out["x0"], out["x1"], out["lr"], out["layers"]) == (5.0, -5.0, 1e-1, 4)

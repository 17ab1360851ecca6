"""benches/failing_regions.py: its problems fail where their docstring says, keep their optima,
and a run counts its failures (ferrotune only, no peer needed)."""

from __future__ import annotations

import math
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

BENCHES = Path(__file__).resolve().parents[1] / "benches"


@pytest.fixture(scope="module")
def fr() -> Iterator[Any]:
    sys.path.insert(0, str(BENCHES))
    try:
        import failing_regions

        yield failing_regions
    finally:
        sys.path.remove(str(BENCHES))


def test_problems_fail_in_their_regions_and_keep_their_optima(fr: Any) -> None:
    sphere = fr.PROBLEMS["sphere3"][1]
    branin = fr.PROBLEMS["branin"][1]
    assert sphere([0.0, 0.0, 0.0]) == 0.0
    assert math.isnan(sphere([3.5, 0.0, 0.0]))
    with pytest.raises(RuntimeError):
        sphere([-4.5, 0.0, 0.0])
    # Branin's three minima are outside the failing regions: regret within rounding of 0.
    for point in ([-math.pi, 12.275], [math.pi, 2.275], [3 * math.pi, 2.475]):
        assert abs(branin(point)) < 1e-5, point
    assert math.isnan(branin([0.0, 0.5]))
    with pytest.raises(RuntimeError):
        branin([9.0, 8.0])


def test_a_run_reports_regret_and_late_failure_share(fr: Any) -> None:
    regret, share = fr.run("random", "sphere3", seed=0, trials=40)
    assert 0.0 <= regret < 75.0
    assert 0.0 <= share <= 1.0
    # The trust region leaves the failing region: fewer late failures than its 30% of the box.
    _, trust_share = fr.run("ft-trust", "sphere3", seed=0, trials=40)
    assert trust_share < 0.3

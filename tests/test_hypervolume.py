"""``ferrotune.hypervolume`` against inclusion-exclusion, and its argument checks."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

import ferrotune
from ferrotune.exceptions import InvalidArgumentError


def _inclusion_exclusion(points: np.ndarray, ref: np.ndarray) -> float:
    inside = [p for p in points if np.all(p < ref)]
    total = 0.0
    for k in range(1, len(inside) + 1):
        for subset in itertools.combinations(inside, k):
            corner = np.max(np.array(subset), axis=0)
            total += (-1) ** (k + 1) * float(np.prod(ref - corner))
    return total


@pytest.mark.parametrize("m", [1, 2, 3, 4, 5])
def test_agrees_with_inclusion_exclusion(m: int) -> None:
    rng = np.random.default_rng(m)
    for _ in range(20):
        n = int(rng.integers(0, 9))
        points = rng.uniform(0, 1.2, size=(n, m))
        if rng.uniform() < 0.5:
            points = np.floor(points * 4) / 4  # ties and duplicates
        ref = np.ones(m)
        want = _inclusion_exclusion(points, ref)
        assert ferrotune.hypervolume(points, ref) == pytest.approx(want, abs=1e-12)
        # Lists work as well as arrays.
        assert ferrotune.hypervolume(points.tolist(), ref.tolist()) == pytest.approx(
            want, abs=1e-12
        )


def test_points_not_dominating_the_reference_are_ignored() -> None:
    assert ferrotune.hypervolume([[1.0, 1.0], [3.0, 0.0], [0.0, 2.0]], [2.0, 2.0]) == 1.0
    assert ferrotune.hypervolume([], [1.0, 1.0]) == 0.0
    assert ferrotune.hypervolume(np.zeros((0, 3)), [1.0, 1.0, 1.0]) == 0.0
    assert ferrotune.hypervolume([[-math.inf, 0.0]], [1.0, 1.0]) == math.inf


@pytest.mark.parametrize(
    ("points", "ref", "match"),
    [
        ([[1.0, 2.0]], [3.0, 3.0, 3.0], "shape"),
        ([1.0, 2.0], [3.0, 3.0], "shape"),
        ([[1.0, 2.0]], [[3.0, 3.0]], "reference_point"),
        ([[1.0, 2.0]], [], "reference_point"),
        ([[1.0, math.nan]], [3.0, 3.0], "NaN"),
        ([[1.0, 2.0]], [3.0, math.nan], "NaN"),
        ([["a", 2.0]], [3.0, 3.0], "points"),
        ([[1.0, 2.0]], ["x", 1], "reference_point"),
    ],
)
def test_bad_input_is_a_clear_error(points: object, ref: object, match: str) -> None:
    with pytest.raises(InvalidArgumentError, match=match):
        ferrotune.hypervolume(points, ref)  # type: ignore[arg-type]

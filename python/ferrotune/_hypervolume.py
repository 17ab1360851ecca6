from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ferrotune import _core
from ferrotune.exceptions import InvalidArgumentError

if TYPE_CHECKING:
    import numpy.typing as npt

__all__ = ["hypervolume"]


def hypervolume(points: npt.ArrayLike, reference_point: npt.ArrayLike) -> float:
    """The exact hypervolume of a set of points, all objectives minimised.

    The volume of the region that the points dominate and ``reference_point``
    bounds: the union of the boxes ``[p_1, r_1] x ... x [p_m, r_m]``. Maximised
    objectives are negated (with the reference point) before the call. Computed in
    Rust with the GIL released: a sweep in ``O(n log n)`` for 2 and 3 objectives
    (Beume et al. 2009 for 3), WFG (While, Bradstreet and Barone 2012) beyond.

    Unlike Optuna's ``compute_hypervolume``, which refuses points that do not
    dominate the reference point, such points are ignored here (they bound no
    volume), so the hypervolume of a study's trials can be taken as is.

    Args:
        points: An ``(n, m)`` array-like of objective vectors (``n`` may be 0).
        reference_point: ``m`` numbers.

    Returns:
        The hypervolume (0.0 when no point strictly dominates the reference point;
        ``inf`` when a coordinate is infinite).

    Raises:
        InvalidArgumentError: the shapes do not match, or a value is NaN or not a
            number.

    Example:
        >>> ferrotune.hypervolume([[1.0, 2.0], [2.0, 1.0]], [3.0, 3.0])  # doctest: +SKIP
        3.0
    """
    try:
        ref = np.asarray(reference_point, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(
            f"reference_point must be numbers, got {reference_point!r}"
        ) from e
    if ref.ndim != 1 or ref.size == 0:
        raise InvalidArgumentError(
            f"reference_point must be a non-empty 1-D sequence, got shape {ref.shape}"
        )
    try:
        pts = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise InvalidArgumentError(f"points must be an (n, m) array of numbers: {e}") from e
    if pts.size == 0:
        pts = pts.reshape(0, ref.size)
    if pts.ndim != 2 or pts.shape[1] != ref.size:
        raise InvalidArgumentError(
            f"points must have shape (n, {ref.size}) to match reference_point, got {pts.shape}"
        )
    return _core.hypervolume(np.ascontiguousarray(pts), [float(v) for v in ref])

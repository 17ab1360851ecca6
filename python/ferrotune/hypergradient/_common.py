"""Shared pieces of the hypergradient helpers: the result type, input checks, scipy."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ferrotune.exceptions import InvalidArgumentError, MissingDependencyError

FloatArray = NDArray[np.float64]


class Hypergradient(NamedTuple):
    """A validation loss and its gradient with respect to the hyperparameters.

    Attributes:
        value: The validation loss at the hyperparameters given.
        gradient: Its gradient with respect to the hyperparameters as given (a float for
            a scalar hyperparameter, an array of the hyperparameter's shape otherwise).
            This is what :meth:`Trial.report_gradient <ferrotune.Trial.report_gradient>`
            expects, also for parameters suggested with ``log=True``.
        log_gradient: The gradient with respect to their natural logarithms,
            ``gradient * hyperparameters`` (the chain rule), for code that steps
            in log space itself.
    """

    value: float
    gradient: Any
    log_gradient: Any


def scipy_linalg() -> Any:
    """``scipy.linalg``, or MissingDependencyError saying what to install."""
    try:
        import scipy.linalg
    except ImportError as e:  # pragma: no cover - scipy is in the test extra
        raise MissingDependencyError(
            "ferrotune.hypergradient needs scipy: pip install 'ferrotune[hypergradient]'"
        ) from e
    return scipy.linalg


def scipy_optimize() -> Any:
    """``scipy.optimize``, or MissingDependencyError saying what to install."""
    scipy_linalg()
    import scipy.optimize

    return scipy.optimize


def matrix(x: ArrayLike, name: str) -> FloatArray:
    """``x`` as a finite 2-D float array, or an error naming ``name``."""
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 2 or a.shape[0] == 0 or a.shape[1] == 0:
        raise InvalidArgumentError(f"{name} must be a non-empty 2-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError(f"{name} holds a NaN or infinite value")
    return a


def targets(y: ArrayLike, n: int, name: str) -> FloatArray:
    """``y`` as a finite 1-D float array of length ``n``, or an error naming ``name``."""
    a = np.asarray(y, dtype=np.float64)
    if a.ndim != 1 or a.shape[0] != n:
        raise InvalidArgumentError(f"{name} must be a 1-D array of length {n}, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise InvalidArgumentError(f"{name} holds a NaN or infinite value")
    return a


def penalties(
    alpha: ArrayLike, n_features: int, groups: ArrayLike | None, name: str
) -> tuple[FloatArray, NDArray[np.intp], bool]:
    """The per-feature penalty vector, the feature -> group map and whether ``alpha``
    was a scalar. ``alpha`` is one value (scalar), one per feature, or one per group.

    Raises:
        InvalidArgumentError: a negative or non-finite value, or a shape that matches
            neither the features nor the groups.
    """
    a = np.asarray(alpha, dtype=np.float64)
    scalar = a.ndim == 0
    if not np.all(np.isfinite(a)) or np.any(a < 0):
        raise InvalidArgumentError(f"{name} must be finite and >= 0, got {a!r}")
    if groups is None:
        g = np.zeros(n_features, dtype=np.intp) if scalar else np.arange(n_features)
    else:
        if scalar:
            raise InvalidArgumentError(f"{name} must hold one value per group when groups is given")
        g = np.asarray(groups)
        if g.shape != (n_features,) or not np.issubdtype(g.dtype, np.integer):
            raise InvalidArgumentError(
                f"groups must be {n_features} integer group indices (one per feature)"
            )
        g = g.astype(np.intp)
    if a.ndim == 1 and groups is None and a.shape[0] != n_features:
        raise InvalidArgumentError(
            f"{name} has {a.shape[0]} values for {n_features} features (pass groups= to "
            "share a penalty between features)"
        )
    n_groups = 1 if scalar else a.shape[0] if a.ndim == 1 else -1
    if n_groups < 0 or (g.size and (g.min() < 0 or g.max() >= n_groups)):
        raise InvalidArgumentError(
            f"{name} has shape {a.shape}; expected a scalar, one value per feature "
            f"({n_features}) or one per group (groups hold 0 .. len({name}) - 1)"
        )
    return np.atleast_1d(a)[g], g, scalar


def per_group(grad_features: FloatArray, groups: NDArray[np.intp], alpha: ArrayLike) -> Any:
    """The gradient per hyperparameter from the gradient per feature penalty (the sum over
    the features sharing a hyperparameter); a float for a scalar ``alpha``."""
    a = np.asarray(alpha, dtype=np.float64)
    n = 1 if a.ndim == 0 else a.shape[0]
    g = np.bincount(groups, weights=grad_features, minlength=n)
    return float(g[0]) if a.ndim == 0 else g


def result(value: float, gradient: Any, alpha: ArrayLike) -> Hypergradient:
    """A :class:`Hypergradient` with the log-space gradient ``gradient * alpha``."""
    a = np.asarray(alpha, dtype=np.float64)
    if a.ndim == 0:
        return Hypergradient(float(value), float(gradient), float(gradient) * float(a))
    return Hypergradient(float(value), gradient, gradient * a)


def center(
    x: FloatArray, y: FloatArray, fit_intercept: bool
) -> tuple[FloatArray, FloatArray, FloatArray, float]:
    """Training means of ``x`` and ``y`` (zeros without an intercept) and centred copies."""
    if not fit_intercept:
        return x, y, np.zeros(x.shape[1]), 0.0
    xm, ym = x.mean(axis=0), float(y.mean())
    return x - xm, y - ym, xm, ym

"""Exact hypergradients of ridge and kernel ridge regression (closed form)."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.hypergradient._common import (
    FloatArray,
    Hypergradient,
    center,
    matrix,
    penalties,
    per_group,
    result,
    scipy_linalg,
    targets,
)


def ridge_hypergradient(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    alpha: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    fit_intercept: bool = True,
) -> Hypergradient:
    """Validation mean squared error of ridge regression and its exact hypergradient.

    The weights minimise ``||y - X w - b||^2 + sum_j alpha_j w_j^2`` (scikit-learn's
    ``Ridge`` objective, with one penalty per feature, per group of features, or one for
    all), so ``w = (X^T X + diag(alpha))^-1 X^T y`` on centred data; the intercept ``b``
    is not penalised. By the implicit function theorem (Bengio 2000, Eq. 3; Pedregosa
    2016, Eq. 2), ``dL_val/dalpha_j = -w_j [(X^T X + diag(alpha))^-1 grad_w L_val]_j``:
    one Cholesky factorisation serves the fit and the gradient.

    Args:
        x_train: Training inputs, shape (n, p).
        y_train: Training targets, shape (n,).
        x_val: Validation inputs, shape (m, p).
        y_val: Validation targets, shape (m,).
        alpha: The penalty: a float (one for all features), one value per feature, or
            one per group (with ``groups``). Values >= 0; 0 needs ``X^T X`` invertible.
        groups: Optional group index (0, 1, ...) of each feature; ``alpha[g]`` is the
            penalty of the features of group ``g``.
        fit_intercept: Fit an unpenalised intercept (centre by the training means).

    Returns:
        Hypergradient: the validation MSE, its gradient with respect to ``alpha`` (a
        float for a scalar ``alpha``), and the gradient with respect to ``log(alpha)``.

    Raises:
        InvalidArgumentError: shapes that do not match, non-finite data, a negative
            penalty, or a singular system (``alpha`` of 0 on collinear features).
        MissingDependencyError: scipy is not installed.

    Example:
        >>> hg = ridge_hypergradient(X, y, Xv, yv, alpha=np.full(X.shape[1], 1.0))  # doctest: +SKIP
        >>> hg.value, hg.gradient.shape  # doctest: +SKIP
    """
    linalg = scipy_linalg()
    x, xv = matrix(x_train, "x_train"), matrix(x_val, "x_val")
    y, yv = targets(y_train, x.shape[0], "y_train"), targets(y_val, xv.shape[0], "y_val")
    if xv.shape[1] != x.shape[1]:
        raise InvalidArgumentError(
            f"x_val has {xv.shape[1]} features and x_train {x.shape[1]}; they must match"
        )
    lam, g, _ = penalties(alpha, x.shape[1], groups, "alpha")
    xc, yc, xm, ym = center(x, y, fit_intercept)
    a = xc.T @ xc + np.diag(lam)
    singular = "X^T X + diag(alpha) is singular: use alpha > 0 or independent features"
    try:
        factor = linalg.cho_factor(a)
    except linalg.LinAlgError as e:
        raise InvalidArgumentError(singular) from e
    # Rounding can let the factorisation of a singular matrix through (collinear features
    # after centring): a pivot at the level of rounding error of its own diagonal entry
    # (pivot^2 / a_jj is 1 - R^2 of feature j on the ones before it: scale-free) means
    # singular.
    pivots = np.diag(factor[0]) ** 2
    diag = np.diag(a)
    with np.errstate(divide="ignore", invalid="ignore"):
        left = np.where(diag > 0.0, pivots / diag, 0.0)
    if left.size and float(np.min(left)) <= a.shape[0] * np.finfo(float).eps:
        raise InvalidArgumentError(singular)
    w = linalg.cho_solve(factor, xc.T @ yc)
    xvc = xv - xm
    resid = xvc @ w + ym - yv
    loss = float(np.mean(resid**2))
    grad_w = 2.0 * (xvc.T @ resid) / xv.shape[0]
    grad = -w * linalg.cho_solve(factor, grad_w)
    return result(loss, per_group(grad, g, alpha), alpha)


def rbf_kernel(a: FloatArray, b: FloatArray, gamma: float) -> tuple[FloatArray, FloatArray]:
    """The RBF kernel ``exp(-gamma ||a_i - b_j||^2)`` and the squared distances."""
    sq = (a**2).sum(axis=1)[:, None] + (b**2).sum(axis=1)[None, :] - 2.0 * a @ b.T
    sq = np.maximum(sq, 0.0)
    return np.exp(-gamma * sq), sq


def kernel_ridge_hypergradient(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    alpha: float,
    gamma: float,
) -> Hypergradient:
    """Validation MSE of RBF kernel ridge regression and its gradient in (alpha, gamma).

    The model is scikit-learn's ``KernelRidge(alpha, kernel="rbf", gamma)``: dual
    coefficients ``c = (K + alpha I)^-1 y`` with ``K_ij = exp(-gamma ||x_i - x_j||^2)``,
    predictions ``K_val c``. With ``A = K + alpha I``, ``r`` the validation residual and
    ``s = A^-1 K_val^T grad_f`` (``grad_f = 2 r / m``), the implicit function theorem
    (Bengio 2000, Eq. 3) gives ``dL/dalpha = -s^T c`` and
    ``dL/dgamma = grad_f^T (dK_val/dgamma) c - s^T (dK/dgamma) c`` with
    ``dK/dgamma = -D * K`` (``D`` the squared distances).

    Args:
        x_train: Training inputs, shape (n, p).
        y_train: Training targets, shape (n,).
        x_val: Validation inputs, shape (m, p).
        y_val: Validation targets, shape (m,).
        alpha: Regularisation, > 0.
        gamma: Inverse squared kernel width, > 0 (a length scale ``l`` is
            ``gamma = 1 / (2 l^2)``).

    Returns:
        Hypergradient: the validation MSE, the gradient as the array
        ``[dL/dalpha, dL/dgamma]``, and the gradient with respect to their logs.

    Raises:
        InvalidArgumentError: shapes that do not match, non-finite data, or
            ``alpha``/``gamma`` not > 0.
        MissingDependencyError: scipy is not installed.
    """
    linalg = scipy_linalg()
    x, xv = matrix(x_train, "x_train"), matrix(x_val, "x_val")
    y, yv = targets(y_train, x.shape[0], "y_train"), targets(y_val, xv.shape[0], "y_val")
    if xv.shape[1] != x.shape[1]:
        raise InvalidArgumentError(
            f"x_val has {xv.shape[1]} features and x_train {x.shape[1]}; they must match"
        )
    for name, v in (("alpha", alpha), ("gamma", gamma)):
        if not (isinstance(v, (int, float, np.floating)) and np.isfinite(v) and v > 0):
            raise InvalidArgumentError(f"{name} must be a finite number > 0, got {v!r}")
    k, d = rbf_kernel(x, x, float(gamma))
    kv, dv = rbf_kernel(xv, x, float(gamma))
    factor = linalg.cho_factor(k + float(alpha) * np.eye(x.shape[0]))
    c = linalg.cho_solve(factor, y)
    resid = kv @ c - yv
    loss = float(np.mean(resid**2))
    grad_f = 2.0 * resid / xv.shape[0]
    s = linalg.cho_solve(factor, kv.T @ grad_f)
    d_alpha = -float(s @ c)
    d_gamma = float(grad_f @ ((-dv * kv) @ c) - s @ ((-d * k) @ c))
    params = np.array([float(alpha), float(gamma)])
    grad = np.array([d_alpha, d_gamma])
    return Hypergradient(loss, grad, grad * params)

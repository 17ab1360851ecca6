"""Exact hypergradients of L2-regularised logistic regression (inner problem solved to
tolerance, inverse-Hessian-vector product by conjugate gradients or a Neumann series)."""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.hypergradient._common import (
    FloatArray,
    Hypergradient,
    matrix,
    penalties,
    per_group,
    result,
    scipy_optimize,
    targets,
)

HessVec = Callable[[FloatArray], FloatArray]


def _sigmoid(z: FloatArray) -> FloatArray:
    out: FloatArray = 0.5 * (1.0 + np.tanh(0.5 * z))
    return out


def _log_loss(z: FloatArray, y: FloatArray) -> float:
    # mean of log(1 + e^z) - y z, stable for large |z|.
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def _design(x: FloatArray, fit_intercept: bool) -> FloatArray:
    return np.hstack([x, np.ones((x.shape[0], 1))]) if fit_intercept else x


def _fit(
    xd: FloatArray, y: FloatArray, lam: FloatArray, solver: str, tol: float, max_iter: int
) -> tuple[FloatArray, bool]:
    """The minimiser of ``sum_i log(1 + e^{z_i}) - y_i z_i + 1/2 sum_j lam_j w_j^2``, and
    whether the solver reached ``tol`` within ``max_iter`` iterations."""

    def fun(w: FloatArray) -> tuple[float, FloatArray]:
        z = xd @ w
        f = float(np.sum(np.logaddexp(0.0, z) - y * z) + 0.5 * lam @ w**2)
        return f, xd.T @ (_sigmoid(z) - y) + lam * w

    w = np.zeros(xd.shape[1])
    if solver == "lbfgs":
        res = scipy_optimize().minimize(
            fun,
            w,
            jac=True,
            method="L-BFGS-B",
            options={"gtol": tol, "ftol": 0.0, "maxiter": max_iter, "maxcor": 20},
        )
        w[:] = res.x
        # res.success also means "f stopped decreasing" (ftol 0): judge by the gradient.
        return w, _small(fun(w)[1], tol, xd, y)
    return _newton(fun, xd, lam, tol, max_iter, y)


def _small(grad: FloatArray, tol: float, xd: FloatArray, y: FloatArray) -> bool:
    """Whether the gradient is at ``tol`` or at the rounding level of its sums (1e-12 of
    ``max |X^T y|``, where a solver stalls on large or badly scaled data)."""
    floor = 1e-12 * max(1.0, float(np.max(np.abs(xd.T @ y), initial=0.0)))
    return bool(np.max(np.abs(grad), initial=0.0) <= max(tol, floor))


def _newton(
    fun: Callable[[FloatArray], tuple[float, FloatArray]],
    xd: FloatArray,
    lam: FloatArray,
    tol: float,
    max_iter: int,
    y: FloatArray,
) -> tuple[FloatArray, bool]:
    """Newton's method with a backtracking line search (Nocedal & Wright 2006, Alg. 3.1);
    the weights and whether the gradient reached ``tol`` (or its rounding level, where
    the line search stalls)."""
    w = np.zeros(xd.shape[1])
    for _ in range(max_iter):
        f, grad = fun(w)
        if np.max(np.abs(grad)) <= tol:
            return w, True
        p = _sigmoid(xd @ w)
        h = (xd.T * (p * (1.0 - p))) @ xd + np.diag(lam)
        step = np.linalg.solve(h, grad)
        t = 1.0
        # Armijo's condition, with slack for rounding in f near the minimum (where the
        # full step is taken and converges quadratically).
        slack = 1e-12 * (abs(f) + 1.0)
        while fun(w - t * step)[0] > f - 1e-4 * t * (grad @ step) + slack and t > 1e-10:
            t *= 0.5
        if t <= 1e-10:
            break  # no decrease left: rounding decides from here
        w = w - t * step
    return w, _small(fun(w)[1], tol, xd, y)


def _cg(hvp: HessVec, b: FloatArray, tol: float, max_iter: int) -> tuple[FloatArray, bool]:
    """Conjugate gradients for ``H v = b`` with ``H`` symmetric positive definite
    (Nocedal & Wright 2006, Algorithm 5.2), using Hessian-vector products only; the
    solution and whether the residual reached ``tol``."""
    v = np.zeros_like(b)
    r = b.copy()
    p = r.copy()
    rr = float(r @ r)
    stop = (tol * float(np.linalg.norm(b))) ** 2
    for _ in range(max_iter):
        if rr <= stop:
            return v, True
        hp = hvp(p)
        step = rr / float(p @ hp)
        v += step * p
        r -= step * hp
        rr_new = float(r @ r)
        p = r + (rr_new / rr) * p
        rr = rr_new
    return v, rr <= stop


def _neumann(
    hvp: HessVec, b: FloatArray, lipschitz: float, tol: float, max_iter: int
) -> tuple[FloatArray, bool]:
    """``H^-1 b`` as the Neumann series ``eta sum_k (I - eta H)^k b`` with ``eta = 1/L``
    (Lorraine, Vicol & Duvenaud 2020, Eq. 9 and Algorithm 3), summed until a term is
    below ``tol`` times the first."""
    eta = 1.0 / lipschitz
    term: FloatArray = eta * b
    v: FloatArray = term.copy()
    first = float(np.linalg.norm(term))
    for _ in range(max_iter):
        term = term - eta * hvp(term)
        v += term
        if float(np.linalg.norm(term)) <= tol * first:
            return v, True
    return v, False


def _check_options(solver: str, ihvp: str, tol: float, max_iter: int) -> None:
    if solver not in ("auto", "lbfgs", "newton"):
        raise InvalidArgumentError(f"solver must be 'auto', 'lbfgs' or 'newton', got {solver!r}")
    if ihvp not in ("cg", "neumann"):
        raise InvalidArgumentError(f"ihvp must be 'cg' or 'neumann', got {ihvp!r}")
    try:
        ok = not isinstance(tol, (bool, str, bytes)) and math.isfinite(tol) and float(tol) > 0
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidArgumentError(f"tol must be a finite number > 0, got {tol!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, numbers.Integral) or max_iter < 1:
        raise InvalidArgumentError(f"max_iter must be an int >= 1, got {max_iter!r}")


def logistic_hypergradient(
    x_train: ArrayLike,
    y_train: ArrayLike,
    x_val: ArrayLike,
    y_val: ArrayLike,
    alpha: ArrayLike,
    *,
    groups: ArrayLike | None = None,
    fit_intercept: bool = True,
    solver: str = "auto",
    ihvp: str = "cg",
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> Hypergradient:
    """Validation log-loss of L2 logistic regression and its hypergradient in ``alpha``.

    The weights minimise ``sum_i log(1 + exp(x_i^T w + b)) - y_i (x_i^T w + b) +
    1/2 sum_j alpha_j w_j^2`` (labels 0/1; the intercept ``b`` unpenalised), solved to
    gradient norm ``tol`` by Newton's method or scipy's L-BFGS-B. At the minimum
    ``grad_w L_train = 0``, so by the implicit function theorem (Pedregosa 2016, Eq. 2;
    Lorraine, Vicol & Duvenaud 2020, Eq. 4) ``dL_val/dalpha_j = -w_j [H^-1 grad_w
    L_val]_j`` with ``H = X^T diag(p(1-p)) X + diag(alpha)``. ``H^-1 v`` is found from
    Hessian-vector products only (no Hessian is formed): conjugate gradients (exact to
    ``tol``) or a Neumann series (Lorraine et al.'s approximation, converging at the rate
    ``1 - mu/L``; slower, for comparison with their method).

    The hypergradient is exact up to the inner tolerance: an inexact inner solution
    biases it (Pedregosa 2016, Theorem 2), so keep ``tol`` small.

    Args:
        x_train: Training inputs, shape (n, p).
        y_train: Training labels 0/1, shape (n,).
        x_val: Validation inputs, shape (m, p).
        y_val: Validation labels 0/1, shape (m,).
        alpha: Penalty: a float, one value per feature, or one per group (``groups``);
            values >= 0 (0 needs a non-separable problem).
        groups: Optional group index of each feature (``alpha[g]`` for group ``g``).
        fit_intercept: Fit an unpenalised intercept.
        solver: ``"newton"`` (exact Hessian, a few iterations), ``"lbfgs"`` (scipy's
            L-BFGS-B, Hessian-free; slow on ill-conditioned problems such as tiny
            penalties on separable data), or ``"auto"`` (default): Newton up to 500
            features, L-BFGS-B beyond.
        ihvp: ``"cg"`` (default) or ``"neumann"``.
        tol: Tolerance of the inner solver (gradient norm) and of the linear solve.
        max_iter: Iteration limit of the inner solver and of the linear solve (the
            Neumann series takes 100 times as many terms), an int >= 1. Default 1000.
            Either one stopping there before ``tol`` warns (``RuntimeWarning``): the
            hypergradient is then biased.

    Returns:
        Hypergradient: the mean validation log-loss, its gradient with respect to
        ``alpha`` (a float for a scalar ``alpha``), and with respect to ``log(alpha)``.

    Raises:
        InvalidArgumentError: bad shapes, labels other than 0/1, negative penalties,
            an unknown ``solver`` / ``ihvp``, or a ``tol`` / ``max_iter`` out of range.
        MissingDependencyError: scipy is not installed.
    """
    _check_options(solver, ihvp, tol, max_iter)
    tol, max_iter = float(tol), int(max_iter)
    x, xv = matrix(x_train, "x_train"), matrix(x_val, "x_val")
    y, yv = targets(y_train, x.shape[0], "y_train"), targets(y_val, xv.shape[0], "y_val")
    if xv.shape[1] != x.shape[1]:
        raise InvalidArgumentError(
            f"x_val has {xv.shape[1]} features and x_train {x.shape[1]}; they must match"
        )
    for name, labels in (("y_train", y), ("y_val", yv)):
        if not np.all((labels == 0) | (labels == 1)):
            raise InvalidArgumentError(f"{name} must hold labels 0 and 1 only")
    lam_f, g, _ = penalties(alpha, x.shape[1], groups, "alpha")
    lam = np.append(lam_f, 0.0) if fit_intercept else lam_f
    xd, xvd = _design(x, fit_intercept), _design(xv, fit_intercept)
    if solver == "auto":
        solver = "newton" if xd.shape[1] <= 500 else "lbfgs"
    w, fitted = _fit(xd, y, lam, solver, tol, max_iter)
    zv = xvd @ w
    loss = _log_loss(zv, yv)
    grad_w = xvd.T @ (_sigmoid(zv) - yv) / xv.shape[0]
    p = _sigmoid(xd @ w)
    s = p * (1.0 - p)

    def hvp(v: FloatArray) -> FloatArray:
        out: FloatArray = xd.T @ (s * (xd @ v)) + lam * v
        return out

    if ihvp == "cg":
        q, solved = _cg(hvp, grad_w, tol, max_iter)
    else:
        # L bounds H's largest eigenvalue: 1/4 ||X||_2^2 + max alpha.
        lipschitz = 0.25 * float(np.linalg.norm(xd, 2)) ** 2 + float(lam.max())
        q, solved = _neumann(hvp, grad_w, lipschitz, tol, 100 * max_iter)
    if not (fitted and solved):
        step = "the fit" if not fitted else f"the linear solve ({ihvp})"
        limit = 100 * max_iter if fitted and ihvp == "neumann" else max_iter
        warnings.warn(
            f"logistic_hypergradient: {step} stopped after {limit} iterations (max_iter="
            f"{max_iter}) before reaching tol={tol}; the hypergradient is biased (raise "
            "max_iter or tol)",
            RuntimeWarning,
            stacklevel=2,
        )
    grad = -(w * q)[: x.shape[1]]
    return result(loss, per_group(grad, g, alpha), alpha)

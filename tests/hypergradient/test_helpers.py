"""The hypergradient helpers against central finite differences of their own loss."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

pytest.importorskip("scipy")

from ferrotune.exceptions import InvalidArgumentError
from ferrotune.hypergradient import (
    kernel_ridge_hypergradient,
    logistic_hypergradient,
    ridge_hypergradient,
)


def _fd(f: Callable[[np.ndarray], float], x: np.ndarray, rel: float = 1e-5) -> np.ndarray:
    """Central differences of ``f`` at ``x``, each step relative to the coordinate."""
    out = np.empty_like(x)
    for j in range(x.size):
        h = rel * max(abs(x[j]), 1e-3)
        up, down = x.copy(), x.copy()
        up[j] += h
        down[j] -= h
        out[j] = (f(up) - f(down)) / (2 * h)
    return out


def _regression(seed: int, n: int = 30, m: int = 20, p: int = 6) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=p)
    x, xv = rng.normal(size=(n, p)), rng.normal(size=(m, p))
    return x, x @ w + rng.normal(size=n), xv, xv @ w + rng.normal(size=m)


def _classification(seed: int, n: int = 60, m: int = 40, p: int = 5) -> tuple[Any, ...]:
    rng = np.random.default_rng(seed)
    w = rng.normal(size=p)
    x, xv = rng.normal(size=(n, p)), rng.normal(size=(m, p))
    y = (rng.random(n) < 1 / (1 + np.exp(-x @ w))).astype(float)
    yv = (rng.random(m) < 1 / (1 + np.exp(-xv @ w))).astype(float)
    return x, y, xv, yv


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), fit_intercept=st.booleans())
def test_ridge_per_feature_gradient_matches_finite_differences(
    seed: int, fit_intercept: bool
) -> None:
    x, y, xv, yv = _regression(seed)
    alpha = np.exp(np.random.default_rng(seed + 1).uniform(-3, 3, size=x.shape[1]))
    hg = ridge_hypergradient(x, y, xv, yv, alpha, fit_intercept=fit_intercept)

    def loss(a: np.ndarray) -> float:
        return ridge_hypergradient(x, y, xv, yv, a, fit_intercept=fit_intercept).value

    np.testing.assert_allclose(hg.gradient, _fd(loss, alpha), rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(hg.log_gradient, hg.gradient * alpha)


def test_ridge_matches_scikit_learn_and_scalar_is_the_sum_of_features() -> None:
    sklearn = pytest.importorskip("sklearn.linear_model")
    x, y, xv, yv = _regression(3)
    hg = ridge_hypergradient(x, y, xv, yv, 0.7)
    pred = sklearn.Ridge(alpha=0.7).fit(x, y).predict(xv)
    assert hg.value == pytest.approx(np.mean((pred - yv) ** 2), rel=1e-10)
    per_feature = ridge_hypergradient(x, y, xv, yv, np.full(x.shape[1], 0.7))
    assert isinstance(hg.gradient, float)
    assert hg.gradient == pytest.approx(per_feature.gradient.sum(), rel=1e-10)
    f = lambda a: ridge_hypergradient(x, y, xv, yv, float(a[0])).value  # noqa: E731
    assert hg.gradient == pytest.approx(_fd(f, np.array([0.7]))[0], rel=1e-6)


def test_ridge_groups_sum_their_features() -> None:
    x, y, xv, yv = _regression(4)
    groups = np.array([0, 0, 1, 1, 2, 2])
    hg = ridge_hypergradient(x, y, xv, yv, np.array([0.5, 2.0, 8.0]), groups=groups)
    full = ridge_hypergradient(x, y, xv, yv, np.array([0.5, 0.5, 2.0, 2.0, 8.0, 8.0]))
    np.testing.assert_allclose(hg.gradient, np.bincount(groups, full.gradient), rtol=1e-12)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_kernel_ridge_gradient_matches_finite_differences(seed: int) -> None:
    x, y, xv, yv = _regression(seed, n=25, m=15, p=3)
    rng = np.random.default_rng(seed + 1)
    params = np.array([np.exp(rng.uniform(-3, 1)), np.exp(rng.uniform(-3, 0))])
    hg = kernel_ridge_hypergradient(x, y, xv, yv, params[0], params[1])

    def loss(a: np.ndarray) -> float:
        return kernel_ridge_hypergradient(x, y, xv, yv, a[0], a[1]).value

    np.testing.assert_allclose(hg.gradient, _fd(loss, params), rtol=1e-5, atol=1e-9)


def test_kernel_ridge_matches_scikit_learn() -> None:
    kr = pytest.importorskip("sklearn.kernel_ridge")
    x, y, xv, yv = _regression(5, p=3)
    hg = kernel_ridge_hypergradient(x, y, xv, yv, 0.3, 0.2)
    pred = kr.KernelRidge(alpha=0.3, kernel="rbf", gamma=0.2).fit(x, y).predict(xv)
    assert hg.value == pytest.approx(np.mean((pred - yv) ** 2), rel=1e-8)


@settings(max_examples=10, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    solver=st.sampled_from(["lbfgs", "newton"]),
    ihvp=st.sampled_from(["cg", "neumann"]),
)
def test_logistic_gradient_matches_finite_differences(seed: int, solver: str, ihvp: str) -> None:
    x, y, xv, yv = _classification(seed)
    alpha = np.exp(np.random.default_rng(seed + 1).uniform(-1, 2, size=x.shape[1]))
    hg = logistic_hypergradient(x, y, xv, yv, alpha, solver=solver, ihvp=ihvp)

    def loss(a: np.ndarray) -> float:
        return logistic_hypergradient(x, y, xv, yv, a, solver="newton").value

    np.testing.assert_allclose(hg.gradient, _fd(loss, alpha), rtol=1e-5, atol=1e-9)


def test_logistic_matches_scikit_learn() -> None:
    lm = pytest.importorskip("sklearn.linear_model")
    x, y, xv, yv = _classification(6)
    hg = logistic_hypergradient(x, y, xv, yv, 2.0)
    # scikit-learn's C is 1 / alpha for the objective sum(log-loss) + 1/2 ||w||^2 / C.
    clf = lm.LogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(x, y)
    p = clf.predict_proba(xv)[:, 1]
    ref = -np.mean(yv * np.log(p) + (1 - yv) * np.log(1 - p))
    assert hg.value == pytest.approx(ref, rel=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"alpha": -1.0}, "alpha must be finite and >= 0"),
        ({"alpha": np.ones(4)}, "alpha has 4 values for 6 features"),
        ({"alpha": np.ones(2), "groups": np.zeros(5, dtype=int)}, "groups must be 6"),
        ({"alpha": np.nan}, "alpha must be finite"),
    ],
)
def test_bad_penalties_are_refused_by_name(kwargs: dict[str, Any], match: str) -> None:
    x, y, xv, yv = _regression(7)
    with pytest.raises(InvalidArgumentError, match=match):
        ridge_hypergradient(x, y, xv, yv, **kwargs)


def test_bad_data_and_options_are_refused_by_name() -> None:
    x, y, xv, yv = _classification(8)
    with pytest.raises(InvalidArgumentError, match="x_val has 4 features"):
        ridge_hypergradient(x, y, xv[:, :4], yv, 1.0)
    with pytest.raises(InvalidArgumentError, match="y_train must hold labels 0 and 1"):
        logistic_hypergradient(x, y * 2, xv, yv, 1.0)
    with pytest.raises(InvalidArgumentError, match="ihvp must be"):
        logistic_hypergradient(x, y, xv, yv, 1.0, ihvp="lissa")
    with pytest.raises(InvalidArgumentError, match="gamma must be a finite number > 0"):
        kernel_ridge_hypergradient(x, y, xv, yv, 1.0, 0.0)

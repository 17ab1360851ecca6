"""The core's random forest against scikit-learn's RandomForestRegressor: held-out R^2
on the same data with the same settings (the settings Optuna's importance evaluators
use), and categorical subset splits where codes mislead."""

from __future__ import annotations

import numpy as np
import pytest

from ferrotune import _core

sklearn = pytest.importorskip("sklearn")
from sklearn.datasets import make_friedman1  # noqa: E402
from sklearn.ensemble import RandomForestRegressor  # noqa: E402
from sklearn.metrics import r2_score  # noqa: E402


def _ours(
    features: list[tuple[float, float, int, bool]],
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    n_trees: int = 64,
) -> _core.ForestCore:
    # Optuna's evaluators: 64 trees, max_depth 64, split from 2, leaves of 1, all features.
    return _core.ForestCore.fit(
        features, x, list(y), n_trees, 1.0, 2, 1, 64, True, False, False, seed
    )


def _sklearn(x: np.ndarray, y: np.ndarray, seed: int, n_trees: int = 64) -> RandomForestRegressor:
    return RandomForestRegressor(
        n_estimators=n_trees,
        max_depth=64,
        min_samples_split=2,
        min_samples_leaf=1,
        max_features=None,
        random_state=seed,
    ).fit(x, y)


def test_numeric_quality_matches_scikit_learn() -> None:
    x, y = make_friedman1(n_samples=1000, n_features=8, noise=0.5, random_state=0)
    xtr, ytr, xte, yte = x[:500], y[:500], x[500:], y[500:]
    features = [(0.0, 1.0, 0, False)] * 8
    ours = [r2_score(yte, _ours(features, xtr, ytr, s).predict(xte)[0]) for s in range(3)]
    theirs = [r2_score(yte, _sklearn(xtr, ytr, s).predict(xte)) for s in range(3)]
    assert np.mean(ours) > 0.8
    assert abs(np.mean(ours) - np.mean(theirs)) < 0.03, (ours, theirs)


def test_categorical_subsets_beat_codes() -> None:
    # A categorical of 12 choices whose effect is not monotone in its code, plus a
    # numeric feature: with shallow trees, codes need several splits where a subset needs one.
    rng = np.random.default_rng(1)
    effect = rng.permutation(12).astype(float)
    n = 600
    codes = rng.integers(0, 12, n)
    num = rng.uniform(0, 1, n)
    y = effect[codes] + 3.0 * num + rng.normal(0, 0.3, n)
    x = np.column_stack([codes, num]).astype(float)
    features = [(0.0, 0.0, 12, False), (0.0, 1.0, 0, False)]
    tr, te = slice(0, 300), slice(300, None)
    ours = _core.ForestCore.fit(
        features, x[tr], list(y[tr]), 32, 1.0, 2, 1, 3, True, False, False, 0
    )
    theirs = RandomForestRegressor(n_estimators=32, max_depth=3, max_features=None, random_state=0)
    theirs.fit(x[tr], y[tr])
    r2_ours = r2_score(y[te], ours.predict(x[te])[0])
    r2_theirs = r2_score(y[te], theirs.predict(x[te]))
    assert r2_ours > r2_theirs + 0.05, (r2_ours, r2_theirs)


def test_predictions_and_variance_properties() -> None:
    x, y = make_friedman1(n_samples=300, n_features=5, random_state=2)
    features = [(0.0, 1.0, 0, False)] * 5
    forest = _ours(features, x, y, 0, n_trees=16)
    mean, var = forest.predict(np.random.default_rng(0).uniform(0, 1, (200, 5)))
    assert min(mean) >= y.min() and max(mean) <= y.max()
    assert min(var) >= 0.0
    assert len(forest.node_counts()) == 16
    # Inactive values of a conditional feature are NaN; in a non-conditional one, an error.
    cond = [(0.0, 1.0, 0, True), *features[1:]]
    xc = x.copy()
    xc[::2, 0] = np.nan
    assert np.isfinite(_ours(cond, xc, y, 0, 4).predict(xc)[0]).all()
    with pytest.raises(ValueError, match="not conditional"):
        _ours(features, xc, y, 0, 4)

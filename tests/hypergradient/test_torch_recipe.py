"""The PyTorch recipe of docs/hypergradient.md, run against ridge_hypergradient."""

from __future__ import annotations

import pathlib
import re
from typing import Any

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("scipy")

from ferrotune.hypergradient import ridge_hypergradient  # noqa: E402

DOC = pathlib.Path(__file__).parents[2] / "docs" / "hypergradient.md"


def _recipe() -> dict[str, Any]:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(
        r"<!-- recipe: begin -->\s*```python\n(.*?)```\s*<!-- recipe: end -->", text, re.S
    )
    assert block is not None
    namespace: dict[str, Any] = {}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)
    return namespace


def test_recipe_matches_the_closed_form_ridge_hypergradient() -> None:
    recipe = _recipe()
    rng = np.random.default_rng(0)
    x, xv = rng.normal(size=(40, 4)), rng.normal(size=(20, 4))
    w_true = rng.normal(size=4)
    y, yv = x @ w_true + rng.normal(size=40), xv @ w_true + rng.normal(size=20)
    alpha = np.array([0.5, 2.0, 5.0, 10.0])
    ref = ridge_hypergradient(x, y, xv, yv, alpha, fit_intercept=False)

    tx, ty, txv, tyv = (torch.tensor(a, dtype=torch.float64) for a in (x, y, xv, yv))

    def train_loss(w: Any, a: Any) -> Any:
        return ((tx @ w - ty) ** 2).sum() + (a * w**2).sum()

    def val_loss(w: Any) -> Any:
        return ((txv @ w - tyv) ** 2).mean()

    hyper = torch.tensor(alpha)
    w_star = torch.linalg.solve(tx.T @ tx + torch.diag(hyper), tx.T @ ty)
    value, hg = recipe["implicit_hypergradient"](train_loss, val_loss, w_star, hyper)
    assert value == pytest.approx(ref.value, rel=1e-10)
    np.testing.assert_allclose(hg.numpy(), ref.gradient, rtol=1e-6)
    step = 0.5 / float(torch.linalg.eigvalsh(tx.T @ tx + torch.diag(hyper)).max())
    value, hg = recipe["unrolled_hypergradient"](
        train_loss, val_loss, torch.zeros(4, dtype=torch.float64), hyper, steps=3000, lr=step
    )
    assert value == pytest.approx(ref.value, rel=1e-6)
    np.testing.assert_allclose(hg.numpy(), ref.gradient, rtol=1e-4)

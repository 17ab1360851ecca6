"""Exact hypergradients of common inner problems (for the HypergradientSampler).

Each helper trains a model on training data for given hyperparameters (closed form, or to
a tolerance) and returns a :class:`Hypergradient`: the validation loss and its gradient
with respect to the hyperparameters, computed by the implicit function theorem (Bengio
2000; Pedregosa 2016; Lorraine, Vicol & Duvenaud 2020) rather than by differentiating
through the training steps:

- :func:`ridge_hypergradient`: ridge regression, one L2 penalty per feature, per group
  or for all (closed form, one Cholesky factorisation).
- :func:`kernel_ridge_hypergradient`: RBF kernel ridge regression, gradient in the
  regularisation and the kernel's ``gamma``.
- :func:`logistic_hypergradient`: L2 logistic regression solved to tolerance (L-BFGS or
  Newton), with conjugate-gradient or Neumann-series inverse-Hessian-vector products.

The gradient is with respect to the hyperparameters as given; ``log_gradient`` is the
gradient with respect to their natural logarithms (``gradient * value``). Report
``gradient`` to a trial: the sampler applies the chain rule itself for parameters
suggested with ``log=True``.

Needs numpy and scipy (``pip install 'ferrotune[hypergradient]'``); scipy is imported
when a helper is first called, so ``import ferrotune`` never needs it. For models in
PyTorch, see the recipe in ``docs/hypergradient.md``.

Example:
    >>> def objective(trial):  # doctest: +SKIP
    ...     alpha = np.array([trial.suggest_float(f"a{j}", 1e-4, 1e3, log=True) for j in range(p)])
    ...     hg = ridge_hypergradient(X, y, Xv, yv, alpha)
    ...     trial.report_gradient({f"a{j}": g for j, g in enumerate(hg.gradient)})
    ...     return hg.value
"""

from __future__ import annotations

from ferrotune.hypergradient._common import Hypergradient
from ferrotune.hypergradient._logistic import logistic_hypergradient
from ferrotune.hypergradient._ridge import kernel_ridge_hypergradient, ridge_hypergradient

__all__ = [
    "Hypergradient",
    "kernel_ridge_hypergradient",
    "logistic_hypergradient",
    "ridge_hypergradient",
]

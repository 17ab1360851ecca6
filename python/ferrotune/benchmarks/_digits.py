"""A real learning task for multi-fidelity benchmarks: an MLP trained on scikit-learn's digits.

scikit-learn is needed by the live task only (``pip install scikit-learn``; ferrotune's ``test``
extra installs it); the tabular version reads the curves bundled in ``digits_mlp.npz``.
"""

from __future__ import annotations

import collections
import itertools
import math
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from ferrotune.benchmarks._multi_fidelity import MultiFidelityProblem
from ferrotune.benchmarks._problems import FloatArray, Param
from ferrotune.exceptions import InvalidArgumentError, MissingDependencyError

#: The full budget of the digits task, in epochs (Hyperband with ``reduction_factor=3``: 1, 3,
#: 9, 27).
DIGITS_MAX_EPOCHS = 27
#: The validation split: this fraction of the 1797 images, stratified, fixed (seed 0).
DIGITS_VALIDATION_FRACTION = 0.2
#: The bundled table holds validation errors as counts of misclassified images, computed with
#: one scikit-learn / BLAS; another build can round a few predictions differently.  The live
#: task at a grid point matches the table within this fraction of error, but for the chaotic
#: curves of the largest learning rates (see :func:`digits_mlp_tabular`).
DIGITS_TABLE_TOLERANCE = 0.01

#: The objectives of the digits task: ``"error"`` (the fraction of validation images
#: misclassified; it moves in steps of 1/360) and ``"log_loss"`` (the mean cross-entropy of the
#: predicted class probabilities on the validation images, continuous).
DIGITS_METRICS = ("error", "log_loss")

_TABLE_FILE = "digits_mlp.npz"
#: Predicted probabilities are clipped to ``[_EPS, 1 - _EPS]`` in the log-loss, so a diverged
#: network scores a large finite loss rather than infinity.
_EPS = 1e-15


def _digits_params() -> dict[str, Param]:
    return {
        "learning_rate_init": Param.real(1e-4, 1e-1, log=True),
        "alpha": Param.real(1e-6, 1e-2, log=True),
        "batch_size": Param.integer(16, 256, log=True),
        "hidden_units": Param.integer(16, 128, log=True),
    }


def _sklearn() -> Any:
    try:
        from sklearn import datasets, model_selection, neural_network
    except ImportError as exc:
        raise MissingDependencyError(
            "the live digits task needs scikit-learn: pip install scikit-learn "
            "(or use digits_mlp_tabular(), which does not)"
        ) from exc
    return datasets, model_selection, neural_network


@cache
def _digits_split() -> tuple[FloatArray, FloatArray, Any, Any]:
    datasets, model_selection, _ = _sklearn()
    x, y = datasets.load_digits(return_X_y=True)
    x = np.asarray(x, dtype=np.float64) / 16.0  # pixel intensities 0..16 -> [0, 1]
    x_tr, x_va, y_tr, y_va = model_selection.train_test_split(
        x, y, test_size=DIGITS_VALIDATION_FRACTION, stratify=y, random_state=0
    )
    return x_tr, x_va, y_tr, y_va


def _check_metric(where: str, metric: str) -> str:
    if metric not in DIGITS_METRICS:
        raise InvalidArgumentError(
            f"{where}: metric must be one of {', '.join(DIGITS_METRICS)}, got {metric!r}"
        )
    return metric


def _train_curves(params: Mapping[str, Any], seed: int) -> Iterator[tuple[float, float]]:
    """``(error, log_loss)`` on the validation set after each epoch (see
    :func:`train_digits_mlp`)."""
    _, _, neural_network = _sklearn()
    x_tr, x_va, y_tr, y_va = _digits_split()
    clf = neural_network.MLPClassifier(
        hidden_layer_sizes=(int(params["hidden_units"]),),
        alpha=float(params["alpha"]),
        batch_size=int(params["batch_size"]),
        learning_rate_init=float(params["learning_rate_init"]),
        shuffle=False,
        random_state=seed,
    )
    rng = np.random.default_rng(seed)
    classes = np.arange(10)
    rows = np.arange(len(y_va))
    for _ in range(DIGITS_MAX_EPOCHS):
        order = rng.permutation(len(y_tr))
        clf.partial_fit(x_tr[order], y_tr[order], classes=classes)
        proba = clf.predict_proba(x_va)
        # predict() is the argmax of these probabilities (classes are 0..9 in order).
        error = float(np.mean(np.argmax(proba, axis=1) != y_va))
        p_true = np.clip(proba[rows, y_va], _EPS, 1.0 - _EPS)
        yield error, float(-np.mean(np.log(p_true)))


def train_digits_mlp(
    params: Mapping[str, Any], seed: int = 0, metric: str = "error"
) -> Iterator[float]:
    """Train the digits MLP one epoch at a time; yield the validation ``metric`` after each
    epoch: ``"error"`` (default, the fraction of the 360 validation images misclassified) or
    ``"log_loss"`` (their mean cross-entropy, probabilities clipped to ``[1e-15, 1 - 1e-15]``).

    One hidden layer of ``hidden_units`` ReLU units, Adam (``learning_rate_init``), L2 penalty
    ``alpha``, minibatches of ``batch_size``: scikit-learn's ``MLPClassifier.partial_fit`` once
    per epoch on the training set shuffled by ``numpy.random.default_rng(seed)``, with the
    weights initialised from ``seed``.  Deterministic for a seed.  Stops after
    :data:`DIGITS_MAX_EPOCHS` epochs.
    """
    column = DIGITS_METRICS.index(_check_metric("train_digits_mlp", metric))
    return (pair[column] for pair in _train_curves(params, seed))


def digits_mlp(seed: int = 0, metric: str = "error") -> MultiFidelityProblem:
    """The live digits task: validation error (or log-loss) of an MLP after ``budget`` epochs.

    A real learning task on data bundled with scikit-learn (``load_digits``: 1797 8x8 images,
    10 classes; 20% held out, stratified), trained by :func:`train_digits_mlp`.  Budget: epochs,
    whole numbers in ``1..27``.  Space: ``learning_rate_init`` in ``[1e-4, 0.1]`` (log),
    ``alpha`` in ``[1e-6, 0.01]`` (log), ``batch_size`` in ``16..256`` (log) and
    ``hidden_units`` in ``16..128`` (log).  ``evaluate(params, budget)`` trains from scratch;
    ``steps(params)`` yields the error after each epoch of one run, for pruning loops.  The
    optimum is not known (``optimum`` is ``None``); :func:`digits_mlp_tabular` knows the best of
    its grid.  Deterministic for a seed; the bundled table was computed with ``seed=0``.

    ``metric="error"`` (default; the problem ``"digits_mlp"``) minimises the fraction of the 360
    validation images misclassified, which moves in steps of 1/360: near the optimum many
    configurations tie, and a difference of one image is within the noise of the split.
    ``metric="log_loss"`` (the problem ``"digits_mlp_logloss"``) minimises the validation
    cross-entropy instead, a continuous measure of the same predictions (the loss most training
    curves show).

    Needs scikit-learn (``pip install scikit-learn``): raises
    :class:`~ferrotune.exceptions.MissingDependencyError` otherwise, when first evaluated.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError(f"digits_mlp: seed must be an integer, got {seed!r}")
    _check_metric("digits_mlp", metric)

    def fn(params: Mapping[str, Any], budget: float) -> float:
        epochs = itertools.islice(train_digits_mlp(params, int(seed), metric), int(budget))
        return collections.deque(epochs, maxlen=1)[0]

    def steps(params: Mapping[str, Any]) -> Iterator[float]:
        return train_digits_mlp(params, int(seed), metric)

    return MultiFidelityProblem(
        "digits_mlp" if metric == "error" else "digits_mlp_logloss",
        _digits_params(),
        None,
        None,
        1.0,
        float(DIGITS_MAX_EPOCHS),
        fn,
        integer_budget=True,
        steps_fn=steps,
    )


@cache
def _load_table() -> dict[str, np.ndarray[Any, Any]]:
    ref = resources.files("ferrotune.benchmarks").joinpath(_TABLE_FILE)
    with ref.open("rb") as fh, np.load(fh, allow_pickle=False) as data:
        return {k: np.array(data[k]) for k in data.files}


def _nearest(grid: FloatArray, value: float, log: bool) -> int:
    scale = np.log(grid) if log else grid
    v = math.log(value) if log else value
    return int(np.argmin(np.abs(scale - v)))


def digits_mlp_tabular(
    metric: str = "error", interpolate: bool | None = None
) -> MultiFidelityProblem:
    """The digits task served from a table: fast, repeatable, no scikit-learn needed.

    The curves of :func:`digits_mlp` (``seed=0``) computed once over a grid by
    ``benches/make_digits_table.py`` and bundled with ferrotune: ``learning_rate_init`` in
    ``1e-4, 10^-3.5, ..., 0.1`` (7 values), ``alpha`` in ``1e-6, 1e-5, ..., 0.01`` (5),
    ``batch_size`` in ``16, 32, 64, 128, 256`` and ``hidden_units`` in ``16, 32, 64, 128``,
    27 epochs each.  Same space and budgets as the live task.  A point between grid values is
    served either the curve of the nearest grid point (nearest on the log scale), so the
    objective is piecewise constant, or with ``interpolate=True`` the multilinear interpolation
    of the curves at the 16 grid points around it (on the log scale of every parameter), so the
    objective is continuous like the live task's and a sampler that refines near a good point
    is not served the same cell again.  Either way the optimum is a grid point (a multilinear
    interpolation is a convex combination of its corners).  At a grid point it matches the
    live task within :data:`DIGITS_TABLE_TOLERANCE`, except where training is chaotic: with
    ``learning_rate_init`` 10^-1.5 or 0.1 and batches of 16 to 64, floating-point rounding
    that differs between CPUs (the BLAS kernels chosen for them) grows until the curves part
    (measured on a second machine with the table's scikit-learn and numpy: 56 of the 700 grid
    points, all of that kind, depart after 10-27 epochs, 51 of them by more than the
    tolerance and by up to 0.133; the other 644 equal the table exactly).  The table stays
    the reference for these benchmarks.  ``optimum`` is the best full-budget value of the
    grid and ``optimal_params`` its grid point.

    ``metric`` as in :func:`digits_mlp`: ``"error"`` or ``"log_loss"``; the table holds both,
    from the same training runs.  ``interpolate=None`` picks each metric's registered problem:
    ``"digits_mlp_tabular"`` (the error, nearest grid point: the benchmark every earlier
    measurement used) and ``"digits_mlp_logloss_tabular"`` (the log-loss, interpolated).
    """
    _check_metric("digits_mlp_tabular", metric)
    if interpolate is None:
        interpolate = metric == "log_loss"
    elif not isinstance(interpolate, bool):
        raise InvalidArgumentError(
            f"digits_mlp_tabular: interpolate must be a bool or None, got {interpolate!r}"
        )
    table = _load_table()
    params = _digits_params()
    names = tuple(params)
    grids = [table[f"grid_{n}"].astype(np.float64) for n in names]
    log_grids = [np.log(g) for g in grids]
    if metric == "error":
        errors = table["errors"].astype(np.float64) / float(table["n_validation"])
    else:
        errors = table["log_losses"].astype(np.float64)

    def index(p: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(
            _nearest(g, float(p[n]), params[n].log) for n, g in zip(names, grids, strict=True)
        )

    def curve(p: Mapping[str, Any]) -> FloatArray:
        if not interpolate:
            nearest: FloatArray = errors[index(p)]
            return nearest
        # Multilinear: per parameter the two grid values around it and the weight of the upper.
        out = errors
        for n, lg in zip(names, log_grids, strict=True):
            x = min(max(math.log(float(p[n])), lg[0]), lg[-1])
            i = min(int(np.searchsorted(lg, x, side="right")) - 1, len(lg) - 2)
            w = (x - lg[i]) / (lg[i + 1] - lg[i])
            out = (1.0 - w) * out[i] + w * out[i + 1]
        return out

    def fn(p: Mapping[str, Any], budget: float) -> float:
        return float(curve(p)[int(budget) - 1])

    def steps(p: Mapping[str, Any]) -> Iterator[float]:
        return (float(v) for v in curve(p))

    final = errors[..., -1]
    best = np.unravel_index(int(np.argmin(final)), final.shape)
    opt: dict[str, Any] = {}
    for n, g, i in zip(names, grids, best, strict=True):
        opt[n] = int(g[i]) if params[n].kind == "int" else float(g[i])
    name = "digits_mlp_tabular" if metric == "error" else "digits_mlp_logloss_tabular"
    if interpolate != (metric == "log_loss"):
        name += "_interpolated" if interpolate else "_nearest"
    return MultiFidelityProblem(
        name,
        params,
        float(final[best]),
        opt,
        1.0,
        float(errors.shape[-1]),
        fn,
        integer_budget=True,
        steps_fn=steps,
    )


def digits_table_grid() -> dict[str, tuple[float, ...]]:
    """The grid of the bundled table (parameter name -> its values)."""
    table = _load_table()
    return {n: tuple(float(v) for v in table[f"grid_{n}"]) for n in _digits_params()}

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

_TABLE_FILE = "digits_mlp.npz"


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


def train_digits_mlp(params: Mapping[str, Any], seed: int = 0) -> Iterator[float]:
    """Train the digits MLP one epoch at a time; yield the validation error after each epoch.

    One hidden layer of ``hidden_units`` ReLU units, Adam (``learning_rate_init``), L2 penalty
    ``alpha``, minibatches of ``batch_size``: scikit-learn's ``MLPClassifier.partial_fit`` once
    per epoch on the training set shuffled by ``numpy.random.default_rng(seed)``, with the
    weights initialised from ``seed``.  Deterministic for a seed.  Stops after
    :data:`DIGITS_MAX_EPOCHS` epochs.
    """
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
    for _ in range(DIGITS_MAX_EPOCHS):
        order = rng.permutation(len(y_tr))
        clf.partial_fit(x_tr[order], y_tr[order], classes=classes)
        yield float(np.mean(clf.predict(x_va) != y_va))


def digits_mlp(seed: int = 0) -> MultiFidelityProblem:
    """The live digits task: validation error of an MLP after ``budget`` epochs.

    A real learning task on data bundled with scikit-learn (``load_digits``: 1797 8x8 images,
    10 classes; 20% held out, stratified), trained by :func:`train_digits_mlp`.  Budget: epochs,
    whole numbers in ``1..27``.  Space: ``learning_rate_init`` in ``[1e-4, 0.1]`` (log),
    ``alpha`` in ``[1e-6, 0.01]`` (log), ``batch_size`` in ``16..256`` (log) and
    ``hidden_units`` in ``16..128`` (log).  ``evaluate(params, budget)`` trains from scratch;
    ``steps(params)`` yields the error after each epoch of one run, for pruning loops.  The
    optimum is not known (``optimum`` is ``None``); :func:`digits_mlp_tabular` knows the best of
    its grid.  Deterministic for a seed; the bundled table was computed with ``seed=0``.

    Needs scikit-learn (``pip install scikit-learn``): raises
    :class:`~ferrotune.exceptions.MissingDependencyError` otherwise, when first evaluated.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise InvalidArgumentError(f"digits_mlp: seed must be an integer, got {seed!r}")

    def fn(params: Mapping[str, Any], budget: float) -> float:
        epochs = itertools.islice(train_digits_mlp(params, int(seed)), int(budget))
        return collections.deque(epochs, maxlen=1)[0]

    def steps(params: Mapping[str, Any]) -> Iterator[float]:
        return train_digits_mlp(params, int(seed))

    return MultiFidelityProblem(
        "digits_mlp",
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


def digits_mlp_tabular() -> MultiFidelityProblem:
    """The digits task served from a table: fast, repeatable, no scikit-learn needed.

    The curves of :func:`digits_mlp` (``seed=0``) computed once over a grid by
    ``benches/make_digits_table.py`` and bundled with ferrotune: ``learning_rate_init`` in
    ``1e-4, 10^-3.5, ..., 0.1`` (7 values), ``alpha`` in ``1e-6, 1e-5, ..., 0.01`` (5),
    ``batch_size`` in ``16, 32, 64, 128, 256`` and ``hidden_units`` in ``16, 32, 64, 128``,
    27 epochs each.  Same space and budgets as the live task; a point between grid values is
    served the curve of the nearest grid point (nearest on the log scale), so the objective is
    piecewise constant.  At a grid point it matches the live task within
    :data:`DIGITS_TABLE_TOLERANCE`, except where training is chaotic: with
    ``learning_rate_init`` 10^-1.5 or 0.1 and batches of 16 to 64, floating-point rounding
    that differs between CPUs (the BLAS kernels chosen for them) grows until the curves part
    (measured on a second machine with the table's scikit-learn and numpy: 56 of the 700 grid
    points, all of that kind, depart after 10-27 epochs, 51 of them by more than the
    tolerance and by up to 0.133; the other 644 equal the table exactly).  The table stays
    the reference for these benchmarks.  ``optimum`` is the best full-budget error of the
    grid and ``optimal_params`` its grid point.
    """
    table = _load_table()
    params = _digits_params()
    names = tuple(params)
    grids = [table[f"grid_{n}"].astype(np.float64) for n in names]
    errors = table["errors"].astype(np.float64) / float(table["n_validation"])

    def index(p: Mapping[str, Any]) -> tuple[int, ...]:
        return tuple(
            _nearest(g, float(p[n]), params[n].log) for n, g in zip(names, grids, strict=True)
        )

    def fn(p: Mapping[str, Any], budget: float) -> float:
        key = (*index(p), int(budget) - 1)
        return float(errors[key])

    def steps(p: Mapping[str, Any]) -> Iterator[float]:
        return (float(v) for v in errors[index(p)])

    final = errors[..., -1]
    best = np.unravel_index(int(np.argmin(final)), final.shape)
    opt: dict[str, Any] = {}
    for n, g, i in zip(names, grids, best, strict=True):
        opt[n] = int(g[i]) if params[n].kind == "int" else float(g[i])
    return MultiFidelityProblem(
        "digits_mlp_tabular",
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

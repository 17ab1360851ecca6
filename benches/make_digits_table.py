"""Compute the table of ``ferrotune.benchmarks.digits_mlp_tabular`` (``digits_mlp.npz``).

Trains the live digits task (``ferrotune.benchmarks.train_digits_mlp``, ``seed=0``) at every
point of a fixed grid for the full 27 epochs and stores the validation errors as counts of
misclassified images (uint16) and the validation log-losses (float32), with the grid, the
validation-set size and the versions used.
Needs scikit-learn.  About 3 minutes on one core.  Run from the repository root:

    python benches/make_digits_table.py [--out python/ferrotune/benchmarks/digits_mlp.npz]
"""

from __future__ import annotations

import argparse
import itertools
import platform
import sys
import time
from pathlib import Path

import numpy as np

from ferrotune.benchmarks import DIGITS_MAX_EPOCHS
from ferrotune.benchmarks._digits import _digits_split, _train_curves

GRID: dict[str, list[float]] = {
    "learning_rate_init": [float(v) for v in np.logspace(-4.0, -1.0, 7)],
    "alpha": [1e-6, 1e-5, 1e-4, 1e-3, 1e-2],
    "batch_size": [16, 32, 64, 128, 256],
    "hidden_units": [16, 32, 64, 128],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    default = Path("python/ferrotune/benchmarks/digits_mlp.npz")
    parser.add_argument("--out", type=Path, default=default)
    args = parser.parse_args()

    import sklearn

    n_val = len(_digits_split()[3])
    names = list(GRID)
    shape = [len(GRID[n]) for n in names]
    counts = np.zeros((*shape, DIGITS_MAX_EPOCHS), dtype=np.uint16)
    losses = np.zeros((*shape, DIGITS_MAX_EPOCHS), dtype=np.float32)
    start = time.perf_counter()
    for idx in itertools.product(*(range(s) for s in shape)):
        params = {n: GRID[n][i] for n, i in zip(names, idx, strict=True)}
        curve = np.array(list(_train_curves(params, seed=0)))
        counts[idx] = np.rint(curve[:, 0] * n_val).astype(np.uint16)
        losses[idx] = curve[:, 1]
    elapsed = time.perf_counter() - start
    versions = f"scikit-learn {sklearn.__version__}, numpy {np.__version__}, {platform.machine()}"
    np.savez_compressed(
        args.out,
        errors=counts,
        log_losses=losses,
        n_validation=np.int64(n_val),
        versions=np.array(versions),
        **{f"grid_{n}": np.array(GRID[n], dtype=np.float64) for n in names},
    )
    size = args.out.stat().st_size
    print(f"{counts.size // DIGITS_MAX_EPOCHS} curves in {elapsed:.0f} s; {args.out}: {size} bytes")
    print(versions, file=sys.stderr)


if __name__ == "__main__":
    main()

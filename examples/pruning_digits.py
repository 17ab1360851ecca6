"""Tune an MLP on scikit-learn's digits with pruning, and count the epochs pruning saves.

Each trial trains a one-hidden-layer MLP on ``load_digits`` one epoch at a time (up to 27),
reports the validation error after every epoch (``trial.report``) and stops early when the
pruner says so (``trial.should_prune``).  The same study is run three times, with the same
sampler seed and number of trials: without pruning (``NopPruner``), with ``MedianPruner`` and
with ``HyperbandPruner``; the table shows how many trials were pruned, how many epochs were
trained, how many were saved against the run without pruning, and the best validation error
of a fully trained trial.

The runs differ after the first pruned trial (the sampler sees pruned trials), so the epochs
saved compare whole runs, not the same trials.

Run::

    python examples/pruning_digits.py                # live training, needs scikit-learn
    python examples/pruning_digits.py --tabular      # the bundled table: fast, no scikit-learn
    python examples/pruning_digits.py --trials 60 --seed 1
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import ferrotune
from ferrotune.benchmarks import (
    DIGITS_MAX_EPOCHS,
    MultiFidelityProblem,
    digits_mlp,
    digits_mlp_tabular,
)
from ferrotune.pruners import BasePruner, HyperbandPruner, MedianPruner, NopPruner
from ferrotune.trial import TrialState

#: Default number of trials per run: about half a minute for all three live runs on 2 cores.
DEFAULT_TRIALS = 30

PRUNERS: dict[str, Callable[[], BasePruner]] = {
    "none": NopPruner,
    "median": lambda: MedianPruner(n_startup_trials=5, n_warmup_steps=2),
    "hyperband": lambda: HyperbandPruner(
        min_resource=1, max_resource=DIGITS_MAX_EPOCHS, reduction_factor=3
    ),
}


@dataclass(frozen=True)
class RunResult:
    """One row of the table: a study run with one pruner."""

    pruner: str
    trials: int
    pruned: int
    epochs: int
    best_error: float
    epochs_saved: int = 0


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--trials", type=int, default=DEFAULT_TRIALS, help="trials per run (%(default)s)"
    )
    parser.add_argument("--seed", type=int, default=0, help="TPE sampler seed (%(default)s)")
    parser.add_argument(
        "--tabular",
        action="store_true",
        help="read the curves from the bundled table (fast, no scikit-learn)",
    )
    args = parser.parse_args(argv)
    if args.trials < 1:
        parser.error(f"--trials must be at least 1, got {args.trials}")
    if not 0 <= args.seed < 2**64:
        # The samplers' seeds are unsigned 64-bit integers.
        parser.error(f"--seed must be in [0, 2**64), got {args.seed}")
    return args


def _require_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError:
        sys.exit(
            "pruning_digits.py: the live digits task needs scikit-learn "
            "(pip install scikit-learn), or run with --tabular to use the bundled table"
        )


def _run(problem: MultiFidelityProblem, pruner: BasePruner, trials: int, seed: int) -> RunResult:
    # A fixed study name: HyperbandPruner assigns trials to brackets by hashing it.
    study = ferrotune.create_study(
        sampler=ferrotune.samplers.TPESampler(seed=seed),
        pruner=pruner,
        study_name=f"pruning-digits-{type(pruner).__name__}",
    )

    def objective(trial: ferrotune.Trial) -> float:
        params = trial.params
        error = float("nan")
        for epoch, error in enumerate(problem.steps(params), start=1):
            trial.report(error, epoch)
            if trial.should_prune():
                raise ferrotune.TrialPruned()
        return error

    study.optimize(objective, n_trials=trials, space=ferrotune.SearchSpace(problem.space))
    done = study.trials
    return RunResult(
        pruner=type(pruner).__name__,
        trials=len(done),
        pruned=sum(t.state == TrialState.PRUNED for t in done),
        epochs=sum(len(t.intermediate_values) for t in done),
        best_error=study.best_value,
    )


_ROW = "{:<16} {:>6} {:>6} {:>7} {:>6} {:>10}"


def _print_table(problem: MultiFidelityProblem, rows: Sequence[RunResult]) -> None:
    print(f"{problem.name}: {rows[0].trials} trials per run, up to {DIGITS_MAX_EPOCHS} epochs each")
    header = _ROW.format("pruner", "trials", "pruned", "epochs", "saved", "best error")
    print(header)
    print("-" * len(header))
    for r in rows:
        best = f"{r.best_error:.4f}"
        print(_ROW.format(r.pruner, r.trials, r.pruned, r.epochs, r.epochs_saved, best))


def main(argv: Sequence[str] | None = None) -> list[RunResult]:
    """Run the comparison, print the table and return its rows (no pruning first).

    Args:
        argv: Command-line arguments (default: ``sys.argv[1:]``): ``--trials`` (default 30),
            ``--seed`` (default 0), ``--tabular``.
    """
    args = _parse_args(argv)
    if not args.tabular:
        _require_sklearn()
    problem = digits_mlp_tabular() if args.tabular else digits_mlp(seed=0)
    verbosity = ferrotune.logging.get_verbosity()
    ferrotune.logging.set_verbosity(ferrotune.logging.WARNING)  # no line per trial
    try:
        rows = [_run(problem, make(), args.trials, args.seed) for make in PRUNERS.values()]
    finally:
        ferrotune.logging.set_verbosity(verbosity)
    rows = [replace(r, epochs_saved=rows[0].epochs - r.epochs) for r in rows]
    _print_table(problem, rows)
    return rows


if __name__ == "__main__":
    main()

"""Command line: ``ferrotune demo`` runs a short optimisation of the running example."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import ferrotune
from ferrotune.examples import transformer_loss, transformer_space


def _demo(args: argparse.Namespace) -> int:
    space = transformer_space()
    sampler: ferrotune.samplers.BaseSampler
    if args.sampler == "qmc":
        sampler = ferrotune.samplers.QMCSampler(seed=args.seed)
    else:
        sampler = ferrotune.samplers.RandomSampler(seed=args.seed)
    study = ferrotune.create_study(direction="minimize", sampler=sampler, study_name="demo")
    print(
        f"ferrotune {ferrotune.__version__} demo: tuning a Transformer ({len(space.names)} "
        f"hyperparameters, constraint d_model % n_heads == 0) with {type(sampler).__name__}, "
        f"{args.trials} trials, in-memory storage"
    )
    every = max(1, args.trials // 10)
    start = time.perf_counter()

    def objective(trial: ferrotune.Trial) -> float:
        p = trial.params
        assert p["d_model"] % p["n_heads"] == 0, "the sampler violated the constraint"
        return transformer_loss(p)

    def progress(study: ferrotune.Study, trial: ferrotune.FrozenTrial) -> None:
        if (trial.number + 1) % every == 0:
            print(f"  trial {trial.number + 1:5d}  best loss {study.best_value:.4f}")

    study.optimize(objective, n_trials=args.trials, space=space, callbacks=[progress])
    elapsed = time.perf_counter() - start
    best = study.best_trial
    print(f"best loss {best.value:.4f} at trial {best.number}:")
    for k, v in best.params.items():
        print(f"  {k:>20} = {v}")
    print(f"{len(study.trials)} trials in {elapsed:.2f} s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``ferrotune`` command."""
    parser = argparse.ArgumentParser(prog="ferrotune", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="a short optimisation of the Transformer example")
    demo.add_argument("--trials", type=int, default=500, help="number of trials (500)")
    demo.add_argument("--sampler", choices=["random", "qmc"], default="qmc")
    demo.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if args.command == "demo":
        return _demo(args)
    return 2  # pragma: no cover - argparse rejects other commands


if __name__ == "__main__":
    sys.exit(main())

"""The commands that run trials: ``demo`` and ``worker``.

``ferrotune demo`` runs a short optimisation of the running example.

``ferrotune worker --storage URL --study NAME --objective module:function --n-trials N``
runs trials of a study kept in a database; start as many workers as you like, on one
machine (SQLite or PostgreSQL) or many (PostgreSQL), and they share the study
(``docs/storages.md``).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import ferrotune
from ferrotune.cli._storage import close_storage, open_storage
from ferrotune.examples import transformer_loss, transformer_space
from ferrotune.exceptions import CLIUsageError


def demo(args: argparse.Namespace) -> int:
    import ferrotune.logging

    # The demo prints its own progress; a log line per trial would bury it.
    ferrotune.logging.set_verbosity(ferrotune.logging.WARNING)
    space = transformer_space()
    sampler: ferrotune.samplers.BaseSampler
    if args.sampler == "qmc":
        sampler = ferrotune.samplers.QMCSampler(seed=args.seed)
    elif args.sampler == "random":
        sampler = ferrotune.samplers.RandomSampler(seed=args.seed)
    elif args.sampler == "auto":
        sampler = ferrotune.samplers.AutoSampler(seed=args.seed)
    else:
        sampler = ferrotune.samplers.TPESampler(seed=args.seed)
    # In memory unless --storage names one (FERROTUNE_STORAGE is not read: the demo runs
    # on the embedded default storage); a path is a journal file, as for other commands.
    storage = (
        None
        if args.storage is None
        else open_storage(args.storage, args.storage_class, create=True)
    )
    study = ferrotune.create_study(
        direction="minimize",
        sampler=sampler,
        study_name="demo",
        storage=storage,
        load_if_exists=storage is not None,
    )
    print(
        f"ferrotune {ferrotune.__version__} demo: tuning a Transformer ({len(space.names)} "
        f"hyperparameters, constraint d_model % n_heads == 0) with {type(sampler).__name__}, "
        f"{args.trials} trials, storage: {args.storage or 'in memory'}"
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
    if storage is not None:
        close_storage(storage)
    return 0


def _load_objective(spec: str) -> Callable[..., Any]:
    """``module:function`` or ``path/to/file.py:function``."""
    mod_name, sep, func_name = spec.rpartition(":")
    if not sep or not mod_name or not func_name:
        raise CLIUsageError(f"--objective must be module:function, got {spec!r}")
    if mod_name.endswith(".py") or os.sep in mod_name:
        path = os.path.abspath(mod_name)
        loader_spec = importlib.util.spec_from_file_location("_ferrotune_objective", path)
        if loader_spec is None or loader_spec.loader is None:
            raise CLIUsageError(f"--objective: cannot load {path}")
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        if os.getcwd() not in sys.path:
            sys.path.insert(0, os.getcwd())
        module = importlib.import_module(mod_name)
    func = getattr(module, func_name, None)
    if not callable(func):
        raise CLIUsageError(
            f"--objective {spec!r}: {func_name!r} is not a function of {mod_name!r}"
        )
    return func  # type: ignore[no-any-return]


# Between the seeds of workers started with one --seed (the golden ratio's 64-bit stride).
_SEED_STRIDE = 0x9E37_79B9_7F4A_7C15
_MASK = 2**64 - 1


def _worker_seed(seed: int, index: int) -> int:
    """Worker ``index``'s seed: ``seed`` for the first, else a splitmix64 mix of the two
    (a plain stride would meet AutoSampler's, which strides its inner samplers' seeds by
    the same constant: one worker's third sampler had another's second one's seed)."""
    if index == 0:
        return seed % 2**64
    z = (seed + _SEED_STRIDE * (index + 1)) & _MASK
    z = ((z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9) & _MASK
    z = ((z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB) & _MASK
    return z ^ (z >> 31)


def worker(args: argparse.Namespace) -> int:
    from ferrotune.storages import RetryHeartbeatStaleTrialCallback

    if args.quiet:
        # (A function-level "import ferrotune.logging" would make ferrotune a local
        # name of this function, unbound without --quiet.)
        from ferrotune.logging import WARNING, set_verbosity

        set_verbosity(WARNING)
    objective = _load_objective(args.objective)
    if args.heartbeat_interval is None:
        unused = [
            flag
            for flag, given in (
                ("--retry-failed", args.retry_failed),
                ("--max-retry", args.max_retry is not None),
                ("--grace-period", args.grace_period is not None),
            )
            if given
        ]
        if unused:
            # Stale trials are found through heartbeats: without them these do nothing.
            print(
                f"ferrotune worker: warning: {', '.join(unused)} need --heartbeat-interval; "
                "without heartbeats no trial is found stale",
                file=sys.stderr,
            )
    if args.max_retry is not None and not args.retry_failed:
        print(
            "ferrotune worker: warning: --max-retry needs --retry-failed; without it no "
            "trial is retried",
            file=sys.stderr,
        )
    settings: dict[str, Any] = {
        "heartbeat_interval": args.heartbeat_interval,
        "grace_period": args.grace_period,
        "heartbeat_stale_trial_callback": RetryHeartbeatStaleTrialCallback(max_retry=args.max_retry)
        if args.retry_failed
        else None,
    }
    storage = open_storage(args.storage, args.storage_class, create=True, **settings)

    def make_sampler(seed: int | None) -> ferrotune.samplers.BaseSampler:
        if args.sampler == "random":
            return ferrotune.samplers.RandomSampler(seed=seed)
        if args.sampler == "qmc":
            return ferrotune.samplers.QMCSampler(seed=seed)
        if args.sampler == "tpe":
            return ferrotune.samplers.TPESampler(seed=seed)
        return ferrotune.samplers.AutoSampler(seed=seed)

    sampler = make_sampler(args.seed)
    if args.direction is not None:
        study = ferrotune.create_study(
            storage=storage,
            study_name=args.study,
            direction=args.direction,
            sampler=sampler,
            load_if_exists=True,
        )
    else:
        study = ferrotune.load_study(study_name=args.study, storage=storage, sampler=sampler)
    if args.seed is not None and args.sampler != "qmc":
        # Workers given one --seed would draw the same values: each takes the next number
        # of a study counter and derives its own seed (the first worker keeps --seed; QMC
        # workers share one sequence through a counter already).
        index = study.next_study_counter("ferrotune:worker_seed")
        study.sampler = make_sampler(_worker_seed(args.seed, index))
    done = 0

    def count(study: ferrotune.Study, trial: ferrotune.FrozenTrial) -> None:
        nonlocal done
        done += 1

    study.optimize(
        objective,
        n_trials=args.n_trials,
        timeout=args.timeout,
        catch=(Exception,) if args.catch else (),
        callbacks=[count],
    )
    if not args.quiet:
        print(f"worker {os.getpid()}: {done} trial(s) of study {args.study!r} done")
    close_storage(storage)
    return 0


def add_demo_arguments(demo: argparse.ArgumentParser) -> None:
    for action in demo._actions:
        if "--storage" in action.option_strings:
            action.help = (
                "database URL (sqlite:///demo.db, postgresql+psycopg://user:pw@host/db) or a "
                "journal file's path; default: in memory (FERROTUNE_STORAGE is not read)"
            )
    demo.add_argument("--trials", type=int, default=500, help="number of trials (500)")
    demo.add_argument(
        "--sampler",
        choices=["tpe", "random", "qmc", "auto"],
        default="tpe",
        help="sampler (tpe: the fastest per trial, for a quick demo)",
    )
    demo.add_argument("--seed", type=int, default=0)


def add_worker_arguments(w: argparse.ArgumentParser) -> None:
    w.add_argument("--study", "--study-name", dest="study", required=True, help="study name")
    w.add_argument(
        "--objective", required=True, help="the objective as module:function or file.py:function"
    )
    w.add_argument("--n-trials", type=int, default=None, help="trials this worker runs")
    w.add_argument("--timeout", type=float, default=None, help="seconds this worker runs")
    w.add_argument(
        "--direction",
        choices=["minimize", "maximize"],
        default=None,
        help="create the study with this direction when it does not exist",
    )
    w.add_argument(
        "--sampler",
        choices=["auto", "tpe", "random", "qmc"],
        default="auto",
        help="sampler (auto: AutoSampler, the library's default)",
    )
    w.add_argument(
        "--seed",
        type=int,
        default=None,
        help="seed of the sampler; workers given the same seed each derive their own from it "
        "(the first keeps it)",
    )
    w.add_argument(
        "--heartbeat-interval", type=float, default=None, help="seconds between heartbeats"
    )
    w.add_argument(
        "--grace-period", type=float, default=None, help="seconds before a silent trial fails"
    )
    w.add_argument(
        "--retry-failed",
        action="store_true",
        help="re-enqueue the parameters of trials failed through a stale heartbeat",
    )
    w.add_argument("--max-retry", type=int, default=None)
    w.add_argument(
        "--catch", action="store_true", help="mark a trial FAIL on an exception and go on"
    )
    w.add_argument("--quiet", action="store_true")

"""The command line against Optuna's: wall-clock time of `trials`, `best-trial` and
`studies` (``-f json``) on a SQLite study of N trials, each command a fresh process as a user
runs it (so the time includes starting Python and importing the library).

The same N trials (4 parameters: float, log float, int, categorical) are written into one
Optuna database and one ferrotune database (ferrotune's storages do not open Optuna's).
Building Optuna's database is slow; ``--dir`` keeps both for the next run.

    PYTHONPATH=../python /work/main/.venv-bench/bin/python cli_speed.py --n-trials 10000 \\
        --dir /tmp/cli-bench --ferrotune-python ../.venv-h/bin/python
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

COMMANDS = [["trials", "--study-name", "big"], ["best-trial", "--study-name", "big"], ["studies"]]


def _params(n: int) -> list[dict[str, Any]]:
    rng = random.Random(0)
    return [
        {
            "x": rng.uniform(-5, 5),
            "lr": 10 ** rng.uniform(-4, 0),
            "k": rng.randint(0, 9),
            "opt": rng.choice("abc"),
        }
        for _ in range(n)
    ]


def _value(p: dict[str, Any]) -> float:
    return float((p["x"] - 1) ** 2 + p["k"])


def _build(lib: Any, url: str, n: int) -> None:
    lib.logging.set_verbosity(lib.logging.WARNING)
    d = lib.distributions
    dists = {
        "x": d.FloatDistribution(-5, 5),
        "lr": d.FloatDistribution(1e-4, 1, log=True),
        "k": d.IntDistribution(0, 9),
        "opt": d.CategoricalDistribution(["a", "b", "c"]),
    }
    study = lib.create_study(study_name="big", storage=url)
    make = lib.trial.create_trial
    study.add_trials([make(params=p, distributions=dists, value=_value(p)) for p in _params(n)])


def _time(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-trials", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default="cli-bench", help="where the two databases live")
    parser.add_argument(
        "--ferrotune-python", default=sys.executable, help="a Python that imports ferrotune"
    )
    args = parser.parse_args()
    where = Path(args.dir)
    where.mkdir(parents=True, exist_ok=True)
    o_url, f_url = f"sqlite:///{where / 'optuna.db'}", f"sqlite:///{where / 'ferrotune.db'}"
    if not (where / "optuna.db").exists():
        import optuna

        _build(optuna, o_url, args.n_trials)
    if not (where / "ferrotune.db").exists():
        import ferrotune

        _build(ferrotune, f_url, args.n_trials)
    env = dict(os.environ)
    optuna_cli = [
        sys.executable,
        "-c",
        "import sys; from optuna.cli import main; sys.argv[0] = 'optuna'; sys.exit(main())",
    ]
    ferrotune_cli = [args.ferrotune_python, "-m", "ferrotune"]
    print(f"| command (-f json, {args.n_trials} trials) | optuna (s) | ferrotune (s) | ratio |")
    print("|---|---|---|---|")
    for command in COMMANDS:
        o = [
            _time([*optuna_cli, *command, "--storage", o_url, "-f", "json"], env)
            for _ in range(args.repeat)
        ]
        f = [
            _time([*ferrotune_cli, *command, "--storage", f_url, "-f", "json"], env)
            for _ in range(args.repeat)
        ]
        mo, mf = statistics.median(o), statistics.median(f)
        print(f"| {command[0]} | {mo:.2f} | {mf:.2f} | {mo / mf:.1f}x |")


if __name__ == "__main__":
    main()

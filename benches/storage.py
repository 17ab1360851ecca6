"""Database storages: ferrotune's RDBStorage against Optuna's RDBStorage.

Three measurements (each prints JSON lines, then a markdown table with ratios):

(a) ``trials``: 1,000 trials (random sampler, 10 parameters, trivial objective) on SQLite,
    ferrotune vs Optuna, per-trial time; ferrotune in-memory for reference.
(b) ``load``: loading a study of 20,000 finished trials and reading all of them
    (``load_study(...).trials`` / ``get_trials(deepcopy=False)``), on SQLite and, when
    ``FERROTUNE_TEST_POSTGRES_URL`` (or ``--postgres``) names a server, on PostgreSQL.
    The studies are built once and kept in ``--workdir``. Each load runs in a fresh
    process and is timed twice: *warm*, from after ``import sqlalchemy`` and the
    library's import (both libraries need SQLAlchemy for a database and a process
    imports it once; ``import optuna`` imports it eagerly, ferrotune lazily, so it
    is imported explicitly for both), and *cold*, from before any import.
(c) ``workers``: throughput (trials per second) of 8 worker processes on one PostgreSQL
    study against a single worker, ferrotune and Optuna on the same server.

    python benches/storage.py [--parts trials,load,workers] [--quick] [--out results.jsonl]

Use the benches virtualenv (optuna 5.0.0, SQLAlchemy 2, psycopg 3). Machines are noisy:
compare the ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

CHOICES = ["a", "b", "c", "d"]
RESULTS: list[dict[str, Any]] = []
OUT: Path | None = None


def emit(**row: Any) -> None:
    RESULTS.append(row)
    line = json.dumps(row)
    print(line, flush=True)
    if OUT is not None:
        with OUT.open("a") as f:
            f.write(line + "\n")


def objective_10d(trial: Any) -> float:
    s = 0.0
    for i in range(4):
        s += trial.suggest_float(f"x{i}", -5.0, 5.0) ** 2
    for i in range(2):
        s += trial.suggest_float(f"lr{i}", 1e-5, 1e-1, log=True)
    for i in range(2):
        s += trial.suggest_int(f"n{i}", 1, 100)
    for i in range(2):
        s += CHOICES.index(trial.suggest_categorical(f"c{i}", CHOICES))
    return s


def quiet_optuna() -> Any:
    """Optuna, with its log line per trial silenced (and ferrotune's likewise)."""
    import warnings

    import optuna

    import ferrotune.logging

    warnings.simplefilter("ignore")
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    ferrotune.logging.set_verbosity(ferrotune.logging.ERROR)
    return optuna


# ---------------------------------------------------------------------------- (a)
def part_trials(n: int, workdir: Path, repeats: int) -> None:
    import ferrotune

    optuna = quiet_optuna()

    def ferro(url: str | None) -> Callable[[], float]:
        def run() -> float:
            storage = None if url is None else ferrotune.storages.RDBStorage(url)
            study = ferrotune.create_study(
                storage=storage, sampler=ferrotune.samplers.RandomSampler(seed=0)
            )
            t0 = time.perf_counter()
            study.optimize(objective_10d, n_trials=n)
            return (time.perf_counter() - t0) / n

        return run

    def opt(url: str) -> Callable[[], float]:
        def run() -> float:
            storage = optuna.storages.RDBStorage(url)
            study = optuna.create_study(
                storage=storage, sampler=optuna.samplers.RandomSampler(seed=0)
            )
            t0 = time.perf_counter()
            study.optimize(objective_10d, n_trials=n)
            return (time.perf_counter() - t0) / n

        return run

    times: dict[str, list[float]] = {
        "ferrotune-memory": [],
        "ferrotune-sqlite": [],
        "optuna-sqlite": [],
    }
    for r in range(repeats):
        for name, runner in (
            ("ferrotune-memory", ferro(None)),
            ("ferrotune-sqlite", ferro(f"sqlite:///{workdir / f'a-ferro-{r}.db'}")),
            ("optuna-sqlite", opt(f"sqlite:///{workdir / f'a-optuna-{r}.db'}")),
        ):
            t = runner()
            times[name].append(t)
            emit(part="trials", library=name, n_trials=n, repeat=r, per_trial_ms=t * 1e3)
    med = {k: statistics.median(v) * 1e3 for k, v in times.items()}
    print(f"\n### (a) {n} trials, random sampler, 10 parameters (median of {repeats})\n")
    print("| storage | ms / trial | / ferrotune SQLite | / ferrotune in-memory |")
    print("|---|---|---|---|")
    for k, v in med.items():
        print(
            f"| {k} | {v:.3f} | {v / med['ferrotune-sqlite']:.2f}x "
            f"| {v / med['ferrotune-memory']:.0f}x |"
        )
    emit(part="trials", summary=med)


# ---------------------------------------------------------------------------- (b)
def _build_ferro(url: str, name: str, n: int) -> None:
    import ferrotune

    storage = ferrotune.storages.RDBStorage(url)
    if name in storage.get_all_study_names():
        if len(ferrotune.load_study(study_name=name, storage=storage).trials) == n:
            return
        ferrotune.delete_study(study_name=name, storage=storage)
    study = ferrotune.create_study(
        storage=storage, study_name=name, sampler=ferrotune.samplers.RandomSampler(seed=0)
    )
    study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2 + t.suggest_int("k", 0, 9), n)
    storage.dispose()


def _build_optuna(url: str, name: str, n: int) -> None:
    optuna = quiet_optuna()
    storage = optuna.storages.RDBStorage(url)
    names = [s.study_name for s in optuna.get_all_study_summaries(storage)]
    if name in names:
        if len(optuna.load_study(study_name=name, storage=storage).trials) == n:
            return
        optuna.delete_study(study_name=name, storage=storage)
    study = optuna.create_study(
        storage=storage, study_name=name, sampler=optuna.samplers.RandomSampler(seed=0)
    )
    study.optimize(lambda t: t.suggest_float("x", -5, 5) ** 2 + t.suggest_int("k", 0, 9), n)


_LOAD_SCRIPT = """
import time
t_cold = time.perf_counter()  # before any import of either library or SQLAlchemy
import json, sys, warnings
warnings.simplefilter("ignore")
lib, url, name = sys.argv[1:4]
# Both libraries need SQLAlchemy for an RDB storage and a process pays for its import once;
# `import optuna` imports it, `import ferrotune` does not (its RDB storage imports it
# lazily), so it is imported explicitly here for both before the warm timer starts.
import sqlalchemy
if lib == "ferrotune":
    import ferrotune
    t_warm = time.perf_counter()
    trials = ferrotune.load_study(study_name=name, storage=url).trials
else:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    t_warm = time.perf_counter()
    trials = optuna.load_study(study_name=name, storage=url).get_trials(deepcopy=False)
# Every trial is read, parameters included.
assert all(t.params for t in trials)
t_end = time.perf_counter()
print(json.dumps({"seconds": t_end - t_warm, "cold_seconds": t_end - t_cold, "n": len(trials)}))
"""


def part_load(n: int, workdir: Path, repeats: int, pg: str | None) -> None:
    engines = [("sqlite", f"sqlite:///{workdir / f'load-{n}.db'}")]
    if pg:
        engines.append(("postgresql", pg))
    rows = []
    for engine, url in engines:
        print(f"# building {n}-trial studies on {engine} (kept for reruns)", file=sys.stderr)
        _build_ferro(url, f"ferro-{n}", n)
        _build_optuna(url, f"optuna-{n}", n)
        ts: dict[str, list[float]] = {"ferrotune": [], "optuna": []}
        cold: dict[str, list[float]] = {"ferrotune": [], "optuna": []}
        for r in range(repeats):
            # Interleaved, a fresh process each time: nothing cached.
            for lib in ("ferrotune", "optuna"):
                out = subprocess.run(
                    [
                        sys.executable,
                        "-c",
                        _LOAD_SCRIPT,
                        lib,
                        url,
                        {"ferrotune": f"ferro-{n}", "optuna": f"optuna-{n}"}[lib],
                    ],
                    capture_output=True,
                    text=True,
                    check=True,
                    env=os.environ,
                )
                res = json.loads(out.stdout.strip().splitlines()[-1])
                assert res["n"] == n, res
                ts[lib].append(res["seconds"])
                cold[lib].append(res["cold_seconds"])
                emit(
                    part="load",
                    engine=engine,
                    library=lib,
                    n_trials=n,
                    repeat=r,
                    seconds=res["seconds"],
                    cold_seconds=res["cold_seconds"],
                )
        med = {lib: statistics.median(v) for lib, v in ts.items()}
        med_cold = {lib: statistics.median(v) for lib, v in cold.items()}
        rows.append((engine, med, med_cold))
    print(f"\n### (b) load a {n}-trial study and read all trials (median of {repeats})\n")
    print("warm: SQLAlchemy and the library imported before the timer; cold: imports included\n")
    print(
        "| engine | warm: ferrotune s | optuna s | optuna / ferrotune "
        "| cold: ferrotune s | optuna s | optuna / ferrotune |"
    )
    print("|---|---|---|---|---|---|---|")
    for engine, m, c in rows:
        f, o, fc, oc = m["ferrotune"], m["optuna"], c["ferrotune"], c["optuna"]
        print(
            f"| {engine} | {f:.3f} | {o:.3f} | {o / f:.1f}x "
            f"| {fc:.3f} | {oc:.3f} | {oc / fc:.1f}x |"
        )


# ---------------------------------------------------------------------------- (c)
_WORKER_SCRIPT = """
import json, sys, time, warnings
warnings.simplefilter("ignore")
lib, url, name, n, seed = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
work = float(sys.argv[6]) / 1000.0
def objective(trial):
    s = 0.0
    for i in range(4):
        s += trial.suggest_float(f"x{i}", -5.0, 5.0) ** 2
    if work:
        time.sleep(work)  # the objective's own work, off the CPU
    return s
if lib == "ferrotune":
    import ferrotune
    study = ferrotune.load_study(study_name=name, storage=url,
                                 sampler=ferrotune.samplers.RandomSampler(seed=seed))
else:
    import optuna
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    study = optuna.load_study(study_name=name, storage=url,
                              sampler=optuna.samplers.RandomSampler(seed=seed))
t0 = time.time()
study.optimize(objective, n_trials=n)
print(json.dumps({"start": t0, "end": time.time(), "n": n}))
"""


def _throughput(
    lib: str, url: str, name: str, workers: int, per_worker: int, work_ms: float
) -> float:
    if lib == "ferrotune":
        import ferrotune

        ferrotune.create_study(storage=url, study_name=name)
    else:
        optuna = quiet_optuna()
        optuna.create_study(storage=url, study_name=name)
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "-c",
                _WORKER_SCRIPT,
                lib,
                url,
                name,
                str(per_worker),
                str(i),
                str(work_ms),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    stamps = []
    for p in procs:
        out, _ = p.communicate(timeout=3600)
        if p.returncode != 0:
            raise RuntimeError(f"{lib} worker failed")
        stamps.append(json.loads(out.strip().splitlines()[-1]))
    span = float(max(s["end"] for s in stamps) - min(s["start"] for s in stamps))
    return workers * per_worker / span


def part_workers(pg: str | None, per_worker: int, workers: int, work: list[float]) -> None:
    if not pg:
        print("# (c) skipped: set FERROTUNE_TEST_POSTGRES_URL or --postgres", file=sys.stderr)
        return
    res: dict[tuple[str, int, float], float] = {}
    for ms in work:
        for lib in ("ferrotune", "optuna"):
            for k in (1, workers):
                n = per_worker * workers // k
                name = f"{lib}-w{k}-{time.time_ns()}"
                tps = _throughput(lib, pg, name, k, n, ms)
                res[(lib, k, ms)] = tps
                emit(
                    part="workers",
                    library=lib,
                    workers=k,
                    trials=n * k,
                    objective_ms=ms,
                    trials_per_s=tps,
                )
    print(f"\n### (c) PostgreSQL throughput, trials/s ({per_worker * workers} trials each)\n")
    print(
        f"| objective | library | 1 worker | {workers} workers | speed-up "
        f"| vs optuna ({workers} workers) |"
    )
    print("|---|---|---|---|---|---|")
    for ms in work:
        for lib in ("ferrotune", "optuna"):
            one, many = res[(lib, 1, ms)], res[(lib, workers, ms)]
            print(
                f"| {ms:g} ms | {lib} | {one:.0f} | {many:.0f} | {many / one:.2f}x | "
                f"{many / res[('optuna', workers, ms)]:.2f}x |"
            )


def main() -> int:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--parts", default="trials,load,workers")
    ap.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    ap.add_argument("--n-trials", type=int, default=1000, help="(a) trials (1000)")
    ap.add_argument("--n-load", type=int, default=20000, help="(b) study size (20000)")
    ap.add_argument("--workers", type=int, default=8, help="(c) worker processes (8)")
    ap.add_argument("--per-worker", type=int, default=100, help="(c) trials per worker (100)")
    ap.add_argument(
        "--objective-ms",
        default="0,20",
        help="(c) time each objective sleeps, ms, comma-separated (0,20)",
    )
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--workdir", default=os.path.join(tempfile.gettempdir(), "ferrotune-bench"))
    ap.add_argument("--postgres", default=os.environ.get("FERROTUNE_TEST_POSTGRES_URL"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    if args.quick:
        args.n_trials, args.n_load, args.per_worker, args.repeats = 200, 2000, 25, 1
    OUT = Path(args.out) if args.out else None
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    for f in workdir.glob("a-*.db*"):
        f.unlink()
    parts = set(args.parts.split(","))
    if "trials" in parts:
        part_trials(args.n_trials, workdir, args.repeats)
    if "load" in parts:
        part_load(args.n_load, workdir, args.repeats, args.postgres)
    if "workers" in parts:
        work = [float(x) for x in args.objective_ms.split(",")]
        part_workers(args.postgres, args.per_worker, args.workers, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())

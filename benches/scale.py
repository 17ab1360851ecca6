"""Time and memory per trial as a study grows to 100,000 trials.

Each (library, sampler) runs in its own process (so that memory is its own): one ask/tell
loop on the 10-D mixed space of ``overhead.py`` up to the largest ``n``. At each ``n`` it
reports the mean time per trial over the window of trials ``(n - window, n]`` and the growth
of the process's peak resident memory since the study was created, per trial. A library
whose loop has run ``--max-seconds`` stops there (Optuna's TPE would need hours for
100,000 trials); its later columns are empty.

    python benches/scale.py [--samplers random,tpe] [--ns 1000,10000,100000]
                            [--libraries ferrotune,optuna,rustuna] [--max-seconds 300]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

from _common import (
    ask_tell_sampler,
    create_study,
    fmt,
    load,
    markdown_table,
    parse_list,
    print_versions,
    quiet,
)
from overhead import suggest_10d


def child(library: str, sampler: str, ns: list[int], window: int, max_seconds: float) -> None:
    """Runs one loop and prints one JSON line per reached ``n``."""
    quiet()
    if load(library) is None or ask_tell_sampler(library, sampler, 0) is None:
        print(json.dumps({"skipped": True}))
        return
    study, tell_key = create_study(library, ask_tell_sampler(library, sampler, 0))
    ask, tell = study.ask, study.tell
    clock = time.perf_counter
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    start = clock()
    done = 0
    for n in sorted(ns):
        while done < n - window:
            trial = ask()
            tell(tell_key(trial), suggest_10d(trial))
            done += 1
            if clock() - start > max_seconds:
                return
        t0 = clock()
        while done < n:
            trial = ask()
            tell(tell_key(trial), suggest_10d(trial))
            done += 1
        us = (clock() - t0) / window * 1e6
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({"n": n, "us": us, "kb": (rss - rss0) / n}), flush=True)
        if clock() - start > max_seconds:
            return


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samplers", default="random,tpe")
    p.add_argument("--libraries", default="ferrotune,optuna,rustuna")
    p.add_argument("--ns", default="1000,10000,100000")
    p.add_argument("--window", type=int, default=500)
    p.add_argument("--max-seconds", type=float, default=300.0)
    p.add_argument("--child", nargs=2, metavar=("LIBRARY", "SAMPLER"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    ns = [int(n) for n in parse_list(args.ns)]
    if args.child:
        child(args.child[0], args.child[1], ns, args.window, args.max_seconds)
        return 0
    libraries = parse_list(args.libraries)
    here = Path(__file__).resolve().parent
    for sampler in parse_list(args.samplers):
        results: dict[str, dict[int, dict[str, float]]] = {}
        for lib in libraries:
            cmd = [sys.executable, str(here / "scale.py"), "--child", lib, sampler]
            cmd += ["--ns", args.ns, "--window", str(args.window)]
            cmd += ["--max-seconds", str(args.max_seconds)]
            out = subprocess.run(cmd, capture_output=True, text=True, cwd=here, check=False)
            rows = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
            if out.returncode != 0 or any(r.get("skipped") for r in rows):
                print(f"# {lib} {sampler}: not run {out.stderr.strip()[-200:]}", file=sys.stderr)
                continue
            results[lib] = {int(r["n"]): r for r in rows}
        header = ["n"]
        for lib in results:
            header += [f"{lib} µs/trial", f"{lib} KiB/trial"]
        peers = [lib for lib in results if lib != "ferrotune"]
        header += [f"{lib}/ferrotune (time)" for lib in peers]
        table = []
        for n in ns:
            row = [str(n)]
            for lib in results:
                r = results[lib].get(n)
                row += [fmt(r["us"]) if r else "", fmt(r["kb"]) if r else ""]
            base = results.get("ferrotune", {}).get(n)
            for lib in peers:
                r = results[lib].get(n)
                row.append(fmt(r["us"] / base["us"]) if r and base else "")
            table.append(row)
        print(f"\n### Time and memory per trial, sampler={sampler}, window={args.window}\n")
        print(markdown_table(header, table))
    print()
    print_versions(libraries)
    return 0


if __name__ == "__main__":
    sys.exit(main())

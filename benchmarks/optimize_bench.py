"""Speed of an optimisation study: Huangpu's instruments on the default world.

The issue's target: 200 trials x 4 seeds with counterfactuals on the default world in
under 40 minutes on this 2-core machine, resumable. This script runs (or resumes) the
study in a fixed folder with the optimize_huangpu preset's settings, times the trials it
adds, and prints the cost per trial and per run and what 200 trials would take at that
pace. Run it with fewer trials on a shared machine and say so: the extrapolation is
linear in trials (each trial is the same 4 runs; the 4 runs without the plan are shared
and paid once).

    .venv/bin/python benchmarks/optimize_bench.py --trials 20          # a fraction
    .venv/bin/python benchmarks/optimize_bench.py --trials 200         # the full target
    .venv/bin/python benchmarks/optimize_bench.py --trials 40          # resumes, adds 20
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import time
from pathlib import Path

from clustersim.optimize import StudySpec, optimize

TARGET_TRIALS, TARGET_MINUTES = 200, 40


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--folder", type=Path, default=Path("results/optimize/bench_huangpu"))
    args = parser.parse_args()
    spec = StudySpec(
        folder=args.folder,
        plan="huangpu_2024",
        base=(),
        seeds=args.seeds,
        trials=args.trials,
        workers=args.workers,
        validation_seeds=0,
    )
    before = _complete(args.folder)
    start, cpu0 = time.perf_counter(), _cpu()
    result = optimize(spec, log=lambda _m: None)
    seconds, cpu = time.perf_counter() - start, _cpu() - cpu0
    after = int((result.trials["state"] == "complete").sum())
    added = after - before
    runs = len([p for p in (args.folder / "runs").iterdir() if not p.name.startswith(".")])
    print(f"load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(
        f"study: {args.folder} | {after} trials complete ({added} added now) | "
        f"{args.seeds} seeds | {args.workers} workers | {runs} run folders"
    )
    if added <= 0:
        print("nothing to time: the study already had these trials (raise --trials)")
        return
    per_trial = seconds / added
    print(
        f"wall time {seconds:,.0f} s for {added} trials: {per_trial:,.1f} s per trial, "
        f"{per_trial / args.seeds:,.2f} s per model run ({args.workers} workers)"
    )
    minutes = per_trial * TARGET_TRIALS / 60
    verdict = "within" if minutes < TARGET_MINUTES else "over"
    print(
        f"extrapolated from wall time: {TARGET_TRIALS} trials x {args.seeds} seeds = "
        f"{minutes:,.1f} min ({verdict} the {TARGET_MINUTES} min target at this load; "
        "linear in trials)"
    )
    cpu_trial = cpu / added
    idle = cpu_trial * TARGET_TRIALS / min(args.workers, os.cpu_count() or 1) / 60
    verdict = "within" if idle < TARGET_MINUTES else "over"
    print(
        f"CPU time {cpu:,.0f} s: {cpu_trial:,.1f} CPU-s per trial; with {args.workers} "
        f"workers on an idle machine, {TARGET_TRIALS} trials = {idle:,.1f} min ({verdict} "
        f"the {TARGET_MINUTES} min target)"
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the worker processes)."""
    own, kids = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def _complete(folder: Path) -> int:
    """Trials already complete in the study's SQLite file (0 for a new study)."""
    path = folder / "study.db"
    if not path.is_file():
        return 0
    with sqlite3.connect(path) as con:
        return con.execute("select count(*) from trials where state='COMPLETE'").fetchone()[0]


if __name__ == "__main__":
    main()

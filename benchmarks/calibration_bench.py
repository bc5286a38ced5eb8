"""Calibration benchmark: cost per model run, and resume after kill -9 without redoing runs.

Runs ``clustersim-calibrate`` (six parameters, the default world, conf/targets/shanghai.yaml)
in a subprocess, kills it with SIGKILL once ``--kill-after`` runs are complete, starts the
same command again, and lets it finish. Prints the wall time, the number of model runs,
seconds per run, the extrapolation to the issue's budget (2,000 runs), and whether any run
finished before the kill was run again (its COMPLETE marker would be newer).

    python benchmarks/calibration_bench.py          # the full case: ABC-SMC, 200 x 6
    python benchmarks/calibration_bench.py population=40 generations=3 --kill-after 30  # a part

Not a test: the machine is shared, so figures are wall-clock under whatever load there is.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd


def complete_runs(folder: Path) -> dict[str, float]:
    """Run folders that are complete, with the modification time of their marker."""
    runs = folder / "runs"
    if not runs.is_dir():
        return {}
    out = {}
    for p in runs.iterdir():
        marker = p / "COMPLETE"
        if marker.is_file():
            out[p.name] = marker.stat().st_mtime_ns
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="*", help="calibration settings (population=..., ...)")
    parser.add_argument("--calibration", default="shanghai")
    parser.add_argument("--folder", default="results/calibration/bench")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kill-after", type=int, default=100, help="complete runs before SIGKILL")
    parser.add_argument("--budget", type=int, default=2000, help="runs to extrapolate to")
    args = parser.parse_args()
    folder = Path(args.folder)
    cmd = [
        sys.executable,
        "-m",
        "clustersim.cli.calibrate",
        args.calibration,
        *args.settings,
        f"folder={folder}",
        "--workers",
        str(args.workers),
        "--no-preset",
    ]
    print("command:", " ".join(cmd))
    cpu0 = os.times()
    t0 = time.perf_counter()
    first = subprocess.Popen(cmd, start_new_session=True)
    while first.poll() is None and len(complete_runs(folder)) < args.kill_after:
        time.sleep(0.5)
    before = complete_runs(folder)
    if first.poll() is None:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait()
        print(
            f"killed (SIGKILL) after {len(before)} complete runs, {time.perf_counter() - t0:.0f} s"
        )
    else:
        print(f"finished before the kill ({len(before)} runs): raise --kill-after's reach")
    second = subprocess.run(cmd, check=False)
    wall = time.perf_counter() - t0
    cpu1 = os.times()
    after = complete_runs(folder)
    redone = [n for n, t in before.items() if after.get(n) != t]
    core_s = (cpu1.children_user + cpu1.children_system) - (
        cpu0.children_user + cpu0.children_system
    )
    n = len(after)
    print(f"exit status after resume: {second.returncode}")
    print(f"model runs: {n} ({len(before)} before the kill, {n - len(before)} after)")
    print(f"runs finished before the kill and run again: {len(redone)}")
    per_run = wall / max(n, 1)
    print(f"wall time: {wall:.0f} s ({per_run:.2f} s per run on {args.workers} workers)")
    # The killed process's workers die unreaped: their CPU time is not in os.times(), so
    # the cost per run is taken over the runs made after the kill (an upper bound: the
    # killed process's own start-up is in core_s too).
    after_kill = max(n - len(before), 1)
    core_per_run = core_s / after_kill
    print(
        f"CPU time: {core_s:.0f} core-s for the {n - len(before)} runs after the kill "
        f"({core_per_run:.2f} core-s per run)"
    )
    print(
        f"extrapolated to {args.budget} runs: {args.budget * per_run / 60:.1f} min wall at this "
        f"load; {args.budget * core_per_run / args.workers / 60:.1f} min if the "
        f"{args.workers} cores were free"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    summary = folder / "parameters.csv"
    if summary.is_file():
        print(pd.read_csv(summary).to_string(index=False))
    return second.returncode


if __name__ == "__main__":
    raise SystemExit(main())

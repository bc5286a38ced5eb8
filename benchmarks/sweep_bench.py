"""Time the compare_plans sweep (5 regimes x 20 seeds) end to end, and its overhead.

Runs ``clustersim-run experiment=compare_plans`` as a user would (joblib on every core)
into a fresh sweep folder, then reruns it (every job skipped) and collects it again, and
prints:

- wall time of the sweep, and of a rerun in which every job is skipped;
- model time: the in-process setup + run seconds each job logs, summed;
- overhead per run beyond the model: (wall x cores - model time) / runs, in core-seconds
  (process start, imports, Hydra composing each job's config, writing the run folder,
  progress and collection; idle cores count, as they are lost to the sweep);
- the same from CPU time: (CPU seconds of the sweep and its workers - model time) / runs,
  which a loaded machine disturbs less than wall time (waiting is not counted).

Usage:
    .venv/bin/python benchmarks/sweep_bench.py                 # the real thing (~1-3 min)
    .venv/bin/python benchmarks/sweep_bench.py world=toy       # extra overrides for a quick look
    .venv/bin/python benchmarks/sweep_bench.py --keep          # keep the sweep folder
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The line each job logs: "<policy> | seed N | ... | setup 0.09s, run 1.01s | <folder>".
TIMING = re.compile(r"\| setup ([0-9.]+)s, run ([0-9.]+)s \|")


def cpu_children() -> float:
    """CPU seconds (user + system) of every child process reaped so far, and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_sweep(sweep: Path, extra: list[str]) -> tuple[float, str, int, float]:
    """Run the experiment into ``sweep``; return wall seconds, output, exit code, CPU s."""
    cmd = [
        sys.executable,
        "-m",
        "clustersim.cli.run",
        "experiment=compare_plans",
        f"hydra.sweep.dir={sweep}",
        *extra,
    ]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    return wall, proc.stdout + proc.stderr, proc.returncode, cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. world=toy")
    parser.add_argument("--keep", action="store_true", help="keep the sweep folder")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    root = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    sweep = root / "compare_plans"
    try:
        wall, out, code, cpu = run_sweep(sweep, args.overrides)
        if code != 0:
            print(out[-4000:], file=sys.stderr)
            print(f"sweep failed with exit code {code}", file=sys.stderr)
            return 1
        timings = [(float(a), float(b)) for a, b in TIMING.findall(out)]
        runs = len([p for p in sweep.iterdir() if (p / "COMPLETE").is_file()])
        model = sum(a + b for a, b in timings)
        rerun_wall, rerun_out, _, rerun_cpu = run_sweep(sweep, args.overrides)
        skipped = re.search(r"(\d+) skipped", rerun_out)
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "clustersim.cli.collect", str(sweep)],
            capture_output=True,
            check=True,
        )
        collect_wall = time.perf_counter() - t0
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(f"compare_plans {' '.join(args.overrides)}".rstrip())
    print(f"  runs complete           {runs} (timed by the jobs: {len(timings)})")
    print(f"  cores                   {cores}")
    print(f"  wall time               {wall:7.1f} s   (target: under 80 s)")
    per_run = model / max(len(timings), 1)
    print(f"  model time, summed      {model:7.1f} s   ({per_run:.2f} s a run)")
    print(f"  ideal wall, model/cores {model / cores:7.1f} s")
    overhead = (wall * cores - model) / max(runs, 1)
    print(f"  overhead per run        {overhead:7.2f} core-s beyond the model (target: under 0.3)")
    print(f"  CPU time, all processes {cpu:7.1f} s")
    print(f"  CPU beyond the model    {(cpu - model) / max(runs, 1):7.2f} cpu-s per run")
    print(
        f"  rerun, all skipped      {rerun_wall:7.1f} s   "
        f"({skipped.group(1) if skipped else '?'} skipped; {rerun_cpu:.1f} cpu-s; "
        "target: under 5 s)"
    )
    print(f"  clustersim-collect      {collect_wall:7.1f} s")
    if args.keep:
        print(f"  sweep folder            {sweep}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Time one default ``clustersim-run`` as a user runs it: wall and CPU seconds, imports included.

Each attempt is a fresh ``clustersim-run run.progress=false`` (the default world, all
three plans) writing into a temporary folder; the script prints the median wall time,
the median CPU time (user + system of the process) and where the time goes in one of the
runs (imports, Hydra composition, the model's setup and run as the run logs them, and the
rest: writing the folder and the summary). With ``--against <tree>`` it alternates with
another checkout's ``.venv`` (A/B in one script, the machine being shared), and prints
the ratios.

    .venv/bin/python benchmarks/cli_bench.py                       # 5 runs
    .venv/bin/python benchmarks/cli_bench.py --against /work/main -n 5
    .venv/bin/python benchmarks/cli_bench.py world=toy             # extra overrides
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The line a run logs: "... | setup 0.09s, run 1.01s | <folder>".
TIMING = re.compile(r"\| setup ([0-9.]+)s, run ([0-9.]+)s \|")
#: Imports of a run, timed alone: what ``clustersim-run`` loads before it composes.
IMPORTS = "import clustersim.cli.run, clustersim.runner, clustersim.settings"


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_run(tree: Path, out: Path, extra: list[str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and model seconds of one ``clustersim-run``."""
    exe = tree / ".venv" / "bin" / "clustersim-run"
    cmd = [str(exe), "run.progress=false", f"hydra.run.dir={out}", *extra]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, cwd=out.parent)
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    found = TIMING.search(proc.stdout + proc.stderr)
    model = float(found.group(1)) + float(found.group(2)) if found else float("nan")
    shutil.rmtree(out, ignore_errors=True)
    return wall, cpu, model


def import_seconds(tree: Path, cwd: Path) -> float:
    python = tree / ".venv" / "bin" / "python"
    t0 = time.perf_counter()
    subprocess.run([str(python), "-c", IMPORTS], check=True, cwd=cwd)
    return time.perf_counter() - t0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides")
    parser.add_argument("-n", type=int, default=5, help="runs per tree")
    parser.add_argument("--against", type=Path, help="another checkout with a .venv (A/B)")
    args = parser.parse_args()
    here = Path(__file__).resolve().parents[1]
    trees = {"this tree": here}
    if args.against:
        trees["against"] = args.against.resolve()
    root = Path(tempfile.mkdtemp(prefix="cli_bench_"))
    results: dict[str, list[tuple[float, float, float]]] = {k: [] for k in trees}
    try:
        for i in range(args.n):
            for name, tree in trees.items():
                results[name].append(
                    one_run(tree, root / f"{i}-{len(results[name])}", args.overrides)
                )
        imports = {name: import_seconds(tree, root) for name, tree in trees.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    load = os.getloadavg()[0]
    print(
        f"clustersim-run {' '.join(args.overrides)} (median of {args.n}; "
        f"load {load:.1f} on {os.cpu_count()} cores)"
    )
    medians = {}
    for name, rows in results.items():
        wall, cpu, model = (statistics.median(col) for col in zip(*rows, strict=True))
        medians[name] = (wall, cpu)
        print(
            f"  {name:10s} wall {wall:5.2f} s   cpu {cpu:5.2f} s   model {model:5.2f} s   "
            f"imports alone {imports[name]:4.2f} s   beyond the model {cpu - model:5.2f} cpu-s"
        )
    if len(medians) == 2:
        (a_wall, a_cpu), (b_wall, b_cpu) = medians.values()
        print(f"  ratio this/against: wall {a_wall / b_wall:.2f}, cpu {a_cpu / b_cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

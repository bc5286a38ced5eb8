"""Time one default ``clustersim-run`` as a user runs it: wall and CPU seconds, imports included.

Each attempt is a fresh ``clustersim-run run.progress=false`` (the default world, all
three plans) writing into a temporary folder; the script prints the median wall time,
the median CPU time (user + system of the process) and the model's own seconds as the
run logs them. A second set of attempts runs the same command in an instrumented child
(``python -c`` calling ``clustersim.cli.run.main``) that times where the CPU time goes
(CPU seconds of the process: waiting for a core on a loaded machine is not counted):

- ``start``: the interpreter starting (``python -c pass``, timed alone);
- ``imp cli``: importing the command line (Hydra, OmegaConf, clustersim's light modules);
- ``imp model``: importing the model and its tables (mesa, pandas, pyarrow, numpy...);
- ``compose``: Hydra composing the config (both compositions Hydra asks for);
- ``check``: ``load_scenario`` and the check of the run folder;
- ``simulate``: ``runner.simulate`` (the model's setup and run);
- ``write``: ``runner.write_run`` (the run folder, atomically);
- ``rest``: everything else (Hydra's job setup, logging, the printed summary).

Composed configs are kept between processes (``clustersim.sweep.composition_store``):
the attempts use a cache folder of their own, filled by one run first, as after a user's
first run; ``first run`` is one more run with that folder empty. With ``--against
<tree>`` it alternates with another checkout's ``.venv`` (A/B in one script, the machine
being shared), and prints the ratios. The load average is printed with the figures.

    .venv/bin/python benchmarks/cli_bench.py                       # 5 runs
    .venv/bin/python benchmarks/cli_bench.py --against /work/main -n 5
    .venv/bin/python benchmarks/cli_bench.py world=toy             # extra overrides
"""

from __future__ import annotations

import argparse
import json
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
#: The phases the instrumented child times, in the order they happen.
PHASES = ("imp cli", "imp model", "compose", "check", "simulate", "write")

#: The instrumented child: argv = [<json file for the figures>, overrides...].
CHILD = r"""
import json, sys, time
clock = time.process_time  # CPU seconds of this process: what a loaded machine disturbs least
C0, T0 = clock(), time.perf_counter()
out_file = sys.argv[1]
sys.argv = ["clustersim-run", *sys.argv[2:]]
import clustersim.cli.run as cli
C1 = clock()
try:  # as inside clustersim-run's main: the model imports with the collector held off
    from clustersim.startup import collector_paused
except ImportError:  # (a tree from before clustersim.startup)
    from contextlib import nullcontext as collector_paused
with collector_paused():
    import clustersim.runner as runner, clustersim.settings as settings
C2 = clock()
phases = {"compose": 0.0, "check": 0.0, "simulate": 0.0, "write": 0.0}
def timed(owner, name, phase):
    fn = getattr(owner, name, None)
    if fn is None:
        return
    def wrapper(*a, **k):
        t = clock()
        try:
            return fn(*a, **k)
        finally:
            phases[phase] += clock() - t
    setattr(owner, name, wrapper)
from clustersim.sweep.compose import ReusingConfigLoader
timed(ReusingConfigLoader, "_load_configuration_impl", "compose")
timed(settings, "load_scenario", "check")
timed(runner, "check_output_folder", "check")
timed(runner, "simulate", "simulate")
timed(runner, "write_run", "write")
code = 0
try:
    cli.main()
except SystemExit as exit:
    code = exit.code or 0
C3, T3 = clock(), time.perf_counter()
with open(out_file, "w") as f:
    json.dump({"imp cli": C1 - C0, "imp model": C2 - C1, **phases,
               "rest": C3 - C2 - sum(phases.values()), "cpu": C3 - C0, "in process": T3 - T0,
               "code": code}, f)
"""


def cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _env(cache: Path) -> dict[str, str]:
    return dict(os.environ, CLUSTERSIM_CACHE=str(cache))


def one_run(tree: Path, out: Path, extra: list[str], cache: Path) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and model seconds of one ``clustersim-run``."""
    exe = tree / ".venv" / "bin" / "clustersim-run"
    cmd = [str(exe), "run.progress=false", f"hydra.run.dir={out}", *extra]
    cpu0, t0 = cpu_children(), time.perf_counter()
    proc = subprocess.run(
        cmd, capture_output=True, text=True, check=False, cwd=out.parent, env=_env(cache)
    )
    wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stderr[-3000:]}")
    found = TIMING.search(proc.stdout + proc.stderr)
    model = float(found.group(1)) + float(found.group(2)) if found else float("nan")
    shutil.rmtree(out, ignore_errors=True)
    return wall, cpu, model


def breakdown(tree: Path, out: Path, extra: list[str], cache: Path) -> dict[str, float]:
    """Seconds of each phase of one run, in the instrumented child."""
    python = tree / ".venv" / "bin" / "python"
    figures = out.parent / f"{out.name}.json"
    cmd = [str(python), "-c", CHILD, str(figures), "run.progress=false", f"hydra.run.dir={out}"]
    t0 = time.perf_counter()
    proc = subprocess.run(
        [*cmd, *extra], capture_output=True, text=True, cwd=out.parent, env=_env(cache)
    )
    wall = time.perf_counter() - t0
    result = json.loads(figures.read_text()) if figures.is_file() else {}
    if proc.returncode != 0 or result.get("code", 1) != 0:
        raise SystemExit(f"instrumented run failed:\n{proc.stderr[-3000:]}")
    shutil.rmtree(out, ignore_errors=True)
    result["wall"] = wall
    return result


def start_seconds(tree: Path, cwd: Path) -> float:
    """Wall seconds of the interpreter starting and stopping (``python -c pass``)."""
    python = tree / ".venv" / "bin" / "python"
    t0 = time.perf_counter()
    subprocess.run([str(python), "-c", "pass"], check=True, cwd=cwd)
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
    runs: dict[str, list[tuple[float, float, float]]] = {k: [] for k in trees}
    parts: dict[str, list[dict[str, float]]] = {k: [] for k in trees}
    first: dict[str, float] = {}
    loads = [os.getloadavg()[0]]
    try:
        caches = {name: root / f"cache-{i}" for i, name in enumerate(trees)}
        for name, tree in trees.items():  # the first run of each tree fills its cache folder
            first[name] = one_run(tree, root / f"first-{name[:4]}", args.overrides, caches[name])[0]
        for i in range(args.n):
            for name, tree in trees.items():
                out = root / f"{i}-{name[:4]}"
                runs[name].append(one_run(tree, out, args.overrides, caches[name]))
                parts[name].append(breakdown(tree, out, args.overrides, caches[name]))
            loads.append(os.getloadavg()[0])
        start = {n: min(start_seconds(t, root) for _ in range(3)) for n, t in trees.items()}
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        f"clustersim-run {' '.join(args.overrides)} (median of {args.n}; load average "
        f"{min(loads):.1f}-{max(loads):.1f} on {os.cpu_count()} cores)"
    )
    medians = {}
    for name, rows in runs.items():
        wall, cpu, model = (statistics.median(col) for col in zip(*rows, strict=True))
        medians[name] = (wall, cpu)
        print(
            f"  {name:10s} wall {wall:5.2f} s   cpu {cpu:5.2f} s   model {model:5.2f} s (wall, "
            f"as logged)   first run (no kept config) {first[name]:5.2f} s wall"
        )
    print("  where the time goes (instrumented runs, median CPU seconds of each phase):")
    header = f"  {'':10s} {'start':>6s}" + "".join(f"{p:>10s}" for p in PHASES)
    print(header + f"{'rest':>7s}{'cpu':>7s}{'wall':>7s}")
    for name, rows in parts.items():
        keys = (*PHASES, "rest", "cpu", "wall")
        med = {k: statistics.median(r[k] for r in rows) for k in keys}
        line = f"  {name:10s} {start[name]:6.2f}" + "".join(f"{med[p]:10.2f}" for p in PHASES)
        print(line + f"{med['rest']:7.2f}{med['cpu']:7.2f}{med['wall']:7.2f}")
    print("  (start: wall s of `python -c pass`; wall: of the instrumented run, start included)")
    if len(medians) == 2:
        (a_wall, a_cpu), (b_wall, b_cpu) = medians.values()
        print(f"  ratio this/against: wall {a_wall / b_wall:.2f}, cpu {a_cpu / b_cpu:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

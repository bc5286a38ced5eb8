"""Time the compare_plans sweep (5 regimes x 20 seeds) end to end, and its overhead.

Runs ``clustersim-run experiment=compare_plans`` as a user would (joblib on every core)
into a fresh sweep folder, then reruns it (every job skipped) and collects it again, and
prints:

- wall time of the sweep, and of a rerun in which every job is skipped;
- model time: the in-process setup + run seconds each job logs, summed;
- overhead per run beyond the model: (wall x cores - model time) / runs, in core-seconds
  (process start, imports, Hydra composing each job's config, writing the run folder,
  progress and collection; idle cores count, as they are lost to the sweep);
- the same from CPU time: (CPU seconds of the sweep and its workers - the model's CPU
  seconds) / runs, which a loaded machine disturbs less than wall time (waiting is not
  counted). Jobs log the model's CPU seconds (``| cpu 1.02s |``); a tree whose jobs do
  not is charged its model's wall seconds instead (then waiting is counted as model).

How the CPU time is counted: the sweep's process and its loky workers are counted by the
kernel (``getrusage(RUSAGE_CHILDREN)``: a worker's CPU reaches it once the sweep process
has reaped the worker, and the sweep's once this script has reaped the sweep). A worker
left running or reaped by someone else would be missing from that figure, so the process
tree is also watched while it runs (psutil, every 0.1 s; a process's last tenth of a
second can be missed): the split between the launching process and its workers is
printed, and a kernel figure short of the watched one is flagged and replaced by it.

Composed configs are kept on disk between processes (``clustersim.sweep.composition_store``):
each sweep uses a cache folder of its own, empty at the start (the cost of a first sweep;
``--cache <folder>`` reuses one, e.g. to time a sweep after a first one). With
``--against <tree>`` (another checkout with a ``.venv``) the two trees alternate in one run
of this script and the ratios are printed: the machine is shared, so compare ratios.

Usage:
    .venv/bin/python benchmarks/sweep_bench.py                 # the real thing (~1-3 min)
    .venv/bin/python benchmarks/sweep_bench.py world=toy       # extra overrides for a quick look
    .venv/bin/python benchmarks/sweep_bench.py world=toy --against /work/main
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
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

#: The line each job logs: "<policy> | seed N | ... | setup 0.09s, run 1.01s | <folder>",
#: with the model's CPU seconds ("| cpu 1.02s |") where the tree logs them.
TIMING = re.compile(r"\| setup ([0-9.]+)s, run ([0-9.]+)s \|(?: cpu ([0-9.]+)s \|)?")


def cpu_children() -> float:
    """CPU seconds (user + system) of every child process reaped so far, and theirs."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


class TreeWatch:
    """CPU seconds of a process and its descendants, sampled while they run (psutil)."""

    def __init__(self, pid: int, every: float = 0.1) -> None:
        self.pid, self.every = pid, every
        self.seen: dict[int, float] = {}  # pid -> last CPU seconds seen
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> TreeWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        try:
            import psutil
        except ImportError:  # (then only the kernel's figure is printed)
            return
        try:
            root = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._done.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.Error:
                procs = []
            for proc in procs:
                try:
                    t = proc.cpu_times()
                    self.seen[proc.pid] = t.user + t.system
                except psutil.Error:
                    pass
            self._done.wait(self.every)

    def launcher(self) -> float:
        """CPU seconds of the launching process itself."""
        return self.seen.get(self.pid, 0.0)

    def workers(self) -> float:
        """CPU seconds of every process it started (the loky workers)."""
        return sum(cpu for pid, cpu in self.seen.items() if pid != self.pid)


@dataclass
class Figures:
    """What one tree's sweep, rerun and collection took."""

    runs: int
    timed: int
    wall: float
    cpu: float
    model_wall: float
    model_cpu: float
    cpu_logged: bool
    rerun_wall: float
    rerun_cpu: float
    skipped: str
    collect_wall: float
    launcher_cpu: float = 0.0
    workers_cpu: float = 0.0
    kernel_cpu: float = 0.0
    notes: list[str] = field(default_factory=list)


def run_sweep(
    python: Path, sweep: Path, extra: list[str], cache: Path
) -> tuple[float, str, int, float, TreeWatch]:
    """Run the experiment into ``sweep``: wall seconds, output, exit code, CPU s, the watch."""
    cmd = [
        str(python),
        "-m",
        "clustersim.cli.run",
        "experiment=compare_plans",
        f"hydra.sweep.dir={sweep}",
        *extra,
    ]
    env = dict(os.environ, CLUSTERSIM_CACHE=str(cache))
    with tempfile.TemporaryFile("w+") as log:  # (a pipe left unread would stall the sweep)
        cpu0, t0 = cpu_children(), time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, text=True, env=env)
        with TreeWatch(proc.pid) as watch:
            code = proc.wait()
        wall, cpu = time.perf_counter() - t0, cpu_children() - cpu0
        log.seek(0)
        out = log.read()
    return wall, out, code, cpu, watch


def measure(python: Path, root: Path, extra: list[str], cache: Path) -> Figures | None:
    """Sweep, rerun and collect with one tree's Python; None (output shown) if it failed."""
    sweep = root / "compare_plans"
    wall, out, code, kernel_cpu, watch = run_sweep(python, sweep, extra, cache)
    if code != 0:
        print(out[-4000:], file=sys.stderr)
        print(f"sweep failed with exit code {code}", file=sys.stderr)
        return None
    timings = TIMING.findall(out)
    runs = len([p for p in sweep.iterdir() if (p / "COMPLETE").is_file()])
    model_wall = sum(float(a) + float(b) for a, b, _ in timings)
    model_cpu = sum(float(c) if c else float(a) + float(b) for a, b, c in timings)
    notes = []
    watched = watch.launcher() + watch.workers()
    cpu = kernel_cpu
    if watched > kernel_cpu * 1.02 + 0.5:  # a worker's CPU did not reach the kernel's count
        notes.append(
            f"the kernel counted {kernel_cpu:.1f} cpu-s, the watched processes used "
            f"{watched:.1f}: the watched figure is used"
        )
        cpu = watched
    rerun_wall, rerun_out, _, rerun_cpu, _ = run_sweep(python, sweep, extra, cache)
    skipped = re.search(r"(\d+) skipped", rerun_out)
    t0 = time.perf_counter()
    subprocess.run(
        [str(python), "-m", "clustersim.cli.collect", str(sweep)], capture_output=True, check=True
    )
    return Figures(
        runs=runs,
        timed=len(timings),
        wall=wall,
        cpu=cpu,
        model_wall=model_wall,
        model_cpu=model_cpu,
        cpu_logged=bool(timings) and all(c for _, _, c in timings),
        rerun_wall=rerun_wall,
        rerun_cpu=rerun_cpu,
        skipped=skipped.group(1) if skipped else "?",
        collect_wall=time.perf_counter() - t0,
        launcher_cpu=watch.launcher(),
        workers_cpu=watch.workers(),
        kernel_cpu=kernel_cpu,
        notes=notes,
    )


def show(name: str, f: Figures, cores: int) -> None:
    """Print one tree's figures."""
    n = max(f.runs, 1)
    print(f"  [{name}]")
    print(f"  runs complete           {f.runs} (timed by the jobs: {f.timed})")
    print(f"  wall time               {f.wall:7.1f} s   (target: under 80 s)")
    per_run = f.model_wall / max(f.timed, 1)
    print(f"  model time, summed      {f.model_wall:7.1f} s   ({per_run:.2f} s a run, wall)")
    if f.cpu_logged:
        print(f"  model CPU, summed       {f.model_cpu:7.1f} s   ({f.model_cpu / n:.2f} s a run)")
    print(f"  ideal wall, model/cores {f.model_wall / cores:7.1f} s")
    overhead = (f.wall * cores - f.model_wall) / n
    print(f"  overhead per run        {overhead:7.2f} core-s beyond the model (target: under 0.3)")
    print(f"  CPU time, all processes {f.cpu:7.1f} s")
    if f.launcher_cpu or f.workers_cpu:
        print(
            f"    of which (watched)    {f.launcher_cpu:7.1f} s launching process, "
            f"{f.workers_cpu:.1f} s workers (kernel's count: {f.kernel_cpu:.1f} s)"
        )
    for note in f.notes:
        print(f"    note: {note}")
    if f.cpu_logged:
        print(f"  CPU beyond the model    {(f.cpu - f.model_cpu) / n:7.2f} cpu-s per run")
        workers_beyond = (f.workers_cpu - f.model_cpu) / n
        if f.workers_cpu:
            print(
                f"    in the workers        {workers_beyond:7.2f} cpu-s per run; in the "
                f"launching process {f.launcher_cpu / n:.2f}"
            )
    else:
        print("  CPU beyond the model       n/a (the jobs of this tree do not log their CPU)")
    print(
        f"  rerun, all skipped      {f.rerun_wall:7.1f} s   ({f.skipped} skipped; "
        f"{f.rerun_cpu:.1f} cpu-s; target: under 5 s)"
    )
    print(f"  clustersim-collect      {f.collect_wall:7.1f} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("overrides", nargs="*", help="extra Hydra overrides, e.g. world=toy")
    parser.add_argument("--keep", action="store_true", help="keep the sweep folders")
    parser.add_argument("--against", type=Path, help="another checkout with a .venv (A/B)")
    parser.add_argument("--cache", type=Path, help="keep composed configs here (default: new)")
    args = parser.parse_args()
    cores = os.cpu_count() or 1
    here = Path(__file__).resolve().parents[1]
    trees = {"this tree": here}
    if args.against:
        trees["against"] = args.against.resolve()
    root = Path(tempfile.mkdtemp(prefix="sweep_bench_"))
    figures: dict[str, Figures] = {}
    loads = [os.getloadavg()[0]]
    try:
        for i, (name, tree) in enumerate(trees.items()):
            cache = args.cache or root / f"cache-{i}"
            python = tree / ".venv" / "bin" / "python"
            result = measure(python, root / str(i), args.overrides, cache)
            loads.append(os.getloadavg()[0])
            if result is None:
                return 1
            figures[name] = result
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    print(
        f"compare_plans {' '.join(args.overrides)} ({cores} cores; load average "
        f"{min(loads):.1f}-{max(loads):.1f} during the runs)".replace("  ", " ")
    )
    for name, f in figures.items():
        show(name, f, cores)
    if len(figures) == 2:
        a, b = figures.values()
        line = f"  ratio this/against: wall {a.wall / b.wall:.2f}, CPU {a.cpu / b.cpu:.2f}"
        if a.cpu_logged and b.cpu_logged:  # else one side's model CPU is its wall time
            beyond_a, beyond_b = (a.cpu - a.model_cpu) / a.runs, (b.cpu - b.model_cpu) / b.runs
            line += f", CPU beyond the model {beyond_a / beyond_b:.2f}"
        print(line + f", rerun wall {a.rerun_wall / b.rerun_wall:.2f}")
    if args.keep:
        print(f"  sweep folders           {root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

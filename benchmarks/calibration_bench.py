"""Calibration benchmark: the issue's case, killed with SIGKILL part-way and resumed.

Runs ``clustersim-calibrate`` (six parameters of the default world against the eight
fitting targets of conf/targets/shanghai.yaml, ABC-SMC until its generations have counted
2,000 runs) in a subprocess, with the runs launched by Hydra's ``cores`` launcher on two
worker processes; kills the command and its workers with SIGKILL once ``--kill-after``
runs are complete; starts the same command again and lets it finish. Prints the model
runs, the wall time, the CPU time per run (every process of the calibration, polled
from /proc, so the killed workers count too), how many runs finished before the kill
were run again (their COMPLETE marker would be newer: none should be), and whether the
issue's target (>= 2,000 runs in < 45 min on 2 cores) was met.

    python benchmarks/calibration_bench.py      # the issue's case (about 45 min on 2 free cores)
    python benchmarks/calibration_bench.py --calibration toy population=16 max_runs=100 \
        --kill-after 30 --folder results/calibration/bench_toy   # a quick try

Settings after the options go to ``clustersim-calibrate`` (calibration settings, or Hydra
launcher settings such as ``hydra/launcher=basic``); they replace the defaults below.
Not a test: figures are wall-clock under whatever load the machine has (printed).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd

#: The issue's case: ABC-SMC with 100 particles a generation, generations until 2,000
#: runs are counted (the generation that crosses it is finished), on two cores.
DEFAULT_SETTINGS = ["population=100", "generations=100", "max_runs=2000"]
DEFAULT_LAUNCHER = ["hydra/launcher=cores", "hydra.launcher.n_jobs=2"]
TARGET_RUNS = 2000
TARGET_MINUTES = 45.0


def complete_runs(folder: Path) -> dict[str, float]:
    """Run folders that are complete, with the modification time of their marker."""
    runs = folder / "runs"
    if not runs.is_dir():
        return {}
    out = {}
    for p in runs.iterdir():
        if p.name.startswith("."):  # a staging folder (.<run>.partial-<pid>), not a run
            continue
        marker = p / "COMPLETE"
        if marker.is_file():
            out[p.name] = marker.stat().st_mtime_ns
    return out


class TreeCPU:
    """CPU seconds of a process and all its descendants, polled from /proc.

    Each process's last reading is kept (keyed by pid and start time), so processes that
    end, or are killed and never reaped, still count (up to one polling interval short).
    """

    def __init__(self, interval: float = 0.5) -> None:
        self.interval = interval
        self.seen: dict[tuple[int, int], float] = {}
        self.roots: set[int] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._tick = os.sysconf("SC_CLK_TCK")

    def start(self) -> None:
        self._thread.start()

    def watch(self, pid: int) -> None:
        self.roots.add(pid)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        self.poll()
        return self.total()

    def total(self) -> float:
        return sum(self.seen.values())

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        stats: dict[int, tuple[int, int, float]] = {}
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                text = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2 :].split()
            # fields[1] = ppid, [11] = utime, [12] = stime, [19] = starttime (ticks)
            cpu = (int(fields[11]) + int(fields[12])) / self._tick
            stats[int(entry)] = (int(fields[1]), int(fields[19]), cpu)
        inside = set(self.roots)
        grew = True
        while grew:
            grew = False
            for pid, (ppid, _, _) in stats.items():
                if ppid in inside and pid not in inside:
                    inside.add(pid)
                    grew = True
        for pid in inside:
            if pid in stats:
                _, start, cpu = stats[pid]
                key = (pid, start)
                self.seen[key] = max(self.seen.get(key, 0.0), cpu)


def counted_runs(folder: Path) -> int | None:
    """Runs the finished generations counted (pyabc's samples), None without a database."""
    db = folder / "abc.db"
    if not db.is_file():
        return None
    import pyabc

    history = pyabc.History(f"sqlite:///{db.resolve()}", create=False)
    history.id = 1
    return int(history.get_all_populations()["samples"].sum())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "settings",
        nargs="*",
        help="clustersim-calibrate settings (default: " + " ".join(DEFAULT_SETTINGS) + ")",
    )
    parser.add_argument("--calibration", default="shanghai")
    parser.add_argument("--folder", default="results/calibration/bench")
    parser.add_argument("--kill-after", type=int, default=300, help="complete runs before SIGKILL")
    parser.add_argument("--cores", type=int, default=2, help="cores the figures are for")
    args = parser.parse_args()
    folder = Path(args.folder)
    if folder.exists():
        parser.error(f"--folder {folder} exists: give a new folder (a benchmark starts empty)")
    keys = {s.split("=", 1)[0] for s in args.settings}
    settings = [s for s in DEFAULT_SETTINGS if s.split("=", 1)[0] not in keys]
    if not any(k.startswith("hydra/launcher") for k in keys):
        settings += [s for s in DEFAULT_LAUNCHER if s.split("=", 1)[0] not in keys]
    settings += args.settings
    cmd = [
        sys.executable,
        "-m",
        "clustersim.cli.calibrate",
        args.calibration,
        *settings,
        f"folder={folder}",
        "--no-preset",
    ]
    print("command:", " ".join(cmd[2:]), flush=True)
    cpu = TreeCPU()
    cpu.start()
    t0 = time.perf_counter()
    first = subprocess.Popen(cmd, start_new_session=True)
    cpu.watch(first.pid)
    while first.poll() is None and len(complete_runs(folder)) < args.kill_after:
        time.sleep(0.5)
    before = complete_runs(folder)
    killed_at = time.perf_counter() - t0
    if first.poll() is None:
        cpu.poll()
        os.killpg(first.pid, signal.SIGKILL)  # the command and its launcher's workers
        first.wait()
        print(f"killed (SIGKILL) after {len(before)} complete runs, {killed_at:.0f} s", flush=True)
    else:
        print(f"finished before the kill ({len(before)} runs): lower --kill-after", flush=True)
    second = subprocess.Popen(cmd)
    cpu.watch(second.pid)
    second.wait()
    wall = time.perf_counter() - t0
    core_s = cpu.stop()
    after = complete_runs(folder)
    redone = [n for n, t in before.items() if after.get(n) != t]
    n = len(after)
    counted = counted_runs(folder)
    print(f"exit status after resume: {second.returncode}")
    print(f"model runs: {n} ({len(before)} before the kill, {n - len(before)} after)")
    if counted is not None:
        print(f"runs counted by the generations: {counted} (the rest were proposed beyond")
        print("  the last acceptance of a generation's last round)")
    print(f"runs finished before the kill and run again: {len(redone)}")
    print(f"wall time: {wall:.0f} s = {wall / 60:.1f} min ({wall / max(n, 1):.2f} s per run)")
    per_run = core_s / max(n, 1)
    print(
        f"CPU time: {core_s:.0f} core-s in all processes, {per_run:.2f} core-s per run; "
        f"on {args.cores} free cores {n} runs take {n * per_run / args.cores / 60:.1f} min"
    )
    print(f"load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    met = n >= TARGET_RUNS and wall / 60 < TARGET_MINUTES and not redone
    print(
        f"target (>= {TARGET_RUNS} runs in < {TARGET_MINUTES:.0f} min, none redone): "
        f"{'met' if met else 'NOT met'} on this machine at this load"
    )
    summary = folder / "parameters.csv"
    if summary.is_file():
        print(pd.read_csv(summary).to_string(index=False))
    return second.returncode


if __name__ == "__main__":
    raise SystemExit(main())

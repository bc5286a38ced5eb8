"""Fault injection: kill sweeps at random moments, damage files, run two sweeps at once.

Runs a small toy-world sweep undisturbed (the reference), then the same sweep into a
second folder through rounds of faults, chosen at random from a fixed seed:

- ``kill``: start the sweep and ``kill -9`` it (and its workers) at a random moment,
  while jobs run, write their folders, or while it collects;
- ``truncate``: cut a random file of a random finished job (a table, the summary, the
  marker...) or a collected table to a random length, as a crash of the disk or a
  half-finished copy would;
- ``two``: start two sweeps into the folder at once (one of them waiting for the other
  with ``lock_wait``, or not), and sometimes kill one of them at a random moment.

After every round it checks what must hold at any time: no failure record (no fault is
a job's fault), no complete job rewritten by a concurrent sweep, a refused sweep told
why. Then it runs the sweep once more, undisturbed, and checks that the folder is whole
and that every collected table and every job's tables equal the reference's, byte for
byte.

Usage:
    .venv/bin/python benchmarks/sweep_faults.py            # 20 rounds, 12 jobs (~5-10 min)
    .venv/bin/python benchmarks/sweep_faults.py --quick    # 4 rounds, 4 jobs (the test)
    .venv/bin/python benchmarks/sweep_faults.py --rounds 40 --seed 7 --keep
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

MARKER = "COMPLETE"
TABLES = ("runs.parquet", "panel.parquet", "rationing.parquet")


@dataclass
class Sweep:
    """The sweep under test: its overrides and how long an undisturbed run takes."""

    seeds: int
    seconds: float = 30.0

    def args(self, folder: Path, *extra: str) -> list[str]:
        seeds = ",".join(str(s) for s in range(self.seeds))
        return [
            "-m",
            "hydra/launcher=cores",
            "world=toy",
            "policy=none,huangpu_2024",
            f"seed={seeds}",
            "run.progress=false",
            f"hydra.sweep.dir={folder}",
            *extra,
        ]

    def start(self, folder: Path, *extra: str) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "clustersim.cli.run", *self.args(folder, *extra)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: kill -9 takes the workers too
            env=dict(os.environ, PYTHONHASHSEED="0"),
        )


@dataclass
class Log:
    """What the rounds did, for the final line."""

    kills: int = 0
    truncated: list[str] = field(default_factory=list)
    concurrent: int = 0
    refused: int = 0

    def say(self, text: str) -> None:
        print(text, flush=True)


def kill(proc: subprocess.Popen) -> None:
    """``kill -9`` a sweep and every process of its group; reap it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.communicate()


def jobs_of(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def stamps(folder: Path, intact: bool = False) -> dict[str, tuple[int, int]]:
    """Inode and modification time of each complete job's marker: changes if it reran.

    ``intact``: only the jobs whose files are as their run wrote them (a damaged one is
    rightly run again).
    """
    from clustersim.results.run_folder import StoredRun

    out = {}
    for job in jobs_of(folder):
        marker = job / MARKER
        if marker.is_file() and not (intact and StoredRun(job).damage() is not None):
            st = marker.stat()
            out[job.name] = (st.st_ino, st.st_mtime_ns)
    return out


def finish(proc: subprocess.Popen, timeout: float) -> tuple[int, str]:
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill(proc)
        raise AssertionError(f"a sweep did not end within {timeout:.0f} s") from None
    return proc.returncode, err


def check_ended(code: int, err: str, what: str) -> bool:
    """A sweep that was not killed ends well, or is refused with the lock's message."""
    if code == 0:
        return False
    assert code == 1 and "in use by another sweep" in err, f"{what} ended {code}:\n{err[-3000:]}"
    assert "Traceback" not in err, err[-3000:]
    return True


def round_kill(rng: random.Random, sweep: Sweep, folder: Path, log: Log) -> None:
    """Kill at a random moment, or right after a random number of jobs more completed."""
    done = len(stamps(folder))
    proc = sweep.start(folder)
    t0 = time.monotonic()
    if rng.random() < 0.5:
        deadline, wanted = t0 + rng.uniform(0.0, 1.2 * sweep.seconds), None
    else:  # while jobs are being written: just after one more (or two) completed
        deadline, wanted = t0 + 10 * sweep.seconds + 60, done + rng.randint(1, 2)
    while proc.poll() is None and time.monotonic() < deadline:
        if wanted is not None and len(stamps(folder)) >= wanted:
            time.sleep(rng.uniform(0.0, 0.5))
            break
        time.sleep(0.02)
    if proc.poll() is None:
        kill(proc)
        log.kills += 1
        log.say(
            f"  killed after {time.monotonic() - t0:.1f} s ({len(stamps(folder))} jobs complete)"
        )
        return
    _, err = proc.communicate()
    check_ended(proc.returncode, err, "a sweep")
    log.say("  the sweep finished before the kill")


def round_truncate(rng: random.Random, folder: Path, log: Log) -> None:
    candidates = [p for job in jobs_of(folder) for p in job.rglob("*") if p.is_file()]
    candidates += [folder / t for t in TABLES if (folder / t).is_file()]
    if not candidates:
        log.say("  truncate: nothing written yet")
        return
    victim = rng.choice(candidates)
    size = victim.stat().st_size
    keep = rng.randrange(size) if size else 0
    victim.write_bytes(victim.read_bytes()[:keep])
    name = victim.relative_to(folder).as_posix()
    log.truncated.append(name)
    log.say(f"  truncated {name} from {size} to {keep} bytes")


def round_two(rng: random.Random, sweep: Sweep, folder: Path, log: Log) -> None:
    before = stamps(folder, intact=True)
    waits = rng.random() < 0.5
    first = sweep.start(folder)
    time.sleep(rng.uniform(0.0, 2.0))
    second = sweep.start(folder, *(["hydra.callbacks.clustersim_sweep.lock_wait=600"] * waits))
    log.concurrent += 1
    victim = rng.choice([None, first, second])
    if victim is not None:
        time.sleep(rng.uniform(0.0, sweep.seconds))
        kill(victim)
        log.kills += 1
    refused = 0
    for proc, what in ((first, "the first sweep"), (second, "the second sweep")):
        if proc is victim:
            continue
        code, err = finish(proc, 10 * sweep.seconds + 120)
        refused += check_ended(code, err, what)
    log.refused += refused
    after = stamps(folder)
    rerun = [j for j, s in before.items() if after.get(j, s) != s]
    assert not rerun, f"complete jobs ran again: {rerun}"
    killed = "none" if victim is None else ("the first" if victim is first else "the second")
    log.say(
        f"  two sweeps at once (second {'waits' if waits else 'does not wait'}, killed: "
        f"{killed}): {refused} refused, {len(after)} jobs complete"
    )


def check_round(folder: Path) -> None:
    failures = folder / ".failures"
    records = sorted(p.name for p in failures.glob("*.json")) if failures.is_dir() else []
    assert not records, f"failure records left: {records}"


def compare(folder: Path, reference: Path) -> int:
    """Every collected table and every job's tables equal the reference's; return jobs."""
    for table in TABLES:
        a, b = folder / table, reference / table
        assert a.is_file() == b.is_file(), table
        if b.is_file():
            assert a.read_bytes() == b.read_bytes(), f"{table} differs from the reference"
    jobs = [j.name for j in jobs_of(reference)]
    assert [j.name for j in jobs_of(folder)] == jobs, "not the same job folders"
    for job in jobs:
        for path in sorted((reference / job).rglob("*.parquet")):
            rel = path.relative_to(reference)
            assert (folder / rel).read_bytes() == path.read_bytes(), f"{rel} differs"
    leftovers = [p.name for p in folder.iterdir() if ".partial-" in p.name]
    assert not leftovers, f"staging folders left: {leftovers}"
    return len(jobs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20, help="rounds of faults")
    parser.add_argument("--seeds", type=int, default=6, help="seeds per policy (2 policies)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fault schedule")
    parser.add_argument("--quick", action="store_true", help="4 rounds, 2 seeds (the test)")
    parser.add_argument("--keep", action="store_true", help="keep the sweep folders")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seeds = 4, 2
    rng = random.Random(args.seed)
    sweep = Sweep(seeds=args.seeds)
    root = Path(tempfile.mkdtemp(prefix="sweep_faults_"))
    log = Log()
    try:
        reference, folder = root / "reference", root / "faulty"
        t0 = time.perf_counter()
        code, err = finish(sweep.start(reference), 1800)
        assert code == 0, err[-3000:]
        sweep.seconds = time.perf_counter() - t0
        log.say(f"reference: {2 * args.seeds} jobs in {sweep.seconds:.1f} s")
        faults = ["kill", "kill", "truncate", "two"] if args.quick else ["kill", "truncate", "two"]
        for i in range(args.rounds):
            fault = faults[i] if args.quick else rng.choice(faults)
            log.say(f"round {i + 1}: {fault}")
            if fault == "kill":
                round_kill(rng, sweep, folder, log)
            elif fault == "truncate":
                round_truncate(rng, folder, log)
            else:
                round_two(rng, sweep, folder, log)
            check_round(folder)
        code, err = finish(sweep.start(folder), 10 * sweep.seconds + 120)
        assert code == 0, err[-3000:]
        check_round(folder)
        jobs = compare(folder, reference)
    except AssertionError as err:
        print(f"FAILED: {err}", file=sys.stderr)
        print(f"(folders kept in {root})", file=sys.stderr)
        return 1
    print(
        f"OK: after {args.rounds} rounds ({log.kills} kills, {len(log.truncated)} files "
        f"truncated, {log.concurrent} pairs of concurrent sweeps, {log.refused} refused), "
        f"the {jobs} jobs' tables and the collected tables equal the undisturbed sweep's"
    )
    if args.keep:
        print(f"folders: {root}")
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

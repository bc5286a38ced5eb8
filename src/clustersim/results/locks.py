"""Locks that keep two sweeps (or two processes) from working in one folder at once.

Two locks, both advisory file locks (``fcntl.flock``) on small files in the sweep's
bookkeeping folder:

- the **sweep lock** (``<sweep>/.sweep/lock``) is held by the process that runs a sweep
  (the one that launched a Hydra multirun, or the one calling ``clustersim.api.sweep``)
  from before it touches the folder until it has collected the results. A second sweep
  into the same folder stops at once with a message naming the first one (process,
  machine, start time, command), or waits for it when asked to (``lock_wait``);
- a **job lock** (``<sweep>/.sweep/jobs/<job>.lock``) is held by the process running one
  job while it decides whether to run it and runs it. A job whose lock is held elsewhere
  is left to that process (``run_job`` reports it as ``busy``), so a job never runs
  twice even when jobs outlive the sweep that launched them (SLURM array tasks keep
  running if the login-node command is killed, and a new command may start meanwhile).

The kernel releases a lock when its process ends, however it ends (a crash, ``kill
-9``, a node that reboots), so a lock is never left stale. The lock files themselves
stay; they are empty apart from a note on who holds the lock, for the message.

What this relies on: ``flock`` locks that every machine running the sweep's processes
sees. That holds for a local disk; for NFS on Linux (the client turns ``flock`` into
POSIX byte-range locks, served by NLM/lockd for NFSv3 and natively by NFSv4); for
Lustre mounted with ``-o flock`` (not ``localflock``, which is per node); for GPFS;
for BeeGFS with ``tuneUseGlobalFileLocks``. On a file system without working
cluster-wide locks the sweep lock still protects sweeps started on the same machine.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import socket
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

#: Where a sweep's locks live, inside the sweep folder.
LOCK_DIR = Path(".sweep")
SWEEP_LOCK = LOCK_DIR / "lock"
JOB_LOCKS = LOCK_DIR / "jobs"
#: Seconds between attempts while waiting for a lock.
POLL = 0.5


class FolderBusyError(RuntimeError):
    """A lock is held by another process; the message names it and says what to do."""

    def __init__(self, message: str, holder: dict[str, Any]) -> None:
        super().__init__(message)
        self.holder = holder


def _holder_note() -> dict[str, Any]:
    return {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "command": " ".join([Path(sys.argv[0]).name if sys.argv else "python", *sys.argv[1:]]),
    }


def describe(holder: dict[str, Any]) -> str:
    """``process 123 on host x, started 2026-11-30 06:10:05 UTC: clustersim-run ...``."""
    if not holder:
        return "another process (it has not said which yet)"
    text = f"process {holder.get('pid', '?')} on {holder.get('host', '?')}"
    if holder.get("started"):
        text += f", started {holder['started']}"
    if holder.get("command"):
        text += f": {holder['command']}"
    return text


@dataclass
class FileLock:
    """An exclusive ``flock`` on one file, held until ``release`` or the process ends.

    Attributes:
        path: the lock file (created with its folders if missing).

    """

    path: Path
    _fd: int | None = field(default=None, repr=False)

    @property
    def held(self) -> bool:
        """True while this object holds the lock."""
        return self._fd is not None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; return whether it was taken (never blocks)."""
        if self._fd is not None:
            return True
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            os.close(fd)
            if err.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                return False
            raise
        self._fd = fd
        note = json.dumps(_holder_note()).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, note, 0)
        return True

    def holder(self) -> dict[str, Any]:
        """Who holds the lock, as noted in the file (empty if unknown)."""
        try:
            data = json.loads(self.path.read_text() or "{}")
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    def release(self) -> None:
        """Let go of the lock (a no-op if not held)."""
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        with contextlib.suppress(OSError):  # the file system went away; the lock goes too
            os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)

    def __enter__(self) -> FileLock:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        err: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def lock_sweep(sweep_dir: Path, wait: float = 0.0, what: str = "hydra.sweep.dir") -> FileLock:
    """Take the sweep lock of ``sweep_dir``, waiting up to ``wait`` seconds for it.

    Raises ``FolderBusyError`` naming the sweep that holds it. ``what`` names the
    setting that chose the folder, for the message.
    """
    lock = FileLock(Path(sweep_dir) / SWEEP_LOCK)
    deadline = time.monotonic() + max(0.0, float(wait))
    while not lock.try_acquire():
        if time.monotonic() >= deadline:
            holder = lock.holder()
            waited = f" (waited {wait:g} s)" if wait > 0 else ""
            raise FolderBusyError(
                f"sweep folder {sweep_dir} is in use by another sweep{waited}: "
                f"{describe(holder)}. Wait for it to finish (rerunning then skips what it "
                f"completed), or give this sweep another {what}",
                holder,
            )
        time.sleep(POLL)
    return lock


def job_lock(sweep_dir: Path, stem: str) -> FileLock:
    """The lock of one job (``stem``: the job's file name, ``sweep_folder.job_file_stem``)."""
    return FileLock(Path(sweep_dir) / JOB_LOCKS / f"{stem}.lock")


__all__ = ["FileLock", "FolderBusyError", "describe", "job_lock", "lock_sweep"]

"""Progress of a sweep: jobs done, skipped and failed out of the total, shown as they finish.

Jobs may run in this process, in local worker processes (joblib, submitit_local) or on
other machines (SLURM, Ray), so they report through the file system, which every
launcher shares: each finished job leaves one empty file ``.sweep/status/<job>.<status>``
in the sweep folder (``clustersim.results.sweep_folder.record_status``). A
``ProgressWatcher`` thread in the process that launched the sweep counts those files and
prints a line when the counts change.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from clustersim.results.sweep_folder import read_statuses


@dataclass(frozen=True)
class Counts:
    """How many jobs of the current session have finished, by outcome.

    Attributes:
        done: jobs that ran and wrote a complete run folder.
        skipped: jobs whose folder was already complete with the same config.
        failed: jobs that raised an error (recorded in ``.failures/``).
        busy: jobs left to another process that was running them (its own sweep).

    """

    done: int = 0
    skipped: int = 0
    failed: int = 0
    busy: int = 0

    @property
    def finished(self) -> int:
        """Jobs finished one way or another."""
        return self.done + self.skipped + self.failed + self.busy


def read_counts(sweep_dir: Path) -> Counts:
    """Return the counts of finished jobs in the current session."""
    statuses = list(read_statuses(sweep_dir).values())
    return Counts(
        statuses.count("done"),
        statuses.count("skipped"),
        statuses.count("failed"),
        statuses.count("busy"),
    )


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def render(counts: Counts, total: int | None, elapsed: float) -> str:
    """Return one progress line, e.g. ``sweep 37/100 | done 30, skipped 5, failed 2 | 1m12s``."""
    if total:
        head = f"sweep {counts.finished}/{total} ({100 * counts.finished // total}%)"
    else:
        head = f"sweep {counts.finished} jobs finished"
    line = (
        f"{head} | done {counts.done}, skipped {counts.skipped}, failed {counts.failed}"
        + (f", busy elsewhere {counts.busy}" if counts.busy else "")
        + f" | {_duration(elapsed)}"
    )
    ran = counts.done + counts.failed
    if total and ran and counts.finished < total:
        left = (total - counts.finished) * elapsed / ran
        line += f", about {_duration(left)} left"
    return line


class ProgressWatcher:
    """A background thread that prints the sweep's progress whenever it changes.

    Attributes:
        sweep_dir: the sweep folder whose status files are counted.
        total: number of jobs in the sweep, or None if it could not be worked out.
        interval: seconds between looks at the status files, and at least between lines.
        stream: where the lines go (standard error by default).

    """

    def __init__(
        self,
        sweep_dir: Path,
        total: int | None,
        *,
        interval: float = 2.0,
        stream: TextIO | None = None,
    ) -> None:
        self.sweep_dir = Path(sweep_dir)
        self.total = total
        self.interval = interval
        self.stream = stream
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = time.perf_counter()
        self._shown: Counts | None = None

    def _print(self, counts: Counts) -> None:
        stream = self.stream or sys.stderr
        print(render(counts, self.total, time.perf_counter() - self._started), file=stream)
        stream.flush()
        self._shown = counts

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            counts = read_counts(self.sweep_dir)
            if counts != self._shown and counts.finished:
                self._print(counts)

    def start(self) -> None:
        """Start watching (a daemon thread: it never keeps the program alive)."""
        self._started = time.perf_counter()
        self._thread = threading.Thread(target=self._loop, name="sweep-progress", daemon=True)
        self._thread.start()

    def stop(self) -> Counts:
        """Stop watching, print the final line if it differs from the last, return the counts."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        counts = read_counts(self.sweep_dir)
        if counts != self._shown:
            self._print(counts)
        return counts

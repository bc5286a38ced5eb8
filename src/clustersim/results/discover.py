"""Which job folders of a sweep can be collected, and what is wrong with the others.

``find_jobs`` walks a sweep folder (see ``sweep_folder``) and returns the complete job
folders in job-name order, and one ``Problem`` per job that is unfinished, interrupted or
failed, so the collector and the report can say what they left out and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clustersim.results.run_folder import MARKER, RUN_FILES, is_partial_name
from clustersim.results.sweep_folder import (
    MULTIRUN_RECORD,
    failure_path,
    job_of_folder,
    read_failures,
)


class NotASweepError(Exception):
    """The folder given to the collector is not a sweep folder."""


@dataclass(frozen=True)
class Problem:
    """A job (or stray folder) that could not be collected.

    Attributes:
        folder: the folder concerned.
        message: what is wrong with it, in one line.
        kind: ``failed`` (a failure record), ``unfinished`` (no marker), ``interrupted``
            (a staging folder) or ``corrupt`` (marked complete but unreadable).
        collected: the folder's (earlier, complete) run is collected nonetheless.

    """

    folder: Path
    message: str
    kind: str = "corrupt"
    collected: bool = False

    def __str__(self) -> str:
        return f"{self.folder}: {self.message}"


def _not_a_run(folder: Path) -> bool:
    """True for a folder with files that no run writes (a report's figures, notes)."""
    names = {p.name for p in folder.iterdir()}
    return bool(names) and not names.intersection(RUN_FILES)


def find_jobs(sweep_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Return the complete job folders of a sweep (sorted by name) and the unfinished ones.

    Raises ``NotASweepError`` for a missing folder, a file, a single run folder, or a folder
    with neither ``multirun.yaml`` nor any job in it.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.exists():
        raise NotASweepError(f"{sweep_dir}: no such folder")
    if not sweep_dir.is_dir():
        raise NotASweepError(f"{sweep_dir}: is a file, not a sweep folder")
    is_sweep = (sweep_dir / MULTIRUN_RECORD).is_file()
    if (sweep_dir / MARKER).is_file() and not is_sweep:
        raise NotASweepError(
            f"{sweep_dir}: is a single run folder, not a sweep; collect the sweep folder "
            "that holds it"
        )
    failures = read_failures(sweep_dir)
    complete: list[Path] = []
    problems: list[Problem] = []
    seen_failed: set[str] = set()

    def unfinished(folder: Path) -> None:
        name = job_of_folder(sweep_dir, folder)
        record = failures.get(name)
        if record is None and _not_a_run(folder):
            return  # e.g. the figures of a report written into the sweep folder
        if record is not None:
            seen_failed.add(name)
            msg = f"failed: {record.get('error')} (see {failure_path(sweep_dir, name)})"
            problems.append(Problem(folder, msg, "failed"))
            return
        if any(folder.iterdir()):
            msg = f"incomplete job: no {MARKER} marker (the run did not finish writing)"
        else:
            msg = "job did not finish (empty folder); rerun the sweep to run it"
        problems.append(Problem(folder, msg, "unfinished"))

    stack = [sweep_dir]
    while stack:
        folder = stack.pop()
        for p in sorted(folder.iterdir()):
            if not p.is_dir():
                continue
            if is_partial_name(p.name):
                msg = "staging folder of an interrupted run (removed on rerun)"
                problems.append(Problem(p, msg, "interrupted"))
            elif p.name.startswith("."):
                continue  # bookkeeping: .failures, .sweep, .submitit, .ray
            elif (p / MARKER).is_file():
                complete.append(p)
            elif any(c.is_dir() and not c.name.startswith(".") for c in p.iterdir()):
                stack.append(p)  # job names may contain "/": look one level deeper
            else:
                unfinished(p)
    for name, record in failures.items():
        if name in seen_failed:
            continue
        msg = f"failed: {record.get('error')} (see {failure_path(sweep_dir, name)})"
        kept = (sweep_dir / name / MARKER).is_file()
        if kept:
            msg = f"last attempt {msg}; the earlier complete run in the folder is collected"
        problems.append(Problem(sweep_dir / name, msg, "failed", collected=kept))
    if not is_sweep and not complete and not problems:
        raise NotASweepError(
            f"{sweep_dir}: not a sweep folder (no {MULTIRUN_RECORD} and no job folders "
            f"holding a {MARKER} marker)"
        )
    complete.sort(key=lambda p: job_of_folder(sweep_dir, p))
    problems.sort(key=lambda pr: str(pr.folder))
    return complete, problems

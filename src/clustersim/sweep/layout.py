"""The layout of a sweep folder, shared by the job wrapper, the progress display and the collector.

A sweep folder (``hydra.sweep.dir``) holds::

    multirun.yaml            Hydra's record of the multirun (marks the folder as a sweep)
    <job name>/              one run folder per job, named by the job's settings
                             (``hydra.job.override_dirname``, e.g. ``policy=none,seed=3``)
    .<job name>.partial-<pid>/   staging folder of a run being written (or interrupted)
    .failures/<job>.json     one record per job whose last attempt failed
    .sweep/status/<job>.<status>  one empty file per job finished in the current session
    runs.parquet, panel.parquet   the collected tables (and rationing.parquet, when the
                             runs recorded budget turn-aways)

Hidden entries (names starting with ``.``) are bookkeeping, never results.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from clustersim.io import MARKER, PARTIAL_INFIX

#: Hydra's record of a multirun; its presence marks a folder as a sweep.
MULTIRUN_RECORD = "multirun.yaml"
#: Folder holding one failure record per failed job.
FAILURES_DIR = ".failures"
#: Folder holding the status files of the current session.
STATUS_DIR = Path(".sweep") / "status"
#: Job statuses a session can record.
STATUSES = ("done", "skipped", "failed")
#: Name of the job folder of a multirun without any override (Hydra would name it "").
#: It cannot clash with a named job: those always contain "=".
DEFAULT_JOB_NAME = "defaults"
#: The collected tables, at the sweep's top level.
RUNS_TABLE = "runs.parquet"
PANEL_TABLE = "panel.parquet"
#: Characters kept as they are when a job name becomes a file name (everything else,
#: notably "/", is %-escaped).
_SAFE = "=,.+-_@:~"


def job_file_stem(job: str) -> str:
    """Return a file name standing for job ``job`` (reversible, no "/")."""
    return quote(job, safe=_SAFE)


def job_from_file_stem(stem: str) -> str:
    """Return the job name a ``job_file_stem`` stands for."""
    return unquote(stem)


def job_name(sweep_dir: Path, job_dir: Path) -> str:
    """Return the name of the job whose folder is ``job_dir``: its path inside the sweep."""
    return Path(os.path.relpath(Path(job_dir).resolve(), Path(sweep_dir).resolve())).as_posix()


def failure_path(sweep_dir: Path, job: str) -> Path:
    """Return the failure record of job ``job``."""
    return Path(sweep_dir) / FAILURES_DIR / f"{job_file_stem(job)}.json"


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON at ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


def read_failures(sweep_dir: Path) -> dict[str, dict[str, Any]]:
    """Return the failure records of a sweep by job name (unreadable records say so)."""
    folder = Path(sweep_dir) / FAILURES_DIR
    records: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return records
    for path in sorted(folder.glob("*.json")):
        job = job_from_file_stem(path.stem)
        try:
            data = json.loads(path.read_text())
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except (OSError, ValueError) as err:
            data = {"job": job, "overrides": [], "error": f"unreadable failure record: {err}"}
        records[job] = data
    return records


def clear_failure(sweep_dir: Path, job: str) -> None:
    """Forget the failure record of ``job`` (it has now completed)."""
    failure_path(sweep_dir, job).unlink(missing_ok=True)


def is_partial_name(name: str) -> bool:
    """Return True if ``name`` is the name of a staging folder (``.<job>.partial-<pid>``)."""
    return name.startswith(".") and PARTIAL_INFIX in name


def clear_job_partials(job_dir: Path) -> list[Path]:
    """Remove the staging folders left by earlier, interrupted attempts at this one job."""
    job_dir = Path(job_dir)
    removed = []
    if job_dir.parent.is_dir():
        for p in job_dir.parent.glob(f".{job_dir.name}{PARTIAL_INFIX}*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
    return removed


def clear_sweep_partials(sweep_dir: Path) -> list[Path]:
    """Remove every staging folder in a sweep (call only while no job of it is running)."""
    removed: list[Path] = []
    stack = [Path(sweep_dir)]
    while stack:
        folder = stack.pop()
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if not p.is_dir() or p.is_symlink():
                continue
            if is_partial_name(p.name):
                shutil.rmtree(p, ignore_errors=True)
                removed.append(p)
            elif not p.name.startswith(".") and not (p / MARKER).exists():
                stack.append(p)  # job names may contain "/", so jobs may nest
    return sorted(removed)

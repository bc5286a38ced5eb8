"""The sweep-folder contract: job names, bookkeeping files and the collected tables.

A sweep folder (``hydra.sweep.dir``, or the ``folder`` of ``clustersim.api.sweep``) holds::

    multirun.yaml            Hydra's record of the multirun (marks the folder as a sweep)
    <job name>/              one run folder per job, named by the job's settings
                             (``job_name``, e.g. ``policy=none,seed=3``; characters a
                             file name cannot hold are %-escaped, over-long names cut
                             and hashed: ``clustersim.results.names``)
    .<job name>.partial-<pid>/   staging folder of a run being written (or interrupted)
    .failures/<job>.json     one record per job whose last attempt failed
    .sweep/status/<job>.<status>  one empty file per job finished in the current session
    .sweep/lock              held by the sweep running in the folder (``locks``)
    .sweep/jobs/<job>.lock   held by the process running that job
    runs.parquet, panel.parquet   the collected tables (and rationing.parquet, when the
                             runs recorded budget turn-aways)

Hidden entries (names starting with ``.``) are bookkeeping, never results.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

from clustersim.results.names import job_folder
from clustersim.results.overrides import parse_override
from clustersim.results.run_folder import MARKER, is_partial_name

#: Hydra's record of a multirun; its presence marks a folder as a sweep.
MULTIRUN_RECORD = "multirun.yaml"
#: Folder holding one failure record per failed job.
FAILURES_DIR = ".failures"
#: Folder holding the status files of the current session.
STATUS_DIR = Path(".sweep") / "status"
#: Job statuses a session can record (``busy``: another process was running the job).
STATUSES = ("done", "skipped", "failed", "busy")
#: Name of the job folder of a multirun without any override (Hydra would name it "").
#: It cannot clash with a named job: those always contain "=".
DEFAULT_JOB_NAME = "defaults"
#: The collected tables, at the sweep's top level.
RUNS_TABLE = "runs.parquet"
PANEL_TABLE = "panel.parquet"
RATIONING_TABLE = "rationing.parquet"
#: Override keys that do not name a job: where it writes, how it is launched, which file
#: set the sweep. Hydra's ``override_dirname`` is configured with the same list
#: (``conf/hydra/default.yaml``; a test checks they agree).
NOT_IN_JOB_NAME = (
    "hydra.sweep.dir",
    "hydra.run.dir",
    "hydra/launcher",
    "hydra/sweeper",
    "experiment",
    "+experiment",
)
#: Characters kept as they are when a job name becomes a file name (everything else,
#: notably "/", is %-escaped).
_SAFE = "=,.+-_@:~"


def job_name(overrides: Iterable[str]) -> str:
    """The name of the job these overrides make: its folder's name inside the sweep.

    The same rule as ``hydra.sweep.subdir`` in ``conf/hydra/default.yaml``: Hydra's
    ``hydra.job.override_dirname`` with this project's settings (the overrides as typed,
    minus ``NOT_IN_JOB_NAME``, sorted and joined by ``,``: ``["seed=3", "policy=none"]``
    -> ``policy=none,seed=3``), made safe as a folder name (``names.job_folder``); no
    override gives ``DEFAULT_JOB_NAME``. So ``clustersim.api.sweep``, ``clustersim-run
    -m`` and the sweepers' skip check give the same job the same folder.
    """
    lines = [str(text) for text in overrides if parse_override(text).group not in NOT_IN_JOB_NAME]
    return job_folder(",".join(sorted(lines))) or DEFAULT_JOB_NAME


def job_of_folder(sweep_dir: Path, job_dir: Path) -> str:
    """The job name of the job folder ``job_dir``: its path inside the sweep folder."""
    return Path(os.path.relpath(Path(job_dir).resolve(), Path(sweep_dir).resolve())).as_posix()


def job_file_stem(job: str) -> str:
    """Return a file name standing for job ``job`` (reversible, no "/")."""
    return quote(job, safe=_SAFE)


def job_from_file_stem(stem: str) -> str:
    """Return the job name a ``job_file_stem`` stands for."""
    return unquote(stem)


def write_json_atomic(path: Path, data: Any) -> None:
    """Write ``data`` as JSON at ``path`` through a temporary file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True, default=str))
    os.replace(tmp, path)


# --------------------------------------------------------------------------- failures


def failure_path(sweep_dir: Path, job: str) -> Path:
    """Return the failure record of job ``job``."""
    return Path(sweep_dir) / FAILURES_DIR / f"{job_file_stem(job)}.json"


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


# --------------------------------------------------------------------------- statuses


def record_status(sweep_dir: Path, job: str, status: str) -> None:
    """Record that ``job`` finished with ``status`` (one of ``STATUSES``) in this session.

    Jobs may run in this process, in local workers or on other machines, so they report
    through the file system, which every launcher shares (``clustersim.sweep.progress``
    counts the files).
    """
    if status not in STATUSES:
        raise ValueError(f"status = {status!r}: must be one of {', '.join(STATUSES)}")
    folder = Path(sweep_dir) / STATUS_DIR
    folder.mkdir(parents=True, exist_ok=True)
    stem = job_file_stem(job)
    for other in STATUSES:
        if other != status:
            (folder / f"{stem}.{other}").unlink(missing_ok=True)
    (folder / f"{stem}.{status}").touch()


def reset_status(sweep_dir: Path) -> None:
    """Forget the statuses of an earlier session (called when a sweep starts)."""
    shutil.rmtree(Path(sweep_dir) / STATUS_DIR, ignore_errors=True)


def read_statuses(sweep_dir: Path) -> dict[str, str]:
    """Return the status of every job finished in the current session, by job name."""
    folder = Path(sweep_dir) / STATUS_DIR
    out: dict[str, str] = {}
    if not folder.is_dir():
        return out
    for p in folder.iterdir():
        stem, _, status = p.name.rpartition(".")
        if status in STATUSES:
            job = job_from_file_stem(stem)
            # a job retried within a session (Ray, submitit requeue): success wins
            if out.get(job) in ("done", "skipped"):
                continue
            out[job] = status
    return out


# --------------------------------------------------------------------------- staging folders


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


def complete_jobs(sweep_dir: Path) -> int:
    """Count job folders already complete at the top level of a sweep."""
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.is_dir():
        return 0
    return sum(1 for p in sweep_dir.iterdir() if (p / MARKER).is_file())

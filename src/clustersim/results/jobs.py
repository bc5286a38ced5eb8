"""The one runner of a sweep's job: skip it when done, record it when it fails.

Both ways of running a sweep use it: ``clustersim-run -m`` (each Hydra job goes through
``clustersim.sweep.jobs.sweep_job``) and ``clustersim.api.sweep``. ``run_job``:

- skips a job whose folder is already complete with the same config hash (its stored
  summary is returned), so rerunning a sweep reruns only missing or failed jobs; a folder
  complete with another config is an error (the settings changed since it ran); a
  complete folder whose files no longer match its marker's list (a file truncated or
  lost since: ``StoredRun.damage``) is removed and the job runs again;
- records a job that raises in ``<sweep>/.failures/<job>.json`` (overrides, first line of
  the error, traceback), reports it at once on standard error, and returns a ``failed``
  outcome; the other jobs go on. A later successful attempt removes the record.
  ``KeyboardInterrupt`` still stops the sweep;
- holds the job's lock (``locks.job_lock``) from the decision to the end of the run, so
  a job never runs twice at once: a job whose lock another process holds (a sweep still
  running on a cluster while a new command started) is left to it and reported
  ``busy``, with no failure record;
- removes staging folders left by an interrupted attempt at the same job first;
- leaves one status file per finished job (``sweep_folder.record_status``) for the
  progress display.

This is the single place where a job decides whether to run. The sweepers skip complete
jobs before launching them when the run's recipe says so (``clustersim.sweep.skip``);
what reaches here is decided by the config hash.
"""

from __future__ import annotations

import shutil
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clustersim.config import config_hash
from clustersim.results.locks import describe, job_lock
from clustersim.results.run_folder import (
    BadRunFolderError,
    StoredRun,
    clear_partials_of,
    is_complete,
)
from clustersim.results.sweep_folder import (
    DEFAULT_JOB_NAME,
    clear_failure,
    failure_path,
    job_file_stem,
    job_of_folder,
    record_status,
    write_json_atomic,
)

#: What runs one scenario: writes the complete run folder at the path, returns the summary.
Execute = Callable[[Any, Path], dict[str, Any]]


class StaleRunError(RuntimeError):
    """A job folder holds a complete run made with a different config than the job's."""


@dataclass(frozen=True)
class JobOutcome:
    """How one job of a sweep ended.

    Attributes:
        job: the job's name (its folder inside the sweep).
        status: ``done`` (ran now), ``skipped`` (complete before), ``failed``, or
            ``busy`` (another process is running it now).
        summary: the run's summary (None when it failed or is busy).
        error: ``"<ErrorType>: <first line>"`` when it failed.
        record: the failure record written (None unless it failed).
        overrides: the job's overrides.
        config_hash: the hash of the job's config.

    """

    job: str
    status: str
    summary: dict[str, Any] | None
    error: str | None = None
    record: Path | None = None
    overrides: tuple[str, ...] = ()
    config_hash: str = ""


def first_line(err: BaseException) -> str:
    """Return ``"<ErrorType>: <first line of the message>"``."""
    text = str(err).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(err).__name__}: {line}" if line else type(err).__name__


def stored_summary(job_dir: Path, wanted_hash: str) -> dict[str, Any]:
    """Return the summary of a complete job folder made with config hash ``wanted_hash``."""
    run = StoredRun(job_dir)
    try:
        marker = run.marker()
        summary = run.summary()
    except BadRunFolderError as err:
        raise StaleRunError(
            f"job folder {job_dir} is marked complete but cannot be read ({err}); "
            "delete the folder to run the job again"
        ) from err
    found = marker.get("config_hash")
    if found != wanted_hash:
        raise StaleRunError(
            f"job folder {job_dir} holds a run of another config (config hash {found}, "
            f"this job's is {wanted_hash}): the settings changed since it ran. Use a new "
            "sweep folder, or delete the job's folder to run it again"
        )
    return summary


def run_job(
    cfg: Mapping[str, Any] | Any,
    job_dir: Path,
    execute: Execute,
    *,
    sweep_dir: Path,
    overrides: Sequence[str] = (),
) -> JobOutcome:
    """Run one job of a sweep unless it is already done; never let an error stop the sweep.

    Args:
        cfg: the job's composed config (Hydra's ``hydra`` node excluded or not: it is not
            part of the config hash).
        job_dir: the job's folder.
        execute: runs the scenario and writes the complete run folder at the given path,
            raising on failure and leaving nothing there; returns the run's summary.
        sweep_dir: the sweep folder.
        overrides: the job's overrides (for the failure record and messages).

    """
    sweep = Path(sweep_dir).resolve()
    job_dir = Path(job_dir).resolve()
    if job_dir == sweep:  # a multirun without overrides: Hydra names the job ""
        job_dir = sweep / DEFAULT_JOB_NAME
    job = job_of_folder(sweep, job_dir)
    job_overrides = tuple(str(o) for o in overrides)
    wanted = config_hash(cfg)
    lock = job_lock(sweep, job_file_stem(job))
    if not lock.try_acquire():
        print(
            f"BUSY job {' '.join(job_overrides) or job}: {describe(lock.holder())} is running "
            "it; left to that process",
            file=sys.stderr,
            flush=True,
        )
        record_status(sweep, job, "busy")
        return JobOutcome(job, "busy", None, overrides=job_overrides, config_hash=wanted)
    with lock:
        return _run_locked(cfg, job_dir, execute, sweep, job, job_overrides, wanted)


def _run_locked(
    cfg: Any,
    job_dir: Path,
    execute: Execute,
    sweep: Path,
    job: str,
    job_overrides: tuple[str, ...],
    wanted: str,
) -> JobOutcome:
    """``run_job`` once the job's lock is held."""
    clear_partials_of(job_dir)
    try:
        damage = StoredRun(job_dir).damage() if is_complete(job_dir) else None
        if damage is not None:  # a file truncated or lost since: the run is redone
            print(
                f"DAMAGED job {' '.join(job_overrides) or job}: {damage}; running it again",
                file=sys.stderr,
                flush=True,
            )
            shutil.rmtree(job_dir)
        if is_complete(job_dir):
            summary = stored_summary(job_dir, wanted)
            status = "skipped"
        else:
            summary = execute(cfg, job_dir)
            status = "done"
    except Exception as err:  # KeyboardInterrupt and SystemExit are not caught
        error = first_line(err)
        record = {
            "job": job,
            "overrides": list(job_overrides),
            "error": error,
            "traceback": traceback.format_exc(),
            "config_hash": wanted,
        }
        path = failure_path(sweep, job)
        write_json_atomic(path, record)
        record_status(sweep, job, "failed")
        shown = " ".join(job_overrides) or job
        print(f"FAILED job {shown}: {error}  (details: {path})", file=sys.stderr, flush=True)
        return JobOutcome(job, "failed", None, error, path, job_overrides, wanted)
    clear_failure(sweep, job)
    record_status(sweep, job, status)
    return JobOutcome(job, status, summary, overrides=job_overrides, config_hash=wanted)

"""One job of a sweep, made resumable and failure-tolerant.

Hydra's multirun has no resume, and a job that raises stops the sweep (later batches do
not run and ``on_multirun_end`` is never called). ``sweep_job`` wraps the run of one
scenario so that:

- a job whose folder is already complete with the same config hash is skipped (its stored
  summary is returned), so rerunning a sweep reruns only missing or failed jobs;
- a job that raises is recorded in ``<sweep>/.failures/<job>.json`` (overrides, first line
  of the error, traceback), reported at once on standard error, and returns a summary
  marked ``"status": "failed"``; the other jobs go on. A later successful attempt removes
  the record. ``KeyboardInterrupt`` still stops the sweep;
- staging folders left by an interrupted attempt at the same job are removed first.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from clustersim.config import config_hash
from clustersim.io import is_complete, read_marker
from clustersim.sweep.layout import (
    DEFAULT_JOB_NAME,
    clear_failure,
    clear_job_partials,
    failure_path,
    job_name,
    write_json_atomic,
)
from clustersim.sweep.progress import record_status

#: What runs one scenario: writes the complete run folder at the path, returns the summary.
Execute = Callable[[DictConfig, Path], dict[str, Any]]


class StaleRunError(RuntimeError):
    """A job folder holds a complete run made with a different config than the job's."""


def _hydra_context() -> tuple[Path | None, list[str]]:
    """Return the sweep folder and the job's overrides from Hydra, if Hydra is running."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None, []
    hc = HydraConfig.get()
    return Path(str(hc.sweep.dir)), [str(o) for o in hc.overrides.task]


def first_line(err: BaseException) -> str:
    """Return ``"<ErrorType>: <first line of the message>"``."""
    text = str(err).strip()
    line = text.splitlines()[0] if text else ""
    return f"{type(err).__name__}: {line}" if line else type(err).__name__


def _stored_summary(job_dir: Path, wanted_hash: str) -> dict[str, Any]:
    """Return the summary of a complete job folder made with config hash ``wanted_hash``."""
    try:
        marker = read_marker(job_dir)
        summary = json.loads((job_dir / "summary.json").read_text())
    except (OSError, ValueError) as err:
        raise StaleRunError(
            f"job folder {job_dir} is marked complete but cannot be read ({err}); "
            "delete the folder to run the job again"
        ) from err
    found = marker.get("config_hash") if isinstance(marker, dict) else None
    if found != wanted_hash:
        raise StaleRunError(
            f"job folder {job_dir} holds a run of another config (config hash {found}, "
            f"this job's is {wanted_hash}): the settings changed since it ran. Use a new "
            "hydra.sweep.dir, or delete the folder to run the job again"
        )
    return summary


def sweep_job(
    cfg: DictConfig,
    out_dir: Path,
    execute: Execute,
    *,
    sweep_dir: Path | None = None,
    overrides: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run one job of a sweep unless it is already done; never let an error stop the sweep.

    Args:
        cfg: the job's composed config (Hydra's ``hydra`` node excluded or not: it is not
            part of the config hash).
        out_dir: the job's folder (``hydra.runtime.output_dir``).
        execute: runs the scenario and writes the complete run folder at the given path,
            raising on failure and leaving nothing there.
        sweep_dir: the sweep folder; by default ``hydra.sweep.dir``, else ``out_dir``'s parent.
        overrides: the job's overrides; by default ``hydra.overrides.task``.

    Returns:
        The run's summary (the stored one when skipped), or for a failed job
        ``{"status": "failed", "job", "overrides", "error", "config_hash"}``.

    """
    hydra_sweep, hydra_overrides = _hydra_context()
    out_dir = Path(out_dir).resolve()
    sweep = Path(sweep_dir or hydra_sweep or out_dir.parent).resolve()
    if out_dir == sweep:  # a multirun without overrides: Hydra names the job ""
        out_dir = sweep / DEFAULT_JOB_NAME
    job = job_name(sweep, out_dir)
    job_overrides = list(overrides) if overrides is not None else hydra_overrides
    wanted = config_hash(cfg)
    clear_job_partials(out_dir)
    try:
        if is_complete(out_dir):
            summary = _stored_summary(out_dir, wanted)
            status = "skipped"
        else:
            summary = execute(cfg, out_dir)
            status = "done"
    except Exception as err:  # KeyboardInterrupt and SystemExit are not caught
        error = first_line(err)
        record = {
            "job": job,
            "overrides": job_overrides,
            "error": error,
            "traceback": traceback.format_exc(),
            "config_hash": wanted,
        }
        path = failure_path(sweep, job)
        write_json_atomic(path, record)
        record_status(sweep, job, "failed")
        shown = " ".join(job_overrides) or job
        print(f"FAILED job {shown}: {error}  (details: {path})", file=sys.stderr, flush=True)
        return {"status": "failed", **{k: v for k, v in record.items() if k != "traceback"}}
    clear_failure(sweep, job)
    record_status(sweep, job, status)
    return summary

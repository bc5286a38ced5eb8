"""One job of a Hydra multirun, made resumable and failure-tolerant.

Hydra's multirun has no resume, and a job that raises stops the sweep (later batches do
not run and ``on_multirun_end`` is never called). ``sweep_job`` reads the job's sweep
folder and overrides from Hydra and hands the job to the project's one job runner,
``clustersim.results.jobs.run_job`` (skip when complete with the same config, record a
failure and go on), which ``clustersim.api.sweep`` uses too.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from clustersim.results.jobs import Execute, run_job


def _hydra_context() -> tuple[Path | None, list[str]]:
    """Return the sweep folder and the job's overrides from Hydra, if Hydra is running."""
    from hydra.core.hydra_config import HydraConfig

    if not HydraConfig.initialized():
        return None, []
    hc = HydraConfig.get()
    return Path(str(hc.sweep.dir)), [str(o) for o in hc.overrides.task]


def sweep_job(
    cfg: DictConfig,
    out_dir: Path,
    execute: Execute,
    *,
    sweep_dir: Path | None = None,
    overrides: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Run one job of a multirun unless it is already done; never let an error stop the sweep.

    Args:
        cfg: the job's composed config.
        out_dir: the job's folder (``hydra.runtime.output_dir``).
        execute: runs the scenario and writes the complete run folder at the given path.
        sweep_dir: the sweep folder; by default ``hydra.sweep.dir``, else ``out_dir``'s parent.
        overrides: the job's overrides; by default ``hydra.overrides.task``.

    Returns:
        The run's summary (the stored one when skipped), or for a failed job
        ``{"status": "failed", "job", "overrides", "error", "config_hash"}`` (Hydra keeps
        it as the job's return value); for a job another process is running,
        ``{"status": "busy", "job", "overrides", "config_hash"}``.

    """
    hydra_sweep, hydra_overrides = _hydra_context()
    out_dir = Path(out_dir).resolve()
    sweep = Path(sweep_dir or hydra_sweep or out_dir.parent)
    job_overrides = list(overrides) if overrides is not None else hydra_overrides
    outcome = run_job(cfg, out_dir, execute, sweep_dir=sweep, overrides=job_overrides)
    if outcome.status in ("failed", "busy"):
        return {
            "status": outcome.status,
            "job": outcome.job,
            "overrides": list(outcome.overrides),
            "error": outcome.error,
            "config_hash": outcome.config_hash,
        }
    assert outcome.summary is not None
    return outcome.summary

"""Skip complete jobs before they are launched: a rerun of a finished sweep costs seconds.

Without this, every job of a rerun is launched (a worker, a composition of its config,
the model's imports) only for ``run_job`` to find its folder complete: 0.44 s a job,
44 s for the 100 jobs of ``compare_plans``. The sweepers call ``skip_complete`` on each
batch first: a job whose folder is complete and whose marker holds the job's recipe
(``clustersim.results.recipe``: the config name, the job's overrides and the content of
the config files) has the same config, so it is recorded as skipped (and a stale failure
record of it removed) without being launched. Any doubt launches the job as before, and
its config hash decides there: a marker without a recipe (a run written before recipes
existed), a different recipe, a config file that reads the environment, or job folders
not named by the standard rule (a user's own ``hydra.sweep.subdir``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from omegaconf import OmegaConf

from clustersim.results.recipe import recipe, sources_digest
from clustersim.results.run_folder import MARKER, StoredRun
from clustersim.results.sweep_folder import (
    DEFAULT_JOB_NAME,
    NOT_IN_JOB_NAME,
    clear_failure,
    job_name,
    record_status,
)

#: ``hydra.sweep.subdir`` as ``conf/hydra/default.yaml`` sets it: the rule ``job_name`` follows.
STANDARD_SUBDIR = "${job_folder:${hydra.job.override_dirname}}"


def _is_hydra(text: str) -> bool:
    key = text.lstrip("+~").split("=", 1)[0]
    return key.startswith(("hydra.", "hydra/"))


def _subdir_value(text: str) -> str | None:
    """The value of a ``hydra.sweep.subdir=...`` override (a sweeper naming its jobs)."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parsed = OverridesParser.create().parse_override(text)
    value = parsed.value()
    return value if isinstance(value, str) else None


class CompleteJobs:
    """Decides, without composing configs, which jobs of a sweep are already complete.

    Attributes:
        sweep_dir: the sweep folder.
        config_name: the primary config's name (``hydra.job.config_name``).
        sources: digest of the config files (None: the shortcut is off).
        standard_names: job folders follow ``job_name`` (else only jobs that name their
            own folder with ``hydra.sweep.subdir=`` can be found).

    """

    def __init__(self, config: Any) -> None:
        hydra = config.hydra
        self.sweep_dir = Path(str(hydra.sweep.dir))
        self.config_name = str(hydra.job.config_name)
        self.sources: str | None = None
        typed = OmegaConf.to_container(hydra.overrides.hydra, resolve=False)
        if not any(_is_searchpath(o) for o in typed or []):
            self.sources = sources_digest([dict(s) for s in hydra.runtime.config_sources])
        sweep = OmegaConf.to_container(hydra.sweep, resolve=False)
        dirname = hydra.job.config.override_dirname
        self.standard_names = (
            isinstance(sweep, dict)
            and sweep.get("subdir") == STANDARD_SUBDIR
            and dirname.kv_sep == "="
            and dirname.item_sep == ","
            and set(dirname.exclude_keys) == set(NOT_IN_JOB_NAME)
        )

    def folder(self, overrides: Sequence[str]) -> str | None:
        """The job folder's name of a job with these overrides (None if unknown)."""
        for text in reversed(overrides):
            if text.startswith("hydra.sweep.subdir="):
                return _subdir_value(text) or DEFAULT_JOB_NAME
        if not self.standard_names:
            return None
        return job_name([o for o in overrides if not _is_hydra(o)])

    def is_complete(self, overrides: Sequence[str]) -> str | None:
        """The job's folder name if it is complete with this job's recipe, else None."""
        if self.sources is None:
            return None
        name = self.folder(overrides)
        if name is None:
            return None
        marker = self.sweep_dir / name / MARKER
        try:
            stored = json.loads(marker.read_text())
        except (OSError, ValueError):
            return None
        task = [o for o in overrides if not _is_hydra(o)]
        wanted = recipe(self.config_name, task, self.sources)
        if wanted is None or not isinstance(stored, dict) or stored.get("recipe") != wanted:
            return None
        if StoredRun(self.sweep_dir / name).damage() is not None:
            return None  # launched: the job finds the damage and runs again
        return name


def _is_searchpath(text: Any) -> bool:
    return str(text).lstrip("+~").startswith("hydra.searchpath")


def skip_complete(jobs: CompleteJobs, batch: Sequence[Sequence[str]]) -> list[list[str]]:
    """The jobs of ``batch`` still to launch; the complete ones are recorded as skipped."""
    if jobs.sources is None:
        return [list(job) for job in batch]
    kept = []
    for job in batch:
        name = jobs.is_complete(job)
        if name is None:
            kept.append(list(job))
            continue
        clear_failure(jobs.sweep_dir, name)
        record_status(jobs.sweep_dir, name, "skipped")
    return kept


__all__ = ["STANDARD_SUBDIR", "CompleteJobs", "skip_complete"]

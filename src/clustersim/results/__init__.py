"""Results: what a run and a sweep leave on disk, what their outcomes mean, and how to read them.

Data flows one way: a run's outcomes (``summary``) -> its run folder (``run_folder``) ->
the sweep folder's jobs (``sweep_folder``, ``jobs``) -> the collected tables (``collect``)
-> ``load_sweep`` -> report and notebooks.

``outcomes``      what each headline outcome is called, its unit, region and target
``summary``       headline outcomes of a run, targets, caused effects, the printed table
``run_folder``    the run-folder contract: file names, atomic writer, reader
``sweep_folder``  the sweep-folder contract: job names, failure and status records
``overrides``     the one reading of a run's overrides
``jobs``          the one runner of a sweep's job (skip when done, record failures)
``discover``, ``schemas``, ``collector``  gather the jobs into runs/panel/rationing tables
``loader``        ``load_sweep``: the collected tables, collected again when stale
"""

from __future__ import annotations

import importlib
from typing import Any

#: Where each public name lives. Imported on first use, so that a process that only
#: needs the light modules (a sweep's launching process: names, locks, recipes) does not
#: load pandas and pyarrow.
_WHERE = {
    "Collected": "collector",
    "NotASweepError": "collector",
    "collect": "collector",
    "SweepReadError": "loader",
    "SweepTables": "loader",
    "load_sweep": "loader",
    "OUTCOMES": "outcomes",
    "REGIONS": "outcomes",
    "TARGETS": "outcomes",
    "Outcome": "outcomes",
    "OverrideError": "overrides",
    "override_values": "overrides",
    "parse_override": "overrides",
    "MARKER": "run_folder",
    "BadRunFolderError": "run_folder",
    "RunFolderError": "run_folder",
    "StoredRun": "run_folder",
    "is_complete": "run_folder",
    "with_regions": "summary",
    "job_name": "sweep_folder",
}


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'clustersim.results' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"clustersim.results.{_WHERE[name]}"), name)
    globals()[name] = value
    return value


__all__ = [
    "MARKER",
    "OUTCOMES",
    "REGIONS",
    "TARGETS",
    "BadRunFolderError",
    "Collected",
    "NotASweepError",
    "Outcome",
    "OverrideError",
    "RunFolderError",
    "StoredRun",
    "SweepReadError",
    "SweepTables",
    "collect",
    "is_complete",
    "job_name",
    "load_sweep",
    "override_values",
    "parse_override",
    "with_regions",
]

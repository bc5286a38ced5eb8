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

from clustersim.results.collector import Collected, NotASweepError, collect
from clustersim.results.loader import SweepReadError, SweepTables, load_sweep
from clustersim.results.outcomes import OUTCOMES, REGIONS, TARGETS, Outcome
from clustersim.results.overrides import OverrideError, override_values, parse_override
from clustersim.results.run_folder import (
    MARKER,
    BadRunFolderError,
    RunFolderError,
    StoredRun,
    is_complete,
)
from clustersim.results.summary import with_regions
from clustersim.results.sweep_folder import job_name

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

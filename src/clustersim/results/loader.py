"""The one way to read a sweep folder's results: collected if stale, then loaded.

``load_sweep`` returns a sweep's collected tables (``SweepTables``), collecting them first
when they are missing or out of date. They are out of date when the set of complete job
folders differs from the jobs in ``runs.parquet``, or when whether any run recorded
budget turn-aways differs from whether ``rationing.parquet`` exists. The command line
(``clustersim-report``), the Python API and the notebooks all read sweeps through it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from clustersim.results.collector import collect
from clustersim.results.discover import NotASweepError, find_jobs
from clustersim.results.run_folder import RATIONING
from clustersim.results.sweep_folder import PANEL_TABLE, RATIONING_TABLE, RUNS_TABLE


class SweepReadError(Exception):
    """A sweep folder cannot be read; the message says why and what to do."""


@dataclass(frozen=True)
class SweepTables:
    """The collected tables of a sweep folder.

    Attributes:
        folder: the sweep folder.
        runs: one row per run: ``job``, its overrides, seed, config hash, headline outcomes
            (``<metric>@<YYYY-MM>``) and caused figures (``caused_<metric>@<YYYY-MM>``).
        panel: one row per run and month (``job``, ``month`` and every monthly metric).
        rationing: one row per run and instrument-month with approved applications turned
            away for lack of budget (``job`` and the run's own ``rationing.parquet``
            columns); None when no run recorded turn-aways.
        rationing_jobs: the runs whose folder holds a ``rationing.parquet`` (the others,
            with no plan or written before runs recorded it, have no record).
        problems: job folders that could not be collected, one line each.
        notes: what loading had to do (e.g. collect the sweep again), one line each.

    """

    folder: Path
    runs: pd.DataFrame
    panel: pd.DataFrame
    rationing: pd.DataFrame | None = None
    rationing_jobs: frozenset[str] = frozenset()
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _newest_change(folders: list[Path]) -> float:
    """The latest modification time of any file in the job folders (0 if none)."""
    newest = 0.0
    for job in folders:
        for path in job.rglob("*"):
            try:
                newest = max(newest, path.stat().st_mtime)
            except OSError:
                continue
    return newest


def _up_to_date(folder: Path, folders: list[Path]) -> bool:
    """True if the collected tables hold exactly the complete jobs ``folders``, as they are.

    A job folder changed after the tables were written (a file truncated or replaced by
    hand) makes them out of date too, so that collection checks it again.
    """
    runs_path, panel_path = folder / RUNS_TABLE, folder / PANEL_TABLE
    if not runs_path.is_file() or not panel_path.is_file():
        return False
    if _newest_change(folders) > min(runs_path.stat().st_mtime, panel_path.stat().st_mtime):
        return False
    try:
        collected = set(pq.read_table(runs_path, columns=["job"]).column("job").to_pylist())
    except (OSError, pa.ArrowException, KeyError):
        return False  # an unreadable table is collected again
    if collected != {f.relative_to(folder).as_posix() for f in folders}:
        return False
    # runs that recorded turn-aways, but no collected table of them (or the other way)
    recorded = any((f / RATIONING).is_file() for f in folders)
    return recorded == (folder / RATIONING_TABLE).is_file()


def tables_up_to_date(folder: Path) -> bool:
    """True if a sweep's collected tables hold exactly its complete jobs (nothing to collect)."""
    try:
        folders, _ = find_jobs(Path(folder))
    except NotASweepError:
        return False
    return bool(folders) and _up_to_date(Path(folder), folders)


def ensure_collected(folder: Path) -> tuple[list[Path], list[str], list[str]]:
    """Collect the sweep again if its tables are missing or stale (see the module docstring).

    Returns the complete job folders, the problem lines, and notes on what was done.
    Raises ``SweepReadError`` when the folder is not a sweep or holds no finished run.
    """
    folder = Path(folder)
    try:
        folders, problems = find_jobs(folder)
    except NotASweepError as err:
        raise SweepReadError(str(err)) from err
    lines = [str(p) for p in problems]
    if not folders:
        detail = f" ({len(problems)} job folder(s) did not finish)" if problems else ""
        raise SweepReadError(
            f"{folder}: no finished run in this sweep folder{detail}; run or resume the "
            "sweep first (clustersim-run -m ... hydra.sweep.dir=<folder>)"
        )
    notes: list[str] = []
    if not _up_to_date(folder, folders):
        result = collect(folder)
        lines += [str(p) for p in result.problems if str(p) not in lines]
        if not result.jobs:
            raise SweepReadError(
                f"{folder}: no finished run could be read: " + "; ".join(lines[:3])
            )
        tables = f"{RUNS_TABLE} and {PANEL_TABLE}"
        if result.rationing_path is not None:
            tables = f"{RUNS_TABLE}, {PANEL_TABLE} and {RATIONING_TABLE}"
        notes.append(
            f"collected {len(result.jobs)} runs into {tables} "
            "(the tables were missing or out of date)"
        )
    return folders, lines, notes


def load_sweep(folder: str | Path) -> SweepTables:
    """Read a sweep folder's collected tables, collecting them first if missing or stale.

    Raises ``SweepReadError`` for a folder that does not exist, is a file, is not a sweep,
    or holds no finished run.
    """
    folder = Path(folder)
    if not folder.exists():
        raise SweepReadError(f"{folder}: no such folder (give the sweep's hydra.sweep.dir)")
    if not folder.is_dir():
        raise SweepReadError(f"{folder}: is a file, not a sweep folder")
    _, problems, notes = ensure_collected(folder)
    runs = pd.read_parquet(folder / RUNS_TABLE)
    if runs.empty:
        raise SweepReadError(f"{folder}: {RUNS_TABLE} holds no run")
    recorded = frozenset(j for j in runs["job"] if (folder / j / RATIONING).is_file())
    rationing_path = folder / RATIONING_TABLE
    rationing = pd.read_parquet(rationing_path) if rationing_path.is_file() else None
    return SweepTables(
        folder=folder,
        runs=runs,
        panel=pd.read_parquet(folder / PANEL_TABLE),
        rationing=rationing,
        rationing_jobs=recorded,
        problems=problems,
        notes=notes,
    )


__all__ = ["SweepReadError", "SweepTables", "ensure_collected", "load_sweep", "tables_up_to_date"]

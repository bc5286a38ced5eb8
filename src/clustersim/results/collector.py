"""Gather the finished jobs of a sweep into tidy Parquet tables at its top level.

``runs.parquet``
    One row per complete run: ``job`` (the job folder's name), ``seed``, ``config_hash``,
    ``policy``, ``world``, ``start``, ``end``, every override of the job as its own column
    (named by its key, e.g. ``behavior.entry.but_for_share``), the headline outcomes as
    ``<metric>@<YYYY-MM>`` and, when the run had a counterfactual, ``counterfactual`` (what
    it removed: ``no_policy``, a regime ``huangpu_2024`` or an instrument
    ``huangpu_2024.rd_subsidy``; null for runs without one) and the caused figures as
    ``caused_<metric>@<YYYY-MM>``.
``panel.parquet``
    One row per run and month: ``job``, ``month`` and the monthly metrics of the run.
``rationing.parquet``
    One row per run and instrument-month in which approved applications were turned away
    for lack of budget: ``job`` and the columns of the run's own ``rationing.parquet``
    (``regime``, ``instrument``, ``issuer``, ``month``, ``year``, ``applications``,
    ``amount``, ``largest``). Written when at least one collected run has that file (an
    empty table, with its columns, when none turned anyone away); runs without it (no
    plan, or written before the grant engine recorded turn-aways) add no rows, and whether
    a run recorded is told by its folder holding the file. Without any such run the table
    is not written (and an earlier one is removed, so the tables always match).

Memory stays flat as the number of runs grows: a first pass reads each job's small files
and the schema of its monthly table (a Parquet footer), a second pass streams the runs one
at a time through ``pyarrow.parquet.ParquetWriter``. Runs whose metrics differ are unified:
a metric a run lacks is null there; a column whose values mix whole and decimal numbers is
stored as decimal; one that mixes numbers and text is stored as text. Rows are in job-name
order, so the same sweep gives the same tables whichever launcher ran it and in whatever
order the jobs finished. Each table is written to a temporary file and renamed into place.

Jobs that cannot be collected (not finished, failed, corrupt) are reported by folder with
what is wrong; the good jobs are still collected. A job is corrupt when any of its tables
cannot be read (each table's footer is read, which a truncated file lacks; the monthly
and rationing tables are read whole), so the collected tables only ever hold runs the
report can read in full.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from clustersim.results.discover import NotASweepError, Problem, find_jobs
from clustersim.results.overrides import OverrideError, override_values
from clustersim.results.run_folder import (
    MONTHLY,
    RATIONING,
    VALUES,
    BadRunFolderError,
    StoredRun,
    read_error,
)
from clustersim.results.schemas import (
    cell,
    conform,
    panel_schema,
    rationing_schema,
    runs_schema,
)
from clustersim.results.sweep_folder import (
    PANEL_TABLE,
    RATIONING_TABLE,
    RUNS_TABLE,
    job_of_folder,
)

#: Rows buffered before a row group is written (bounds memory, keeps row groups large).
ROWS_PER_GROUP = 50_000


@dataclass
class Collected:
    """What a collection produced.

    Attributes:
        sweep_dir: the sweep folder.
        jobs: names of the runs collected, in table order.
        problems: the jobs that could not be collected and why.
        runs_path, panel_path: the tables written (None when nothing was collected).
        panel_rows: rows in the panel.
        rationing_path: the rationing table written (None when no collected run had a
            ``rationing.parquet``).
        rationing_jobs: the collected runs whose folder held a ``rationing.parquet``.
        rationing_rows: rows in the rationing table.

    """

    sweep_dir: Path
    jobs: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    runs_path: Path | None = None
    panel_path: Path | None = None
    panel_rows: int = 0
    rationing_path: Path | None = None
    rationing_jobs: list[str] = field(default_factory=list)
    rationing_rows: int = 0


@dataclass
class _Job:
    """One complete job read in the first pass: its row of runs.parquet and table schemas.

    ``rationing_schema`` is None when the run folder holds no ``rationing.parquet``.
    """

    name: str
    folder: Path
    row: dict[str, Any]
    panel_schema: pa.Schema
    rationing_schema: pa.Schema | None = None


# --------------------------------------------------------------------------- reading a job


def _number(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise BadRunFolderError(f"summary.json: {where} = {value!r} is not a number")


def _flatten(block: Any, prefix: str, where: str) -> dict[str, Any]:
    """Flatten ``{"2025-12": {metric: value}}`` into ``{"<prefix><metric>@2025-12": value}``."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise BadRunFolderError(f"summary.json: {where} must map months to metrics")
    out = {}
    for month, metrics in block.items():
        if not isinstance(metrics, dict):
            raise BadRunFolderError(f"summary.json: {where}[{month!r}] must map metrics to numbers")
        for metric, value in metrics.items():
            out[f"{prefix}{metric}@{month}"] = _number(value, f"{where}.{month}.{metric}")
    return out


def _stored_values(marker: dict[str, Any], overrides: list[str]) -> dict[str, Any] | None:
    """The marker's ``override_values`` of ``overrides``, in their order; None if it has none.

    The run wrote them from the config it wrote as ``config.yaml`` (``write_run_folder``);
    they stand only for the overrides they were made of (the same keys), and only plain
    values (a marker edited by hand, or of another format, is not used).
    """
    stored = marker.get(VALUES)
    order = override_values(overrides)  # (the keys, in order; raises on a bad override)
    if not isinstance(stored, dict) or set(stored) != set(order):
        return None
    if not all(v is None or isinstance(v, (bool, int, float, str)) for v in stored.values()):
        return None
    return {key: stored[key] for key in order}


def read_job(sweep_dir: Path, folder: Path) -> _Job:
    """Read a complete job's row of runs.parquet and its table schemas.

    Raises ``BadRunFolderError`` naming the file that cannot be read.
    """
    run = StoredRun(folder)
    damage = run.damage()
    if damage is not None:
        raise BadRunFolderError(damage)
    marker = run.marker()
    summary = run.summary()
    overrides = run.overrides()
    name = job_of_folder(sweep_dir, folder)
    try:
        columns = _stored_values(marker, overrides)
        if columns is None:  # a run folder written before markers held them
            columns = override_values(overrides, run.config())
    except OverrideError as err:
        raise BadRunFolderError(f"overrides.yaml: {err}") from err
    row: dict[str, Any] = {"job": name, **columns}
    row["seed"] = summary.get("seed", marker.get("seed"))
    row["config_hash"] = summary.get("config_hash", marker.get("config_hash"))
    for key in ("policy", "world", "start", "end"):
        if key in summary and key not in row:  # an override (policy=all_three) names it best
            row[key] = summary[key]
    row.update(_flatten(summary.get("outcomes"), "", "outcomes"))
    if summary.get("caused") is not None:  # caused figures say what they are relative to
        row["counterfactual"] = summary.get("counterfactual")
    row.update(_flatten(summary.get("caused"), "caused_", "caused"))
    schema = run.schema(MONTHLY)
    if "month" not in schema.names:
        raise BadRunFolderError(f"{MONTHLY} has no 'month' column (columns: {schema.names})")
    schemas = {MONTHLY: schema}
    for table in run.tables():  # a truncated table has no footer: found here, cheaply
        if table not in schemas:
            schemas[table] = run.schema(table)
    # older run folders lack the rationing table: they are collected without it
    turned_away = schemas.get(RATIONING)
    return _Job(name, folder, row, schema, turned_away)


# --------------------------------------------------------------------------- writing


class _AtomicParquet:
    """A Parquet file written through a hidden temporary file and renamed into place."""

    def __init__(self, path: Path, schema: pa.Schema) -> None:
        self.path = Path(path)
        self.tmp = self.path.with_name(f".{self.path.name}.tmp-{os.getpid()}")
        self.writer = pq.ParquetWriter(self.tmp, schema, compression="zstd")
        self.schema = schema
        self.buffer: list[pa.Table] = []
        self.buffered = 0

    def write(self, table: pa.Table) -> None:
        self.buffer.append(table)
        self.buffered += table.num_rows
        if self.buffered >= ROWS_PER_GROUP:
            self.flush()

    def flush(self) -> None:
        if self.buffer:
            self.writer.write_table(pa.concat_tables(self.buffer))
            self.buffer, self.buffered = [], 0

    def commit(self) -> None:
        self.flush()
        self.writer.close()
        fd = os.open(self.tmp, os.O_RDONLY)
        try:
            os.fsync(fd)  # on disk before it replaces the previous table
        finally:
            os.close(fd)
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _first_pass(sweep_dir: Path, folders: list[Path], problems: list[Problem]) -> list[_Job]:
    jobs = []
    for folder in folders:
        try:
            jobs.append(read_job(sweep_dir, folder))
        except BadRunFolderError as err:
            problems.append(Problem(folder, f"corrupt job, not collected: {err}"))
    return jobs


def read_table(path: Path) -> pa.Table:
    """One Parquet file of a run, whole.

    ``pq.ParquetFile`` reads the one file; ``pq.read_table`` goes through pyarrow's
    dataset layer for it (~3 ms more a file, and importing ``pyarrow.dataset``: ~0.4 s
    of a standalone ``clustersim-collect``). The same table either way.
    """
    with pq.ParquetFile(path) as parquet:
        return parquet.read()


def _stream_panel(
    jobs: list[_Job],
    schema: pa.Schema,
    out: _AtomicParquet,
    problems: list[Problem],
    rationing: _AtomicParquet | None = None,
) -> Iterator[_Job]:
    """Write each job's monthly (and rationing) rows; yield the jobs whose tables could be read.

    A job whose ``monthly.parquet`` or ``rationing.parquet`` cannot be read is not
    collected at all, so the tables always hold the same runs.
    """
    for job in jobs:
        name = MONTHLY
        try:
            conformed = conform(read_table(job.folder / name), schema, job.name)
            away = None
            if rationing is not None and job.rationing_schema is not None:
                name = RATIONING
                away = conform(read_table(job.folder / name), rationing.schema, job.name)
        except (OSError, pa.ArrowException) as err:
            what = read_error(err, job.folder / name)
            problems.append(Problem(job.folder, f"corrupt job, not collected: {name}: {what}"))
            continue
        out.write(conformed)
        if away is not None and rationing is not None:
            rationing.write(away)
        yield job


def collect(sweep_dir: Path) -> Collected:
    """Collect every complete job of ``sweep_dir`` into runs.parquet and panel.parquet.

    Also into rationing.parquet when any of them recorded turned-away applications (see
    the module docstring).

    Raises ``NotASweepError`` if ``sweep_dir`` is not a sweep folder. When no job can be
    collected, nothing is written and ``Collected.jobs`` is empty.
    """
    sweep_dir = Path(sweep_dir)
    folders, problems = find_jobs(sweep_dir)
    result = Collected(sweep_dir, problems=problems)
    jobs = _first_pass(sweep_dir, folders, problems)
    if jobs:
        pschema = panel_schema(j.panel_schema for j in jobs)
        panel = _AtomicParquet(sweep_dir / PANEL_TABLE, pschema)
        recorded = [j.rationing_schema for j in jobs if j.rationing_schema is not None]
        rationing = (
            _AtomicParquet(sweep_dir / RATIONING_TABLE, rationing_schema(recorded))
            if recorded
            else None
        )
        try:
            good = list(_stream_panel(jobs, pschema, panel, problems, rationing))
            if good:
                rschema = runs_schema(j.row for j in good)
                runs = _AtomicParquet(sweep_dir / RUNS_TABLE, rschema)
                try:
                    for start in range(0, len(good), ROWS_PER_GROUP):
                        chunk = [j.row for j in good[start : start + ROWS_PER_GROUP]]
                        columns = {
                            f.name: [cell(r.get(f.name), f.type) for r in chunk] for f in rschema
                        }
                        runs.write(pa.Table.from_pydict(columns, schema=rschema))
                    runs.commit()
                except BaseException:
                    runs.abort()
                    raise
                panel.commit()
                result.jobs = [j.name for j in good]
                result.runs_path = sweep_dir / RUNS_TABLE
                result.panel_path = sweep_dir / PANEL_TABLE
                result.panel_rows = pq.ParquetFile(result.panel_path).metadata.num_rows
                _finish_rationing(sweep_dir, rationing, good, result)
            else:
                panel.abort()
                if rationing is not None:
                    rationing.abort()
        except BaseException:
            panel.abort()
            if rationing is not None:
                rationing.abort()
            raise
    result.problems.sort(key=lambda pr: str(pr.folder))
    return result


def _finish_rationing(
    sweep_dir: Path, rationing: _AtomicParquet | None, good: list[_Job], result: Collected
) -> None:
    """Publish the rationing table if any collected run had one; else remove a stale one."""
    kept = [j.name for j in good if j.rationing_schema is not None]
    if rationing is None or not kept:
        if rationing is not None:
            rationing.abort()
        (sweep_dir / RATIONING_TABLE).unlink(missing_ok=True)
        return
    rationing.commit()
    result.rationing_path = sweep_dir / RATIONING_TABLE
    result.rationing_jobs = kept
    result.rationing_rows = pq.ParquetFile(result.rationing_path).metadata.num_rows


def report(result: Collected) -> str:
    """Return the one-line outcome of a collection."""
    if not result.jobs:
        return f"collect: nothing collected from {result.sweep_dir}: no complete job could be read"
    n = len(result.jobs)
    line = (
        f"collect: {n} run{'s' * (n != 1)} from {result.sweep_dir} -> {RUNS_TABLE} "
        f"({n} rows), {PANEL_TABLE} ({result.panel_rows} rows)"
    )
    if result.rationing_path is not None:
        k = len(result.rationing_jobs)
        line += f", {RATIONING_TABLE} ({result.rationing_rows} rows"
        line += ")" if k == n else f"; {n - k} of the {n} runs have no {RATIONING})"
    missed = sum(not p.collected for p in result.problems)
    if missed:
        line += f"; {missed} job folder(s) not collected (listed above)"
    return line


__all__ = ["Collected", "NotASweepError", "Problem", "collect", "read_job", "report"]

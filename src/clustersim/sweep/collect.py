"""Gather the finished jobs of a sweep into tidy Parquet tables at its top level.

``runs.parquet``
    One row per complete run: ``job`` (the job folder's name), ``seed``, ``config_hash``,
    ``policy``, ``world``, ``start``, ``end``, every override of the job as its own column
    (named by its key, e.g. ``behavior.entry.but_for_share``), the headline outcomes as
    ``<metric>@<YYYY-MM>`` and, when the run had a counterfactual, the caused figures as
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
what is wrong; the good jobs are still collected.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from clustersim.io import MARKER, read_yaml
from clustersim.sweep.layout import (
    MULTIRUN_RECORD,
    PANEL_TABLE,
    RUNS_TABLE,
    failure_path,
    is_partial_name,
    job_name,
    read_failures,
)

#: Columns taken from each run's summary.json, first in runs.parquet, in this order.
META_COLUMNS = ("job", "seed", "config_hash", "policy", "world", "start", "end")
#: Rows buffered before a row group is written (bounds memory, keeps row groups large).
ROWS_PER_GROUP = 50_000
#: A run's record of approved applications turned away for lack of budget (written by
#: runs since the grant engine records them; older run folders and no-plan runs lack it),
#: and the sweep-level table gathering them.
RUN_RATIONING = "rationing.parquet"
RATIONING_TABLE = "rationing.parquet"


class NotASweepError(Exception):
    """The folder given to the collector is not a sweep folder."""


class BadJobError(Exception):
    """A job folder is marked complete but cannot be collected; the message says why."""


@dataclass(frozen=True)
class Problem:
    """A job (or stray folder) that could not be collected.

    Attributes:
        folder: the folder concerned.
        message: what is wrong with it, in one line.
        kind: ``failed`` (a failure record), ``unfinished`` (no marker), ``interrupted``
            (a staging folder) or ``corrupt`` (marked complete but unreadable).
        collected: the folder's (earlier, complete) run is collected nonetheless.

    """

    folder: Path
    message: str
    kind: str = "corrupt"
    collected: bool = False

    def __str__(self) -> str:
        return f"{self.folder}: {self.message}"


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


# --------------------------------------------------------------------------- discovery


#: Files that only a run writes: a folder holding files but none of these is not a job.
_RUN_FILES = ("config.yaml", "overrides.yaml", "summary.json", "monthly.parquet")


def _not_a_run(folder: Path) -> bool:
    """True for a folder with files that no run writes (a report's figures, notes)."""
    names = {p.name for p in folder.iterdir()}
    return bool(names) and not names.intersection(_RUN_FILES)


def find_jobs(sweep_dir: Path) -> tuple[list[Path], list[Problem]]:
    """Return the complete job folders of a sweep (sorted by name) and the unfinished ones.

    Raises ``NotASweepError`` for a missing folder, a file, a single run folder, or a folder
    with neither ``multirun.yaml`` nor any job in it.
    """
    sweep_dir = Path(sweep_dir)
    if not sweep_dir.exists():
        raise NotASweepError(f"{sweep_dir}: no such folder")
    if not sweep_dir.is_dir():
        raise NotASweepError(f"{sweep_dir}: is a file, not a sweep folder")
    is_sweep = (sweep_dir / MULTIRUN_RECORD).is_file()
    if (sweep_dir / MARKER).is_file() and not is_sweep:
        raise NotASweepError(
            f"{sweep_dir}: is a single run folder, not a sweep; collect the sweep folder "
            "that holds it"
        )
    failures = read_failures(sweep_dir)
    complete: list[Path] = []
    problems: list[Problem] = []
    seen_failed: set[str] = set()

    def unfinished(folder: Path) -> None:
        name = job_name(sweep_dir, folder)
        record = failures.get(name)
        if record is None and _not_a_run(folder):
            return  # e.g. the figures of a report written into the sweep folder
        if record is not None:
            seen_failed.add(name)
            msg = f"failed: {record.get('error')} (see {failure_path(sweep_dir, name)})"
            problems.append(Problem(folder, msg, "failed"))
            return
        if any(folder.iterdir()):
            msg = f"incomplete job: no {MARKER} marker (the run did not finish writing)"
        else:
            msg = "job did not finish (empty folder); rerun the sweep to run it"
        problems.append(Problem(folder, msg, "unfinished"))

    stack = [sweep_dir]
    while stack:
        folder = stack.pop()
        for p in sorted(folder.iterdir()):
            if not p.is_dir():
                continue
            if is_partial_name(p.name):
                msg = "staging folder of an interrupted run (removed on rerun)"
                problems.append(Problem(p, msg, "interrupted"))
            elif p.name.startswith("."):
                continue  # bookkeeping: .failures, .sweep, .submitit, .ray
            elif (p / MARKER).is_file():
                complete.append(p)
            elif any(c.is_dir() and not c.name.startswith(".") for c in p.iterdir()):
                stack.append(p)  # job names may contain "/": look one level deeper
            else:
                unfinished(p)
    for name, record in failures.items():
        if name in seen_failed:
            continue
        msg = f"failed: {record.get('error')} (see {failure_path(sweep_dir, name)})"
        kept = (sweep_dir / name / MARKER).is_file()
        if kept:
            msg = f"last attempt {msg}; the earlier complete run in the folder is collected"
        problems.append(Problem(sweep_dir / name, msg, "failed", collected=kept))
    if not is_sweep and not complete and not problems:
        raise NotASweepError(
            f"{sweep_dir}: not a sweep folder (no {MULTIRUN_RECORD} and no job folders "
            f"holding a {MARKER} marker)"
        )
    complete.sort(key=lambda p: job_name(sweep_dir, p))
    problems.sort(key=lambda pr: str(pr.folder))
    return complete, problems


# --------------------------------------------------------------------------- reading a job


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError as err:
        raise BadJobError(f"{path.name} is missing") from err
    except (OSError, ValueError) as err:
        raise BadJobError(f"{path.name} cannot be read: {err}") from err


def _read_yaml(path: Path) -> Any:
    try:
        return read_yaml(path)
    except FileNotFoundError as err:
        raise BadJobError(f"{path.name} is missing") from err
    except (OSError, yaml.YAMLError) as err:
        raise BadJobError(f"{path.name} cannot be read: {err}") from err


def _select(config: Any, dotted: str) -> Any:
    """Return the value at a dotted key of a plain nested mapping, or None."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def override_columns(overrides: Iterable[str], config: Any) -> dict[str, Any]:
    """Return one column per override: ``{"policy": "none", "seed": 3, ...}``.

    A value is taken from the run's resolved config when the key names a plain value there
    (so ``seed=3`` gives the integer 3), else it is the override's text (a config group
    choice such as ``policy=none``). A deletion (``~key``) gives None.
    """
    columns: dict[str, Any] = {}
    for text in overrides:
        key, sep, value = str(text).partition("=")
        if not sep:
            raise BadJobError(f"overrides.yaml: {text!r} is not of the form key=value")
        deleted = key.startswith("~")
        key = key.lstrip("+~").split("@", 1)[0]
        if deleted:
            columns[key] = None
            continue
        found = _select(config, key.replace("/", "."))
        columns[key] = found if isinstance(found, (bool, int, float, str)) else value
    return columns


def _number(value: Any, where: str) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise BadJobError(f"summary.json: {where} = {value!r} is not a number")


def _flatten(block: Any, prefix: str, where: str) -> dict[str, Any]:
    """Flatten ``{"2025-12": {metric: value}}`` into ``{"<prefix><metric>@2025-12": value}``."""
    if block is None:
        return {}
    if not isinstance(block, dict):
        raise BadJobError(f"summary.json: {where} must map months to metrics")
    out = {}
    for month, metrics in block.items():
        if not isinstance(metrics, dict):
            raise BadJobError(f"summary.json: {where}[{month!r}] must map metrics to numbers")
        for metric, value in metrics.items():
            out[f"{prefix}{metric}@{month}"] = _number(value, f"{where}.{month}.{metric}")
    return out


def read_job(sweep_dir: Path, folder: Path) -> _Job:
    """Read a complete job's row of runs.parquet and its panel schema; raise ``BadJobError``."""
    marker = _read_json(folder / MARKER)
    summary = _read_json(folder / "summary.json")
    if not isinstance(marker, dict) or not isinstance(summary, dict):
        raise BadJobError("COMPLETE and summary.json must hold JSON objects")
    overrides = _read_yaml(folder / "overrides.yaml") or []
    if not isinstance(overrides, list):
        raise BadJobError("overrides.yaml must hold a list of key=value strings")
    config = _read_yaml(folder / "config.yaml")
    name = job_name(sweep_dir, folder)
    row: dict[str, Any] = {"job": name, **override_columns(overrides, config)}
    row["seed"] = summary.get("seed", marker.get("seed"))
    row["config_hash"] = summary.get("config_hash", marker.get("config_hash"))
    for key in ("policy", "world", "start", "end"):
        if key in summary and key not in row:  # an override (policy=all_three) names it best
            row[key] = summary[key]
    row.update(_flatten(summary.get("outcomes"), "", "outcomes"))
    row.update(_flatten(summary.get("caused"), "caused_", "caused"))
    monthly = folder / "monthly.parquet"
    try:
        schema = pq.read_schema(monthly)
    except FileNotFoundError as err:
        raise BadJobError("monthly.parquet is missing") from err
    except (OSError, pa.ArrowException) as err:
        raise BadJobError(f"monthly.parquet cannot be read: {err}") from err
    if "month" not in schema.names:
        raise BadJobError(f"monthly.parquet has no 'month' column (columns: {schema.names})")
    rationing = folder / RUN_RATIONING
    rationing_schema = None
    if rationing.is_file():  # older run folders lack it: they are collected without it
        try:
            rationing_schema = pq.read_schema(rationing)
        except (OSError, pa.ArrowException) as err:
            raise BadJobError(f"{RUN_RATIONING} cannot be read: {err}") from err
    return _Job(name, folder, row, schema, rationing_schema)


# --------------------------------------------------------------------------- schemas


def _kind(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return "str"


def _type_for(kinds: set[str], numeric: bool) -> pa.DataType:
    """Return the Arrow type holding values of all ``kinds``.

    ``numeric`` columns (outcomes) are always float64 unless they hold text.
    """
    kinds = kinds - {"null"}
    if "str" in kinds:
        return pa.string()
    if numeric:
        return pa.float64()
    if kinds == {"bool"}:
        return pa.bool_()
    if kinds <= {"int"} and kinds:
        return pa.int64()
    if kinds <= {"int", "float"} and kinds:
        return pa.float64()
    return pa.string()  # mixed bool and numbers, or only nulls


def _outcome_key(column: str) -> tuple[str, str, str]:
    metric, _, month = column.partition("@")
    caused = metric.startswith("caused_")
    return ("1" if caused else "0", month, metric)


def runs_schema(rows: Iterable[dict[str, Any]]) -> pa.Schema:
    """Return the unified schema of runs.parquet for these rows (metadata, overrides, outcomes)."""
    kinds: dict[str, set[str]] = {}
    for row in rows:
        for key, value in row.items():
            kinds.setdefault(key, set()).add(_kind(value))
    meta = [c for c in META_COLUMNS if c in kinds]
    outcomes = sorted((c for c in kinds if "@" in c and c not in meta), key=_outcome_key)
    overrides = sorted(c for c in kinds if c not in meta and c not in outcomes)
    fields = [pa.field(c, _type_for(kinds[c], numeric=False)) for c in meta + overrides]
    fields += [pa.field(c, _type_for(kinds[c], numeric=True)) for c in outcomes]
    if "job" in kinds:
        fields[0] = pa.field("job", pa.string())
    return pa.schema(fields)


def _unify_type(types: list[pa.DataType]) -> pa.DataType:
    first = types[0]
    if all(t == first for t in types):
        return first
    if all(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_null(t) for t in types):
        return pa.float64()
    non_null = [t for t in types if not pa.types.is_null(t)]
    if non_null and all(t == non_null[0] for t in non_null):
        return non_null[0]
    return pa.string()


def panel_schema(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """Return the unified panel schema: ``job``, ``month``, then the metrics in first-seen order."""
    order: list[str] = []
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            if f.name in ("job", "month"):
                continue
            if f.name not in types:
                order.append(f.name)
                types[f.name] = []
            types[f.name].append(f.type)
    fields = [pa.field("job", pa.string()), pa.field("month", pa.string())]
    fields += [pa.field(name, _unify_type(types[name])) for name in order]
    return pa.schema(fields)


def rationing_schema(schemas: Iterable[pa.Schema]) -> pa.Schema:
    """Return the unified rationing schema: ``job``, then the runs' columns in first-seen order."""
    order: list[str] = []
    types: dict[str, list[pa.DataType]] = {}
    for schema in schemas:
        for f in schema:
            if f.name == "job":
                continue
            if f.name not in types:
                order.append(f.name)
                types[f.name] = []
            types[f.name].append(f.type)
    fields = [pa.field("job", pa.string())]
    fields += [pa.field(name, _unify_type(types[name])) for name in order]
    return pa.schema(fields)


def _cell(value: Any, typ: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_string(typ) and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, bool) else str(value)
    if pa.types.is_floating(typ) and isinstance(value, (int, float)):
        return float(value)
    return value


def _conform(table: pa.Table, schema: pa.Schema, job: str) -> pa.Table:
    """Return a run's monthly table with the panel's columns, order and types."""
    columns = []
    for f in schema:
        if f.name == "job":
            columns.append(pa.array([job] * table.num_rows, pa.string()))
        elif f.name in table.column_names:
            col = table.column(f.name)
            columns.append(col if col.type == f.type else col.cast(f.type))
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)


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
        os.replace(self.tmp, self.path)

    def abort(self) -> None:
        self.writer.close()
        self.tmp.unlink(missing_ok=True)


def _first_pass(sweep_dir: Path, folders: list[Path], problems: list[Problem]) -> list[_Job]:
    jobs = []
    for folder in folders:
        try:
            jobs.append(read_job(sweep_dir, folder))
        except BadJobError as err:
            problems.append(Problem(folder, f"corrupt job, not collected: {err}"))
    return jobs


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
        name = "monthly.parquet"
        try:
            table = pq.read_table(job.folder / name)
            conformed = _conform(table, schema, job.name)
            away = None
            if rationing is not None and job.rationing_schema is not None:
                name = RUN_RATIONING
                away = _conform(pq.read_table(job.folder / name), rationing.schema, job.name)
        except (OSError, pa.ArrowException) as err:
            problems.append(Problem(job.folder, f"corrupt {name}, not collected: {err}"))
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
                            f.name: [_cell(r.get(f.name), f.type) for r in chunk] for f in rschema
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
        line += ")" if k == n else f"; {n - k} of the {n} runs have no {RUN_RATIONING})"
    missed = sum(not p.collected for p in result.problems)
    if missed:
        line += f"; {missed} job folder(s) not collected (listed above)"
    return line


def main(argv: list[str] | None = None) -> int:
    """``clustersim-collect <sweep folder>``: exit 0 if any run was collected, else 1."""
    parser = argparse.ArgumentParser(
        prog="clustersim-collect",
        description=(
            "Gather the finished jobs of a sweep folder into runs.parquet (one row per run), "
            "panel.parquet (one row per run and month) and, when the runs recorded them, "
            "rationing.parquet (applications turned away for lack of budget, one row per "
            "run and instrument-month) at its top level."
        ),
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    parser.add_argument("-q", "--quiet", action="store_true", help="list no problem jobs")
    args = parser.parse_args(argv)
    try:
        result = collect(args.sweep_dir)
    except NotASweepError as err:
        print(f"clustersim-collect: {err}", file=sys.stderr)
        return 1
    if not args.quiet:
        for problem in result.problems:
            print(f"clustersim-collect: {problem}", file=sys.stderr)
    print(report(result), file=sys.stderr if not result.jobs else sys.stdout)
    return 0 if result.jobs else 1


__all__ = [
    "BadJobError",
    "Collected",
    "NotASweepError",
    "Problem",
    "collect",
    "find_jobs",
    "main",
    "panel_schema",
    "rationing_schema",
    "read_job",
    "runs_schema",
]

if __name__ == "__main__":
    sys.exit(main())

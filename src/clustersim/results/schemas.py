"""The unified schemas of the collected tables, and each run's rows conformed to them.

Runs of one sweep may differ in their metrics (a metric one run lacks is null there) or
in the types of a column (whole and decimal numbers: decimal; numbers and text: text).
These pure functions work out one schema per table from the runs' rows or Parquet
footers, and conform a run's table to it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from typing import Any

import pyarrow as pa

#: Columns taken from each run's summary.json, first in runs.parquet, in this order.
META_COLUMNS = ("job", "seed", "config_hash", "policy", "world", "start", "end")


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


def cell(value: Any, typ: pa.DataType) -> Any:
    """A value of a run's row as a column of type ``typ`` holds it."""
    if value is None:
        return None
    if pa.types.is_string(typ) and not isinstance(value, str):
        return json.dumps(value) if isinstance(value, bool) else str(value)
    if pa.types.is_floating(typ) and isinstance(value, (int, float)):
        return float(value)
    return value


def conform(table: pa.Table, schema: pa.Schema, job: str) -> pa.Table:
    """Return a run's monthly table with the panel's columns, order and types."""
    # (by name once: ``table.column_names`` builds a new list at each call, and looking
    # each of ~80 columns up in it took ~13 ms a table, ~1.3 s of a 100-run collection)
    have = dict(zip(table.column_names, table.columns, strict=True))
    columns = []
    for f in schema:
        if f.name == "job":
            columns.append(pa.array([job] * table.num_rows, pa.string()))
        elif f.name in have:
            col = have[f.name]
            columns.append(col if col.type == f.type else col.cast(f.type))
        else:
            columns.append(pa.nulls(table.num_rows, f.type))
    return pa.Table.from_arrays(columns, schema=schema)

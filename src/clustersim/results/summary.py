"""From a finished run to its summary: the headline outcomes, the targets, what was caused.

``headline`` picks the declared outcomes (``outcomes.OUTCOMES``) at the report months;
``caused`` subtracts the counterfactual's from the run's, month by month, and prices the
difference; ``summary_table`` prints them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from clustersim.metrics import region_of
from clustersim.results.outcomes import (
    NATIONAL,
    OUTCOMES,
    PRINTED,
    REGION_NAMES,
    SINCE_START,
    TARGETS,
)

#: Columns summed by region: ``<what>_<region>``.
_BY_REGION = ("firms", "employment")


def with_regions(monthly: pd.DataFrame, districts: Sequence[str]) -> pd.DataFrame:
    """Add firms_/employment_ columns for Pudong, Huangpu and the rest of Shanghai."""
    out = monthly.copy()
    for what in _BY_REGION:
        for region in REGION_NAMES:
            cols = [
                f"{what}_{d}" for d in districts if region_of(d) == region and f"{what}_{d}" in out
            ]
            out[f"{what}_{region}"] = out[cols].sum(axis=1) if cols else 0.0
    return out


def headline(
    monthly: pd.DataFrame, districts: Sequence[str], months: Sequence[str]
) -> dict[str, dict[str, float]]:
    """Headline outcomes at each report month: {month: {metric: value}}.

    The values of ``with_regions(monthly, districts)`` at the report months, read from
    the columns the outcomes name alone: the regions' totals are summed as
    ``with_regions`` sums them and the since-start totals cumulated as pandas does, but
    the whole monthly table (some two hundred columns) is neither copied nor re-indexed.
    """
    row_of: dict[str, int] = {}
    for i, month in enumerate(monthly["month"].tolist()):
        row_of.setdefault(month, i)  # as set_index + .at would find it: the first row
    present = set(monthly.columns)
    columns: dict[str, np.ndarray | float] = {}
    for what in _BY_REGION:
        for region in REGION_NAMES:
            cols = [
                f"{what}_{d}"
                for d in districts
                if region_of(d) == region and f"{what}_{d}" in present
            ]
            columns[f"{what}_{region}"] = _row_sums(monthly, cols) if cols else 0.0
    names = [n for n in OUTCOMES if n in columns or (n in present and n != "month")]
    for n in names:
        if n not in columns:
            columns[n] = monthly[n].to_numpy()
    cumulative = monthly[list(SINCE_START)].cumsum()
    since = {c: cumulative[c].to_numpy() for c in cumulative}
    out: dict[str, dict[str, float]] = {}
    for m in months:
        if m not in row_of:
            continue
        i = row_of[m]
        row = {n: _at(columns[n], i) for n in names}
        row.update({f"{c}_since_start": float(v[i]) for c, v in since.items()})
        out[m] = row
    return out


def _row_sums(table: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """``table[cols].sum(axis=1)``'s numbers, without a table of those columns.

    pandas adds a row's values column after column, starting from 0.0, a missing value
    counting as 0 (numpy's sum along the rows of the columns' block, which it reads
    column by column): so do these additions, in the same order.
    """
    total: np.ndarray | None = None
    for c in cols:
        values = table[c].to_numpy(dtype=np.float64)
        values = np.where(np.isnan(values), 0.0, values)
        total = values if total is None else total + values
    assert total is not None
    return total + 0.0  # pandas starts from 0.0: a sum of negative zeros is +0.0


def _at(column: np.ndarray | float, i: int) -> float:
    """Row ``i`` of a column (a number: the same in every row)."""
    return float(column) if isinstance(column, float) else float(column[i])


def targets(outcomes: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
    """Progress against the municipal plan's yardsticks at each report month."""
    return {
        name: {"target": goal, **{m: row.get(name, float("nan")) for m, row in outcomes.items()}}
        for name, goal in TARGETS.items()
    }


def caused(
    run: dict[str, dict[str, float]], without: dict[str, dict[str, float]]
) -> dict[str, dict[str, float]]:
    """Caused = with − without, per report month, and the spending per caused job and firm."""
    out: dict[str, dict[str, float]] = {}
    for month, row in run.items():
        base = without[month]
        diff = {k: row[k] - base[k] for k in row if k in base and k not in NATIONAL}
        spent = row.get("spending_cumulative", 0.0)
        for unit, key in (("job", "employment"), ("firm", "firms")):
            d = diff.get(key, 0.0)
            diff[f"spending_per_caused_{unit}"] = spent / d if d > 0 else float("nan")
        out[month] = diff
    return out


def _printed_label(name: str) -> str:
    o = OUTCOMES[name]
    return f"{o.label} (target ~{o.target:g})" if o.target is not None else o.label


def summary_table(outcomes: dict[str, dict[str, float]], caused_: dict | None = None) -> str:
    """A short plain-text table of the headline outcomes, one column per report month."""
    rows = [(_printed_label(name), name) for name in PRINTED]
    months = list(outcomes)
    width = max(len(text) for text, _ in rows) + 2
    lines = [" " * width + "".join(f"{m:>14}" for m in months)]
    for text, key in rows:
        o = OUTCOMES[key]
        cells = []
        for m in months:
            v = outcomes[m].get(key, np.nan) * o.scale
            cells.append(f"{v:>14,.1f}" if o.scale != 1.0 else f"{v:>14,.0f}")
        lines.append(f"{text:<{width}}" + "".join(cells))
    if caused_:
        lines.append("caused by the policy (run − counterfactual):")
        for text, key in (
            ("  firms", "firms"),
            ("  employment", "employment"),
            ("  talent", "talent"),
        ):
            lines.append(
                f"{text:<{width}}"
                + "".join(f"{caused_[m].get(key, np.nan):>14,.0f}" for m in months)
            )
        lines.append(
            f"{'  RMB per caused job':<{width}}"
            + "".join(
                f"{caused_[m].get('spending_per_caused_job', np.nan):>14,.0f}" for m in months
            )
        )
    return "\n".join(lines)

"""Section 1, headline outcomes: mean and 90% interval across seeds per variant."""

from __future__ import annotations

import math
from collections.abc import Sequence

import pandas as pd

from clustersim.report import fmt
from clustersim.report.common import OUTCOMES, SPENDING, outcome_column, values_of, variant_frame
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import (
    SPREAD_LEVEL,
    spread,
)
from clustersim.results.outcomes import OUTCOMES as DECLARED
from clustersim.results.outcomes import TARGETS


def headline_table(
    runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Mean and 90% interval across replicates of each headline outcome and spending.

    One row per variant, outcome and month: ``variant``, ``outcome``, ``month``, ``mean``,
    ``low``, ``high`` (5th and 95th percentiles; NaN with one run), ``n`` and ``target``
    (the municipal yardstick, NaN for outcomes without one).
    """
    rows = []
    for outcome in (*OUTCOMES, *SPENDING):
        for month in months:
            for v in variants:
                s = spread(values_of(runs, v, outcome_column(outcome, month)))
                rows.append(
                    {
                        "variant": v,
                        "outcome": outcome,
                        "month": month,
                        "mean": s.mean,
                        "low": s.low,
                        "high": s.high,
                        "n": s.n,
                        "target": float(TARGETS.get(outcome, math.nan)),
                    }
                )
    return pd.DataFrame(rows)


def target_mark(mean: float, low: float, high: float, target: float) -> str:
    """`` ✓`` when the runs reach the target, `` ✗`` when they fall short, else `` ≈``.

    With an interval across seeds, the whole interval must lie on one side of the target
    for a mark either way: an interval that straddles it (50 [48.1 – 52.6] against 50)
    says some runs reach it and some do not. A single run is marked by its value.
    """
    if not math.isfinite(mean):
        return ""
    if math.isfinite(low) and math.isfinite(high):
        if low >= target:
            return " ✓"
        if high < target:
            return " ✗"
        return " ≈"
    return " ✓" if mean >= target else " ✗"


def headline_section(data: SweepData) -> tuple[Section, pd.DataFrame]:
    """Section 1: mean and 90% interval across seeds per variant; targets marked."""
    head = headline_table(data.runs, data.variants, data.months)
    rows = []
    labels = {**OUTCOMES, **SPENDING}
    for outcome in labels:
        for month in data.months:
            d = head[(head["outcome"] == outcome) & (head["month"] == month)].set_index("variant")
            scale = DECLARED[outcome].scale
            row = {"outcome": labels[outcome], "month": month}
            target = TARGETS.get(outcome)
            for v in data.variants:
                r = d.loc[v]
                cell = fmt.interval(r["mean"], r["low"], r["high"], scale)
                if target is not None:
                    cell += target_mark(r["mean"], r["low"], r["high"], target)
                row[v] = cell
            row["municipal target"] = f"about {target}" if target is not None else ""
            rows.append(row)
    sec = Section("headline", "1. Headline outcomes by variant")
    sec.add(
        Paragraph(
            f"Each cell is the mean across seeds with the {SPREAD_LEVEL:.0%} interval across "
            "seeds in brackets (5th to 95th percentile: where the middle 90% of the runs lie; "
            "it shows chance variation between runs, not the precision of the mean). "
            "Spending is cumulative from the start of the run to the month, in RMB million, "
            "by the paying jurisdiction. The municipal plan's targets are about 20 leading "
            "FinTech firms and about 50 innovative projects: ✓ marks a target every run in the "
            "interval reaches, ✗ one they all fall short of, and ≈ an interval that straddles "
            "the target (some runs reach it, some do not)."
        ),
        Table(
            "Headline outcomes: mean [90% interval across seeds]",
            variant_frame(rows),
            "Read across a row to compare variants at one month; brackets that overlap mean "
            "single runs of the two variants are often alike.",
        ),
    )
    return sec, head

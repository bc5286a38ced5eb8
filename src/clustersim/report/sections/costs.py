"""Spending per caused job and firm, by paying jurisdiction (part of section 4)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustersim.report import fmt
from clustersim.report.common import (
    JURISDICTION_AREA,
    JURISDICTION_NAMES,
    estimate_row,
    estimate_text,
    outcome_column,
    values_of,
    variant_frame,
)
from clustersim.report.document import Paragraph, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import (
    Estimate,
    bootstrap_mean_ci,
)
from clustersim.results.outcomes import REGION_LABELS as AREA_NAMES


def per_caused(spent: float, caused: Estimate) -> tuple[float, str]:
    """RMB per caused unit (ratio of means) and a note; NaN when it is not meaningful.

    Not meaningful when the caused effect is zero or negative, or when its interval holds
    zero; with a single run it is given but untested.
    """
    if not math.isfinite(caused.mean) or caused.mean <= 0:
        return math.nan, "not meaningful: caused effect ≤ 0"
    if caused.verdict == "indistinguishable":
        return math.nan, "not meaningful: caused effect not distinguishable from zero"
    if caused.verdict == "single":
        return spent / caused.mean, "one run: not tested against zero"
    return spent / caused.mean, ""


def spending_per_caused(
    runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Spending by jurisdiction against the jobs and firms caused where it paid.

    The municipality and "all" are set against caused jobs and firms in the whole city;
    Pudong and Huangpu against those caused in their own area (by every plan in force).
    Columns ``variant``, ``month``, ``jurisdiction``, ``area``, ``spending`` (mean RMB,
    cumulative to the month), ``caused_jobs`` (+ ``_low``, ``_high``, ``_verdict``),
    ``per_job``, ``per_job_note``, ``caused_firms`` (+ ...), ``per_firm``, ``per_firm_note``.
    """
    rows = []
    for v in variants:
        for month in months:
            for j, area in JURISDICTION_AREA.items():
                spend_col = (
                    outcome_column("spending_cumulative", month)
                    if j == "all"
                    else outcome_column(f"spending_{j}_cumulative", month)
                )
                suffix = f"_{area}" if area else ""
                jobs_col = outcome_column(f"employment{suffix}", month, caused=True)
                firms_col = outcome_column(f"firms{suffix}", month, caused=True)
                if jobs_col not in runs or spend_col not in runs:
                    continue
                spent = float(np.nanmean(values_of(runs, v, spend_col)))
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "jurisdiction": j,
                        "area": AREA_NAMES.get(area, "Shanghai"),
                        **cost_fields(
                            spent, values_of(runs, v, jobs_col), values_of(runs, v, firms_col)
                        ),
                    }
                )
    return pd.DataFrame(rows)


def cost_fields(spent: float, caused_jobs: np.ndarray, caused_firms: np.ndarray) -> dict:
    """Spending, caused jobs and firms (mean and CI over runs), and RMB per caused unit."""
    jobs = bootstrap_mean_ci(caused_jobs)
    firms = bootstrap_mean_ci(caused_firms)
    per_job, job_note = per_caused(spent, jobs)
    per_firm, firm_note = per_caused(spent, firms)
    return {
        "spending": spent,
        **estimate_row(jobs, "caused_jobs"),
        "per_job": per_job,
        "per_job_note": job_note,
        **estimate_row(firms, "caused_firms"),
        "per_firm": per_firm,
        "per_firm_note": firm_note,
    }


def cost_cells(r: Any) -> dict[str, str]:
    """Formatted spending, caused jobs and firms with CIs, and RMB per caused unit."""
    return {
        "spending (RMB m)": fmt.millions(r["spending"]),
        "caused jobs [95% CI]": estimate_text(
            r["caused_jobs"], r["caused_jobs_low"], r["caused_jobs_high"]
        ),
        "RMB per caused job": per_text(r["per_job"], r["per_job_note"]),
        "caused firms [95% CI]": estimate_text(
            r["caused_firms"], r["caused_firms_low"], r["caused_firms_high"]
        ),
        "RMB per caused firm": per_text(r["per_firm"], r["per_firm_note"]),
    }


def per_text(value: float, note: str) -> str:
    """RMB per caused unit, or why there is none; a caveat follows the number."""
    if not math.isfinite(value):
        return note
    return fmt.num(value) + (f" ({note})" if note else "")


def cost_blocks(data: SweepData) -> list[Any]:
    """The spending-per-caused-job table and its explanation, for section 4."""
    per = spending_per_caused(data.runs, data.variants, data.months)
    per = per[per["spending"] > 0]
    if per.empty:
        return [Paragraph("No variant spent anything: no cost per caused job to give.")]
    rows = []
    for _, r in per.iterrows():
        rows.append(
            {
                "variant": r["variant"],
                "month": r["month"],
                "paid by": JURISDICTION_NAMES[r["jurisdiction"]],
                "jobs and firms counted in": r["area"],
                **cost_cells(r),
            }
        )
    return [
        Paragraph(
            "Spending per caused job (or firm) is the mean cumulative spending divided by the "
            "mean caused jobs (firms), a ratio of means over seeds. It is not meaningful when "
            "the caused effect is zero or negative or cannot be told from zero, and the table "
            "says so instead of giving a number. A district's spending is set against the jobs "
            "caused in its own area by every plan in force; the municipality's against the "
            "whole city."
        ),
        Table(
            "Spending per caused job and per caused firm, by jurisdiction",
            variant_frame(rows),
            "Compare what each jurisdiction paid per job it gained; a low figure from an effect "
            "that cannot be told from zero is not shown.",
        ),
    ]

"""Section 4, additionality: gross (supported) against caused outcomes, and its parts."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from clustersim.report import fmt
from clustersim.report.common import (
    estimate_row,
    estimate_text,
    outcome_column,
    values_of,
    variant_frame,
    verdict_text,
)
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.sections.costs import cost_blocks
from clustersim.report.sections.instruments import instrument_blocks
from clustersim.report.sections.relocation import relocation_blocks
from clustersim.report.stats import (
    CI_LEVEL,
    bootstrap_mean_ci,
)
from clustersim.report.style import figure


def gross_vs_caused(
    runs: pd.DataFrame, supported: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Level, supported (gross) and caused firms and jobs per variant and month.

    Columns ``variant``, ``month``, ``measure`` (``firms`` or ``employment``), ``level``
    (mean of the with-policy runs), ``supported`` (mean number of supported firms, or their
    employees), ``caused`` with ``caused_low``/``caused_high`` (95% bootstrap CI over
    replicates) and ``caused_verdict``, and ``additionality`` = caused / supported (NaN
    when nothing was supported). Empty when the runs have no counterfactual.
    """
    rows = []
    sup = supported.merge(runs[["job", "variant"]], on="job", how="inner")
    for v in variants:
        for month in months:
            for measure, sup_col in (
                ("firms", "supported_firms"),
                ("employment", "supported_jobs"),
            ):
                column = outcome_column(measure, month, caused=True)
                if column not in runs:
                    continue
                caused = values_of(runs, v, column)
                e = bootstrap_mean_ci(caused)
                s = sup.loc[(sup["variant"] == v) & (sup["month"] == month), sup_col]
                supported_mean = float(s.mean()) if len(s) else math.nan
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "measure": measure,
                        "level": float(
                            np.nanmean(values_of(runs, v, outcome_column(measure, month)))
                        ),
                        "supported": supported_mean,
                        **estimate_row(e, "caused"),
                        "additionality": e.mean / supported_mean
                        if supported_mean and supported_mean > 0
                        else math.nan,
                    }
                )
    return pd.DataFrame(rows)


def additionality_figure(
    gross: pd.DataFrame, variants: Sequence[str], colours: dict[str, str]
) -> Figure:
    """Supported (gross) against caused firms and jobs at the last report month."""
    month = max(gross["month"])
    fig = Figure(figsize=(11, 4.4), layout="constrained")
    axes = fig.subplots(1, 2)
    shown = [v for v in variants if v in set(gross["variant"])]
    x = np.arange(len(shown))
    for ax, measure, unit in zip(axes, ("firms", "employment"), ("firms", "people"), strict=True):
        d = gross[(gross["month"] == month) & (gross["measure"] == measure)].set_index("variant")
        sup = [float(d.at[v, "supported"]) if v in d.index else 0.0 for v in shown]
        cau = [float(d.at[v, "caused"]) if v in d.index else 0.0 for v in shown]
        lo = [float(d.at[v, "caused_low"]) if v in d.index else math.nan for v in shown]
        hi = [float(d.at[v, "caused_high"]) if v in d.index else math.nan for v in shown]
        cols = [colours[v] for v in shown]
        ax.bar(x - 0.2, np.nan_to_num(sup), 0.4, color=cols, alpha=0.35, hatch="//", edgecolor=cols)
        ax.bar(x + 0.2, cau, 0.4, color=cols)
        err = np.array(
            [
                [c - a if np.isfinite(a) else 0 for c, a in zip(cau, lo, strict=True)],
                [b - c if np.isfinite(b) else 0 for c, b in zip(cau, hi, strict=True)],
            ]
        )
        ax.errorbar(x + 0.2, cau, yerr=np.maximum(err, 0), fmt="none", ecolor="black", capsize=3)
        ax.axhline(0, color="black", lw=0.8)
        ax.set_xticks(x, shown, rotation=20, ha="right", fontsize=8)
        ax.set_ylabel(unit)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_title("firms" if measure == "firms" else "jobs (employment)", fontsize=10)
        ax.grid(axis="y", alpha=0.3)
    handles = [
        Patch(facecolor="0.7", hatch="//", edgecolor="0.4", label="supported (received a grant)"),
        Patch(facecolor="0.4", label="caused (run − counterfactual), 95% CI"),
    ]
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=9)
    fig.suptitle(f"Gross (supported) versus caused firms and jobs, {month}")
    return fig


def additionality_section(data: SweepData, colours: dict[str, str]) -> Section:
    """Section 4: gross vs caused, relocated vs new, RMB per caused job, flows between areas."""
    sec = Section("additionality", "4. Additionality: what the spending caused")
    last = data.months[-1]
    sec.add(
        Paragraph(
            "Gross is what a programme's own monitoring would count: the firms that received "
            "any grant and still operate, and their employees. Caused is the run minus its own "
            "counterfactual, the same seed run without any policy: jobs and firms that would "
            "not be there without the plans. Gross minus caused is deadweight (supported firms "
            "that would have been there anyway) plus displacement. Differences against the "
            "baseline (section 3) compare two variants; caused figures compare each run with "
            "itself without policy."
        )
    )
    if not data.has_counterfactual:
        sec.add(
            Paragraph(
                "These runs have no counterfactual, so caused effects cannot be given per run. "
                "Read the differences against a no-policy baseline in section 3 as the caused "
                "effect, or rerun the sweep with run.counterfactual=no_policy.",
                "warning",
            )
        )
    else:
        with_policy = [v for v in data.variants if (data.configs.get(v) or {}).get("policy")]
        shown = with_policy or data.variants
        gross = gross_vs_caused(data.runs, data.supported, shown, data.months)
        rows = []
        for _, r in gross.iterrows():
            rows.append(
                {
                    "variant": r["variant"],
                    "month": r["month"],
                    "measure": "firms" if r["measure"] == "firms" else "jobs",
                    "in the cluster": fmt.num(r["level"]),
                    "supported (gross)": fmt.num(r["supported"]),
                    f"caused [{CI_LEVEL:.0%} CI]": estimate_text(
                        r["caused"], r["caused_low"], r["caused_high"]
                    ),
                    "verdict": verdict_text(r["caused_verdict"], int(r["caused_n"])),
                    "caused / supported": fmt.share(r["additionality"]),
                }
            )
        sec.add(
            Table(
                "Gross (supported) versus caused firms and jobs",
                variant_frame(rows),
                "The lower the caused / supported share, the more of the supported firms and "
                "jobs would have been there anyway.",
            ),
            figure(
                "additionality",
                additionality_figure(gross, shown, colours),
                "Gross versus caused",
                "Compare the hatched bar (supported) with the solid one (caused): the gap is "
                "support that bought nothing extra.",
            ),
        )
        sec.add(*cost_blocks(data))
        sec.add(*relocation_blocks(data, colours, shown))
    sec.add(*instrument_blocks(data, last))
    return sec

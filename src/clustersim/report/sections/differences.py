"""Section 3, differences from the baseline, paired by seed, with bootstrap CIs."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from clustersim.report import fmt
from clustersim.report.common import (
    OUTCOMES,
    outcome_column,
    paired,
    variant_frame,
    verdict_text,
)
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import (
    CI_LEVEL,
    FEW_PAIRS,
    bootstrap_mean_ci,
)
from clustersim.report.style import TITLES, UNITS, figure, scale_of


def difference_table(
    runs: pd.DataFrame,
    variants: Sequence[str],
    baseline: str,
    months: Sequence[str],
    outcomes: Iterable[str] = (*OUTCOMES, "spending_cumulative"),
) -> pd.DataFrame:
    """Each variant minus the baseline, paired by replicate, with a 95% bootstrap CI.

    Columns ``variant``, ``outcome``, ``month``, ``n`` (pairs), ``variant_mean``,
    ``baseline_mean``, ``diff``, ``low``, ``high``, ``verdict`` (see ``stats.Estimate``).
    """
    rows = []
    for outcome in outcomes:
        for month in months:
            column = outcome_column(outcome, month)
            if column not in runs:
                continue
            for v in variants:
                if v == baseline:
                    continue
                x, y = paired(runs, v, baseline, column)
                e = bootstrap_mean_ci(x, y)
                rows.append(
                    {
                        "variant": v,
                        "outcome": outcome,
                        "month": month,
                        "n": e.n,
                        "variant_mean": float(np.mean(x)) if x.size else math.nan,
                        "baseline_mean": float(np.mean(y)) if y.size else math.nan,
                        "diff": e.mean,
                        "low": e.low,
                        "high": e.high,
                        "verdict": e.verdict,
                    }
                )
    return pd.DataFrame(
        rows,
        columns=[
            "variant",
            "outcome",
            "month",
            "n",
            "variant_mean",
            "baseline_mean",
            "diff",
            "low",
            "high",
            "verdict",
        ],
    )


def difference_figure(
    diffs: pd.DataFrame, variants: Sequence[str], colours: dict[str, str], baseline: str
) -> Figure:
    """Forest plot: each variant minus the baseline, by outcome and month, with 95% CIs."""
    outcomes = [o for o in UNITS if o in set(diffs["outcome"])]
    months = sorted(diffs["month"].unique())
    others = [v for v in variants if v != baseline]
    fig = Figure(
        figsize=(5.2 * len(months), 1.0 + (0.45 * len(others) + 0.9) * len(outcomes)),
        layout="constrained",
    )
    axes = fig.subplots(len(outcomes), len(months), squeeze=False)
    for i, outcome in enumerate(outcomes):
        k = scale_of(outcome)
        for j, month in enumerate(months):
            ax = axes[i, j]
            d = diffs[(diffs["outcome"] == outcome) & (diffs["month"] == month)]
            for y, v in enumerate(others):
                r = d[d["variant"] == v]
                if r.empty:
                    continue
                r = r.iloc[0]
                ax.plot(r["diff"] * k, y, "o", color=colours[v])
                if np.isfinite(r["low"]):
                    ax.hlines(y, r["low"] * k, r["high"] * k, color=colours[v], lw=2)
            ax.axvline(0, color="black", lw=0.8)
            ax.set_yticks(range(len(others)), others, fontsize=8)
            ax.set_ylim(-0.7, len(others) - 0.3)
            ax.invert_yaxis()
            ax.set_xlabel(f"difference vs {baseline} ({UNITS[outcome]})", fontsize=8)
            ax.set_title(f"{TITLES[outcome]}, {month}", fontsize=9)
            ax.grid(axis="x", alpha=0.3)
    handles = [Line2D([], [], color=colours[v], marker="o", lw=2, label=v) for v in others]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5), fontsize=9)
    fig.suptitle(f"Difference from {baseline}, paired by seed: mean and 95% bootstrap CI")
    return fig


def difference_section(data: SweepData, colours: dict[str, str]) -> tuple[Section, pd.DataFrame]:
    """Section 3: differences against the baseline paired by seed, bootstrap CIs."""
    sec = Section("differences", "3. Differences against the baseline")
    if data.baseline is None or len(data.variants) < 2:
        sec.add(Paragraph("The sweep has a single variant: there is nothing to compare it with."))
        return sec, pd.DataFrame()
    diffs = difference_table(data.runs, data.variants, data.baseline, data.months)
    rows = []
    for _, r in diffs.iterrows():
        scale = scale_of(r["outcome"])
        label = OUTCOMES.get(r["outcome"], "spending, all jurisdictions (RMB m)")
        rows.append(
            {
                "variant": r["variant"],
                "outcome": label,
                "month": r["month"],
                "pairs": str(r["n"]),
                f"difference [{CI_LEVEL:.0%} CI]": fmt.signed_interval(
                    r["diff"], r["low"], r["high"], scale
                ),
                "verdict": verdict_text(r["verdict"], int(r["n"])),
            }
        )
    sec.add(
        Paragraph(
            f"Each variant minus the baseline ({data.baseline}) in the same seed, averaged "
            f"over seeds, with a {CI_LEVEL:.0%} bootstrap confidence interval "
            "(scipy.stats.bootstrap, percentile method, resampling whole seeds so each "
            "variant stays paired with its baseline). When the interval holds zero the "
            "difference cannot be told from zero with these seeds: it may be chance."
        ),
        Table(
            f"Differences from {data.baseline}, paired by seed",
            variant_frame(rows),
            "Look at the verdict column: only differences marked distinguishable are more "
            f"than chance with these seeds; with fewer than {FEW_PAIRS} seeds no verdict is "
            "firm, whatever the interval.",
        ),
        figure(
            "differences",
            difference_figure(diffs, data.variants, colours, data.baseline),
            "Differences from the baseline",
            "A bar that crosses the black zero line is a difference that cannot be told from "
            "zero; dots without a bar come from a single pair of runs.",
        ),
    )
    plain = diffs[diffs["verdict"] == "indistinguishable"]
    if not plain.empty:
        sec.add(
            Paragraph(
                f"{len(plain)} of {len(diffs)} differences cannot be told from zero with these "
                "seeds, among them: "
                + "; ".join(
                    f"{r.variant} {OUTCOMES.get(r.outcome, 'spending')} {r.month}"
                    for r in plain.head(8).itertuples()
                )
                + ("; ..." if len(plain) > 8 else "."),
                "note",
            )
        )
    return sec, diffs

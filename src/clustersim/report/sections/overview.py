"""The report's opening: facts about the sweep and the warnings a reader must see first."""

from __future__ import annotations

import pandas as pd

from clustersim.report.document import Bullets, Paragraph, Section
from clustersim.report.load import SweepData
from clustersim.report.stats import FEW_PAIRS


def overview_section(data: SweepData) -> tuple[list[tuple[str, str]], Section]:
    """Facts about the sweep and the warnings a reader must see first."""
    counts = data.runs_per_variant()
    worlds = sorted({str(w) for w in data.runs.get("world", pd.Series(["?"])).unique()})
    facts = [
        ("sweep folder", str(data.sweep_dir)),
        ("runs compared", f"{len(data.runs)} ({len(data.variants)} variants)"),
        ("variants (replicates)", ", ".join(f"{v} ({counts[v]})" for v in data.variants)),
        ("baseline", data.baseline or "none (a single variant)"),
        ("world", ", ".join(worlds)),
        ("report months", ", ".join(data.months)),
        (
            "counterfactuals",
            "each run has its own run without any policy (same seed)"
            if data.has_counterfactual
            else "none (run the sweep with run.counterfactual=no_policy for caused effects)",
        ),
    ]
    if not data.regime_runs.empty:
        keys = sorted(data.regime_runs["counterfactual"].unique())
        facts.append(("plan counterfactuals (one plan removed)", ", ".join(keys)))
    if not data.instrument_runs.empty:
        keys = sorted(data.instrument_runs["counterfactual"].unique())
        facts.append(("instrument counterfactuals", ", ".join(keys)))
    if data.behaviour_varied:
        facts.append(("behavioural parameters varied", ", ".join(data.behaviour_varied)))
    sec = Section("overview", "About this report")
    sec.add(
        Paragraph(
            "This report compares the policy variants of one sweep of clustersim runs: what "
            "the FinTech cluster looks like under each, what the plans spent, and how much of "
            "the result the spending caused. Each variant was run with several seeds; the "
            "same seed gives the same random history to every variant, so variants are "
            "compared seed by seed."
        )
    )
    single = [v for v, n in counts.items() if n == 1]
    if single:
        sec.add(
            Paragraph(
                f"One seed only for {', '.join(single)}: no interval across seeds and no "
                "confidence interval can be given for these variants; their numbers are "
                "single runs and cannot show how much an outcome varies by chance. Run more "
                "seeds (e.g. seed=0,1,2,3) for intervals.",
                "warning",
            )
        )
    elif min(counts.values()) < FEW_PAIRS:
        sec.add(
            Paragraph(
                f"Only {min(counts.values())} seeds per variant: intervals are rough "
                f"(fewer than {FEW_PAIRS} seeds give few distinct bootstrap resamples).",
                "note",
            )
        )
    for line in data.notes:
        sec.add(Paragraph(f"Note: {line}.", "note"))
    if data.problems:
        sec.add(
            Paragraph(
                f"{len(data.problems)} job folder(s) of the sweep could not be used and are "
                "left out:",
                "warning",
            ),
            Bullets(
                data.problems[:20]
                + ([f"... and {len(data.problems) - 20} more"] if len(data.problems) > 20 else [])
            ),
        )
    return facts, sec

"""Spending and caused effect of each instrument (part of section 4)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from clustersim.report import fmt
from clustersim.report.common import JURISDICTION_NAMES, outcome_column, variant_frame
from clustersim.report.document import Paragraph, Table
from clustersim.report.load import SweepData
from clustersim.report.sections.costs import cost_cells, cost_fields


def _cumulative_spending(ledger: pd.DataFrame, month: str) -> pd.DataFrame:
    """RMB granted per job, regime, issuer and instrument up to and including ``month``."""
    upto = ledger[ledger["month"] <= month]
    return upto.groupby(["job", "regime", "issuer", "instrument"], as_index=False)["amount"].sum()


def spending_by_instrument(
    ledger: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Mean RMB per run granted by each instrument up to ``month``, per variant.

    Runs that granted nothing count as zero. Columns ``variant``, ``regime``, ``issuer``,
    ``instrument``, ``spending``; sorted by variant order, then spending (largest first).
    """
    cum = _cumulative_spending(ledger, month).merge(runs[["job", "variant"]], on="job")
    n_runs = runs.groupby("variant").size()
    out = cum.groupby(["variant", "regime", "issuer", "instrument"], as_index=False)["amount"].sum()
    out["spending"] = out["amount"] / out["variant"].map(n_runs)
    out = out.drop(columns="amount")
    order = {v: i for i, v in enumerate(variants)}
    out = out.assign(_o=out["variant"].map(order)).sort_values(
        ["_o", "spending", "regime", "instrument"], ascending=[True, False, True, True]
    )
    return out.drop(columns="_o").reset_index(drop=True)


def instrument_caused(
    instrument_runs: pd.DataFrame,
    runs: pd.DataFrame,
    ledger: pd.DataFrame,
    variants: Sequence[str],
    month: str,
    configs: dict[str, dict[str, Any]] | None = None,
) -> pd.DataFrame:
    """Caused jobs and firms of single instruments (or plans), from their counterfactuals.

    A run with ``run.counterfactual=<regime>.<instrument>`` is the variant's run minus that
    instrument; its with-policy half equals the variant's run of the same replicate, whose
    ledger gives the instrument's spending. The same holds for the runs of
    ``run.counterfactual=<regime>`` (``SweepData.regime_runs``): a whole plan removed, its
    spending that of every instrument of the plan. Columns ``variant``, ``instrument`` (the
    counterfactual key), ``n``, ``spending``, ``caused_jobs`` (+ CI columns), ``per_job``,
    ``per_job_note``, ``caused_firms`` (+ CI), ``per_firm``, ``per_firm_note``. Empty when the
    sweep ran no instrument-level counterfactual. With ``configs``, instruments of a plan
    the variant does not have (nothing to remove) are left out.
    """
    columns = ["variant", "instrument", "n", "spending", "caused_jobs", "per_job", "caused_firms"]
    jobs_col, firms_col = (
        outcome_column("employment", month, True),
        outcome_column("firms", month, True),
    )
    if instrument_runs.empty or jobs_col not in instrument_runs:
        return pd.DataFrame(columns=columns)
    cum = _cumulative_spending(ledger, month)
    cum["key"] = cum["regime"] + "." + cum["instrument"]
    rows = []
    for v in variants:
        mine = instrument_runs[instrument_runs["variant"] == v]
        plans = set(((configs or {}).get(v) or {}).get("policy") or {})
        for key in sorted(mine["counterfactual"].unique()):
            if configs is not None and key.split(".", 1)[0] not in plans:
                continue
            sub = mine[mine["counterfactual"] == key]
            with_jobs = sub[["replicate"]].merge(
                runs.loc[runs["variant"] == v, ["replicate", "job"]], on="replicate", how="left"
            )
            removed = cum[(cum["key"] == key) | (cum["regime"] == key)]  # instrument or plan
            paid = removed.groupby("job")["amount"].sum()
            spent = float(with_jobs["job"].map(paid).fillna(0.0).mean())
            rows.append(
                {
                    "variant": v,
                    "instrument": key,
                    "n": len(sub),
                    **cost_fields(
                        spent,
                        sub[jobs_col].to_numpy(dtype=float),
                        sub[firms_col].to_numpy(dtype=float),
                    ),
                }
            )
    return pd.DataFrame(rows)


def instrument_blocks(data: SweepData, month: str) -> list[Any]:
    """Spending and caused effect by instrument, for section 4."""
    spend = spending_by_instrument(data.ledger, data.runs, data.variants, month)
    blocks: list[Any] = []
    if spend.empty:
        return [Paragraph("No grant was paid in any run: no spending by instrument to show.")]
    wide = spend.pivot_table(
        index=["issuer", "regime", "instrument"],
        columns="variant",
        values="spending",
        aggfunc="sum",
    )
    wide = wide.reindex(columns=[v for v in data.variants if v in wide.columns])
    wide = wide.loc[wide.max(axis=1).sort_values(ascending=False).index]
    frame = wide.map(fmt.millions).reset_index()
    frame.columns = ["paid by", "plan", "instrument", *wide.columns]
    frame["paid by"] = frame["paid by"].map(lambda j: JURISDICTION_NAMES.get(j, j))
    blocks.append(
        Table(
            f"Spending by instrument to {month}, RMB million per run (mean over seeds)",
            frame.fillna(fmt.MISSING),
            "The instruments at the top carry most of each plan's spending.",
        )
    )
    caused = instrument_caused(
        data.instrument_runs, data.runs, data.ledger, data.variants, month, data.configs
    )
    if caused.empty:
        blocks.append(
            Paragraph(
                "Caused effects are per regime only: this sweep ran no instrument-level "
                "counterfactual. To price single instruments, sweep "
                "run.counterfactual=<regime>.<instrument> (e.g. "
                "run.counterfactual=no_policy,huangpu_2024.rd_subsidy).",
                "note",
            )
        )
    else:
        blocks.append(_caused_table(caused, "instrument", month))
    plans = instrument_caused(
        data.regime_runs, data.runs, data.ledger, data.variants, month, data.configs
    )
    if not plans.empty:
        blocks.append(_caused_table(plans, "plan", month))
    return blocks


def _caused_table(caused: pd.DataFrame, what: str, month: str) -> Table:
    """The table of ``instrument_caused`` rows; ``what``: ``instrument`` or ``plan`` removed."""
    rows = [
        {
            "variant": r["variant"],
            f"{what} removed": r["instrument"],
            "runs": str(r["n"]),
            **cost_cells(r),
        }
        for _, r in caused.iterrows()
    ]
    return Table(
        f"Caused by single {what}s at {month} (run minus the run without that {what})",
        variant_frame(rows),
        f"Each row removes one {what} and keeps the rest of the variant's plans, so it "
        f"measures what that {what} adds on top of the others.",
    )

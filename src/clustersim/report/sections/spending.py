"""Section 6, spending and budgets: spending over time, yearly budgets, run-out months."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from clustersim.months import Month
from clustersim.report import fmt
from clustersim.report.common import variant_frame
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.style import INSTRUMENT_COLOURS, decimal_years, figure


def spending_over_time(
    ledger: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], months: Sequence[str]
) -> pd.DataFrame:
    """Mean cumulative RMB per run granted by each instrument, month by month.

    Columns ``variant``, ``instrument`` (``regime.instrument``), ``month``, ``cumulative``;
    every month of ``months`` for every instrument a variant used.
    """
    if ledger.empty:
        return pd.DataFrame(columns=["variant", "instrument", "month", "cumulative"])
    led = ledger.merge(runs[["job", "variant"]], on="job")
    led = led.assign(instrument=led["regime"] + "." + led["instrument"])
    n_runs = runs.groupby("variant").size()
    frames = []
    for v in variants:
        sub = led[led["variant"] == v]
        if sub.empty:
            continue
        wide = sub.pivot_table(index="month", columns="instrument", values="amount", aggfunc="sum")
        wide = wide.reindex(list(months)).fillna(0.0).cumsum() / n_runs[v]
        long = wide.reset_index().melt(
            id_vars="month", var_name="instrument", value_name="cumulative"
        )
        long.insert(0, "variant", v)
        frames.append(long[["variant", "instrument", "month", "cumulative"]])
    if not frames:
        return pd.DataFrame(columns=["variant", "instrument", "month", "cumulative"])
    return pd.concat(frames, ignore_index=True)


def budgets(config: dict[str, Any]) -> dict[str, float]:
    """Yearly budget in RMB per ``regime.instrument`` (annual_budget x budget_scale).

    Instruments without a budget line (entitlements), switched off, or with a zero budget
    are left out.
    """
    out: dict[str, float] = {}
    for regime, block in (config.get("policy") or {}).items():
        if not isinstance(block, dict):
            continue
        scale = float(block.get("budget_scale", 1.0) or 0.0)
        for name, inst in block.items():
            if not isinstance(inst, dict) or inst.get("annual_budget") is None:
                continue
            if inst.get("enabled", True) is False:
                continue
            budget = float(inst["annual_budget"]) * scale
            if budget > 0:
                out[f"{regime}.{name}"] = budget
    return dict(sorted(out.items()))


#: Columns of ``budget_runout``, in order.
RUNOUT_COLUMNS = (
    "variant",
    "instrument",
    "year",
    "budget",
    "spent_share",
    "ran_out",
    "n",
    "month",
    "estimated",
    "turned_away",
    "turned_away_amount",
)


def _estimated_runout(grants: pd.DataFrame, budget: float) -> Month | None:
    """The month a run's yearly budget ran out, estimated from its ledger alone (or None).

    For runs without a record of turned-away applications (older run folders): the first
    month when the money left for the year fell below the largest single grant the
    instrument paid that year (grants are paid in full or not at all, so an application of
    that size could no longer have been paid).
    """
    if grants.empty:
        return None
    g = grants.sort_values("month")
    spent = g["amount"].cumsum().to_numpy()
    largest = float(g["largest"].max())
    hit = np.flatnonzero(budget - spent < largest - 1e-9 * budget)
    return Month.parse(g["month"].iloc[hit[0]]) if hit.size else None


def budget_runout(
    ledger: pd.DataFrame,
    runs: pd.DataFrame,
    configs: dict[str, dict[str, Any]],
    variants: Sequence[str],
    rationing: pd.DataFrame | None = None,
    recorded: Iterable[str] = (),
) -> pd.DataFrame:
    """When each yearly budget ran out, per variant, instrument and year.

    A yearly budget ran out in the first month of that year in which the grant engine
    turned an approved application away because what was left of the budget could not
    pay it in full (``rationing``: the collected ``rationing.parquet`` rows, one per run
    and instrument-month with turned-away applications). That is a fact recorded by each
    run in ``recorded`` (the runs whose folder holds a ``rationing.parquet``). For any
    other run (written before runs recorded turn-aways) it is estimated from the ledger:
    the first month when the money left for the year fell below the largest single grant
    the instrument paid that year.

    Columns (``RUNOUT_COLUMNS``): ``variant``, ``instrument`` (``regime.instrument``),
    ``year``, ``budget`` (RMB), ``spent_share`` (mean over runs of the share of the
    budget granted), ``ran_out`` (runs in which it ran out), ``n`` (runs), ``month`` (the
    median month it ran out among those runs, ``""`` if never), ``estimated`` (runs whose
    month, or its absence, is the ledger estimate because they recorded no turn-aways),
    ``turned_away`` and ``turned_away_amount`` (mean over the recording runs of the
    applications turned away that year and their RMB; NaN when no run recorded). Listed:
    instrument-years with budget lines and any grant or any turned-away application in
    some run.
    """
    if ledger.empty and (rationing is None or rationing.empty):
        return pd.DataFrame(columns=list(RUNOUT_COLUMNS))
    recorded = frozenset(recorded) if rationing is not None else frozenset()
    led = ledger.assign(
        key=ledger["regime"] + "." + ledger["instrument"], year=ledger["month"].str[:4].astype(int)
    )
    if rationing is None:
        rationing = pd.DataFrame(
            columns=["job", "regime", "instrument", "month", "applications", "amount"]
        )
    away = rationing[rationing["job"].isin(recorded)]
    away = away.assign(
        key=away["regime"] + "." + away["instrument"], year=away["month"].str[:4].astype(int)
    )
    rows = []
    for v in variants:
        jobs = runs.loc[runs["variant"] == v, "job"].tolist()
        lines = budgets(configs.get(v) or {})
        sub = led[led["job"].isin(jobs) & led["key"].isin(lines)]
        out_sub = away[away["job"].isin(jobs) & away["key"].isin(lines)]
        years = sorted(
            set(zip(sub["key"], sub["year"], strict=True))
            | set(zip(out_sub["key"], out_sub["year"], strict=True))
        )
        granted = dict(tuple(sub.groupby(["key", "year"], sort=False)))
        turned = dict(tuple(out_sub.groupby(["key", "year"], sort=False)))
        mine = [j for j in jobs if j in recorded]
        for key, year in years:
            budget = lines[key]
            grp = granted.get((key, year), sub.iloc[:0])
            gone = turned.get((key, year), out_sub.iloc[:0])
            shares, out_months = [], []
            for job in jobs:
                g = grp[grp["job"] == job]
                shares.append(float(g["amount"].sum()) / budget if len(g) else 0.0)
                if job in recorded:
                    months = gone.loc[gone["job"] == job, "month"]
                    month = Month.parse(months.min()) if len(months) else None
                else:
                    month = _estimated_runout(g, budget)
                if month is not None:
                    out_months.append(month)
            out_months.sort()
            per_run = gone.groupby("job")[["applications", "amount"]].sum()
            per_run = per_run.reindex(mine, fill_value=0)
            rows.append(
                {
                    "variant": v,
                    "instrument": key,
                    "year": int(year),
                    "budget": budget,
                    "spent_share": float(np.mean(shares)),
                    "ran_out": len(out_months),
                    "n": len(jobs),
                    "month": str(out_months[(len(out_months) - 1) // 2]) if out_months else "",
                    "estimated": len(jobs) - len(mine),
                    "turned_away": float(per_run["applications"].mean()) if mine else math.nan,
                    "turned_away_amount": float(per_run["amount"].mean()) if mine else math.nan,
                }
            )
    return pd.DataFrame(rows, columns=list(RUNOUT_COLUMNS))


def spending_figure(
    over_time: pd.DataFrame, variants: Sequence[str], colours: dict[str, str], per_variant: int = 3
) -> Figure:
    """Cumulative spending by instrument per variant (stacked), each variant's top ones named."""
    shown = [v for v in variants if v in set(over_time["variant"])]
    last = over_time[over_time["month"] == over_time["month"].max()]
    named_set: set[str] = set()
    for v in shown:  # each variant's largest instruments, so every panel names its own
        mine = last[last["variant"] == v].sort_values(["cumulative", "instrument"])
        named_set.update(mine["instrument"].iloc[::-1][:per_variant])
    named = sorted(named_set)[: len(INSTRUMENT_COLOURS)]
    palette = INSTRUMENT_COLOURS
    inst_colours = {name: palette[i % len(palette)] for i, name in enumerate(named)}
    inst_colours["other instruments"] = "#d9d9d9"
    ncols = min(2, max(1, len(shown)))
    nrows = math.ceil(len(shown) / ncols)
    fig = Figure(figsize=(6 * ncols, 3.6 * nrows + 1.6), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, v in zip(axes, shown, strict=False):
        d = over_time[over_time["variant"] == v]
        wide = d.pivot_table(
            index="month", columns="instrument", values="cumulative", aggfunc="sum"
        )
        wide = wide.sort_index()
        keep = [c for c in named if c in wide]
        rest = wide.drop(columns=keep).sum(axis=1)
        series = [wide[c].to_numpy() / 1e6 for c in keep] + [rest.to_numpy() / 1e6]
        labels = [*keep, "other instruments"]
        ax.stackplot(decimal_years(wide.index), *series, colors=[inst_colours[c] for c in labels])
        ax.set_title(v, color=colours[v], fontsize=10)
        for side in ax.spines.values():
            side.set_edgecolor(colours[v])
        ax.set_xlabel("year")
        ax.set_ylabel("cumulative spending (RMB million)")
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.grid(alpha=0.3)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    handles = [Patch(color=inst_colours[c], label=c) for c in [*named, "other instruments"]]
    fig.legend(handles=handles, loc="outside lower center", ncols=3, fontsize=8)
    fig.suptitle("Cumulative spending by instrument (mean per run)")
    return fig


def spending_section(data: SweepData, colours: dict[str, str], months: list[str]) -> Section:
    """Section 6: spending over time by instrument, and when yearly budgets ran out."""
    sec = Section("spending", "6. Spending over time and budgets")
    over = spending_over_time(data.ledger, data.runs, data.variants, months)
    if over.empty:
        return sec.add(Paragraph("No grant was paid in any run: no spending to show."))
    sec.add(
        figure(
            "spending",
            spending_figure(over, data.variants, colours),
            "Spending by instrument",
            "Look at the slope: steps at each January are yearly budgets renewing, flat "
            "stretches before a January are budgets that ran out.",
        )
    )
    out = budget_runout(
        data.ledger,
        data.runs,
        data.configs,
        data.variants,
        data.rationing,
        data.rationing_jobs,
    )
    ran = out[out["ran_out"] > 0]
    budgeted = [v for v in data.variants if budgets(data.configs.get(v) or {})]
    jobs = data.runs.loc[data.runs["variant"].isin(budgeted), "job"]
    unrecorded = int((~jobs.isin(data.rationing_jobs)).sum())
    none_recorded = len(jobs) > 0 and unrecorded == len(jobs)
    recorded_text = (
        "Each run records those months (its rationing.parquet, collected into the sweep's "
        "rationing.parquet), so the month is the one the run saw, not an estimate. "
    )
    sec.add(
        Paragraph(
            "A yearly budget ran out in the first month of that year in which the grant "
            "engine turned an approved application away because what was left of the "
            "budget could not pay it in full: grants are paid in full or not at all, in "
            "priority order, and the queue stops at the first application that does not "
            "fit. "
            + ("" if unrecorded else recorded_text)
            + "Budgets are the config's annual_budget times the plan's budget_scale; "
            "entitlements without a budget line (e.g. tax preferences) cannot run out."
        )
    )
    estimate_text = (
        "the first month when the money left for the year fell below the largest single "
        "grant the instrument paid that year. Rerun the sweep into a new folder for exact "
        "months."
    )
    if none_recorded:
        sec.add(
            Paragraph(
                "These runs have no record of turned-away applications (their folders have "
                "no rationing.parquet: they were written before runs recorded them), so the "
                "months below are estimates from the ledger: " + estimate_text,
                "note",
            )
        )
    elif unrecorded:
        sec.add(
            Paragraph(
                f"{unrecorded} of the {len(jobs)} runs with budget lines have no record of "
                "turned-away applications (their folders have no rationing.parquet: they "
                "were written before runs recorded them). For those runs the month is an "
                "estimate from the ledger: " + estimate_text,
                "note",
            )
        )
    if ran.empty:
        sec.add(
            Paragraph(
                f"No yearly budget ran out in any run ({len(out)} instrument-years with grants "
                "checked)."
                if not unrecorded
                else f"No yearly budget ran out in any run ({len(out)} instrument-years with "
                "grants checked; for runs without a record, by the estimate above)."
            )
        )
        return sec
    # One row per instrument-year that ran out: short cells, so the table fits the page
    # (a row per instrument with every year in one cell overflowed it).
    rows = []
    month_column = "ran out: median month (runs)"
    if none_recorded:
        month_column = "ran out (estimated): median month (runs)"
    for r in ran.itertuples():
        row = {
            "variant": r.variant,
            "instrument": r.instrument,
            "year": str(r.year),
            "yearly budget (RMB m)": fmt.millions(r.budget),
            "share of the budget granted (mean)": fmt.share(r.spent_share),
            month_column: f"{r.month} ({r.ran_out}/{r.n}"
            + (f", {r.estimated} estimated" if r.estimated and not none_recorded else "")
            + ")",
        }
        if data.rationing_jobs:
            row["turned away that year: applications"] = fmt.num(r.turned_away)
            row["turned away that year: RMB m"] = fmt.millions(r.turned_away_amount)
        rows.append(row)
    caption = (
        "Instrument-years listed here turned approved applications away for lack of budget"
        if not none_recorded
        else "Instrument-years listed here could, by the estimate, no longer pay an "
        "application as large as the largest they paid that year"
    )
    caption += "; an earlier month means a tighter budget, and (k/n) says in how many runs it "
    caption += "happened"
    if unrecorded and not none_recorded:
        caption += " ('m estimated': for m of the n runs the month is the estimate above)"
    if data.rationing_jobs:
        caption += (
            "; the last two columns give the applications turned away that year and their "
            "RMB, mean per run over the runs that recorded them"
        )
    sec.add(
        Table("Yearly budgets that ran out", variant_frame(rows), caption + "."),
        Paragraph(f"{len(out) - len(ran)} other instrument-years with grants never ran out."),
    )
    return sec

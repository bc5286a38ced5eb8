"""Assemble the report: sweep -> report tables -> figures -> a ``Document`` of seven sections.

Data flows one way: ``load.load_sweep`` reads the sweep, ``tables`` computes every number,
``figures`` draws from those tables, and this module puts numbers, figures and the words
that explain them into a ``document.Document`` that ``html`` and ``markdown`` render.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from clustersim.report import figures as figs
from clustersim.report import fmt
from clustersim.report import tables as tb
from clustersim.report.document import Bullets, Document, Figure, Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import CI_LEVEL, FEW_PAIRS, SPREAD_LEVEL
from clustersim.results.outcomes import PAYERS, TARGETS
from clustersim.results.outcomes import REGION_NAMES as REGIONS

#: What a verdict of ``stats.Estimate`` says in a table.
VERDICTS = {
    "higher": "higher: distinguishable from zero",
    "lower": "lower: distinguishable from zero",
    "indistinguishable": "cannot be told from zero",
    "zero": "zero in every seed",
    "single": "one seed: no interval",
    "none": "no paired seeds",
}
#: Below this |ρ| a parameter is not named as the one an outcome "moved most with".
WEAK_RHO = 0.1
#: Paying jurisdictions as a table column names them.
JURISDICTION_NAMES = {name: j.title for name, j in PAYERS.items()}


def _figure(key: str, fig: Any, title: str, caption: str) -> Figure:
    return Figure(key=key, title=title, caption=caption, png=figs.png(fig))


def _variant_frame(rows: list[dict[str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows).fillna(fmt.MISSING)


# --------------------------------------------------------------------------- overview


def overview(data: SweepData) -> tuple[list[tuple[str, str]], Section]:
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


# --------------------------------------------------------------------------- 1. headline


def headline_section(data: SweepData) -> tuple[Section, pd.DataFrame]:
    """Section 1: mean and 90% interval across seeds per variant; targets marked."""
    head = tb.headline_table(data.runs, data.variants, data.months)
    rows = []
    labels = {**tb.OUTCOMES, **tb.SPENDING}
    for outcome in labels:
        for month in data.months:
            d = head[(head["outcome"] == outcome) & (head["month"] == month)].set_index("variant")
            scale = 1e-6 if outcome.startswith("spending") else 1.0
            row = {"outcome": labels[outcome], "month": month}
            target = TARGETS.get(outcome)
            for v in data.variants:
                r = d.loc[v]
                cell = fmt.interval(r["mean"], r["low"], r["high"], scale)
                if target is not None and math.isfinite(r["mean"]):
                    cell += " ✓" if r["mean"] >= target else " ✗"
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
            "FinTech firms and about 50 innovative projects: ✓ marks a mean that reaches the "
            "target, ✗ one that falls short."
        ),
        Table(
            "Headline outcomes: mean [90% interval across seeds]",
            _variant_frame(rows),
            "Read across a row to compare variants at one month; brackets that overlap mean "
            "single runs of the two variants are often alike.",
        ),
    )
    return sec, head


# --------------------------------------------------------------------------- 2. trajectories


def trajectory_section(data: SweepData, colours: dict[str, str]) -> Section:
    """Section 2: trajectories 2020-2027 with bands, the plans' start dates marked."""
    traj = tb.trajectories(data.panel, data.variants)
    starts = tb.plan_starts(data.configs)
    sec = Section("trajectories", "2. Trajectories 2020–2027")
    band = (
        "no band: one seed per variant"
        if traj["low"].isna().all()
        else f"the band holds the middle {SPREAD_LEVEL:.0%} of seeds"
    )
    sec.add(
        _figure(
            "trajectories",
            figs.trajectories(traj, data.variants, colours, starts),
            "Trajectories of the main outcomes",
            "Look at where a variant's line leaves the baseline's band after its plan's start "
            f"line: before that the variants share their random history ({band}).",
        )
    )
    if starts:
        sec.add(
            Table(
                "Plan start dates (earliest instrument window in the runs' config)",
                pd.DataFrame({"plan": list(starts), "first month in force": list(starts.values())}),
                "The vertical lines in the figure are these months.",
            )
        )
    else:
        sec.add(Paragraph("No variant had a plan in force: no start dates to mark."))
    return sec


# --------------------------------------------------------------------------- 3. differences


def difference_section(data: SweepData, colours: dict[str, str]) -> tuple[Section, pd.DataFrame]:
    """Section 3: differences against the baseline paired by seed, bootstrap CIs."""
    sec = Section("differences", "3. Differences against the baseline")
    if data.baseline is None or len(data.variants) < 2:
        sec.add(Paragraph("The sweep has a single variant: there is nothing to compare it with."))
        return sec, pd.DataFrame()
    diffs = tb.differences(data.runs, data.variants, data.baseline, data.months)
    rows = []
    for _, r in diffs.iterrows():
        scale = 1e-6 if r["outcome"].startswith("spending") else 1.0
        label = tb.OUTCOMES.get(r["outcome"], "spending, all jurisdictions (RMB m)")
        rows.append(
            {
                "variant": r["variant"],
                "outcome": label,
                "month": r["month"],
                "pairs": str(r["n"]),
                f"difference [{CI_LEVEL:.0%} CI]": fmt.signed_interval(
                    r["diff"], r["low"], r["high"], scale
                ),
                "verdict": VERDICTS[r["verdict"]],
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
            _variant_frame(rows),
            "Look at the verdict column: only differences marked distinguishable are more "
            "than chance with these seeds.",
        ),
        _figure(
            "differences",
            figs.differences(diffs, data.variants, colours, data.baseline),
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
                    f"{r.variant} {tb.OUTCOMES.get(r.outcome, 'spending')} {r.month}"
                    for r in plain.head(8).itertuples()
                )
                + ("; ..." if len(plain) > 8 else "."),
                "note",
            )
        )
    return sec, diffs


# --------------------------------------------------------------------------- 4. additionality


def _estimate(mean: float, low: float, high: float) -> str:
    return fmt.signed_interval(mean, low, high)


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
        gross = tb.gross_vs_caused(data.runs, data.supported, shown, data.months)
        rows = []
        for _, r in gross.iterrows():
            rows.append(
                {
                    "variant": r["variant"],
                    "month": r["month"],
                    "measure": "firms" if r["measure"] == "firms" else "jobs",
                    "in the cluster": fmt.num(r["level"]),
                    "supported (gross)": fmt.num(r["supported"]),
                    f"caused [{CI_LEVEL:.0%} CI]": _estimate(
                        r["caused"], r["caused_low"], r["caused_high"]
                    ),
                    "verdict": VERDICTS[r["caused_verdict"]],
                    "caused / supported": fmt.share(r["additionality"]),
                }
            )
        sec.add(
            Table(
                "Gross (supported) versus caused firms and jobs",
                _variant_frame(rows),
                "The lower the caused / supported share, the more of the supported firms and "
                "jobs would have been there anyway.",
            ),
            _figure(
                "additionality",
                figs.additionality(gross, shown, colours),
                "Gross versus caused",
                "Compare the hatched bar (supported) with the solid one (caused): the gap is "
                "support that bought nothing extra.",
            ),
        )
        sec.add(*_cost_blocks(data))
        sec.add(*_relocation_blocks(data, colours, shown))
    sec.add(*_instrument_blocks(data, last))
    return sec


def _cost_cells(r: Any) -> dict[str, str]:
    """Formatted spending, caused jobs and firms with CIs, and RMB per caused unit."""
    return {
        "spending (RMB m)": fmt.millions(r["spending"]),
        "caused jobs [95% CI]": _estimate(
            r["caused_jobs"], r["caused_jobs_low"], r["caused_jobs_high"]
        ),
        "RMB per caused job": _per(r["per_job"], r["per_job_note"]),
        "caused firms [95% CI]": _estimate(
            r["caused_firms"], r["caused_firms_low"], r["caused_firms_high"]
        ),
        "RMB per caused firm": _per(r["per_firm"], r["per_firm_note"]),
    }


def _per(value: float, note: str) -> str:
    """RMB per caused unit, or why there is none; a caveat follows the number."""
    if not math.isfinite(value):
        return note
    return fmt.num(value) + (f" ({note})" if note else "")


def _cost_blocks(data: SweepData) -> list[Any]:
    per = tb.spending_per_caused(data.runs, data.variants, data.months)
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
                **_cost_cells(r),
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
            _variant_frame(rows),
            "Compare what each jurisdiction paid per job it gained; a low figure from an effect "
            "that cannot be told from zero is not shown.",
        ),
    ]


def _relocation_blocks(data: SweepData, colours: dict[str, str], shown: list[str]) -> list[Any]:
    last = data.months[-1]
    split = tb.relocated_vs_new(data.runs, data.relocations, shown, data.months)
    rows = []
    for _, r in split.iterrows():
        rows.append(
            {
                "variant": r["variant"],
                "month": r["month"],
                "area": r["area"],
                "caused jobs [95% CI]": _estimate(r["caused"], r["caused_low"], r["caused_high"]),
                "of which relocated in (net)": fmt.signed(r["relocated"]),
                "of which newly created": fmt.signed(r["new"]),
            }
        )
    flows = tb.relocation_flows(data.relocations, data.runs, data.variants, last)
    net = tb.net_relocation(data.relocations, data.runs, data.variants, last, True)
    flow_rows = []
    for v in data.variants:
        f = flows[flows["variant"] == v]
        for area in REGIONS:
            n = net[(net["variant"] == v) & (net["area"] == area)].iloc[0]
            to = {
                f"to {tb.AREA_NAMES[b]}": fmt.num(
                    float(f[(f["from_area"] == area) & (f["to_area"] == b)]["jobs"].sum())
                )
                if b != area
                else ""
                for b in REGIONS
            }
            flow_rows.append(
                {
                    "variant": v,
                    "from": tb.AREA_NAMES[area],
                    **to,
                    "net jobs in": fmt.signed(n["net"]),
                    "net caused by policy [95% CI]": _estimate(
                        n["caused_net"], n["caused_net_low"], n["caused_net_high"]
                    ),
                }
            )
    return [
        Paragraph(
            "Relocated versus newly created: caused jobs in an area either moved in from "
            "another area (the net inflow of jobs by relocation, with minus without the "
            "policy, counted at the time of the move) or are new (new firms, growth, fewer "
            "exits). Moves within Shanghai do not add jobs to the city, so for Shanghai as a "
            "whole every caused job is new to the city."
        ),
        Table(
            "Caused jobs: relocated from other areas versus newly created",
            _variant_frame(rows),
            "Where 'relocated' is a large share of an area's caused jobs, that area's gain is "
            "another area's loss.",
        ),
        Table(
            f"Relocation flows between areas, jobs per run, 2020 to {last}",
            _variant_frame(flow_rows),
            "Read a row as jobs that left the 'from' area for each other area; the last two "
            "columns are the net inflow and the part of it the policy caused.",
        ),
        _figure(
            "relocation",
            figs.relocation(net, data.variants, colours, last),
            "Net relocation between areas",
            "Bars above zero are areas that gained jobs from the others by relocation; compare "
            "each variant's bar with the baseline's.",
        ),
    ]


def _instrument_blocks(data: SweepData, month: str) -> list[Any]:
    spend = tb.spending_by_instrument(data.ledger, data.runs, data.variants, month)
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
    caused = tb.instrument_caused(
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
        rows = []
        for _, r in caused.iterrows():
            rows.append(
                {
                    "variant": r["variant"],
                    "instrument removed": r["instrument"],
                    "runs": str(r["n"]),
                    **_cost_cells(r),
                }
            )
        blocks.append(
            Table(
                f"Caused by single instruments at {month} "
                "(run minus the run without that instrument)",
                _variant_frame(rows),
                "Each row removes one instrument and keeps the rest of the variant's plans, so "
                "it measures what that instrument adds on top of the others.",
            )
        )
    return blocks


# --------------------------------------------------------------------------- 5. map


def map_section(data: SweepData, colours: dict[str, str]) -> Section:
    """Section 5: parks by coordinates sized by employment, per variant."""
    last = data.months[-1]
    parks = tb.park_sizes(data.panel, data.configs, data.variants, last)
    sec = Section("map", "5. Where the jobs are: parks on the map")
    if parks.empty or parks["lon"].isna().all():
        return sec.add(Paragraph("The runs' config gives no park coordinates: no map."))
    sec.add(
        _figure(
            "map",
            figs.park_map(parks, data.variants, colours, last),
            "Parks by location",
            "Compare the size of the same park across panels (names in the first panel) to see "
            "which parks each variant filled.",
        )
    )
    wide = parks.pivot_table(index="name", columns="variant", values="employment", aggfunc="sum")
    wide = wide.reindex(columns=[v for v in data.variants if v in wide.columns])
    frame = wide.map(fmt.num).reset_index().rename(columns={"name": "park"})
    district = parks.drop_duplicates("name").set_index("name")["district"]
    frame.insert(1, "district", frame["park"].map(district))
    sec.add(
        Table(
            f"Employment per park at {last} (people, mean across seeds)",
            frame,
            "The numbers behind the map.",
        )
    )
    return sec


# --------------------------------------------------------------------------- 6. spending


def spending_section(data: SweepData, colours: dict[str, str], months: list[str]) -> Section:
    """Section 6: spending over time by instrument, and when yearly budgets ran out."""
    sec = Section("spending", "6. Spending over time and budgets")
    over = tb.spending_over_time(data.ledger, data.runs, data.variants, months)
    if over.empty:
        return sec.add(Paragraph("No grant was paid in any run: no spending to show."))
    sec.add(
        _figure(
            "spending",
            figs.spending(over, data.variants, colours),
            "Spending by instrument",
            "Look at the slope: steps at each January are yearly budgets renewing, flat "
            "stretches before a January are budgets that ran out.",
        )
    )
    out = tb.budget_runout(
        data.ledger,
        data.runs,
        data.configs,
        data.variants,
        data.rationing,
        data.rationing_jobs,
    )
    ran = out[out["ran_out"] > 0]
    budgeted = [v for v in data.variants if tb.budgets(data.configs.get(v) or {})]
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
    rows = []
    month_column = "ran out: median month (runs)"
    if none_recorded:
        month_column = "ran out (estimated): median month (runs)"
    for (v, inst), grp in ran.groupby(["variant", "instrument"], sort=False):
        row = {
            "variant": v,
            "instrument": inst,
            "yearly budget (RMB m)": fmt.millions(grp["budget"].iloc[0]),
            "share of the budget granted, years it ran out (mean)": fmt.share(
                grp["spent_share"].mean()
            ),
            month_column: ", ".join(
                f"{r.month} ({r.ran_out}/{r.n}"
                + (f", {r.estimated} estimated" if r.estimated and not none_recorded else "")
                + ")"
                for r in grp.itertuples()
            ),
        }
        if data.rationing_jobs:
            row["turned away that year: applications (RMB m), mean per run"] = ", ".join(
                f"{r.year}: {fmt.num(r.turned_away)} ({fmt.millions(r.turned_away_amount)})"
                for r in grp.itertuples()
            )
        rows.append(row)
    caption = (
        "Instruments listed here turned approved applications away for lack of budget"
        if not none_recorded
        else "Instruments listed here could, by the estimate, no longer pay an application "
        "as large as the largest they paid that year"
    )
    caption += "; an earlier month means a tighter budget, and (k/n) says in how many runs it "
    caption += "happened"
    if unrecorded and not none_recorded:
        caption += " ('m estimated': for m of the n runs the month is the estimate above)"
    if data.rationing_jobs:
        caption += (
            "; the last column gives how many applications were turned away in each of "
            "those years and their RMB, mean over the runs that recorded them"
        )
    sec.add(
        Table("Yearly budgets that ran out", _variant_frame(rows), caption + "."),
        Paragraph(f"{len(out) - len(ran)} other instrument-years with grants never ran out."),
    )
    return sec


# --------------------------------------------------------------------------- 7. assumptions


def assumptions_section(data: SweepData) -> Section:
    """Section 7: behavioural parameters used, and which outcomes moved with which."""
    sec = Section("assumptions", "7. Assumptions")
    config = data.configs[data.variants[0]]
    params = tb.behaviour_parameters(config, data.runs, data.behaviour_varied)
    frame = pd.DataFrame(
        {
            "parameter": params["parameter"],
            "value used": [
                f"varied {fmt.num(r.low)} – {fmt.num(r.high)}" if r.varied else r.value
                for r in params.itertuples()
            ],
        }
    )
    sec.add(
        Paragraph(
            "The behavioural parameters of the runs (conf/behavior/default.yaml, each with its "
            "source or the reason for the assumption, plus the sweep's overrides). The results "
            "hold for these values; section 7's second table shows which ones matter where "
            "the sweep varied them."
        ),
        Table("Behavioural parameters", frame, "The values every run used, or the range swept."),
    )
    if not data.behaviour_varied:
        sec.add(
            Paragraph(
                "The sweep did not vary any behavioural parameter, so this report cannot say "
                "how sensitive the results are to them. A sensitivity sweep: clustersim-run -m "
                "+experiment=sensitivity.",
                "note",
            )
        )
        return sec
    last = data.months[-1]
    sens = tb.sensitivity(data.runs, data.variants, data.behaviour_varied, last)
    rows = []
    for (v, outcome), grp in sens.groupby(["variant", "outcome"], sort=False):
        ok = grp.dropna(subset=["rho"])
        label = tb.OUTCOMES.get(outcome, "caused employment")
        row = {"variant": v, "outcome": f"{label}, {last}"}
        if ok.empty:
            row["moved most with"] = "outcome did not vary"
        else:
            best = ok.loc[ok["rho"].abs().idxmax()]
            row["moved most with"] = (
                f"{best['parameter']} (ρ = {best['rho']:+.2f})"
                if abs(best["rho"]) >= WEAK_RHO
                else f"none: |ρ| < {WEAK_RHO} for every parameter"
            )
        for p in data.behaviour_varied:
            got = grp[grp["parameter"] == p]["rho"]
            row[p.removeprefix("behavior.")] = (
                f"{got.iloc[0]:+.2f}" if len(got) and math.isfinite(got.iloc[0]) else fmt.MISSING
            )
        rows.append(row)
    sec.add(
        Paragraph(
            "Sensitivity: Spearman's rank correlation ρ between each varied parameter and each "
            "outcome across the runs of a variant (all seeds and parameter values). ρ near +1: "
            "the outcome rises with the parameter in almost every run; near −1: it falls; near "
            f"0: no monotone relation (below {WEAK_RHO} no parameter is named). It measures "
            "association one parameter at a time (the others vary too), which suits the "
            "sweep's designs, where parameters vary independently."
        ),
        Table(
            "Which outcome moved most with which parameter (Spearman ρ)",
            _variant_frame(rows),
            "The 'moved most with' column names the parameter with the largest |ρ| per outcome.",
        ),
    )
    return sec


# --------------------------------------------------------------------------- all


def build_document(data: SweepData) -> Document:
    """The whole report for a loaded sweep."""
    colours = figs.variant_colours(data.variants)
    facts, intro = overview(data)
    months = sorted(data.panel["month"].unique())
    head, _ = headline_section(data)
    diff, _ = difference_section(data, colours)
    sections = [
        intro,
        head,
        trajectory_section(data, colours),
        diff,
        additionality_section(data, colours),
        map_section(data, colours),
        spending_section(data, colours, months),
        assumptions_section(data),
    ]
    title = f"Policy comparison: {Path(data.sweep_dir).name}"
    return Document(title=title, facts=facts, sections=sections)


__all__ = ["VERDICTS", "build_document", "headline_section"]

"""Moves between areas: flows, net gains and relocated vs new jobs (part of section 4)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from clustersim.report import fmt
from clustersim.report.common import estimate_row, estimate_text, outcome_column, variant_frame
from clustersim.report.document import Paragraph, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import bootstrap_mean_ci
from clustersim.report.style import figure
from clustersim.results.outcomes import REGION_LABELS as AREA_NAMES
from clustersim.results.outcomes import REGION_NAMES as REGIONS


def _net_by_run(relocations: pd.DataFrame, month: str) -> pd.DataFrame:
    """Jobs moved into and out of each area per job and scenario up to ``month``."""
    moves = relocations[
        (relocations["month"] <= month) & (relocations["from_area"] != relocations["to_area"])
    ]
    inflow = moves.groupby(["job", "scenario", "to_area"])["jobs"].sum()
    outflow = moves.groupby(["job", "scenario", "from_area"])["jobs"].sum()
    inflow.index = inflow.index.set_names("area", level=2)
    outflow.index = outflow.index.set_names("area", level=2)
    net = pd.DataFrame({"in": inflow, "out": outflow}).fillna(0.0)
    net["net"] = net["in"] - net["out"]
    return net.reset_index()


def relocation_flows(
    relocations: pd.DataFrame, runs: pd.DataFrame, variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Mean jobs and firms moved from one area to another per run, up to ``month``.

    Only moves between different areas; with-policy runs. Columns ``variant``,
    ``from_area``, ``to_area``, ``jobs``, ``firms`` (every pair of areas, zero if none).
    """
    moves = relocations[
        (relocations["scenario"] == "with")
        & (relocations["month"] <= month)
        & (relocations["from_area"] != relocations["to_area"])
    ].merge(runs[["job", "variant"]], on="job")
    total = moves.groupby(["variant", "from_area", "to_area"])[["jobs", "firms"]].sum()
    n_runs = runs.groupby("variant").size()
    rows = []
    for v in variants:
        for a in REGIONS:
            for b in REGIONS:
                if a == b:
                    continue
                key = (v, a, b)
                got = total.loc[key] if key in total.index else None
                rows.append(
                    {
                        "variant": v,
                        "from_area": a,
                        "to_area": b,
                        "jobs": float(got["jobs"]) / n_runs[v] if got is not None else 0.0,
                        "firms": float(got["firms"]) / n_runs[v] if got is not None else 0.0,
                    }
                )
    return pd.DataFrame(rows)


def net_relocation(
    relocations: pd.DataFrame,
    runs: pd.DataFrame,
    variants: Sequence[str],
    month: str,
    counterfactual: bool,
) -> pd.DataFrame:
    """Per variant and area: mean jobs moved in, out, net, and the net caused by the policy.

    ``caused_net`` is the mean over replicates of net(with) - net(without the policy), from
    each run's own counterfactual (NaN when ``counterfactual`` is False). Columns
    ``variant``, ``area``, ``in``, ``out``, ``net``, ``caused_net`` (+ CI columns).
    """
    net = _net_by_run(relocations, month)
    rows = []
    for v in variants:
        jobs = runs.loc[runs["variant"] == v, "job"].tolist()
        for area in REGIONS:

            def per_run(
                scenario: str, column: str, jobs: list[str] = jobs, area: str = area
            ) -> np.ndarray:
                sel = net[(net["scenario"] == scenario) & (net["area"] == area)]
                return sel.set_index("job")[column].reindex(jobs).fillna(0.0).to_numpy()

            with_net = per_run("with", "net")
            row: dict[str, Any] = {
                "variant": v,
                "area": area,
                "in": float(per_run("with", "in").mean()),
                "out": float(per_run("with", "out").mean()),
                "net": float(with_net.mean()),
            }
            if counterfactual:
                row.update(
                    estimate_row(
                        bootstrap_mean_ci(with_net, per_run("without", "net")), "caused_net"
                    )
                )
            else:
                row.update(
                    {
                        "caused_net": math.nan,
                        "caused_net_low": math.nan,
                        "caused_net_high": math.nan,
                        "caused_net_verdict": "none",
                    }
                )
            rows.append(row)
    return pd.DataFrame(rows)


def relocated_vs_new(
    runs: pd.DataFrame,
    relocations: pd.DataFrame,
    variants: Sequence[str],
    months: Sequence[str],
) -> pd.DataFrame:
    """Caused jobs per area split into relocated from other areas and newly created.

    ``caused`` = caused employment in the area (run minus counterfactual); ``relocated`` =
    the caused net inflow of jobs by relocation (jobs at the time of the move); ``new`` =
    caused - relocated (new firms, growth, fewer exits). The city as a whole gains nothing
    by moves within it, so for ``Shanghai`` every caused job is new to the city. Means over
    replicates; columns ``variant``, ``month``, ``area``, ``caused`` (+ CI columns),
    ``relocated``, ``new``.
    """
    rows = []
    for month in months:
        net = _net_by_run(relocations, month)
        for v in variants:
            sel = runs[runs["variant"] == v]
            jobs = sel["job"].tolist()
            for area in ("", *REGIONS):
                column = outcome_column(f"employment_{area}" if area else "employment", month, True)
                if column not in runs:
                    continue
                caused = sel[column].to_numpy(dtype=float)
                if area:
                    by = net[net["area"] == area].pivot_table(
                        index="job", columns="scenario", values="net", aggfunc="sum"
                    )
                    w = by["with"].reindex(jobs).fillna(0.0) if "with" in by else 0.0
                    wo = by["without"].reindex(jobs).fillna(0.0) if "without" in by else 0.0
                    moved = np.asarray(w - wo, dtype=float) * np.ones(len(jobs))
                else:
                    moved = np.zeros(len(jobs))
                e = bootstrap_mean_ci(caused)
                rows.append(
                    {
                        "variant": v,
                        "month": month,
                        "area": AREA_NAMES.get(area, "Shanghai"),
                        **estimate_row(e, "caused"),
                        "relocated": float(moved.mean()) if len(jobs) else math.nan,
                        "new": float((caused - moved).mean()) if len(jobs) else math.nan,
                    }
                )
    return pd.DataFrame(rows)


def relocation_figure(
    net: pd.DataFrame, variants: Sequence[str], colours: dict[str, str], month: str
) -> Figure:
    """Net jobs moved into each area by relocation, per variant."""
    fig = Figure(figsize=(9, 4.2), layout="constrained")
    ax = fig.subplots()
    width = 0.8 / max(1, len(variants))
    for i, v in enumerate(variants):
        d = net[net["variant"] == v].set_index("area")
        vals = [float(d.at[a, "net"]) if a in d.index else 0.0 for a in REGIONS]
        ax.bar(
            np.arange(len(REGIONS)) + (i - (len(variants) - 1) / 2) * width,
            vals,
            width,
            color=colours[v],
            label=v,
        )
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(range(len(REGIONS)), [AREA_NAMES[a] for a in REGIONS])
    ax.set_xlabel("area")
    ax.set_ylabel("net jobs moved in (people, mean per run)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8, title="variant")
    fig.suptitle(f"Net relocation of jobs between areas, 2020 to {month}")
    return fig


def relocation_blocks(data: SweepData, colours: dict[str, str], shown: list[str]) -> list[Any]:
    """Relocation flows, net moves and relocated-vs-new jobs, for section 4."""
    last = data.months[-1]
    split = relocated_vs_new(data.runs, data.relocations, shown, data.months)
    rows = []
    for _, r in split.iterrows():
        rows.append(
            {
                "variant": r["variant"],
                "month": r["month"],
                "area": r["area"],
                "caused jobs [95% CI]": estimate_text(
                    r["caused"], r["caused_low"], r["caused_high"]
                ),
                "of which relocated in (net)": fmt.signed(r["relocated"]),
                "of which newly created": fmt.signed(r["new"]),
            }
        )
    flows = relocation_flows(data.relocations, data.runs, data.variants, last)
    net = net_relocation(data.relocations, data.runs, data.variants, last, True)
    flow_rows = []
    for v in data.variants:
        f = flows[flows["variant"] == v]
        for area in REGIONS:
            n = net[(net["variant"] == v) & (net["area"] == area)].iloc[0]
            to = {
                f"to {AREA_NAMES[b]}": fmt.num(
                    float(f[(f["from_area"] == area) & (f["to_area"] == b)]["jobs"].sum())
                )
                if b != area
                else ""
                for b in REGIONS
            }
            flow_rows.append(
                {
                    "variant": v,
                    "from": AREA_NAMES[area],
                    **to,
                    "net jobs in": fmt.signed(n["net"]),
                    "net caused by policy [95% CI]": estimate_text(
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
            variant_frame(rows),
            "Where 'relocated' is a large share of an area's caused jobs, that area's gain is "
            "another area's loss.",
        ),
        Table(
            f"Relocation flows between areas, jobs per run, 2020 to {last}",
            variant_frame(flow_rows),
            "Read a row as jobs that left the 'from' area for each other area; the last two "
            "columns are the net inflow and the part of it the policy caused.",
        ),
        figure(
            "relocation",
            relocation_figure(net, data.variants, colours, last),
            "Net relocation between areas",
            "Bars above zero are areas that gained jobs from the others by relocation; compare "
            "each variant's bar with the baseline's.",
        ),
    ]

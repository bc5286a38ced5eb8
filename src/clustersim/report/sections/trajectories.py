"""Section 2, trajectories: mean paths with 90% bands, the plans' start dates marked."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import StrMethodFormatter

from clustersim.months import Month
from clustersim.report.common import TRAJECTORY_METRICS
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.stats import SPREAD_LEVEL
from clustersim.report.style import START_STYLES, TITLES, UNITS, decimal_years, figure, scale_of
from clustersim.results.outcomes import TARGETS


def trajectory_table(
    panel: pd.DataFrame, variants: Sequence[str], metrics: Sequence[str] = TRAJECTORY_METRICS
) -> pd.DataFrame:
    """Per variant, metric and month: mean and 90% interval across replicates.

    Columns ``variant``, ``metric``, ``month``, ``mean``, ``low``, ``high``, ``n``.
    """
    present = [m for m in metrics if m in panel]
    grouped = panel.groupby(["variant", "month"], sort=True)[present]
    mean = grouped.mean()
    low = grouped.quantile(0.05)
    high = grouped.quantile(0.95)
    n = grouped.size()
    frames = []
    for metric in present:
        f = pd.DataFrame(
            {
                "mean": mean[metric],
                "low": low[metric],
                "high": high[metric],
                "n": n,
            }
        ).reset_index()
        f.loc[f["n"] < 2, ["low", "high"]] = math.nan
        f.insert(1, "metric", metric)
        frames.append(f)
    out = pd.concat(frames, ignore_index=True)
    out = out[out["variant"].isin(variants)]
    order = {v: i for i, v in enumerate(variants)}
    out = out.assign(_o=out["variant"].map(order)).sort_values(["_o", "metric", "month"])
    return out.drop(columns="_o").reset_index(drop=True)


def plan_starts(configs: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Earliest ``window.start`` of each regime's instruments across the variants' configs."""
    starts: dict[str, str] = {}
    for cfg in configs.values():
        for regime, block in (cfg.get("policy") or {}).items():
            if not isinstance(block, dict):
                continue
            for inst in block.values():
                if isinstance(inst, dict) and isinstance(inst.get("window"), dict):
                    start = inst["window"].get("start")
                    if start is not None:
                        text = str(Month.parse(str(start)))
                        starts[regime] = min(starts.get(regime, text), text)
    return dict(sorted(starts.items(), key=lambda kv: (kv[1], kv[0])))


def period(traj: pd.DataFrame) -> str:
    """The years the trajectories span, e.g. "2020–2027" ("2025" for a single year).

    Read from the runs' own months, so a world that starts in 2025 or ends in 2030 is
    titled as it ran.
    """
    if traj.empty:
        return "(no months)"
    years = sorted({str(m)[:4] for m in traj["month"]})
    return years[0] if len(years) == 1 else f"{years[0]}–{years[-1]}"


def trajectory_figure(
    traj: pd.DataFrame,
    variants: Sequence[str],
    colours: dict[str, str],
    starts: dict[str, str],
) -> Figure:
    """Mean path and 90% band across seeds of each main outcome, one colour per variant."""
    metrics = [m for m in UNITS if m in set(traj["metric"])]
    ncols = 3
    nrows = max(1, math.ceil(len(metrics) / ncols))
    fig = Figure(figsize=(12, 3.4 * nrows + 1.2), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        k = scale_of(metric)
        for v in variants:
            d = traj[(traj["variant"] == v) & (traj["metric"] == metric)]
            if d.empty:
                continue
            x = decimal_years(d["month"])
            ax.plot(x, d["mean"] * k, color=colours[v], lw=1.6)
            if d["low"].notna().any():
                ax.fill_between(x, d["low"] * k, d["high"] * k, color=colours[v], alpha=0.18, lw=0)
        for i, (_regime, start) in enumerate(starts.items()):
            ax.axvline(decimal_years([start])[0], color="0.25", lw=0.9, ls=START_STYLES[i % 4])
        if metric in TARGETS:
            ax.axhline(TARGETS[metric], color="black", lw=1.4, ls="-", alpha=0.6)
        ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
        ax.set_title(TITLES[metric], fontsize=10)
        ax.set_xlabel("year")
        ax.set_ylabel(UNITS[metric])
        ax.grid(alpha=0.3)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    handles = [Line2D([], [], color=colours[v], lw=2, label=v) for v in variants]
    handles += [
        Line2D([], [], color="0.25", lw=0.9, ls=START_STYLES[i % 4], label=f"{r} starts {s}")
        for i, (r, s) in enumerate(starts.items())
    ]
    handles.append(
        Line2D([], [], color="black", lw=1.4, alpha=0.6, label="municipal target (about)")
    )
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 4), fontsize=9)
    fig.suptitle(f"Trajectories {period(traj)}: mean across seeds with 90% band", fontsize=12)
    return fig


def trajectory_section(data: SweepData, colours: dict[str, str]) -> Section:
    """Section 2: trajectories over the runs' months with bands, the plans' starts marked."""
    traj = trajectory_table(data.panel, data.variants)
    starts = plan_starts(data.configs)
    sec = Section("trajectories", f"2. Trajectories {period(traj)}")
    band = (
        "no band: one seed per variant"
        if traj["low"].isna().all()
        else f"the band holds the middle {SPREAD_LEVEL:.0%} of seeds"
    )
    sec.add(
        figure(
            "trajectories",
            trajectory_figure(traj, data.variants, colours, starts),
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

"""The report's figures, drawn from the report tables (``clustersim.report.tables``).

Figures are ``matplotlib.figure.Figure`` objects drawn on the Agg canvas without pyplot,
so no global state or display is touched. Every figure has a title, axis labels with
units and a legend; each variant keeps one colour (``variant_colours``) in all of them.
``png`` turns a figure into PNG bytes for embedding.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import StrMethodFormatter

from clustersim.outputs import MUNICIPAL_TARGETS, REGIONS
from clustersim.report.tables import AREA_NAMES, OUTCOMES

#: Fixed colours of the five policy regimes (colour-blind-safe Tableau hues).
POLICY_COLOURS = {
    "none": "#7f7f7f",
    "shanghai_2020": "#1f77b4",
    "pudong_2027": "#d62728",
    "huangpu_2024": "#2ca02c",
    "all_three": "#9467bd",
}
#: Colours for other variants, handed out in variant order.
EXTRA_COLOURS = (
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#843c39",
    "#637939",
    "#7b4173",
    "#3182bd",
)
#: Units of the plotted metrics, for axis labels.
UNITS = {
    "firms": "firms",
    "employment": "people",
    "talent": "people",
    "leading_firms": "firms",
    "leading_application_institutions": "institutions",
    "innovative_projects": "projects",
    "spending_cumulative": "RMB million",
}
TITLES = {**OUTCOMES, "spending_cumulative": "spending since 2020, all jurisdictions"}
#: Line styles of the plans' start dates.
START_STYLES = ((0, (5, 2)), (0, (6, 2, 1, 2)), (0, (2, 1.5)), (0, (8, 2, 1, 2, 1, 2)))
DPI = 100
#: Instrument colours (ColorBrewer Set2 and Dark2): muted, unlike the variants' hues.
INSTRUMENT_COLOURS = (
    "#66c2a5",
    "#fc8d62",
    "#8da0cb",
    "#e78ac3",
    "#a6d854",
    "#ffd92f",
    "#e5c494",
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
)


def variant_colours(variants: Sequence[str]) -> dict[str, str]:
    """One colour per variant: the policy's fixed colour, else the next unused extra one."""
    out: dict[str, str] = {}
    extra = iter(EXTRA_COLOURS * (1 + len(variants) // len(EXTRA_COLOURS)))
    for v in variants:
        out[v] = POLICY_COLOURS[v] if v in POLICY_COLOURS else next(extra)
    return out


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no timestamp metadata)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def _year(months: pd.Series | Sequence[str]) -> np.ndarray:
    """``YYYY-MM`` as decimal years (2025-07 -> 2025.5)."""
    s = pd.Series(list(months), dtype=str)
    return (s.str[:4].astype(int) + (s.str[5:7].astype(int) - 1) / 12).to_numpy()


def _scale(metric: str) -> float:
    return 1e-6 if metric.startswith("spending") else 1.0


def trajectories(
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
        k = _scale(metric)
        for v in variants:
            d = traj[(traj["variant"] == v) & (traj["metric"] == metric)]
            if d.empty:
                continue
            x = _year(d["month"])
            ax.plot(x, d["mean"] * k, color=colours[v], lw=1.6)
            if d["low"].notna().any():
                ax.fill_between(x, d["low"] * k, d["high"] * k, color=colours[v], alpha=0.18, lw=0)
        for i, (_regime, start) in enumerate(starts.items()):
            ax.axvline(_year([start])[0], color="0.25", lw=0.9, ls=START_STYLES[i % 4])
        if metric in MUNICIPAL_TARGETS:
            ax.axhline(MUNICIPAL_TARGETS[metric], color="black", lw=1.4, ls="-", alpha=0.6)
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
    fig.suptitle("Trajectories 2020–2027: mean across seeds with 90% band", fontsize=12)
    return fig


def differences(
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
        k = _scale(outcome)
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


def additionality(gross: pd.DataFrame, variants: Sequence[str], colours: dict[str, str]) -> Figure:
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


def relocation(
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


def park_map(
    parks: pd.DataFrame, variants: Sequence[str], colours: dict[str, str], month: str
) -> Figure:
    """Parks at their coordinates, sized by mean employment, one panel per variant."""
    shown = [v for v in variants if v in set(parks["variant"])]
    ncols = min(3, max(1, len(shown)))
    nrows = math.ceil(len(shown) / ncols)
    pad_lon = max(0.02, 0.1 * float(np.ptp(parks["lon"])))
    pad_lat = max(0.02, 0.1 * float(np.ptp(parks["lat"])))
    squash = 1 / math.cos(math.radians(float(parks["lat"].mean())))
    span_lon = float(np.ptp(parks["lon"])) + 2 * pad_lon
    span_lat = float(np.ptp(parks["lat"])) + 2 * pad_lat
    panel_h = min(5.0, max(1.8, 3.6 * span_lat * squash / span_lon)) + 1.0
    fig = Figure(figsize=(4.4 * ncols, panel_h * nrows + 1.3), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False).ravel()
    top = float(np.nanmax(parks["employment"])) if parks["employment"].notna().any() else 1.0
    top = max(top, 1.0)

    def size(e: np.ndarray) -> np.ndarray:
        return 20 + 900 * np.nan_to_num(e) / top

    for ax, v in zip(axes, shown, strict=False):
        d = parks[parks["variant"] == v]
        ax.scatter(
            d["lon"],
            d["lat"],
            s=size(d["employment"].to_numpy()),
            color=colours[v],
            alpha=0.6,
            edgecolor="black",
            lw=0.5,
        )
        for _, r in d.iterrows() if ax is axes[0] else ():  # names once, in the first panel
            ax.annotate(
                r["name"],
                (r["lon"], r["lat"]),
                fontsize=6,
                xytext=(3, 3),
                textcoords="offset points",
            )
        # every panel spans all parks (same frame across variants); the aspect keeps
        # distances true (a degree of longitude is shorter than one of latitude here)
        ax.update_datalim(
            [
                (parks["lon"].min() - pad_lon, parks["lat"].min() - pad_lat),
                (parks["lon"].max() + pad_lon, parks["lat"].max() + pad_lat),
            ]
        )
        ax.margins(0)
        ax.autoscale_view()
        ax.set_aspect(squash, adjustable="datalim")
        ax.set_title(v, color=colours[v], fontsize=10)
        ax.set_xlabel("longitude (°E)")
        ax.set_ylabel("latitude (°N)")
        ax.grid(alpha=0.3)
    for ax in axes[len(shown) :]:
        ax.set_visible(False)
    refs = sorted({float(f"{top:.1g}"), float(f"{top / 4:.1g}")})
    handles = [
        Line2D(
            [],
            [],
            ls="",
            marker="o",
            markersize=math.sqrt(size(np.array([r]))[0]),
            markerfacecolor="0.8",
            markeredgecolor="black",
            label=f"{r:,.0f} jobs",
        )
        for r in refs
    ]
    handles += [Patch(color=colours[v], alpha=0.6, label=v) for v in shown]
    fig.legend(
        handles=handles,
        loc="outside lower center",
        ncols=len(handles),
        fontsize=8,
        borderpad=1,
        columnspacing=2.5,
        handletextpad=1.5,
    )
    fig.suptitle(f"Parks by location, sized by employment (mean across seeds), {month}")
    return fig


def spending(
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
        ax.stackplot(_year(wide.index), *series, colors=[inst_colours[c] for c in labels])
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


__all__ = [
    "POLICY_COLOURS",
    "additionality",
    "differences",
    "park_map",
    "png",
    "relocation",
    "spending",
    "trajectories",
    "variant_colours",
]

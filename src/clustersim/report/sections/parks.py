"""Section 5, the parks on a map: firms and jobs per park by variant."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from clustersim.report import fmt
from clustersim.report.document import Paragraph, Section, Table
from clustersim.report.load import SweepData
from clustersim.report.style import figure


def park_sizes(
    panel: pd.DataFrame, configs: dict[str, dict[str, Any]], variants: Sequence[str], month: str
) -> pd.DataFrame:
    """Per variant and park: coordinates and mean firms and employment at ``month``.

    Columns ``variant``, ``park``, ``name``, ``district``, ``lon``, ``lat``, ``firms``,
    ``employment``.
    """
    at = panel[panel["month"] == month]
    rows = []
    for v in variants:
        sel = at[at["variant"] == v]
        parks = ((configs.get(v) or {}).get("world") or {}).get("parks") or {}
        for park, p in parks.items():
            f_col, e_col = f"firms_park_{park}", f"employment_park_{park}"
            rows.append(
                {
                    "variant": v,
                    "park": park,
                    "name": str(p.get("name", park)),
                    "district": str(p.get("district", "")),
                    "lon": float(p.get("lon", math.nan)),
                    "lat": float(p.get("lat", math.nan)),
                    "firms": float(sel[f_col].mean()) if f_col in sel and len(sel) else math.nan,
                    "employment": float(sel[e_col].mean())
                    if e_col in sel and len(sel)
                    else math.nan,
                }
            )
    return pd.DataFrame(rows)


def park_map_figure(
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


def map_section(data: SweepData, colours: dict[str, str]) -> Section:
    """Section 5: parks by coordinates sized by employment, per variant."""
    last = data.months[-1]
    parks = park_sizes(data.panel, data.configs, data.variants, last)
    sec = Section("map", "5. Where the jobs are: parks on the map")
    if parks.empty or parks["lon"].isna().all():
        return sec.add(Paragraph("The runs' config gives no park coordinates: no map."))
    sec.add(
        figure(
            "map",
            park_map_figure(parks, data.variants, colours, last),
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

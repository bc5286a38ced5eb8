"""The app's charts as plain functions: a model in, an Altair chart out.

Each function reads the model's tables (the monthly outcomes, the agent tables, the grant
ledger) and draws one view; the Solara components (``clustersim.app.components``) only
place them on the page. Keeping them apart lets a test check a chart's data without a
browser, and a notebook draw one chart on its own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import altair as alt
import numpy as np
import pandas as pd

from clustersim.outputs import MUNICIPAL_TARGETS
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.app.live import LiveModel
    from clustersim.model import ClusterModel

alt.data_transformers.disable_max_rows()

#: Above this many operating firms the map draws one dot per park and kind, not per firm.
MAX_FIRM_DOTS = 1000
#: Colours of the firm kinds, in the order of ``FIRM_KINDS``.
KIND_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e")
WIDTH, HEIGHT = 400, 170


def as_svg(chart: alt.TopLevelMixin, legend_below: bool = False) -> alt.TopLevelMixin:
    """Ask vega-embed to draw the chart as SVG: marks a browser test can find and click."""
    chart = chart.properties(usermeta={"embedOptions": {"renderer": "svg", "actions": False}})
    return chart.configure_legend(orient="bottom", columns=4) if legend_below else chart


def _with_and_without(model: LiveModel, columns: list[str], names: list[str]) -> pd.DataFrame:
    """Long table (month, series, value, run) of ``columns``, with the counterfactual's."""
    frames = [(model.monthly(), "with the plan")]
    if model.counterfactual is not None:
        frames.append((model.counterfactual.monthly(), "without"))
    out = []
    for frame, run in frames:
        if frame.empty:
            continue
        part = frame[["month", *columns]].rename(columns=dict(zip(columns, names, strict=True)))
        part = part.melt(id_vars="month", var_name="series", value_name="value")
        part["run"] = run
        out.append(part)
    if not out:
        return pd.DataFrame({"month": [], "series": [], "value": [], "run": []})
    long = pd.concat(out, ignore_index=True)
    long["month"] = pd.to_datetime(long["month"], format="%Y-%m")
    return long


def placeholder(title: str, text: str, width: int = WIDTH) -> alt.Chart:
    """A chart with a message instead of marks (Vega draws empty data with broken axes)."""
    return (
        alt.Chart(pd.DataFrame({"text": [text]}), title=title)
        .mark_text(color="gray")
        .encode(text="text:N")
        .properties(width=width, height=HEIGHT)
    )


def _lines(data: pd.DataFrame, title: str, y_title: str) -> alt.Chart:
    """Lines by series; the counterfactual run dashed."""
    if data.empty:
        return placeholder(title, "no month simulated yet")
    return (
        alt.Chart(data, title=title)
        .mark_line()
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash(
                "run:N",
                title=None,
                scale=alt.Scale(domain=["with the plan", "without"], range=[[1, 0], [4, 3]]),
            ),
            tooltip=["month:T", "series:N", "run:N", alt.Tooltip("value:Q", format=",.0f")],
        )
        .properties(width=WIDTH, height=HEIGHT)
    )


def district_chart(model: LiveModel) -> alt.HConcatChart:
    """Firms and employment by district, month by month."""
    districts = list(model.parks.districts)
    firms = _with_and_without(model, [f"firms_{d}" for d in districts], districts)
    jobs = _with_and_without(model, [f"employment_{d}" for d in districts], districts)
    half = WIDTH // 2 + 10
    return alt.hconcat(
        _lines(firms, "Firms by district", "firms").properties(width=half),
        _lines(jobs, "Employment by district", "people").properties(width=half),
    )


def talent_chart(model: LiveModel) -> alt.Chart:
    """Talent in Shanghai by tier, month by month."""
    data = _with_and_without(model, [f"talent_{t}" for t in TALENT_TIERS], list(TALENT_TIERS))
    return _lines(data, "Talent in Shanghai by tier", "people")


def targets_chart(model: LiveModel) -> alt.LayerChart:
    """Leading firms and innovative projects against the municipal plan's targets."""
    names = list(MUNICIPAL_TARGETS)
    data = _with_and_without(model, names, [n.replace("_", " ") for n in names])
    goals = pd.DataFrame(
        {"series": [n.replace("_", " ") for n in names], "target": list(MUNICIPAL_TARGETS.values())}
    )
    rules = (
        alt.Chart(goals)
        .mark_rule(strokeDash=[2, 2])
        .encode(y="target:Q", color=alt.Color("series:N", title=None), tooltip=["series", "target"])
    )
    title = "Leading firms and innovative projects vs the municipal targets (dotted)"
    if data.empty:
        return placeholder(title, "no month simulated yet")
    return alt.layer(_lines(data, title, "count"), rules)


def spending_chart(model: LiveModel) -> alt.HConcatChart:
    """Spending so far: by jurisdiction month by month, and by instrument."""
    monthly = model.monthly()
    cols = [f"spending_{j}_cumulative" for j in JURISDICTIONS]
    if monthly.empty:
        by_month = pd.DataFrame({"month": [], "jurisdiction": [], "RMB m": []})
    else:
        by_month = monthly[["month", *cols]].rename(
            columns=dict(zip(cols, JURISDICTIONS, strict=True))
        )
        by_month = by_month.melt(id_vars="month", var_name="jurisdiction", value_name="RMB m")
        by_month["RMB m"] = by_month["RMB m"] / 1e6
        by_month["month"] = pd.to_datetime(by_month["month"], format="%Y-%m")
    title = "Spending so far by jurisdiction (RMB m)"
    if by_month.empty:
        lines = placeholder(title, "no month simulated yet", WIDTH // 2)
    else:
        lines = (
            alt.Chart(by_month, title=title)
            .mark_line()
            .encode(
                x=alt.X("month:T", title=None),
                y=alt.Y("RMB m:Q"),
                color=alt.Color("jurisdiction:N", scale=alt.Scale(domain=list(JURISDICTIONS))),
                tooltip=["month:T", "jurisdiction:N", alt.Tooltip("RMB m:Q", format=",.1f")],
            )
            .properties(width=WIDTH // 2, height=HEIGHT)
        )
    spent = model.spending_by_instrument()
    spent = spent.assign(**{"RMB m": spent["amount"].astype(float) / 1e6})
    if spent.empty:
        bars = placeholder("By instrument (RMB m)", "nothing granted yet", WIDTH // 2 - 40)
    else:
        bars = (
            alt.Chart(spent, title="By instrument (RMB m)")
            .mark_bar()
            .encode(
                y=alt.Y("instrument:N", sort="-x", title=None),
                x=alt.X("RMB m:Q"),
                color=alt.Color(
                    "issuer:N", scale=alt.Scale(domain=list(JURISDICTIONS)), title=None
                ),
                tooltip=["issuer:N", "instrument:N", alt.Tooltip("RMB m:Q", format=",.2f")],
            )
            .properties(width=WIDTH // 2 - 40, height=HEIGHT)
        )
    return alt.hconcat(lines, bars)


# ----------------------------------------------------------------------- the map


def park_table(model: ClusterModel) -> pd.DataFrame:
    """One row per park now: id, name, district, position, firms, employees, occupancy."""
    parks = model.parks
    f = model.firms
    live = f.live()
    firms = np.bincount(f.park[live], minlength=len(parks))
    employees = model.park_employees()
    return pd.DataFrame(
        {
            "park_id": list(parks.ids),
            "name": list(parks.names),
            "district": [parks.districts[d] for d in parks.district],
            "lon": parks.lon,
            "lat": parks.lat,
            "firms": firms,
            "employees": np.round(employees),
            "capacity": parks.capacity,
            "occupancy": np.round(employees / parks.capacity, 3),
            "rent": np.round(parks.rent, 2),
        }
    )


def firm_dots(model: ClusterModel, parks: pd.DataFrame) -> pd.DataFrame:
    """Where to draw firms around their park: one dot per firm, or per park and kind.

    Dots of a park lie on a sunflower spiral around it, in firm-id order, so a firm keeps
    its place from month to month. Above ``MAX_FIRM_DOTS`` firms, one dot per park and
    kind stands for all of them (its size is their number).
    """
    f = model.firms
    live = f.live()
    spread = 0.005 + 0.007 * (parks["firms"].to_numpy() / max(parks["firms"].max(), 1)) ** 0.5
    if len(live) > MAX_FIRM_DOTS:
        park, kind = np.divmod(np.arange(len(parks) * len(FIRM_KINDS)), len(FIRM_KINDS))
        counts = np.zeros((len(parks), len(FIRM_KINDS)), dtype=np.int64)
        np.add.at(counts, (f.park[live], f.kind[live]), 1)
        angle = kind * (np.pi / 2) + np.pi / 4
        out = pd.DataFrame(
            {
                "lon": parks["lon"].to_numpy()[park] + spread[park] * np.cos(angle),
                "lat": parks["lat"].to_numpy()[park] + spread[park] * np.sin(angle) * 0.85,
                "kind": [FIRM_KINDS[k] for k in kind],
                "firms": counts[park, kind],
                "park_id": parks["park_id"].to_numpy()[park],
            }
        )
        return out[out["firms"] > 0].reset_index(drop=True)
    park = f.park[live]
    order = np.lexsort((live, park))
    live, park = live[order], park[order]
    rank = np.arange(len(live)) - np.searchsorted(park, park)  # position within its park
    n_here = np.bincount(park, minlength=len(parks))[park]
    radius = spread[park] * np.sqrt((rank + 0.5) / np.maximum(n_here, 1))
    angle = rank * 2.399963  # the golden angle
    return pd.DataFrame(
        {
            "lon": parks["lon"].to_numpy()[park] + radius * np.cos(angle),
            "lat": parks["lat"].to_numpy()[park] + radius * np.sin(angle) * 0.85,
            "kind": [FIRM_KINDS[k] for k in f.kind[live]],
            "firm_id": live,
            "employees": f.staff[live] * model.talent_weight,
            "park_id": parks["park_id"].to_numpy()[park],
        }
    )


def map_chart(model: ClusterModel, selected: str | None = None) -> alt.LayerChart:
    """Parks at their coordinates, coloured by occupancy, with their firms around them."""
    parks = park_table(model)
    parks["selected"] = parks["park_id"] == selected
    dots = firm_dots(model, parks)
    projection = {"type": "mercator"}
    park_layer = (
        alt.Chart(parks)
        .mark_circle(stroke="black", opacity=0.6)
        .encode(
            longitude="lon:Q",
            latitude="lat:Q",
            size=alt.Size("capacity:Q", scale=alt.Scale(range=[900, 5000]), legend=None),
            color=alt.Color(
                "occupancy:Q",
                scale=alt.Scale(scheme="yelloworangered", domain=[0, 1]),
                title="occupancy",
            ),
            strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0.5)),
            tooltip=["name", "district", "firms", "employees", "capacity", "occupancy", "rent"],
        )
    )
    labels = (
        alt.Chart(parks)
        .mark_text(dy=-30, fontSize=10)
        .encode(longitude="lon:Q", latitude="lat:Q", text="name:N")
    )
    kind_colour = alt.Color(
        "kind:N",
        scale=alt.Scale(domain=list(FIRM_KINDS), range=list(KIND_COLOURS)),
        title="firm kind",
    )
    if "firm_id" in dots:
        firm_layer = (
            alt.Chart(dots)
            .mark_circle(opacity=0.8)
            .encode(
                longitude="lon:Q",
                latitude="lat:Q",
                color=kind_colour,
                size=alt.Size("employees:Q", scale=alt.Scale(range=[6, 70]), legend=None),
                tooltip=["firm_id", "kind", "employees", "park_id"],
            )
        )
    else:
        firm_layer = (
            alt.Chart(dots)
            .mark_circle(opacity=0.8)
            .encode(
                longitude="lon:Q",
                latitude="lat:Q",
                color=kind_colour,
                size=alt.Size("firms:Q", scale=alt.Scale(range=[10, 300]), title="firms"),
                tooltip=["park_id", "kind", "firms"],
            )
        )
    return (
        alt.layer(park_layer, firm_layer, labels)
        .resolve_scale(size="independent", color="independent")
        .project(**projection)
        .properties(width=WIDTH - 40, height=HEIGHT + 20)
    )


def outside_flows(model: ClusterModel) -> dict[str, float]:
    """This month's flows across the city's edge: candidates, entries, exits, arrivals."""
    t = model.month_index - 1
    if t < 0:
        return {"candidates": 0, "came": 0, "stayed away": 0, "closed": 0, "arrived": 0, "left": 0}
    last = model.monthly().iloc[-1]
    candidates = int(model.firm_slot_start[t + 1] - model.firm_slot_start[t])
    came = int(last["entries"])
    return {
        "candidates": candidates,
        "came": came,
        "stayed away": candidates - came,
        "closed": int(last["exits"]),
        "arrived": float(last["arrivals"]),
        "left": float(last["departures"]),
    }

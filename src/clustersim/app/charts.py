"""The app's charts: a model in, a Vega-Lite spec out.

Each view's chart structure is built once with Altair (a template whose data sources are
named) and every month only its data are filled in: building and validating an Altair
chart costs tens of milliseconds per chart, filling a template a fraction of one, and the
app redraws seven charts a month. The functions here read the model's tables (monthly
outcomes, agent tables, grant ledger); the Solara components only place the specs on the
page, so a test can check a chart's data without a browser.
"""

from __future__ import annotations

import copy
import functools
from typing import TYPE_CHECKING, Any

import altair as alt
import numpy as np
import pandas as pd

from clustersim.results.outcomes import TARGETS as MUNICIPAL_TARGETS
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.app.live import LiveModel
    from clustersim.model import ClusterModel

#: Above this many operating firms the map draws one dot per park and kind, not per firm.
MAX_FIRM_DOTS = 1000
#: Colours of the firm kinds, in the order of ``FIRM_KINDS``.
KIND_COLOURS = ("#d62728", "#1f77b4", "#2ca02c", "#ff7f0e")
WIDTH, HEIGHT = 400, 170
RUNS = ("with the plan", "without")
NOT_YET = "no month simulated yet"

Spec = dict[str, Any]


def _template(chart: alt.TopLevelMixin, legend_below: bool = True) -> Spec:
    """A chart's spec with named data sources, drawn as SVG (marks a test can click)."""
    chart = chart.properties(usermeta={"embedOptions": {"renderer": "svg", "actions": False}})
    if legend_below:
        chart = chart.configure_legend(orient="bottom", columns=4)
    return chart.to_dict(validate=False)


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return frame.to_dict("records")


def filled(template: Spec, **data: pd.DataFrame) -> Spec:
    """The template with its named data sources filled with these tables."""
    spec = copy.copy(template)
    spec["datasets"] = {**template.get("datasets", {}), **{k: _records(v) for k, v in data.items()}}
    return spec


def rows(spec: Spec, name: str | None = None) -> list[dict[str, Any]]:
    """The data rows of a spec (of one named source, or of all)."""
    sets = spec.get("datasets", {})
    if name is not None:
        return list(sets.get(name, []))
    return [r for rs in sets.values() for r in rs]


def _placeholder(title: str, width: int = WIDTH, text: str = NOT_YET) -> alt.Chart:
    """A message instead of marks (Vega draws empty data with broken axes)."""
    return (
        alt.Chart(pd.DataFrame({"text": [text]}), title=title)
        .mark_text(color="gray")
        .encode(text=alt.Text("text:N"))
        .properties(width=width, height=HEIGHT)
    )


def _line_layer(source: str, title: str, y_title: str, width: int) -> alt.Chart:
    """Lines by series from named data (month, series, value, run); 'without' dashed."""
    return (
        alt.Chart(alt.NamedData(source), title=title)
        .mark_line()
        .encode(
            x=alt.X("month:T", title=None),
            y=alt.Y("value:Q", title=y_title),
            color=alt.Color("series:N", title=None),
            strokeDash=alt.StrokeDash(
                "run:N", title=None, scale=alt.Scale(domain=list(RUNS), range=[[1, 0], [4, 3]])
            ),
            tooltip=[
                alt.Tooltip("month:T"),
                alt.Tooltip("series:N"),
                alt.Tooltip("run:N"),
                alt.Tooltip("value:Q", format=",.0f"),
            ],
        )
        .properties(width=width, height=HEIGHT)
    )


def _with_and_without(model: LiveModel, columns: list[str], names: list[str]) -> pd.DataFrame:
    """Long table (month, series, value, run) of ``columns``, with the counterfactual's."""
    frames = [(model.monthly(), RUNS[0])]
    without = model.counterfactual_monthly()
    if without is not None:
        frames.append((without, RUNS[1]))
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
    long["month"] = long["month"].astype(str) + "-01"
    return long


@functools.cache
def _lines_template(title: str, y_title: str, empty: bool) -> Spec:
    if empty:
        return _template(_placeholder(title))
    return _template(_line_layer("lines", title, y_title, WIDTH))


@functools.cache
def _district_template(empty: bool) -> Spec:
    half = WIDTH // 2 + 10
    if empty:
        return _template(alt.hconcat(_placeholder("Firms by district", half)))
    return _template(
        alt.hconcat(
            _line_layer("firms", "Firms by district", "firms", half),
            _line_layer("jobs", "Employment by district", "people", half),
        )
    )


def district_chart(model: LiveModel) -> Spec:
    """Firms and employment by district, month by month."""
    districts = list(model.parks.districts)
    firms = _with_and_without(model, [f"firms_{d}" for d in districts], districts)
    jobs = _with_and_without(model, [f"employment_{d}" for d in districts], districts)
    if firms.empty:
        return _district_template(True)
    return filled(_district_template(False), firms=firms, jobs=jobs)


def talent_chart(model: LiveModel) -> Spec:
    """Talent in Shanghai by tier, month by month."""
    data = _with_and_without(model, [f"talent_{t}" for t in TALENT_TIERS], list(TALENT_TIERS))
    template = _lines_template("Talent in Shanghai by tier", "people", data.empty)
    return template if data.empty else filled(template, lines=data)


TARGETS_TITLE = "Leading firms and innovative projects vs the municipal targets (dotted)"


@functools.cache
def _targets_template(empty: bool) -> Spec:
    if empty:
        return _template(_placeholder(TARGETS_TITLE))
    names = [n.replace("_", " ") for n in MUNICIPAL_TARGETS]
    goals = pd.DataFrame({"series": names, "target": list(MUNICIPAL_TARGETS.values())})
    rules = (
        alt.Chart(goals)
        .mark_rule(strokeDash=[2, 2])
        .encode(
            y=alt.Y("target:Q"),
            color=alt.Color("series:N", title=None),
            tooltip=[alt.Tooltip("series:N"), alt.Tooltip("target:Q")],
        )
    )
    return _template(alt.layer(_line_layer("lines", TARGETS_TITLE, "count", WIDTH), rules))


def targets_chart(model: LiveModel) -> Spec:
    """Leading firms and innovative projects against the municipal plan's targets."""
    names = list(MUNICIPAL_TARGETS)
    data = _with_and_without(model, names, [n.replace("_", " ") for n in names])
    if data.empty:
        return _targets_template(True)
    return filled(_targets_template(False), lines=data)


@functools.cache
def _spending_template(no_months: bool, no_grants: bool) -> Spec:
    title = "Spending so far by jurisdiction (RMB m)"
    colour = alt.Scale(domain=list(JURISDICTIONS))
    if no_months:
        lines = _placeholder(title, WIDTH // 2)
    else:
        lines = (
            alt.Chart(alt.NamedData("by_month"), title=title)
            .mark_line()
            .encode(
                x=alt.X("month:T", title=None),
                y=alt.Y("RMB m:Q"),
                color=alt.Color("jurisdiction:N", scale=colour, title=None),
                tooltip=[
                    alt.Tooltip("month:T"),
                    alt.Tooltip("jurisdiction:N"),
                    alt.Tooltip("RMB m:Q", format=",.1f"),
                ],
            )
            .properties(width=WIDTH // 2, height=HEIGHT)
        )
    if no_grants:
        bars = _placeholder("By instrument (RMB m)", WIDTH // 2 - 40, "nothing granted yet")
    else:
        bars = (
            alt.Chart(alt.NamedData("by_instrument"), title="By instrument (RMB m)")
            .mark_bar()
            .encode(
                y=alt.Y("instrument:N", sort="-x", title=None, axis=alt.Axis(labelLimit=110)),
                x=alt.X("RMB m:Q"),
                color=alt.Color("issuer:N", scale=colour, title=None),
                tooltip=[
                    alt.Tooltip("issuer:N"),
                    alt.Tooltip("instrument:N"),
                    alt.Tooltip("RMB m:Q", format=",.2f"),
                ],
            )
            .properties(width=WIDTH // 2 - 70, height=HEIGHT)
        )
    return _template(alt.hconcat(lines, bars))


def spending_chart(model: LiveModel) -> Spec:
    """Spending so far: by jurisdiction month by month, and by instrument."""
    monthly = model.monthly()
    cols = [f"spending_{j}_cumulative" for j in JURISDICTIONS]
    if monthly.empty:  # no month recorded yet: no columns either
        monthly = pd.DataFrame({"month": [], **{c: [] for c in cols}})
    by_month = monthly[["month", *cols]].rename(columns=dict(zip(cols, JURISDICTIONS, strict=True)))
    by_month = by_month.melt(id_vars="month", var_name="jurisdiction", value_name="RMB m")
    by_month["RMB m"] = by_month["RMB m"] / 1e6
    by_month["month"] = by_month["month"].astype(str) + "-01"
    spent = model.spending_by_instrument()
    spent = pd.DataFrame(
        {
            "issuer": spent["issuer"].astype(str),
            "instrument": spent["instrument"].astype(str),
            "RMB m": spent["amount"].astype(float) / 1e6,
        }
    )
    template = _spending_template(by_month.empty, spent.empty)
    return filled(template, by_month=by_month, by_instrument=spent)


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
            "employees": f.staff[live] * model.people_per_talent_agent,
            "park_id": parks["park_id"].to_numpy()[park],
        }
    )


@functools.cache
def _map_template(per_firm: bool) -> Spec:
    park_layer = (
        alt.Chart(alt.NamedData("parks"))
        .mark_circle(stroke="black", opacity=0.6)
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            size=alt.Size("capacity:Q", scale=alt.Scale(range=[900, 5000]), legend=None),
            color=alt.Color(
                "occupancy:Q",
                scale=alt.Scale(scheme="yelloworangered", domain=[0, 1]),
                title="occupancy",
            ),
            strokeWidth=alt.condition("datum.selected", alt.value(3), alt.value(0.5)),
            tooltip=[
                alt.Tooltip(f"{c}:{t}")
                for c, t in (
                    ("name", "N"),
                    ("district", "N"),
                    ("firms", "Q"),
                    ("employees", "Q"),
                    ("capacity", "Q"),
                    ("occupancy", "Q"),
                    ("rent", "Q"),
                )
            ],
        )
    )
    labels = (
        alt.Chart(alt.NamedData("parks"))
        .mark_text(dy=-30, fontSize=10)
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            text=alt.Text("name:N"),
        )
    )
    kind = alt.Color(
        "kind:N",
        scale=alt.Scale(domain=list(FIRM_KINDS), range=list(KIND_COLOURS)),
        title="firm kind",
    )
    if per_firm:
        size = alt.Size("employees:Q", scale=alt.Scale(range=[6, 70]), legend=None)
        tips = [("firm_id", "Q"), ("kind", "N"), ("employees", "Q"), ("park_id", "N")]
    else:
        size = alt.Size("firms:Q", scale=alt.Scale(range=[10, 300]), title="firms")
        tips = [("park_id", "N"), ("kind", "N"), ("firms", "Q")]
    firm_layer = (
        alt.Chart(alt.NamedData("firms"))
        .mark_circle(opacity=0.8)
        .encode(
            longitude=alt.Longitude("lon:Q"),
            latitude=alt.Latitude("lat:Q"),
            color=kind,
            size=size,
            tooltip=[alt.Tooltip(f"{c}:{t}") for c, t in tips],
        )
    )
    chart = (
        alt.layer(park_layer, firm_layer, labels)
        .resolve_scale(size="independent", color="independent")
        .project(type="mercator")
        .properties(width=WIDTH - 40, height=HEIGHT + 20)
    )
    return _template(chart, legend_below=False)


def map_chart(model: ClusterModel, selected: str | None = None) -> Spec:
    """Parks at their coordinates, coloured by occupancy, with their firms around them."""
    parks = park_table(model)
    parks["selected"] = parks["park_id"] == selected
    dots = firm_dots(model, parks)
    return filled(_map_template("firm_id" in dots), parks=parks, firms=dots)


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

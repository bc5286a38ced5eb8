"""The app's Solara components: the map, the selection panel and the live plots.

Each component takes the model (SolaraViz passes it and redraws after every step) and
shows one view. What the user clicked (a park, a firm) is kept in two reactive
variables, so the map and the panel agree; a selection that does not exist in the model
on screen (another world after a reset, a firm that never operated) shows nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import altair as alt
import pandas as pd
import solara
from mesa.visualization.utils import update_counter

from clustersim.app import charts
from clustersim.app.controls import command_line
from clustersim.app.live import LiveModel

#: The park whose panel is open (its id), and the firm whose history is shown (its id).
selected_park: solara.Reactive[str | None] = solara.reactive(None)
selected_firm: solara.Reactive[int | None] = solara.reactive(None)


def on_map_click(datum: Any) -> None:
    """A click on the map: a park (or a park's kind dot) opens the park, a firm its history."""
    if not isinstance(datum, dict):
        return
    if datum.get("firm_id") is not None:
        selected_firm.set(int(datum["firm_id"]))
    if datum.get("park_id") is not None:
        selected_park.set(str(datum["park_id"]))


def month_label(model: LiveModel) -> str:
    """Which month the screen shows: ``Month 2021-03 (15 of 96)``, or the start."""
    done = model.month_index
    if done == 0:
        return f"Month: {model.calendar[0]} not simulated yet (0 of {model.n_months})"
    return f"Month: {model.calendar[done - 1]} ({done} of {model.n_months})"


@solara.component
def MapView(model: LiveModel) -> None:
    """Parks at their coordinates with their occupancy and firms; flows across the edge."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    with solara.Card("Parks and firms", margin=0, classes=["clustersim-map"]):
        solara.Text(month_label(model), classes=["clustersim-month"])
        flows = charts.outside_flows(model)
        solara.Text(
            f"This month: {flows['candidates']} candidate firms, {flows['came']} came, "
            f"{flows['stayed away']} chose the outside option, {flows['closed']} closed; "
            f"{flows['arrived']:,.0f} people arrived, {flows['left']:,.0f} left.",
            style={"font-size": "12px"},
        )
        VegaChart(charts.map_chart(model, selected_park.value), on_click=on_map_click)
        solara.Text(
            "Click a park for its firms, a firm's dot for its history. Same run: "
            + command_line(model),
            style={"font-family": "monospace", "font-size": "10px"},
        )


@solara.component
def ParkButtons(model: LiveModel) -> None:
    """One button per park: the same as clicking it on the map (keyboard-friendly)."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    with solara.Row(gap="4px", style={"flex-wrap": "wrap"}):
        for pid, name in zip(model.parks.ids, model.parks.names, strict=True):
            solara.Button(
                name,
                small=True,
                text=selected_park.value != pid,
                on_click=lambda pid=pid: selected_park.set(pid),
            )


def park_firms(model: LiveModel, park_id: str) -> pd.DataFrame:
    """The firms operating in a park now, largest first."""
    f = model.firms
    live = f.live()
    here = live[f.park[live] == model.parks.index(park_id)]
    frame = pd.DataFrame(
        {
            "firm_id": here,
            "kind": [charts.FIRM_KINDS[k] for k in f.kind[here]],
            "employees": f.staff[here] * model.people_per_talent_agent,
            "patents": f.patents[here],
            "subsidies (RMB)": f.subsidies[here].round(0),
        }
    )
    return frame.sort_values(["employees", "firm_id"], ascending=[False, True]).reset_index(
        drop=True
    )


@solara.component
def ParkPanel(model: LiveModel) -> None:
    """The park clicked on the map: its figures and its firms; pick one for its history."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    with solara.Card("Selected park", margin=0, classes=["clustersim-park-panel"]):
        ParkButtons(model)
        pid = selected_park.value
        if pid is None or pid not in model.parks.ids:
            solara.Text("No park selected: click a park on the map.")
            return
        row = charts.park_table(model).set_index("park_id").loc[pid]
        solara.Markdown(
            f"**{row['name']}** ({row['district']}): {int(row['firms'])} firms, "
            f"{row['employees']:,.0f} people in {row['capacity']:,.0f} workstations "
            f"(occupancy {row['occupancy']:.0%}), rent {row['rent']:.2f} RMB/m²/day."
        )
        firms = park_firms(model, pid)
        if firms.empty:
            solara.Text("No firm operates here now.")
            return
        ids = [int(i) for i in firms["firm_id"]]
        current = selected_firm.value if selected_firm.value in ids else None
        solara.Select(
            "Firm (largest first)",
            value=current,
            values=ids,
            on_value=selected_firm.set,
        )
        solara.HTML(
            tag="div",
            unsafe_innerHTML=_table(firms.head(12)),
            classes=["clustersim-table"],
            style={"max-height": "140px", "overflow-y": "auto", "font-size": "12px"},
        )


@solara.component
def FirmPanel(model: LiveModel) -> None:
    """The firm clicked: its state now, its employees month by month, its grants."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    with solara.Card("Selected firm", margin=0, classes=["clustersim-firm-panel"]):
        fid = selected_firm.value
        if fid is None or not 0 <= fid < model.firms.n_slots or not model.firms.entered[fid]:
            solara.Text("No firm selected: click a firm's dot, or pick one in a park's panel.")
            return
        f = model.firms
        state = "operating" if f.alive[fid] else "closed"
        park = model.parks.names[f.park[fid]] if f.park[fid] >= 0 else "-"
        solara.Markdown(
            f"**Firm {fid}** ({charts.FIRM_KINDS[f.kind[fid]]}, {state}, {park}): "
            f"{f.staff[fid] * model.people_per_talent_agent:,.0f} employees, "
            f"{int(f.patents[fid])} patents, "
            f"{int(f.pilots[fid])} pilot projects, RMB {f.subsidies[fid]:,.0f} of grants so far."
        )
        history = model.firm_monthly(fid)
        if not history.empty:
            month = history["month"] + "-01"
            VegaChart(charts.filled(firm_template(), history=history.assign(month=month)))
        grants = model.grants_to_firm(fid)
        solara.Text(f"Grants received: {len(grants)}")
        if not grants.empty:
            solara.HTML(
                tag="div",
                unsafe_innerHTML=_table(grants.tail(12)),
                classes=["clustersim-table"],
                style={"max-height": "140px", "overflow-y": "auto", "font-size": "12px"},
            )


def _table(frame: pd.DataFrame) -> str:
    """A small plain HTML table (a data grid widget costs more to redraw every month)."""
    return frame.to_html(index=False, border=0, float_format=lambda x: f"{x:,.0f}")


@functools.cache
def firm_template() -> charts.Spec:
    """A firm's employees month by month (named data ``history``: month, employees)."""
    chart = (
        alt.Chart(alt.NamedData("history"), title="Employees")
        .mark_line(point=True)
        .encode(x=alt.X("month:T", title=None), y=alt.Y("employees:Q"))
        .properties(width=charts.WIDTH, height=120)
    )
    return charts._template(chart)


def VegaChart(spec: charts.Spec, on_click: Callable[[Any], None] | None = None) -> Any:
    """A Vega-Lite spec on the page (``solara.FigureAltair`` without rebuilding the chart)."""
    return solara.widgets.VegaLite.element(
        spec=spec, on_click=on_click, listen_to_click=on_click is not None
    )


def _figure(chart: charts.Spec, name: str) -> None:
    with solara.Card(margin=0, classes=[f"clustersim-{name}"]):
        VegaChart(chart)


@solara.component
def DistrictPlot(model: LiveModel) -> None:
    """Firms and employment by district (dashed: without the plan, when overlaid)."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    _figure(charts.district_chart(model), "districts")


@solara.component
def TalentPlot(model: LiveModel) -> None:
    """Talent by tier."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    _figure(charts.talent_chart(model), "talent")


@solara.component
def SpendingPlot(model: LiveModel) -> None:
    """Spending by jurisdiction and by instrument."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    _figure(charts.spending_chart(model), "spending")


@solara.component
def TargetsPlot(model: LiveModel) -> None:
    """Leading firms and innovative projects against the municipal targets."""
    update_counter.get()  # redrawn after every step (SolaraViz's force_update)
    _figure(charts.targets_chart(model), "targets")


#: The page's components in order (SolaraViz's ``components``: all on its first page,
#: two a row: the map and the park's panel first, then spending beside the firm's panel).
COMPONENTS = (
    MapView,
    ParkPanel,
    SpendingPlot,
    FirmPanel,
    DistrictPlot,
    TargetsPlot,
    TalentPlot,
)

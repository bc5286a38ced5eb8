"""The app's components rendered headless with Solara's own test tools (no browser)."""

from __future__ import annotations

from functools import cache

import ipyvuetify as v
import pytest
import solara
from mesa.visualization.solara_viz import ModelController, ModelCreator
from mesa.visualization.utils import force_update

from clustersim.app import Page, charts, components
from clustersim.app.controls import initial_values, model_params, policy_options
from clustersim.app.live import LiveModel


@cache
def _params() -> dict:
    return model_params(["world=toy"])


def _model(months: int = 0, **changes) -> LiveModel:
    model = LiveModel(**{**initial_values(_params()), "policy": "shanghai_2020", **changes})
    for _ in range(months):
        model.step()
    return model


def _spec_values(widget) -> list[dict]:
    """Every data row of a rendered Vega-Lite chart."""
    return [row for rows in widget.spec.get("datasets", {}).values() for row in rows]


@pytest.fixture(autouse=True)
def _clear_selection():
    components.selected_park.set(None)
    components.selected_firm.set(None)
    yield
    components.selected_park.set(None)
    components.selected_firm.set(None)


def test_controls_offer_every_policy_and_start_at_the_overrides() -> None:
    params = _params()
    assert params["world"]["value"] == "toy" and params["overrides"] == ["world=toy"]
    assert {"none", "all_three", "huangpu_2024_half_budget"} <= set(params["policy"]["values"])
    assert policy_options()[:2] == ["none", "all_three"]
    assert params["policy"]["value"] in params["policy"]["values"]
    share = params["behavior.entry.but_for_share"]
    assert (share["min"], share["max"]) == (0.0, 1.0) and 0 <= share["value"] <= 1
    assert params["run.counterfactual"]["values"] == ["off", "no_policy"]


def test_map_shows_the_month_parks_and_firms_and_a_click_opens_a_park() -> None:
    model = _model(3)
    box, rc = solara.render(components.MapView(model), handle_error=False)
    month = rc.find(v.Html, class_="clustersim-month").widget.children[0]
    assert month == "Month: 2020-03 (3 of 96)"
    chart = rc.find(solara.widgets.VegaLite).widget
    rows = _spec_values(chart)
    firm_ids = {r["firm_id"] for r in rows if "firm_id" in r}
    assert len(firm_ids) == len(model.firms.live())  # toy world: a dot per firm
    assert {r["park_id"] for r in rows if "occupancy" in r} == set(model.parks.ids)
    assert f"seed={model.cluster_scenario.seed}" in str(box)  # the equivalent command line
    model.step()
    force_update()  # what SolaraViz does after a step: the map shows the next month
    assert rc.find(v.Html, class_="clustersim-month").widget.children[0].endswith("(4 of 96)")
    chart.on_click({"park_id": "bund_financial_cluster", "name": "Bund (toy)"})
    assert components.selected_park.value == "bund_financial_cluster"
    chart.on_click({"firm_id": int(model.firms.live()[0]), "park_id": "lujiazui"})
    assert components.selected_firm.value == int(model.firms.live()[0])


def test_a_big_world_is_drawn_per_park_and_kind() -> None:
    model = _model()
    parks = charts.park_table(model)
    old = charts.MAX_FIRM_DOTS
    charts.MAX_FIRM_DOTS = 10
    try:
        dots = charts.firm_dots(model, parks)
    finally:
        charts.MAX_FIRM_DOTS = old
    assert "firm_id" not in dots and dots["firms"].sum() == len(model.firms.live())


def test_park_panel_lists_the_parks_firms_and_picks_one() -> None:
    model = _model(6)

    @solara.component
    def Selection():
        components.ParkPanel(model)
        components.FirmPanel(model)

    box, rc = solara.render(Selection(), handle_error=False)
    assert "No park selected" in str(box)
    rc.find(v.Btn, children=["Zhangjiang (toy)"]).widget.click()
    assert components.selected_park.value == "zhangjiang_dih"
    rc.find(v.Html, children=["No park selected: click a park on the map."]).assert_empty()
    here = components.park_firms(model, "zhangjiang_dih")
    assert len(here) == int(
        charts.park_table(model).set_index("park_id").at["zhangjiang_dih", "firms"]
    )
    assert here["employees"].is_monotonic_decreasing
    select = rc.find(v.Select, label="Firm (largest first)").widget
    assert select.items == [int(i) for i in here["firm_id"]]
    select.v_model = select.items[0]
    assert components.selected_firm.value == select.items[0]
    assert f"Firm {select.items[0]}" in str(box)


def test_firm_panel_shows_history_and_grants() -> None:
    model = _model(30)
    ledger = model.incentives.ledger_frame()
    paid = ledger[ledger["recipient_type"] == "firm"]
    assert len(paid) > 0
    alive = model.firms.alive[paid["recipient_id"].to_numpy()]
    fid = int(paid["recipient_id"].to_numpy()[alive][0])  # a firm still operating
    components.selected_firm.set(fid)
    box, rc = solara.render(components.FirmPanel(model), handle_error=False)
    grants = model.grants_to_firm(fid)
    assert len(grants) == int((paid["recipient_id"] == fid).sum())
    assert f"Grants received: {len(grants)}" in str(box)
    history = model.firm_monthly(fid)
    chart = rc.find(solara.widgets.VegaLite).widget
    assert len(_spec_values(chart)) == len(history) > 0
    assert history["employees"].iloc[-1] == model.firms.staff[fid] * model.people_per_talent_agent


def test_spending_plot_follows_the_ledger() -> None:
    model = _model(30)
    _box, rc = solara.render(components.SpendingPlot(model), handle_error=False)
    rows = _spec_values(rc.find(solara.widgets.VegaLite).widget)
    bars = [r for r in rows if "instrument" in r]
    total = sum(r["RMB m"] for r in bars) * 1e6
    # the bars are the ledger's grants (their RMB value, in kind included) by instrument
    assert total == pytest.approx(model.incentives.ledger_frame()["amount"].sum())
    assert total >= model.monthly()["spending_cumulative"].iloc[-1] > 0
    assert {r["issuer"] for r in bars} == {"shanghai"}


def test_district_talent_and_target_plots_draw_the_monthly_table() -> None:
    model = _model(12, **{"run.counterfactual": "no_policy"})
    assert model.counterfactual is not None and model.counterfactual.month_index == 12
    for comp, column in (
        (components.DistrictPlot, f"firms_{model.parks.districts[0]}"),
        (components.TalentPlot, "talent_junior"),
        (components.TargetsPlot, "leading_firms"),
    ):
        _box, rc = solara.render(comp(model), handle_error=False)
        rows = _spec_values(rc.find(solara.widgets.VegaLite).widget)
        runs = {r.get("run") for r in rows if "run" in r}
        assert runs == {"with the plan", "without"}, comp
        mine = [r["value"] for r in rows if r.get("run") == "with the plan"]
        assert model.monthly()[column].iloc[-1] in mine


def test_reset_rebuilds_the_model_from_the_controls() -> None:
    """Mesa's own controller: Step advances the month, Reset applies the controls."""
    model = solara.reactive(_model())
    parameters = solara.reactive({})

    @solara.component
    def Controls():
        ModelController(
            model,
            model_parameters=parameters,
            play_interval=solara.use_reactive(10),
            render_interval=solara.use_reactive(1),
            use_threads=solara.use_reactive(False),
        )
        ModelCreator(model, _params(), model_parameters=parameters)

    _box, rc = solara.render(Controls(), handle_error=False)
    rc.find(v.Btn, children=["Step"]).widget.click()
    assert model.value.month_index == 1
    parameters.value = {**parameters.value, "policy": "none", "seed": 7}
    rc.find(v.Btn, children=["Reset"]).widget.click()
    fresh = model.value
    assert isinstance(fresh, LiveModel) and fresh.month_index == 0
    assert fresh.cluster_scenario.seed == 7 and fresh.cluster_scenario.policy_name == "none"
    assert "policy=none" in fresh.overrides and "world=toy" in fresh.overrides


def test_the_page_renders_with_solaraviz() -> None:
    _box, rc = solara.render(Page(overrides=["world=toy"]), handle_error=False)
    assert rc.find(v.Html, class_="clustersim-month").widget.children[0].startswith("Month:")
    assert len(rc.find(solara.widgets.VegaLite).widgets) == 5  # map and four plots

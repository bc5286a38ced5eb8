"""Mesa's conventions on the model: keyword constructor, batch_run, DataCollector, CLI parity."""

from __future__ import annotations

import json
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest
from mesa.experimental.scenarios import Scenario as MesaScenario

from clustersim.app.live import LiveModel
from clustersim.config import ConfigError
from clustersim.model import ClusterModel
from clustersim.parameters import ComposeError, as_overrides, budget_overrides, override_text
from tests.conftest import run_cli, scenario

TOY_HUANGPU = {
    "world": "toy",
    "policy": "huangpu_2024",
    "behavior.entry.but_for_share": 0.5,
    "budget_scale": 0.5,
}


def _run(model: ClusterModel, months: int | None = None) -> ClusterModel:
    for _ in range(months or model.n_months):
        model.step()
    return model


def test_keywords_are_the_command_line_overrides() -> None:
    model = ClusterModel(seed=3, **TOY_HUANGPU)
    assert model.overrides == [
        "world=toy",
        "policy=huangpu_2024",
        "behavior.entry.but_for_share=0.5",
        "seed=3",
        "policy.huangpu_2024.budget_scale=0.5",
    ]
    s = model.cluster_scenario
    assert (s.seed, s.world.name, s.behavior.entry.but_for_share) == (3, "toy", 0.5)
    assert s.policy["huangpu_2024"]["budget_scale"] == 0.5
    assert model.rng is not None and model.running
    # the same numbers as the model of the checked scenario of those overrides
    same = ClusterModel(scenario(*model.overrides))
    a, b = _run(model, 24).monthly(), _run(same, 24).monthly()
    pd.testing.assert_frame_equal(a, b)


def test_double_underscore_keys_and_plain_overrides() -> None:
    model = ClusterModel(overrides=["world=toy"], behavior__entry__but_for_share=0.4, rng=2)
    assert model.cluster_scenario.behavior.entry.but_for_share == 0.4
    assert model.cluster_scenario.seed == 2
    assert model.overrides == ["world=toy", "behavior.entry.but_for_share=0.4", "seed=2"]


def test_budget_scale_multiplies_each_regimes_own_scale() -> None:
    model = ClusterModel(world="toy", policy="huangpu_2024_half_budget", budget_scale=2.0)
    assert model.cluster_scenario.policy["huangpu_2024"]["budget_scale"] == 1.0  # 0.5 x 2
    unchanged = ClusterModel(world="toy", policy="all_three", budget_scale=1.0)
    assert not any("budget_scale" in o for o in unchanged.overrides)
    with pytest.raises(ConfigError, match=r"budget_scale = -1\.0"):
        budget_overrides({"huangpu_2024": {"budget_scale": 1.0}}, -1.0)


def test_a_numpy_generator_gives_a_recorded_integer_seed() -> None:
    a = ClusterModel(world="toy", rng=np.random.default_rng(5))
    b = ClusterModel(world="toy", rng=np.random.default_rng(5))
    seed = a.cluster_scenario.seed
    assert seed == b.cluster_scenario.seed and f"seed={seed}" in a.overrides


@pytest.mark.parametrize(
    ("kwargs", "field", "words"),
    [
        ({"behavior.entry.but_for_share": 2}, "behavior.entry.but_for_share", "<= 1"),
        ({"world": "mars"}, "world", "allowed: arthur, shanghai, toy"),
        ({"behavior.entry.no_such_key": 1}, "behavior.entry.no_such_key", "unknown key"),
        ({"seed": 1, "rng": 2}, "seed", "not both"),
    ],
)
def test_bad_keywords_name_field_value_and_rule(kwargs: dict, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        ClusterModel(**{"world": "toy", **kwargs})
    assert err.value.field == field and words in str(err.value), str(err.value)
    assert "\n" not in str(err.value)


def test_unknown_override_is_a_compose_error() -> None:
    with pytest.raises(ComposeError, match="foo"):
        ClusterModel(overrides=["world=toy", "foo=1"])


def test_a_checked_scenario_and_keywords_do_not_mix() -> None:
    with pytest.raises(TypeError):
        ClusterModel(scenario("world=toy"), seed=1)


def test_override_text_spells_values_as_hydra_reads_them() -> None:
    assert [override_text(v) for v in (True, 3, 0.5, "toy", "a b", [1, 2], None)] == [
        "true",
        "3",
        "0.5",
        "toy",
        "'a b'",
        "[1,2]",
        "null",
    ]
    assert as_overrides({"run.report_months": ["2025-12"]}) == ["run.report_months=[2025-12]"]


def test_solaraviz_reset_rebuilds_the_same_model_from_its_parameters() -> None:
    """SolaraViz's reset calls type(model)(**params, scenario=<Mesa Scenario>)."""
    params = {"world": "toy", "policy": "none", "seed": 4}
    model = LiveModel(**params)
    again = type(model)(**params, scenario=MesaScenario())
    assert type(again) is LiveModel and again.overrides == model.overrides
    pd.testing.assert_frame_equal(_run(model, 12).monthly(), _run(again, 12).monthly())
    # a Mesa Scenario's values are keywords too, and its rng is the seed
    via = ClusterModel(scenario=MesaScenario(rng=4, world="toy", policy="none"))
    assert via.cluster_scenario.seed == 4 and via.cluster_scenario.world.name == "toy"


def test_datacollector_view_matches_the_monthly_table() -> None:
    model = _run(ClusterModel(world="toy", policy="shanghai_2020", seed=1), 30)
    dc = model.datacollector
    frame = dc.get_model_vars_dataframe()
    monthly = model.monthly()
    assert list(frame.index) == list(range(1, 31)) and frame.index.name == "Step"
    assert dc._collection_steps == list(range(1, 31)) and model.steps == 30
    assert dc.model_vars["firms"] == monthly["firms"].tolist()
    assert set(dc.model_reporters) == set(monthly.columns)
    agents = dc.get_agent_vars_dataframe()
    assert agents.index.names == ["Step", "AgentID"]
    assert set(agents.index.get_level_values("Step")) == {12, 24}  # year ends so far
    assert len(dc.get_table_dataframe("ledger")) > 0
    with pytest.raises(ValueError, match="relocations"):
        dc.get_table_dataframe("nope")


def test_mesa_batch_run_sweeps_keywords_and_seeds() -> None:
    results = mesa.batch_run(
        ClusterModel,
        parameters={"world": "toy", "policy": ["none", "shanghai_2020"]},
        rng=[0, 1],
        max_steps=25,
        data_collection_period=12,
        display_progress=False,
    )
    table = pd.DataFrame(results)
    assert len(table) == 2 * 2 * 3  # 2 policies x 2 seeds x steps 1, 13, 25
    assert set(table["Step"]) == {1, 13, 25} and set(table["seed"]) == {0, 1}
    last = table[table["Step"] == 25].set_index(["policy", "seed"])
    # each row is the run clustersim-run would make with the same overrides
    direct = _run(ClusterModel(scenario("world=toy", "policy=shanghai_2020", "seed=1")), 25)
    assert last.loc[("shanghai_2020", 1), "firms"] == direct.monthly()["firms"].iloc[24]
    assert last.loc[("shanghai_2020", 1), "month"] == "2022-01"
    # no policy spends nothing; the municipal plan grants from 2020-02
    assert last.loc[("none", 0), "spending_cumulative"] == 0
    assert last.loc[("shanghai_2020", 0), "spending_cumulative"] > 0
    assert last.loc[("none", 0), "month"] == last.loc[("none", 1), "month"]


def test_mesa_stock_plot_component_draws_a_monthly_metric() -> None:
    import solara
    from mesa.visualization import make_plot_component

    model = _run(ClusterModel(world="toy"), 6)
    plot, _page = make_plot_component("firms", backend="altair")
    _box, rc = solara.render(plot(model), handle_error=False)
    spec = rc.find(solara.widgets.VegaLite).widget.spec
    values = next(iter(spec["datasets"].values()))
    assert [v["Value"] for v in values] == model.monthly()["firms"].tolist()
    assert [v["Step"] for v in values] == list(range(1, 7))


@pytest.mark.slow  # runs clustersim-run in a subprocess
def test_app_series_equal_the_command_lines_monthly_table(tmp_path: Path) -> None:
    """The app's model, stepped month by month, is clustersim-run with its overrides."""
    keywords = {**TOY_HUANGPU, "seed": 2, "behavior.agglomeration.strength": 0.7}
    app = LiveModel(**keywords, **{"run.counterfactual": "no_policy"})
    proc = run_cli(*app.overrides, "run.progress=false", cwd=tmp_path, timeout=240)
    assert proc.returncode == 0, proc.stderr
    (folder,) = [p for p in (tmp_path / "results" / "runs").iterdir() if p.is_dir()]
    cli = pd.read_parquet(folder / "monthly.parquet")
    cli_without = pd.read_parquet(folder / "counterfactual" / "monthly.parquet")
    assert json.loads((folder / "summary.json").read_text())["seed"] == 2
    for t in range(app.n_months):
        app.step()
        row = app.monthly().iloc[t]
        assert row["month"] == cli["month"].iloc[t]
        if t % 12 == 11:  # the screen at each year's end equals the table's row
            pd.testing.assert_series_equal(row, cli.iloc[t], check_names=False)
    pd.testing.assert_frame_equal(app.monthly(), cli, check_dtype=False)
    pd.testing.assert_frame_equal(app.counterfactual.monthly(), cli_without, check_dtype=False)
    assert app.monthly()["spending_cumulative"].iloc[-1] > 0

"""A counterfactual of a whole plan (``run.counterfactual=huangpu_2024``), end to end.

The run without one plan of a mix is the run of the other plans (same seed, same draws);
collection records what each run's caused figures are relative to; the report counts
those runs as plan counterfactuals, never as instruments, and prices a plan by what the
whole plan spent.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import clustersim.api as cs
from clustersim.config import ConfigError
from clustersim.report.load import counterfactual_kind, report_data
from clustersim.report.sections.instruments import instrument_caused

WORLD = ["world=toy", "world.end=2025-12", "run.report_months=[2025-12]"]  # Huangpu: 2025-


def test_the_run_without_a_plan_is_the_run_of_the_other_plans():
    mix = cs.run([*WORLD, "policy=all_three", "run.counterfactual=huangpu_2024", "seed=3"])
    others = cs.run([*WORLD, "policy=[shanghai_2020,pudong_2027]", "seed=3"])
    assert mix.counterfactual is not None
    assert mix.counterfactual.monthly.equals(others.monthly)
    assert not mix.monthly.equals(others.monthly)  # the plan did something


@pytest.mark.parametrize(
    ("policy", "counterfactual", "allowed"),
    [
        ("policy=all_three", "nowhere_2030", "regimes: shanghai_2020, pudong_2027, huangpu_2024"),
        ("policy=none", "huangpu_2024", "must be off or no_policy"),
        ("policy=all_three", "huangpu_2024.", "<regime> or <regime>.<instrument>"),
    ],
)
def test_a_plan_counterfactual_must_name_a_plan_of_the_scenario(policy, counterfactual, allowed):
    with pytest.raises(ConfigError) as err:
        cs.scenario([*WORLD, policy, f"run.counterfactual={counterfactual}"])
    assert err.value.field == "run.counterfactual" and allowed in str(err.value)


def test_kinds_of_counterfactual():
    kinds = [counterfactual_kind(k) for k in ("off", "no_policy", "huangpu_2024", "a.b")]
    assert kinds == ["off", "no_policy", "regime", "instrument"]


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plan_cf") / "sweep"
    grids = [  # policy=none has no plan to remove: its runs have no_policy only
        {
            "policy": ["all_three"],
            "seed": [0, 1],
            "run.counterfactual": ["no_policy", "huangpu_2024"],
        },
        {"policy": ["none"], "seed": [0, 1], "run.counterfactual": ["no_policy"]},
    ]
    for grid in grids:
        cs.sweep(grid, base=WORLD, folder=folder, progress=False)
    return folder


@pytest.mark.slow  # the module's sweep: six runs and their counterfactuals
def test_collected_runs_say_what_their_caused_figures_are_relative_to(sweep):
    runs = cs.load_sweep(sweep).runs
    assert len(runs) == 6
    assert sorted(runs["counterfactual"]) == ["huangpu_2024"] * 2 + ["no_policy"] * 4


@pytest.mark.slow  # the module's sweep: six runs and their counterfactuals
def test_the_report_counts_plan_counterfactuals_as_plans_not_instruments(sweep):
    data = report_data(sweep)
    assert data.instrument_runs.empty
    assert set(data.regime_runs["counterfactual"]) == {"huangpu_2024"}
    assert set(data.regime_runs["variant"]) == {"all_three"}
    assert data.has_counterfactual  # the headline runs are the no_policy ones
    month = data.months[-1]
    plans = instrument_caused(
        data.regime_runs, data.runs, data.ledger, data.variants, month, data.configs
    )
    (row,) = plans.to_dict("records")
    assert row["instrument"] == "huangpu_2024" and row["n"] == 2
    led = data.ledger
    with_runs = data.runs.loc[data.runs["variant"] == "all_three", "job"]
    spent = led[(led["regime"] == "huangpu_2024") & led["job"].isin(with_runs)]
    spent = spent[spent["month"] <= month]["amount"].sum() / len(with_runs)
    assert spent > 0 and np.isclose(row["spending"], spent)  # the whole plan's spending

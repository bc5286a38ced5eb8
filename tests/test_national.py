"""National law out of the plans: in force in every scenario, never a plan's cost or effect.

The 15% income-tax rate of certified high-tech enterprises and the R&D super-deduction are
national law (src/clustersim/national.py, conf/national/prc.yaml). A model that counted
them as a plan's spending, switched them off with policy=none, or removed them in a plan's
counterfactual would fail these tests.
"""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.config import ConfigError
from clustersim.model import ClusterModel
from clustersim.runner import build_incentives, simulate
from tests.conftest import compose_cfg, finished, scenario

SMALL = ("world=shanghai", "world.scale=0.3")


def test_policy_none_runs_the_national_framework() -> None:
    monthly = finished(*SMALL, "policy=none", "seed=1").monthly()
    assert monthly["national_tax_expenditure_cumulative"].iloc[-1] > 0
    assert monthly["spending_cumulative"].iloc[-1] == 0  # and no plan spends anything
    off = finished(*SMALL, "policy=none", "national=none", "seed=1").monthly()
    assert off["national_tax_expenditure_cumulative"].iloc[-1] == 0


def test_no_plan_counts_national_law_as_its_spending() -> None:
    result = simulate(scenario(*SMALL, "policy=all_three", "seed=1"))
    ledger = result.ledger
    assert ledger is not None and len(ledger)
    assert "high_tech_tax_preference" not in set(ledger["instrument"].astype(str))
    monthly = result.monthly
    plans = sum(monthly[f"spending_{j}"].sum() for j in ("shanghai", "pudong", "huangpu"))
    assert monthly["spending"].sum() == pytest.approx(plans)
    assert monthly["national_tax_expenditure"].sum() > 0


@pytest.mark.parametrize("without", ["no_policy", "huangpu_2024.compute_subsidy"])
def test_a_counterfactual_keeps_national_law_in_place(without: str) -> None:
    result = simulate(scenario(*SMALL, "seed=2", f"run.counterfactual={without}"))
    cf = result.counterfactual
    assert cf is not None
    run_nat = result.monthly["national_tax_expenditure_cumulative"].iloc[-1]
    cf_nat = cf.monthly["national_tax_expenditure_cumulative"].iloc[-1]
    assert cf_nat > 0.5 * run_nat  # in force in both; differs only through the firms
    assert "national_tax_expenditure" not in {
        k for month in (result.caused or {}).values() for k in month if k.startswith("spending")
    }


def test_tax_saving_is_the_rate_gap_on_profit_of_certified_firms() -> None:
    m = finished("world=toy", "policy=none", "seed=0", "national.rd_super_deduction.enabled=false")
    monthly = m.monthly()
    assert monthly["national_high_tech_rate"].sum() > 0
    assert monthly["national_rd_super_deduction"].sum() == 0
    assert np.allclose(
        monthly["national_tax_expenditure"],
        monthly["national_high_tech_rate"] + monthly["national_rd_super_deduction"],
    )


BAD = [
    ("national.high_tech_rate.reduced_rate=0.3", "national.high_tech_rate.reduced_rate"),
    ("national.high_tech_rate.standard_rate=1.5", "national.high_tech_rate.standard_rate"),
    ("national.high_tech_rate.article=99", "national.high_tech_rate.article"),
    ("national.high_tech_rate.law=some_law", "national.high_tech_rate.law"),
    (
        "national.rd_super_deduction.schedule.1.start=2017-01",
        "national.rd_super_deduction.schedule[1].start",
    ),
    (
        "national.rd_super_deduction.schedule.0.extra_deduction=-0.5",
        "national.rd_super_deduction.schedule[0].extra_deduction",
    ),
    ("+national.vat_refund.enabled=true", "national.vat_refund"),
]


@pytest.mark.parametrize(("override", "field"), BAD)
def test_bad_framework_values_name_the_field(override: str, field: str) -> None:
    from clustersim.settings import load_scenario

    with pytest.raises(ConfigError) as err:
        load_scenario(compose_cfg("world=toy", override))
    assert err.value.field == field
    assert str(err.value).startswith(f"{field} = ")


def test_non_money_measures_cost_the_plan_nothing() -> None:
    result = simulate(scenario(*SMALL, "policy=shanghai_2020", "seed=1"))
    ledger = result.ledger
    services = ledger[ledger["rule"].astype(str) == "service"]
    assert len(services) and services["amount"].sum() > 0  # in kind: valued for the record
    assert "spatial_layout" not in set(ledger["instrument"].astype(str))  # a designation
    money = ledger.loc[ledger["rule"].astype(str) != "service", "amount"].sum()
    assert result.monthly["spending_cumulative"].iloc[-1] == pytest.approx(money, rel=1e-9)


def test_a_designation_raises_the_amenity_of_the_places_it_names() -> None:
    def bonus_after_a_year(policy: str) -> tuple[np.ndarray, np.ndarray]:
        s = scenario("world=toy", f"policy={policy}", "seed=1")
        m = ClusterModel(s, build_incentives(s))
        for _ in range(12):
            m.step()
        named = np.array([bool({"two_towns", "one_belt", "one_port"} & t) for t in m.parks.tags])
        levers = m.incentives.levers(m)
        return np.broadcast_to(levers.amenity_bonus, named.shape), named

    bonus, named = bonus_after_a_year("shanghai_2020")
    assert named.any() and (~named).any()
    assert (bonus[named] > 0).all() and (bonus[~named] == 0).all()
    bonus, _ = bonus_after_a_year("none")
    assert (bonus == 0).all()


def test_the_third_municipal_target_is_reported() -> None:
    result = simulate(scenario(*SMALL, "policy=none", "seed=1"))
    assert "leading_application_institutions" in result.monthly
    assert result.summary()["targets"]["leading_application_institutions"]["target"] == 20

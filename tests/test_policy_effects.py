"""The plans inside the model: grants within caps and budgets, counterfactuals, effects."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clustersim.policy.vocabulary import CapPeriod
from clustersim.runner import build_incentives, simulate
from tests.conftest import call_cli, scenario

ZERO_BUDGETS = (
    "policy=all_three",
    "policy.shanghai_2020.budget_scale=0",
    "policy.pudong_2027.budget_scale=0",
    "policy.huangpu_2024.budget_scale=0",
)
#: Agents ignore incentives: choices, R&D, certification and growth do not respond.
NO_RESPONSE = (
    "behavior.entry.but_for_share=0",
    "behavior.talent.incentive_weight=0",
    "behavior.innovation.rd_price_elasticity=0",
    "behavior.policy_response.financing_relief=0",
    "behavior.policy_response.growth_per_grant=0",
    "behavior.policy_response.certification_response=0",
    "behavior.policy_response.pilot_response=0",
)


def test_a_regime_with_zero_budgets_is_no_policy_to_the_bit() -> None:
    none = simulate(scenario("world=toy", "seed=5", "policy=none"))
    zero = simulate(scenario("world=toy", "seed=5", *ZERO_BUDGETS))
    assert len(zero.ledger) == 0
    pd.testing.assert_frame_equal(none.monthly, zero.monthly)
    pd.testing.assert_frame_equal(none.firms_yearly, zero.firms_yearly)
    pd.testing.assert_frame_equal(none.relocations, zero.relocations)


def _check_ledger(result) -> None:
    regimes = result.scenario.regimes
    ledger = result.ledger
    by_key = {(i.regime, i.id): i for r in regimes for i in r.instruments}
    for (regime, inst_id, year), rows in ledger.groupby(
        ["regime", "instrument", "year"], observed=True
    ):
        inst = by_key[(regime, inst_id)]
        budget = (
            inst.annual_budget * inst.budget_scale if inst.annual_budget is not None else np.inf
        )
        assert rows["amount"].sum() <= budget * (1 + 1e-9), (inst.key, year)
        if inst.cap is None:
            continue
        per_person = inst.payout.rule.value == "per_person"
        persons = result.scenario.world.people_per_talent_agent if per_person else 1.0
        cap = inst.cap * persons
        if inst.cap_per is CapPeriod.YEAR:
            per_recipient = rows.groupby("recipient_id")["amount"].sum()
        else:
            per_recipient = rows["amount"]
        assert (per_recipient <= cap * (1 + 1e-9)).all(), (inst.key, year)
        if inst.floor is not None:
            assert (rows["amount"] >= inst.floor * persons * (1 - 1e-9)).all()


@pytest.mark.slow
@settings(max_examples=6, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 10_000),
    scale=st.sampled_from([0.01, 0.1, 0.5, 1.0, 3.0]),
    cap=st.sampled_from([1.0, 50_000.0, 300_000.0, 2_000_000.0]),
)
def test_no_grant_above_its_cap_and_no_year_above_its_budget(
    seed: int, scale: float, cap: float
) -> None:
    result = simulate(
        scenario(
            "world=toy",
            f"seed={seed}",
            "policy=all_three",
            f"policy.huangpu_2024.budget_scale={scale}",
            f"policy.pudong_2027.budget_scale={scale}",
            f"policy.huangpu_2024.talent_introduction.cap={cap}",
            f"policy.huangpu_2024.rd_subsidy.cap={cap}",
        )
    )
    assert len(result.ledger) > 0
    _check_ledger(result)


@pytest.mark.slow
def test_the_default_world_grants_within_caps_and_budgets() -> None:
    result = simulate(scenario("world=shanghai", "policy=all_three"))
    _check_ledger(result)
    spent = result.ledger.groupby("issuer", observed=True)["amount"].sum()
    assert set(spent.index) == {"shanghai", "pudong", "huangpu"}
    monthly = result.monthly
    money = result.ledger["rule"].astype(str) != "service"  # in kind costs the plan nothing
    assert monthly["spending_cumulative"].iloc[-1] == pytest.approx(
        result.ledger.loc[money, "amount"].sum(), rel=1e-12
    )
    # Huangpu's plan is in force 2025-01..2027-12: nothing before
    huangpu = result.ledger[result.ledger["issuer"] == "huangpu"]
    assert huangpu["month"].min() >= "2025-01"


@pytest.mark.slow
def test_switching_one_instrument_off_removes_exactly_its_grants() -> None:
    base = ("world=toy", "seed=2", "policy=all_three", *NO_RESPONSE)
    on = simulate(scenario(*base)).ledger
    for key in ("huangpu_2024.talent_introduction", "pudong_2027.research_patent_funding"):
        regime, inst = key.split(".")
        off = simulate(scenario(*base, f"policy.{regime}.{inst}.enabled=false")).ledger
        mine = (on["regime"] == regime) & (on["instrument"] == inst)
        assert mine.any(), key
        expected = on[~mine].reset_index(drop=True)
        pd.testing.assert_frame_equal(off.reset_index(drop=True), expected, check_categorical=False)


@pytest.mark.slow
def test_a_district_subsidy_raises_that_districts_firms_against_its_counterfactual() -> None:
    for seed in (0, 1):
        r = simulate(
            scenario(
                "world=shanghai",
                f"seed={seed}",
                "policy=huangpu_2024",
                "run.counterfactual=no_policy",
            )
        )
        assert r.caused["2027-12"]["firms_huangpu"] > 0
        assert r.caused["2027-12"]["spending_cumulative"] > 0
        # before the plan's window the two runs are the same month by month
        early = r.monthly["month"] < "2025-01"
        pd.testing.assert_frame_equal(r.monthly[early], r.counterfactual.monthly[early])


def test_counterfactual_without_one_instrument() -> None:
    without = "run.counterfactual=huangpu_2024.compute_subsidy"
    r = simulate(scenario("world=toy", "policy=huangpu_2024", without))
    assert r.caused is not None
    other = r.counterfactual.ledger
    assert "compute_subsidy" not in set(other["instrument"].astype(str))
    assert "compute_subsidy" in set(r.ledger["instrument"].astype(str))


def test_unknown_instrument_in_counterfactual_is_a_config_error() -> None:
    from clustersim.config import ConfigError

    with pytest.raises(ConfigError) as err:  # checked with the scenario, before any run
        scenario("world=toy", "policy=huangpu_2024", "run.counterfactual=huangpu_2024.nope")
    assert err.value.field == "run.counterfactual" and "rd_subsidy" in str(err.value)
    with pytest.raises(ConfigError) as err:  # and by the engine, for callers of the API
        build_incentives(scenario("world=toy", "policy=huangpu_2024"), without="huangpu_2024.nope")
    assert err.value.field == "run.counterfactual" and "rd_subsidy" in str(err.value)
    with pytest.raises(ConfigError, match="no policy"):
        scenario("world=toy", "policy=none", "run.counterfactual=huangpu_2024.rd_subsidy")


@pytest.mark.slow
def test_run_folder_has_ledger_spending_and_targets(tmp_path: Path) -> None:
    proc = call_cli(
        "world=toy",
        "policy=all_three",
        "run.counterfactual=no_policy",
        "hydra.run.dir=results/runs/x",
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    folder = tmp_path / "results/runs/x"
    ledger = pd.read_parquet(folder / "ledger.parquet")
    spending = pd.read_parquet(folder / "spending.parquet")
    assert spending["amount"].sum() == pytest.approx(ledger["amount"].sum(), rel=1e-12)
    assert (folder / "counterfactual" / "monthly.parquet").is_file()
    import json

    summary = json.loads((folder / "summary.json").read_text())
    assert summary["targets"]["leading_firms"]["target"] == 20
    assert summary["caused"]["2027-12"]["firms"] == (
        summary["outcomes"]["2027-12"]["firms"]
        - pd.read_parquet(folder / "counterfactual/monthly.parquet")
        .set_index("month")
        .at["2027-12", "firms"]
    )
    assert "caused by the policy" in proc.stdout


@pytest.mark.slow
def test_bad_policy_input_is_rejected_before_anything_runs(tmp_path: Path) -> None:
    cases = [
        (
            "policy.huangpu_2024.talent_introduction.cap=-1",
            "policy.huangpu_2024.talent_introduction.cap",
        ),
        ("policy.huangpu_2024.rd_subsidy.approval_probability=1.5", "approval_probability"),
        ("run.counterfactual=huangpu_2024.nope", "run.counterfactual"),
    ]
    for override, field in cases:
        proc = call_cli("world=toy", "policy=huangpu_2024", override, cwd=tmp_path)
        assert proc.returncode == 2, (override, proc.stderr)
        assert field in proc.stderr and "Traceback" not in proc.stderr
    proc = call_cli("world=toy", "policy=nope", cwd=tmp_path)
    assert proc.returncode != 0 and "huangpu_2024" in proc.stderr
    assert not (tmp_path / "results" / "runs").exists() or not any(
        (tmp_path / "results/runs").iterdir()
    )

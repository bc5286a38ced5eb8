"""The report's pure functions on small hand-made tables: each checked against a hand count."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from clustersim.report import fmt
from clustersim.report.sections.assumptions import sensitivity
from clustersim.report.sections.costs import per_caused
from clustersim.report.sections.instruments import instrument_caused
from clustersim.report.sections.spending import RUNOUT_COLUMNS, budget_runout, budgets
from clustersim.report.stats import bootstrap_mean_ci, spearman, spread
from clustersim.report.style import POLICY_COLOURS, variant_colours


def test_spread_is_mean_and_5_95_percentiles_and_none_from_one_run():
    s = spread([1.0, 2.0, 3.0, 4.0, 100.0])
    assert s.mean == pytest.approx(22.0) and s.n == 5
    assert (s.low, s.high) == pytest.approx(tuple(np.quantile([1, 2, 3, 4, 100], [0.05, 0.95])))
    one = spread([7.0])
    assert one.mean == 7.0 and math.isnan(one.low) and math.isnan(one.high)


@pytest.mark.parametrize(
    ("treated", "control", "verdict"),
    [
        ([5.0, 6.0, 7.0, 5.5, 6.5], [0.0] * 5, "higher"),
        ([-5.0, -6.0, -7.0, -5.5], [0.0] * 4, "lower"),
        ([1.0, -1.0, 2.0, -2.0, 0.5, -0.5], [0.0] * 6, "indistinguishable"),
        ([3.0, 3.0, 3.0], [3.0, 3.0, 3.0], "zero"),
        ([4.0], [1.0], "single"),
        ([], [], "none"),
    ],
)
def test_bootstrap_verdicts(treated, control, verdict):
    e = bootstrap_mean_ci(treated, control)
    assert e.verdict == verdict
    if e.n >= 2:
        assert e.low <= e.mean <= e.high
        assert bootstrap_mean_ci(treated, control) == e  # fixed generator: reproducible


def test_bootstrap_pairs_by_position():
    # large seed-to-seed spread, constant paired difference: the CI is that difference
    base = np.array([100.0, 300.0, 50.0, 900.0])
    e = bootstrap_mean_ci(base + 2.0, base)
    assert (e.mean, e.low, e.high, e.verdict) == (2.0, 2.0, 2.0, "higher")


def test_per_caused_is_not_meaningful_for_effects_not_told_from_zero():
    spent = 1e6
    assert per_caused(spent, bootstrap_mean_ci([10.0, 12.0, 11.0]))[0] == pytest.approx(
        spent / 11.0
    )
    value, note = per_caused(spent, bootstrap_mean_ci([10.0, -12.0, 11.0, -8.0]))
    assert math.isnan(value) and "not distinguishable" in note
    value, note = per_caused(spent, bootstrap_mean_ci([-1.0, -2.0]))
    assert math.isnan(value) and "≤ 0" in note


def _ledger(rows):
    frame = pd.DataFrame(rows, columns=["job", "month", "amount", "largest"])
    return frame.assign(regime="r", issuer="huangpu", instrument="grant", grants=1)


def test_budget_runs_out_when_the_rest_cannot_pay_the_largest_grant():
    config = {"policy": {"r": {"budget_scale": 0.5, "grant": {"annual_budget": 20e6}}}}
    runs = pd.DataFrame({"job": ["a", "b"], "variant": ["v", "v"]})
    ledger = _ledger(
        [
            ("a", "2025-01", 4e6, 4e6),
            ("a", "2025-02", 4e6, 4e6),  # 8m of 10m spent: 2m left < 4m -> out in February
            ("b", "2025-03", 3e6, 3e6),  # 3m: 7m left, never out
            ("a", "2026-01", 1e6, 1e6),
        ]
    )
    out = budget_runout(ledger, runs, {"v": config}, ["v"])
    y2025 = out[out["year"] == 2025].iloc[0]
    assert y2025["budget"] == 10e6
    assert (y2025["ran_out"], y2025["n"], y2025["month"]) == (1, 2, "2025-02")
    assert y2025["spent_share"] == pytest.approx((0.8 + 0.3) / 2)
    assert out[out["year"] == 2026].iloc[0]["ran_out"] == 0
    # an entitlement (no budget line) or a switched-off instrument never runs out
    assert budgets({"policy": {"r": {"tax": {"annual_budget": None}}}}) == {}
    assert budgets({"policy": {"r": {"g": {"annual_budget": 1.0, "enabled": False}}}}) == {}


def _rationing(rows):
    frame = pd.DataFrame(rows, columns=["job", "month", "applications", "amount"])
    return frame.assign(
        regime="r", issuer="huangpu", instrument="grant", year=frame["month"].str[:4].astype(int)
    )


def test_budget_runs_out_in_the_first_month_a_run_recorded_a_turn_away():
    config = {"policy": {"r": {"budget_scale": 0.5, "grant": {"annual_budget": 20e6}}}}
    runs = pd.DataFrame({"job": ["a", "b", "c"], "variant": ["v", "v", "v"]})
    ledger = _ledger(
        [
            ("a", "2025-01", 4e6, 4e6),
            ("a", "2025-02", 4e6, 4e6),  # the estimate would say February ...
            ("b", "2025-03", 3e6, 3e6),
            ("c", "2025-01", 4e6, 4e6),
            ("c", "2025-02", 4e6, 4e6),  # c recorded nothing: its estimate stands
        ]
    )
    rationing = _rationing(
        [
            ("a", "2025-05", 1, 3e6),  # ... but a 2m application still fitted until May
            ("a", "2025-07", 2, 6e6),
            ("b", "2026-01", 1, 12e6),  # one application above the whole budget: no grant
        ]
    )
    out = budget_runout(ledger, runs, {"v": config}, ["v"], rationing, {"a", "b"})
    assert list(out.columns) == list(RUNOUT_COLUMNS)
    y2025 = out[out["year"] == 2025].iloc[0]
    # a ran out in May (recorded), c in February (estimated): the median (lower) is February
    assert (y2025["ran_out"], y2025["n"], y2025["estimated"]) == (2, 3, 1)
    assert y2025["month"] == "2025-02"
    assert y2025["turned_away"] == pytest.approx((3 + 0) / 2)  # mean over a and b
    assert y2025["turned_away_amount"] == pytest.approx(9e6 / 2)
    # a year with a turn-away and no grant at all is listed, and ran out
    y2026 = out[out["year"] == 2026].iloc[0]
    assert (y2026["ran_out"], y2026["month"], y2026["spent_share"]) == (1, "2026-01", 0.0)
    # with every run recorded, the ledger plays no part in the month
    only = budget_runout(
        ledger, runs[runs["job"] != "c"], {"v": config}, ["v"], rationing, {"a", "b"}
    )
    y2025 = only[only["year"] == 2025].iloc[0]
    assert (y2025["ran_out"], y2025["month"], y2025["estimated"]) == (1, "2025-05", 0)
    # no record at all: the estimate, as before (and NaN turn-aways)
    legacy = budget_runout(ledger, runs, {"v": config}, ["v"])
    y2025 = legacy[legacy["year"] == 2025].iloc[0]
    assert (y2025["ran_out"], y2025["month"], y2025["estimated"]) == (2, "2025-02", 3)
    assert np.isnan(y2025["turned_away"])
    assert 2026 not in set(legacy["year"])


def test_sensitivity_ranks_parameters_by_spearman():
    rng = np.random.default_rng(0)
    x, z = rng.uniform(size=12), rng.uniform(size=12)
    runs = pd.DataFrame(
        {
            "variant": "v",
            "behavior.a": x,
            "behavior.b": z,
            "firms@2027-12": np.exp(3 * x),  # monotone in a
            "employment@2027-12": 5.0,  # constant: no correlation
        }
    )
    s = sensitivity(runs, ["v"], ["behavior.a", "behavior.b"], "2027-12")
    firms = s[s["outcome"] == "firms"].set_index("parameter")["rho"]
    assert firms["behavior.a"] == pytest.approx(1.0)
    assert abs(firms["behavior.b"]) < 1
    assert s[s["outcome"] == "employment"]["rho"].isna().all()
    assert math.isnan(spearman([1, 2], [3, 4]))


def test_instrument_caused_uses_the_matching_runs_ledger():
    runs = pd.DataFrame({"job": ["v0", "v1"], "variant": "v", "replicate": ["seed=0", "seed=1"]})
    inst = pd.DataFrame(
        {
            "job": ["i0", "i1"],
            "variant": "v",
            "replicate": ["seed=0", "seed=1"],
            "counterfactual": "r.grant",
            "caused_employment@2027-12": [10.0, 14.0],
            "caused_firms@2027-12": [1.0, 1.0],
        }
    )
    ledger = _ledger([("v0", "2026-05", 2e6, 2e6), ("v1", "2027-12", 4e6, 4e6)])
    out = instrument_caused(inst, runs, ledger, ["v"], "2027-12", {"v": {"policy": {"r": {}}}})
    row = out.iloc[0]
    assert row["spending"] == 3e6 and row["caused_jobs"] == 12.0
    assert row["per_job"] == pytest.approx(3e6 / 12.0)
    assert row["per_firm"] == pytest.approx(3e6)
    # a variant without the plan has nothing to remove
    assert instrument_caused(inst, runs, ledger, ["v"], "2027-12", {"v": {"policy": {}}}).empty


def test_variant_colours_are_fixed_and_distinct():
    a = variant_colours(["all_three", "none", "x", "y"])
    b = variant_colours(["none", "pudong_2027", "all_three"])
    assert a["all_three"] == b["all_three"] == POLICY_COLOURS["all_three"]
    assert a["none"] == POLICY_COLOURS["none"]
    assert len(set(a.values())) == 4


def test_formatting():
    assert fmt.interval(1234.4, 1000.0, 1500.0) == "1,234 [1,000 – 1,500]"
    assert fmt.interval(3.0, math.nan, math.nan) == "3.00"
    assert fmt.signed_interval(-2.5, -4.0, -1.0) == "−2.50 [−4.00, −1.00]"
    # one column, one format: a whole number is not shown with fewer decimals
    assert [fmt.num(v) for v in (90.0, 90.5, 12.0)] == ["90.0", "90.5", "12.0"]
    assert fmt.interval(50.0, 48.1, 52.6) == "50.0 [48.1 – 52.6]"
    assert fmt.num(-0.001) == "0.00"
    assert fmt.millions(12.5e6) == "12.5"


@pytest.mark.parametrize(
    ("months", "title"),
    [
        (["2020-01", "2024-06", "2027-12"], "2. Trajectories 2020–2027"),
        (["2025-01", "2026-07", "2027-12"], "2. Trajectories 2025–2027"),
        (["2025-01", "2025-12"], "2. Trajectories 2025"),
    ],
)
def test_trajectory_section_is_titled_by_the_years_the_runs_span(months, title):
    from types import SimpleNamespace

    from clustersim.report.sections.trajectories import trajectory_section

    panel = pd.DataFrame(
        {
            "variant": ["none"] * len(months) * 2,
            "month": months * 2,
            "seed": [0] * len(months) + [1] * len(months),
            "firms": np.arange(2 * len(months), dtype=float),
        }
    )
    data = SimpleNamespace(panel=panel, variants=["none"], configs={})
    section = trajectory_section(data, {"none": "#000000"})
    assert section.title == title

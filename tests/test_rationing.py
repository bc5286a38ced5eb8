"""Applications turned away for lack of budget: counted by the rationing, recorded by the
engine per instrument-month, written to the run folder as ``rationing.parquet``."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

from clustersim.policy import engine as engine_mod
from clustersim.policy.engine import RATIONING_COLUMNS
from clustersim.policy.grants import TurnedAway, approve, capped_amounts, decide, ration
from clustersim.policy.instruments import applicant_cap, applicant_floor, requested_amount
from clustersim.runner import simulate, write_run
from tests.conftest import cases, scenario
from tests.test_grants import applications, budgets

#: The toy world under Huangpu's plan with 3% of its budgets: several budgets bind.
TIGHT = ("world=toy", "policy=huangpu_2024", "policy.huangpu_2024.budget_scale=0.03")
#: ... and with 1000 times its budgets: none binds.
LOOSE = ("world=toy", "policy=huangpu_2024", "policy.huangpu_2024.budget_scale=1000")


# --------------------------------------------------------------------------- the counting


def _turned_away(app: dict[str, Any], budget: float, paid: np.ndarray) -> np.ndarray:
    """Independently: approved applications with a positive amount that got nothing."""
    amounts = capped_amounts(
        app["requested"], cap=app["cap"], floor=app["floor"], received=app["received"]
    )
    approved = approve(amounts, app["approval_probability"], app["approval_draws"])
    return np.where(approved & (amounts > 0) & (paid == 0), amounts, 0.0)


@given(applications(), budgets)
@cases(300)
def test_counted_grants_are_the_same_grants_and_count_every_unpaid_approval(app, budget):
    decision = decide(**app, remaining_budget=budget)
    paid, (n, rmb, largest) = decision.paid, _counts(decision.turned_away)
    # the same grants as the three steps taken one by one
    amounts = capped_amounts(
        app["requested"], cap=app["cap"], floor=app["floor"], received=app["received"]
    )
    approved = approve(amounts, app["approval_probability"], app["approval_draws"])
    steps = ration(np.where(approved, amounts, 0.0), budget, app["priority_draws"])
    np.testing.assert_array_equal(paid, steps)
    away = _turned_away(app, budget, paid)
    assert n == int((away > 0).sum())
    assert rmb == pytest.approx(float(away.sum()), rel=1e-12)
    assert largest == (float(away.max()) if n else 0.0)
    if n:  # turned away only when the budget binds: what is left cannot pay the largest
        assert budget - paid.sum() < largest + 1e-9 * budget
    if math.isinf(budget):
        assert n == 0


def _counts(away: TurnedAway) -> tuple[int, float, float]:
    return away.applications, away.amount, away.largest


def _queue(amounts: list[float], budget: float, priority: list[float]):
    """Grant uncapped, all-approved applications from ``budget`` in ``priority`` order."""
    d = decide(np.array(amounts), remaining_budget=budget, priority_draws=np.array(priority))
    return d.paid, _counts(d.turned_away)


def test_a_spent_budget_turns_every_approved_application_away():
    paid, away = _queue([5.0, 0.0, 3.0], 0.0, [0.1, 0.2, 0.3])
    assert paid.tolist() == [0.0, 0.0, 0.0] and away == (2, 8.0, 5.0)


def test_the_queue_stops_at_the_first_misfit_and_counts_it_and_all_after():
    # served in priority order 2, 0, 1: 3 fits in 4, then 2 does not: 2 and 1 turned away
    paid, away = _queue([2.0, 1.0, 3.0], 4.0, [0.5, 0.9, 0.1])
    assert paid.tolist() == [0.0, 0.0, 3.0] and away == (2, 3.0, 2.0)


# --------------------------------------------------------------------------- the engine


def _budgets(result) -> dict[tuple[str, str], float]:
    regimes = result.scenario.regimes
    return {(i.regime, i.id): i.yearly_budget for r in regimes for i in r.instruments}


def test_a_binding_budget_records_turn_aways_within_one_application_of_the_budget():
    result = simulate(scenario(*TIGHT))
    away = result.rationing
    assert list(away.columns) == list(RATIONING_COLUMNS)
    assert len(away) >= 5 and away["instrument"].nunique() >= 3
    assert not away.duplicated(["regime", "instrument", "month"]).any()
    assert (away["applications"] >= 1).all() and (away["largest"] > 0).all()
    assert (away["amount"] >= away["largest"] * (1 - 1e-12)).all()
    assert (away["amount"] <= away["applications"] * away["largest"] * (1 + 1e-12)).all()
    assert (away["month"].str[:4].astype(int) == away["year"]).all()
    budget = _budgets(result)
    ledger = result.ledger.assign(month=result.ledger["month"].astype(str))
    for row in away.itertuples():
        line = budget[(row.regime, row.instrument)]
        assert math.isfinite(line) and line > 0
        mine = ledger[
            (ledger["regime"].astype(str) == row.regime)
            & (ledger["instrument"].astype(str) == row.instrument)
            & (ledger["year"] == row.year)
            & (ledger["month"] <= row.month)
        ]
        spent = float(mine["amount"].sum())  # granted in the year up to that month
        assert spent <= line * (1 + 1e-9), row
        # the first turned-away application (at most the largest) did not fit what was left
        assert line - spent < row.largest + 1e-9 * line, row


def test_the_engine_records_every_instrument_month_that_turned_an_approval_away(monkeypatch):
    """Each instrument of each month, recomputed alone from the ledger and its own draws."""
    calls: list[tuple[int, float]] = []
    decide_all = engine_mod.RegimeIncentives._decide

    def spy(self, model, batch, ids, base, bounds):
        decisions = decide_all(self, model, batch, ids, base, bounds)
        t, year = model.month_index, model.month.year
        for k, inst in enumerate(batch.instruments):
            s, e = bounds[k], bounds[k + 1]
            if s == e:
                continue
            mine, b = ids[s:e], base[s:e]
            amounts = capped_amounts(
                requested_amount(inst, b),
                cap=applicant_cap(inst, b),
                floor=applicant_floor(inst, b),
                received=self.ledger.received(inst, mine, year),
            )
            p = inst.approval_probability
            approved = amounts > 0
            if p < 1.0:
                approved &= model.streams.uniform("grant_approval", t, mine, key=inst.key) < p
            unpaid = approved & (decisions.paid[s:e] == 0)
            calls.append((int(unpaid.sum()), float(amounts[unpaid].sum())))
        return decisions

    monkeypatch.setattr(engine_mod.RegimeIncentives, "_decide", spy)
    away = simulate(scenario(*TIGHT, "seed=1")).rationing
    expected = [c for c in calls if c[0] > 0]
    assert len(away) == len(expected) > 0
    assert away["applications"].tolist() == [n for n, _ in expected]
    np.testing.assert_allclose(away["amount"], [rmb for _, rmb in expected], rtol=1e-12)


def test_no_policy_and_unlimited_budgets_record_no_turn_away(tmp_path: Path):
    none = simulate(scenario("world=toy", "policy=none"))
    assert none.rationing is None
    loose = simulate(scenario(*LOOSE))
    assert len(loose.ledger) > 0 and loose.rationing.empty
    assert list(loose.rationing.columns) == list(RATIONING_COLUMNS)
    write_run(none, tmp_path / "none", ["policy=none"])
    assert not (tmp_path / "none" / "rationing.parquet").exists()  # no plan: no ledger either
    write_run(loose, tmp_path / "loose", [])
    written = pd.read_parquet(tmp_path / "loose" / "rationing.parquet")
    assert written.empty and list(written.columns) == list(RATIONING_COLUMNS)


def test_rationing_parquet_is_the_recorded_table_beside_the_ledger(tmp_path: Path):
    result = simulate(scenario(*TIGHT))
    folder = write_run(result, tmp_path / "run", [])
    assert (folder / "ledger.parquet").is_file() and (folder / "spending.parquet").is_file()
    written = pd.read_parquet(folder / "rationing.parquet")
    pd.testing.assert_frame_equal(written, result.rationing, check_dtype=False)
    assert written["month"].str.fullmatch(r"\d{4}-\d{2}").all()
    # the same config and seed give the same bytes
    again = write_run(simulate(scenario(*TIGHT)), tmp_path / "again", [])
    assert (again / "rationing.parquet").read_bytes() == (folder / "rationing.parquet").read_bytes()

"""The levers: tables kept from month to month are the ones a fresh computation gives."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from clustersim.policy.engine import RegimeIncentives
from clustersim.policy.expectations import Expectations
from clustersim.policy.vocabulary import Event
from clustersim.runner import simulate
from tests.conftest import scenario


def _profit_award_for_high_tech(incentives: RegimeIncentives) -> RegimeIncentives:
    """The plans with one award on continuing profit for high-tech firms (its
    certification value moves with the firms, so it is never kept)."""
    regimes = []
    for reg in incentives.regimes:
        insts = []
        for inst in reg.instruments:
            if inst.key == "huangpu_2024.compute_subsidy":
                el = dataclasses.replace(
                    inst.eligible, event=Event.CONTINUOUS, certified=("high_tech",)
                )
                inst = dataclasses.replace(inst, eligible=el)
            insts.append(inst)
        regimes.append(dataclasses.replace(reg, instruments=tuple(insts)))
    return RegimeIncentives(regimes)


@pytest.mark.parametrize("moving", [False, True])
def test_kept_levers_equal_levers_computed_afresh(monkeypatch, moving):
    months = []
    levers = RegimeIncentives.levers

    def spy(self, model):
        kept = levers(self, model)
        fresh = Expectations()
        fresh._event_rate = dict(self.expectations._event_rate)  # the rates measured so far
        again = fresh.levers(model, self._in_force(model), lambda i: self._mask(model, i))
        for field in dataclasses.fields(kept):
            np.testing.assert_array_equal(
                getattr(kept, field.name), getattr(again, field.name), err_msg=field.name
            )
        months.append(float(np.asarray(kept.talent_offer).sum()))
        return kept

    monkeypatch.setattr(RegimeIncentives, "levers", spy)
    s = scenario("world=toy", "seed=5")
    incentives = RegimeIncentives.from_scenario(s)
    if moving:
        incentives = _profit_award_for_high_tech(incentives)
    simulate(s, incentives=incentives)
    assert len(months) == 96 and len(set(months)) > 3  # the talent offer changed over time


def test_a_firm_levers_are_its_kind_and_parks_cell_and_empty_slots_have_none() -> None:
    """Each operating firm's R&D share and response multipliers are the kinds x parks
    tables' cell of its kind and park; a slot without a firm has no share (0) and
    multipliers of 1 (the response to no value)."""
    s = scenario("world=toy", "seed=5", "world.end=2025-06", "run.report_months=[2025-06]")
    model = simulate(s).model
    engine = model.incentives
    levers = engine.levers(model)
    f = model.firms
    live = f.live()
    kind, park = f.kind[live], f.park[live]
    in_force = engine._in_force(model)
    # the tables of the instruments in force, summed afresh
    fixed = Expectations()._plan(model, in_force, lambda i: engine._mask(model, i))
    np.testing.assert_array_equal(levers.rd_share[live], fixed.rd_share[kind, park])
    dead = np.setdiff1d(np.arange(f.n_slots), live)
    assert len(dead) > 0
    np.testing.assert_array_equal(levers.rd_share[dead], 0.0)
    r = model.behavior.policy_response
    for name, event, strength in [
        ("high_tech_multiplier", Event.HIGH_TECH_CERT, r.certification_response),
        ("pilot_multiplier", Event.PILOT, r.pilot_response),
    ]:
        table = 1.0 + strength * np.log1p(fixed.cert_value[event] / r.response_scale)
        np.testing.assert_array_equal(getattr(levers, name)[live], table[kind, park], name)
        np.testing.assert_array_equal(getattr(levers, name)[dead], 1.0, name)
    # the tables were not all empty: some firm expects something
    assert levers.rd_share[live].any() and (levers.high_tech_multiplier[live] > 1.0).any()


@pytest.mark.parametrize("profit_award", [False, True])
def test_each_firm_instruments_row_is_its_value_worked_out_alone(monkeypatch, profit_award):
    """``Expectations._firm_values`` (rows of a table, worked out together) gives each
    firm instrument the value ``_firm_value`` works out for it alone, to the bit: paid on
    spending, on profit (certified firms only), once, per year present or per event."""
    table = Expectations._firm_values
    checked: set[str] = set()

    def spy(self, model, plan, years, typical, live):
        values = table(self, model, plan, years, typical, live)
        for j, pos in enumerate(plan.firm_rows.tolist()):
            inst = plan.instruments[pos]
            alone = self._firm_value(model, inst, float(years[pos]), typical, live)
            np.testing.assert_array_equal(values[j], alone, err_msg=inst.key)
            checked.add(inst.key)
        return values

    monkeypatch.setattr(Expectations, "_firm_values", spy)
    s = scenario("world=toy", "seed=4")
    incentives = RegimeIncentives.from_scenario(s)
    if profit_award:
        incentives = _profit_award_for_high_tech(incentives)
    simulate(s, incentives=incentives)
    assert "huangpu_2024.compute_subsidy" in checked
    assert len(checked) > 10

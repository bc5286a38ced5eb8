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

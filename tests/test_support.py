"""The effects of grants on their recipients: one rule, applied after the month's grants."""

from __future__ import annotations

import numpy as np
import pandas as pd

from clustersim.incentives import Grant
from clustersim.model import ClusterModel
from clustersim.policy.vocabulary import PayoutRule, Recipient, ServiceGrant
from clustersim.rules.support import RECENT_GRANT_SMOOTHING, apply_grants
from clustersim.runner import simulate
from clustersim.settings import load_scenario
from tests.conftest import scenario


def _instrument(s, pick):
    return next(i for r in s.regimes for i in r.instruments if pick(i))


def test_each_kind_of_grant_acts_on_its_recipients() -> None:
    s = scenario("world=toy", "policy=all_three")
    m = ClusterModel(s)
    f, tal, parks = m.firms, m.talent, m.parks
    firm, person = int(f.live()[0]), int(np.flatnonzero(tal.alive)[0])
    cash = _instrument(s, lambda i: i.recipient is Recipient.FIRM and i.payout.rule.cash)
    residency = _instrument(s, lambda i: i.payout.gives is ServiceGrant.RESIDENCY)
    housing = _instrument(s, lambda i: i.payout.gives is ServiceGrant.HOUSING)
    carrier = _instrument(s, lambda i: i.payout.rule is PayoutRule.CAPACITY)
    tal.residency[person] = tal.housing[person] = False
    financing, capacity = f.financing[firm], parks.capacity[0]
    one = np.array([1.0e6])
    apply_grants(
        m,
        [
            Grant(cash, np.array([firm]), one),
            Grant(residency, np.array([person]), one),
            Grant(housing, np.array([person]), one),
            Grant(carrier, np.array([0]), one),
        ],
    )
    assert f.subsidies[firm] == 1e6 and f.financing[firm] < financing
    assert f.recent_grants[firm] == 1e6 * RECENT_GRANT_SMOOTHING
    assert tal.residency[person] and tal.housing[person] and tal.awards[person] == 2e6
    workstations = 1e6 / s.behavior.policy_response.workstation_cost
    assert parks.capacity[0] == capacity + workstations
    apply_grants(m, [])  # a month without grants: recent grants fade
    assert f.recent_grants[firm] == 1e6 * RECENT_GRANT_SMOOTHING * (1 - RECENT_GRANT_SMOOTHING)


def test_the_order_in_which_instruments_are_listed_does_not_matter() -> None:
    """Effects act after all of the month's grants, so no instrument sees another's."""
    s = scenario("world=toy", "policy=all_three", "seed=2")
    plain = dict(s.plain)
    plain["policy"] = {
        name: dict(reversed(list(regime.items()))) for name, regime in reversed(s.policy.items())
    }
    flipped = load_scenario(plain)
    assert [r.name for r in flipped.regimes] == [r.name for r in reversed(s.regimes)]
    a, b = simulate(s), simulate(flipped)
    key = ["month", "regime", "instrument", "recipient_id"]
    la = a.ledger.astype({"regime": str, "instrument": str}).sort_values(key)
    lb = b.ledger.astype({"regime": str, "instrument": str}).sort_values(key)
    pd.testing.assert_frame_equal(
        la.reset_index(drop=True), lb.reset_index(drop=True), check_categorical=False
    )
    pd.testing.assert_frame_equal(a.firms_yearly, b.firms_yearly)
    counts = ["firms", "entries", "exits", "hires", "patents_new"]
    pd.testing.assert_frame_equal(a.monthly[counts], b.monthly[counts])

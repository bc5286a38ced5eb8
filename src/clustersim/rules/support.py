"""What grants do to their recipients (ODD submodel "Effects of grants").

The incentives decide who gets how much (``clustersim.policy``); this rule lets the money
and privileges act on the agents that got them:

- a firm's grants add to its subsidies received; a cash grant (anything but an in-kind
  service) also relaxes its financing constraint, by ``exp(-financing_relief x grant /
  annual wage bill)``, and adds to its recent cash grants, which raise the growth it wants
  while they last (the incentives' ``growth_bonus`` lever reads them);
- a person's grants add to the awards received; a service gives the status its
  instrument names (``payout.gives``: residency or housing support), which lowers the
  hazard of leaving Shanghai (``rules.labour.leave``);
- a carrier grant to a park operator adds ``amount / workstation_cost`` workstations.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from clustersim.policy.vocabulary import PayoutRule, Recipient, ServiceGrant

if TYPE_CHECKING:
    from clustersim.incentives import Grant
    from clustersim.model import ClusterModel

#: Monthly weight of this month's cash grants in a firm's recent grants (a year's memory).
RECENT_GRANT_SMOOTHING = 1.0 / 12.0


def apply_grants(model: ClusterModel, grants: Iterable[Grant]) -> None:
    """Let one month's grants act on their recipients (see the module docstring)."""
    fade_recent_grants(model)
    for g in grants:
        apply_grant(model, g)


def fade_recent_grants(model: ClusterModel) -> None:
    """Age every firm's recent cash grants by one month, before the month's grants."""
    model.firms.recent_grants *= 1.0 - RECENT_GRANT_SMOOTHING


def apply_grant(model: ClusterModel, g: Grant) -> None:
    """Let one instrument's grants of this month act on their recipients."""
    inst, ids, paid = g.instrument, g.ids, g.paid
    r = model.behavior.policy_response
    if inst.recipient is Recipient.FIRM:
        f = model.firms
        np.add.at(f.subsidies, ids, paid)
        if inst.payout.rule is not PayoutRule.SERVICE:
            wages = np.maximum(f.wage_bill[ids] * 12.0, 1.0)
            f.financing[ids] *= np.exp(-r.financing_relief * paid / wages)
            np.add.at(f.recent_grants, ids, paid * RECENT_GRANT_SMOOTHING)
    elif inst.recipient is Recipient.TALENT:
        tal = model.talent
        np.add.at(tal.awards, ids, paid)
        if inst.payout.gives is ServiceGrant.RESIDENCY:
            tal.residency[ids] = True
        elif inst.payout.gives is ServiceGrant.HOUSING:
            tal.housing[ids] = True
    elif inst.payout.rule is PayoutRule.CAPACITY:
        np.add.at(model.parks.capacity, ids, paid / r.workstation_cost)

"""Firm growth: the size a firm wants follows a Gibrat-type process (ODD "Growth").

Each January (and in its first month after entry) a firm draws its growth plan for the
calendar year: a log growth rate from a Laplace ("tent-shaped") distribution whose
standard deviation falls with size as people ** -size_elasticity. Growth rates of real
firms are Laplace-shaped over a year (Stanley et al. 1996, Nature 379; Bottazzi and
Secchi 2003) with that size scaling (beta about 0.15-0.2): a sum of twelve independent
monthly shocks would be close to Normal instead, so the year's plan is drawn once and
spread evenly over its months. The plan is centred so that its expected effect on size
(not log size) is nil: the kind's drift alone sets how fast firms grow on average.
Monthly log growth is that drift, shifted by productivity, the financing constraint and
incentives, plus a twelfth of the plan.

A target below the exit size closes the firm (see ``exits``), a target above the ceiling
is reflected: with these thresholds the size distribution keeps a heavy, stable right
tail instead of exploding or collapsing as pure Gibrat growth does (Richiardi 2004).
A firm winding down towards closure does not grow: it sheds a fixed share a month.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.levers import for_firms
from clustersim.rules.sampling import laplace_at

if TYPE_CHECKING:
    from clustersim.incentives import Levers
    from clustersim.model import ClusterModel

#: Effect of log productivity on monthly drift. Assumption: one s.d. (0.3) of
#: productivity adds ~0.6 percentage points a year.
PRODUCTIVITY_DRIFT = 0.002


def grow_firms(model: ClusterModel, levers: Levers) -> None:
    """Update every operating firm's target size by one month of growth."""
    g = model.behavior.growth
    f = model.firms
    t = model.month_index
    if not g.enabled:
        return
    live = f.established(t)  # this month's entrants start growing next month
    target = f.target[live]
    year = model.calendar[t].year
    plan = f.growth_plan[live]
    new_plan = f.plan_year[live] != year  # each January, and in a firm's first month
    if new_plan.any():
        w = model.people_per_talent_agent
        people = np.maximum(target[new_plan] * w, 1.0)
        sigma = np.minimum(g.volatility * people ** (-g.size_elasticity), 1.2)
        # centred so that the expected change of size (not of log size) is the drift:
        # a Laplace with scale b has E[exp(x)] = 1 / (1 - b**2)
        centre = np.log1p(-0.5 * sigma**2)
        # the draws of the month's stream over every firm slot, at the slots planning now
        shock = laplace_at(
            model.streams.at("growth", t),
            1.0 / np.sqrt(2.0),
            model.firm_slots_through(t),
            live[new_plan],
        )
        plan[new_plan] = sigma * shock + centre
        planning = live[new_plan]
        f.growth_plan[planning] = plan[new_plan]
        f.plan_year[planning] = year
    bonus = for_firms(levers.growth_bonus, live)
    drift = (
        g.drift.array()[f.kind[live]]
        + PRODUCTIVITY_DRIFT * f.productivity[live]
        - g.financing_drag * f.financing[live]
        + bonus
    )
    new = target * np.exp(drift + plan / 12.0)
    over = new > g.max_size
    new[over] = g.max_size**2 / new[over]
    shrinking = f.winding_down[live]
    if shrinking.any():
        decline = model.behavior.exit.wind_down.monthly_decline
        new[shrinking] = target[shrinking] * (1.0 - decline)
    f.set_target(live, new)

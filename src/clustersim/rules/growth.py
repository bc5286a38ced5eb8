"""Firm growth: the size a firm wants follows a Gibrat-type process (ODD "Growth").

Monthly log growth of the target size is a kind's drift, shifted by productivity, the
financing constraint and incentives, plus a Laplace ("tent-shaped", Stanley et al. 1996)
shock whose scale falls with size as size ** -elasticity. A target below the exit size
closes the firm (see ``exit``), a target above the ceiling is reflected: with these
thresholds the size distribution keeps a heavy, stable right tail instead of exploding
or collapsing as pure Gibrat growth does (Richiardi 2004).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

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
    rng = model.streams.at("growth", t)
    shock_all = rng.laplace(0.0, 1.0 / np.sqrt(2.0), model.firm_slots_through(t))
    if not g.enabled:
        return
    live = f.live()
    live = live[f.born[live] < t]  # this month's entrants start growing next month
    target = f.target[live]
    sigma = g.volatility * np.maximum(target, 1.0) ** (-g.size_elasticity)
    bonus = np.broadcast_to(levers.growth_bonus, f.alive.shape)[live]
    drift = (
        g.drift.array()[f.kind[live]]
        + PRODUCTIVITY_DRIFT * f.productivity[live]
        - g.financing_drag * f.financing[live]
        + bonus
    )
    new = target * np.exp(drift + sigma * shock_all[live])
    over = new > g.max_size
    new[over] = g.max_size**2 / new[over]
    f.target[live] = new

"""Firm exit: closure by hazard, or when the wanted size falls below the threshold."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


def exit_firms(model: ClusterModel) -> None:
    """Close firms: a kind's monthly hazard, higher when young or financially constrained.

    Firms whose target size fell below ``growth.exit_size`` close too. Their staff become
    unemployed and search in this month's labour market.
    """
    x = model.behavior.exit
    f = model.firms
    t = model.month_index
    u_all = model.streams.at("exit", t).random(model.firm_slots_through(t), dtype=np.float32)
    live = f.live()
    if not x.enabled:
        return
    closing = f.target[live] < model.behavior.growth.exit_size
    young = (t - f.born[live]) < x.young_months
    hazard = (
        x.hazard.array()[f.kind[live]]
        * np.where(young, x.young_multiplier, 1.0)
        * (1.0 + x.financing_multiplier * f.financing[live])
    )
    closing |= u_all[live] < hazard
    gone = live[closing & (f.born[live] < t)]
    if len(gone) == 0:
        return
    f.alive[gone] = False
    f.staff[gone] = 0
    tal = model.talent
    laid_off = model.staff_of(gone)
    tal.release(laid_off)
    model.tally["exits"] += len(gone)
    model.tally["exit_jobs"] += len(laid_off) * model.people_per_talent_agent

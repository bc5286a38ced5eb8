"""Firm exit: closure by a hazard that falls with size and age (ODD "Exit").

A firm's yearly closure hazard is its size class's rate times its age class's multiplier
(exit falls with size and with age: Haltiwanger, Jarmin and Miranda 2013, from the US
Business Dynamics Statistics), times its kind's multiplier and its financing constraint.
A small firm hit by closure closes this month. A large one (``exit.wind_down``) does not
vanish overnight: it winds down, shedding a share of its wanted size every month, and
closes once it has become small (large firms shrink before they close: Griliches and
Regev 1995, Almus 2004). Firms whose wanted size fell below ``growth.exit_size`` close.
The staff of a closing firm become unemployed and search in this month's labour market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


def exit_firms(model: ClusterModel) -> None:
    """Close firms, or start their wind-down (see the module docstring)."""
    x = model.behavior.exit
    f = model.firms
    t = model.month_index
    u_all = model.streams.at("exit", t).random(model.firm_slots_through(t), dtype=np.float32)
    live = f.live()
    if not x.enabled:
        return
    live = live[f.born[live] < t]  # this month's entrants cannot close yet
    w = model.people_per_talent_agent
    people = f.employees(w, live)
    hazard = x.monthly_hazard(people, (t - f.born[live]) / 12.0, f.kind[live], f.financing[live])
    hit = (u_all[live] < hazard) & ~f.winding_down[live]
    large = np.maximum(people, f.target[live] * w) >= x.wind_down.min_employees
    f.winding_down[live[hit & large]] = True
    closing = (hit & ~large) | (f.target[live] < model.behavior.growth.exit_size)
    closing |= f.winding_down[live] & (people < x.wind_down.close_below)
    gone = live[closing]
    if len(gone) == 0:
        return
    f.close(gone)
    f.winding_down[gone] = False
    f.staff[gone] = 0
    tal = model.talent
    laid_off = model.staff_of(gone)
    tal.release(laid_off)
    model.tally["exits"] += len(gone)
    model.tally["exit_jobs"] += len(laid_off) * model.people_per_talent_agent

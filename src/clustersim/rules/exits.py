"""Firm exit: closure by a hazard that falls with size and age (ODD "Exit").

A firm's yearly closure hazard is its size class's rate times its age class's multiplier
(exit falls with size and with age: Haltiwanger, Jarmin and Miranda 2013, from the US
Business Dynamics Statistics), times its kind's multiplier and its financing constraint.
A small firm hit by closure closes this month. A large one (``exit.wind_down``) does not
vanish overnight: it winds down, shedding a share of its wanted size every month, and
closes once it has become small (large firms shrink before they close: Griliches and
Regev 1995, Almus 2004). Firms whose wanted size fell below ``growth.exit_size`` close.
The staff of a closing firm become unemployed (``rules.staff``) and search in this month's
labour market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.sampling import Draws, Float32Uniforms, below

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.settings.behavior import Exit


def exit_firms(model: ClusterModel) -> np.ndarray:
    """Close firms, or start their wind-down (see the module docstring).

    Returns the slots of the firms closed this month, whose staff are still employed
    (``rules.staff.follow_firms`` releases them).
    """
    x = model.behavior.exit
    f = model.firms
    t = model.month_index
    # rng.random(n, dtype=np.float32) over the firm slots, kept as words (Float32Uniforms)
    (u_all,) = Float32Uniforms.draw(model.streams.at("exit", t), model.firm_slots_through(t))
    live = f.live()
    if not x.enabled:
        return live[:0]
    live = f.established(t)  # this month's entrants cannot close yet
    w = model.people_per_talent_agent
    people = f.employees(w, live)
    target = f.target[live]
    # rows of the firms hit by closure (a few in a hundred), those winding down already aside
    hit = _hit_by_closure(model, live, people, u_all.take(live))
    hit = hit[~f.winding_down[live[hit]]]
    large = np.maximum(people[hit], target[hit] * w) >= x.wind_down.min_employees
    f.winding_down[live[hit[large]]] = True
    closing = target < model.behavior.growth.exit_size
    closing[hit[~large]] = True
    closing |= f.winding_down[live] & (people < x.wind_down.close_below)
    gone = live[closing]
    if len(gone) == 0:
        return gone
    f.close(gone)
    f.winding_down[gone] = False
    f.set_staff(gone, 0)
    model.tally["exits"] += len(gone)
    return gone


def _hit_by_closure(
    model: ClusterModel, live: np.ndarray, people: np.ndarray, u: Draws
) -> np.ndarray:
    """Rows of the firms ``live`` whose draw ``u`` falls below their monthly closure hazard.

    Only a draw below the highest hazard any of them can have can be a hit, so the hazard
    is worked out for those firms alone (a few in a hundred), the others being screened
    out by one comparison (``highest_hazard``).
    """
    x, f = model.behavior.exit, model.firms
    maybe = below(u, highest_hazard(x, f.financing[live])).nonzero()[0]
    firms = live[maybe]
    age = (model.month_index - f.born[firms]) / 12.0
    hazard = x.monthly_hazard(people[maybe], age, f.kind[firms], f.financing[firms])
    return maybe[u[maybe] < hazard]


def highest_hazard(x: Exit, financing: np.ndarray) -> float:
    """An upper bound of the monthly closure hazard of firms with these financing constraints.

    The annual hazard is a product of non-negative factors (a size class's rate, an age
    class's and a kind's multiplier, and ``1 + financing_multiplier x constraint``, which
    grows with the constraint), so the product of each factor's largest value bounds every
    firm's; floating-point products are monotone in each factor, so the bound holds after
    rounding too. The monthly hazard grows with the annual one; a relative margin of 1e-9
    covers the rounding of that conversion. ``tests/test_model_invariants.py`` checks the
    bound every month.
    """
    if len(financing) == 0:
        return 0.0
    annual = (
        max(x.annual_hazard)
        * max(x.age_multiplier)
        * float(x.kind_multiplier.array().max())
        * (1.0 + x.financing_multiplier * float(financing.max()))
    )
    return (1.0 - (1.0 - min(annual, 1.0)) ** (1.0 / 12.0)) * (1.0 + 1e-9)

"""R&D, patents, certifications and pilot projects (ODD "Innovation").

A firm spends a kind-specific share of its wage bill on R&D; an R&D subsidy lowers the
price of R&D and raises spending with the price elasticity of R&D. The R&D stock
depreciates; patents arrive at a rate that rises with the square root of the stock.
Firms with patents seek high-tech certification, small firms with several patents the
"specialised and innovative" label; pilot projects arrive at a kind-specific rate.
Incentives act through the levers (``rd_share``, certification and pilot multipliers).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.levers import for_firms
from clustersim.rules.sampling import Float32Uniforms, poisson

if TYPE_CHECKING:
    from clustersim.incentives import Events, Levers
    from clustersim.model import ClusterModel

#: A subsidy can reimburse at most this share of R&D (guards the price term). Assumption.
MAX_RD_SHARE = 0.8


def innovate(model: ClusterModel, levers: Levers, events: Events) -> None:
    """One month of R&D spending, knowledge accumulation, patents, labels and pilots."""
    inno = model.behavior.innovation
    f = model.firms
    t = model.month_index
    n_alloc = model.firm_slots_through(t)
    rng = model.streams.at("innovation", t)
    # rng.random((4, n_alloc), dtype=np.float32), kept as words (Float32Uniforms)
    u_patent, u_cert, u_label, u_pilot = Float32Uniforms.draw(rng, *[n_alloc] * 4)
    live = f.live()
    kind = f.live_kind()

    spend = inno.rd_intensity.array()[kind] * f.wage_bill[live]
    # a subsidy lowers R&D's price: spending x (1 - share) ** -elasticity, a factor of
    # exactly 1 without one, so only the subsidised firms' spending is worked out again
    if np.ndim(levers.rd_share) != 0 or levers.rd_share != 0:
        share = for_firms(levers.rd_share, live)
        subsidised = share.nonzero()[0]
        share = np.minimum(share[subsidised], MAX_RD_SHARE)
        spend[subsidised] *= (1.0 - share) ** (-inno.rd_price_elasticity)
    f.rd_spend[:] = 0.0
    f.rd_spend[live] = spend
    stock = f.rd_stock[live] * (1.0 - inno.rd_depreciation / 12.0) + spend
    f.rd_stock[live] = stock

    # Poisson counts by inversion (sampling.poisson, which works out only the few
    # positive ones); the firms with new patents and how many
    counts = poisson(u_patent[live], inno.patent_rate * np.sqrt(stock / 1e6))
    rows = counts.nonzero()[0]
    new_patents = counts[rows]
    patenting = live[rows]
    f.patents[patenting] += new_patents
    patents = f.patents[live]
    events.patents, events.patent_counts = patenting, new_patents

    # the labels: only the firms that seek one draw against its hazard (a third or less
    # of the firms), each compared exactly as among all of them
    seeking = live[~f.high_tech[live] & (patents > 0)]
    mult = for_firms(levers.high_tech_multiplier, seeking)
    certified = seeking[u_cert[seeking] < np.minimum(1.0, inno.high_tech_hazard * mult)]
    f.high_tech[certified] = True
    events.high_tech_new = certified

    seeking = live[~f.specialised[live] & (patents > 1)]
    small = f.staff[seeking] * model.people_per_talent_agent <= inno.specialised_max_employees
    seeking = seeking[small]
    mult = for_firms(levers.specialised_multiplier, seeking)
    labelled = seeking[u_label[seeking] < np.minimum(1.0, inno.specialised_hazard * mult)]
    f.specialised[labelled] = True
    events.specialised_new = labelled

    piloting, pilots = _pilots(model, levers, u_pilot, live, kind)
    f.pilots[piloting] += pilots
    events.pilots_new = piloting

    model.tally["patents_new"] += int(new_patents.sum())
    model.tally["pilots_new"] += int(pilots.sum())
    model.tally["rd_spend"] += float(spend.sum())


def _pilots(
    model: ClusterModel, levers: Levers, u: Float32Uniforms, live: np.ndarray, kind: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The operating firms with new pilot projects this month, in slot order, and how many.

    The counts are ``poisson(u[live], pilot_rate[kind] x multiplier)``, a Poisson count by
    inversion. Pilots are rare (a few in a thousand firms a month), and a count can be
    positive only where the draw exceeds ``1 - rate`` (``sampling.poisson``); so the
    draws are screened first against the highest rate any firm can have (the largest
    kind rate times the largest multiplier), as words (``Float32Uniforms``), and the
    rates and counts are worked out for the few firms that pass: the same counts.
    """
    inno = model.behavior.innovation
    f = model.firms
    rate = inno.pilot_rate.array()
    lever = levers.pilot_multiplier
    highest = float(rate.max()) * float(np.max(lever))
    if not 0.0 <= highest < 1.0:  # a bound too weak (or not a number) to screen with
        pilots = poisson(u[live], rate[kind] * for_firms(lever, live))
        has = pilots > 0
        return live[has], pilots[has]
    # a draw k * 2**-24 exceeds (1 - highest) - 1e-12, the sampler's own screen at the
    # highest rate, only if k is above that bound scaled by 2**24 (a power of two: exact)
    floor_steps = math.floor(((1.0 - highest) - 1e-12) * 2.0**24)
    slots = u.steps_above(floor_steps).nonzero()[0]
    slots = slots[f.alive[slots]]  # operating firms, in slot order as live() is
    if len(slots) == 0:  # most months
        return slots, np.zeros(0, dtype=np.int64)
    pilots = poisson(u[slots], rate[f.kind[slots]] * for_firms(lever, slots))
    has = pilots > 0
    return slots[has], pilots[has]

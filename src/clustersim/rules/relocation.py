"""Relocation: now and then a firm reviews its park and moves if it pays (ODD "Relocation").

A reviewing firm compares the utility of staying with that of every other park with room
for its staff, less a moving cost, by a logit draw (one uniform per firm slot, so the
draws are common to a run and its counterfactual). Movers take their staff with them;
every move is recorded (firm, month, from, to, employees) so that jobs moved between
districts can be told apart from jobs created.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.location import firm_counts, park_utility
from clustersim.rules.sampling import Float32Uniforms, logit_probs

if TYPE_CHECKING:
    from clustersim.incentives import Events, Levers
    from clustersim.model import ClusterModel


def relocate_firms(model: ClusterModel, levers: Levers, events: Events) -> np.ndarray:
    """Let reviewing firms move to a better park within capacity; record the moves.

    Returns the slots of the firms that moved; their staff follow them to the new park
    in ``rules.staff.follow_firms``.
    """
    r = model.behavior.relocation
    f = model.firms
    t = model.month_index
    n_alloc = model.firm_slots_through(t)
    rng = model.streams.at("relocation", t)
    # rng.random((2, n_alloc), dtype=np.float32), kept as words (Float32Uniforms)
    u_review, u_choice = Float32Uniforms.draw(rng, n_alloc, n_alloc)
    live = f.live()
    if not r.enabled:
        return live[:0]
    # this month's entrants do not review yet; the draws compared as float32 numbers, as
    # numpy compares float32 draws with a Python float
    firms = f.established(t)
    movers = firms[u_review.take(firms).below(np.float32(r.review_rate))]
    if len(movers) == 0:
        return movers
    park_people = model.park_employees()
    base, subsidy = park_utility(model, levers, firm_counts(model), park_people)
    kind, here = f.kind[movers], f.park[movers]
    sensitive = f.sensitive[movers]
    utility = base[kind] + sensitive[:, None] * subsidy[kind]
    rows = np.arange(len(movers))
    stay = utility[rows, here]  # staying costs nothing and needs no room
    utility -= r.moving_cost
    people = f.employees(model.people_per_talent_agent, movers)
    free = model.parks.capacity - park_people
    utility[people[:, None] > free[None, :]] = -np.inf
    utility[rows, here] = stay
    dest = _choose(logit_probs(utility, model.behavior.entry.noise_scale), u_choice.take(movers))

    moved = []
    for i in np.flatnonzero(dest != here):  # few a month; capacity is checked in order
        p = dest[i]
        if people[i] <= free[p]:
            free[p] -= people[i]
            free[here[i]] += people[i]
            moved.append(i)
    if not moved:
        return movers[:0]
    moved = np.asarray(moved)
    slots = movers[moved]
    model.record_relocations(slots, here[moved], dest[moved], people[moved])
    f.set_park(slots, dest[moved])
    events.relocations_in = slots
    model.tally["relocations"] += len(slots)
    model.tally["relocation_jobs"] += float(people[moved].sum())
    return slots


def _choose(probs: np.ndarray, u: Float32Uniforms) -> np.ndarray:
    """``sampling.categorical(probs, u[:])`` for the few reviewing firms, in fewer steps.

    A row's option is the count of its cumulative probabilities below its draw, the
    last one set just above 1 (round-off never leaves a draw beyond the last option).
    The cumulative sums are numpy's running sums along each row, left to right: the same
    numbers as ``row_cumsum``'s column by column (one addition each, in the same order).
    """
    cum = np.add.accumulate(probs, axis=1)
    cum[:, -1] = 1.0 + 1e-12
    return np.add.reduce(cum < u.values()[:, None], axis=1, dtype=np.int64)

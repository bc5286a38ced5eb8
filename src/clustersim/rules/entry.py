"""Firm entry: this month's candidates choose a park or the outside option (ODD "Entry").

Each candidate draws its kind, starting size, productivity and financing constraint, a
Gumbel shock per option, and whether its choice weighs subsidies at all (the but-for
share). It then takes the option of highest utility among the parks with room for it
and the outside option. All draws are made before any choice, from a stream whose size
does not depend on the policy, so a run and its counterfactual face the same candidates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.location import agglomeration_return, firm_counts, like_firms, park_utility
from clustersim.rules.sampling import categorical_fixed

if TYPE_CHECKING:
    from clustersim.incentives import Events, Levers
    from clustersim.model import ClusterModel

#: Dispersion (log s.d.) of an entrant's starting size around its kind's mean. Assumption.
ENTRY_SIZE_SIGMA = 0.8
#: Rounds of re-choice when a park fills up within a month.
MAX_PASSES = 6


def enter_firms(
    model: ClusterModel, levers: Levers, events: Events, park_people: np.ndarray | None = None
) -> None:
    """Let this month's candidate firms choose; create the ones that come.

    ``park_people``: the people employed in each park now, when the caller has them.
    """
    t = model.month_index
    slots = model.firm_candidates(t)
    n = len(slots)
    if n == 0:
        return
    e = model.behavior.entry
    rng = model.streams.at("entry", t)
    shares = np.asarray(model.world.firm_entrants.shares, dtype=np.float64)
    kind = categorical_fixed(shares, rng.random(n))
    size = e.initial_size_mean.array()[kind] * rng.lognormal(
        -0.5 * ENTRY_SIZE_SIGMA**2, ENTRY_SIZE_SIGMA, n
    )
    productivity = rng.normal(0.0, 0.3, n)
    financing = rng.beta(2.0, 4.0, n)
    sensitive = rng.random(n) < e.but_for_share
    noise = e.noise_scale * rng.gumbel(size=(n, len(model.parks) + 1))

    people = size * model.people_per_talent_agent
    if park_people is None:
        park_people = model.park_employees()
    free = model.parks.capacity - park_people
    if e.sequential:
        choice = _choose_one_at_a_time(
            model, levers, kind, sensitive, noise, people, free, park_people
        )
    else:
        choice = _choose_in_batch(model, levers, kind, sensitive, noise, people, free, park_people)

    come = choice >= 0
    new = slots[come]
    f = model.firms
    f.start(new)
    f.kind[new] = kind[come]
    f.set_park(new, choice[come])
    f.set_target(new, size[come])
    f.productivity[new] = productivity[come]
    f.financing[new] = financing[come]
    f.sensitive[new] = sensitive[come]
    f.born[new] = t
    events.entries = new
    model.tally["entries"] += len(new)


def _utilities(model, levers, kind, sensitive, noise, counts, park_people):
    base, subsidy = park_utility(model, levers, counts, park_people)
    u = base[kind] + sensitive[:, None] * subsidy[kind] + noise[:, :-1]
    outside = model.world.firm_entrants.outside_utility.array()[kind] + noise[:, -1]
    return u, outside


def _choose_in_batch(
    model, levers, kind, sensitive, noise, people, free, park_people
) -> np.ndarray:
    """All candidates choose at once; when a park overfills, later arrivals choose again."""
    u, outside = _utilities(model, levers, kind, sensitive, noise, firm_counts(model), park_people)
    n, n_parks = u.shape
    blocked = people[:, None] > free[None, :]
    choice = np.full(n, -1, dtype=np.int64)
    pending = np.ones(n, dtype=bool)
    for _ in range(MAX_PASSES):
        masked = np.where(blocked, -np.inf, u)
        best = np.argmax(masked, axis=1)
        best_u = masked[np.arange(n), best]
        pick = np.where(best_u > outside, best, -1)
        pick[~pending] = choice[~pending]
        # in arrival order, a park admits candidates while its room lasts
        inside = pending & (pick >= 0)
        idx = inside.nonzero()[0]
        order = np.lexsort((idx, pick[idx]))
        idx = idx[order]
        parks_of = pick[idx]
        cum = np.cumsum(people[idx])
        # people placed before each candidate's park's first candidate (parks in order)
        new_park = np.ones(len(idx), dtype=bool)
        np.not_equal(parks_of[1:], parks_of[:-1], out=new_park[1:])
        first = np.maximum.accumulate(np.where(new_park, np.arange(len(idx)), 0))
        offset = np.concatenate(([0.0], cum))[first]
        fits = (cum - offset) <= free[parks_of]
        accepted = idx[fits]
        rejected = idx[~fits]
        choice[accepted] = pick[accepted]
        pending[accepted] = False
        outside_now = pending & (pick < 0)
        pending[outside_now] = False
        if len(rejected) == 0:
            break
        used = np.bincount(pick[accepted], weights=people[accepted], minlength=n_parks)
        free = free - used
        blocked = blocked | (people[:, None] > free[None, :])
        blocked[rejected, pick[rejected]] = True
    return choice


def _choose_one_at_a_time(
    model, levers, kind, sensitive, noise, people, free, park_people
) -> np.ndarray:
    """Arthur's process: candidates arrive one by one and see everyone placed before them."""
    counts = firm_counts(model)
    base, subsidy = park_utility(model, levers, np.zeros_like(counts), park_people)
    agg = model.behavior.agglomeration
    site = base - agglomeration_return(like_firms(model, np.zeros_like(counts)), agg)
    outside = model.world.firm_entrants.outside_utility.array()[kind] + noise[:, -1]
    choice = np.full(len(kind), -1, dtype=np.int64)
    free = free.copy()
    for i, k in enumerate(kind):
        g = agglomeration_return(like_firms(model, counts)[k], agg)
        u = site[k] + g + sensitive[i] * subsidy[k] + noise[i, :-1]
        u[people[i] > free] = -np.inf
        p = int(np.argmax(u))
        if u[p] > outside[i]:
            choice[i] = p
            counts[k, p] += 1
            free[p] -= people[i]
    return choice

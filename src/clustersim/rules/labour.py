"""The labour market: talent leaves, arrives, is laid off, searches and is hired.

ODD submodels "Talent leaving", "Talent arrival" and "Job search and matching". In a
month: (1) some talent leaves Shanghai; (2) candidate cohorts decide whether to come;
(3) firms above their wanted size lay off staff; (4) firms post vacancies by tier, as
much as their park's room allows; (5) the unemployed, and some employed, each choose a
park to search in (more vacancies, higher wages and talent awards attract); (6) within
each park and tier, searchers fill vacancies in a random order.
People are conserved: initial + arrived = employed + unemployed + left.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustersim.rules.sampling import (
    Draws,
    Float32Uniforms,
    below,
    categorical_by_row,
    categorical_fixed,
    logit_probs,
    order_by_group,
    rank_within_groups,
    round_by_cumulative,
    round_by_cumulative_rows,
    row_cumsum,
    row_sums,
)
from clustersim.rules.wages import park_wages
from clustersim.settings.common import kept_array
from clustersim.vocabulary import N_TIERS

if TYPE_CHECKING:
    from clustersim.agents import TalentTable
    from clustersim.incentives import Events, Levers
    from clustersim.model import ClusterModel
    from clustersim.rules.staff import StaffLookup
    from clustersim.settings.behavior import Hiring

#: Share of arriving cohorts that already hold Shanghai residency. Assumption.
ARRIVAL_RESIDENCY = 0.2


def _take(u: Draws, slots: np.ndarray) -> Draws:
    """The draws of ``slots``; kept as words when they are, which the samplers read directly."""
    return u.take(slots) if isinstance(u, Float32Uniforms) else u[slots]


def take_rows(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``a[rows]`` for a narrow 2-D array (firms x tiers): np.take, several times faster."""
    return a.take(rows, axis=0)


def run_labour_market(
    model: ClusterModel,
    levers: Levers,
    events: Events,
    want: np.ndarray | None = None,
    lookup: StaffLookup | None = None,
) -> None:
    """One month of the labour market (see the module docstring for the order).

    ``want``: the firms' wanted staff (``wanted_staff``), when the caller has it; it does
    not change in the month's labour market. ``lookup``: the staff of (at least) the
    firms that may lay off staff (``shedding_firms``), looked up since the last hiring.
    """
    t = model.month_index
    n_alloc = model.talent_slots_through(t)
    # float32 uniforms over every slot, kept as words (Float32Uniforms): the draws of
    # rng.random(n_alloc, dtype=np.float32), three times and once over the firm slots
    (u_leave,) = Float32Uniforms.draw(model.streams.at("leaving", t), n_alloc)
    u_search, u_park, u_priority, firm_priority = Float32Uniforms.draw(
        model.streams.at("search", t), n_alloc, n_alloc, n_alloc, model.firm_slots_through(t)
    )

    leave(model, u_leave)
    arrive(model, levers, events)
    if want is None:
        want = wanted_staff(model)
    model.talent.release(lay_off(model, want, u_priority, lookup))
    park_people = model.park_employees()  # the same until settle: firms keep their size
    vacancies = post_vacancies(model, want, firm_priority, park_people)
    match(model, levers, events, vacancies, u_search, u_park, u_priority, park_people)
    settle(model)


def leave(model: ClusterModel, u: Draws) -> None:
    """Talent leaves Shanghai with a monthly hazard.

    The hazard is higher when unemployed, and lower with residency and with housing
    support (which grants can give: ``rules.support``).
    """
    tb = model.behavior.talent
    tal = model.talent
    # Only a draw below the highest hazard an agent can have can mean leaving: screen the
    # draws against it first (in float64, as the exact test below compares), then work
    # out the hazard of the few candidates instead of every agent's. The employed (most
    # agents) are screened against the employed's highest hazard, the idle (a few in a
    # hundred) against the unemployed's, usually much higher. Each bound is a product of
    # the largest factors in the order the hazards below multiply theirs: never below one.
    by_residency = max(1.0, 1.0 - tb.residency_retention)
    by_housing = max(1.0, 1.0 - tb.housing_weight * 0.5)
    n = tal.in_use
    screened = below(u[:n], tb.leave_employed * by_residency * by_housing)
    idle_screened = below(u[:n], tb.leave_unemployed * by_residency * by_housing)
    idle_screened &= tal.idle[:n]  # whole-mask operations: cheaper than finding the idle
    screened |= idle_screened
    candidates = screened.nonzero()[0]
    alive = candidates[tal.alive[candidates]]
    employed = tal.employer[alive] >= 0
    hazard = np.where(employed, tb.leave_employed, tb.leave_unemployed)
    hazard = hazard * (1.0 - tb.residency_retention * tal.residency[alive])
    hazard = hazard * (1.0 - tb.housing_weight * 0.5 * tal.housing[alive])
    gone = alive[u[alive] < hazard]
    if len(gone) == 0:
        return
    tal.depart(gone)
    model.tally["departures"] += len(gone) * model.people_per_talent_agent


def arrive(model: ClusterModel, levers: Levers, events: Events) -> None:
    """Candidate cohorts come if Shanghai's expected earnings and awards beat staying away."""
    t = model.month_index
    slots = model.talent_candidates(t)
    n = len(slots)
    if n == 0:
        return
    tb = model.behavior.talent
    rng = model.streams.at("arrival", t)
    arrivals = model.world.talent_arrivals
    shares = kept_array(arrivals, "shares", lambda: arrivals.shares)
    tier = categorical_fixed(shares, rng.random(n))
    residency = rng.random(n) < ARRIVAL_RESIDENCY
    u_come = rng.random(n)

    tal = model.talent
    market = model.labour_market_state
    job_rate = (market.employed_by_tier + 1.0) / (market.alive_by_tier + 1.0)
    mean_wage = np.where(
        market.employed_by_tier > 0,
        market.wage_sum_by_tier / np.maximum(market.employed_by_tier, 1),
        tb.base_wage.array(),
    )
    earnings = mean_wage * job_rate / tb.base_wage.array()
    award = levers.talent_offer.max(axis=1)
    utility = tb.wage_weight * np.log(earnings) + tb.incentive_weight * np.log1p(
        award / tb.incentive_scale
    )
    p_come = 1.0 / (1.0 + np.exp(-(utility[tier] - tb.outside_utility.array()[tier])))
    come = u_come < p_come
    new = slots[come]
    tal.arrive(new, tier[come])
    tal.residency[new] = residency[come]
    tal.arrived[new] = t
    tal.unemployed_months[new] = 0
    events.arrivals = new
    model.tally["arrivals"] += len(new) * model.people_per_talent_agent


def wanted_staff(model: ClusterModel) -> np.ndarray:
    """(operating firms x tiers) cohorts each firm wants, by its kind's tier mix.

    Rows follow ``FirmTable.live()``. A firm wants as many cohorts as its wanted size
    needs, rounded up: the last one works part-time when the wanted size is not a whole
    number of cohorts (``FirmTable.employees``).
    """
    f = model.firms
    live = f.live()
    cohorts = np.maximum(np.ceil(f.target[live] - 1e-9), 1.0)
    return round_by_cumulative_rows(cohorts, _cumulative_mix(model.behavior.hiring), f.live_kind())


def _cumulative_mix(hiring: Hiring) -> np.ndarray:
    """(kinds x tiers) each kind's cumulative tier mix (read-only): the same numbers as row by row.

    Worked out once per setting (settings are frozen, ``kept_array``), not every month.
    """
    return kept_array(hiring, "cumulative_mix", lambda: row_cumsum(hiring.mix()))


def shedding_firms(model: ClusterModel, want: np.ndarray) -> np.ndarray:
    """Slots of the operating firms well above their wanted size, which lay off staff.

    ``want``: the operating firms' wanted staff (``wanted_staff``).
    """
    tol = model.behavior.hiring.layoff_tolerance
    live = model.firms.live()
    return live[model.talent.staff_by_firm[live] > _most_kept(want, tol)]


def _most_kept(want: np.ndarray, tol: float) -> np.ndarray:
    """The most cohorts each firm keeps before it sheds staff: ``ceil(wanted * (1 + tol))``.

    ``want``: the firms' wanted staff by tier. With no tolerance (the default) that is
    the wanted staff itself: a whole number, which ``* 1.0`` and ``ceil`` leave as it is.
    """
    wanted = row_sums(want)
    if tol == 0.0:
        return wanted
    return np.ceil(wanted * (1.0 + tol))


def lay_off(
    model: ClusterModel, want: np.ndarray, u_priority: Draws, lookup: StaffLookup | None = None
) -> np.ndarray:
    """Firms well above their wanted size shed the excess in each tier.

    ``want``: the operating firms' wanted staff (``wanted_staff``); ``lookup``: their
    staff, when the caller looked them up already (``rules.staff.StaffLookup``). Returns
    the talent slots to lay off, still employed (the caller releases them).
    """
    tol = model.behavior.hiring.layoff_tolerance
    tal = model.talent
    live = model.firms.live()
    over = (tal.staff_by_firm[live] > _most_kept(want, tol)).nonzero()[0]
    if len(over) == 0:
        return np.empty(0, dtype=np.int64)
    over_firms = live[over]
    excess = np.maximum(take_rows(tal.headcount, over_firms) - take_rows(want, over), 0)
    emp = model.staff_of(over_firms) if lookup is None else lookup.staff_of(model, over_firms)
    # (employer, tier) groups, the employer numbered by its row among over_firms
    row_of = np.empty(model.firms.n_slots, dtype=np.int64)
    row_of[over_firms] = np.arange(len(over_firms))
    group = row_of.take(tal.employer.take(emp)) * N_TIERS + tal.tier.take(emp)
    # only groups with an excess shed anyone: rank within those alone (a group's ranks
    # depend on its own members only, so they are the same as among all the staff)
    excess_of = excess.ravel().take(group)
    shed = (excess_of > 0).nonzero()[0]  # positions, then take: cheaper than a mask
    emp, group, excess_of = emp.take(shed), group.take(shed), excess_of.take(shed)
    _, rank = rank_within_groups(group, _take(u_priority, emp))
    fired = emp[rank < excess_of]
    model.tally["layoffs"] += len(fired) * model.people_per_talent_agent
    return fired


@dataclass(frozen=True)
class Vacancies:
    """The month's open positions: the firms that hire and how many cohorts of each tier.

    Attributes:
        firms: slots of the hiring firms in hiring order: park by park, and within a park
            by the firms' priority draws (ties by slot), the order in which a park's
            searchers fill its positions.
        count: (hiring firms x tiers) positions, each row positive somewhere.

    """

    firms: np.ndarray
    count: np.ndarray


def post_vacancies(
    model: ClusterModel,
    want: np.ndarray,
    firm_priority: Draws,
    park_people: np.ndarray,
) -> Vacancies:
    """Wanted staff less staff, trimmed so that no park goes over its capacity.

    ``want``: the operating firms' wanted staff (``wanted_staff``); ``park_people``: the
    people employed in each park now (``ClusterModel.park_employees``). Within a park,
    firms claim its room in their priority order: those past the point where it runs out
    hire only what still fits.
    """
    f = model.firms
    live = f.live()
    vac = np.maximum(want - take_rows(model.talent.headcount, live), 0)
    total = row_sums(vac)
    total[f.winding_down[live]] = 0  # a firm winding down towards closure does not hire
    rows = (total > 0).nonzero()[0]
    firms_hiring = live[rows]
    if len(firms_hiring) == 0:
        return Vacancies(firms_hiring, take_rows(vac, rows))
    park = f.park[firms_hiring]
    order = order_by_group(park, _take(firm_priority, firms_hiring))
    firms_hiring, park = firms_hiring[order], park[order]
    rows = rows[order]
    vac, total = take_rows(vac, rows), total[rows]
    # positions claimed in the park before each firm's own: all claimed so far, less the
    # claims of the parks before it (firms are in park order)
    claimed = total.cumsum() - total
    by_park = np.bincount(park, weights=total, minlength=len(model.parks)).astype(np.int64)
    claimed -= (by_park.cumsum() - by_park)[park]
    room = np.floor((model.parks.capacity - park_people) / model.people_per_talent_agent)
    room = np.maximum(room, 0).astype(np.int64)
    allowed = np.minimum(np.maximum(room[park] - claimed, 0), total)
    cut = (allowed < total).nonzero()[0]
    if len(cut):  # firms at the edge of a full park hire only what still fits
        edge = take_rows(vac, cut)
        shares = edge / row_sums(edge)[:, None]
        keep = round_by_cumulative(allowed[cut].astype(np.float64), shares)
        vac[cut] = np.minimum(edge, keep)
        hires = row_sums(vac) > 0
        firms_hiring, vac = firms_hiring[hires], vac.compress(hires, axis=0)
    return Vacancies(firms_hiring, vac)


def match(
    model: ClusterModel,
    levers: Levers,
    events: Events,
    vacancies: Vacancies,
    u_search: Draws,
    u_park: Draws,
    u_priority: Draws,
    park_people: np.ndarray,
) -> None:
    """Searchers choose a park to search in, then fill that park's vacancies of their tier.

    ``park_people``: the people employed in each park now, which sets its wages.
    """
    tb = model.behavior.talent
    tal, f, parks = model.talent, model.firms, model.parks
    n = tal.in_use
    # the unemployed, and the employed who look around this month (their search draw
    # below the on-the-job share, compared as float32 numbers, as numpy compares float32
    # draws with a Python float): one pass over both masks finds them, in slot order, as
    # the draws are ranked; a draw below the share of a slot not in Shanghai is no one's
    idle = tal.idle[:n]
    looking = below(u_search[:n], np.float32(tb.on_the_job_search))
    looking |= idle
    seekers = looking.nonzero()[0]
    was_idle = idle.take(seekers)
    unemployed = seekers[was_idle]
    seekers = seekers[was_idle | (tal.employer.take(seekers) >= 0)]
    hiring, count = vacancies.firms, vacancies.count
    # a month more without a job for every unemployed agent; those hired start at 0 below
    tal.unemployed_months[unemployed] += 1
    if len(seekers) == 0 or len(hiring) == 0:
        return
    n_parks = len(parks)
    hiring_park = f.park[hiring]
    # (tiers x parks) vacancies; sums of whole numbers, so exact in any order
    by_park_tier = (hiring_park[:, None] * N_TIERS + np.arange(N_TIERS)).ravel()
    vac_park = np.bincount(by_park_tier, weights=count.ravel(), minlength=n_parks * N_TIERS)
    vac_park = vac_park.reshape(n_parks, N_TIERS).T
    wages = park_wages(model, park_people)
    utility = (
        tb.job_weight * np.log1p(vac_park)
        + tb.wage_weight * np.log(wages / tb.base_wage.array()[:, None])
        + tb.incentive_weight * np.log1p(levers.talent_offer / tb.incentive_scale)
    )
    utility[vac_park == 0] = -np.inf
    tier = tal.tier[seekers]
    searchable = np.isfinite(utility).any(axis=1)[tier]
    seekers, tier = seekers[searchable], tier[searchable]
    # a searcher's choice probabilities depend on its tier only: one row per tier
    park = categorical_by_row(logit_probs(utility, tb.search_noise), tier, _take(u_park, seekers))

    # vacancies as single positions, tier by tier; within a tier park by park and, in a
    # park, in the firms' hiring order (Vacancies.firms): each (tier, park) group's
    # positions are consecutive, from group_start, and ordered by firm priority. The
    # positions are runs, one per (tier, hiring firm), tier by tier: run r is firm
    # r % len(hiring)'s, and ends before run_end[r]; only the filled ones are looked up
    run_end = count.T.ravel().cumsum()
    group_size = vac_park.ravel().astype(np.int64)
    group_start = group_size.cumsum() - group_size

    seek_group = tier * n_parks + park
    _, rank = rank_within_groups(seek_group, _take(u_priority, seekers))
    hired = rank < group_size[seek_group]
    who = seekers[hired]
    position = group_start[seek_group[hired]] + rank[hired]
    firm = hiring.take(run_end.searchsorted(position, side="right") % len(hiring))

    workplace = f.park[firm]
    tal.hire(who, firm, workplace, wages[tier[hired], workplace])
    events.hires = who
    model.tally["hires"] += len(who) * model.people_per_talent_agent


def settle(model: ClusterModel) -> None:
    """Refresh firms' head counts and wage bills, and the market's totals by tier."""
    f, tal = model.firms, model.talent
    w = model.people_per_talent_agent
    f.set_staff(slice(None), tal.staff_by_firm)
    live = f.live()  # a closed firm employs no one: its wage bill is 0
    wages = wage_sums(tal.employer_bin[: tal.in_use], tal, f.n_slots + 1)[1:][live]
    # wages are paid for the people at work: the last cohort's part-time share (a firm
    # without staff employs 0 people: 0 / 1e-12, a share of 0.0)
    full = f.staff[live] * w
    wages *= f.employees(w, live) / np.maximum(full, 1e-12)
    wages *= w
    f.wage_bill[:] = 0.0
    f.wage_bill[live] = wages
    model.labour_market_state = MarketState.of(model)


def wage_sums(group: np.ndarray, tal: TalentTable, n_groups: int) -> np.ndarray:
    """Sum of the wages of the first ``len(group)`` talent slots by ``group``, in slot order.

    Every slot is summed, the unemployed and departed too: their wage is exactly 0.0, and
    adding 0.0 leaves a sum of positive wages unchanged to the bit, so the sums equal those
    over the employed alone, without picking the employed out first.
    """
    return np.bincount(group, weights=tal.wage[: len(group)], minlength=n_groups)


@dataclass(frozen=True)
class MarketState:
    """Totals by tier that arriving talent looks at: who is here, who works, for what pay."""

    alive_by_tier: np.ndarray
    employed_by_tier: np.ndarray
    wage_sum_by_tier: np.ndarray

    @classmethod
    def of(cls, model: ClusterModel) -> MarketState:
        """The totals as they stand now."""
        tal = model.talent
        return cls(
            alive_by_tier=tal.alive_by_tier.copy(),
            employed_by_tier=tal.employed_by_tier.copy(),
            wage_sum_by_tier=wage_sums(tal.tier[: tal.in_use], tal, N_TIERS),
        )

"""Initialization: the cluster as it stands at the start month (ODD: Initialization)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from clustersim.config import ConfigError
from clustersim.rules.sampling import categorical, categorical_fixed, round_by_cumulative
from clustersim.rules.wages import park_wages
from clustersim.vocabulary import N_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel

#: Relative size of a firm of each kind at the start (leading, high_growth, fi_arm,
#: rd_service): headquarters and FI arms are larger. Assumption; the Pareto tail is kept.
KIND_SIZE_FACTOR = np.array([10.0, 1.0, 5.0, 1.0])
#: No initial firm employs more than this share of all FinTech staff (truncates the
#: Pareto draw, whose largest value is otherwise erratic). Assumption: ~2%, i.e. a few
#: thousand people, the order of Shanghai's largest FinTech employers.
MAX_INITIAL_SHARE = 0.02


def populate(model: ClusterModel) -> None:
    """Create the initial firms and talent: sizes, kinds, parks, staff, wages, R&D."""
    rng = model.streams.at("setup", 0)
    init = model.world.initial
    firms, talent, parks = model.firms, model.talent, model.parks
    n_firms = model.n_initial_firms
    n_talent = model.n_initial_talent
    if n_firms == 0:
        _add_unemployed(model, rng, np.arange(n_talent))
        return

    kind = categorical_fixed(init.kind_shares.array(), rng.random(n_firms))
    raw = (1.0 - rng.random(n_firms)) ** (-1.0 / init.size_tail) * KIND_SIZE_FACTOR[kind]
    raw = np.minimum(raw, raw.sum() * MAX_INITIAL_SHARE)
    employed_agents = round(n_talent * (1.0 - init.unemployment_rate))
    staff = _integer_sizes(raw, employed_agents)

    park = _place_initial_firms(model, rng, kind, staff)
    slots = np.arange(n_firms)
    firms.start(slots)
    firms.kind[slots] = kind
    firms.set_park(slots, park)
    firms.set_target(slots, staff.astype(np.float64))
    firms.productivity[slots] = rng.normal(0.0, 0.3, n_firms)
    firms.financing[slots] = rng.beta(2.0, 4.0, n_firms)
    firms.born[slots] = -rng.integers(0, 120, n_firms)
    firms.sensitive[slots] = rng.random(n_firms) < model.behavior.entry.but_for_share

    # Talent: each firm's staff, split by its kind's tier mix; then the unemployed.
    mix = model.behavior.hiring.mix()[kind]
    per_tier = round_by_cumulative(staff.astype(np.float64), mix)
    employer = np.repeat(np.repeat(slots, N_TIERS), per_tier.ravel())
    tier = np.repeat(np.tile(np.arange(N_TIERS), n_firms), per_tier.ravel())
    n_emp = len(employer)
    t_slots = np.arange(n_emp)
    talent.alive[t_slots] = True
    talent.entered[t_slots] = True
    talent.tier[t_slots] = tier
    talent.employer[t_slots] = employer
    talent.park[t_slots] = park[employer]
    talent.last_park[t_slots] = park[employer]
    talent.residency[t_slots] = rng.random(n_emp) < init.residency_share
    talent.arrived[t_slots] = -rng.integers(1, 120, n_emp)
    firms.set_staff(slots, staff)
    employees = np.bincount(park, weights=staff, minlength=len(parks))
    employees *= model.people_per_talent_agent
    wages = park_wages(model, employees)
    talent.wage[t_slots] = wages[tier, park[employer]]
    _add_unemployed(model, rng, np.arange(n_emp, n_talent))

    # R&D stock near its steady state, patents and certifications from the firm's past.
    wage_bill = np.bincount(employer, weights=talent.wage[t_slots], minlength=n_firms)
    wage_bill *= model.people_per_talent_agent
    inno = model.behavior.innovation
    spend = inno.rd_intensity.array()[kind] * wage_bill
    firms.rd_stock[slots] = spend * 12.0 / inno.rd_depreciation * rng.uniform(0.5, 1.5, n_firms)
    years = -firms.born[slots] / 12.0
    lam = inno.patent_rate * 12.0 * years * np.sqrt(firms.rd_stock[slots] / 1e6) * 0.5
    firms.patents[slots] = rng.poisson(lam)
    firms.high_tech[slots] = (rng.random(n_firms) < init.high_tech_share) & (
        firms.patents[slots] > 0
    )
    small = firms.staff[slots] * model.people_per_talent_agent <= inno.specialised_max_employees
    firms.specialised[slots] = (
        (rng.random(n_firms) < init.specialised_share) & small & (firms.patents[slots] > 1)
    )


def _integer_sizes(raw: np.ndarray, total: int) -> np.ndarray:
    """Scale raw sizes to integers >= 1 that add up to ``total`` exactly."""
    n = len(raw)
    total = max(total, n)
    sizes = np.maximum(1, np.floor(raw * (total / raw.sum())).astype(np.int64))
    diff = total - int(sizes.sum())
    order = np.argsort(-raw, kind="stable")
    if diff > 0:
        sizes[order[: min(diff, n)]] += 1
        sizes[order[0]] += max(0, diff - n)
    while diff < 0:  # too many after the floor of 1: trim the largest firms
        take = min(-diff, n)
        room = sizes[order[:take]] > 1
        sizes[order[:take][room]] -= 1
        diff += int(room.sum())
        if not room.any():
            break
    return sizes


def _place_initial_firms(
    model: ClusterModel, rng: np.random.Generator, kind: np.ndarray, staff: np.ndarray
) -> np.ndarray:
    """Draw each firm's park by the world's shares and kind affinity, within capacity.

    Firms are placed largest first; a firm that does not fit in its drawn park goes to
    the park with the most room left.
    """
    parks = model.parks
    weight = parks.initial_share[None, :] * np.exp(parks.affinity[kind])
    probs = weight / weight.sum(axis=1, keepdims=True)
    drawn = categorical(probs, rng.random(len(kind)))
    # one firm at a time, in Python numbers (float64 both: the same comparisons and
    # subtractions as numpy's, without a numpy scalar per step)
    free = parks.capacity.tolist()
    park = drawn.tolist()
    people = (staff * model.people_per_talent_agent).tolist()
    for i in np.argsort(-staff, kind="stable").tolist():
        p = park[i]
        if free[p] < people[i]:
            p = max(range(len(free)), key=free.__getitem__)  # the first most room, as argmax
            if free[p] < people[i]:
                raise ConfigError(
                    "world.parks.*.capacity",
                    float(parks.capacity.sum()),
                    "too small for the initial population: a firm of "
                    f"{people[i]:.0f} people fits in no park; raise capacities or lower "
                    "world.initial.talent_agents",
                )
        park[i] = p
        free[p] -= people[i]
    return np.array(park, dtype=np.int64)


def _add_unemployed(model: ClusterModel, rng: np.random.Generator, slots: np.ndarray) -> None:
    """Initial talent without a job: tiers as in the arrivals."""
    talent = model.talent
    n = len(slots)
    shares = np.asarray(model.world.talent_arrivals.shares, dtype=np.float64)
    talent.alive[slots] = True
    talent.entered[slots] = True
    talent.tier[slots] = categorical_fixed(shares, rng.random(n))
    talent.residency[slots] = rng.random(n) < model.world.initial.residency_share
    talent.arrived[slots] = -rng.integers(1, 120, n)
    talent.unemployed_months[slots] = rng.integers(0, 6, n)

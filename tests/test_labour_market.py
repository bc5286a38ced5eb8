"""The labour market's whole-array steps equal their plain, firm-by-firm descriptions.

Each rule is written as a few whole-array operations for speed; these tests state what
the ODD says the rule does, firm by firm and tier by tier in plain Python, and check the
fast code against it on a toy world part-way through a run. The priority draws are
coarse (four values) so that ties are frequent: ties go to the lower slot.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from clustersim.incentives import Events
from clustersim.model import ClusterModel
from clustersim.rules.innovation import MAX_RD_SHARE, innovate
from clustersim.rules.labour import (
    lay_off,
    match,
    post_vacancies,
    shedding_firms,
    wanted_staff,
)
from clustersim.rules.sampling import round_by_cumulative
from clustersim.vocabulary import N_TIERS
from tests.conftest import scenario


def _model_after(months: int, *overrides: str) -> ClusterModel:
    m = ClusterModel(scenario("world=toy", "seed=3", *overrides))
    for _ in range(months):
        m.step()
    return m


def _tied_draws(n: int, seed: int) -> np.ndarray:
    """float32 priority draws with many ties (four distinct values)."""
    return (np.random.default_rng(seed).integers(0, 4, n) / 4).astype(np.float32)


@pytest.mark.parametrize("tolerance", ["0.0", "0.15"])
def test_layoffs_shed_each_firms_lowest_priority_excess_tier_by_tier(tolerance: str) -> None:
    m = _model_after(12, f"behavior.hiring.layoff_tolerance={tolerance}")
    f, tal = m.firms, m.talent
    live = f.live()
    f.set_target(
        live[::3], f.target[live[::3]] * 0.5
    )  # a third of the firms now want half their size
    want = wanted_staff(m)
    u = _tied_draws(tal.n_slots, 1)
    fired = lay_off(m, want, u)

    tol = m.behavior.hiring.layoff_tolerance
    expected: list[int] = []
    for row, firm in enumerate(live):
        if tal.staff_by_firm[firm] <= np.ceil(want[row].sum() * (1.0 + tol)):
            continue
        for k in range(N_TIERS):
            staff = np.flatnonzero((tal.employer == firm) & (tal.tier == k)).tolist()
            excess = max(int(tal.headcount[firm, k] - want[row, k]), 0)
            expected += sorted(staff, key=lambda s: (u[s], s))[:excess]
    assert len(expected) > 0
    assert sorted(fired.tolist()) == sorted(expected)
    # the firms that shed staff are those above the limit, tolerance and all
    above = [
        int(firm)
        for row, firm in enumerate(live)
        if tal.staff_by_firm[firm] > np.ceil(want[row].sum() * (1.0 + tol))
    ]
    assert shedding_firms(m, want).tolist() == above


def test_vacancies_follow_hiring_order_and_fill_each_park_only_to_its_room() -> None:
    m = _model_after(12)
    f, tal, parks = m.firms, m.talent, m.parks
    live = f.live()
    f.set_target(
        live, f.target[live] * 3.0
    )  # every firm wants three times its size: parks run out of room
    want = wanted_staff(m)
    priority = _tied_draws(f.n_slots, 2)
    park_people = m.park_employees()
    vacancies = post_vacancies(m, want, priority, park_people)

    # plain: park by park, firms in (priority, slot) order claim the park's room; the
    # firm at the edge hires what still fits (split by its tiers), later ones nothing
    room = np.maximum(np.floor((parks.capacity - park_people) / m.people_per_talent_agent), 0)
    left = room.astype(np.int64)
    candidates = sorted(
        (int(f.park[firm]), float(priority[firm]), int(firm), row)
        for row, firm in enumerate(live)
        if not f.winding_down[firm]
    )
    expected_firms, expected_counts, trimmed = [], [], 0
    for p, _, firm, row in candidates:
        vac = np.maximum(want[row] - tal.headcount[firm], 0)
        total = int(vac.sum())
        if total == 0:
            continue
        allowed = min(max(int(left[p]), 0), total)
        left[p] -= total
        if allowed < total:
            trimmed += 1
            keep = round_by_cumulative(np.array([float(allowed)]), vac[None, :] / total)[0]
            vac = np.minimum(vac, keep)
        if vac.sum() > 0:
            expected_firms.append(firm)
            expected_counts.append(vac)
    assert trimmed > 0  # the edge case was exercised
    assert vacancies.firms.tolist() == expected_firms
    np.testing.assert_array_equal(vacancies.count, np.array(expected_counts))
    per_park = np.bincount(
        f.park[vacancies.firms], weights=vacancies.count.sum(axis=1), minlength=len(parks)
    )
    assert (per_park <= room).all()


def test_rd_spending_follows_the_wage_bill_and_the_subsidised_price() -> None:
    m = _model_after(14)
    f, inno = m.firms, m.behavior.innovation
    # a share of R&D paid back for some firms (some above the cap), none for the others
    share = np.random.default_rng(3).choice([0.0, 0.0, 0.25, 0.5, 0.95], f.n_slots)
    levers = dataclasses.replace(m.incentives.levers(m), rd_share=share)
    live = f.live()
    price = (1.0 - np.minimum(share[live], MAX_RD_SHARE)) ** (-inno.rd_price_elasticity)
    expected = inno.rd_intensity.array()[f.kind[live]] * f.wage_bill[live] * price
    innovate(m, levers, Events())
    assert (expected > 0).any()
    np.testing.assert_array_equal(f.rd_spend[live], expected)
    assert (f.rd_spend[~f.alive] == 0).all()


@pytest.mark.parametrize("financing", [[0.0], [0.0, 0.3, 1.0], [0.2, 0.25]])
def test_the_exit_screen_is_the_highest_hazard_of_any_class_and_kind(financing) -> None:
    from clustersim.rules.exits import highest_hazard
    from clustersim.vocabulary import N_KINDS

    x = scenario("world=toy").behavior.exit
    fin = np.asarray(financing)
    grid = np.meshgrid(
        np.asarray(x.size_classes, dtype=np.float64),
        np.asarray(x.age_classes, dtype=np.float64),
        np.arange(N_KINDS),
        fin,
        indexing="ij",
    )
    highest = float(x.monthly_hazard(*(g.ravel() for g in grid)).max())
    bound = highest_hazard(x, fin)
    assert highest <= bound <= highest * (1.0 + 1e-8)


def test_searchers_take_each_parks_positions_in_firm_priority_order() -> None:
    m = _model_after(12)
    f, tal = m.firms, m.talent
    live = f.live()
    f.set_target(live, f.target[live] * 1.5)  # firms want more staff: vacancies everywhere
    employer_before = tal.employer.copy()
    unemployed_before = tal.alive & (tal.employer < 0)
    want = wanted_staff(m)
    rng = np.random.default_rng(5)
    u_search, u_park = rng.random((2, tal.n_slots), dtype=np.float32)
    u_priority = _tied_draws(tal.n_slots, 6)
    park_people = m.park_employees()
    vacancies = post_vacancies(m, want, _tied_draws(f.n_slots, 7), park_people)
    events = Events()
    match(m, m.incentives.levers(m), events, vacancies, u_search, u_park, u_priority, park_people)

    hired = events.hires
    assert len(hired) > 0
    # every hire searched: unemployed, or employed and drawn to look around
    searched = unemployed_before | (u_search < m.behavior.talent.on_the_job_search)
    assert searched[hired].all()
    # plain: a (park, tier) group's positions are its firms' vacancies of that tier, firm
    # by firm in hiring order; its hires, by (priority draw, slot), take them in turn
    for p in np.unique(f.park[vacancies.firms]):
        for k in range(N_TIERS):
            in_park = f.park[vacancies.firms] == p
            positions = np.repeat(vacancies.firms[in_park], vacancies.count[in_park, k]).tolist()
            group = [s for s in hired.tolist() if f.park[tal.employer[s]] == p and tal.tier[s] == k]
            assert len(group) <= len(positions)
            queue = sorted(group, key=lambda s: (u_priority[s], s))
            assert [int(tal.employer[s]) for s in queue] == positions[: len(queue)]
    # nobody else changed employer
    others = np.setdiff1d(np.flatnonzero(employer_before != tal.employer), hired)
    assert len(others) == 0


def test_a_staff_lookup_answers_as_a_new_pass_until_someone_is_hired() -> None:
    """The staff of looked-up firms, less those who left since, are their staff now."""
    from clustersim.rules.staff import StaffLookup

    m = _model_after(12)
    f, tal = m.firms, m.talent
    live = f.live()
    lookup = StaffLookup(m, live[::2], live[1::5])
    covered = np.concatenate([live[::2], live[1::5]])
    np.testing.assert_array_equal(lookup.staff_of(m, covered), m.staff_of(covered))
    # people leave jobs (layoffs, departures): the lookup still answers, without them
    staff = m.staff_of(live[::2])
    tal.release(staff[::3])
    tal.depart(staff[1::7])
    for firms in (live[::2], live[::4], live[:0]):
        np.testing.assert_array_equal(lookup.staff_of(m, firms), m.staff_of(firms))
    # firms it did not look up, or a hire since: a new pass
    np.testing.assert_array_equal(lookup.staff_of(m, live), m.staff_of(live))
    idle = np.flatnonzero(tal.idle)[:5]
    tal.hire(
        idle, live[:1].repeat(len(idle)), f.park[live[:1]].repeat(len(idle)), np.ones(len(idle))
    )
    np.testing.assert_array_equal(lookup.staff_of(m, live[::2]), m.staff_of(live[::2]))
    assert set(idle.tolist()) <= set(lookup.staff_of(m, live[::2]).tolist())


def test_departures_are_the_agents_whose_draw_falls_below_their_hazard() -> None:
    """Leaving, screened in two groups (employed, idle), equals the plain hazard test."""
    from clustersim.rules.labour import leave
    from clustersim.rules.sampling import Float32Uniforms

    high = ("behavior.talent.leave_employed=0.05", "behavior.talent.leave_unemployed=0.5")
    m = _model_after(12, *high)
    tal, tb = m.talent, m.behavior.talent
    tal.release(np.flatnonzero(tal.employed())[::4])  # a quarter of the staff out of work
    tal.housing[::7] = True
    tal.residency[::5] = True
    (u,) = Float32Uniforms.draw(np.random.default_rng(5), tal.n_slots)
    alive = np.flatnonzero(tal.alive)
    hazard = np.where(tal.employer[alive] >= 0, tb.leave_employed, tb.leave_unemployed)
    hazard = hazard * (1.0 - tb.residency_retention * tal.residency[alive])
    hazard = hazard * (1.0 - tb.housing_weight * 0.5 * tal.housing[alive])
    expected = alive[u[alive] < hazard]
    assert np.count_nonzero(tal.idle[expected]) and not tal.idle[expected].all()
    before = tal.alive.copy()
    leave(m, u)
    np.testing.assert_array_equal(np.flatnonzero(before & ~tal.alive), expected)

"""Accounting identities and constraints that hold in every month of every run."""

from __future__ import annotations

import numpy as np
import pytest

from clustersim.agents import Firm, Park, Talent
from clustersim.model import ClusterModel
from clustersim.rules.exits import highest_hazard
from tests.conftest import scenario


def _check_month(m: ClusterModel) -> None:
    f, tal, parks = m.firms, m.talent, m.parks
    w = m.people_per_talent_agent
    # people are conserved: initial + arrived = employed + unemployed + left
    in_city = np.count_nonzero(tal.alive) * w
    assert m.initial_people + m.arrived_people == pytest.approx(in_city + m.left_people)
    # the exit rule's screen: no firm's closure hazard exceeds its bound
    live = f.live()
    if len(live):
        x = m.behavior.exit
        age = (m.month_index - f.born[live]) / 12.0
        hazard = x.monthly_hazard(f.employees(w, live), age, f.kind[live], f.financing[live])
        assert (hazard <= highest_hazard(x, f.financing[live])).all()
    # the firm table's shared views agree with its columns
    np.testing.assert_array_equal(live, np.flatnonzero(f.alive))
    np.testing.assert_array_equal(f.live_kind(), f.kind[live])
    np.testing.assert_array_equal(f.live_park(), f.park[live])
    established = f.established(m.month_index)
    np.testing.assert_array_equal(established, live[f.born[live] < m.month_index])
    # the employment kept for the operating firms agrees with a recount
    np.testing.assert_array_equal(f.employees(w, live), f.employees(w, live.copy()))
    np.testing.assert_array_equal(f.employees(w, established), f.employees(w, established.copy()))
    # no park over capacity
    employees = m.park_employees()
    assert (employees <= parks.capacity + 1e-9).all(), dict(
        zip(parks.ids, employees - parks.capacity, strict=True)
    )
    # every employed agent works for an operating firm, in that firm's park
    emp = np.flatnonzero(tal.employed())
    assert f.alive[tal.employer[emp]].all()
    assert (tal.park[emp] == f.park[tal.employer[emp]]).all()
    # head counts agree with the talent table; closed firms employ no one
    assert (np.bincount(tal.employer[emp], minlength=f.n_slots) == f.staff).all()
    assert (f.staff[~f.alive] == 0).all()
    # unemployed and departed agents have no employer and no wage
    idle = ~tal.employed()
    assert (tal.employer[idle] == -1).all() and (tal.wage[idle] == 0).all()
    assert (tal.employer[~tal.alive] == -1).all()
    # the talent table's running totals agree with a recount of its columns
    totals = (
        "headcount",
        "staff_by_firm",
        "alive_by_tier",
        "employed_by_tier",
        "idle",
        "employer_bin",
    )
    kept = {name: getattr(tal, name).copy() for name in totals}
    in_use = tal.in_use
    tal.recount()
    for name in totals:
        assert (kept[name] == getattr(tal, name)).all(), name
    assert (tal.staff_by_firm == tal.headcount.sum(axis=1)).all()
    assert in_use == tal.in_use and not tal.entered[tal.in_use :].any()


@pytest.mark.parametrize("world", ["toy", pytest.param("shanghai", marks=pytest.mark.slow)])
def test_identities_hold_every_month(world: str) -> None:
    m = ClusterModel(scenario(f"world={world}", "seed=3"))
    _check_month(m)
    while m.running:
        m.step()
        _check_month(m)
    assert m.month_index == m.n_months == 96


def test_mesa_faces_mirror_the_tables() -> None:
    m = ClusterModel(scenario("world=toy", "seed=1"))
    for _ in range(40):  # faces are made when looked at: mid-run they match the tables too
        m.step()
    early = set(m.agents_by_type[Firm])
    assert {a.slot for a in early} == set(np.flatnonzero(m.firms.alive).tolist())
    m.run()
    exited = [a for a in early if not m.firms.alive[a.slot]]
    assert exited and not any(a in m.agents for a in exited)  # a firm that closed has no face
    firms = list(m.agents_by_type[Firm])
    assert len(firms) == np.count_nonzero(m.firms.alive)
    assert len(m.agents_by_type[Talent]) == np.count_nonzero(m.talent.alive)
    assert len(m.agents_by_type[Park]) == len(m.parks)
    firm = max(firms, key=lambda a: a.employees)
    w = m.people_per_talent_agent
    full = m.firms.staff[firm.slot] * w
    assert full - w <= firm.employees <= full  # the last cohort may work part-time
    assert firm.park in m.parks.ids and firm.kind in (
        "leading",
        "high_growth",
        "fi_arm",
        "rd_service",
    )
    history = firm.history()
    assert list(history["month"]) == sorted(history["month"])  # one row per year end, in order
    assert history["employees"].iloc[-1] == firm.employees
    worker = next(iter(m.agents_by_type[Talent]))
    assert worker.history()["talent_id"].eq(worker.slot).all()


def test_monthly_table_runs_to_the_end_month() -> None:
    m = ClusterModel(scenario("world=toy", "world.start=2022-01")).run()
    months = m.monthly()["month"]
    assert months.iloc[0] == "2022-01" and months.iloc[-1] == "2027-12" and len(months) == 72


@pytest.mark.slow
def test_firms_enter_exit_and_relocate_in_the_default_world() -> None:
    m = ClusterModel(scenario("world=shanghai")).run()
    monthly = m.monthly()
    assert monthly["entries"].sum() > 1000 and monthly["exits"].sum() > 1000
    moves = m.relocation_table()
    assert len(moves) > 50
    assert (moves["from_park"].astype(str) != moves["to_park"].astype(str)).all()
    # Relocation is a small share of job change; births, deaths and expansion dominate.
    # Kolko & Neumark (PPIC 2007): ~0.06% of California's jobs a year move to another
    # state, while moves within the state (between counties) are far more common. Moves
    # between parks of one city are of that second kind: the default world moves ~1% of
    # firms a year (its calibration, docs/ODD.md), ~0.8% of jobs. A model whose firms
    # move at every review (no moving cost, review every month) breaks both bounds.
    years = len(monthly) / 12
    moved_per_year = monthly["relocation_jobs"].sum() / years
    assert moved_per_year < 0.015 * monthly["employment"].mean()
    destroyed = monthly["exit_jobs"].sum() + monthly["layoffs"].sum()
    assert monthly["relocation_jobs"].sum() < 0.15 * destroyed

"""Who applies: the engine's one pass over all instruments lists, for each instrument, the
applicants that filtering the month's candidates by its conditions one by one lists."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from clustersim.policy import engine as engine_mod
from clustersim.policy.applications import MonthEvents, _of_tiers
from clustersim.policy.engine import RegimeIncentives
from clustersim.policy.instruments import Instrument
from clustersim.policy.vocabulary import Event, Recipient
from clustersim.runner import simulate
from clustersim.vocabulary import FIRM_KINDS, N_KINDS, N_TIERS, TALENT_TIERS
from tests.conftest import scenario


def _member(codes: np.ndarray, allowed: list[int], n: int) -> np.ndarray:
    table = np.zeros(n, dtype=bool)
    table[allowed] = True
    return table[codes]


def _located(mask: np.ndarray, parks: np.ndarray) -> np.ndarray:
    ok = parks >= 0
    out = np.zeros(len(parks), dtype=bool)
    out[ok] = mask[parks[ok]]
    return out


def one_instrument(
    model, inst: Instrument, events: MonthEvents, park_mask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The applicants of one instrument, its conditions applied one after another."""
    el = inst.eligible
    w = model.people_per_talent_agent
    window_start = inst.window.start - model.calendar[0]
    if inst.recipient is Recipient.PARK:
        mask = park_mask
        if el.event is Event.CARRIER and model.month.month != 1:
            mask = np.zeros_like(mask)
        ids = np.flatnonzero(mask)
        return ids, np.ones(len(ids))
    if inst.recipient is Recipient.TALENT:
        tal = model.talent
        ids = events.talent(el.event)
        park = np.where(tal.park[ids] >= 0, tal.park[ids], tal.last_park[ids])
        ok = np.ones(len(ids), dtype=bool)
        if el.tiers:
            ok &= _member(tal.tier[ids], [TALENT_TIERS.index(t) for t in el.tiers], N_TIERS)
        if not el.anywhere:
            ok &= _located(park_mask, park)
        ids = ids[ok]
        if el.kinds:
            employer = tal.employer[ids]
            works = employer >= 0
            works[works] = _member(
                model.firms.kind[employer[works]], [FIRM_KINDS.index(k) for k in el.kinds], N_KINDS
            )
            ids = ids[works]
        if el.new_only:
            ids = ids[tal.arrived[ids] >= window_start]
        base = np.full(len(ids), w)
        if inst.payout.rule.uses_rate:
            base = tal.wage[ids] * w
        return ids, base
    f = model.firms
    ids = events.firms(el.event)
    ids = ids[f.alive[ids]]
    if el.kinds:
        ids = ids[_member(f.kind[ids], [FIRM_KINDS.index(k) for k in el.kinds], N_KINDS)]
    for cert in el.certified:
        ids = ids[getattr(f, cert)[ids]]
    if not el.anywhere:
        ids = ids[_located(park_mask, f.park[ids])]
    if el.new_only:
        ids = ids[f.born[ids] >= window_start]
    r = model.behavior.policy_response
    match el.event:
        case Event.RD_SPEND:
            base = f.rd_spend[ids]
        case Event.COMPUTE_SPEND:
            base = f.rd_spend[ids] * r.compute_share
        case Event.LOAN:
            base = f.wage_bill[ids] * 12.0 * r.loan_cost
        case Event.CONTINUOUS | Event.PRESENCE if inst.payout.rule.uses_rate:
            months = 1.0 if el.event is Event.CONTINUOUS else 12.0
            base = f.wage_bill[ids] * r.profit_share * months
        case Event.HIRE:
            hired = np.bincount(model.talent.employer[events.events.hires], minlength=f.n_slots)
            base = hired[ids] * w
        case Event.PATENT:
            counts = np.zeros(f.n_slots)
            counts[events.events.patents] = events.events.patent_counts
            base = counts[ids]
        case _:
            base = np.ones(len(ids))
    return ids, base


def _with_more_conditions(incentives: RegimeIncentives) -> RegimeIncentives:
    """The plans with conditions the shipped plans do not use: certified, employer kinds, new."""
    changed = {
        "pudong_2027.compute_infrastructure_subsidy": {"certified": ("high_tech",)},
        "pudong_2027.research_patent_funding": {"certified": ("high_tech", "specialised")},
        "pudong_2027.talent_housing_subsidy": {"kinds": ("leading", "fi_arm"), "new_only": True},
        "shanghai_2020.lingang_overseas_iit_subsidy": {"new_only": True},
        "shanghai_2020.policy_guarantee": {"districts": ("pudong",), "new_only": True},
        # rare events, screened with the other rare firm events at once
        "huangpu_2024.enterprise_landing_award": {"certified": ("high_tech",), "new_only": True},
        "pudong_2027.event_funding": {"certified": ("specialised",)},
    }
    regimes = []
    for reg in incentives.regimes:
        insts = []
        for inst in reg.instruments:
            if inst.key in changed:
                el = dataclasses.replace(inst.eligible, **changed[inst.key])
                inst = dataclasses.replace(inst, eligible=el)
            insts.append(inst)
        regimes.append(dataclasses.replace(reg, instruments=tuple(insts)))
    return RegimeIncentives(regimes)


@pytest.mark.parametrize("more_conditions", [False, True])
def test_every_instrument_gets_the_applicants_of_its_own_conditions(monkeypatch, more_conditions):
    checked: dict[str, int] = {}
    screen_all = engine_mod.applicants

    def spy(model, rows, month_events, openings):
        apps = screen_all(model, rows, month_events, openings)
        engine = model.incentives
        for k, row in enumerate(rows):
            inst = openings.instruments[row]
            ids, base = one_instrument(model, inst, month_events, engine._mask(model, inst))
            got_ids, got_base = apps.of(k)
            np.testing.assert_array_equal(got_ids, ids, err_msg=inst.key)
            np.testing.assert_array_equal(got_base, base, err_msg=inst.key)
            checked[inst.key] = checked.get(inst.key, 0) + len(ids)
        return apps

    monkeypatch.setattr(engine_mod, "applicants", spy)
    s = scenario("world=toy", "seed=3")
    incentives = RegimeIncentives.from_scenario(s)
    if more_conditions:
        incentives = _with_more_conditions(incentives)
    simulate(s, incentives=incentives)
    # every granting instrument was screened, most of them with applicants
    granting = [i for i in incentives.instruments if i.payout.rule.value != "designation"]
    assert set(checked) == {i.key for i in granting}
    assert sum(1 for n in checked.values() if n > 0) >= len(granting) // 2


def test_employed_of_some_tiers_are_the_employed_slots_of_those_tiers() -> None:
    """``MonthEvents.employed_in`` (through each employed slot's tier) lists, for every set
    of tiers, the slots a mask over every talent slot lists, in ascending order."""
    s = scenario("world=toy", "seed=2", "world.end=2021-06", "run.report_months=[2021-06]")
    model = simulate(s).model
    from clustersim.incentives import Events

    events = MonthEvents(model, Events(), np.zeros(0, dtype=np.int64))
    employed = model.talent.employed()
    assert employed.any()
    for code in range(2**N_TIERS):
        tiers = np.array([(code >> k) & 1 for k in range(N_TIERS)], dtype=bool)
        expected = np.flatnonzero(employed & tiers[model.talent.tier])
        np.testing.assert_array_equal(events.employed_in(tiers), expected, err_msg=str(tiers))


def test_tier_masks_by_comparison_mark_the_tiers_the_lookup_marks() -> None:
    """``_of_tiers`` (comparisons for a run of neighbouring tiers) is ``tiers[tier]``, for
    every set of tiers, runs or not."""
    tier = np.random.default_rng(1).integers(0, N_TIERS, 500)
    for bits in range(2**N_TIERS):
        tiers = np.array([bool(bits >> k & 1) for k in range(N_TIERS)])
        np.testing.assert_array_equal(_of_tiers(tier, tiers), tiers[tier], err_msg=str(tiers))


def test_admitted_is_the_lookup_of_the_table_no_park_included() -> None:
    """``Openings.admitted`` (a flat table) gives ``table[:, code, place]``, where a place
    of -1 (no park) reads the table's last place."""
    s = scenario("world=toy", "seed=5", "world.end=2025-02", "run.report_months=[2025-02]")
    model = simulate(s).model
    engine = model.incentives
    openings = engine._openings_of(model)
    rng = np.random.default_rng(2)
    places = rng.integers(-1, len(model.parks), 400)
    assert (places == -1).any()
    for talent, n_codes in ((False, N_KINDS), (True, N_TIERS)):
        codes = rng.integers(0, n_codes, 400)
        for rows in ((0,), (1, 3), tuple(range(len(engine.instruments)))):
            expected = openings.table(talent, rows)[:, codes, places]
            np.testing.assert_array_equal(openings.admitted(talent, rows, codes, places), expected)


def test_a_group_that_admits_all_admits_every_candidate_of_its_tiers_anywhere() -> None:
    """``Openings.admit_all`` (the lookup skipped) holds exactly when every instrument of
    the group admits every tier the group screens, in every place (a park or none), with
    no employer or newness condition; the shipped plans have groups of both sorts."""
    s = scenario("world=toy", "seed=5", "world.end=2025-02", "run.report_months=[2025-02]")
    incentives = _with_more_conditions(RegimeIncentives.from_scenario(s))
    model = simulate(s, incentives=incentives).model
    openings = incentives._openings_of(model)
    every = tuple(range(len(incentives.instruments)))
    seen = set()
    for (recipient, _), members in openings.groups(every).items():
        if recipient is not Recipient.TALENT:
            continue
        rows = tuple(members)
        tiers = openings.tiers_of(rows)
        codes = np.flatnonzero(np.ones(N_TIERS, dtype=bool) if tiers is None else tiers)
        places = np.arange(-1, len(model.parks))
        code, place = (a.ravel() for a in np.meshgrid(codes, places))
        conditions = any(
            openings.employer_kinds[r] is not None or openings.instruments[r].eligible.new_only
            for r in rows
        )
        expected = bool(openings.admitted(True, rows, code, place).all()) and not conditions
        assert openings.admit_all(rows) is expected, [openings.instruments[r].key for r in rows]
        seen.add(expected)
    assert seen == {True, False}

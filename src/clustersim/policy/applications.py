"""Who applies for an instrument this month, and on what base.

The model reports the month's events (``clustersim.incentives.Events``); some events the
plans reward are not part of the core model (a loan, hosting an event, passing an
exam, being selected for a talent programme) and are drawn here, per agent, with the
rates in ``behavior.policy_response``. ``applicants`` filters the candidates by the
instrument's eligibility (kind, tier, certification, place, newness) and returns their
ids and the base its payout rule needs (persons, spending, fees, profit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustersim.policy.instruments import Instrument
from clustersim.policy.vocabulary import Event, Recipient
from clustersim.vocabulary import FIRM_KINDS, N_KINDS, N_TIERS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.incentives import Events
    from clustersim.model import ClusterModel

#: Tiers that talent programmes select from, and tiers that sit certification exams.
_PROGRAMME_TIERS = (0, 1)
_EXAM_TIERS = (2, 3)
#: A loan is taken only by firms at least this financially constrained. Assumption.
_LOAN_CONSTRAINT = 0.3


@dataclass(frozen=True)
class Applications:
    """Applicants of one instrument in one month: ids and the payout base of each."""

    ids: np.ndarray
    base: np.ndarray


def _drawn(model: ClusterModel, event: Event, ids: np.ndarray, rate: float) -> np.ndarray:
    """The ``ids`` for whom the event happens this month (per-agent, policy-free draws).

    Each such event has a hashed stream of its own, named like the event
    (``clustersim.streams.STREAMS``).
    """
    if len(ids) == 0 or rate <= 0:
        return ids[:0]
    u = model.streams.uniform(event.value, model.month_index, ids)
    return ids[u < rate]


class MonthEvents:
    """The month's events, from the model's report plus the drawn ones, cached per event."""

    def __init__(self, model: ClusterModel, events: Events, milestones: np.ndarray) -> None:
        self.model = model
        self.events = events
        self.milestones = milestones
        self._firms: dict[Event, np.ndarray] = {}
        self._talent: dict[Event, np.ndarray] = {}
        self._talent_views: dict[Event, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        self._employed: np.ndarray | None = None

    @property
    def employed(self) -> np.ndarray:
        """Talent slots employed now (computed once a month)."""
        if self._employed is None:
            self._employed = np.flatnonzero(self.model.talent.employed())
        return self._employed

    def firms(self, event: Event) -> np.ndarray:
        """Firm slots for which ``event`` happened this month."""
        if event not in self._firms:
            self._firms[event] = self._firm_event(event)
        return self._firms[event]

    def _firm_event(self, event: Event) -> np.ndarray:
        m, e = self.model, self.events
        r = m.behavior.policy_response
        live = m.firms.live()
        january = m.month.month == 1
        match event:
            case Event.ENTRY:
                return e.entries
            case Event.RELOCATION_IN:
                return e.relocations_in
            case Event.LANDING:
                return np.concatenate([e.entries, e.relocations_in])
            case Event.PRESENCE:
                return live if january else live[:0]
            case Event.RD_SPEND | Event.COMPUTE_SPEND | Event.CONTINUOUS:
                return live
            case Event.PATENT:
                return e.patents
            case Event.HIGH_TECH_CERT:
                return e.high_tech_new
            case Event.SPECIALISED_CERT:
                return e.specialised_new
            case Event.PILOT:
                return e.pilots_new
            case Event.GROWTH_MILESTONE:
                return self.milestones
            case Event.LOAN:
                constrained = live[m.firms.financing[live] >= _LOAN_CONSTRAINT]
                return _drawn(m, event, constrained, r.loan_rate)
            case Event.EVENT_HOSTING:
                return _drawn(m, event, live, r.event_hosting_rate)
            case Event.STANDARD:
                return _drawn(m, event, live, r.standard_rate)
            case Event.QUALITY_AWARD:
                return _drawn(m, event, live, r.quality_award_rate)
            case Event.PROJECT_SELECTION:
                return _drawn(m, event, live, r.project_selection_rate)
            case Event.MAJOR_PROJECT:
                return _drawn(m, event, live[m.firms.high_tech[live]], r.major_project_rate)
            case Event.IP_PILOT:
                return _drawn(m, event, live[m.firms.patents[live] >= 2], r.ip_pilot_rate)
            case Event.HIRE:
                return np.unique(m.talent.employer[e.hires])
        return live[:0]

    def talent(self, event: Event) -> np.ndarray:
        """Talent slots for which ``event`` happened this month."""
        if event not in self._talent:
            self._talent[event] = self._talent_event(event)
        return self._talent[event]

    def talent_view(self, event: Event) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``talent(event)`` with each one's tier and workplace (park, or last park; -1).

        Computed once a month per event: several instruments filter the same people
        (every employed person, for the income-tax subsidies) by tier and place.
        """
        if event not in self._talent_views:
            ids = self.talent(event)
            tal = self.model.talent
            park = tal.park[ids]
            self._talent_views[event] = (
                ids,
                tal.tier[ids],
                np.where(park >= 0, park, tal.last_park[ids]),
            )
        return self._talent_views[event]

    def _talent_event(self, event: Event) -> np.ndarray:
        m, e = self.model, self.events
        r = m.behavior.policy_response
        tal = m.talent
        employed = self.employed
        match event:
            case Event.HIRE:
                return e.hires
            case Event.ARRIVAL:
                return e.arrivals
            case Event.PRESENCE:
                return employed if m.month.month == 1 else employed[:0]
            case Event.CONTINUOUS:
                return employed
            case Event.TALENT_PROGRAMME:
                pool = employed[_member(tal.tier[employed], _PROGRAMME_TIERS, N_TIERS)]
                return _drawn(m, event, pool, r.municipal_programme_rate)
            case Event.DISTRICT_TALENT_PROGRAMME:
                pool = employed[_member(tal.tier[employed], _PROGRAMME_TIERS, N_TIERS)]
                return _drawn(m, event, pool, r.district_programme_rate)
            case Event.EXAM_CERTIFICATION:
                pool = employed[_member(tal.tier[employed], _EXAM_TIERS, N_TIERS)]
                return _drawn(m, event, pool, r.exam_rate)
        return employed[:0]


def _member(codes: np.ndarray, allowed: tuple[int, ...] | list[int], n: int) -> np.ndarray:
    """Mask: ``codes`` (small integers below ``n``) are among ``allowed`` (a lookup table)."""
    table = np.zeros(n, dtype=bool)
    table[list(allowed)] = True
    return table[codes]


def _location_ok(mask: np.ndarray, parks: np.ndarray) -> np.ndarray:
    """Mask: the agents' parks (``-1`` = none) are among the eligible parks ``mask``."""
    ok = parks >= 0
    out = np.zeros(len(parks), dtype=bool)
    out[ok] = mask[parks[ok]]
    return out


def applicants(
    model: ClusterModel, inst: Instrument, month_events: MonthEvents, park_mask: np.ndarray
) -> Applications:
    """Eligible applicants of ``inst`` this month and the base of each application.

    ``park_mask`` marks the parks where the instrument's location condition holds.
    """
    el = inst.eligible
    w = model.people_per_talent_agent
    window_start = inst.window.start - model.calendar[0]  # model month index
    if inst.recipient is Recipient.PARK:
        mask = park_mask
        if el.event is Event.CARRIER and model.month.month != 1:
            mask = np.zeros_like(mask)
        ids = np.flatnonzero(mask)
        return Applications(ids, np.ones(len(ids)))

    if inst.recipient is Recipient.TALENT:
        ids, tier, park = month_events.talent_view(el.event)
        tal = model.talent
        ok = np.ones(len(ids), dtype=bool)
        if el.tiers:
            ok &= _member(tier, [TALENT_TIERS.index(t) for t in el.tiers], N_TIERS)
        if not el.anywhere:
            ok &= _location_ok(park_mask, park)
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
        if inst.payout.rule.uses_rate:  # income-based: a month's pay of the cohort
            base = tal.wage[ids] * w
        return Applications(ids, base)

    f = model.firms
    ids = month_events.firms(el.event)
    ids = ids[f.alive[ids]]
    if el.kinds:
        ids = ids[_member(f.kind[ids], [FIRM_KINDS.index(k) for k in el.kinds], N_KINDS)]
    for cert in el.certified:
        ids = ids[getattr(f, cert)[ids]]
    if not el.anywhere:
        ids = ids[_location_ok(park_mask, f.park[ids])]
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
            hired = np.bincount(
                model.talent.employer[month_events.events.hires], minlength=f.n_slots
            )
            base = hired[ids] * w
        case Event.PATENT:  # patents granted this month (a lump sum is paid per patent)
            counts = np.zeros(f.n_slots)
            counts[month_events.events.patents] = month_events.events.patent_counts
            base = counts[ids]
        case _:
            base = np.ones(len(ids))
    return Applications(ids, base)

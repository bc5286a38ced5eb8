"""Who applies for an instrument this month, and on what base.

The model reports the month's events (``clustersim.incentives.Events``); some events the
plans reward are not part of the core model (a loan, hosting an event, passing an
exam, being selected for a talent programme) and are drawn here, per agent, with the
rates in ``behavior.policy_response``. ``applicants`` filters the candidates by the
instrument's eligibility (kind, tier, certification, place, newness) and returns their
ids and the base its payout rule needs (persons, spending, fees, profit).

Filters over many slots take the positions ``nonzero`` finds
(``live[cond.nonzero()[0]]``) rather than indexing with the mask (``live[cond]``):
the same slots in the same order, and with numpy 2.5 on this machine three times
faster once a mask has tens of thousands of irregular entries (the 10x city). The
array method, not ``np.flatnonzero``: the same positions for a 1-D mask, without the
Python-level wrapper (``ravel`` then ``nonzero``), which costs ~10,000 instructions a
call and is called thousands of times a run.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustersim.policy.instruments import Instrument
from clustersim.policy.vocabulary import Event, Recipient
from clustersim.vocabulary import FIRM_KINDS, N_KINDS, N_TIERS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.agents.firms import FirmTable
    from clustersim.incentives import Events
    from clustersim.model import ClusterModel

#: Tiers that talent programmes select from, and tiers that sit certification exams
#: (masks over ``TALENT_TIERS``).
_PROGRAMME_TIERS = np.isin(np.arange(N_TIERS), (0, 1))
_EXAM_TIERS = np.isin(np.arange(N_TIERS), (2, 3))
#: A loan is taken only by firms at least this financially constrained. Assumption.
_LOAN_CONSTRAINT = 0.3


@dataclass(frozen=True)
class Applications:
    """A month's applications to several instruments, one instrument's after another.

    Attributes:
        ids: the applicant of each application (firm or talent slot, or park index).
        base: the payout base of each (``PayoutRule.base``: persons, spending, ...).
        bounds: the applications to the ``k``-th instrument are ``ids[bounds[k]:bounds[k + 1]]``
            (one more entry than instruments), each instrument's in ascending slot order.

    """

    ids: np.ndarray
    base: np.ndarray
    bounds: np.ndarray

    def of(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Ids and base of the applications to the ``k``-th instrument."""
        s, e = self.bounds[k], self.bounds[k + 1]
        return self.ids[s:e], self.base[s:e]


class Openings:
    """To whom and where each instrument is open, as lookup tables (built once per run).

    A place is a park or, last, "no park": the ``-1`` of an agent without a park indexes
    it, as a negative index counts from the end. ``firm[i, kind, place]`` says whether
    instrument ``i`` admits a firm of that kind in that place; ``talent[i, tier, place]``
    whether it admits talent of that tier working (or last working) there. "No park" is
    admitted only where the instrument has no location condition (anywhere in
    Shanghai), as the instruments' conditions say.
    """

    def __init__(
        self, model: ClusterModel, instruments: list[Instrument], park_masks: list[np.ndarray]
    ) -> None:
        self.instruments = instruments
        self.n_places = len(model.parks) + 1
        #: model month index of each instrument's window start (for "new only")
        self.window_start = [i.window.start - model.calendar[0] for i in instruments]
        self.places: list[np.ndarray] = []
        self.firm = np.zeros((len(instruments), N_KINDS, self.n_places), dtype=bool)
        self.talent = np.zeros((len(instruments), N_TIERS, self.n_places), dtype=bool)
        #: instruments whose payout is a rate on the applicant's income or profit
        self.on_rate = [i.payout.rule.uses_rate for i in instruments]
        self.employer_kinds: list[np.ndarray | None] = []
        #: the tiers each instrument admits (all, for one without a tier condition)
        self.tiers: list[np.ndarray] = []
        for row, (inst, mask) in enumerate(zip(instruments, park_masks, strict=True)):
            el = inst.eligible
            place = np.append(mask, el.anywhere)
            self.places.append(place)
            kinds = _admitted(FIRM_KINDS, el.kinds)
            tiers = _admitted(TALENT_TIERS, el.tiers)
            self.firm[row] = kinds[:, None] & place[None, :]
            self.talent[row] = tiers[:, None] & place[None, :]
            self.employer_kinds.append(kinds if el.kinds else None)
            self.tiers.append(tiers)
        self._rows: dict[tuple[bool, tuple[int, ...]], np.ndarray] = {}
        self._flats: dict[tuple[bool, tuple[int, ...]], np.ndarray] = {}
        self._tiers: dict[tuple[int, ...], np.ndarray | None] = {}
        self._groups: dict[tuple[int, ...], dict[tuple[Recipient, Event], list[int]]] = {}
        self._all: dict[tuple[int, ...], bool] = {}

    def groups(self, rows: tuple[int, ...]) -> dict[tuple[Recipient, Event], list[int]]:
        """The instruments ``rows`` by the recipient and event they reward (cached).

        In the order of ``rows``, within a group and between groups (first member first).
        """
        if rows not in self._groups:
            groups: dict[tuple[Recipient, Event], list[int]] = {}
            for r in rows:
                inst = self.instruments[r]
                groups.setdefault((inst.recipient, inst.eligible.event), []).append(r)
            self._groups[rows] = groups
        return self._groups[rows]

    def tiers_of(self, rows: tuple[int, ...]) -> np.ndarray | None:
        """Mask over tiers: admitted by any of the instruments ``rows``; None for all (cached)."""
        if rows not in self._tiers:
            tiers = np.logical_or.reduce([self.tiers[r] for r in rows])
            self._tiers[rows] = None if tiers.all() else tiers
        return self._tiers[rows]

    def admit_all(self, rows: tuple[int, ...]) -> bool:
        """Whether each talent instrument ``rows`` admits every candidate of the group (cached).

        The group's candidates are talent of the tiers any of them admits (``tiers_of``),
        in any place (a park, or none): true when each of them admits all those tiers in
        every place, with no condition on the employer or newness. Then the admitted
        matrix is all true, and the lookup can be skipped.
        """
        if rows not in self._all:
            tiers = self.tiers_of(rows)
            self._all[rows] = all(
                self.employer_kinds[r] is None
                and not self.instruments[r].eligible.new_only
                and bool(self.talent[r][slice(None) if tiers is None else tiers].all())
                for r in rows
            )
        return self._all[rows]

    def table(self, talent: bool, rows: tuple[int, ...]) -> np.ndarray:
        """The firm (or talent) lookup table of the instruments ``rows`` (cached)."""
        key = (talent, rows)
        if key not in self._rows:
            self._rows[key] = (self.talent if talent else self.firm)[list(rows)]
        return self._rows[key]

    def admitted(
        self, talent: bool, rows: tuple[int, ...], code: np.ndarray, place: np.ndarray
    ) -> np.ndarray:
        """Which of the instruments ``rows`` admit each agent, as ``table(talent, rows)``.

        ``table(talent, rows)[:, code, place]``, computed another way.
        ``code``: each agent's kind (firms) or tier (talent); ``place``: its park, -1 for
        none. A (len(rows) x agents) mask of its own, made by one ``np.take`` from the
        tables flattened with "no park" first in each block (``_flat``): over thousands of
        agents several times faster than indexing the three-dimensional table.
        """
        cell = code * self.n_places
        cell += place
        cell += 1  # "no park" (-1) is the first cell of a block
        return np.take(self._flat(talent, rows), cell, axis=1)

    def _flat(self, talent: bool, rows: tuple[int, ...]) -> np.ndarray:
        """``table(talent, rows)``, each row flattened, "no park" first in each block (cached)."""
        key = (talent, rows)
        if key not in self._flats:
            table = np.roll(self.table(talent, rows), 1, axis=2)  # "no park" (last) first
            self._flats[key] = table.reshape(len(rows), -1)
        return self._flats[key]


def _admitted(names: tuple[str, ...], allowed: tuple[str, ...]) -> np.ndarray:
    """Mask over ``names``: admitted by ``allowed`` (every name when it is empty)."""
    return np.array([not allowed or n in allowed for n in names], dtype=bool)


def _drawn(model: ClusterModel, event: Event, ids: np.ndarray, rate: float) -> np.ndarray:
    """The ``ids`` for whom the event happens this month (per-agent, policy-free draws).

    Each such event has a hashed stream of its own, named like the event
    (``clustersim.streams.STREAMS``).
    """
    if len(ids) == 0 or rate <= 0:
        return ids[:0]
    # ``uniform(...) < rate``, compared on the hashes (the same mask, cheaper)
    return ids[model.streams.below(event.value, model.month_index, ids, rate).nonzero()[0]]


def _of_tiers(tier: np.ndarray, tiers: np.ndarray) -> np.ndarray:
    """Mask over ``tier`` (tier codes): the codes ``tiers`` (a mask over tiers) marks.

    ``tiers[tier]``; where the marked tiers are a run of neighbours (the top tiers, the
    bottom ones: every tier condition of the plans), one or two comparisons of the codes
    instead, which over tens of thousands of slots cost a fraction of the lookup.
    """
    run = _tier_run(tiers)
    if run is None:
        return tiers[tier]
    low, high = run
    if low == 0:
        return tier <= high
    if high == len(tiers) - 1:
        return tier >= low
    out = tier >= low
    out &= tier <= high
    return out


def _tier_run(tiers: np.ndarray) -> tuple[int, int] | None:
    """The first and last tier ``tiers`` (a mask over tiers) marks, if a run of neighbours.

    The top tiers, the bottom ones: every tier condition of the plans. None if the marked
    tiers are not neighbours, or none is marked.
    """
    marked = tiers.nonzero()[0]
    if len(marked) == 0 or marked[-1] - marked[0] + 1 != len(marked):
        return None
    return int(marked[0]), int(marked[-1])


class MonthEvents:
    """The month's events, from the model's report plus the drawn ones, cached per event."""

    def __init__(
        self,
        model: ClusterModel,
        events: Events,
        milestones: np.ndarray | Callable[[], np.ndarray],
    ) -> None:
        """The month's ``events``, and the firms that crossed a growth milestone.

        ``milestones``: those firms, or a function that finds them (called once, the
        first time an instrument asks).
        """
        self.model = model
        self.events = events
        self._milestones = milestones
        self._firms: dict[Event, np.ndarray] = {}
        self._talent: dict[tuple[Event, bytes], np.ndarray] = {}
        self._live: np.ndarray | None = None
        self._is_employed: np.ndarray | None = None
        self._employed: np.ndarray | None = None
        self._employed_in: dict[bytes, np.ndarray] = {}
        self._tiers_at_most: dict[int, np.ndarray] = {}
        #: the month is a January (yearly events: presence)
        self.january = model.month.month == 1

    @property
    def milestones(self) -> np.ndarray:
        """High-growth firms that crossed a growth milestone this month (found once)."""
        if callable(self._milestones):
            self._milestones = self._milestones()
        return self._milestones

    @property
    def live(self) -> np.ndarray:
        """Firm slots alive now (computed once a month)."""
        if self._live is None:
            self._live = self.model.firms.live()
        return self._live

    @property
    def employed(self) -> np.ndarray:
        """Talent slots employed now (computed once a month)."""
        if self._employed is None:
            self._employed = self._employed_mask().nonzero()[0]
        return self._employed

    def _employed_mask(self) -> np.ndarray:
        """Mask over the talent slots in use: employed now (computed once a month).

        ``talent.employed()[:in_use]``: no slot from ``in_use`` on is employed.
        """
        if self._is_employed is None:
            tal = self.model.talent
            self._is_employed = tal.employer[: tal.in_use] >= 0
        return self._is_employed

    def employed_in(self, tiers: np.ndarray) -> np.ndarray:
        """Employed talent slots of the tiers ``tiers`` marks (a mask over tiers), ascending.

        One pass over the slots in use: a slot's tier looked up in ``tiers``, and the
        employed mask (made once a month). The same slots, in the same order, as
        filtering ``employed`` by tier, and several times faster than gathering the
        tiers of the employed first (numpy 2.5, this machine: the filters over an
        irregular selection of tens of thousands of slots cost the most). Computed once
        a month per set of tiers (the talent programmes and an income-tax subsidy of
        the top tiers ask for the same). The top tiers (0 to ``k``) are one comparison,
        kept for the month (``_at_most``); the bottom tiers are the others, so the
        employed of the bottom tiers need no comparison of their own once the top ones
        are known (the programmes ask for the top two tiers, the exams the bottom two).
        """
        key = tiers.tobytes()
        if key not in self._employed_in:
            run = _tier_run(tiers)
            employed = self._employed_mask()
            if run is not None and run[0] == 0:  # tiers 0..k
                of_tiers = self._at_most(run[1]) & employed
            elif run is not None and run[1] == len(tiers) - 1:
                # tiers k..last: employed and not of tiers 0..k-1
                of_tiers = np.greater(employed, self._at_most(run[0] - 1))
            else:
                tal = self.model.talent
                of_tiers = _of_tiers(tal.tier[: tal.in_use], tiers)
                of_tiers &= employed
            self._employed_in[key] = of_tiers.nonzero()[0]
        return self._employed_in[key]

    def _at_most(self, top: int) -> np.ndarray:
        """Mask over the talent slots in use: of tier ``top`` or a higher one (0 is the top).

        Kept for the month.
        """
        mask = self._tiers_at_most.get(top)
        if mask is None:
            tal = self.model.talent
            mask = self._tiers_at_most[top] = tal.tier[: tal.in_use] <= top
        return mask

    def firms(self, event: Event) -> np.ndarray:
        """Firm slots for which ``event`` happened this month."""
        if event not in self._firms:
            self._firms[event] = self._firm_event(event)
        return self._firms[event]

    def _firm_event(self, event: Event) -> np.ndarray:
        m, e = self.model, self.events
        r = m.behavior.policy_response
        live = self.live
        january = self.january
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
                constrained = live[(m.firms.financing[live] >= _LOAN_CONSTRAINT).nonzero()[0]]
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
                certified = live[m.firms.high_tech[live].nonzero()[0]]
                return _drawn(m, event, certified, r.major_project_rate)
            case Event.IP_PILOT:
                return _drawn(
                    m, event, live[(m.firms.patents[live] >= 2).nonzero()[0]], r.ip_pilot_rate
                )
            case Event.HIRE:
                return np.unique(m.talent.employer[e.hires])
        return live[:0]

    def talent(self, event: Event, tiers: np.ndarray | None = None) -> np.ndarray:
        """Talent slots for which ``event`` happened this month, in the order reported.

        ``tiers`` (a mask over tiers) keeps only the talent of the tiers it marks.
        """
        key = (event, b"" if tiers is None else tiers.tobytes())
        if key not in self._talent:
            if tiers is None:
                ids = self._talent_event(event)
            elif event is Event.CONTINUOUS or (event is Event.PRESENCE and self.january):
                ids = self.employed_in(tiers)  # the employed of these tiers
            else:
                ids = self.talent(event)
                ids = ids[tiers[self.model.talent.tier[ids]].nonzero()[0]]
            self._talent[key] = ids
        return self._talent[key]

    def _talent_event(self, event: Event) -> np.ndarray:
        m, e = self.model, self.events
        r = m.behavior.policy_response
        match event:
            case Event.HIRE:
                return e.hires
            case Event.ARRIVAL:
                return e.arrivals
            case Event.PRESENCE:
                return self.employed if self.january else np.zeros(0, dtype=np.int64)
            case Event.CONTINUOUS:
                return self.employed
            case Event.TALENT_PROGRAMME:
                pool = self.employed_in(_PROGRAMME_TIERS)
                return _drawn(m, event, pool, r.municipal_programme_rate)
            case Event.DISTRICT_TALENT_PROGRAMME:
                pool = self.employed_in(_PROGRAMME_TIERS)
                return _drawn(m, event, pool, r.district_programme_rate)
            case Event.EXAM_CERTIFICATION:
                pool = self.employed_in(_EXAM_TIERS)
                return _drawn(m, event, pool, r.exam_rate)
        return np.zeros(0, dtype=np.int64)


def applicants(
    model: ClusterModel,
    rows: list[int],
    month_events: MonthEvents,
    openings: Openings,
) -> Applications:
    """Eligible applicants of the instruments ``openings.instruments[r]`` (``r`` in ``rows``).

    The applications come out instrument by instrument in the order of ``rows``: each
    instrument's eligible agents among those its event happened to this month (kind,
    tier, certification, place, newness), in ascending slot order, with the base of
    each application.

    Instruments rewarding the same event of the same kind of recipient are screened
    together: one lookup of a table (``Openings``) by each candidate's kind-or-tier and
    place gives a matrix of who is admitted by which instrument; the few instruments with
    further conditions (certifications, newness, employer's kind) mask their rows. A
    row of the matrix is the filter the instrument applies to the candidates, so its
    ``nonzero`` lists the same agents, in the same order, as filtering the candidates one
    condition after another does.
    """
    found: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    rare: list[tuple[list[int], np.ndarray]] = []  # firm groups screened at once, below
    for (recipient, event), members in openings.groups(tuple(rows)).items():
        if recipient is Recipient.PARK:
            for r in members:
                found[r] = _park_applicants(model, openings, r)
            continue
        if recipient is Recipient.FIRM and event not in _FIRM_BASES:
            candidates = month_events.firms(event)
            if len(candidates) <= _RARE:
                rare.append((members, candidates))
                continue
        screen = _talent_group if recipient is Recipient.TALENT else _firm_group
        ids, base, counts = screen(model, event, members, month_events, openings)
        _share_out(found, members, ids, base, counts)
    if rare:
        _rare_firm_groups(model, rare, openings, found)
    parts = [found[r] for r in rows]
    bounds = np.array([0, *itertools.accumulate(len(p[0]) for p in parts)], dtype=np.int64)
    if not parts:
        return Applications(np.zeros(0, dtype=np.int64), np.zeros(0), bounds)
    return Applications(
        np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]), bounds
    )


#: Firm events whose applications have a base of their own (spending, a loan's cost,
#: profit, hires, patents); every other firm event's base is 1 (one award per event).
_FIRM_BASES = frozenset(
    {
        Event.RD_SPEND,
        Event.COMPUTE_SPEND,
        Event.LOAN,
        Event.CONTINUOUS,
        Event.PRESENCE,
        Event.HIRE,
        Event.PATENT,
    }
)
#: Firm events whose candidates are firms operating now (``MonthEvents.live`` or some of
#: them): no need to check that they still operate.
_OF_LIVE = frozenset(
    {Event.RD_SPEND, Event.COMPUTE_SPEND, Event.CONTINUOUS, Event.PRESENCE, Event.LOAN}
)
#: Firm groups of events with a base of 1 and at most this many candidates are screened
#: together (``_rare_firm_groups``): a certification, an entry, a pilot, a hosted event
#: happen to a few firms a month. Assumption: a speed setting; the applicants are the same.
_RARE = 512


def _share_out(
    found: dict[int, tuple[np.ndarray, np.ndarray]],
    rows: list[int],
    ids: np.ndarray,
    base: np.ndarray,
    counts: np.ndarray,
) -> None:
    """Each instrument's slice of a group's applications (``counts`` per instrument)."""
    ends = list(itertools.accumulate(counts.tolist()))
    for r, s, e in zip(rows, [0, *ends[:-1]], ends, strict=True):
        found[r] = (ids[s:e], base[s:e])


def _rare_firm_groups(
    model: ClusterModel,
    groups: list[tuple[list[int], np.ndarray]],
    openings: Openings,
    found: dict[int, tuple[np.ndarray, np.ndarray]],
) -> None:
    """Applications of firms to several groups of instruments at once, into ``found``.

    ``groups``: each group's instruments and the firm slots its event happened to (a
    base of 1 each). As ``_firm_group`` screens each group: the candidates of all
    groups one after another, one lookup of the admitted matrix for all their
    instruments, where an instrument admits only the candidates of its own group (its
    own event), in the order they came; each row of the matrix lists the same firms,
    in the same order, as ``_firm_group`` lists for the instrument. Rare events make
    small groups, whose screening costs mostly the calls: one pass instead of one per
    group.
    """
    f = model.firms
    rows = [r for members, _ in groups for r in members]
    candidates = np.concatenate([ids for _, ids in groups])
    group = np.repeat(np.arange(len(groups)), [len(ids) for _, ids in groups])
    alive = f.alive[candidates].nonzero()[0]
    ids, group = candidates[alive], group[alive]
    if len(ids) == 0:  # no candidate, no application
        for r in rows:
            found[r] = (ids, np.zeros(0))
        return
    ok = openings.admitted(False, tuple(rows), f.kind[ids], f.park[ids])
    row_group = np.repeat(np.arange(len(groups)), [len(members) for members, _ in groups])
    ok &= group[None, :] == row_group[:, None]
    for j, r in enumerate(rows):
        _firm_conditions(f, ids, ok[j], openings, r)
    _, pos, counts = _positions(ok)
    _share_out(found, rows, ids[pos], np.ones(len(pos)), counts)


def _firm_conditions(
    f: FirmTable, ids: np.ndarray, ok: np.ndarray, openings: Openings, r: int
) -> None:
    """Mask ``ok`` (over ``ids``) by instrument ``r``'s certifications and newness, in place."""
    el = openings.instruments[r].eligible
    for cert in el.certified:
        ok &= getattr(f, cert)[ids]
    if el.new_only:
        ok &= f.born[ids] >= openings.window_start[r]


def _positions(ok: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Where ``ok`` (instruments x candidates) holds, instrument by instrument.

    Returns the instrument (row) and candidate (column) of each admitted pair, row-major
    (instrument by instrument, candidates ascending), and how many each row admits: what
    ``np.nonzero`` and a count per row give, with one ``nonzero`` of the row for a single row.
    """
    if ok.shape[0] == 1:
        pos = ok[0].nonzero()[0]
        return np.zeros(len(pos), dtype=np.int64), pos, np.array([len(pos)], dtype=np.int64)
    which, pos = np.nonzero(ok)
    return which, pos, np.bincount(which, minlength=ok.shape[0])


def _park_applicants(
    model: ClusterModel, openings: Openings, row: int
) -> tuple[np.ndarray, np.ndarray]:
    """Parks applying to a park instrument (a carrier award: in January only)."""
    inst = openings.instruments[row]
    if inst.eligible.event is Event.CARRIER and model.month.month != 1:
        ids = np.zeros(0, dtype=np.int64)
    else:
        ids = openings.places[row][:-1].nonzero()[0]
    return ids, np.ones(len(ids))


def _firm_group(
    model: ClusterModel,
    event: Event,
    rows: list[int],
    month_events: MonthEvents,
    openings: Openings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Applications of firms to the instruments ``rows`` (all rewarding ``event``).

    Returns the applicants one instrument's after another, the base of each, and how
    many each instrument has.
    """
    f = model.firms
    ids = month_events.firms(event)
    if event not in _OF_LIVE:  # some may have closed since
        ids = ids[f.alive[ids]]
    if len(ids) == 0:  # most rewarded events are rare: no candidate, no application
        return ids, np.zeros(0), np.zeros(len(rows), dtype=np.int64)
    ok = openings.admitted(False, tuple(rows), f.kind[ids], f.park[ids])
    for j, r in enumerate(rows):
        _firm_conditions(f, ids, ok[j], openings, r)
    which, pos, counts = _positions(ok)
    ids = ids[pos]
    r = model.behavior.policy_response
    w = model.people_per_talent_agent
    match event:
        case Event.RD_SPEND:
            base = f.rd_spend[ids]
        case Event.COMPUTE_SPEND:
            base = f.rd_spend[ids] * r.compute_share
        case Event.LOAN:
            base = f.wage_bill[ids] * 12.0 * r.loan_cost
        case Event.CONTINUOUS | Event.PRESENCE:  # a rate rule's base: the profit
            months = 1.0 if event is Event.CONTINUOUS else 12.0
            base = np.ones(len(ids))
            if any(openings.on_rate[r] for r in rows):
                on_profit = np.array([openings.on_rate[r] for r in rows], dtype=bool)
                profit = f.wage_bill[ids] * r.profit_share * months
                base = np.where(on_profit[which], profit, base)
        case Event.HIRE:
            hired = np.bincount(
                model.talent.employer[month_events.events.hires], minlength=f.n_slots
            )
            base = hired[ids] * w
        case Event.PATENT:  # patents granted this month (a lump sum is paid per patent)
            patents = np.zeros(f.n_slots)
            patents[month_events.events.patents] = month_events.events.patent_counts
            base = patents[ids]
        case _:
            base = np.ones(len(ids))
    return ids, base, counts


def _talent_group(
    model: ClusterModel,
    event: Event,
    rows: list[int],
    month_events: MonthEvents,
    openings: Openings,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Applications of talent to the instruments ``rows`` (all rewarding ``event``).

    Returns the applicants one instrument's after another, the base of each (the
    cohort's persons, or a month of its pay for an income-based rule), and how many
    each instrument has. The place is the workplace, or the last one for talent without.
    """
    tal = model.talent
    key = tuple(rows)
    # first the tiers any of them admits: often a few of many candidates
    ids = month_events.talent(event, openings.tiers_of(key))
    if len(ids) == 0:  # no candidate, no application
        return ids, np.zeros(0), np.zeros(len(rows), dtype=np.int64)
    if openings.admit_all(key):  # every instrument admits every candidate
        n, k = len(ids), len(rows)
        which = np.repeat(np.arange(k), n)
        ids = np.tile(ids, k)
        counts = np.full(k, n, dtype=np.int64)
    else:
        park = tal.park[ids]
        if event not in (Event.CONTINUOUS, Event.PRESENCE):  # those: the employed, in a park
            idle = (park < 0).nonzero()[0]  # without a job: the last park worked in
            if len(idle):
                park[idle] = tal.last_park[ids[idle]]
        ok = openings.admitted(True, key, tal.tier[ids], park)
        for j, r in enumerate(rows):
            kinds = openings.employer_kinds[r]
            if kinds is not None:
                employer = tal.employer[ids]
                ok[j] &= (employer >= 0) & kinds[model.firms.kind[employer]]
            if openings.instruments[r].eligible.new_only:
                ok[j] &= tal.arrived[ids] >= openings.window_start[r]
        which, pos, counts = _positions(ok)
        ids = ids[pos]
    w = model.people_per_talent_agent
    base = np.full(len(ids), w)
    if any(openings.on_rate[r] for r in rows):  # income-based: a month's pay of the cohort
        on_pay = np.array([openings.on_rate[r] for r in rows], dtype=bool)
        base = np.where(on_pay[which], tal.wage[ids] * w, base)
    return ids, base, counts

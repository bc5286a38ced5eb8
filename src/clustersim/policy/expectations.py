"""What agents can expect from the instruments in force: the month's ``Levers``.

For every instrument in force and funded, the expected RMB a firm of each kind locating
in each park would get over ``policy_response.horizon_years`` (approval chance x capped
amount x how often the rewarded event happens to such firms, measured as the model runs),
the same per person for talent, the share of R&D spending firms expect back, and how
much certification and pilot rewards raise the chance of seeking them. Recent cash
grants (a firm column kept by ``rules.support``) raise the growth firms want.

``Expectations`` keeps what this needs between months: the measured monthly frequency
of each recurring firm event, and each instrument's expected value per application.
The grant engine (``policy.engine.RegimeIncentives``) owns one and asks it for levers.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from clustersim.incentives import Levers
from clustersim.policy.grants import Terms
from clustersim.policy.instruments import Instrument, applicant_cap, expected_value
from clustersim.policy.vocabulary import Event, PayoutRule, Recipient
from clustersim.vocabulary import FIRM_KINDS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.policy.applications import MonthEvents
    from clustersim.settings.behavior import PolicyResponse

#: Firm events whose reward a locating firm expects once (on arrival).
ONCE = frozenset({Event.ENTRY, Event.LANDING, Event.RELOCATION_IN})
#: Firm events that recur; their expected yearly count per firm is measured as the run goes.
RECURRING = frozenset(
    {
        Event.PATENT,
        Event.HIGH_TECH_CERT,
        Event.SPECIALISED_CERT,
        Event.PILOT,
        Event.PROJECT_SELECTION,
        Event.GROWTH_MILESTONE,
        Event.LOAN,
        Event.EVENT_HOSTING,
        Event.STANDARD,
        Event.QUALITY_AWARD,
        Event.MAJOR_PROJECT,
        Event.IP_PILOT,
        Event.HIRE,
    }
)
#: Smoothing of measured event rates (monthly weight of the new value).
SMOOTHING = 1.0 / 12.0


class Expectations:
    """Expected incentives by kind x park and tier x park, from the instruments in force."""

    def __init__(self) -> None:
        self._event_rate: dict[Event, np.ndarray] = {}
        self._ev_cache: dict[tuple[str, float], float] = {}
        self._on_pay: dict[str, np.ndarray] = {}
        #: per set of instruments in force (their keys): what summing their levers needs
        self._plans: dict[tuple[str, ...], _LeverPlan] = {}
        #: per set of instruments in force (their keys): the recurring firm events they reward
        self._recurring: dict[tuple[str, ...], tuple[Event, ...]] = {}

    def _ev(self, inst: Instrument, base: float = 1.0) -> float:
        """Expected RMB of one application on ``base`` (cached: it does not change in a run)."""
        key = (inst.key, base)
        if key not in self._ev_cache:
            self._ev_cache[key] = float(expected_value(inst, base)[0])
        return self._ev_cache[key]

    def _monthly_on_pay(self, model: ClusterModel, inst: Instrument) -> np.ndarray:
        """Expected RMB per tier of an income-based instrument on a month's base pay (cached)."""
        if inst.key not in self._on_pay:
            wages = model.behavior.talent.base_wage.array()
            self._on_pay[inst.key] = expected_value(inst, wages)
        return self._on_pay[inst.key]

    def levers(
        self,
        model: ClusterModel,
        in_force: list[Instrument],
        mask_of: Callable[[Instrument], np.ndarray],
    ) -> Levers:
        """Expected incentives by kind x park and tier x park, and their multipliers.

        Only ``firm_offer`` (and the certification value of an instrument paid on
        continuing profit) moves with the firms, every month; ``talent_offer`` moves with
        the instruments' years left. The other tables (the certification and pilot
        values and the multipliers they give, ``rd_share``, ``amenity_bonus``) depend only
        on which instruments are in force: they are summed once per set of instruments
        and kept (``_LeverPlan``), as is ``talent_offer`` per (set, years left). Each
        table is summed in the instruments' order either way, and each instrument's value
        is the same product of the same numbers whether worked out alone or in a row of
        a table of them, so the levers are the same to the bit.
        """
        plan = self._plan(model, in_force, mask_of)
        f = model.firms
        r = model.behavior.policy_response
        live = f.live()
        years = plan.years_left(model)
        typical = _typical_firm(model, live) if plan.needs_typical else {}
        values = self._firm_values(model, plan, years, typical, live)
        if len(values):
            # instrument by instrument, in their order: value[:, None] x mask[None, :];
            # a sum over the first axis adds the terms one after another, elementwise
            terms = values[:, :, None] * plan.firm_masks[:, None, :]
            firm_offer = np.add.reduce(terms, axis=0)
        else:
            firm_offer = np.zeros((len(FIRM_KINDS), plan.n_parks))
        if plan.per_firm_tables is None:  # a certification value moves with the firms
            cert_value = {ev: np.zeros((len(FIRM_KINDS), plan.n_parks)) for ev in _CERT_TABLES}
            for j, pos in enumerate(plan.firm_rows):
                self._add_cert_value(
                    cert_value, in_force[pos], plan.firm_masks[j], values[j], typical
                )
            tables = _per_firm_tables(plan.rd_share, cert_value, r)
        else:
            tables = plan.per_firm_tables
        # each slot's cell of the kinds x parks tables (a live firm's flat position; a
        # slot without a firm, the column past the tables holding ``empty``): one ``take``
        # gives the four tables' value of every slot
        cell = np.full(f.n_slots, tables.flat.shape[1] - 1)
        cell[live] = f.live_kind() * plan.n_parks + f.park[live]
        per_firm = np.take(tables.flat, cell, axis=1)
        # recent cash grants raise the growth a firm wants (a slot without a firm: none)
        # (in place on the gathered columns: the same operations in the same order)
        wages = f.wage_bill[live]
        wages *= 12.0
        np.maximum(wages, 1.0, out=wages)
        share = f.recent_grants[live]
        share *= 12.0
        share /= wages
        np.minimum(share, 1.0, out=share)
        share *= r.growth_per_grant
        growth = np.zeros(f.n_slots)
        growth[live] = share
        return Levers(
            firm_offer=firm_offer,
            talent_offer=self._talent_offer(model, plan, in_force, years).copy(),
            rd_share=per_firm[0],
            growth_bonus=growth,
            high_tech_multiplier=per_firm[1],
            specialised_multiplier=per_firm[2],
            pilot_multiplier=per_firm[3],
            amenity_bonus=plan.amenity_bonus.copy(),
        )

    def _plan(
        self,
        model: ClusterModel,
        in_force: list[Instrument],
        mask_of: Callable[[Instrument], np.ndarray],
    ) -> _LeverPlan:
        """What summing the levers of ``in_force`` needs, made once per set (cached)."""
        key = tuple(inst.key for inst in in_force)
        plan = self._plans.get(key)
        # made for the behaviour it was made with (a model given other behaviour: again)
        if plan is None or plan.response is not model.behavior.policy_response:
            plan = self._plans[key] = _LeverPlan.of(self, model, in_force, mask_of)
        return plan

    def _firm_values(
        self,
        model: ClusterModel,
        plan: _LeverPlan,
        years: np.ndarray,
        typical: dict[str, np.ndarray],
        live: np.ndarray,
    ) -> np.ndarray:
        """Expected RMB per firm kind of each firm instrument of ``plan`` (a row each).

        Each row is what ``_firm_value`` works out for its instrument alone, by the same
        products (tested), worked out for all rows of a sort at once: a fixed sum
        (``ONCE``, presence), a measured event rate times a fixed sum (``RECURRING``), or
        a capped share of the typical firm's spending or profit (``_spending_values``).
        """
        values = np.zeros((len(plan.firm_rows), len(FIRM_KINDS)))
        y = years[plan.firm_rows]
        ev, kinds = plan.firm_ev, plan.firm_kinds
        if len(plan.once):
            i = plan.once
            values[i] = ev[i, None] * kinds[i]
        if len(plan.presence):
            i = plan.presence
            values[i] = (ev[i] * y[i])[:, None] * kinds[i]
        if len(plan.recurring):
            i = plan.recurring
            zero = np.zeros(len(FIRM_KINDS))
            rate = np.array([self._event_rate.get(e, zero) for e in plan.recurring_events])
            values[i] = ((ev[i, None] * (rate * 12.0)) * y[i, None]) * kinds[i]
        if len(plan.other):
            i = plan.other
            values[i] = _spending_values(model, plan.other_terms, y[i], typical) * kinds[i]
        return values

    def _talent_offer(
        self,
        model: ClusterModel,
        plan: _LeverPlan,
        in_force: list[Instrument],
        years: np.ndarray,
    ) -> np.ndarray:
        """Expected RMB per person, tiers x parks: summed over the talent instruments (kept)."""
        y = years[plan.talent_rows]
        key = y.tobytes()
        table = plan.talent_offers.get(key)
        if table is None:
            if len(plan.talent_rows):
                values = np.array(
                    [
                        self._talent_value(model, in_force[pos], float(y[j]))
                        for j, pos in enumerate(plan.talent_rows.tolist())
                    ]
                )
                # instrument by instrument, in their order: value[:, None] x mask[None, :],
                # added one after another by a sum over the first axis
                table = np.add.reduce(values[:, :, None] * plan.talent_masks[:, None, :], axis=0)
            else:
                table = np.zeros((len(TALENT_TIERS), plan.n_parks))
            table.flags.writeable = False  # kept for later months: read only
            plan.talent_offers[key] = table
        return table

    def carried_on(self) -> Expectations:
        """A copy that goes on from here (a counterfactual's, from a run's).

        The event rates measured so far are its own; what is kept for sets of
        instruments (read only, the same for either) is shared.
        """
        other = Expectations()
        other._event_rate = dict(self._event_rate)  # replaced, never changed in place
        other._ev_cache = dict(self._ev_cache)
        other._on_pay = dict(self._on_pay)
        other._plans = dict(self._plans)
        other._recurring = dict(self._recurring)
        return other

    def _add_cert_value(
        self,
        cert_value: dict[Event, np.ndarray],
        inst: Instrument,
        mask: np.ndarray,
        value: np.ndarray | None,
        typical: dict[str, np.ndarray] | None,
    ) -> None:
        """Add a firm instrument's reward for certifying or piloting to ``cert_value``.

        ``value`` and ``typical`` are needed only for an instrument paid on continuing
        profit to certified firms (``_moving_cert_value``); without them it is skipped.
        """
        ev = inst.eligible.event
        if ev in (Event.HIGH_TECH_CERT, Event.SPECIALISED_CERT):
            cert_value[ev] += self._ev(inst) * _kinds(inst)[:, None] * mask[None, :]
        elif ev in (Event.PILOT, Event.PROJECT_SELECTION):
            cert_value[Event.PILOT] += self._ev(inst) * _kinds(inst)[:, None] * mask[None, :]
        elif _moving_cert_value(inst) and value is not None and typical is not None:
            cert_value[Event.HIGH_TECH_CERT] += (
                value[:, None]
                * mask[None, :]
                / np.maximum(typical["high_tech_share"], 0.05)[:, None]
            )

    def _firm_value(
        self, model: ClusterModel, inst: Instrument, years: float, typical: dict, live: np.ndarray
    ) -> np.ndarray:
        """Expected RMB, per firm kind, from one instrument for a firm locating now.

        The definition, one instrument at a time; ``_firm_values`` gives every row the
        same numbers, worked out for many instruments at once.
        """
        ev = inst.eligible.event
        r = model.behavior.policy_response
        kinds = _kinds(inst)
        if ev in ONCE:
            value = np.full(len(FIRM_KINDS), self._ev(inst))
        elif ev is Event.PRESENCE and not inst.payout.rule.uses_rate:
            value = np.full(len(FIRM_KINDS), self._ev(inst) * years)
        elif ev in (Event.RD_SPEND, Event.COMPUTE_SPEND, Event.CONTINUOUS, Event.PRESENCE):
            if ev is Event.RD_SPEND:
                yearly = typical["rd_spend"] * 12.0
            elif ev is Event.COMPUTE_SPEND:
                yearly = typical["rd_spend"] * 12.0 * r.compute_share
            else:
                yearly = typical["wage_bill"] * 12.0 * r.profit_share
            value = np.minimum(expected_value(inst, yearly), applicant_cap(inst, yearly)) * years
            if "high_tech" in inst.eligible.certified:
                value = value * typical["high_tech_share"]
            if "specialised" in inst.eligible.certified:
                value = value * typical["specialised_share"]
        elif ev in RECURRING:
            per_year = self._event_rate.get(ev, np.zeros(len(FIRM_KINDS))) * 12.0
            # a hire brings one cohort: the base is its people
            base = float(model.people_per_talent_agent) if ev is Event.HIRE else 1.0
            value = self._ev(inst, base) * per_year * years
        else:
            value = np.zeros(len(FIRM_KINDS))
        return np.asarray(value, dtype=float) * kinds

    def _talent_value(self, model: ClusterModel, inst: Instrument, years: float) -> np.ndarray:
        """Expected RMB per person, per tier, from one instrument for talent working there."""
        ev = inst.eligible.event
        r = model.behavior.policy_response
        tiers = _tiers(inst)
        if inst.payout.rule.uses_rate:  # income tax subsidy on a month's pay, every month
            return self._monthly_on_pay(model, inst) * 12.0 * years * tiers
        once = self._ev(inst)
        rate = {
            Event.TALENT_PROGRAMME: r.municipal_programme_rate * 12.0 * years,
            Event.DISTRICT_TALENT_PROGRAMME: r.district_programme_rate * 12.0 * years,
            Event.EXAM_CERTIFICATION: r.exam_rate * 12.0 * years,
            Event.PRESENCE: years,
        }.get(ev, 1.0)
        return once * rate * tiers

    def measure_event_rates(
        self, model: ClusterModel, month_events: MonthEvents, in_force: list[Instrument]
    ) -> None:
        """Update the per-kind monthly frequency of each recurring firm event in force."""
        events = self._recurring_in(in_force)
        if not events:
            return
        f = model.firms
        n_kinds = len(FIRM_KINDS)
        per_kind = np.maximum(np.bincount(f.live_kind(), minlength=n_kinds), 1)
        # every event's firms by kind at once: one count over (event, kind) cells; each
        # cell holds the count, and each rate the quotient, that event's own would give
        found = [month_events.firms(ev) for ev in events]
        cells = np.repeat(np.arange(len(events)) * n_kinds, [len(ids) for ids in found])
        cells += f.kind[np.concatenate(found)]
        counts = np.bincount(cells, minlength=len(events) * n_kinds)
        rate = counts.reshape(len(events), n_kinds) / per_kind
        for ev, new in zip(events, rate, strict=True):
            old = self._event_rate.get(ev)
            self._event_rate[ev] = new if old is None else old + SMOOTHING * (new - old)

    def _recurring_in(self, in_force: list[Instrument]) -> tuple[Event, ...]:
        """The recurring firm events instruments of ``in_force`` reward (kept per set)."""
        key = tuple(inst.key for inst in in_force)
        events = self._recurring.get(key)
        if events is None:
            wanted = {i.eligible.event for i in in_force if i.recipient is Recipient.FIRM}
            events = self._recurring[key] = tuple(
                sorted(wanted & RECURRING, key=lambda ev: ev.value)
            )
        return events


#: The certification and pilot value tables (kinds x parks) of ``Levers``' multipliers.
_CERT_TABLES = (Event.HIGH_TECH_CERT, Event.SPECIALISED_CERT, Event.PILOT)


def _moving_cert_value(inst: Instrument) -> bool:
    """A reward of high-tech certification that moves with the firms: a profit-based one."""
    return inst.eligible.event is Event.CONTINUOUS and "high_tech" in inst.eligible.certified


@dataclass(frozen=True)
class _PerFirmTables:
    """The kinds x parks tables each firm reads its cell of: flattened, one row each.

    Rows: ``rd_share``, then the high-tech, specialised and pilot multipliers (``1 +
    strength x log(1 + value / scale)`` of the certification and pilot values). The last
    column, past the tables' cells, is each row's value for a slot without a firm
    (``empty``: no share, the response to no value).
    """

    flat: np.ndarray
    empty: np.ndarray


def _per_firm_tables(
    rd_share: np.ndarray, cert_value: dict[Event, np.ndarray], r: PolicyResponse
) -> _PerFirmTables:
    """``_PerFirmTables`` of an R&D share table and the certification and pilot values."""

    def response(value: np.ndarray, strength: float) -> tuple[np.ndarray, float]:
        empty = 1.0 + strength * np.log1p(np.zeros(1) / r.response_scale)[0]
        return 1.0 + strength * np.log1p(value / r.response_scale), float(empty)

    rows = [
        (rd_share, 0.0),
        response(cert_value[Event.HIGH_TECH_CERT], r.certification_response),
        response(cert_value[Event.SPECIALISED_CERT], r.certification_response),
        response(cert_value[Event.PILOT], r.pilot_response),
    ]
    empty = np.array([[value] for _, value in rows])
    flat = np.hstack([np.stack([table.reshape(-1) for table, _ in rows]), empty])
    flat.flags.writeable = False
    return _PerFirmTables(flat, empty[:, 0])


@dataclass(frozen=True)
class _LeverPlan:
    """What the levers of one set of instruments in force need, worked out once per set.

    The instruments' window ends (for the years left of each, every month); the firm
    instruments (not designations) with their park masks, admitted kinds and expected
    RMB per application, grouped by how their value is worked out; the talent
    instruments with their masks; and the tables that depend only on the set: the R&D
    share, certification and pilot values (``per_firm_tables``; None when one of them
    moves with the firms) and the designations' amenity bonus.

    Attributes:
        keys: the instruments' keys, in their order.
        instruments: the instruments in force, in their order.
        n_parks: parks of the model.
        ends: each instrument's last month (``Month.index``).
        designation: which instruments are designations (no years left: 0).
        response: the ``policy_response`` the plan was made with.
        horizon: its ``horizon_years``.
        firm_rows: positions of the firm instruments (not designations).
        firm_masks: their park masks, a row each.
        firm_kinds: the kinds each admits (1.0 / 0.0), a row each.
        firm_ev: expected RMB of one application (``ONCE``, presence, ``RECURRING``).
        once, presence, recurring, other: rows of ``firm_rows`` whose value is a sum
            once on arrival, a sum per year of presence, a sum per measured event, or
            anything else (``Expectations._firm_value``); rows in none are worth 0.
        recurring_events: the event of each ``recurring`` row.
        needs_typical: whether any value reads the typical firm of each kind.
        talent_rows: positions of the talent instruments.
        talent_masks: their park masks, a row each.
        per_firm_tables: the tables each firm reads its cell of (None: they move).
        cert_value: the certification and pilot values (kinds x parks) by
            ``_CERT_TABLES``, of the instruments whose values do not move.
        rd_share: share of R&D spending expected back (kinds x parks).
        amenity_bonus: amenity points designations add (parks).
        talent_offers: ``talent_offer`` (tiers x parks) per years left of the talent
            instruments (their bytes), as months need them.

    """

    keys: tuple[str, ...]
    instruments: list[Instrument]
    n_parks: int
    ends: np.ndarray
    designation: np.ndarray
    response: PolicyResponse
    horizon: float
    firm_rows: np.ndarray
    firm_masks: np.ndarray
    firm_kinds: np.ndarray
    firm_ev: np.ndarray
    once: np.ndarray
    presence: np.ndarray
    recurring: np.ndarray
    other: np.ndarray
    recurring_events: list[Event]
    needs_typical: bool
    talent_rows: np.ndarray
    talent_masks: np.ndarray
    per_firm_tables: _PerFirmTables | None
    cert_value: dict[Event, np.ndarray]
    rd_share: np.ndarray
    amenity_bonus: np.ndarray
    talent_offers: dict[bytes, np.ndarray] = field(default_factory=dict)

    @functools.cached_property
    def other_terms(self) -> _SpendingTerms:
        """The numbers of the ``other`` rows' instruments (``_spending_values``), made once."""
        insts = [self.instruments[self.firm_rows[j]] for j in self.other.tolist()]
        events = [inst.eligible.event for inst in insts]
        return _SpendingTerms(
            terms=Terms.of(insts),
            rd=np.array([ev is Event.RD_SPEND for ev in events], dtype=bool),
            compute=np.array([ev is Event.COMPUTE_SPEND for ev in events], dtype=bool),
            high_tech=np.array(["high_tech" in i.eligible.certified for i in insts], dtype=bool),
            specialised=np.array(
                ["specialised" in i.eligible.certified for i in insts], dtype=bool
            ),
        )

    def years_left(self, model: ClusterModel) -> np.ndarray:
        """Years of each instrument a choice now counts (0 for designations).

        To the end of its window, at most the horizon.
        """
        months = self.ends - model.month.index + 1
        years = np.maximum(0.0, np.minimum(self.horizon, months / 12.0))
        years[self.designation] = 0.0
        return years

    @classmethod
    def of(
        cls,
        expectations: Expectations,
        model: ClusterModel,
        in_force: list[Instrument],
        mask_of: Callable[[Instrument], np.ndarray],
    ) -> _LeverPlan:
        """The plan of ``in_force``: the fixed tables summed over them in their order."""
        n_parks = len(model.parks)
        r = model.behavior.policy_response
        masks = [mask_of(inst) for inst in in_force]
        cert_value = {ev: np.zeros((len(FIRM_KINDS), n_parks)) for ev in _CERT_TABLES}
        rd_share = np.zeros((len(FIRM_KINDS), n_parks))
        amenity_bonus = np.zeros(n_parks)
        moving_cert = False
        firm_rows: list[int] = []
        talent_rows: list[int] = []
        groups: dict[str, list[int]] = {"once": [], "presence": [], "recurring": [], "other": []}
        firm_ev: list[float] = []
        recurring_events: list[Event] = []
        for pos, (inst, mask) in enumerate(zip(in_force, masks, strict=True)):
            if inst.payout.rule is PayoutRule.DESIGNATION:
                amenity_bonus += (inst.payout.amount or 0.0) * mask
                continue
            if inst.recipient is Recipient.TALENT:
                talent_rows.append(pos)
                continue
            if inst.recipient is not Recipient.FIRM:
                continue
            ev = inst.eligible.event
            moving_cert |= _moving_cert_value(inst)
            expectations._add_cert_value(cert_value, inst, mask, None, None)
            if (
                ev in (Event.RD_SPEND, Event.COMPUTE_SPEND)
                and inst.payout.rule is PayoutRule.SHARE_OF_SPEND
            ):
                share = (inst.payout.rate or 0.0) * inst.approval_probability
                if ev is Event.COMPUTE_SPEND:
                    share *= r.compute_share
                rd_share += share * _kinds(inst)[:, None] * mask[None, :]
            # how ``Expectations._firm_value`` works its value out
            row, value = len(firm_rows), 0.0
            firm_rows.append(pos)
            if ev in ONCE:
                groups["once"].append(row)
                value = expectations._ev(inst)
            elif ev is Event.PRESENCE and not inst.payout.rule.uses_rate:
                groups["presence"].append(row)
                value = expectations._ev(inst)
            elif ev in (Event.RD_SPEND, Event.COMPUTE_SPEND, Event.CONTINUOUS, Event.PRESENCE):
                groups["other"].append(row)
            elif ev in RECURRING:
                groups["recurring"].append(row)
                recurring_events.append(ev)
                # a hire brings one cohort: the base is its people
                base = float(model.people_per_talent_agent) if ev is Event.HIRE else 1.0
                value = expectations._ev(inst, base)
            firm_ev.append(value)
        for table in (rd_share, amenity_bonus, *cert_value.values()):
            table.flags.writeable = False  # kept for later months: read only

        def stacked(rows: list[int], width: int, row_of: Callable[[int], np.ndarray]) -> np.ndarray:
            return np.array([row_of(p) for p in rows]).reshape(len(rows), width)

        return cls(
            keys=tuple(inst.key for inst in in_force),
            instruments=list(in_force),
            n_parks=n_parks,
            ends=np.array([inst.window.end.index for inst in in_force], dtype=np.int64),
            designation=np.array(
                [inst.payout.rule is PayoutRule.DESIGNATION for inst in in_force], dtype=bool
            ),
            response=r,
            horizon=r.horizon_years,
            firm_rows=np.array(firm_rows, dtype=np.int64),
            firm_masks=stacked(firm_rows, n_parks, lambda p: masks[p]),
            firm_kinds=stacked(firm_rows, len(FIRM_KINDS), lambda p: _kinds(in_force[p])),
            firm_ev=np.array(firm_ev, dtype=float),
            recurring_events=recurring_events,
            needs_typical=bool(groups["other"]) or moving_cert,
            talent_rows=np.array(talent_rows, dtype=np.int64),
            talent_masks=stacked(talent_rows, n_parks, lambda p: masks[p]),
            per_firm_tables=None if moving_cert else _per_firm_tables(rd_share, cert_value, r),
            cert_value=cert_value,
            rd_share=rd_share,
            amenity_bonus=amenity_bonus,
            **{name: np.array(rows, dtype=np.int64) for name, rows in groups.items()},
        )


@dataclass(frozen=True)
class _SpendingTerms:
    """What the values of instruments paid on spending or profit need, a row each.

    Attributes:
        terms: their payout numbers (``policy.grants.Terms``).
        rd, compute: which pay on R&D spending, on compute spending (the others: on
            profit, a share of the wage bill).
        high_tech, specialised: which are for certified firms only.

    """

    terms: Terms
    rd: np.ndarray
    compute: np.ndarray
    high_tech: np.ndarray
    specialised: np.ndarray


def _spending_values(
    model: ClusterModel, o: _SpendingTerms, years: np.ndarray, typical: dict[str, np.ndarray]
) -> np.ndarray:
    """``Expectations._firm_value`` of instruments paid on spending or profit, a row each.

    The same elementwise steps as ``instruments.expected_value`` and ``applicant_cap``
    on the typical firm's yearly base (the request, floor and cap per base or fixed,
    the capped and floored amount if anything is asked, times the approval chance,
    capped again, times the years, times the certified shares), on rows of a table:
    the same numbers, before the admitted kinds.
    """
    r = model.behavior.policy_response
    t = o.terms
    n = len(t.amount)
    base = np.empty((n, len(FIRM_KINDS)))
    if o.rd.any() or o.compute.any():
        yearly = typical["rd_spend"] * 12.0
        base[o.rd] = yearly
        base[o.compute] = yearly * r.compute_share
    profit = ~(o.rd | o.compute)
    if profit.any():
        base[profit] = typical["wage_bill"] * 12.0 * r.profit_share
    amount, floor, cap = t.amount[:, None], t.floor[:, None], t.cap[:, None]
    requested = np.where(t.per_base[:, None], amount * base, amount)
    floor = np.where(t.floor_per_base[:, None], floor * base, floor)
    cap = np.where(t.cap_per_base[:, None], cap * base, cap)
    paid = np.minimum(np.maximum(requested, floor), cap)
    paid = np.where(requested > 0, paid, 0.0)
    value = np.minimum(t.approval[:, None] * paid, cap) * years[:, None]
    if o.high_tech.any():
        value = np.where(o.high_tech[:, None], value * typical["high_tech_share"], value)
    if o.specialised.any():
        value = np.where(o.specialised[:, None], value * typical["specialised_share"], value)
    return value


@functools.cache
def _admits(names: tuple[str, ...], allowed: tuple[str, ...]) -> np.ndarray:
    """1.0 for each of ``names`` that ``allowed`` admits (all when ``allowed`` is empty).

    Cached (the levers ask every month); read-only, since the cache shares it.
    """
    out = np.array([not allowed or n in allowed for n in names], dtype=float)
    out.flags.writeable = False
    return out


def _kinds(inst: Instrument) -> np.ndarray:
    """1 for the firm kinds the instrument admits, 0 for the others."""
    return _admits(FIRM_KINDS, tuple(inst.eligible.kinds))


def _tiers(inst: Instrument) -> np.ndarray:
    """1 for the talent tiers the instrument admits, 0 for the others."""
    return _admits(TALENT_TIERS, tuple(inst.eligible.tiers))


class _TypicalFirm(dict[str, np.ndarray]):
    """Per kind: mean monthly wage bill, R&D spending, and certification shares.

    The keys ``wage_bill``, ``rd_spend``, ``high_tech_share`` and ``specialised_share``;
    each mean is worked out the first time it is asked for (the instruments in force
    need one or two of them), over the operating firms ``live``.
    """

    def __init__(self, model: ClusterModel, live: np.ndarray) -> None:
        super().__init__()
        self._firms = model.firms
        self._live = live
        self._kind = model.firms.live_kind()  # kind[live]
        self._n = np.maximum(np.bincount(self._kind, minlength=len(FIRM_KINDS)), 1)

    def __missing__(self, name: str) -> np.ndarray:
        f, live = self._firms, self._live
        match name:
            case "wage_bill":
                values = f.wage_bill[live]
            case "rd_spend":
                values = f.rd_spend[live]
            case "high_tech_share":
                values = f.high_tech[live].astype(float)
            case "specialised_share":
                values = f.specialised[live].astype(float)
            case _:
                raise KeyError(name)
        mean = np.bincount(self._kind, weights=values, minlength=len(FIRM_KINDS)) / self._n
        self[name] = mean
        return mean


def _typical_firm(model: ClusterModel, live: np.ndarray) -> dict[str, np.ndarray]:
    """Per kind: mean monthly wage bill, R&D spending, and certification shares (as asked)."""
    return _TypicalFirm(model, live)

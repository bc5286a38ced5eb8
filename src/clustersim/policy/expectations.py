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
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from clustersim.incentives import Levers
from clustersim.policy.instruments import Instrument, applicant_cap, expected_value
from clustersim.policy.vocabulary import Event, PayoutRule, Recipient
from clustersim.vocabulary import FIRM_KINDS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.policy.applications import MonthEvents

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
        self._fixed_cache: dict[tuple[tuple[str, ...], tuple[float, ...]], _FixedLevers] = {}

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

    def _years_left(self, model: ClusterModel, inst: Instrument) -> float:
        months = inst.window.end - model.month + 1
        return max(0.0, min(model.behavior.policy_response.horizon_years, months / 12.0))

    def levers(
        self,
        model: ClusterModel,
        in_force: list[Instrument],
        mask_of: Callable[[Instrument], np.ndarray],
    ) -> Levers:
        """Expected incentives by kind x park and tier x park, and their multipliers.

        Only ``firm_offer`` (and the certification value of an instrument paid on
        continuing profit) moves every month, with the firms' typical spending and the
        measured event rates. The other tables (``talent_offer``, the certification and
        pilot values, ``rd_share``, ``amenity_bonus``) are each a sum over the same
        instruments of terms that depend only on the instrument and its years left:
        they are summed once per (instruments in force, years left) and kept
        (``_fixed``). Each table is summed in the instruments' order either way, so its
        numbers are the same.
        """
        n_parks = len(model.parks)
        f = model.firms
        r = model.behavior.policy_response
        live = f.live()
        typical = _typical_firm(model, live)
        masks = [mask_of(inst) for inst in in_force]
        years = tuple(
            0.0 if inst.payout.rule is PayoutRule.DESIGNATION else self._years_left(model, inst)
            for inst in in_force
        )
        fixed = self._fixed(model, in_force, masks, years)
        moving_cert = fixed.cert is None  # an instrument's certification value moves
        firm_offer = np.zeros((len(FIRM_KINDS), n_parks))
        cert_value = (
            {ev: np.zeros((len(FIRM_KINDS), n_parks)) for ev in _CERT_TABLES}
            if moving_cert
            else fixed.cert
        )
        for inst, mask, y in zip(in_force, masks, years, strict=True):
            if inst.recipient is not Recipient.FIRM or inst.payout.rule is PayoutRule.DESIGNATION:
                continue
            value = self._firm_value(model, inst, y, typical, live)
            firm_offer += value[:, None] * mask[None, :]
            if moving_cert:
                self._add_cert_value(cert_value, inst, mask, value, typical)
        # each live firm's cell of a kinds x parks table (its flat position), found once
        # for the four tables: ``np.take`` of the flat position is ``table[kind, park]``
        cell = f.kind[live] * n_parks + f.park[live]

        def per_firm(table: np.ndarray, empty: float = 0.0) -> np.ndarray:
            """Each firm slot's entry of ``table`` (kinds x parks); ``empty`` for the others."""
            out = np.full(f.n_slots, empty)
            out[live] = np.take(table, cell)
            return out

        def response(value: np.ndarray, strength: float) -> np.ndarray:
            # 1 + strength x log(1 + value / scale) of each firm's cell: computed on the
            # table and then looked up, which is the same number for every firm (an
            # elementwise function of the same cell's value); a slot without a firm has
            # the value 0
            empty = 1.0 + strength * np.log1p(np.zeros(1) / r.response_scale)[0]
            return per_firm(1.0 + strength * np.log1p(value / r.response_scale), empty)

        wages = np.maximum(f.wage_bill * 12.0, 1.0)
        growth = r.growth_per_grant * np.minimum(f.recent_grants * 12.0 / wages, 1.0)
        return Levers(
            firm_offer=firm_offer,
            talent_offer=fixed.talent_offer.copy(),
            rd_share=per_firm(fixed.rd_share),
            growth_bonus=growth,
            high_tech_multiplier=response(
                cert_value[Event.HIGH_TECH_CERT], r.certification_response
            ),
            specialised_multiplier=response(
                cert_value[Event.SPECIALISED_CERT], r.certification_response
            ),
            pilot_multiplier=response(cert_value[Event.PILOT], r.pilot_response),
            amenity_bonus=fixed.amenity_bonus.copy(),
        )

    def _fixed(
        self,
        model: ClusterModel,
        in_force: list[Instrument],
        masks: list[np.ndarray],
        years: tuple[float, ...],
    ) -> _FixedLevers:
        """The tables that depend only on the instruments in force and their years left.

        Summed over the instruments in their order, as ``levers`` always summed them;
        cached by (instruments, years left). ``cert`` is None where an instrument's
        certification value moves with the firms (it is then summed in ``levers``).
        """
        key = (tuple(inst.key for inst in in_force), years)
        if key in self._fixed_cache:
            return self._fixed_cache[key]
        n_parks = len(model.parks)
        r = model.behavior.policy_response
        talent_offer = np.zeros((len(TALENT_TIERS), n_parks))
        cert_value = {ev: np.zeros((len(FIRM_KINDS), n_parks)) for ev in _CERT_TABLES}
        rd_share = np.zeros((len(FIRM_KINDS), n_parks))
        amenity_bonus = np.zeros(n_parks)
        moving_cert = False
        for inst, mask, y in zip(in_force, masks, years, strict=True):
            if inst.payout.rule is PayoutRule.DESIGNATION:
                amenity_bonus += (inst.payout.amount or 0.0) * mask
                continue
            if inst.recipient is Recipient.TALENT:
                value = self._talent_value(model, inst, y)
                talent_offer += value[:, None] * mask[None, :]
                continue
            if inst.recipient is not Recipient.FIRM:
                continue
            ev = inst.eligible.event
            moving_cert |= _moving_cert_value(inst)
            self._add_cert_value(cert_value, inst, mask, None, None)
            if (
                ev in (Event.RD_SPEND, Event.COMPUTE_SPEND)
                and inst.payout.rule is PayoutRule.SHARE_OF_SPEND
            ):
                share = (inst.payout.rate or 0.0) * inst.approval_probability
                if ev is Event.COMPUTE_SPEND:
                    share *= r.compute_share
                rd_share += share * _kinds(inst)[:, None] * mask[None, :]
        for table in (talent_offer, rd_share, amenity_bonus, *cert_value.values()):
            table.flags.writeable = False  # kept for later months: read only
        fixed = _FixedLevers(
            talent_offer, None if moving_cert else cert_value, rd_share, amenity_bonus
        )
        self._fixed_cache[key] = fixed
        return fixed

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
        """Expected RMB, per firm kind, from one instrument for a firm locating now."""
        ev = inst.eligible.event
        r = model.behavior.policy_response
        kinds = _kinds(inst)
        if ev in ONCE:
            value = np.full(len(FIRM_KINDS), self._ev(inst))
        elif ev is Event.PRESENCE and not inst.payout.rule.uses_rate:
            value = np.full(len(FIRM_KINDS), self._ev(inst) * years)
        elif ev in (Event.RD_SPEND, Event.COMPUTE_SPEND, Event.CONTINUOUS, Event.PRESENCE):
            yearly = {
                Event.RD_SPEND: typical["rd_spend"] * 12.0,
                Event.COMPUTE_SPEND: typical["rd_spend"] * 12.0 * r.compute_share,
            }.get(ev, typical["wage_bill"] * 12.0 * r.profit_share)
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
        f = model.firms
        live = month_events.live
        per_kind = np.maximum(np.bincount(f.kind[live], minlength=len(FIRM_KINDS)), 1)
        for ev in {i.eligible.event for i in in_force if i.recipient is Recipient.FIRM}:
            if ev not in RECURRING:
                continue
            ids = month_events.firms(ev)
            rate = np.bincount(f.kind[ids], minlength=len(FIRM_KINDS)) / per_kind
            old = self._event_rate.get(ev)
            self._event_rate[ev] = rate if old is None else old + SMOOTHING * (rate - old)


#: The certification and pilot value tables (kinds x parks) of ``Levers``' multipliers.
_CERT_TABLES = (Event.HIGH_TECH_CERT, Event.SPECIALISED_CERT, Event.PILOT)


def _moving_cert_value(inst: Instrument) -> bool:
    """A reward of high-tech certification that moves with the firms: a profit-based one."""
    return inst.eligible.event is Event.CONTINUOUS and "high_tech" in inst.eligible.certified


@dataclass(frozen=True)
class _FixedLevers:
    """Tables of the levers that depend only on the instruments in force and years left.

    Attributes:
        talent_offer: expected RMB per person (tiers x parks).
        cert: certification and pilot values (kinds x parks) by ``_CERT_TABLES``; None
            where an instrument's value moves with the firms.
        rd_share: share of R&D spending expected back (kinds x parks).
        amenity_bonus: amenity points designations add (parks).

    """

    talent_offer: np.ndarray
    cert: dict[Event, np.ndarray] | None
    rd_share: np.ndarray
    amenity_bonus: np.ndarray


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


def _typical_firm(model: ClusterModel, live: np.ndarray) -> dict[str, np.ndarray]:
    """Per kind: mean monthly wage bill, R&D spending, and certification shares."""
    f = model.firms
    kind = f.kind[live]
    n = np.maximum(np.bincount(kind, minlength=len(FIRM_KINDS)), 1)

    def mean(values: np.ndarray) -> np.ndarray:
        return np.bincount(kind, weights=values, minlength=len(FIRM_KINDS)) / n

    return {
        "wage_bill": mean(f.wage_bill[live]),
        "rd_spend": mean(f.rd_spend[live]),
        "high_tech_share": mean(f.high_tech[live].astype(float)),
        "specialised_share": mean(f.specialised[live].astype(float)),
    }

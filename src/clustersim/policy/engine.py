"""The plans in force: levers for agents' choices, and grants within caps and budgets.

``RegimeIncentives`` is the model's ``Incentives`` when a scenario has regimes. Each
month it

1. **gives levers**: for every instrument in force, what a firm of each kind locating in
   each park can expect from it over ``policy_response.horizon_years`` (approval chance
   x capped amount x how often the rewarded event happens to such firms, measured as the
   model runs), what a talent of each tier can expect at each park, the share of R&D
   spending firms expect back, and how much certification and pilot rewards raise the
   chance of seeking them;
2. **grants**: for every instrument in force, the eligible applicants of the month's
   events ask for the amount the payout rule gives, are approved with the instrument's
   probability, and are served within the year's budget (``policy.grants.grant``); every
   grant goes into the ledger (``policy.ledger``) and is returned to the model as a
   ``Grant``, whose effects on the recipients (financing, residency, housing, park
   capacity) the rule ``rules.support.apply_grants`` applies. Whenever an approved
   application is turned away because the year's budget cannot pay it in full, the
   instrument-month is recorded (``rationing_frame``): the month each yearly budget ran
   out, as the engine saw it.

All draws (approval, priority, events outside the core model) come from hashed streams
(``clustersim.streams``), per agent, so a run and its counterfactual differ only by the
policy.
"""

from __future__ import annotations

import functools
import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.config import ConfigError
from clustersim.incentives import Events, Grant, Incentives, Levers
from clustersim.policy.applications import MonthEvents, applicants
from clustersim.policy.grants import grant
from clustersim.policy.instruments import Instrument, Regime, applicant_cap, expected_value
from clustersim.policy.ledger import GrantLedger
from clustersim.policy.vocabulary import Event, PayoutRule, Recipient
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.settings import Scenario

#: Firm events whose reward a locating firm expects once (on arrival).
_ONCE = frozenset({Event.ENTRY, Event.LANDING, Event.RELOCATION_IN})
#: Firm events that recur; their expected yearly count per firm is measured as the run goes.
_RECURRING = frozenset(
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
        Event.HIRE,
    }
)
#: Smoothing of measured event rates (monthly weight of the new value).
_SMOOTHING = 1.0 / 12.0
#: Columns of ``rationing_frame``, in order, and their types.
RATIONING_COLUMNS: dict[str, str] = {
    "regime": "string",
    "instrument": "string",
    "issuer": "string",
    "month": "string",
    "year": "int64",
    "applications": "int64",
    "amount": "float64",
    "largest": "float64",
}


class RegimeIncentives(Incentives):
    """The instruments of the scenario's regimes, granted month by month."""

    def __init__(self, regimes: list[Regime], disabled: frozenset[str] = frozenset()) -> None:
        self.regimes = regimes
        self.instruments = [
            i for r in regimes for i in r.instruments if i.enabled and i.key not in disabled
        ]
        self.ledger = GrantLedger()
        #: One row per instrument-month with approved applications turned away for lack
        #: of budget (see ``rationing_frame``); appended only when a budget binds.
        self._rationing: list[tuple[str, str, str, str, int, int, float, float]] = []
        self._spent_month: dict[str, float] = {}
        self._spent_total: dict[str, float] = dict.fromkeys(JURISDICTIONS, 0.0)
        self._masks: dict[str, np.ndarray] = {}
        self._event_rate: dict[Event, np.ndarray] = {}
        self._previous_people: np.ndarray | None = None
        self._in_force_month = -1
        self._ev_cache: dict[tuple[str, float], float] = {}
        self._in_force_cache: list[Instrument] = []

    @classmethod
    def from_scenario(cls, scenario: Scenario, without: str | None = None) -> RegimeIncentives:
        """The scenario's regimes (parsed once, by ``load_scenario``); drop ``without`` if named."""
        regimes = list(scenario.regimes)
        disabled: frozenset[str] = frozenset()
        if without not in (None, "off", "no_policy"):
            keys = {i.key for r in regimes for i in r.instruments}
            if without not in keys:
                raise ConfigError(
                    "run.counterfactual",
                    without,
                    "must name an instrument of the scenario as <regime>.<instrument>; "
                    f"available: {', '.join(sorted(keys))}",
                )
            disabled = frozenset({without})
        return cls(regimes, disabled)

    # ------------------------------------------------------------------ helpers

    def regimes_by_issuer(self) -> dict[str, list[str]]:
        """Regime names per jurisdiction."""
        out: dict[str, list[str]] = {}
        for r in self.regimes:
            out.setdefault(r.issuer, []).append(r.name)
        return out

    def _budget(self, inst: Instrument) -> float:
        """Yearly budget after the regime's scale; a scale of 0 unfunds entitlements too."""
        if inst.budget_scale == 0:
            return 0.0
        return inst.yearly_budget

    def _in_force(self, model: ClusterModel) -> list[Instrument]:
        """Instruments switched on, in their window and funded this month (cached)."""
        if self._in_force_month != model.month_index:
            month = model.month
            self._in_force_cache = [
                i for i in self.instruments if i.window.contains(month) and self._budget(i) > 0
            ]
            self._in_force_month = model.month_index
        return self._in_force_cache

    def _mask(self, model: ClusterModel, inst: Instrument) -> np.ndarray:
        if inst.key not in self._masks:
            parks = model.parks
            districts = [parks.districts[d] for d in parks.district]
            self._masks[inst.key] = inst.eligible.park_mask(parks.ids, districts, parks.tags)
        return self._masks[inst.key]

    def _ev(self, inst: Instrument, base: float = 1.0) -> float:
        """Expected RMB of one application on ``base`` (cached: it does not change in a run)."""
        key = (inst.key, base)
        if key not in self._ev_cache:
            self._ev_cache[key] = float(expected_value(inst, base)[0])
        return self._ev_cache[key]

    def _years_left(self, model: ClusterModel, inst: Instrument) -> float:
        months = inst.window.end - model.month + 1
        return max(0.0, min(model.behavior.policy_response.horizon_years, months / 12.0))

    # ------------------------------------------------------------------ levers

    def levers(self, model: ClusterModel) -> Levers:
        """Expected incentives by kind x park and tier x park, and their multipliers."""
        n_parks = len(model.parks)
        f = model.firms
        r = model.behavior.policy_response
        firm_offer = np.zeros((len(FIRM_KINDS), n_parks))
        talent_offer = np.zeros((len(TALENT_TIERS), n_parks))
        cert_value = {
            Event.HIGH_TECH_CERT: np.zeros((len(FIRM_KINDS), n_parks)),
            Event.SPECIALISED_CERT: np.zeros((len(FIRM_KINDS), n_parks)),
            Event.PILOT: np.zeros((len(FIRM_KINDS), n_parks)),
        }
        rd_share = np.zeros((len(FIRM_KINDS), n_parks))
        live = f.live()
        typical = _typical_firm(model, live)
        for inst in self._in_force(model):
            mask = self._mask(model, inst)
            years = self._years_left(model, inst)
            if inst.recipient is Recipient.TALENT:
                value = self._talent_value(model, inst, years)
                talent_offer += value[:, None] * mask[None, :]
                continue
            if inst.recipient is not Recipient.FIRM:
                continue
            value = self._firm_value(model, inst, years, typical, live)
            firm_offer += value[:, None] * mask[None, :]
            ev = inst.eligible.event
            if ev in (Event.HIGH_TECH_CERT, Event.SPECIALISED_CERT):
                cert_value[ev] += self._ev(inst) * _kinds(inst)[:, None] * mask[None, :]
            elif ev in (Event.PILOT, Event.PROJECT_SELECTION):
                cert_value[Event.PILOT] += self._ev(inst) * _kinds(inst)[:, None] * mask[None, :]
            elif ev is Event.CONTINUOUS and "high_tech" in inst.eligible.certified:
                cert_value[Event.HIGH_TECH_CERT] += (
                    value[:, None]
                    * mask[None, :]
                    / np.maximum(typical["high_tech_share"], 0.05)[:, None]
                )
            if (
                ev in (Event.RD_SPEND, Event.COMPUTE_SPEND)
                and inst.payout.rule is PayoutRule.SHARE_OF_SPEND
            ):
                share = (inst.payout.rate or 0.0) * inst.approval_probability
                if ev is Event.COMPUTE_SPEND:
                    share *= r.compute_share
                rd_share += share * _kinds(inst)[:, None] * mask[None, :]

        def per_firm(table: np.ndarray) -> np.ndarray:
            out = np.zeros(f.n_slots)
            out[live] = table[f.kind[live], f.park[live]]
            return out

        def response(value: np.ndarray, strength: float) -> np.ndarray:
            return 1.0 + strength * np.log1p(per_firm(value) / r.response_scale)

        wages = np.maximum(f.wage_bill * 12.0, 1.0)
        growth = r.growth_per_grant * np.minimum(f.recent_grants * 12.0 / wages, 1.0)
        return Levers(
            firm_offer=firm_offer,
            talent_offer=talent_offer,
            rd_share=per_firm(rd_share),
            growth_bonus=growth,
            high_tech_multiplier=response(
                cert_value[Event.HIGH_TECH_CERT], r.certification_response
            ),
            specialised_multiplier=response(
                cert_value[Event.SPECIALISED_CERT], r.certification_response
            ),
            pilot_multiplier=response(cert_value[Event.PILOT], r.pilot_response),
        )

    def _firm_value(
        self, model: ClusterModel, inst: Instrument, years: float, typical: dict, live: np.ndarray
    ) -> np.ndarray:
        """Expected RMB, per firm kind, from one instrument for a firm locating now."""
        ev = inst.eligible.event
        r = model.behavior.policy_response
        kinds = _kinds(inst)
        if ev in _ONCE:
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
        elif ev in _RECURRING:
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
        wages = model.behavior.talent.base_wage.array()
        if inst.payout.rule.uses_rate:  # income tax subsidy on a month's pay, every month
            per_month = expected_value(inst, wages)
            return per_month * 12.0 * years * tiers
        once = self._ev(inst)
        rate = {
            Event.TALENT_PROGRAMME: r.municipal_programme_rate * 12.0 * years,
            Event.DISTRICT_TALENT_PROGRAMME: r.district_programme_rate * 12.0 * years,
            Event.EXAM_CERTIFICATION: r.exam_rate * 12.0 * years,
            Event.PRESENCE: years,
        }.get(ev, 1.0)
        return once * rate * tiers

    # ------------------------------------------------------------------ grants

    def grant(self, model: ClusterModel, events: Events) -> list[Grant]:
        """Grant to this month's eligible applicants; return the month's grants."""
        f = model.firms
        if self._previous_people is None:
            self._previous_people = f.staff * model.people_per_talent_agent
        people = f.staff * model.people_per_talent_agent
        milestones = self._milestones(model, people)
        self._previous_people = people
        month_events = MonthEvents(model, events, milestones)
        self._measure_event_rates(model, month_events)
        self._spent_month = dict.fromkeys(JURISDICTIONS, 0.0)
        grants: list[Grant] = []
        for inst in self._in_force(model):
            apps = applicants(model, inst, month_events, self._mask(model, inst))
            if len(apps.ids) == 0:
                continue
            paid = self._decide(model, inst, apps.ids, apps.base)
            granted = paid > 0
            if not granted.any():
                continue
            ids, paid = apps.ids[granted], paid[granted]
            amount = self.ledger.record(inst, model.month, ids, paid)
            grants.append(Grant(inst, ids, paid))
            self._spent_month[inst.issuer] += amount
            self._spent_total[inst.issuer] += amount
        return grants

    def _decide(
        self, model: ClusterModel, inst: Instrument, ids: np.ndarray, base: np.ndarray
    ) -> np.ndarray:
        """RMB granted to each applicant (``policy.grants.grant``); record any turn-away."""
        budget = self._budget(inst)
        t, year = model.month_index, model.month.year
        needs_priority = not math.isinf(budget)  # an unlimited budget has no queue
        needs_approval = inst.approval_probability < 1.0
        decision = grant(
            inst,
            base,
            received=None if inst.cap is None else self.ledger.received(inst, ids, year),
            remaining_budget=(
                max(budget - self.ledger.spent(inst, year), 0.0) if needs_priority else budget
            ),
            approval_draws=(
                model.streams.uniform("grant_approval", t, ids, key=inst.key)
                if needs_approval
                else None
            ),
            priority_draws=(
                model.streams.uniform("grant_priority", t, ids, key=inst.key)
                if needs_priority
                else None
            ),
        )
        away = decision.turned_away
        if away:  # the budget bound: approved applications got nothing this month
            self._rationing.append(
                (
                    inst.regime,
                    inst.id,
                    inst.issuer,
                    str(model.month),
                    year,
                    away.applications,
                    away.amount,
                    away.largest,
                )
            )
        return decision.paid

    def _milestones(self, model: ClusterModel, people: np.ndarray) -> np.ndarray:
        """High-growth firms whose employees crossed a milestone this month."""
        f = model.firms
        before = self._previous_people
        crossed = np.zeros(f.n_slots, dtype=bool)
        for level in model.behavior.policy_response.growth_milestones:
            crossed |= (before < level) & (people >= level)
        return np.flatnonzero(crossed & f.alive & (f.kind == FIRM_KINDS.index("high_growth")))

    def _measure_event_rates(self, model: ClusterModel, month_events: MonthEvents) -> None:
        """Update the per-kind monthly frequency of each recurring firm event in force."""
        f = model.firms
        live = f.live()
        per_kind = np.maximum(np.bincount(f.kind[live], minlength=len(FIRM_KINDS)), 1)
        for ev in {
            i.eligible.event for i in self._in_force(model) if i.recipient is Recipient.FIRM
        }:
            if ev not in _RECURRING:
                continue
            ids = month_events.firms(ev)
            rate = np.bincount(f.kind[ids], minlength=len(FIRM_KINDS)) / per_kind
            old = self._event_rate.get(ev)
            self._event_rate[ev] = rate if old is None else old + _SMOOTHING * (rate - old)

    # ------------------------------------------------------------------ reporting

    def spent_by(self, jurisdiction: str) -> float:
        """RMB granted so far by a jurisdiction."""
        return self._spent_total.get(jurisdiction, 0.0)

    def spent_this_month(self) -> dict[str, float]:
        """RMB granted this month, by jurisdiction."""
        return dict(self._spent_month)

    def ledger_frame(self) -> pd.DataFrame:
        """Every grant: recipient, instrument, regime, issuer, rule, month, amount."""
        return self.ledger.to_frame()

    def spending_frame(self) -> pd.DataFrame:
        """RMB granted (cash and in kind) by jurisdiction x regime x instrument x year."""
        return self.ledger.spending(("issuer", "regime", "instrument", "year"))

    def rationing_frame(self) -> pd.DataFrame:
        """Approved applications turned away for lack of budget, per instrument and month.

        One row per instrument-month in which at least one approved application with a
        positive (capped) amount was not paid because what was left of the instrument's
        yearly budget could not pay it in full (grants are all or nothing, served in
        priority order, and the queue stops at the first that does not fit). Columns
        (``RATIONING_COLUMNS``): ``regime``, ``instrument``, ``issuer``, ``month``
        (``YYYY-MM``), ``year``, ``applications`` (how many were turned away), ``amount``
        (their RMB) and ``largest`` (the largest of them, RMB); rows in the order the
        engine met them (month, then instrument). Empty, with these columns, when no
        budget ever bound. A yearly budget ran out in the first month of that year with a
        row.
        """
        frame = pd.DataFrame(self._rationing, columns=list(RATIONING_COLUMNS))
        return frame.astype(RATIONING_COLUMNS)


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

"""The plans in force: levers for agents' choices, and grants within caps and budgets.

``RegimeIncentives`` is the model's ``Incentives`` when a scenario has regimes. Each
month it

1. **gives levers**: for every instrument in force, what a firm of each kind locating in
   each park can expect from it over ``policy_response.horizon_years`` (approval chance
   x capped amount x how often the rewarded event happens to such firms, measured as the
   model runs), what a talent of each tier can expect at each park, the share of R&D
   spending firms expect back, and how much certification and pilot rewards raise the
   chance of seeking them (``policy.expectations``);
2. **grants**: for every instrument in force, the eligible applicants of the month's
   events ask for the amount the payout rule gives, are approved with the instrument's
   probability, and are served within the year's budget; all instruments of the month
   are screened (``policy.applications.applicants``) and decided
   (``policy.grants.grant_many``) in one pass, each as if alone; every
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

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.config import ConfigError
from clustersim.incentives import Events, Grant, Incentives, Levers, NoIncentives
from clustersim.policy.applications import MonthEvents, Openings, applicants
from clustersim.policy.expectations import Expectations
from clustersim.policy.grants import Decisions, Terms, TurnedAway, grant_many
from clustersim.policy.instruments import Instrument, Regime
from clustersim.policy.ledger import GrantLedger
from clustersim.policy.vocabulary import PayoutRule
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.months import Month
    from clustersim.settings import Scenario

#: The code of the firm kind whose employee milestones an instrument may reward.
_HIGH_GROWTH = FIRM_KINDS.index("high_growth")

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
        #: what agents can expect from the instruments in force (the month's levers)
        self.expectations = Expectations()
        #: each firm slot's staff (cohorts) last month, for the growth milestones
        self._previous_staff: np.ndarray | None = None
        self._in_force_month = -1
        self._in_force_cache: list[Instrument] = []
        #: the positions of the instruments in force in each month met so far (by
        #: ``Month.index``; a set's key), from each instrument's window (first and last
        #: ``Month.index``) and whether funded, and the list of each set met so far
        self._set_of_month: dict[int, tuple[int, ...]] = {}
        self._in_force_sets: dict[tuple[int, ...], list[Instrument]] = {}
        self._starts = np.array([i.window.start.index for i in self.instruments], dtype=np.int64)
        self._ends = np.array([i.window.end.index for i in self.instruments], dtype=np.int64)
        self._funded = np.array([_budget(i) > 0 for i in self.instruments], dtype=bool)
        #: position of each instrument in ``instruments`` (the rows of the tables below)
        self._row = {inst.key: row for row, inst in enumerate(self.instruments)}
        #: who each instrument is open to, as lookup tables (built at the first grant)
        self._openings: Openings | None = None
        #: per set of instruments in force (its key): what granting them at once needs
        self._batches: dict[tuple[int, ...], _Batch] = {}

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

    def _in_force(self, model: ClusterModel) -> list[Instrument]:
        """Instruments switched on, in their window and funded this month (cached)."""
        if self._in_force_month != model.month_index:
            self._in_force_cache = self._in_force_in(model.month)
            self._in_force_month = model.month_index
        return self._in_force_cache

    def _in_force_in(self, month: Month) -> list[Instrument]:
        """Instruments switched on, in their window and funded in ``month`` (kept per month)."""
        t = month.index
        key = self._set_of_month.get(t)
        if key is None:
            rows = ((self._starts <= t) & (t <= self._ends) & self._funded).nonzero()[0]
            key = self._set_of_month[t] = tuple(rows.tolist())
            if key not in self._in_force_sets:  # one list per set, shared by its months
                self._in_force_sets[key] = [self.instruments[r] for r in key]
        return self._in_force_sets[key]

    # ------------------------------------------------------------ counterfactuals

    def months_alike(self, other: Incentives, calendar: Sequence[Month]) -> int:
        """Months from the start in which ``other`` has the same instruments in force.

        A run with these regimes and one with ``other`` (the same regimes with some
        instruments dropped: a counterfactual) are the same run until a dropped
        instrument is first in force: everything the engine does in a month (levers,
        applications, grants, the event rates it measures) depends only on the
        instruments in force, each on its own, and on the model.

        ``other`` may also be no plan at all (``NoIncentives``, the ``no_policy``
        counterfactual): then the months before any of these instruments is in force.
        In them the engine grants nothing and its levers are neutral, the same numbers
        as ``NoIncentives``' (a table of zeros, multipliers of 1), and it draws from no
        generator stream. Other incentives: 0.
        """
        if type(other) is NoIncentives:
            return next(
                (t for t, month in enumerate(calendar) if self._in_force_in(month)),
                len(calendar),
            )
        if type(other) is not type(self) or other.regimes != self.regimes:
            return 0
        for t, month in enumerate(calendar):
            mine = [i.key for i in self._in_force_in(month)]
            if mine != [i.key for i in other._in_force_in(month)]:
                return t
        return len(calendar)

    def take_over(self, other: Incentives) -> None:
        """Carry on from ``other``'s state: its ledger, budgets spent, expectations.

        ``other`` ran the months so far with the same instruments in force as these
        (``months_alike``); what is kept per instrument position (lookup tables, batches)
        is this engine's own and is made again as needed.
        """
        if not isinstance(other, RegimeIncentives):
            raise TypeError(f"cannot take over the state of {type(other).__name__}")
        self.ledger = copy.deepcopy(other.ledger)
        self._rationing = list(other._rationing)
        self._spent_month = dict(other._spent_month)
        self._spent_total = dict(other._spent_total)
        self._masks = dict(other._masks)  # read only: shared
        self.expectations = other.expectations.carried_on()
        previous = other._previous_staff
        self._previous_staff = None if previous is None else previous.copy()

    def _mask(self, model: ClusterModel, inst: Instrument) -> np.ndarray:
        if inst.key not in self._masks:
            parks = model.parks
            districts = [parks.districts[d] for d in parks.district]
            self._masks[inst.key] = inst.eligible.park_mask(parks.ids, districts, parks.tags)
        return self._masks[inst.key]

    # ------------------------------------------------------------------ levers

    def levers(self, model: ClusterModel) -> Levers:
        """Expected incentives by kind x park and tier x park, and their multipliers."""
        return self.expectations.levers(
            model, self._in_force(model), lambda inst: self._mask(model, inst)
        )

    # ------------------------------------------------------------------ grants

    def grant(self, model: ClusterModel, events: Events) -> list[Grant]:
        """Grant to this month's eligible applicants; return the month's grants.

        Every instrument in force is granted as if alone (its own applicants, draws, caps
        and budget; nothing one grants changes what another can), so the month's
        applications to all of them are screened and decided in one pass, and then
        recorded instrument by instrument in the order of the plans.
        """
        # each firm slot's staff now, and last month (the first month: now); the
        # milestones crossed in between are worked out only if an instrument asks
        now = model.firms.staff.copy()
        before = now if self._previous_staff is None else self._previous_staff
        self._previous_staff = now
        month_events = MonthEvents(model, events, lambda: self._milestones(model, before, now))
        self.expectations.measure_event_rates(model, month_events, self._in_force(model))
        self._spent_month = dict.fromkeys(JURISDICTIONS, 0.0)
        batch = self._batch(model)
        if not batch.instruments:
            return []
        apps = applicants(model, batch.rows, month_events, self._openings_of(model))
        if len(apps.ids) == 0:
            return []
        decisions = self._decide(model, batch, apps.ids, apps.base, apps.bounds)
        for k, away in sorted(decisions.turned_away.items()):
            # the budget bound: approved applications got nothing this month
            self._record_turn_away(model, batch.instruments[k], away)
        # the grants, instrument by instrument (in the plans' order)
        # the granted applications (in order), and where each instrument's begin among them
        paid = decisions.paid
        granted = (paid > 0).nonzero()[0]
        first = np.searchsorted(granted, apps.bounds).tolist()
        granted_ids, granted_paid = apps.ids[granted], paid[granted]
        # read only: the ledger keeps slices of them, and so do the grants
        granted_ids.flags.writeable = False
        granted_paid.flags.writeable = False
        recorded = self.ledger.append_month(
            batch.instruments, model.month, granted_ids, granted_paid, first
        )
        grants: list[Grant] = []
        for k, amount in recorded:
            inst = batch.instruments[k]
            s, e = first[k], first[k + 1]
            grants.append(Grant(inst, granted_ids[s:e], granted_paid[s:e]))
            if inst.payout.rule.money:  # in-kind services cost the plan no money
                self._spent_month[inst.issuer] += amount
                self._spent_total[inst.issuer] += amount
        return grants

    def _batch(self, model: ClusterModel) -> _Batch:
        """The instruments that grant this month (in force, not designations), as a batch.

        Kept per set of instruments in force (the months of a set share it).
        """
        in_force = self._in_force(model)
        key = self._set_of_month[model.month.index]
        batch = self._batches.get(key)
        if batch is None:
            rows = [
                self._row[i.key]
                for i in in_force
                if i.payout.rule is not PayoutRule.DESIGNATION  # acts through the levers only
            ]
            batch = self._batches[key] = _Batch.of([self.instruments[r] for r in rows], rows)
        return batch

    def _openings_of(self, model: ClusterModel) -> Openings:
        """Who each instrument is open to (lookup tables, made once)."""
        if self._openings is None:
            masks = [self._mask(model, inst) for inst in self.instruments]
            self._openings = Openings(model, self.instruments, masks)
        return self._openings

    def _decide(
        self,
        model: ClusterModel,
        batch: _Batch,
        ids: np.ndarray,
        base: np.ndarray,
        bounds: np.ndarray,
    ) -> Decisions:
        """RMB granted per application (``policy.grants.grant_many``), all instruments at once.

        Each instrument's approval and priority draws come from its own member of the
        grant streams, keyed by the instrument (``Streams.uniform_members``): the same
        draws as drawing for each instrument alone. Priority draws are drawn only where
        a budget's queue needs them (``grant_many`` asks for them), for the approved
        applications: each agent's draw is the same whoever else is drawn. What each
        applicant already got within a cap comes from the ledger, instrument by
        instrument (capped ones only).
        """
        t, year = model.month_index, model.month.year
        spent = np.array([self.ledger.spent(inst, year) for inst in batch.instruments])
        # a finite budget: what is left of it this year; no budget line: inf
        remaining = np.where(batch.finite, np.maximum(batch.budget - spent, 0.0), batch.budget)
        received = None
        for k in batch.capped:
            s, e = bounds[k], bounds[k + 1]
            if e > s:
                if received is None:
                    received = np.zeros(len(ids))
                received[s:e] = self.ledger.received(batch.instruments[k], ids[s:e], year)
        streams = model.streams

        def priority(k: int, where: np.ndarray) -> np.ndarray:
            # the draws of the applications ``where``, all to the k-th instrument
            return streams.uniform("grant_priority", t, ids[where], key=batch.keys[k])

        return grant_many(
            batch.terms,
            bounds,
            base,
            received=received,
            remaining_budget=remaining,
            approval_draws=streams.uniform_members("grant_approval", t, ids, batch.keys, bounds),
            priority_draws=priority,
        )

    def _record_turn_away(self, model: ClusterModel, inst: Instrument, away: TurnedAway) -> None:
        """One row of ``rationing_frame``: ``inst`` turned approved applications away."""
        self._rationing.append(
            (
                inst.regime,
                inst.id,
                inst.issuer,
                str(model.month),
                model.month.year,
                away.applications,
                away.amount,
                away.largest,
            )
        )

    def _milestones(self, model: ClusterModel, before: np.ndarray, now: np.ndarray) -> np.ndarray:
        """High-growth firms whose employees crossed a milestone this month.

        Employees are staff (cohorts) times the people a cohort stands for, last month's
        (``before``, per firm slot) and now (``now``), of the operating high-growth firms.
        """
        f = model.firms
        live = f.live()
        growing = live[(f.live_kind() == _HIGH_GROWTH).nonzero()[0]]  # ascending slots
        w = model.people_per_talent_agent
        before, now = before[growing] * w, now[growing] * w
        crossed = np.zeros(len(growing), dtype=bool)
        for level in model.behavior.policy_response.growth_milestones:
            crossed |= (before < level) & (now >= level)
        return growing[crossed]

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


@dataclass(frozen=True)
class _Batch:
    """The instruments that grant in a month, and what granting them at once needs.

    Attributes:
        instruments: the instruments, in the plans' order.
        rows: their positions in ``RegimeIncentives.instruments`` (rows of ``Openings``).
        keys: their keys (``regime.id``): the members of the grant draw streams.
        terms: what each pays (``policy.grants.Terms``).
        budget: each one's yearly budget (inf = no budget line).
        finite: which budgets are finite.
        capped: positions (in the batch) of the instruments with a per-recipient cap.

    """

    instruments: list[Instrument]
    rows: list[int]
    keys: list[str]
    terms: Terms
    budget: np.ndarray
    finite: np.ndarray
    capped: list[int]

    @classmethod
    def of(cls, instruments: list[Instrument], rows: list[int]) -> _Batch:
        """The batch of ``instruments`` (rows: their positions in the engine's list)."""
        budget = np.array([_budget(i) for i in instruments], dtype=float)
        return cls(
            instruments=instruments,
            rows=rows,
            keys=[i.key for i in instruments],
            terms=Terms.of(instruments),
            budget=budget,
            finite=~np.isinf(budget),
            capped=[k for k, i in enumerate(instruments) if i.cap is not None],
        )


def _budget(inst: Instrument) -> float:
    """Yearly budget after the regime's scale; a scale of 0 unfunds entitlements too."""
    if inst.budget_scale == 0:
        return 0.0
    return inst.yearly_budget

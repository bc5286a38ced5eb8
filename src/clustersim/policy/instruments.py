"""Typed policy instruments and regimes, and what each payout rule means.

A *regime* is one plan (the municipal 2020 plan, Pudong's plan to 2027, Huangpu's plan
for 2025-2027): an issuer, the document it comes from, and a set of *instruments*. An
instrument is one clause of the document that grants money or a measurable privilege:
who is eligible and on which event, how the payout is computed (the payout rule), the
per-recipient cap or floor, the chance that an application is approved, the window in
which it is in force and its yearly budget.

The plans themselves live only in ``conf/policy/``; ``policy.parsing`` turns them into
these types. What each payout rule *means* lives once here (``requested_amount``,
``applicant_cap``, ``applicant_floor``, ``expected_value``); how applications turn into
grants within caps and budgets lives in ``policy.grants``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from clustersim.months import Month
from clustersim.policy.vocabulary import (
    AmountSource,
    CapPeriod,
    Event,
    PayoutRule,
    Recipient,
    ServiceGrant,
)

__all__ = [
    "Eligibility",
    "Instrument",
    "Payout",
    "Regime",
    "Window",
    "applicant_cap",
    "applicant_floor",
    "expected_value",
    "requested_amount",
]


@dataclass(frozen=True)
class Window:
    """The months an instrument is in force, both ends included."""

    start: Month
    end: Month

    def contains(self, month: Month | str) -> bool:
        """True if ``month`` lies within the window."""
        m = Month.parse(month) if isinstance(month, str) else month
        return self.start <= m <= self.end

    def __str__(self) -> str:
        return f"{self.start}..{self.end}"


@dataclass(frozen=True)
class Eligibility:
    """Who may apply and when.

    Attributes:
        event: the event that makes an agent apply.
        kinds: firm kinds that qualify (empty = any kind).
        tiers: talent tiers that qualify (empty = any tier).
        districts: districts where the recipient (or the talent's employer) must be.
        parks: parks where it must be.
        tags: park tags (e.g. ``huangpu_core_zone``) where it must be.
        certified: certifications it must hold (``high_tech``, ``specialised``).
        new_only: only agents that came to the eligible place on or after the window's
            start (the plan rewards newcomers, not the existing stock).

    Location: the recipient qualifies if it is in any of the named districts, parks or
    tagged parks; when all three are empty, anywhere in Shanghai qualifies.

    """

    event: Event
    kinds: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    districts: tuple[str, ...] = ()
    parks: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    certified: tuple[str, ...] = ()
    new_only: bool = False

    @property
    def anywhere(self) -> bool:
        """True if no location restriction applies (anywhere in Shanghai)."""
        return not (self.districts or self.parks or self.tags)

    def park_mask(
        self,
        park_ids: Iterable[str],
        park_districts: Iterable[str],
        park_tags: Iterable[Iterable[str]],
    ) -> np.ndarray:
        """Boolean mask over parks: where a recipient qualifies by location."""
        ids, dists, tags = list(park_ids), list(park_districts), [set(t) for t in park_tags]
        if self.anywhere:
            return np.ones(len(ids), dtype=bool)
        return np.array(
            [
                p in self.parks or d in self.districts or bool(t & set(self.tags))
                for p, d, t in zip(ids, dists, tags, strict=True)
            ],
            dtype=bool,
        )

    def describe(self, recipient: Recipient) -> str:
        """A one-line human description, e.g. ``talent[top_scientist] in huangpu on hire``."""
        who = recipient.value
        groups = [g for g in (self.kinds, self.tiers, self.certified) if g]
        if groups:
            who += "[" + ";".join(",".join(g) for g in groups) + "]"
        where = (
            ",".join([*self.districts, *self.parks, *(f"#{t}" for t in self.tags)]) or "shanghai"
        )
        new = " (new only)" if self.new_only else ""
        return f"{who} in {where} on {self.event.value}{new}"


@dataclass(frozen=True)
class Payout:
    """How much one applicant asks for, before cap, floor, approval and budget.

    Attributes:
        rule: the payout rule (see ``PayoutRule``).
        amount: RMB per grant (lump_sum, capacity, equity), per person (per_person) or
            RMB-equivalent value (service); ``None`` for rate-based rules.
        rate: share of the base for share_of_spend, interest_subsidy and
            tax_rate_change (0..1); ``None`` otherwise.
        gives: for a service to talent, the status it gives (residency, housing);
            ``None`` otherwise.

    """

    rule: PayoutRule
    amount: float | None = None
    rate: float | None = None
    gives: ServiceGrant | None = None


@dataclass(frozen=True)
class Instrument:
    """One clause of a plan that grants money or a measurable privilege.

    Attributes:
        id: the instrument's key in its regime (``talent_introduction``).
        regime: the regime's key (``huangpu_2024``).
        issuer: the jurisdiction that pays (``shanghai``, ``pudong``, ``huangpu``).
        document: seed file name of the plan's authoritative text.
        clause: measure or task number as printed in the document (``"18"``).
        quote: verbatim passage of the clause that the instrument encodes.
        quote_translation: the same passage in the regime's translation, if any.
        enabled: switched on (a scenario may switch single instruments off).
        recipient: who receives the payout.
        eligible: who may apply, where, on which event.
        payout: how the requested amount is computed.
        cap: per-recipient ceiling in RMB (yuan), ``None`` if the text states none.
        floor: per-grant minimum in RMB for "not less than" awards, else ``None``.
        cap_per: what the cap binds over (a grant, a calendar year, the window).
        amount_source: where cap/floor/amount come from (text, published, assumption).
        note: where the numbers come from and why assumptions were chosen.
        approval_probability: chance an eligible application is approved (0..1).
        window: months in force.
        annual_budget: RMB per calendar year as configured, ``None`` = no budget line
            (an entitlement such as a tax rate).
        budget_scale: the regime's multiplier on every annual budget.

    """

    id: str
    regime: str
    issuer: str
    document: str
    clause: str
    quote: str
    recipient: Recipient
    eligible: Eligibility
    payout: Payout
    window: Window
    amount_source: AmountSource
    quote_translation: str | None = None
    enabled: bool = True
    cap: float | None = None
    floor: float | None = None
    cap_per: CapPeriod = CapPeriod.YEAR
    note: str = ""
    approval_probability: float = 1.0
    annual_budget: float | None = None
    budget_scale: float = 1.0

    @functools.cached_property
    def key(self) -> str:
        """``regime.id``, unique across all regimes (made once: the engine asks every month)."""
        return f"{self.regime}.{self.id}"

    @functools.cached_property
    def labels(self) -> tuple[str, str, str, str, str]:
        """The labels of its ledger rows: recipient type, id, regime, issuer, payout rule.

        Made once: the engine records its grants every month.
        """
        return (
            self.recipient.value,
            self.id,
            self.regime,
            self.issuer,
            self.payout.rule.value,
        )

    @property
    def yearly_budget(self) -> float:
        """RMB available per calendar year after the regime's budget scale (inf = no limit)."""
        if self.annual_budget is None:
            return math.inf
        return self.annual_budget * self.budget_scale

    def active(self, month: Month | str) -> bool:
        """True if switched on and ``month`` lies in the window."""
        return self.enabled and self.window.contains(month)


@dataclass(frozen=True)
class Regime:
    """One plan: its issuer, document and instruments.

    Attributes:
        name: the regime's key in ``policy`` (``huangpu_2024``).
        issuer: the jurisdiction that issued the plan.
        document: seed file name of the authoritative text.
        title: the plan's title and document number.
        translation: seed file name of a translation (quotes may cite it), or ``None``.
        budget_scale: multiplier on every instrument's annual budget.
        instruments: the instruments, in config order (disabled ones included).

    """

    name: str
    issuer: str
    document: str
    title: str
    instruments: tuple[Instrument, ...]
    translation: str | None = None
    budget_scale: float = 1.0

    def instrument(self, instrument_id: str) -> Instrument:
        """The instrument with this id; ``KeyError`` listing the ids if there is none."""
        for inst in self.instruments:
            if inst.id == instrument_id:
                return inst
        raise KeyError(
            f"no instrument {instrument_id!r} in {self.name}; "
            f"available: {', '.join(i.id for i in self.instruments)}"
        )

    def active(self, month: Month | str) -> tuple[Instrument, ...]:
        """Instruments switched on and in force in ``month``."""
        return tuple(i for i in self.instruments if i.active(month))


# --------------------------------------------------------------------------- payout rules


def _as_array(x: Any) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def requested_amount(instrument: Instrument, base: Any = 1.0) -> np.ndarray:
    """RMB each applicant asks for under the instrument's payout rule, before cap and floor.

    ``base`` is one number per applicant whose meaning depends on the rule
    (``PayoutRule.base``): persons for per_person, eligible spending for share_of_spend,
    interest and fees for interest_subsidy, taxable profit or income for tax_rate_change;
    it only sets the number of applicants for the fixed-sum rules, except a lump sum paid
    per patent, whose base is the number of patents granted this month.
    """
    b = _as_array(base)
    p = instrument.payout
    if p.rule.uses_rate:
        return (p.rate or 0.0) * b
    amount = p.amount if p.amount is not None else (instrument.floor or 0.0)
    if p.rule is PayoutRule.PER_PERSON:
        return amount * b
    if p.rule is PayoutRule.LUMP_SUM and instrument.eligible.event is Event.PATENT:
        return np.full(b.shape, float(amount)) * b  # base = patents granted: one award each
    return np.full(b.shape, float(amount))


def applicant_cap(instrument: Instrument, base: Any = 1.0) -> np.ndarray:
    """Per-applicant cap in RMB (inf = none): the cap, times persons for per_person."""
    b = _as_array(base)
    if instrument.cap is None:
        return np.full(b.shape, math.inf)
    if instrument.payout.rule is PayoutRule.PER_PERSON:
        return instrument.cap * b
    return np.full(b.shape, instrument.cap)


def applicant_floor(instrument: Instrument, base: Any = 1.0) -> np.ndarray:
    """Per-applicant floor in RMB (0 = none): the floor, times persons for per_person."""
    b = _as_array(base)
    floor = 0.0 if instrument.floor is None else instrument.floor
    if instrument.payout.rule is PayoutRule.PER_PERSON:
        return floor * b
    return np.full(b.shape, floor)


def expected_value(instrument: Instrument, base: Any = 1.0) -> np.ndarray:
    """What an agent expects from applying: approval chance x the capped, floored amount.

    Ignores the budget (an agent cannot know how many others apply this year).
    """
    req = requested_amount(instrument, base)
    amount = np.minimum(
        np.maximum(req, applicant_floor(instrument, base)), applicant_cap(instrument, base)
    )
    amount = np.where(req > 0, amount, 0.0)
    return instrument.approval_probability * amount

"""Typed policy instruments and regimes, parsed and checked from plain config mappings.

A *regime* is one plan (the municipal 2020 plan, Pudong's plan to 2027, Huangpu's plan
for 2025-2027): an issuer, the document it comes from, and a set of *instruments*. An
instrument is one clause of the document that grants money or a measurable privilege:
who is eligible and on which event, how the payout is computed (the payout rule), the
per-recipient cap or floor, the chance that an application is approved, the window in
which it is in force and its yearly budget.

The plans themselves live only in ``conf/policy/``. What each payout rule *means* lives
once here (``PayoutRule``, ``requested_amount``, ``applicant_cap``, ``expected_value``);
how applications turn into grants within caps and budgets lives in ``grants.py``.

``parse_regimes`` turns the composed ``policy`` config into ``Regime`` objects or raises
``PolicyConfigError`` naming the dotted field (``policy.huangpu_2024.talent_introduction.cap``),
the value and what is allowed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import numpy as np

from clustersim.calendar import Month, MonthError
from clustersim.config import ConfigError
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

__all__ = [
    "CERTIFICATIONS",
    "AmountSource",
    "CapPeriod",
    "Eligibility",
    "Event",
    "Instrument",
    "Payout",
    "PayoutRule",
    "PolicyConfigError",
    "Recipient",
    "Regime",
    "Window",
    "applicant_cap",
    "applicant_floor",
    "expected_value",
    "parse_regimes",
    "requested_amount",
]


class PolicyConfigError(ConfigError):
    """A policy config value the model cannot run with.

    A ``ValueError`` (through ``clustersim.config.ConfigError``) whose message names the
    full dotted field, the value and what is allowed.
    """


class _Documented(StrEnum):
    """A string enum whose members carry a one-line description (``member.doc``)."""

    doc: str

    def __new__(cls, value: str, doc: str = "") -> _Documented:
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj.doc = doc
        return obj


class Recipient(_Documented):
    """Who receives an instrument's payout."""

    FIRM = "firm", "a firm (any FinTech firm kind)"
    TALENT = "talent", "a person (a talent agent; per-person amounts scale with its weight)"
    PARK = "park", "a park or building operator (a 'carrier')"


class Event(_Documented):
    """What the model reports each month that makes an agent apply for an instrument."""

    ENTRY = "entry", "firm newly located in Shanghai this month"
    RELOCATION_IN = "relocation_in", "firm moved into the eligible place from elsewhere in Shanghai"
    LANDING = "landing", "firm newly located in the eligible place: entry or relocation_in"
    PRESENCE = "presence", "yearly support for agents located there; evaluated each January"
    RD_SPEND = "rd_spend", "monthly R&D spending (base for share_of_spend)"
    COMPUTE_SPEND = (
        "compute_spend",
        "spending on bought or rented compute (base for share_of_spend)",
    )
    PATENT = "patent", "patent granted"
    HIGH_TECH_CERT = "high_tech_cert", "firm newly certified as a high-tech enterprise"
    SPECIALISED_CERT = "specialised_cert", "firm newly certified 'specialised and innovative'"
    PILOT = "pilot", "new pilot or innovation/application project approved"
    PROJECT_SELECTION = (
        "project_selection",
        "firm's project selected in a national or municipal FinTech project competition",
    )
    HIRE = "hire", "talent hired (tier filter applies); pays the talent or the hiring firm"
    ARRIVAL = "arrival", "talent arrives in Shanghai"
    TALENT_PROGRAMME = "talent_programme", "talent selected for a municipal talent programme"
    DISTRICT_TALENT_PROGRAMME = (
        "district_talent_programme",
        "talent selected for a district talent programme",
    )
    EXAM_CERTIFICATION = "exam_certification", "talent passes a FinTech certification exam"
    LOAN = "loan", "firm takes a bank loan (base: its interest and guarantee fees)"
    EVENT_HOSTING = "event_hosting", "firm hosts a high-level industry event"
    STANDARD = "standard", "firm leads or takes part in setting a standard"
    QUALITY_AWARD = "quality_award", "firm wins a quality award"
    GROWTH_MILESTONE = "growth_milestone", "high-growth firm passes a growth threshold"
    CARRIER = "carrier", "a park operator builds capacity"
    CONTINUOUS = "continuous", "a status that applies every month while eligible (e.g. a tax rate)"


#: Which recipients each event can pay.
EVENT_RECIPIENTS: dict[Event, frozenset[Recipient]] = {
    **{
        e: frozenset({Recipient.FIRM})
        for e in (
            Event.ENTRY,
            Event.RELOCATION_IN,
            Event.LANDING,
            Event.RD_SPEND,
            Event.COMPUTE_SPEND,
            Event.PATENT,
            Event.HIGH_TECH_CERT,
            Event.SPECIALISED_CERT,
            Event.PILOT,
            Event.PROJECT_SELECTION,
            Event.LOAN,
            Event.EVENT_HOSTING,
            Event.STANDARD,
            Event.QUALITY_AWARD,
            Event.GROWTH_MILESTONE,
        )
    },
    **{
        e: frozenset({Recipient.TALENT})
        for e in (
            Event.ARRIVAL,
            Event.TALENT_PROGRAMME,
            Event.DISTRICT_TALENT_PROGRAMME,
            Event.EXAM_CERTIFICATION,
        )
    },
    Event.HIRE: frozenset({Recipient.TALENT, Recipient.FIRM}),
    Event.PRESENCE: frozenset({Recipient.FIRM, Recipient.TALENT, Recipient.PARK}),
    Event.CARRIER: frozenset({Recipient.PARK}),
    Event.CONTINUOUS: frozenset({Recipient.FIRM, Recipient.TALENT, Recipient.PARK}),
}


class PayoutRule(_Documented):
    """How an instrument's payout to one applicant is computed (before cap, floor, budget).

    The *base* is the number the model passes with each application; its meaning depends
    on the rule (see ``base``).
    """

    LUMP_SUM = "lump_sum", "a fixed sum per grant: payout.amount"
    SHARE_OF_SPEND = "share_of_spend", "payout.rate x the eligible spending (base, RMB)"
    PER_PERSON = "per_person", "payout.amount per person; base = persons (agent weight)"
    INTEREST_SUBSIDY = (
        "interest_subsidy",
        "payout.rate x the loan's interest and guarantee fees (base, RMB)",
    )
    TAX_RATE_CHANGE = (
        "tax_rate_change",
        "payout.rate (points of tax rate) x the taxable profit or income (base, RMB)",
    )
    CAPACITY = "capacity", "a fixed sum to a park operator, spent on workstations"
    SERVICE = "service", "an in-kind service; payout.amount is its RMB-equivalent value"
    EQUITY = "equity", "an equity investment of payout.amount (cash in, stake out)"

    @property
    def uses_rate(self) -> bool:
        """True if the payout is a share (``payout.rate``) of the applicant's base."""
        return self in _RATE_RULES

    @property
    def cash(self) -> bool:
        """True if the payout is a budget outlay (not a service or revenue forgone)."""
        return self not in (PayoutRule.SERVICE, PayoutRule.TAX_RATE_CHANGE)

    @property
    def base(self) -> str:
        """What the base passed with an application stands for under this rule."""
        if self is PayoutRule.PER_PERSON:
            return "persons the applicant stands for"
        if self is PayoutRule.SHARE_OF_SPEND:
            return "eligible spending, RMB"
        if self is PayoutRule.INTEREST_SUBSIDY:
            return "interest and guarantee fees paid, RMB"
        if self is PayoutRule.TAX_RATE_CHANGE:
            return "taxable profit (firms) or income (talent), RMB"
        return "unused (one grant per application)"


_RATE_RULES = frozenset(
    {PayoutRule.SHARE_OF_SPEND, PayoutRule.INTEREST_SUBSIDY, PayoutRule.TAX_RATE_CHANGE}
)

#: Events a rate-based rule needs (its base must come with the event).
_RULE_EVENTS: dict[PayoutRule, frozenset[Event]] = {
    PayoutRule.SHARE_OF_SPEND: frozenset({Event.RD_SPEND, Event.COMPUTE_SPEND}),
    PayoutRule.INTEREST_SUBSIDY: frozenset({Event.LOAN}),
    PayoutRule.TAX_RATE_CHANGE: frozenset({Event.CONTINUOUS, Event.PRESENCE}),
}


class AmountSource(_Documented):
    """Where an instrument's cap, floor or amount comes from."""

    TEXT = "text", "stated in the plan's text"
    PUBLISHED = "published", "a published figure outside the plan (a law, an official report)"
    ASSUMPTION = "assumption", "a model assumption (the note says why)"


class CapPeriod(_Documented):
    """Over what the per-recipient cap binds."""

    GRANT = "grant", "each grant separately"
    YEAR = "year", "all grants to one recipient in one calendar year"
    WINDOW = "window", "all grants to one recipient over the instrument's whole window"


#: Certifications an eligibility condition may require the recipient to hold.
CERTIFICATIONS: tuple[str, ...] = ("high_tech", "specialised")

_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")


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

    """

    rule: PayoutRule
    amount: float | None = None
    rate: float | None = None


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

    @property
    def key(self) -> str:
        """``regime.id``, unique across all regimes."""
        return f"{self.regime}.{self.id}"

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
    it only sets the number of applicants for the fixed-sum rules.
    """
    b = _as_array(base)
    p = instrument.payout
    if p.rule.uses_rate:
        return (p.rate or 0.0) * b
    amount = p.amount if p.amount is not None else (instrument.floor or 0.0)
    if p.rule is PayoutRule.PER_PERSON:
        return amount * b
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


# --------------------------------------------------------------------------------- parsing

_REGIME_KEYS = {
    "issuer": "jurisdiction that issued the plan",
    "document": "seed file name of the authoritative text",
    "title": "plan title and document number",
    "translation": "seed file name of a translation (optional)",
    "budget_scale": "multiplier on every instrument's annual budget",
}
_INSTRUMENT_KEYS = (
    "clause",
    "quote",
    "quote_translation",
    "enabled",
    "recipient",
    "eligible",
    "payout",
    "cap",
    "floor",
    "cap_per",
    "amount_source",
    "note",
    "approval_probability",
    "window",
    "annual_budget",
)
_REQUIRED_INSTRUMENT_KEYS = (
    "clause",
    "quote",
    "recipient",
    "eligible",
    "payout",
    "window",
    "amount_source",
)
_ELIGIBLE_KEYS = ("event", "kinds", "tiers", "districts", "parks", "tags", "certified", "new_only")
_PAYOUT_KEYS = ("rule", "amount", "rate")
_WINDOW_KEYS = ("start", "end")


def _err(path: str, value: Any, allowed: str) -> PolicyConfigError:
    return PolicyConfigError(path, value, allowed)


def _plain(cfg: Any) -> Any:
    """A DictConfig/ListConfig as plain containers; anything else unchanged."""
    try:
        from omegaconf import DictConfig, ListConfig, OmegaConf
    except ImportError:  # pragma: no cover - omegaconf ships with hydra
        return cfg
    if isinstance(cfg, DictConfig | ListConfig):
        return OmegaConf.to_container(cfg, resolve=True)
    return cfg


def _check_keys(path: str, data: Mapping[str, Any], allowed: Iterable[str]) -> None:
    allowed = tuple(allowed)
    for key in data:
        if key not in allowed:
            raise _err(f"{path}.{key}", data[key], f"unknown key; allowed: {', '.join(allowed)}")


def _mapping(path: str, value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _err(path, value, "must be a mapping")
    return value


def _choice(path: str, value: Any, enum: type[_Documented]) -> Any:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(m.value for m in enum)
        raise _err(path, value, f"must be one of: {allowed}") from None


def _text(path: str, value: Any, *, required: bool = True) -> str | None:
    """A string (ints allowed, e.g. a clause number); empty only when not required."""
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _err(path, value, "must be a string")
    if required and not str(value).strip():
        raise _err(path, value, "must be a non-empty string")
    return str(value)


def _bool(path: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _err(path, value, "must be true or false")
    return value


def _number(
    path: str,
    value: Any,
    *,
    nullable: bool = True,
    le: float | None = None,
) -> float | None:
    """A finite, non-negative number (or ``None`` if nullable); ``le`` is an upper bound."""
    rule = "a finite number >= 0" + (f" and <= {le}" if le is not None else "")
    if value is None:
        if nullable:
            return None
        raise _err(path, value, f"a value is required: {rule}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _err(path, value, f"must be {rule}" + (" or null" if nullable else ""))
    x = float(value)
    if not math.isfinite(x) or x < 0 or (le is not None and x > le):
        raise _err(path, value, f"must be {rule}" + (" or null" if nullable else ""))
    return x


def _names(path: str, value: Any, allowed: Iterable[str] | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _err(path, value, f"must be a list of {what} (empty = any)")
    allowed_set = None if allowed is None else tuple(allowed)
    out = []
    for i, v in enumerate(value):
        if not isinstance(v, str):
            raise _err(f"{path}[{i}]", v, f"must be the name of a {what}")
        if allowed_set is not None and v not in allowed_set:
            raise _err(f"{path}[{i}]", v, f"unknown {what}; allowed: {', '.join(allowed_set)}")
        out.append(v)
    return tuple(out)


def _month(path: str, value: Any) -> Month:
    if not isinstance(value, str):
        raise _err(path, value, "must be a month string YYYY-MM (quote it in YAML)")
    try:
        return Month.parse(value)
    except MonthError as e:
        raise _err(path, value, str(e)) from None


def _window(path: str, value: Any) -> Window:
    data = _mapping(path, value)
    _check_keys(path, data, _WINDOW_KEYS)
    for key in _WINDOW_KEYS:
        if key not in data:
            raise _err(f"{path}.{key}", None, "a month YYYY-MM is required")
    start = _month(f"{path}.start", data["start"])
    end = _month(f"{path}.end", data["end"])
    if end < start:
        raise _err(f"{path}.end", data["end"], f"must not be before window.start ({start})")
    return Window(start, end)


def _eligibility(
    path: str,
    value: Any,
    recipient: Recipient,
    known_parks: Iterable[str] | None,
    known_districts: Iterable[str] | None,
    known_tags: Iterable[str] | None,
) -> Eligibility:
    data = _mapping(path, value)
    _check_keys(path, data, _ELIGIBLE_KEYS)
    if "event" not in data:
        raise _err(f"{path}.event", None, "an event is required")
    event = _choice(f"{path}.event", data["event"], Event)
    if recipient not in EVENT_RECIPIENTS[event]:
        ok = ", ".join(r.value for r in EVENT_RECIPIENTS[event])
        raise _err(
            f"{path}.event", event.value, f"event {event.value!r} pays {ok}, not {recipient.value}"
        )
    kinds = _names(f"{path}.kinds", data.get("kinds"), FIRM_KINDS, "firm kind")
    tiers = _names(f"{path}.tiers", data.get("tiers"), TALENT_TIERS, "talent tier")
    certified = _names(f"{path}.certified", data.get("certified"), CERTIFICATIONS, "certification")
    if kinds and recipient is not Recipient.FIRM:
        raise _err(f"{path}.kinds", list(kinds), "firm kinds apply only to recipient: firm")
    if certified and recipient is not Recipient.FIRM:
        raise _err(f"{path}.certified", list(certified), "certifications apply only to firms")
    if tiers and not (
        recipient is Recipient.TALENT or (recipient is Recipient.FIRM and event is Event.HIRE)
    ):
        raise _err(f"{path}.tiers", list(tiers), "tiers apply to talent, or to firms paid per hire")
    return Eligibility(
        event=event,
        kinds=kinds,
        tiers=tiers,
        districts=_names(f"{path}.districts", data.get("districts"), known_districts, "district"),
        parks=_names(f"{path}.parks", data.get("parks"), known_parks, "park"),
        tags=_names(f"{path}.tags", data.get("tags"), known_tags, "park tag"),
        certified=certified,
        new_only=_bool(f"{path}.new_only", data.get("new_only", False)),
    )


def _payout(path: str, value: Any) -> Payout:
    data = _mapping(path, value)
    _check_keys(path, data, _PAYOUT_KEYS)
    if "rule" not in data:
        raise _err(f"{path}.rule", None, "a payout rule is required")
    rule = _choice(f"{path}.rule", data["rule"], PayoutRule)
    amount = _number(f"{path}.amount", data.get("amount"))
    rate = _number(f"{path}.rate", data.get("rate"), le=1.0)
    if rule.uses_rate:
        if rate is None:
            raise _err(f"{path}.rate", None, f"rule {rule.value} needs a rate in [0, 1]")
        if amount is not None:
            raise _err(f"{path}.amount", amount, f"rule {rule.value} uses rate, set amount: null")
    elif rate is not None:
        raise _err(f"{path}.rate", rate, f"rule {rule.value} uses amount, set rate: null")
    return Payout(rule=rule, amount=amount, rate=rate)


def _instrument(
    path: str,
    iid: str,
    data: Mapping[str, Any],
    regime: Regime,
    known: tuple[Iterable[str] | None, Iterable[str] | None, Iterable[str] | None],
) -> Instrument:
    if not _ID_RE.match(iid):
        raise _err(path, iid, "instrument ids are lower_snake_case names")
    _check_keys(path, data, _INSTRUMENT_KEYS)
    for key in _REQUIRED_INSTRUMENT_KEYS:
        if key not in data:
            raise _err(f"{path}.{key}", None, "this key is required")
    recipient = _choice(f"{path}.recipient", data["recipient"], Recipient)
    eligible = _eligibility(f"{path}.eligible", data["eligible"], recipient, *known)
    payout = _payout(f"{path}.payout", data["payout"])
    cap = _number(f"{path}.cap", data.get("cap"))
    floor = _number(f"{path}.floor", data.get("floor"))
    if cap is not None and floor is not None and cap < floor:
        raise _err(f"{path}.cap", cap, f"must be >= floor ({floor:g})")
    if payout.rule is PayoutRule.CAPACITY and recipient is not Recipient.PARK:
        raise _err(f"{path}.payout.rule", payout.rule.value, "capacity pays park operators only")
    if payout.rule in _RULE_EVENTS and eligible.event not in _RULE_EVENTS[payout.rule]:
        ok = ", ".join(sorted(e.value for e in _RULE_EVENTS[payout.rule]))
        raise _err(
            f"{path}.eligible.event",
            eligible.event.value,
            f"rule {payout.rule.value} needs an event that brings its base: {ok}",
        )
    needs_amount = payout.rule in (
        PayoutRule.LUMP_SUM,
        PayoutRule.PER_PERSON,
        PayoutRule.CAPACITY,
        PayoutRule.EQUITY,
    )
    if needs_amount and payout.amount is None and floor is None:
        raise _err(f"{path}.payout.amount", None, f"rule {payout.rule.value} needs an amount")
    p = _number(
        f"{path}.approval_probability",
        data.get("approval_probability", 1.0),
        nullable=False,
        le=1.0,
    )
    assert p is not None
    return Instrument(
        id=iid,
        regime=regime.name,
        issuer=regime.issuer,
        document=regime.document,
        clause=str(_text(f"{path}.clause", data["clause"])),
        quote=str(_text(f"{path}.quote", data["quote"])),
        quote_translation=_text(
            f"{path}.quote_translation", data.get("quote_translation"), required=False
        ),
        enabled=_bool(f"{path}.enabled", data.get("enabled", True)),
        recipient=recipient,
        eligible=eligible,
        payout=payout,
        cap=cap,
        floor=floor,
        cap_per=_choice(f"{path}.cap_per", data.get("cap_per", "year"), CapPeriod),
        amount_source=_choice(f"{path}.amount_source", data["amount_source"], AmountSource),
        note=_text(f"{path}.note", data.get("note"), required=False) or "",
        approval_probability=p,
        window=_window(f"{path}.window", data["window"]),
        annual_budget=_number(f"{path}.annual_budget", data.get("annual_budget")),
        budget_scale=regime.budget_scale,
    )


def _regime(
    path: str,
    name: str,
    data: Mapping[str, Any],
    known: tuple[Iterable[str] | None, Iterable[str] | None, Iterable[str] | None],
) -> Regime:
    if not _ID_RE.match(name):
        raise _err(path, name, "regime names are lower_snake_case names")
    for key in ("issuer", "document", "title"):
        if key not in data:
            raise _err(f"{path}.{key}", None, f"required ({_REGIME_KEYS[key]})")
    issuer = data["issuer"]
    if issuer not in JURISDICTIONS:
        raise _err(f"{path}.issuer", issuer, f"must be one of: {', '.join(JURISDICTIONS)}")
    scale = _number(f"{path}.budget_scale", data.get("budget_scale", 1.0), nullable=False)
    assert scale is not None
    shell = Regime(
        name=name,
        issuer=issuer,
        document=str(_text(f"{path}.document", data["document"])),
        title=str(_text(f"{path}.title", data["title"])),
        translation=_text(f"{path}.translation", data.get("translation"), required=False),
        budget_scale=scale,
        instruments=(),
    )
    instruments = []
    for key, value in data.items():
        if key in _REGIME_KEYS:
            continue
        if not isinstance(value, Mapping):
            raise _err(
                f"{path}.{key}",
                value,
                "unknown regime-level key; allowed: "
                + ", ".join(_REGIME_KEYS)
                + ", or an instrument (a mapping)",
            )
        instruments.append(_instrument(f"{path}.{key}", str(key), value, shell, known))
    return Regime(
        name=shell.name,
        issuer=shell.issuer,
        document=shell.document,
        title=shell.title,
        translation=shell.translation,
        budget_scale=shell.budget_scale,
        instruments=tuple(instruments),
    )


def parse_regimes(
    policy_cfg: Mapping[str, Any] | None,
    known_parks: Iterable[str] | None = None,
    known_districts: Iterable[str] | None = None,
    known_tags: Iterable[str] | None = None,
    *,
    prefix: str = "policy",
) -> list[Regime]:
    """Parse the composed ``policy`` config into checked regimes.

    Args:
        policy_cfg: mapping of regime name to regime (a DictConfig or plain dict);
            ``None`` or ``{}`` is no policy.
        known_parks: park ids eligibility may name; when given, any other is an error.
            ``None`` skips the check.
        known_districts: district names, likewise.
        known_tags: park tags, likewise.
        prefix: the dotted path of ``policy_cfg`` used in error messages.

    Raises:
        PolicyConfigError: for any unknown key or name, a value of the wrong type, a
            negative or non-finite number, a probability or rate outside [0, 1], a month
            that does not exist, a window ending before it starts, a cap below its floor.

    """
    data = _plain(policy_cfg)
    if data is None:
        return []
    data = _mapping(prefix, data)
    known = (
        None if known_parks is None else tuple(known_parks),
        None if known_districts is None else tuple(known_districts),
        None if known_tags is None else tuple(known_tags),
    )
    regimes = []
    for name, value in data.items():
        path = f"{prefix}.{name}"
        regimes.append(_regime(path, str(name), _mapping(path, value), known))
    return regimes

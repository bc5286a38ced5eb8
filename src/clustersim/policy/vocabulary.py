"""The words of the plans: who is paid, on which event, by which payout rule.

Each term is a string enum whose members carry a one-line description (``member.doc``),
so that ``clustersim-policy`` and the docs can list what a config may say. The typed
instruments built from these terms are in ``policy.instruments``; the parser that checks
a config against them is ``policy.parsing``.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "CERTIFICATIONS",
    "EVENT_RECIPIENTS",
    "RULE_EVENTS",
    "AmountSource",
    "CapPeriod",
    "Event",
    "PayoutRule",
    "Recipient",
    "ServiceGrant",
]


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
    MAJOR_PROJECT = (
        "major_project",
        "certified high-tech firm takes on a national or municipal major S&T project",
    )
    IP_PILOT = (
        "ip_pilot",
        "firm with 2+ patents recognised in a national IP advantage pilot or demonstration project",
    )
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
            Event.MAJOR_PROJECT,
            Event.IP_PILOT,
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
    DESIGNATION = (
        "designation",
        "a designation of the eligible parks (a layout, a label): raises their amenity by"
        " payout.amount index points while in force; no money changes hands",
    )

    @property
    def uses_rate(self) -> bool:
        """True if the payout is a share (``payout.rate``) of the applicant's base."""
        return self in _RATE_RULES

    @property
    def cash(self) -> bool:
        """True if the payout is a budget outlay (not a service or revenue forgone)."""
        return self not in (PayoutRule.SERVICE, PayoutRule.TAX_RATE_CHANGE, PayoutRule.DESIGNATION)

    @property
    def money(self) -> bool:
        """True if the plan pays money (cash or a tax refund), counted in its spending.

        In-kind services (residency, apartments, schooling) and designations name no
        money: they act through their channel and cost the plan RMB 0.
        """
        return self not in (PayoutRule.SERVICE, PayoutRule.DESIGNATION)

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
RULE_EVENTS: dict[PayoutRule, frozenset[Event]] = {
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


class ServiceGrant(_Documented):
    """What an in-kind service to a person changes in that person's state.

    Set as ``payout.gives`` on every ``service`` instrument that pays talent; the rule
    ``rules.support.apply_grants`` sets the matching status on the recipients.
    """

    RESIDENCY = "residency", "Shanghai residency: a residence permit, hukou or settlement"
    HOUSING = "housing", "housing support: a talent apartment or a rent subsidy"


#: The seed documents and their numbered clauses (tasks or measures), 1..n. An instrument
#: citing a clause outside its document's range is an error. A document not listed (a
#: user's own plan) is not checked.
DOCUMENT_CLAUSES: dict[str, range] = {
    "002_1d76fb1082e82b21.txt": range(1, 26),  # municipal plan (English): 25 tasks
    "003_7fb046b7cde93cc0.txt": range(1, 26),  # municipal plan (Chinese): 25 tasks
    "001_12a9b0f474ff86f3.txt": range(1, 11),  # Pudong plan (English): 10 measures
    "000_101e99e7283e77f0.txt": range(1, 11),  # Pudong plan (German): 10 measures
    "004_ba7abe407923d6f5.txt": range(1, 26),  # Huangpu plan: 25 support measures
}

"""Parse the composed ``policy`` config into checked, typed regimes.

``parse_regimes`` turns the composed ``policy`` config into ``Regime`` objects or raises
``PolicyConfigError`` naming the dotted field (``policy.huangpu_2024.talent_introduction.cap``),
the value and what is allowed. ``clustersim.settings.load_scenario`` calls it once, with
the world's parks, districts and tags; the scenario keeps the result (``Scenario.regimes``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from clustersim.config import ConfigError
from clustersim.months import Month, MonthError
from clustersim.policy.instruments import Eligibility, Instrument, Payout, Regime, Window
from clustersim.policy.vocabulary import (
    CERTIFICATIONS,
    DOCUMENT_CLAUSES,
    EVENT_RECIPIENTS,
    RULE_EVENTS,
    AmountSource,
    CapPeriod,
    Event,
    PayoutRule,
    Recipient,
    ServiceGrant,
)
from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

__all__ = ["PolicyConfigError", "parse_regimes"]


class PolicyConfigError(ConfigError):
    """A policy config value the model cannot run with.

    A ``ValueError`` (through ``clustersim.config.ConfigError``) whose message names the
    full dotted field, the value and what is allowed.
    """


_ID_RE = re.compile(r"^[a-z][a-z0-9_]*$")

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
_PAYOUT_KEYS = ("rule", "amount", "rate", "gives")
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


def _choice(path: str, value: Any, enum: type[StrEnum]) -> Any:
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


def _payout(path: str, value: Any, recipient: Recipient) -> Payout:
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
    gives = data.get("gives")
    if gives is not None:
        gives = _choice(f"{path}.gives", gives, ServiceGrant)
    if rule is PayoutRule.SERVICE and recipient is Recipient.TALENT and gives is None:
        allowed = ", ".join(g.value for g in ServiceGrant)
        raise _err(f"{path}.gives", None, f"a service to talent must say what it gives: {allowed}")
    if gives is not None and not (rule is PayoutRule.SERVICE and recipient is Recipient.TALENT):
        raise _err(f"{path}.gives", gives.value, "only a service to talent gives a status")
    return Payout(rule=rule, amount=amount, rate=rate, gives=gives)


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
    clause = str(_text(f"{path}.clause", data["clause"]))
    clauses = DOCUMENT_CLAUSES.get(regime.document)
    if clauses is not None and clause not in {str(n) for n in clauses}:
        raise _err(
            f"{path}.clause",
            clause,
            f"{regime.document} has clauses {clauses.start}..{clauses.stop - 1} only",
        )
    recipient = _choice(f"{path}.recipient", data["recipient"], Recipient)
    eligible = _eligibility(f"{path}.eligible", data["eligible"], recipient, *known)
    payout = _payout(f"{path}.payout", data["payout"], recipient)
    cap = _number(f"{path}.cap", data.get("cap"))
    floor = _number(f"{path}.floor", data.get("floor"))
    if cap is not None and floor is not None and cap < floor:
        raise _err(f"{path}.cap", cap, f"must be >= floor ({floor:g})")
    if payout.rule is PayoutRule.CAPACITY and recipient is not Recipient.PARK:
        raise _err(f"{path}.payout.rule", payout.rule.value, "capacity pays park operators only")
    if payout.rule is PayoutRule.DESIGNATION and recipient is not Recipient.PARK:
        raise _err(f"{path}.payout.rule", payout.rule.value, "designation applies to parks only")
    if payout.rule in RULE_EVENTS and eligible.event not in RULE_EVENTS[payout.rule]:
        ok = ", ".join(sorted(e.value for e in RULE_EVENTS[payout.rule]))
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
        PayoutRule.DESIGNATION,
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
        clause=clause,
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
    own = [k for k, v in data.items() if isinstance(v, Mapping) and "clause" in v]
    for key, value in data.items():
        if key in _REGIME_KEYS:
            continue
        if isinstance(value, Mapping) and "clause" not in value:  # a misspelt name?
            raise _err(
                f"{path}.{key}",
                dict(value),
                f"not an instrument of {name}; its instruments: {', '.join(own)} (a variant"
                " changes only these; a new instrument needs every key, clause first)",
            )
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

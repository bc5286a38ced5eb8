"""The decision variables of a better plan: one jurisdiction's instruments, within the text.

For every searched instrument of the plan (a *lever*) the search chooses three things:

- **in force** or not;
- its **multiple**: the amount (lump sums, per-person awards, services, carrier grants) or
  the rate (shares of spending, interest subsidies) as a multiple of what the plan's
  config writes; never above the clause's cap (``cap / amount``; a rate never above 1)
  and never below the clause's floor ("不低于" awards);
- its **weight**, which turns into its share of the yearly budget: the in-force
  instruments' weights are normalised, so their yearly budget lines always add up to the
  study's budget (and a budget line is never overspent by the grant engine, so yearly
  spending stays within the budget in every trial, by construction).

A ``Mix`` is one choice of all three for every lever. It is applied to the model only
through config overrides on the plan file (``policy.<plan>.<instrument>.enabled``,
``.payout.amount`` or ``.payout.rate``, ``.annual_budget``), the same overrides a user
could type after ``clustersim-run``; so a mix found here can be rerun by hand.

The space is read from the composed config (plain mappings), not from the policy
engine's types, so it depends only on the config's public keys.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clustersim.optimize.errors import StudyConfigError

__all__ = [
    "Lever",
    "Mix",
    "SearchSpace",
    "Setting",
    "build_space",
]

#: Regime-level keys of a plan file that are not instruments.
_REGIME_KEYS = frozenset({"issuer", "document", "title", "translation", "budget_scale"})


@dataclass(frozen=True)
class Lever:
    """One searched instrument: what the text allows and what the plan writes.

    Attributes:
        instrument: the instrument id (its key in the plan file).
        clause: the clause (measure) number it implements.
        uses_rate: True if the payout is a rate (``payout.rate``), else an amount.
        written: the amount (RMB) or rate the plan file writes (for a "not less than"
            award written without an amount, its floor).
        cap: the clause's per-recipient cap in RMB, None if the text states none.
        floor: the clause's floor in RMB ("不低于"), None if none.
        written_line: the yearly budget line as written (after the regime's budget scale).
        low, high: the range of the multiple the search may choose.
        high_reason: why ``high`` is where it is (the cap, a rate of 1, or the setting).

    """

    instrument: str
    clause: str
    uses_rate: bool
    written: float
    cap: float | None
    floor: float | None
    written_line: float
    low: float
    high: float
    high_reason: str

    @property
    def field(self) -> str:
        """The payout key the multiple scales (``payout.amount`` or ``payout.rate``)."""
        return "payout.rate" if self.uses_rate else "payout.amount"

    def value(self, multiple: float) -> float:
        """The amount (whole RMB, never above the cap) or rate (6 decimals) of a multiple."""
        if self.uses_rate:
            return min(round(multiple * self.written, 6), 1.0)
        amount = float(round(multiple * self.written))
        if self.cap is not None:
            amount = min(amount, self.cap)
        if self.floor is not None:
            amount = max(amount, self.floor)
        return amount

    def max_multiple(self) -> tuple[float, str]:
        """The largest multiple the text allows, and why (inf: the text sets no limit)."""
        if self.uses_rate:
            return 1.0 / self.written, "a rate cannot exceed 1 (the clause's cap still binds)"
        if self.cap is not None:
            return self.cap / self.written, f"clause {self.clause}'s cap of {self.cap:,.0f} RMB"
        return math.inf, "the text states no cap"


@dataclass(frozen=True)
class Setting:
    """One lever's choice in a mix: in force, multiple of the text, share of the budget."""

    in_force: bool
    multiple: float
    share: float


@dataclass(frozen=True)
class SearchSpace:
    """The levers of one plan and the study's yearly budget for them.

    Attributes:
        plan: the regime key in ``policy`` (e.g. ``huangpu_2024``).
        issuer: the jurisdiction that runs it (e.g. ``huangpu``).
        levers: the searched instruments, in the plan file's order.
        kept: instruments left as written (not searched), with the reason.
        budget_scale: the regime's multiplier on every budget line (kept as written).

    """

    plan: str
    issuer: str
    levers: tuple[Lever, ...]
    kept: tuple[tuple[str, str], ...]
    budget_scale: float

    @property
    def ids(self) -> tuple[str, ...]:
        """Searched instrument ids, in order."""
        return tuple(lv.instrument for lv in self.levers)

    @property
    def written_budget(self) -> float:
        """What the plan as written budgets a year for the searched instruments (RMB)."""
        return float(sum(lv.written_line for lv in self.levers))

    def lever(self, instrument: str) -> Lever:
        """The lever of an instrument id."""
        for lv in self.levers:
            if lv.instrument == instrument:
                return lv
        raise KeyError(instrument)

    def written_mix(self) -> Mix:
        """The plan as written: every lever in force, multiple 1, its written share."""
        total = self.written_budget
        return Mix(
            {
                lv.instrument: Setting(True, 1.0, lv.written_line / total if total else 0.0)
                for lv in self.levers
            }
        )

    def written_params(self) -> dict[str, Any]:
        """Search parameters that reproduce the written mix (weights = written shares)."""
        mix = self.written_mix()
        top = max((s.share for s in mix.settings.values()), default=1.0) or 1.0
        params: dict[str, Any] = {}
        for lv in self.levers:
            s = mix.settings[lv.instrument]
            params[f"{lv.instrument}.in_force"] = True
            params[f"{lv.instrument}.multiple"] = min(max(1.0, lv.low), lv.high)
            params[f"{lv.instrument}.weight"] = s.share / top
        return params

    def mix_from_params(self, params: Mapping[str, Any]) -> Mix:
        """The mix a trial's parameters stand for (weights normalised over in-force levers)."""
        on = {lv.instrument: bool(params[f"{lv.instrument}.in_force"]) for lv in self.levers}
        weights = {i: float(params[f"{i}.weight"]) if on[i] else 0.0 for i in self.ids}
        total = sum(weights.values())
        n_on = sum(on.values())
        settings = {}
        for lv in self.levers:
            i = lv.instrument
            even = (1.0 / n_on) if on[i] else 0.0  # when every in-force weight is 0
            share = weights[i] / total if total > 0 else even
            settings[i] = Setting(on[i], float(params[f"{i}.multiple"]), share)
        return Mix(settings)

    def suggest(self, trial: Any) -> Mix:
        """Ask an Optuna trial for every lever's three variables; return the mix.

        Every variable is suggested in every trial (a fixed search space), so that every
        sampler (TPE, NSGA-II, random) can use every trial of the study.
        """
        params: dict[str, Any] = {}
        for lv in self.levers:
            i = lv.instrument
            params[f"{i}.in_force"] = trial.suggest_categorical(f"{i}.in_force", [True, False])
            params[f"{i}.multiple"] = trial.suggest_float(
                f"{i}.multiple", lv.low, lv.high, log=lv.low > 0 and lv.high > lv.low
            )
            params[f"{i}.weight"] = trial.suggest_float(f"{i}.weight", 0.0, 1.0)
        return self.mix_from_params(params)


@dataclass(frozen=True)
class Mix:
    """One choice for every lever: in force, multiple of the text, share of the budget."""

    settings: dict[str, Setting]

    def lines(self, budget: float) -> dict[str, float]:
        """Yearly budget lines in whole RMB; in-force lines add up to at most ``budget``."""
        lines = {
            i: float(math.floor(s.share * budget + 1e-6)) if s.in_force else 0.0
            for i, s in self.settings.items()
        }
        excess = sum(lines.values()) - budget
        if excess > 0:  # rounding up by a few yuan: take it off the largest line
            biggest = max(lines, key=lambda k: lines[k])
            lines[biggest] -= math.ceil(excess)
        return lines

    def values(self, space: SearchSpace, budget: float) -> dict[str, dict[str, Any]]:
        """What the plan file gets for each lever: in force, amount or rate, budget line.

        A lever not in force gets only ``enabled: false`` (its other keys stay as written),
        so that mixes differing only in a switched-off lever's unused values are one mix.
        """
        lines = self.lines(budget)
        out: dict[str, dict[str, Any]] = {}
        for lv in space.levers:
            s = self.settings[lv.instrument]
            if not s.in_force:
                out[lv.instrument] = {"enabled": False}
                continue
            out[lv.instrument] = {
                "enabled": True,
                lv.field: lv.value(s.multiple),
                "annual_budget": lines[lv.instrument] / space.budget_scale,
            }
        return out

    def overrides(self, space: SearchSpace, budget: float) -> list[str]:
        """The mix as Hydra overrides on the plan file (as typed after ``clustersim-run``)."""
        out = []
        for inst, values in self.values(space, budget).items():
            for key, value in values.items():
                text = str(value).lower() if isinstance(value, bool) else repr(float(value))
                out.append(f"policy.{space.plan}.{inst}.{key}={text}")
        return out

    def digest(self, space: SearchSpace, budget: float) -> str:
        """A short fingerprint of what the mix writes into the config (names its runs)."""
        text = json.dumps(self.values(space, budget), sort_keys=True)
        return hashlib.sha256(f"{space.plan}|{text}".encode()).hexdigest()[:12]

    def in_force(self) -> list[str]:
        """Instruments in force."""
        return [i for i, s in self.settings.items() if s.in_force]


def _number(x: Any) -> float | None:
    return None if x is None else float(x)


def build_space(
    policy: Mapping[str, Any],
    plan: str,
    *,
    instruments: Sequence[str] | None = None,
    multiples: Mapping[str, Sequence[float]] | None = None,
    min_multiple: float = 0.25,
    uncapped_max_multiple: float = 4.0,
    field: str = "optimize",
) -> SearchSpace:
    """The search space of ``plan`` in a composed ``policy`` mapping, or a clear error.

    Args:
        policy: the composed config's ``policy`` node as plain mappings.
        plan: the regime to improve (its key in ``policy``).
        instruments: instrument ids to search; None = every instrument with a yearly
            budget line (the others are kept as written).
        multiples: per instrument, a ``[low, high]`` range for its multiple; ``high`` may
            not exceed what the clause allows.
        min_multiple: default lowest multiple (raised to the clause's floor where it has one).
        uncapped_max_multiple: highest multiple for an instrument whose text states no cap
            (capped instruments go up to their cap).
        field: the dotted prefix of the study settings, for error messages.

    """
    if plan not in policy:
        raise StudyConfigError(
            f"{field}.plan",
            plan,
            f"not a regime of the composed policy; allowed: "
            f"{', '.join(sorted(policy)) or '(the policy has no regime: set policy=<plan>)'}",
        )
    regime = policy[plan]
    ids = [k for k in regime if k not in _REGIME_KEYS and isinstance(regime[k], Mapping)]
    if instruments is None:
        wanted = [i for i in ids if regime[i].get("annual_budget") is not None]
    else:
        if isinstance(instruments, str) or not isinstance(instruments, Sequence):
            raise StudyConfigError(
                f"{field}.instruments", instruments, "must be a list of instrument ids or null"
            )
        if not instruments:
            raise StudyConfigError(f"{field}.instruments", [], "name at least one instrument")
        for n, i in enumerate(instruments):
            if i not in ids:
                raise StudyConfigError(
                    f"{field}.instruments[{n}]",
                    i,
                    f"not an instrument of {plan} ({regime.get('issuer')}); allowed: "
                    + ", ".join(ids),
                )
            if regime[i].get("annual_budget") is None:
                raise StudyConfigError(
                    f"{field}.instruments[{n}]",
                    i,
                    "has no yearly budget line (an entitlement): only instruments with "
                    "annual_budget can share a budget",
                )
        if len(set(instruments)) != len(instruments):
            raise StudyConfigError(f"{field}.instruments", list(instruments), "lists an id twice")
        wanted = list(instruments)
    if not wanted:
        raise StudyConfigError(f"{field}.plan", plan, "has no instrument with a yearly budget")
    if not math.isfinite(min_multiple) or min_multiple < 0:
        raise StudyConfigError(f"{field}.min_multiple", min_multiple, "must be a number >= 0")
    if not math.isfinite(uncapped_max_multiple) or uncapped_max_multiple <= 0:
        raise StudyConfigError(
            f"{field}.uncapped_max_multiple", uncapped_max_multiple, "must be a number > 0"
        )
    multiples = dict(multiples or {})
    for i in multiples:
        if i not in wanted:
            allowed = ", ".join(wanted)
            raise StudyConfigError(
                f"{field}.multiples.{i}",
                multiples[i],
                f"not a searched instrument of {plan}; allowed: {allowed}",
            )
    scale = float(regime.get("budget_scale", 1.0))
    if scale <= 0:
        raise StudyConfigError(
            f"policy.{plan}.budget_scale", scale, "must be > 0 to search its budget lines"
        )
    levers = []
    for i in wanted:
        levers.append(
            _lever(
                regime,
                i,
                scale,
                multiples.get(i),
                min_multiple,
                uncapped_max_multiple,
                f"{field}.multiples.{i}",
            )
        )
    kept = tuple(
        (i, "no yearly budget line" if regime[i].get("annual_budget") is None else "not searched")
        for i in ids
        if i not in wanted
    )
    return SearchSpace(plan, str(regime.get("issuer")), tuple(levers), kept, scale)


def _lever(
    regime: Mapping[str, Any],
    i: str,
    scale: float,
    bounds: Sequence[float] | None,
    min_multiple: float,
    uncapped_max: float,
    path: str,
) -> Lever:
    inst = regime[i]
    payout = inst.get("payout") or {}
    rate = _number(payout.get("rate"))
    amount = _number(payout.get("amount"))
    cap, floor = _number(inst.get("cap")), _number(inst.get("floor"))
    uses_rate = rate is not None
    written = rate if uses_rate else (amount if amount is not None else floor)
    if written is None or written <= 0:
        raise StudyConfigError(
            f"policy.{i}.payout", payout, "a searched instrument needs a positive amount or rate"
        )
    proto = Lever(
        i,
        str(inst.get("clause")),
        uses_rate,
        written,
        cap,
        floor,
        float(inst["annual_budget"]) * scale,
        0.0,
        0.0,
        "",
    )
    top, why = proto.max_multiple()
    bottom = 0.0 if uses_rate or floor is None else floor / written
    if bounds is None:
        low = max(min_multiple, bottom)
        high, reason = (
            (top, why)
            if math.isfinite(top)
            else (
                uncapped_max,
                f"the text states no cap; optimize.uncapped_max_multiple = {uncapped_max}",
            )
        )
        low = min(low, high)
    else:
        if isinstance(bounds, str) or len(bounds) != 2:
            raise StudyConfigError(path, bounds, "must be a [low, high] pair of multiples")
        low, high = float(bounds[0]), float(bounds[1])
        if not (math.isfinite(low) and low >= 0):
            raise StudyConfigError(path, list(bounds), "low must be a number >= 0")
        if high > top * (1 + 1e-12):
            raise StudyConfigError(
                path,
                list(bounds),
                f"high must be at most {top:g} ({why}; the plan writes {written:g})",
            )
        if low < bottom * (1 - 1e-12):
            raise StudyConfigError(
                path,
                list(bounds),
                f"low must be at least {bottom:g} (clause {proto.clause}'s floor of "
                f"{floor:,.0f} RMB)",
            )
        if high < low:
            raise StudyConfigError(path, list(bounds), "high must be >= low")
        reason = "set in the study"
    return Lever(
        i, proto.clause, uses_rate, written, cap, floor, proto.written_line, low, high, reason
    )

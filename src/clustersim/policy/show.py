"""The policy regimes as a reader sees them: listed, and one shown as a table.

``clustersim-policy`` (``clustersim.cli.policy``) prints these.

Usage::

    clustersim-policy list
    clustersim-policy show huangpu_2024
    clustersim-policy show all_three policy.huangpu_2024.budget_scale=0.5

``show`` composes the real config (``conf/config.yaml`` with ``policy=<regime>`` and any
further Hydra overrides), checks it with ``parse_regimes`` against the world's parks,
districts and tags, and prints one row per instrument: id, issuer, document and clause,
eligible agents, payout rule, cap or floor (RMB), window, yearly budget, and whether the
amount comes from the text or is an assumption.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from clustersim.paths import conf_dir
from clustersim.policy import Instrument, Regime, parse_regimes

__all__ = ["available_regimes", "compose_policy", "format_table"]


def available_regimes(config_dir: Path | None = None) -> list[str]:
    """Names of the regimes in ``conf/policy/`` (file stems), sorted."""
    d = (config_dir or conf_dir()) / "policy"
    return sorted(p.stem for p in d.glob("*.yaml"))


def compose_policy(
    regime: str, overrides: Sequence[str] = (), config_dir: Path | None = None
) -> list[Regime]:
    """Compose ``config`` with ``policy=<regime>`` and parse its regimes.

    Names in eligibility are checked against the composed world's parks, districts and
    tags when the world defines them.
    """
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    d = config_dir or conf_dir()
    GlobalHydra.instance().clear()
    with initialize_config_dir(config_dir=str(d), version_base="1.3"):
        cfg = compose("config", overrides=[f"policy={regime}", *overrides])
    world = cfg.get("world") or {}
    parks = world.get("parks") or {}
    known_parks = list(parks) if parks else None
    known_districts = list(world.get("districts") or []) or None
    known_tags = (
        sorted({t for p in parks.values() for t in (p.get("tags") or [])}) if parks else None
    )
    return parse_regimes(cfg.get("policy"), known_parks, known_districts, known_tags)


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))


def _rmb(x: float | None) -> str:
    if x is None or math.isinf(x):
        return "-"
    return f"{x:,.0f}"


def _limit(inst: Instrument) -> str:
    parts = []
    if inst.cap is not None:
        parts.append(f"<= {_rmb(inst.cap)}/{inst.cap_per.value}")
    if inst.floor is not None:
        parts.append(f">= {_rmb(inst.floor)}")
    return ", ".join(parts) or "-"


def _payout(inst: Instrument) -> str:
    p = inst.payout
    if p.rate is not None:
        what = f"{p.rule.value} {p.rate:g}"
    elif p.amount is not None:
        what = f"{p.rule.value} {_rmb(p.amount)}"
    else:
        what = p.rule.value
    if inst.approval_probability < 1:
        what += f" (p={inst.approval_probability:g})"
    return what


def _row(inst: Instrument) -> list[str]:
    return [
        inst.id + ("" if inst.enabled else " [off]"),
        inst.issuer,
        f"{inst.document} §{inst.clause}",
        inst.eligible.describe(inst.recipient),
        _payout(inst),
        _limit(inst),
        str(inst.window),
        _rmb(inst.yearly_budget),
        inst.amount_source.value,
    ]


HEADER = [
    "id",
    "issuer",
    "document §clause",
    "eligible",
    "payout",
    "cap/floor (RMB)",
    "window",
    "budget/yr (RMB)",
    "source",
]


def format_table(regimes: Sequence[Regime]) -> str:
    """The instruments of ``regimes`` as a plain-text table, one row per instrument."""
    lines: list[str] = []
    for reg in regimes:
        lines.append(f"{reg.name}: {reg.title}")
        lines.append(
            f"  issuer {reg.issuer}; document {reg.document}"
            + (f"; translation {reg.translation}" if reg.translation else "")
            + f"; budget_scale {reg.budget_scale:g}"
        )
    rows = [_row(i) for reg in regimes for i in reg.instruments]
    if not rows:
        lines.append("(no instruments: no policy in force)")
        return "\n".join(lines)
    widths = [max(_width(r[j]) for r in [HEADER, *rows]) for j in range(len(HEADER))]
    lines.append("")
    lines.append("  ".join(_pad(h, w) for h, w in zip(HEADER, widths, strict=True)).rstrip())
    lines.append("  ".join("-" * w for w in widths))
    for r in rows:
        lines.append("  ".join(_pad(c, w) for c, w in zip(r, widths, strict=True)).rstrip())
    cash = sum(
        i.yearly_budget
        for reg in regimes
        for i in reg.instruments
        if i.enabled and i.payout.rule.cash and not math.isinf(i.yearly_budget)
    )
    lines.append("")
    lines.append(
        f"{len(rows)} instruments; yearly cash budgets of enabled instruments: RMB {cash:,.0f}"
    )
    return "\n".join(lines)

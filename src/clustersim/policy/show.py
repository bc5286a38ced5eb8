"""``clustersim-policy``: list the policy regimes and show one as a table.

Usage::

    clustersim-policy list
    clustersim-policy show huangpu_2024
    clustersim-policy show all_three policy.huangpu_2024.budget_scale=0.5

``show`` composes the real config (``conf/config.yaml`` with ``policy=<regime>`` and any
further Hydra overrides), checks it with ``parse_regimes`` against the world's parks,
districts and tags, and prints one row per instrument: id, issuer, document and clause,
eligible agents, payout rule, cap or floor (RMB), window, yearly budget, and whether the
amount comes from the text or is an assumption. Errors (an unknown regime, a bad value)
print one clear message and exit with code 2.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from clustersim.policy import Instrument, PolicyConfigError, Regime, parse_regimes

__all__ = ["available_regimes", "compose_policy", "conf_dir", "format_table", "main"]

#: Exit code for bad input (unknown regime, invalid config).
EXIT_USAGE = 2


def conf_dir() -> Path:
    """The ``conf/`` directory: ``$CLUSTERSIM_CONF`` if set, else the repository's."""
    env = os.environ.get("CLUSTERSIM_CONF")
    if env:
        return Path(env).resolve()
    return Path(__file__).resolve().parents[3] / "conf"


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="clustersim-policy", description="List the policy regimes or show one as a table."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the regimes in conf/policy/")
    show = sub.add_parser("show", help="show a regime's instruments as a table")
    show.add_argument("regime", help="a regime name, e.g. huangpu_2024 (see 'list')")
    show.add_argument(
        "overrides",
        nargs="*",
        help="Hydra overrides, e.g. policy.huangpu_2024.budget_scale=0.5",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``clustersim-policy``; returns the exit code."""
    args = _parser().parse_args(argv)
    names = available_regimes()
    if args.command == "list":
        for name in names:
            print(name)
        return 0
    if args.regime not in names:
        print(
            f"clustersim-policy: unknown regime {args.regime!r}; available: {', '.join(names)}",
            file=sys.stderr,
        )
        return EXIT_USAGE
    try:
        regimes = compose_policy(args.regime, args.overrides)
    except PolicyConfigError as e:
        print(f"clustersim-policy: invalid policy: {e}", file=sys.stderr)
        return EXIT_USAGE
    except (HydraException, OmegaConfBaseException) as e:  # bad override, missing config
        print(f"clustersim-policy: cannot compose policy={args.regime}: {e}", file=sys.stderr)
        return EXIT_USAGE
    print(format_table(regimes))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

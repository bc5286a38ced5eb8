"""``clustersim-policy``: list the policy regimes and show one as a table.

Usage::

    clustersim-policy list
    clustersim-policy show huangpu_2024
    clustersim-policy show all_three policy.huangpu_2024.budget_scale=0.5

Errors (an unknown regime, a bad value) print one clear line and exit with status 2.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from hydra.errors import HydraException
from omegaconf.errors import OmegaConfBaseException

from clustersim.cli.common import BAD_INPUT, OK, command, fail
from clustersim.policy import PolicyConfigError
from clustersim.policy.show import available_regimes, compose_policy, format_table


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``clustersim-policy``; returns the exit status."""
    parser = command("clustersim-policy", "List the policy regimes or show one as a table.")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the regimes in conf/policy/")
    show = sub.add_parser("show", help="show a regime's instruments as a table")
    show.add_argument("regime", help="a regime name, e.g. huangpu_2024 (see 'list')")
    show.add_argument(
        "overrides", nargs="*", help="Hydra overrides, e.g. policy.huangpu_2024.budget_scale=0.5"
    )
    args = parser.parse_args(argv)
    names = available_regimes()
    if args.command == "list":
        print("\n".join(names))
        return OK
    if args.regime not in names:
        return fail(parser, f"unknown regime {args.regime!r}; available: {', '.join(names)}")
    try:
        regimes = compose_policy(args.regime, args.overrides)
    except PolicyConfigError as e:
        return fail(parser, f"invalid policy: {e}", BAD_INPUT)
    except (HydraException, OmegaConfBaseException) as e:  # bad override, missing config
        return fail(parser, f"cannot compose policy={args.regime}: {e}", BAD_INPUT)
    print(format_table(regimes))
    return OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

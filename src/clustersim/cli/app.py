"""``clustersim-app``: the live classroom app on a local Solara server.

    clustersim-app                          # the default scenario, http://127.0.0.1:8765
    clustersim-app world=toy seed=3         # start from these overrides (as clustersim-run's)
    clustersim-app --port 0 --host 0.0.0.0  # any free port; listen on every interface

Overrides are checked as ``clustersim-run`` checks them, before the server starts: a bad
one gets the same one line (field, value, what is allowed) and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys

from clustersim.config import ConfigError

PROG = "clustersim-app"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog=PROG,
        description="Serve the live clustersim app (Mesa SolaraViz) on a local Solara server.",
    )
    p.add_argument("--port", type=int, default=8765, help="port (0: any free port; default 8765)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--open", action="store_true", help="also open the page in a web browser")
    p.add_argument(
        "overrides", nargs="*", help="Hydra overrides, as for clustersim-run (world=toy seed=3)"
    )
    return p


def free_port(host: str) -> int:
    """A port nobody listens on now, for ``--port 0``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def check_overrides(overrides: list[str]) -> None:
    """Compose and check the overrides as ``clustersim-run`` would; raise ``ConfigError``."""
    from clustersim.parameters import scenario_from_parameters

    scenario_from_parameters({}, overrides)


def main(argv: list[str] | None = None) -> None:
    """Check the overrides, then serve the app until interrupted."""
    args = _parser().parse_args(argv)
    if not 0 <= args.port <= 65535:
        print(f"{PROG}: --port = {args.port}: must be 0..65535", file=sys.stderr)
        sys.exit(2)
    try:
        check_overrides(args.overrides)
    except ConfigError as err:
        print(f"{PROG}: invalid config: {err}", file=sys.stderr)
        sys.exit(2)
    port = args.port or free_port(args.host)
    from clustersim.app import OVERRIDES_ENV

    os.environ[OVERRIDES_ENV] = json.dumps(list(args.overrides))
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no calls home
    print(f"{PROG}: serving http://{args.host}:{port}  (Ctrl-C to stop)", flush=True)
    from solara.__main__ import cli as solara_cli

    solara_cli(
        [
            "run",
            "clustersim.app:page",
            "--host",
            args.host,
            "--port",
            str(port),
            "--production",
            "--open" if args.open else "--no-open",
        ],
        prog_name=PROG,
    )


if __name__ == "__main__":
    main()

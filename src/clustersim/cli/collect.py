"""``clustersim-collect <sweep folder>``: gather a sweep's finished jobs into its tables."""

from __future__ import annotations

import sys
from pathlib import Path

from clustersim.cli.common import FAILED, OK, command, fail
from clustersim.results.collector import NotASweepError, collect, report
from clustersim.results.sweep_folder import PANEL_TABLE, RATIONING_TABLE, RUNS_TABLE


def main(argv: list[str] | None = None) -> int:
    """Exit 0 if any run was collected, else 1."""
    parser = command(
        "clustersim-collect",
        f"Gather the finished jobs of a sweep folder into {RUNS_TABLE} (one row per run), "
        f"{PANEL_TABLE} (one row per run and month) and, when the runs recorded them, "
        f"{RATIONING_TABLE} (applications turned away for lack of budget, one row per "
        "run and instrument-month) at its top level.",
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    parser.add_argument("-q", "--quiet", action="store_true", help="list no problem jobs")
    args = parser.parse_args(argv)
    try:
        result = collect(args.sweep_dir)
    except NotASweepError as err:
        return fail(parser, str(err), FAILED)
    if not args.quiet:
        for problem in result.problems:
            print(f"{parser.prog}: {problem}", file=sys.stderr)
    print(report(result), file=sys.stderr if not result.jobs else sys.stdout)
    return OK if result.jobs else FAILED


if __name__ == "__main__":
    sys.exit(main())

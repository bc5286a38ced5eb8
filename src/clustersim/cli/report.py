"""``clustersim-report``: one self-contained HTML report (and a Markdown twin) of a sweep.

Usage::

    clustersim-report <sweep folder> [--baseline none] [--out DIR]

``--out DIR`` writes ``DIR/report.html``, ``DIR/report.md`` and ``DIR/report_figures/``,
creating ``DIR`` if needed (default: the sweep folder); ``--out name.html`` names the HTML
file instead. Bad input (a folder that does not exist or holds no finished run, a
baseline that is not a variant of the sweep, an output that cannot be written) gets one
line naming the value and what is allowed, and exit status 2. A sweep with one seed per
variant still gives a report: it says that no interval can be given.
"""

from __future__ import annotations

import sys
from pathlib import Path

from clustersim.cli.common import BAD_INPUT, OK, command, fail
from clustersim.report.load import ReportInputError
from clustersim.report.publish import REPORT_FILE, write_report


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-report``; returns the exit status."""
    parser = command(
        "clustersim-report",
        "Compare the policy variants of a sweep in one self-contained HTML file (figures "
        "embedded) and a Markdown twin: headline outcomes, trajectories, differences "
        "against a baseline with bootstrap CIs, additionality, parks on a map, spending "
        "and budgets, assumptions.",
    )
    parser.add_argument("sweep_dir", type=Path, help="the sweep folder (hydra.sweep.dir)")
    parser.add_argument(
        "--baseline",
        default=None,
        help="variant to take differences against (default: none, the no-policy regime)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="DIR",
        help=f"folder to write {REPORT_FILE} and its Markdown twin into, created if missing "
        "(default: the sweep folder); a name ending in .html names the file instead",
    )
    args = parser.parse_args(argv)
    try:
        html_path, md_path = write_report(args.sweep_dir, args.baseline, args.out)
    except ReportInputError as err:
        return fail(parser, str(err), BAD_INPUT)
    except OSError as err:
        return fail(parser, f"cannot write the report: {err}", BAD_INPUT)
    print(f"report: {html_path} (and {md_path})")
    return OK


if __name__ == "__main__":
    sys.exit(main())

"""``clustersim-report``: one self-contained HTML report (and a Markdown twin) of a sweep.

Usage::

    clustersim-report <sweep folder> [--baseline none] [--out report.html]

Bad input (a folder that does not exist or holds no finished run, a baseline that is not a
variant of the sweep, an output path that cannot be written) gets one line naming the value
and what is allowed, and exit status 2. A sweep with one seed per variant still gives a
report: it says that no interval can be given.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from clustersim.report.build import build_document
from clustersim.report.figures import variant_colours
from clustersim.report.html import render_html
from clustersim.report.load import ReportInputError, load_sweep
from clustersim.report.markdown import write_markdown

#: Exit status for bad input (as argparse uses for bad arguments).
BAD_INPUT = 2


def write_report(
    sweep_dir: Path | str, baseline: str | None = None, out: Path | str | None = None
) -> tuple[Path, Path]:
    """Build the report of a sweep; return the HTML and Markdown paths written.

    ``out`` defaults to ``<sweep>/report.html``; the Markdown twin is ``out`` with ``.md``
    and its figures go to ``<stem>_figures/`` beside it. Raises ``ReportInputError``.
    """
    data = load_sweep(sweep_dir, baseline)
    html_path = Path(out) if out is not None else Path(sweep_dir) / "report.html"
    if html_path.suffix.lower() not in (".html", ".htm"):
        raise ReportInputError(f"--out {str(html_path)!r}: must end in .html or .htm")
    if html_path.is_dir():
        raise ReportInputError(f"--out {str(html_path)!r}: is a folder; give a file name")
    if not html_path.parent.is_dir():
        raise ReportInputError(
            f"--out {str(html_path)!r}: folder {html_path.parent} does not exist"
        )
    doc = build_document(data)
    text = render_html(doc, variant_colours(data.variants))
    fd, tmp = tempfile.mkstemp(dir=html_path.parent, prefix=f".{html_path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; a report is for sharing
        os.replace(tmp, html_path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    md_path = write_markdown(doc, html_path.with_suffix(".md"))
    return html_path, md_path


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``clustersim-report``; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="clustersim-report",
        description=(
            "Compare the policy variants of a sweep in one self-contained HTML file (figures "
            "embedded) and a Markdown twin: headline outcomes, trajectories, differences "
            "against a baseline with bootstrap CIs, additionality, parks on a map, spending "
            "and budgets, assumptions."
        ),
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
        help="HTML file to write (default: <sweep>/report.html); the .md twin goes beside it",
    )
    args = parser.parse_args(argv)
    try:
        html_path, md_path = write_report(args.sweep_dir, args.baseline, args.out)
    except ReportInputError as err:
        print(f"clustersim-report: {err}", file=sys.stderr)
        return BAD_INPUT
    except OSError as err:
        print(f"clustersim-report: cannot write the report: {err}", file=sys.stderr)
        return BAD_INPUT
    print(f"report: {html_path} (and {md_path})")
    return 0


__all__ = ["BAD_INPUT", "main", "write_report"]

if __name__ == "__main__":
    sys.exit(main())

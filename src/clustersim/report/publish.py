"""A sweep's report on disk: one self-contained HTML file and a Markdown twin with figures.

``write_report`` is what ``clustersim-report`` runs; ``write_document`` writes a report a
notebook has already built and shown.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from clustersim.report.build import build_document
from clustersim.report.document import Document
from clustersim.report.html import render_html
from clustersim.report.load import ReportInputError, SweepData, report_data
from clustersim.report.markdown import write_markdown
from clustersim.report.style import variant_colours

#: The report's file name inside its folder (the Markdown twin: ``report.md``, its figures
#: ``report_figures/``).
REPORT_FILE = "report.html"
#: Suffixes that make ``out`` a file name rather than a folder.
HTML_SUFFIXES = (".html", ".htm")


def report_path(sweep_dir: Path | str, out: Path | str | None = None) -> Path:
    """Where the HTML report goes: ``<out>/report.html``, or ``out`` if it names an HTML file.

    ``out`` defaults to the sweep folder. Raises ``ReportInputError`` for an ``out`` that
    is an existing file or has a suffix other than ``.html``/``.htm``.
    """
    if out is None:
        return Path(sweep_dir) / REPORT_FILE
    out = Path(out)
    if out.suffix.lower() in HTML_SUFFIXES and not out.is_dir():
        return out
    if out.exists() and not out.is_dir():
        raise ReportInputError(
            f"--out {str(out)!r}: is a file; give a folder (created if missing) or a file "
            "name ending in .html"
        )
    if out.suffix and not out.is_dir():
        raise ReportInputError(
            f"--out {str(out)!r}: give a folder (created if missing) or a file name ending in .html"
        )
    return out / REPORT_FILE


def write_report(
    sweep_dir: Path | str, baseline: str | None = None, out: Path | str | None = None
) -> tuple[Path, Path]:
    """Build the report of a sweep; return the HTML and Markdown paths written.

    ``out`` is the folder to write into (created if missing; default: the sweep folder),
    or the name of the HTML file. The Markdown twin is the HTML path with ``.md`` and its
    figures go to ``<stem>_figures/`` beside it. Raises ``ReportInputError``.
    """
    html_path = report_path(sweep_dir, out)
    data = report_data(sweep_dir, baseline)
    return write_document(build_document(data), data, html_path)


def write_document(doc: Document, data: SweepData, html_path: Path | str) -> tuple[Path, Path]:
    """Write ``build_document(data)``, already built, as ``write_report`` would; return the paths.

    The HTML goes to ``html_path`` and its Markdown twin beside it. For a caller that has
    built the document to look at it (a notebook): the same files as ``write_report`` for
    the same data, without drawing the figures a second time.
    """
    html_path = Path(html_path)
    html_path.parent.mkdir(parents=True, exist_ok=True)
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


__all__ = ["REPORT_FILE", "report_path", "write_document", "write_report"]

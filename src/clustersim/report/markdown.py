"""Render a report ``Document`` as Markdown, the text twin of the HTML file.

Tables become pipe tables; figures are written as PNG files into a folder beside the
Markdown file (``<name>_figures/``) and linked by relative path, so the Markdown reads
well as plain text, in a diff, and in any Markdown viewer.

Every text is written as text (``escape``): a park name, a policy label or a folder from
a config or an override may hold ``<script>``, ``*``, ``|`` or a line break, and must
show as typed, never become HTML, emphasis, a link or a new table row. Markdown viewers
pass raw HTML through, so ``<`` and ``&`` matter as much as in the HTML report.
"""

from __future__ import annotations

import re
from pathlib import Path

from clustersim.report.document import Bullets, Document, Figure, Paragraph, Table

#: Characters that start Markdown (or GitHub Markdown) syntax anywhere in a line:
#: backslash-escaped, which CommonMark allows for any ASCII punctuation. (``>`` matters
#: only at the start of a line; ``&`` only where it would spell an entity: see below.)
_INLINE = re.compile(r"([\\`*\[\]<|~])")
#: ``&lt;``, ``&#60;``: an entity a viewer would turn into another character.
_ENTITY = re.compile(r"&(?=#[0-9]+;|#[xX][0-9a-fA-F]+;|[A-Za-z][A-Za-z0-9]*;)")
#: An underscore next to a non-alphanumeric character may start or end emphasis (inside
#: a word, as in ``huangpu_2024``, it cannot, and stays as it is for plain-text reading).
_UNDERSCORE = re.compile(r"(?<![0-9A-Za-z])_|_(?![0-9A-Za-z])")
#: What makes a line a heading, quote, list item or rule when it starts the line.
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")


def escape(text: object, line_start: bool = False) -> str:
    """``text`` as Markdown that renders exactly as ``text`` (line breaks become spaces).

    ``line_start``: the text begins a line (a paragraph, a list item), where ``#``, ``>``,
    ``-``, ``+``, ``=`` and ``1.`` would make it a heading, quote, list or rule.
    """
    out = " ".join(str(text).replace("\r", "\n").split("\n"))
    out = _INLINE.sub(r"\\\1", out)
    out = _ENTITY.sub(r"\\&", out)
    out = _UNDERSCORE.sub(r"\\_", out)
    match = _LINE_START.match(out) if line_start else None
    if match:  # "# x", "> x", "- x", "1. x" would be block syntax at the start of a line
        lead, mark = match.group(1), match.group(2)
        if mark[0].isdigit():
            cut = match.end()
            out = f"{out[:cut]}\\{out[cut:]}"
        else:
            out = f"{lead}\\{out[len(lead) :]}"
    return out


def table_markdown(table: Table, number: int) -> str:
    """One table as a pipe table with its numbered title and caption."""
    cols = [str(c) for c in table.frame.columns]
    lines = [
        f"**Table {number}. {escape(table.title)}**",
        "",
        "| " + " | ".join(escape(c) for c in cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
    ]
    lines += [
        "| " + " | ".join(escape(str(v)) for v in row) + " |"
        for row in table.frame.itertuples(index=False)
    ]
    if table.caption:
        lines += ["", f"*{escape(table.caption)}*"]
    return "\n".join(lines)


def render_markdown(doc: Document, figure_dir: str) -> tuple[str, dict[str, bytes]]:
    """The Markdown text and the figure files it links (relative name -> PNG bytes)."""
    out = [f"# {escape(doc.title)}", ""]
    out += [f"- **{escape(k)}**: {escape(v)}" for k, v in doc.facts]
    out.append("")
    files: dict[str, bytes] = {}
    n_table = n_figure = 0
    for section in doc.sections:
        out += [f"## {escape(section.title)}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                prefix = {"note": "> **Note.** ", "warning": "> **Warning.** "}.get(block.kind, "")
                out += [prefix + escape(block.text, line_start=not prefix), ""]
            elif isinstance(block, Bullets):
                out += [f"- {escape(item, line_start=True)}" for item in block.items] + [""]
            elif isinstance(block, Table):
                n_table += 1
                out += [table_markdown(block, n_table), ""]
            elif isinstance(block, Figure):
                n_figure += 1
                name = f"{figure_dir}/figure-{n_figure:02d}-{block.key}.png"
                files[name] = block.png
                title = escape(block.title)
                out += [
                    f"![Figure {n_figure}. {title}]({name})",
                    "",
                    f"*Figure {n_figure}. {title}.* {escape(block.caption)}",
                    "",
                ]
    return "\n".join(out).rstrip() + "\n", files


def write_markdown(doc: Document, path: Path) -> Path:
    """Write the Markdown twin at ``path`` and its figures beside it; return ``path``."""
    path = Path(path)
    figure_dir = f"{path.stem}_figures"
    text, files = render_markdown(doc, figure_dir)
    folder = path.parent / figure_dir
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("figure-*.png"):
        old.unlink()
    for name, data in files.items():
        (path.parent / name).write_bytes(data)
    path.write_text(text, encoding="utf-8")
    return path


__all__ = ["escape", "render_markdown", "table_markdown", "write_markdown"]

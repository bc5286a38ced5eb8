"""Render a report ``Document`` as Markdown, the text twin of the HTML file.

Tables become pipe tables; figures are written as PNG files into a folder beside the
Markdown file (``<name>_figures/``) and linked by relative path, so the Markdown reads
well as plain text, in a diff, and in any Markdown viewer.
"""

from __future__ import annotations

from pathlib import Path

from clustersim.report.document import Bullets, Document, Figure, Paragraph, Table


def _escape(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def table_markdown(table: Table, number: int) -> str:
    """One table as a pipe table with its numbered title and caption."""
    cols = [str(c) for c in table.frame.columns]
    lines = [
        f"**Table {number}. {_escape(table.title)}**",
        "",
        "| " + " | ".join(_escape(c) for c in cols) + " |",
        "| " + " | ".join("---" for _ in cols) + " |",
    ]
    lines += [
        "| " + " | ".join(_escape(str(v)) for v in row) + " |"
        for row in table.frame.itertuples(index=False)
    ]
    if table.caption:
        lines += ["", f"*{_escape(table.caption)}*"]
    return "\n".join(lines)


def render_markdown(doc: Document, figure_dir: str) -> tuple[str, dict[str, bytes]]:
    """The Markdown text and the figure files it links (relative name -> PNG bytes)."""
    out = [f"# {doc.title}", ""]
    out += [f"- **{k}**: {v}" for k, v in doc.facts]
    out.append("")
    files: dict[str, bytes] = {}
    n_table = n_figure = 0
    for section in doc.sections:
        out += [f"## {section.title}", ""]
        for block in section.blocks:
            if isinstance(block, Paragraph):
                prefix = {"note": "> **Note.** ", "warning": "> **Warning.** "}.get(block.kind, "")
                out += [prefix + block.text, ""]
            elif isinstance(block, Bullets):
                out += [f"- {item}" for item in block.items] + [""]
            elif isinstance(block, Table):
                n_table += 1
                out += [table_markdown(block, n_table), ""]
            elif isinstance(block, Figure):
                n_figure += 1
                name = f"{figure_dir}/figure-{n_figure:02d}-{block.key}.png"
                files[name] = block.png
                out += [
                    f"![Figure {n_figure}. {block.title}]({name})",
                    "",
                    f"*Figure {n_figure}. {block.title}.* {block.caption}",
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


__all__ = ["render_markdown", "table_markdown", "write_markdown"]

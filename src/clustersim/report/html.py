"""Render a report ``Document`` as ONE self-contained HTML file.

Figures are embedded as base64 PNG ``data:`` URIs and the style sheet is inline, so the
file opens offline in any browser and can be mailed as it is. The print style sheet keeps
figures and tables whole on a page and drops the screen-only table of contents links'
colours, so the report prints cleanly (A4 or Letter).
"""

from __future__ import annotations

import base64
from html import escape

from clustersim.report.document import Bullets, Document, Figure, Paragraph, Section, Table

CSS = """
:root { --ink: #222; --muted: #666; --rule: #ccc; --note: #eef4fb; --warn: #fff4e0; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial,
       "Noto Sans CJK SC", sans-serif; color: var(--ink); max-width: 1150px; margin: 2em auto;
       padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: .2em; }
h2 { font-size: 1.3em; border-bottom: 2px solid var(--rule); padding-bottom: .2em;
     margin-top: 2em; }
h3 { font-size: 1.02em; margin: 1.2em 0 .3em; }
table { border-collapse: collapse; margin: .4em 0 .3em; font-size: 12.5px; }
th, td { border: 1px solid var(--rule); padding: 3px 7px; text-align: left;
         vertical-align: top; }
th { background: #f3f3f3; }
td.num { text-align: right; white-space: nowrap; }
table.facts th { width: 15em; }
.caption { color: var(--muted); font-size: 12.5px; margin: .2em 0 1em; }
.note, .warning { padding: .5em .8em; border-radius: 4px; }
.note { background: var(--note); }
.warning { background: var(--warn); border-left: 4px solid #e08a00; }
figure { margin: 1em 0 1.6em; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: var(--muted); font-size: 12.5px; }
.swatch { display: inline-block; width: .9em; height: .9em; vertical-align: middle;
          margin-right: .3em; border-radius: 2px; }
nav ol { columns: 2; }
.scroll { overflow-x: auto; }
@page { size: auto; margin: 14mm; }
@media print {
  body { max-width: none; margin: 0; font-size: 11px; }
  h2 { break-after: avoid; page-break-after: avoid; }
  h3 { break-after: avoid; page-break-after: avoid; }
  figure, tr, .caption { break-inside: avoid; page-break-inside: avoid; }
  table { font-size: 9px; }
  td.num { white-space: normal; }
  thead { display: table-header-group; }
  .scroll { overflow: visible; }
  nav { display: none; }
  a { color: inherit; text-decoration: none; }
}
"""


def _cell(text: str) -> str:
    cls = ' class="num"' if text[:1].isdigit() or text[:1] in "+−-" else ""
    return f"<td{cls}>{escape(text)}</td>"


def table_html(table: Table, number: int) -> str:
    """One table with its numbered title and caption."""
    head = "".join(f"<th>{escape(str(c))}</th>" for c in table.frame.columns)
    body = "".join(
        "<tr>" + "".join(_cell(str(v)) for v in row) + "</tr>"
        for row in table.frame.itertuples(index=False)
    )
    caption = f'<p class="caption">{escape(table.caption)}</p>' if table.caption else ""
    return (
        f"<h3>Table {number}. {escape(table.title)}</h3>"
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>{caption}"
    )


def figure_html(figure: Figure, number: int) -> str:
    """One figure embedded as a base64 PNG, with its number and caption."""
    data = base64.b64encode(figure.png).decode("ascii")
    return (
        f'<figure id="fig-{escape(figure.key)}">'
        f'<img src="data:image/png;base64,{data}" alt="{escape(figure.title)}">'
        f"<figcaption><b>Figure {number}. {escape(figure.title)}.</b> "
        f"{escape(figure.caption)}</figcaption></figure>"
    )


def _section(section: Section, counters: dict[str, int]) -> str:
    parts = [f'<section id="{escape(section.key)}"><h2>{escape(section.title)}</h2>']
    for block in section.blocks:
        if isinstance(block, Paragraph):
            cls = f' class="{block.kind}"' if block.kind != "text" else ""
            parts.append(f"<p{cls}>{escape(block.text)}</p>")
        elif isinstance(block, Bullets):
            items = "".join(f"<li>{escape(i)}</li>" for i in block.items)
            parts.append(f"<ul>{items}</ul>")
        elif isinstance(block, Table):
            counters["table"] += 1
            parts.append(table_html(block, counters["table"]))
        elif isinstance(block, Figure):
            counters["figure"] += 1
            parts.append(figure_html(block, counters["figure"]))
    parts.append("</section>")
    return "\n".join(parts)


def render_html(doc: Document, colours: dict[str, str] | None = None) -> str:
    """The complete HTML page of a document (UTF-8 text)."""
    facts = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in doc.facts)
    legend = ""
    if colours:
        legend = (
            "<p>Variant colours: "
            + " ".join(
                f'<span class="swatch" style="background:{escape(c)}"></span>{escape(v)}'
                for v, c in colours.items()
            )
            + "</p>"
        )
    toc = "".join(
        f'<li><a href="#{escape(s.key)}">{escape(s.title)}</a></li>' for s in doc.sections
    )
    counters = {"table": 0, "figure": 0}
    body = "\n".join(_section(s, counters) for s in doc.sections)
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(doc.title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{escape(doc.title)}</h1>"
        f'<table class="facts"><tbody>{facts}</tbody></table>{legend}'
        f"<nav><h3>Contents</h3><ol>{toc}</ol></nav>\n{body}\n"
        '<p class="caption">Made by clustersim-report.</p></body></html>\n'
    )


__all__ = ["CSS", "figure_html", "render_html", "table_html"]

"""Every text from a config or an override is shown as typed in every report format."""

from __future__ import annotations

import html
import re

import pandas as pd
import pytest

from clustersim.report.document import Bullets, Document, Figure, Paragraph, Section, Table
from clustersim.report.html import render_html
from clustersim.report.markdown import escape, render_markdown

HOSTILE = [
    "<script>alert(1)</script>",
    "Lujiazui <b>bold</b> & R&D &lt;not an entity&gt;",
    "*star* _under_ huangpu_2024 `code` ~~gone~~",
    "[a link](https://example.com) ![img](x.png) <https://example.com>",
    "col|umn\nnew line\r\nand | more",
    "# heading",
    "> quote",
    "- item",
    "1. numbered",
    "back\\slash \\<",
]


def document(text: str) -> Document:
    frame = pd.DataFrame({text: [text, "-3.2"], "n": [1, 2]})
    section = Section("s", text)
    section.add(
        Paragraph(text),
        Paragraph(text, "warning"),
        Bullets([text, text]),
        Table(text, frame, caption=text),
        Figure("fig", text, text, b"\x89PNG"),
    )
    return Document(title=text, facts=[(text, text)], sections=[section])


def visible_text(rendered_html: str) -> str:
    """What a reader sees: the text of the rendered page, tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", rendered_html))


@pytest.mark.parametrize("text", HOSTILE)
def test_markdown_twin_shows_text_as_typed_and_makes_no_markup(text):
    markdown_it = pytest.importorskip("markdown_it")
    md, _ = render_markdown(document(text), "figs")
    page = markdown_it.MarkdownIt("commonmark").enable("table").enable("strikethrough").render(md)
    # no markup came from the text: only what the renderer makes of our own structure
    tags = set(re.findall(r"<([a-z0-9]+)", page))
    assert tags <= {
        "h1",
        "h2",
        "p",
        "ul",
        "li",
        "strong",
        "em",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "blockquote",
        "img",
    }, tags
    assert "<script" not in page and "<b>" not in page and "<a " not in page
    assert page.count("<img") == 1 and page.count("<h1>") == 1
    assert "<code>" not in page and "<s>" not in page and "<del>" not in page
    shown = " ".join(visible_text(page).split())
    typed = " ".join(text.split())
    assert shown.count(typed) >= 6  # title, facts, heading, paragraphs, bullets, cells...


@pytest.mark.parametrize("text", HOSTILE)
def test_html_report_shows_text_as_typed(text):
    page = render_html(document(text))
    assert "<script>alert" not in page and "<b>bold" not in page
    shown = " ".join(visible_text(page).split())
    assert shown.count(" ".join(text.split())) >= 6


def test_numbers_and_words_stay_readable_as_plain_text():
    assert (
        escape("huangpu_2024.enterprise_landing_award") == "huangpu_2024.enterprise_landing_award"
    )
    assert escape("-3.2") == "-3.2" and escape("R&D 12.5%") == "R&D 12.5%"
    assert escape("- x", line_start=True) == "\\- x"

"""A report as a renderer-neutral document: sections of paragraphs, tables and figures.

``build`` fills a ``Document``; ``html`` and ``markdown`` render the same one, so the two
files always say the same thing. Table cells are already formatted text.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


@dataclass
class Paragraph:
    """A paragraph of plain text; ``kind`` ``note`` or ``warning`` stands out."""

    text: str
    kind: str = "text"


@dataclass
class Bullets:
    """A list of short plain-text items."""

    items: list[str]


@dataclass
class Table:
    """A table of formatted cells with a title and a one-sentence caption."""

    title: str
    frame: pd.DataFrame
    caption: str = ""


@dataclass
class Figure:
    """A figure as PNG bytes with its title and a caption saying what to look at."""

    key: str
    title: str
    caption: str
    png: bytes


Block = Paragraph | Bullets | Table | Figure


@dataclass
class Section:
    """A numbered section of the report."""

    key: str
    title: str
    blocks: list[Block] = field(default_factory=list)

    def add(self, *blocks: Block) -> Section:
        """Append blocks; return the section (for chaining)."""
        self.blocks.extend(blocks)
        return self


@dataclass
class Document:
    """The whole report: title, facts about the sweep, and the sections in order."""

    title: str
    facts: list[tuple[str, str]]
    sections: list[Section]

    def figures(self) -> list[Figure]:
        """Every figure, in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Figure)]

    def tables(self) -> list[Table]:
        """Every table, in document order."""
        return [b for s in self.sections for b in s.blocks if isinstance(b, Table)]


__all__ = ["Block", "Bullets", "Document", "Figure", "Paragraph", "Section", "Table"]

"""Assemble the report: sweep -> sections (each pairing its tables and figures) -> ``Document``.

Data flows one way: ``load.report_data`` reads the sweep, each module of ``sections``
computes its numbers (pure functions over DataFrames), draws its figures from those
numbers and puts numbers, figures and the words that explain them into a
``document.Section``; ``html`` and ``markdown`` render the ``document.Document``.
"""

from __future__ import annotations

from pathlib import Path

from clustersim.report.document import Document
from clustersim.report.load import SweepData
from clustersim.report.sections.additionality import additionality_section
from clustersim.report.sections.assumptions import assumptions_section
from clustersim.report.sections.differences import difference_section
from clustersim.report.sections.headline import headline_section
from clustersim.report.sections.overview import overview_section
from clustersim.report.sections.parks import map_section
from clustersim.report.sections.sensitivity import sensitivity_sections
from clustersim.report.sections.spending import spending_section
from clustersim.report.sections.trajectories import trajectory_section
from clustersim.report.style import variant_colours


def build_document(data: SweepData) -> Document:
    """The whole report for a loaded sweep."""
    colours = variant_colours(data.variants)
    facts, intro = overview_section(data)
    months = sorted(data.panel["month"].unique())
    head, _ = headline_section(data)
    diff, _ = difference_section(data, colours)
    sections = [
        intro,
        head,
        trajectory_section(data, colours),
        diff,
        additionality_section(data, colours),
        map_section(data, colours),
        spending_section(data, colours, months),
        assumptions_section(data),
        *sensitivity_sections(data.sweep_dir),  # only for a sensitivity design
    ]
    title = f"Policy comparison: {Path(data.sweep_dir).name}"
    return Document(title=title, facts=facts, sections=sections)

"""What every figure of the report shares: colours, units, the year axis, PNG output.

Figures are ``matplotlib.figure.Figure`` objects drawn on the Agg canvas without pyplot,
so no global state or display is touched. Every figure has a title, axis labels with
units and a legend; each variant keeps one colour (``variant_colours``) in all of them.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from clustersim.report.common import TRAJECTORY_METRICS
from clustersim.report.document import Figure as DocFigure
from clustersim.results.outcomes import OUTCOMES as DECLARED

#: Fixed colours of the five policy regimes (colour-blind-safe Tableau hues).
POLICY_COLOURS = {
    "none": "#7f7f7f",
    "shanghai_2020": "#1f77b4",
    "pudong_2027": "#d62728",
    "huangpu_2024": "#2ca02c",
    "all_three": "#9467bd",
}


#: Colours for other variants, handed out in variant order.
EXTRA_COLOURS = (
    "#ff7f0e",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#393b79",
    "#843c39",
    "#637939",
    "#7b4173",
    "#3182bd",
)


#: Units of the plotted metrics, for axis labels.
UNITS = {name: DECLARED[name].unit for name in TRAJECTORY_METRICS}


#: Titles of the plotted metrics.
TITLES = {name: DECLARED[name].heading for name in TRAJECTORY_METRICS}


#: Line styles of the plans' start dates.
START_STYLES = ((0, (5, 2)), (0, (6, 2, 1, 2)), (0, (2, 1.5)), (0, (8, 2, 1, 2, 1, 2)))


DPI = 100


#: Instrument colours (ColorBrewer Set2 and Dark2): muted, unlike the variants' hues.
INSTRUMENT_COLOURS = (
    "#66c2a5",
    "#fc8d62",
    "#8da0cb",
    "#e78ac3",
    "#a6d854",
    "#ffd92f",
    "#e5c494",
    "#1b9e77",
    "#d95f02",
    "#7570b3",
    "#e7298a",
    "#66a61e",
    "#e6ab02",
    "#a6761d",
)


def variant_colours(variants: Sequence[str]) -> dict[str, str]:
    """One colour per variant: the policy's fixed colour, else the next unused extra one."""
    out: dict[str, str] = {}
    extra = iter(EXTRA_COLOURS * (1 + len(variants) // len(EXTRA_COLOURS)))
    for v in variants:
        out[v] = POLICY_COLOURS[v] if v in POLICY_COLOURS else next(extra)
    return out


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (no timestamp metadata)."""
    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def decimal_years(months: pd.Series | Sequence[str]) -> np.ndarray:
    """``YYYY-MM`` as decimal years (2025-07 -> 2025.5)."""
    s = pd.Series(list(months), dtype=str)
    return (s.str[:4].astype(int) + (s.str[5:7].astype(int) - 1) / 12).to_numpy()


def scale_of(metric: str) -> float:
    """Factor from a metric's stored value to the unit its axis shows."""
    return DECLARED[metric].scale


#: Panels whose value ranges differ by this factor or more get a sentence saying so.
SCALE_RATIO = 5.0


def scale_note(fig: Figure) -> str:
    """A sentence when a figure's panels side by side have very different value scales.

    A reader compares heights across panels; when one panel's axis spans ten times
    another's, equal heights mean very different numbers. Compares the span of each
    panel's value axis (y, or x for horizontal bars), ignoring empty panels.
    """
    spans = []
    for ax in fig.axes:
        if not ax.has_data() or ax.get_label() == "<colorbar>":
            continue
        low, high = ax.get_ylim()
        spans.append(abs(high - low))
    spans = [s for s in spans if s > 0]
    if len(spans) < 2 or max(spans) < SCALE_RATIO * min(spans):
        return ""
    ratio = max(spans) / min(spans)
    return (
        f" Note: the panels have different scales (one axis spans about {ratio:,.0f} times "
        "another); compare the shapes within a panel, not heights across panels."
    )


def figure(key: str, fig: Figure, title: str, caption: str) -> DocFigure:
    """A drawn figure as a document figure (PNG bytes with its title and caption).

    A figure whose panels have very different scales says so in its caption (``scale_note``).
    """
    caption = caption + scale_note(fig)
    return DocFigure(key=key, title=title, caption=caption, png=png(fig))

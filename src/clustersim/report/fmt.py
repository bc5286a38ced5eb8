"""Numbers as a report prints them: one place, so the HTML and the Markdown agree."""

from __future__ import annotations

import math

#: What an empty cell shows (no value, e.g. no interval from a single run).
MISSING = "–"


def num(value: float) -> str:
    """A number with sensible precision: thousands separated, fewer decimals as it grows."""
    if value is None or not math.isfinite(value):
        return MISSING
    a = abs(value)
    if a >= 100 or value == int(value):
        text = f"{value:,.0f}"
    elif a >= 10:
        text = f"{value:,.1f}"
    else:
        text = f"{value:,.2f}"
    return "0" if text in ("-0", "-0.0", "-0.00") else text


def signed(value: float) -> str:
    """A number with its sign (+3.5, −2)."""
    text = num(value)
    if text == MISSING or text == "0":
        return text
    return text.replace("-", "−") if value < 0 else f"+{text}"


def millions(value: float) -> str:
    """RMB as RMB million."""
    return num(value / 1e6) if value is not None and math.isfinite(value) else MISSING


def interval(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``mean [low – high]``, or just the mean when there is no interval."""
    m = num(mean * scale)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return m
    return f"{m} [{num(low * scale)} – {num(high * scale)}]"


def signed_interval(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``+mean [low, high]`` for differences."""
    m = signed(mean * scale)
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return m
    return f"{m} [{signed(low * scale)}, {signed(high * scale)}]"


def share(value: float) -> str:
    """A fraction as a percentage."""
    return MISSING if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


__all__ = ["MISSING", "interval", "millions", "num", "share", "signed", "signed_interval"]

"""Numbers as a report prints them: one place, so the HTML and the Markdown agree."""

from __future__ import annotations

import math

#: What an empty cell shows (no value, e.g. no interval from a single run).
MISSING = "–"


def decimals(*values: float) -> int:
    """Decimals for numbers of this size: 0 from 100 up, 1 from 10, else 2.

    Decided by magnitude alone (the largest of ``values``), never by whether a value
    happens to be whole, so one column never shows "90" beside "90.5".
    """
    finite = [abs(v) for v in values if v is not None and math.isfinite(v)]
    a = max(finite) if finite else 0.0
    return 0 if a >= 100 else 1 if a >= 10 else 2


def num(value: float, places: int | None = None) -> str:
    """A number with sensible precision: thousands separated, fewer decimals as it grows."""
    if value is None or not math.isfinite(value):
        return MISSING
    places = decimals(value) if places is None else places
    text = f"{value:,.{places}f}"
    return text[1:] if text.startswith("-") and not text.strip("-0.,") else text


def signed(value: float, places: int | None = None) -> str:
    """A number with its sign (+3.50, −2.00)."""
    text = num(value, places)
    if text == MISSING or not text.strip("0.,"):
        return text
    return text.replace("-", "−") if value < 0 else f"+{text}"


def millions(value: float) -> str:
    """RMB as RMB million."""
    return num(value / 1e6) if value is not None and math.isfinite(value) else MISSING


def interval(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``mean [low – high]``, or just the mean when there is no interval."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return num(mean * scale)
    places = decimals(mean * scale, low * scale, high * scale)  # one format in the cell
    return f"{num(mean * scale, places)} [{num(low * scale, places)} – {num(high * scale, places)}]"


def signed_interval(mean: float, low: float, high: float, scale: float = 1.0) -> str:
    """``+mean [low, high]`` for differences."""
    if low is None or high is None or not (math.isfinite(low) and math.isfinite(high)):
        return signed(mean * scale)
    places = decimals(mean * scale, low * scale, high * scale)  # one format in the cell
    return (
        f"{signed(mean * scale, places)} "
        f"[{signed(low * scale, places)}, {signed(high * scale, places)}]"
    )


def share(value: float) -> str:
    """A fraction as a percentage."""
    return MISSING if value is None or not math.isfinite(value) else f"{100 * value:.0f}%"


__all__ = ["MISSING", "interval", "millions", "num", "share", "signed", "signed_interval"]

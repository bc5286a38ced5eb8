"""Months: one model step is one calendar month, named ``YYYY-MM``.

The plans' instruments switch on and off by their documents' dates, so a step is tied to
a real month. ``Month`` is an integer count of months since year 0, which makes ranges
and differences plain integer arithmetic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class MonthError(ValueError):
    """A string that does not name a month of the form YYYY-MM (month 01..12)."""


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month; ``index`` counts months since January of year 0."""

    index: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse ``YYYY-MM``; raise ``MonthError`` for anything else (e.g. ``2025-13``)."""
        m = _MONTH_RE.match(str(text).strip())
        if not m:
            raise MonthError(f"{text!r} is not a month: expected YYYY-MM, e.g. 2025-01")
        year, month = int(m.group(1)), int(m.group(2))
        if not 1 <= month <= 12:
            raise MonthError(f"{text!r} is not a month: the month must be 01..12")
        return cls(year * 12 + month - 1)

    @property
    def year(self) -> int:
        """The calendar year."""
        return self.index // 12

    @property
    def month(self) -> int:
        """The month of the year, 1..12."""
        return self.index % 12 + 1

    def __add__(self, months: int) -> Month:
        return Month(self.index + months)

    def __sub__(self, other: Month) -> int:
        return self.index - other.index

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


def month_range(start: Month, end: Month) -> list[Month]:
    """Every month from ``start`` to ``end``, both included."""
    return [Month(i) for i in range(start.index, end.index + 1)]

"""The one error the analysis raises for bad input: it names the field, the value, the rule."""

from __future__ import annotations

from typing import Any


class AnalysisError(ValueError):
    """Input the analysis cannot use (a parameter, a range, a sweep, an outcome, a condition).

    Attributes:
        field: where the bad value is (a config key, a column, a command-line option).
        value: the value found.
        allowed: what would be accepted, in words.

    """

    def __init__(self, field: str, value: Any, allowed: str) -> None:
        self.field, self.value, self.allowed = field, value, allowed
        super().__init__(f"{field} = {value!r}: {allowed}")

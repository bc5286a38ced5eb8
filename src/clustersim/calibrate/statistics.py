"""The model outcomes a calibration target can name: statistics of one run's tables.

A target compares one number computed from a run with one published figure. The number
comes either from the monthly table (a column at a month, or over a period) or from the
year-end firm snapshots (``firms_yearly``: a size-distribution tail, growth-rate
dispersion, exits by age). Each statistic is a plain function of the run's tables and a
few settings, registered by name in ``STATISTICS`` so that a targets file can name it and
a bad name is caught before anything runs.

Monthly statistics (``column`` names a monthly-table column, ``per`` a second one):

- ``value``: the column at a month, or its mean over a period;
- ``share``: column / per (means over the period), e.g. Pudong's share of employment;
- ``annual_rate``: the column's sum over the period per year, divided by the mean of
  ``per``, e.g. exits per firm per year;
- ``ratio``: sum of the column over the period / sum of ``per``, e.g. entries per exit;
- ``annual_growth``: compound yearly growth of the column from the period's first month
  to its last.

Snapshot statistics (year-end snapshots whose month lies in the period):

- ``zipf_exponent``: Hill's maximum-likelihood Pareto exponent of firm employees at or
  above ``min_employees`` (Axtell 2001 reports 1.06 for US firms);
- ``growth_size_beta``: beta in sd(annual log growth) ~ size^-beta, from surviving firms
  binned by size (Stanley et al. 1996; Amaral et al. 1997: 0.18 for employees);
- ``growth_sd``: standard deviation of annual log growth rates of surviving firms;
- ``growth_kurtosis``: excess kurtosis of annual log growth rates of surviving firms
  (3 for the Laplace "tent" of Stanley et al. 1996 and Bottazzi & Secchi 2006, 0 for a
  normal);
- ``exit_rate_by_age``: share of firms of age ``min_age_months`` ..< ``max_age_months``
  at a year end that are gone by the next year end;
- ``share_younger_than``: share of operating firms younger than ``max_age_months``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

#: Where a statistic reads from: the monthly table or the year-end firm snapshots.
MONTHLY, SNAPSHOTS = "monthly", "snapshots"


@dataclass(frozen=True)
class Statistic:
    """A named statistic of a run.

    Attributes:
        name: what a targets file calls it.
        source: ``monthly`` or ``snapshots``.
        needs: settings it requires (``column``, ``per``), besides month or period.
        options: optional numeric settings and their defaults.
        compute: the function (tables, target settings) -> float.
        doc: one line a user reads in an error message or the report.

    """

    name: str
    source: str
    needs: tuple[str, ...]
    options: Mapping[str, float]
    compute: Callable[..., float]
    doc: str


# ------------------------------------------------------------------ monthly


def _rows(monthly: pd.DataFrame, first: str, last: str) -> pd.DataFrame:
    """Rows of the monthly table from ``first`` to ``last`` (YYYY-MM, both included)."""
    months = monthly["month"].astype(str)
    return monthly[(months >= first) & (months <= last)]


def _value(monthly: pd.DataFrame, first: str, last: str, column: str, **_: Any) -> float:
    return float(_rows(monthly, first, last)[column].mean())


def _share(monthly: pd.DataFrame, first: str, last: str, column: str, per: str, **_: Any) -> float:
    rows = _rows(monthly, first, last)
    return _divide(rows[column].mean(), rows[per].mean())


def _annual_rate(
    monthly: pd.DataFrame, first: str, last: str, column: str, per: str, **_: Any
) -> float:
    rows = _rows(monthly, first, last)
    years = len(rows) / 12.0
    return _divide(rows[column].sum() / years, rows[per].mean()) if years else float("nan")


def _ratio(monthly: pd.DataFrame, first: str, last: str, column: str, per: str, **_: Any) -> float:
    rows = _rows(monthly, first, last)
    return _divide(rows[column].sum(), rows[per].sum())


def _annual_growth(monthly: pd.DataFrame, first: str, last: str, column: str, **_: Any) -> float:
    rows = _rows(monthly, first, last)
    if len(rows) < 2:
        return float("nan")
    start, end = float(rows[column].iloc[0]), float(rows[column].iloc[-1])
    if start <= 0 or end <= 0:
        return float("nan")
    return (end / start) ** (12.0 / (len(rows) - 1)) - 1.0


def _divide(a: float, b: float) -> float:
    return float(a) / float(b) if b else float("nan")


# ---------------------------------------------------------------- snapshots


def month_number(month: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` month, so that differences are ages."""
    year, mon = str(month).split("-")
    return int(year) * 12 + int(mon) - 1


class Snapshots:
    """The year-end firm snapshots of one run, with what several statistics share.

    Targets on growth rates and on exits by age read the same firms x year-end panels
    (employees, year of birth); built by pandas' ``pivot_table`` for each target they cost
    about a fifth of a default run's simulation, a calibration run's whole statistics.
    Here each panel, and the growth rates of each period, are built once per run, with
    numpy, in the same order as before (firms by id, months in calendar order), so every
    statistic is the same to the bit.
    """

    def __init__(self, firms: pd.DataFrame) -> None:
        self.firms = firms
        month_text = firms["month"].astype(str).to_numpy()
        #: the snapshots' months (YYYY-MM, in order), and each row's position among them
        self.months, self._month_of_row = np.unique(month_text, return_inverse=True)
        self._firm_of_row = np.unique(firms["firm_id"].to_numpy(), return_inverse=True)[1]
        self._n_firms = int(self._firm_of_row.max()) + 1 if len(firms) else 0
        self._panels: dict[str, np.ndarray] = {}
        self._growth: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def rows(self, first: str, last: str) -> np.ndarray:
        """Positions of the rows whose month lies in ``first``..``last``."""
        months = self.months[self._month_of_row]
        return np.flatnonzero((months >= first) & (months <= last))

    def months_since(self, origin: str) -> np.ndarray:
        """Each row's month, in months after ``origin``."""
        numbers = np.array([month_number(m) for m in self.months], dtype=float)
        return numbers[self._month_of_row] - month_number(origin)

    def panel(self, column: str) -> np.ndarray:
        """Firms x months of one column (NaN where the firm has no snapshot that month)."""
        if column not in self._panels:
            values = self.firms[column].to_numpy(float)
            table = np.full((self._n_firms, len(self.months)), np.nan)
            # reversed, so that the first row of a (firm, month) pair is the one kept
            table[self._firm_of_row[::-1], self._month_of_row[::-1]] = values[::-1]
            self._panels[column] = table
        return self._panels[column]

    def column(self, column: str, month: str) -> np.ndarray:
        """One month's column of a panel (every firm that has a snapshot in some month)."""
        return self.panel(column)[:, int(np.searchsorted(self.months, month))]

    def year_pairs(self, first: str, last: str) -> list[tuple[str, str]]:
        """Consecutive year-end snapshots (12 months apart) whose start is in the period."""
        return [
            (a, b)
            for a, b in itertools.pairwise(str(m) for m in self.months)
            if first <= a <= last and month_number(b) - month_number(a) == 12
        ]

    def growth_rates(self, first: str, last: str) -> tuple[np.ndarray, np.ndarray]:
        """Annual log growth of employees of firms present at both ends, and their start size."""
        if (first, last) not in self._growth:
            growth, size = [np.empty(0)], [np.empty(0)]
            for a, b in self.year_pairs(first, last):
                s, e = self.column("employees", a), self.column("employees", b)
                ok = (s > 0) & (e > 0)  # NaN (absent) compares False
                growth.append(np.log(e[ok] / s[ok]))
                size.append(s[ok])
            self._growth[first, last] = (np.concatenate(growth), np.concatenate(size))
        return self._growth[first, last]


def _zipf_exponent(
    firms: Snapshots, first: str, last: str, min_employees: float = 10.0, **_: Any
) -> float:
    sizes = firms.firms["employees"].to_numpy(float)[firms.rows(first, last)]
    tail = sizes[sizes >= min_employees]
    if len(tail) < 10:
        return float("nan")
    logs = np.log(tail / min_employees)
    return float(len(tail) / logs.sum()) if logs.sum() > 0 else float("nan")


def _growth_size_beta(
    firms: Snapshots, first: str, last: str, bins: float = 5.0, **_: Any
) -> float:
    growth, size = firms.growth_rates(first, last)
    n_bins = int(bins)
    if len(growth) < 10 * n_bins:
        return float("nan")
    order = np.argsort(size, kind="stable")
    log_size, log_sd = [], []
    for chunk in np.array_split(order, n_bins):
        sd = growth[chunk].std(ddof=1)
        if sd > 0:
            log_size.append(np.log(size[chunk]).mean())
            log_sd.append(np.log(sd))
    if len(log_size) < 2:
        return float("nan")
    slope = np.polyfit(log_size, log_sd, 1)[0]
    return float(-slope)


def _growth_sd(firms: Snapshots, first: str, last: str, **_: Any) -> float:
    growth, _size = firms.growth_rates(first, last)
    return float(growth.std(ddof=1)) if len(growth) >= 10 else float("nan")


def _growth_kurtosis(firms: Snapshots, first: str, last: str, **_: Any) -> float:
    growth, _size = firms.growth_rates(first, last)
    if len(growth) < 30:
        return float("nan")
    centred = growth - growth.mean()
    var = (centred**2).mean()
    return float((centred**4).mean() / var**2 - 3.0) if var > 0 else float("nan")


def _exit_rate_by_age(
    firms: Snapshots,
    first: str,
    last: str,
    start_month: str,
    min_age_months: float = 0.0,
    max_age_months: float = 1e9,
    **_: Any,
) -> float:
    pairs = firms.year_pairs(first, last)
    if not pairs:
        return float("nan")
    origin = month_number(start_month)
    at_risk = gone = 0
    for a, b in pairs:
        born = firms.column("born", a)
        present = ~np.isnan(born)
        age = (month_number(a) - origin) - born
        pick = present & (age >= min_age_months) & (age < max_age_months)
        at_risk += int(pick.sum())
        gone += int((pick & np.isnan(firms.column("born", b))).sum())
    return gone / at_risk if at_risk else float("nan")


def _share_younger_than(
    firms: Snapshots,
    first: str,
    last: str,
    start_month: str,
    max_age_months: float = 60.0,
    **_: Any,
) -> float:
    rows = firms.rows(first, last)
    if not len(rows):
        return float("nan")
    age = firms.months_since(start_month)[rows] - firms.firms["born"].to_numpy(float)[rows]
    return float((age < max_age_months).mean())


STATISTICS: dict[str, Statistic] = {
    s.name: s
    for s in (
        Statistic(
            "value", MONTHLY, ("column",), {}, _value, "a monthly column (mean over the period)"
        ),
        Statistic("share", MONTHLY, ("column", "per"), {}, _share, "column / per"),
        Statistic(
            "annual_rate",
            MONTHLY,
            ("column", "per"),
            {},
            _annual_rate,
            "sum of column per year / mean of per",
        ),
        Statistic("ratio", MONTHLY, ("column", "per"), {}, _ratio, "sum of column / sum of per"),
        Statistic(
            "annual_growth",
            MONTHLY,
            ("column",),
            {},
            _annual_growth,
            "compound yearly growth of column over the period",
        ),
        Statistic(
            "zipf_exponent",
            SNAPSHOTS,
            (),
            {"min_employees": 10.0},
            _zipf_exponent,
            "Pareto tail exponent of firm employees (Hill estimator)",
        ),
        Statistic(
            "growth_size_beta",
            SNAPSHOTS,
            (),
            {"bins": 5.0},
            _growth_size_beta,
            "beta in sd(annual log growth) ~ size^-beta",
        ),
        Statistic(
            "growth_sd",
            SNAPSHOTS,
            (),
            {},
            _growth_sd,
            "standard deviation of annual log growth of surviving firms",
        ),
        Statistic(
            "growth_kurtosis",
            SNAPSHOTS,
            (),
            {},
            _growth_kurtosis,
            "excess kurtosis of annual log growth (Laplace: 3)",
        ),
        Statistic(
            "exit_rate_by_age",
            SNAPSHOTS,
            (),
            {"min_age_months": 0.0, "max_age_months": 1e9},
            _exit_rate_by_age,
            "share of firms of an age gone a year later",
        ),
        Statistic(
            "share_younger_than",
            SNAPSHOTS,
            (),
            {"max_age_months": 60.0},
            _share_younger_than,
            "share of operating firms younger than max_age_months",
        ),
    )
}


def evaluate(
    statistic: str,
    monthly: pd.DataFrame,
    firms_yearly: pd.DataFrame | Snapshots,
    *,
    first: str,
    last: str,
    settings: Mapping[str, Any],
) -> float:
    """The value of one statistic of a run over months ``first``..``last``.

    ``firms_yearly`` is the run's snapshot table, or its ``Snapshots`` when several
    statistics of the same run are computed (they then share its panels).
    """
    stat = STATISTICS[statistic]
    start_month = str(monthly["month"].iloc[0])
    if stat.source == MONTHLY:
        return stat.compute(monthly, first, last, **settings)
    if not isinstance(firms_yearly, Snapshots):
        firms_yearly = Snapshots(firms_yearly)
    return stat.compute(firms_yearly, first, last, start_month=start_month, **settings)

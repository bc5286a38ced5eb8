"""What every run records: one row of outcomes per month, and year-end snapshots.

The monthly row is computed from the agent tables with a handful of whole-array counts,
so recording costs little next to the rules. Column names are the vocabulary of every
later table: ``firms_<kind>``, ``firms_<district>``, ``employment_park_<park>``, ...
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from clustersim.vocabulary import FIRM_KINDS, JURISDICTIONS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel

#: Month-level counters the rules add to while a month runs (reset every month).
TALLIES = (
    "entries",
    "exits",
    "exit_jobs",
    "relocations",
    "relocation_jobs",
    "arrivals",
    "departures",
    "hires",
    "layoffs",
    "patents_new",
    "pilots_new",
    "rd_spend",
    "national_high_tech_rate",
    "national_rd_super_deduction",
)


def new_tally() -> dict[str, float]:
    """A fresh set of month counters, all zero."""
    return defaultdict(float, dict.fromkeys(TALLIES, 0.0))


class MonthlyRecorder:
    """Collects one row of outcomes per simulated month into preallocated columns.

    The columns and their order are fixed when the recorder is made (``column_names``);
    a month's row is computed as a few whole vectors and written in one assignment, not
    value by value (writing ~120 values one at a time was 5% of a default run).
    """

    def __init__(self, model: ClusterModel) -> None:
        self.n = model.n_months
        self.months = [str(m) for m in model.calendar]
        self.names = column_names(model.parks.ids, model.parks.districts)
        # one row per column, so that a column's months are contiguous
        self.values = np.zeros((len(self.names), self.n))
        self._patents = 0.0
        self._pilots = 0.0
        self._national = 0.0
        self._spent: dict[str, float] = dict.fromkeys(JURISDICTIONS, 0.0)

    @property
    def columns(self) -> dict[str, np.ndarray]:
        """Each metric's values, one per month of the run (0 for months not yet recorded)."""
        return dict(zip(self.names, self.values, strict=True))

    def record(self, model: ClusterModel, granted: dict[str, float]) -> None:
        """Record month ``model.month_index`` from the tables and the month's tallies."""
        t = model.month_index
        f, parks = model.firms, model.parks
        w = model.people_per_talent_agent
        live = f.live()
        park = f.live_park()
        kind = f.live_kind()
        n_parks, n_districts = len(parks), len(parks.districts)

        firms_kind = np.bincount(kind, minlength=len(FIRM_KINDS))
        firms_park = np.bincount(park, minlength=n_parks)
        people = f.employees(w, live)
        emp_park = np.bincount(park, weights=people, minlength=n_parks)
        firms_district = np.bincount(parks.district, weights=firms_park, minlength=n_districts)
        emp_district = np.bincount(parks.district, weights=emp_park, minlength=n_districts)
        by_park = (firms_park, emp_park, emp_park / parks.capacity, parks.rent, parks.capacity)

        market = model.labour_market_state  # totals by tier, as the labour market left them
        tiers_alive, tiers_emp = market.alive_by_tier, market.employed_by_tier
        wage = np.zeros(len(TALENT_TIERS))
        np.divide(market.wage_sum_by_tier, tiers_emp, out=wage, where=tiers_emp != 0)
        employment = emp_park.sum()
        talent = tiers_alive.sum() * w

        tally = model.tally
        self._patents += tally["patents_new"]
        self._pilots += tally["pilots_new"]
        threshold = model.behavior.innovation.leading_firm_employees
        # the plan's "~20 institutions whose technology application leads internationally":
        # FinTech arms of financial institutions with enough approved application pilots
        fi_arm = kind == FIRM_KINDS.index("fi_arm")
        leading_use = f.pilots[live] >= model.behavior.innovation.leading_application_pilots

        total = 0.0
        spending = []
        for j in JURISDICTIONS:
            amount = granted.get(j, 0.0)
            self._spent[j] += amount
            total += amount
            spending += [amount, self._spent[j]]
        # national law: tax expenditure, never part of the plans' spending above
        national = tally["national_high_tech_rate"] + tally["national_rd_super_deduction"]
        self._national += national

        row = self.values[:, t]
        row[:] = np.concatenate(
            [
                [len(live)],
                firms_kind,
                _interleave(firms_district, emp_district),
                _interleave(*by_park),
                # everyone in the city not at work: idle cohorts and the idle part of
                # partly employed ones (firms' employment is in full-time equivalents)
                [employment, talent, talent - employment],
                _interleave(tiers_alive * w, tiers_emp * w, wage),
                [tally[name] for name in TALLIES],
                [
                    self._patents,
                    self._pilots,
                    np.count_nonzero(f.high_tech[live]),
                    np.count_nonzero(f.specialised[live]),
                    np.count_nonzero(people >= threshold),
                    np.count_nonzero(fi_arm & leading_use),
                    model.arrived_people,
                    model.left_people,
                ],
                spending,
                [total, sum(self._spent.values()), national, self._national],
            ]
        )

    def frame(self, upto: int | None = None) -> pd.DataFrame:
        """The monthly table: a ``month`` column (YYYY-MM) and one column per metric."""
        n = self.n if upto is None else upto
        data = {"month": self.months[:n]}
        data.update({k: v[:n] for k, v in zip(self.names, self.values, strict=True)})
        return pd.DataFrame(data)


def column_names(park_ids: tuple[str, ...], districts: tuple[str, ...]) -> list[str]:
    """The monthly table's metric columns, in the order ``MonthlyRecorder.record`` fills them."""
    names = ["firms", *(f"firms_{k}" for k in FIRM_KINDS)]
    for d in districts:
        names += [f"firms_{d}", f"employment_{d}"]
    for pid in park_ids:
        names += [
            f"firms_park_{pid}",
            f"employment_park_{pid}",
            f"occupancy_{pid}",
            f"rent_{pid}",
            f"capacity_{pid}",
        ]
    names += ["employment", "talent", "unemployed"]
    for tier in TALENT_TIERS:
        names += [f"talent_{tier}", f"employment_{tier}", f"wage_{tier}"]
    names += [*TALLIES, "patents", "innovative_projects", "high_tech_firms", "specialised_firms"]
    names += ["leading_firms", "leading_application_institutions", "arrived_total", "left_total"]
    for j in JURISDICTIONS:
        names += [f"spending_{j}", f"spending_{j}_cumulative"]
    names += ["spending", "spending_cumulative"]
    names += ["national_tax_expenditure", "national_tax_expenditure_cumulative"]
    return names


def _interleave(*columns: np.ndarray) -> np.ndarray:
    """``a[0], b[0], c[0], a[1], b[1], ...``: one row's per-park (or per-tier) metrics.

    The values of ``np.column_stack(columns).ravel()``, in float64 (the row's type), made
    by writing each column into every k-th place (column_stack's argument handling cost
    more than the copying).
    """
    out = np.empty(len(columns[0]) * len(columns))
    for k, column in enumerate(columns):
        out[k :: len(columns)] = column
    return out


def region_of(district: str) -> str:
    """Pudong, Huangpu, or the rest of Shanghai: the three areas the plans compete over."""
    return district if district in ("pudong", "huangpu") else "rest_of_shanghai"

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
    """Collects one row of outcomes per simulated month into preallocated columns."""

    def __init__(self, model: ClusterModel) -> None:
        self.n = model.n_months
        self.months = [str(m) for m in model.calendar]
        self.columns: dict[str, np.ndarray] = {}
        self._patents = 0.0
        self._pilots = 0.0
        self._national = 0.0
        self._spent: dict[str, float] = dict.fromkeys(JURISDICTIONS, 0.0)

    def _put(self, t: int, name: str, value: float) -> None:
        col = self.columns.get(name)
        if col is None:
            col = self.columns[name] = np.zeros(self.n)
        col[t] = value

    def record(self, model: ClusterModel, granted: dict[str, float]) -> None:
        """Record month ``model.month_index`` from the tables and the month's tallies."""
        t = model.month_index
        f, parks = model.firms, model.parks
        w = model.people_per_talent_agent
        live = f.live()
        park = f.park[live]
        n_parks, n_districts = len(parks), len(parks.districts)
        put = self._put

        put(t, "firms", len(live))
        for k, n in zip(
            FIRM_KINDS, np.bincount(f.kind[live], minlength=len(FIRM_KINDS)), strict=True
        ):
            put(t, f"firms_{k}", n)
        firms_park = np.bincount(park, minlength=n_parks)
        people = f.employees(w, live)
        emp_park = np.bincount(park, weights=people, minlength=n_parks)
        firms_district = np.bincount(parks.district, weights=firms_park, minlength=n_districts)
        emp_district = np.bincount(parks.district, weights=emp_park, minlength=n_districts)
        for d, name in enumerate(parks.districts):
            put(t, f"firms_{name}", firms_district[d])
            put(t, f"employment_{name}", emp_district[d])
        for p, pid in enumerate(parks.ids):
            put(t, f"firms_park_{pid}", firms_park[p])
            put(t, f"employment_park_{pid}", emp_park[p])
            put(t, f"occupancy_{pid}", emp_park[p] / parks.capacity[p])
            put(t, f"rent_{pid}", parks.rent[p])
            put(t, f"capacity_{pid}", parks.capacity[p])

        put(t, "employment", emp_park.sum())
        market = model.labour_market_state  # totals by tier, as the labour market left them
        tiers_alive, tiers_emp = market.alive_by_tier, market.employed_by_tier
        wage_sum = market.wage_sum_by_tier
        put(t, "talent", tiers_alive.sum() * w)
        # everyone in the city not at work: idle cohorts and the idle part of partly
        # employed ones (firms' employment is in full-time equivalents)
        put(t, "unemployed", tiers_alive.sum() * w - emp_park.sum())
        for i, tier in enumerate(TALENT_TIERS):
            put(t, f"talent_{tier}", tiers_alive[i] * w)
            put(t, f"employment_{tier}", tiers_emp[i] * w)
            put(t, f"wage_{tier}", wage_sum[i] / tiers_emp[i] if tiers_emp[i] else 0.0)

        tally = model.tally
        for name in TALLIES:
            put(t, name, tally[name])
        self._patents += tally["patents_new"]
        self._pilots += tally["pilots_new"]
        put(t, "patents", self._patents)
        put(t, "innovative_projects", self._pilots)
        put(t, "high_tech_firms", np.count_nonzero(f.high_tech[live]))
        put(t, "specialised_firms", np.count_nonzero(f.specialised[live]))
        threshold = model.behavior.innovation.leading_firm_employees
        put(t, "leading_firms", np.count_nonzero(people >= threshold))
        # the plan's "~20 institutions whose technology application leads internationally":
        # FinTech arms of financial institutions with enough approved application pilots
        fi_arm = f.kind[live] == FIRM_KINDS.index("fi_arm")
        leading_use = f.pilots[live] >= model.behavior.innovation.leading_application_pilots
        put(t, "leading_application_institutions", np.count_nonzero(fi_arm & leading_use))
        put(t, "arrived_total", model.arrived_people)
        put(t, "left_total", model.left_people)

        total = 0.0
        for j in JURISDICTIONS:
            amount = granted.get(j, 0.0)
            self._spent[j] += amount
            total += amount
            put(t, f"spending_{j}", amount)
            put(t, f"spending_{j}_cumulative", self._spent[j])
        put(t, "spending", total)
        put(t, "spending_cumulative", sum(self._spent.values()))
        # national law: tax expenditure, never part of the plans' spending above
        national = tally["national_high_tech_rate"] + tally["national_rd_super_deduction"]
        self._national += national
        put(t, "national_tax_expenditure", national)
        put(t, "national_tax_expenditure_cumulative", self._national)

    def frame(self, upto: int | None = None) -> pd.DataFrame:
        """The monthly table: a ``month`` column (YYYY-MM) and one column per metric."""
        n = self.n if upto is None else upto
        data = {"month": self.months[:n]}
        data.update({k: v[:n] for k, v in self.columns.items()})
        return pd.DataFrame(data)


def region_of(district: str) -> str:
    """Pudong, Huangpu, or the rest of Shanghai: the three areas the plans compete over."""
    return district if district in ("pudong", "huangpu") else "rest_of_shanghai"

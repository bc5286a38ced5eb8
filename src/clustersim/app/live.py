"""The model the app steps: a ``ClusterModel`` that also keeps what the live views show.

It runs the same rules as ``clustersim-run`` (nothing in a month's step changes), and adds
three things a viewer needs and a batch run does not:

- the counterfactual (the same world without the plan, same seed and random streams)
  stepping alongside when the scenario asks for one (``run.counterfactual``), for the
  with/without overlay;
- every firm's employees month by month, so clicking a firm shows its history;
- spending by jurisdiction and instrument so far, read from the grant ledger once a month.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from clustersim.model import ClusterModel
from clustersim.runner import build_incentives


class LiveModel(ClusterModel):
    """A cluster model for the live view (Mesa-style: ``LiveModel(world="toy", seed=3)``).

    Attributes:
        counterfactual: the model without the policy named by ``run.counterfactual``,
            stepped with this one (None when ``run.counterfactual=off``).
        staff_history: (firm slots x months) employees of each firm at each month's end;
            NaN where the firm did not operate.

    """

    def __init__(
        self,
        scenario: Any = None,
        incentives: Any = None,
        *,
        overrides: Sequence[str] = (),
        seed: int | None = None,
        rng: Any = None,
        **parameters: Any,
    ) -> None:
        # the same keywords as ClusterModel, spelled out: Mesa's SolaraViz rejects *args
        super().__init__(
            scenario, incentives, overrides=overrides, seed=seed, rng=rng, **parameters
        )
        scenario = self.cluster_scenario
        cf = scenario.run.counterfactual
        self.counterfactual: ClusterModel | None = None
        if cf != "off":
            self.counterfactual = ClusterModel(scenario, build_incentives(scenario, without=cf))
        self.staff_history = np.full((self.firms.n_slots, self.n_months), np.nan, np.float32)
        self._monthly_at = self._cf_monthly_at = -1
        self._monthly = self._cf_monthly = pd.DataFrame()

    def step(self) -> None:
        """One month of this model and of its counterfactual; keep the firms' sizes."""
        t = self.month_index
        super().step()
        if self.counterfactual is not None and self.counterfactual.running:
            self.counterfactual.step()
        if t < self.n_months:
            live = self.firms.live()
            self.staff_history[live, t] = self.firms.staff[live] * self.people_per_talent_agent

    def monthly(self) -> pd.DataFrame:
        """The monthly outcomes so far (built once a month: every view reads them)."""
        if self._monthly_at != self.month_index:
            self._monthly, self._monthly_at = super().monthly(), self.month_index
        return self._monthly

    def counterfactual_monthly(self) -> pd.DataFrame | None:
        """The counterfactual's monthly outcomes so far (None without one), built once a month."""
        cf = self.counterfactual
        if cf is None:
            return None
        if self._cf_monthly_at != cf.month_index:
            self._cf_monthly, self._cf_monthly_at = cf.monthly(), cf.month_index
        return self._cf_monthly

    def spending_by_instrument(self) -> pd.DataFrame:
        """RMB granted so far by jurisdiction (``issuer``) and instrument.

        Read from the ledger's running totals per instrument and year (a few dictionary
        lookups), not by grouping every grant: the ledger grows by thousands of rows a year.
        """
        incentives = self.incentives
        ledger = getattr(incentives, "ledger", None)
        instruments = getattr(incentives, "instruments", None)
        if ledger is None or instruments is None:
            return pd.DataFrame(columns=["issuer", "instrument", "amount"])
        years = range(self.calendar[0].year, self.month.year + 1)
        totals: dict[tuple[str, str], float] = {}
        for inst in instruments:
            amount = sum(ledger.spent(inst, y) for y in years)
            if amount > 0:
                key = (inst.issuer, inst.id)
                totals[key] = totals.get(key, 0.0) + amount
        return pd.DataFrame(
            [(i, n, a) for (i, n), a in totals.items()], columns=["issuer", "instrument", "amount"]
        )

    def grants_to_firm(self, firm_id: int) -> pd.DataFrame:
        """Every grant a firm received: month, regime, instrument, issuer, amount."""
        ledger = self.incentives.ledger_frame()
        cols = ["month", "regime", "instrument", "issuer", "amount"]
        if ledger is None or ledger.empty:
            return pd.DataFrame(columns=cols)
        mine = ledger[(ledger["recipient_type"] == "firm") & (ledger["recipient_id"] == firm_id)]
        return mine[cols].astype({c: str for c in cols[:-1]}).reset_index(drop=True)

    def firm_monthly(self, firm_id: int) -> pd.DataFrame:
        """A firm's employees at each month's end while it operated."""
        t = self.month_index
        staff = self.staff_history[firm_id, :t]
        months = [str(m) for m in self.calendar[:t]]
        frame = pd.DataFrame({"month": months, "employees": staff})
        return frame.dropna().reset_index(drop=True)

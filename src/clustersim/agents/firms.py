"""Firms: FinTech companies, arms of financial institutions and R&D/service institutions."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from clustersim.vocabulary import FIRM_KINDS

if TYPE_CHECKING:
    from clustersim.agents.parks import ParkTable
    from clustersim.model import ClusterModel


class FirmTable:
    """State of every firm slot. A slot is a firm's stable id for the whole run.

    Slots are laid out in advance: the initial firms first, then every month's candidate
    entrants in arrival order. A candidate that chooses the outside option never becomes
    ``alive``. Because the number of candidates does not depend on the policy, a firm has
    the same slot, and draws the same shocks, in a run and in its counterfactual.

    Attributes:
        alive: the firm operates in Shanghai now.
        entered: the firm has ever operated in Shanghai (alive or exited).
        kind: index into ``FIRM_KINDS``.
        park: index of its park, -1 if none.
        target: the size the firm wants, in talent agents (a latent Gibrat process).
        staff: talent agents employed now.
        productivity: firm-specific efficiency (log), shifts growth drift.
        financing: financing constraint, 0 (none) .. 1 (fully constrained).
        sensitive: its location choices weigh expected subsidies (drawn with the
            but-for share at entry); the others would choose the same without them.
        rd_stock: knowledge stock from past R&D, RMB (depreciating).
        rd_spend: R&D spending this month, RMB.
        wage_bill: wages paid this month, RMB.
        patents: patents granted so far.
        high_tech: certified high-tech enterprise.
        specialised: certified "specialised and innovative" (专精特新).
        pilots: pilot/innovation projects so far.
        born: model month of entry (negative for firms older than the run).
        subsidies: grants received so far, RMB.
        recent_grants: cash grants of recent months, RMB, fading by 1/12 a month
            (``rules.support``); they raise the growth a firm wants.

    """

    def __init__(self, n_slots: int) -> None:
        self.n_slots = n_slots
        self.alive = np.zeros(n_slots, dtype=bool)
        self.entered = np.zeros(n_slots, dtype=bool)
        self.kind = np.zeros(n_slots, dtype=np.int64)
        self.park = np.full(n_slots, -1, dtype=np.int64)
        self.target = np.zeros(n_slots)
        self.staff = np.zeros(n_slots, dtype=np.int64)
        self.productivity = np.zeros(n_slots)
        self.financing = np.zeros(n_slots)
        self.sensitive = np.zeros(n_slots, dtype=bool)
        self.rd_stock = np.zeros(n_slots)
        self.rd_spend = np.zeros(n_slots)
        self.wage_bill = np.zeros(n_slots)
        self.patents = np.zeros(n_slots, dtype=np.int64)
        self.high_tech = np.zeros(n_slots, dtype=bool)
        self.specialised = np.zeros(n_slots, dtype=bool)
        self.pilots = np.zeros(n_slots, dtype=np.int64)
        self.born = np.zeros(n_slots, dtype=np.int64)
        self.subsidies = np.zeros(n_slots)
        self.recent_grants = np.zeros(n_slots)
        #: the Mesa face of each slot (None for slots that never entered or exited)
        self.faces: list[Firm | None] = [None] * n_slots

    def live(self) -> np.ndarray:
        """Slots of the firms operating now."""
        return np.flatnonzero(self.alive)

    def snapshot(self, month: str, parks: ParkTable, talent_weight: float) -> pd.DataFrame:
        """One row per operating firm: the state a notebook or a report reads."""
        s = self.live()
        park = self.park[s]
        return pd.DataFrame(
            {
                "month": month,
                "firm_id": s,
                "kind": pd.Categorical.from_codes(self.kind[s], FIRM_KINDS),
                "park": pd.Categorical.from_codes(park, parks.ids),
                "district": pd.Categorical.from_codes(parks.district[park], parks.districts),
                "employees": self.staff[s] * talent_weight,
                "target_employees": self.target[s] * talent_weight,
                "productivity": self.productivity[s],
                "financing_constraint": self.financing[s],
                "rd_stock": self.rd_stock[s],
                "patents": self.patents[s],
                "high_tech": self.high_tech[s],
                "specialised": self.specialised[s],
                "pilots": self.pilots[s],
                "born": self.born[s],
                "subsidies": self.subsidies[s],
            }
        )


class Firm(mesa.Agent):
    """A firm as a Mesa agent: a face on one slot of the ``FirmTable``.

    Every attribute reads the table, so it is always current; ``history()`` returns the
    firm's year-end snapshots so far.
    """

    def __init__(self, model: ClusterModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def _t(self) -> FirmTable:
        return self.model.firms

    @property
    def firm_id(self) -> int:
        """Stable id of the firm (its slot), the same in a run and its counterfactual."""
        return self.slot

    @property
    def kind(self) -> str:
        """leading, high_growth, fi_arm or rd_service."""
        return FIRM_KINDS[self._t.kind[self.slot]]

    @property
    def park(self) -> str:
        """Id of the park it is located in."""
        return self.model.parks.ids[self._t.park[self.slot]]

    @property
    def district(self) -> str:
        """District of its park."""
        parks = self.model.parks
        return parks.districts[parks.district[self._t.park[self.slot]]]

    @property
    def employees(self) -> float:
        """People employed (talent agents x the world's talent weight)."""
        return float(self._t.staff[self.slot] * self.model.talent_weight)

    @property
    def productivity(self) -> float:
        """Firm-specific efficiency (log)."""
        return float(self._t.productivity[self.slot])

    @property
    def rd_stock(self) -> float:
        """Knowledge stock from R&D, RMB."""
        return float(self._t.rd_stock[self.slot])

    @property
    def patents(self) -> int:
        """Patents granted so far."""
        return int(self._t.patents[self.slot])

    @property
    def certifications(self) -> dict[str, bool]:
        """High-tech and specialised-and-innovative certifications."""
        return {
            "high_tech": bool(self._t.high_tech[self.slot]),
            "specialised": bool(self._t.specialised[self.slot]),
        }

    @property
    def pilots(self) -> int:
        """Pilot/innovation projects so far."""
        return int(self._t.pilots[self.slot])

    @property
    def age_months(self) -> int:
        """Months since entry."""
        return int(self.model.month_index - self._t.born[self.slot])

    @property
    def financing_constraint(self) -> float:
        """0 (none) .. 1 (fully constrained)."""
        return float(self._t.financing[self.slot])

    @property
    def subsidies(self) -> float:
        """Grants received so far, RMB."""
        return float(self._t.subsidies[self.slot])

    def history(self) -> pd.DataFrame:
        """Year-end snapshots of this firm so far (one row per year)."""
        return self.model.firm_history(self.slot)

    def __repr__(self) -> str:
        return (
            f"Firm(id={self.slot}, kind={self.kind!r}, park={self.park!r}, "
            f"employees={self.employees:.0f}, patents={self.patents})"
        )

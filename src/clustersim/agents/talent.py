"""Talent: cohorts of FinTech staff in four tiers, who come, work, move and leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from clustersim.vocabulary import TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.agents.parks import ParkTable
    from clustersim.model import ClusterModel


class TalentTable:
    """State of every talent slot; one agent stands for ``talent_weight`` people.

    Slots are laid out in advance like firm slots: the initial population, then every
    month's candidate arrivals. A candidate that stays away never becomes ``alive``.

    Attributes:
        alive: in Shanghai now.
        entered: has ever been in Shanghai.
        tier: index into ``TALENT_TIERS``.
        employer: firm slot, -1 when unemployed.
        park: park of the employer, -1 when unemployed.
        last_park: the last park worked in (-1 if never), for the home district.
        wage: monthly wage of the current job, RMB (0 when unemployed).
        residency: holds Shanghai residency (hukou or residence permit).
        housing: receives housing support (talent apartment or subsidy).
        arrived: model month of arrival (negative for the initial population).
        unemployed_months: months since the last job ended.
        awards: talent awards received so far, RMB.

    """

    def __init__(self, n_slots: int) -> None:
        self.n_slots = n_slots
        self.alive = np.zeros(n_slots, dtype=bool)
        self.entered = np.zeros(n_slots, dtype=bool)
        self.tier = np.zeros(n_slots, dtype=np.int64)
        self.employer = np.full(n_slots, -1, dtype=np.int64)
        self.park = np.full(n_slots, -1, dtype=np.int64)
        self.last_park = np.full(n_slots, -1, dtype=np.int64)
        self.wage = np.zeros(n_slots)
        self.residency = np.zeros(n_slots, dtype=bool)
        self.housing = np.zeros(n_slots, dtype=bool)
        self.arrived = np.zeros(n_slots, dtype=np.int64)
        self.unemployed_months = np.zeros(n_slots, dtype=np.int64)
        self.awards = np.zeros(n_slots)
        #: the Mesa face of each slot (None for slots not in Shanghai)
        self.faces: list[Talent | None] = [None] * n_slots

    def employed(self) -> np.ndarray:
        """Mask of agents in Shanghai with a job."""
        return self.alive & (self.employer >= 0)

    def unemployed(self) -> np.ndarray:
        """Mask of agents in Shanghai without a job."""
        return self.alive & (self.employer < 0)

    def release(self, slots: np.ndarray) -> None:
        """End the jobs of ``slots`` (layoff, firm exit): they become unemployed."""
        self.employer[slots] = -1
        self.park[slots] = -1
        self.wage[slots] = 0.0
        self.unemployed_months[slots] = 0

    def snapshot(self, month: str, parks: ParkTable) -> pd.DataFrame:
        """One row per agent in Shanghai (used for histories; not written by default)."""
        s = np.flatnonzero(self.alive)
        return pd.DataFrame(
            {
                "month": month,
                "talent_id": s,
                "tier": pd.Categorical.from_codes(self.tier[s], TALENT_TIERS),
                "employer": self.employer[s],
                "park": pd.Categorical.from_codes(self.park[s], parks.ids),
                "wage": self.wage[s],
                "residency": self.residency[s],
                "housing": self.housing[s],
                "awards": self.awards[s],
            }
        )


class Talent(mesa.Agent):
    """A talent cohort as a Mesa agent: a face on one slot of the ``TalentTable``."""

    def __init__(self, model: ClusterModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def _t(self) -> TalentTable:
        return self.model.talent

    @property
    def talent_id(self) -> int:
        """Stable id (the slot), the same in a run and its counterfactual."""
        return self.slot

    @property
    def tier(self) -> str:
        """top_scientist, senior_core, professional or junior."""
        return TALENT_TIERS[self._t.tier[self.slot]]

    @property
    def people(self) -> float:
        """How many people this agent stands for."""
        return float(self.model.talent_weight)

    @property
    def employer(self) -> int | None:
        """Firm id of the employer, None when unemployed."""
        e = int(self._t.employer[self.slot])
        return None if e < 0 else e

    @property
    def district(self) -> str | None:
        """District of the current or, if unemployed, the last workplace."""
        p = int(self._t.park[self.slot])
        if p < 0:
            p = int(self._t.last_park[self.slot])
        if p < 0:
            return None
        parks = self.model.parks
        return parks.districts[parks.district[p]]

    @property
    def wage(self) -> float:
        """Monthly wage, RMB (0 when unemployed)."""
        return float(self._t.wage[self.slot])

    @property
    def residency(self) -> bool:
        """Holds Shanghai residency."""
        return bool(self._t.residency[self.slot])

    @property
    def housing_support(self) -> bool:
        """Receives housing support."""
        return bool(self._t.housing[self.slot])

    def history(self) -> pd.DataFrame:
        """Year-end snapshots of this agent so far."""
        return self.model.talent_history(self.slot)

    def __repr__(self) -> str:
        return (
            f"Talent(id={self.slot}, tier={self.tier!r}, employer={self.employer}, "
            f"wage={self.wage:.0f})"
        )

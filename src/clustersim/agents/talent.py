"""Talent: cohorts of FinTech staff in four tiers, who come, work, move and leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from clustersim.agents.columns import Column, ColumnTable, face_properties
from clustersim.vocabulary import TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class TalentTable(ColumnTable):
    """State of every talent slot; one agent stands for a cohort of people.

    How many people a talent agent stands for is ``world.people_per_talent_agent``.
    Slots are laid out in advance like firm slots: the initial population, then every
    month's candidate arrivals. A candidate that stays away never becomes ``alive``.

    The columns (``COLUMNS``, one array each) are the agent's state variables; those with
    an output name appear in the year-end snapshots and on the ``Talent`` face.
    """

    ID = "talent_id"
    COLUMNS = (
        Column("alive", bool, False, "in Shanghai now"),
        Column("entered", bool, False, "has ever been in Shanghai"),
        Column("tier", np.int64, 0, "talent tier", out="tier", labels=TALENT_TIERS),
        Column(
            "employer",
            np.int64,
            -1,
            "firm slot of the employer, -1 when unemployed",
            out="employer",
        ),
        Column(
            "park",
            np.int64,
            -1,
            "park of the employer (none when unemployed)",
            out="park",
            labels="parks",
        ),
        Column(
            "last_park",
            np.int64,
            -1,
            "the last park worked in (-1 if never), for the home district",
        ),
        Column(
            "wage",
            np.float64,
            0.0,
            "monthly wage of the current job, RMB (0 when unemployed)",
            out="wage",
        ),
        Column(
            "residency",
            bool,
            False,
            "holds Shanghai residency (hukou or residence permit)",
            out="residency",
        ),
        Column(
            "housing",
            bool,
            False,
            "receives housing support (talent apartment or subsidy)",
            out="housing",
        ),
        Column("arrived", np.int64, 0, "model month of arrival (negative: the initial population)"),
        Column("unemployed_months", np.int64, 0, "months since the last job ended"),
        Column("awards", np.float64, 0.0, "talent awards received so far, RMB", out="awards"),
    )

    alive: np.ndarray
    entered: np.ndarray
    tier: np.ndarray
    employer: np.ndarray
    park: np.ndarray
    last_park: np.ndarray
    wage: np.ndarray
    residency: np.ndarray
    housing: np.ndarray
    arrived: np.ndarray
    unemployed_months: np.ndarray
    awards: np.ndarray
    faces: list[Talent | None]

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


@face_properties("talent", TalentTable.COLUMNS)
class Talent(mesa.Agent):
    """A talent cohort as a Mesa agent: a face on one slot of the ``TalentTable``.

    Every attribute reads the table: one per output column of ``TalentTable.COLUMNS``
    (``tier``, ``employer``, ``park``, ``wage``, ``residency``, ``housing``, ``awards``),
    plus ``people`` and ``district``.
    """

    def __init__(self, model: ClusterModel, slot: int) -> None:
        super().__init__(model)
        self.slot = slot

    @property
    def talent_id(self) -> int:
        """Stable id (the slot), the same in a run and its counterfactual."""
        return self.slot

    @property
    def people(self) -> float:
        """How many people this agent stands for."""
        return float(self.model.people_per_talent_agent)

    @property
    def employer(self) -> int | None:
        """Firm id of the employer, None when unemployed."""
        e = int(self.model.talent.employer[self.slot])
        return None if e < 0 else e

    @property
    def district(self) -> str | None:
        """District of the current or, if unemployed, the last workplace."""
        tal = self.model.talent
        p = int(tal.park[self.slot])
        if p < 0:
            p = int(tal.last_park[self.slot])
        if p < 0:
            return None
        parks = self.model.parks
        return parks.districts[parks.district[p]]

    @property
    def housing_support(self) -> bool:
        """Receives housing support (the same as ``housing``)."""
        return bool(self.model.talent.housing[self.slot])

    def history(self) -> pd.DataFrame:
        """Year-end snapshots of this agent so far."""
        return self.model.talent_history(self.slot)

    def __repr__(self) -> str:
        return (
            f"Talent(id={self.slot}, tier={self.tier!r}, employer={self.employer}, "
            f"wage={self.wage:.0f})"
        )

"""Talent: cohorts of FinTech staff in four tiers, who come, work, move and leave."""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np
import pandas as pd

from clustersim.agents.columns import Column, ColumnTable, face_properties
from clustersim.vocabulary import N_TIERS, TALENT_TIERS

if TYPE_CHECKING:
    from clustersim.model import ClusterModel


class TalentTable(ColumnTable):
    """State of every talent slot; one agent stands for a cohort of people.

    How many people a talent agent stands for is ``world.people_per_talent_agent``.
    Slots are laid out in advance like firm slots: the initial population, then every
    month's candidate arrivals. A candidate that stays away never becomes ``alive``.

    The columns (``COLUMNS``, one array each) are the agent's state variables; those with
    an output name appear in the year-end snapshots and on the ``Talent`` face.

    Who is here and who works where changes only through the table's methods (``arrive``,
    ``depart``, ``hire``, ``release``; ``recount`` after the initial population is laid
    out), which keep the running totals the labour market reads every month instead of
    recounting every slot several times a month:

    - ``headcount``: (firm slots x tiers) cohorts each firm employs now, and
      ``staff_by_firm`` their sum over tiers;
    - ``alive_by_tier``, ``employed_by_tier``: cohorts in Shanghai, and at work, by tier;
    - ``idle``: mask of the agents in Shanghai without a job (``unemployed``), a few in a
      hundred, found every month by one pass over it instead of three over the columns;
    - ``employer_bin``: ``employer + 1`` (0: none), the employer as a bin of
      ``np.bincount``, which sums the wage bills every month (``rules.labour.settle``);
    - ``in_use``: slots below it hold or held an agent; every slot from it on is empty
      (a candidate that never came), so whole-table passes stop there;
    - ``hires``: how many times agents were hired (``hire`` calls): while it is unchanged,
      no one has joined a firm (``rules.staff.StaffLookup`` relies on it).

    A slot that is not alive has no employer (``employer == -1``): an agent's job ends
    (``release``) before it leaves Shanghai (``depart``).
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

    def __init__(self, n_slots: int, n_firm_slots: int = 0) -> None:
        """Empty slots for ``n_slots`` talent agents, employed by up to ``n_firm_slots`` firms."""
        super().__init__(n_slots)
        self.headcount = np.zeros((n_firm_slots, N_TIERS), dtype=np.int64)
        self.staff_by_firm = np.zeros(n_firm_slots, dtype=np.int64)
        self.alive_by_tier = np.zeros(N_TIERS, dtype=np.int64)
        self.employed_by_tier = np.zeros(N_TIERS, dtype=np.int64)
        self.idle = np.zeros(n_slots, dtype=bool)
        self.employer_bin = np.zeros(n_slots, dtype=np.int64)
        self.in_use = 0
        self.hires = 0

    def recount(self) -> None:
        """Set the running totals from the columns (after slots were filled directly)."""
        entered = self.entered.nonzero()[0]
        self.in_use = int(entered[-1]) + 1 if len(entered) else 0
        employed = self.employed().nonzero()[0]
        self.headcount[:] = 0
        self.staff_by_firm[:] = 0
        self.employed_by_tier[:] = 0
        self._count_jobs(self.employer[employed], self.tier[employed], 1)
        self.alive_by_tier[:] = np.bincount(self.tier[self.alive], minlength=N_TIERS)
        np.logical_and(self.alive, self.employer < 0, out=self.idle)
        np.add(self.employer, 1, out=self.employer_bin)

    def employed(self) -> np.ndarray:
        """Mask of agents in Shanghai with a job (only an agent in Shanghai has an employer)."""
        mask = np.zeros(self.n_slots, dtype=bool)  # no slot from in_use on is employed
        np.greater_equal(self.employer[: self.in_use], 0, out=mask[: self.in_use])
        return mask

    def unemployed(self) -> np.ndarray:
        """Mask of agents in Shanghai without a job (a copy of the running ``idle``)."""
        return self.idle.copy()

    def arrive(self, slots: np.ndarray, tier: np.ndarray) -> None:
        """Cohorts of ``tier`` come to Shanghai into empty ``slots``, without a job yet."""
        self.alive[slots] = True
        self.idle[slots] = True
        self.entered[slots] = True
        self.tier[slots] = tier
        self.alive_by_tier += np.bincount(tier, minlength=N_TIERS)
        if len(slots):
            self.in_use = max(self.in_use, int(slots.max()) + 1)

    def depart(self, slots: np.ndarray) -> None:
        """Agents of ``slots`` leave Shanghai, giving up their jobs."""
        self.release(slots)
        self.alive[slots] = False
        self.idle[slots] = False
        self.alive_by_tier -= np.bincount(self.tier[slots], minlength=N_TIERS)

    def hire(self, slots: np.ndarray, firm: np.ndarray, park: np.ndarray, wage: np.ndarray) -> None:
        """Agents of ``slots`` (each once) take a job at ``firm`` in ``park`` paying ``wage``.

        An agent who already works (an on-the-job search) leaves its old employer.
        """
        self.hires += 1
        # one count of the jobs taken and, for those who already work, left: the old
        # job's (employer, tier) loses one, the new one gains one
        tier = self.tier[slots]
        old = self.employer[slots]
        moving = (old >= 0).nonzero()[0]
        if len(moving):
            self._count_jobs(
                np.concatenate([firm, old[moving]]),
                np.concatenate([tier, tier[moving]]),
                np.concatenate([np.ones(len(slots), np.int64), np.full(len(moving), -1)]),
            )
        else:
            self._count_jobs(firm, tier, 1)
        self.employer[slots] = firm
        self.employer_bin[slots] = firm + 1
        self.park[slots] = park
        self.last_park[slots] = park
        self.wage[slots] = wage
        self.unemployed_months[slots] = 0
        self.idle[slots] = False

    def release(self, slots: np.ndarray) -> None:
        """End the jobs of ``slots`` (layoff, firm exit): they become unemployed."""
        self._leave_jobs(slots)
        self.employer[slots] = -1
        self.employer_bin[slots] = 0
        self.park[slots] = -1
        self.wage[slots] = 0.0
        self.unemployed_months[slots] = 0
        self.idle[slots] = self.alive[slots]

    def _leave_jobs(self, slots: np.ndarray) -> None:
        """Take the employed among ``slots`` off their employers' head counts."""
        employer = self.employer[slots]
        working = employer >= 0
        self._count_jobs(employer[working], self.tier[slots][working], -1)

    def _count_jobs(self, firm: np.ndarray, tier: np.ndarray, change: int | np.ndarray) -> None:
        """Add ``change`` per job of ``firm`` and ``tier``: 1 taken, -1 left (or one per job)."""
        np.add.at(self.headcount.reshape(-1), firm * N_TIERS + tier, change)  # a flat view
        np.add.at(self.staff_by_firm, firm, change)
        np.add.at(self.employed_by_tier, tier, change)


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

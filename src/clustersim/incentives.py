"""What the model asks of a policy, and what it tells it: levers in, events out, grants back.

Each month the model asks its ``Incentives`` for ``Levers``: the expected subsidy a new
firm of each kind would get at each park, the expected award a talent of each tier would
get at each park, and the multipliers that expected grants put on growth, R&D,
certification and pilots. Agents decide with those levers. At the end of the month the
model hands over the ``Events`` of the month (entries, patents, certifications, hires,
...); the incentives grant to eligible agents, within caps and budgets, and return the
month's ``Grant``s, whose effects on their recipients (financing, residency, housing,
park capacity) a rule of the model applies (``rules.support.apply_grants``).

``Incentives`` is the interface: every incentives object offers exactly these methods,
so the model and the runner never ask whether one has them. ``NoIncentives`` is the
world without plans: every lever neutral, nothing granted. The plans' regimes are
``clustersim.policy.engine.RegimeIncentives``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from clustersim.model import ClusterModel
    from clustersim.months import Month
    from clustersim.policy.instruments import Instrument


@dataclass
class Levers:
    """Expected incentives and their multipliers for this month.

    Attributes:
        firm_offer: (kinds x parks) expected RMB value to a firm locating at each park.
        talent_offer: (tiers x parks) expected RMB award to a talent working at each park.
        rd_share: share of R&D spending the firm expects to get back (per firm slot or scalar).
        growth_bonus: addition to monthly growth drift (per firm slot or scalar).
        high_tech_multiplier: multiplies the chance of seeking high-tech certification.
        specialised_multiplier: same for the 专精特新 label.
        pilot_multiplier: multiplies the rate of pilot projects.
        amenity_bonus: (parks) amenity index points designations in force add.

    """

    firm_offer: np.ndarray
    talent_offer: np.ndarray
    rd_share: np.ndarray | float = 0.0
    growth_bonus: np.ndarray | float = 0.0
    high_tech_multiplier: np.ndarray | float = 1.0
    specialised_multiplier: np.ndarray | float = 1.0
    pilot_multiplier: np.ndarray | float = 1.0
    amenity_bonus: np.ndarray | float = 0.0


@dataclass
class Events:
    """What happened this month that an instrument may reward. Arrays hold agent slots."""

    entries: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    relocations_in: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    patents: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    patent_counts: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    high_tech_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    specialised_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    pilots_new: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    hires: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))
    arrivals: np.ndarray = field(default_factory=lambda: np.empty(0, np.int64))


@dataclass(frozen=True)
class Grant:
    """The grants of one instrument in one month: who got how much.

    Attributes:
        instrument: the instrument that granted.
        ids: recipient slots (firm or talent slots, or park indices).
        paid: RMB granted to each (all positive).

    """

    instrument: Instrument
    ids: np.ndarray
    paid: np.ndarray


class Incentives(ABC):
    """What every incentives object offers the model, the runner and the faces."""

    @abstractmethod
    def levers(self, model: ClusterModel) -> Levers:
        """This month's levers (asked once, at the start of the month)."""

    @abstractmethod
    def grant(self, model: ClusterModel, events: Events) -> list[Grant]:
        """Grant to this month's eligible applicants; return the month's grants."""

    @abstractmethod
    def regimes_by_issuer(self) -> dict[str, list[str]]:
        """Names of the regimes each jurisdiction runs (a jurisdiction without is absent)."""

    @abstractmethod
    def spent_by(self, jurisdiction: str) -> float:
        """RMB granted so far by a jurisdiction."""

    @abstractmethod
    def spent_this_month(self) -> dict[str, float]:
        """RMB granted this month, by jurisdiction."""

    @abstractmethod
    def ledger_frame(self) -> pd.DataFrame | None:
        """Every grant made so far (None: no plan, no ledger)."""

    @abstractmethod
    def spending_frame(self) -> pd.DataFrame | None:
        """RMB granted by jurisdiction x regime x instrument x year (None: no plan)."""

    @abstractmethod
    def rationing_frame(self) -> pd.DataFrame | None:
        """Approved applications a budget turned away, per instrument-month (None: no plan)."""

    def months_alike(self, other: Incentives, calendar: Sequence[Month]) -> int:
        """How many months from the start of ``calendar`` a run goes the same with ``other``.

        A counterfactual drops some of a run's instruments; until the first month one of
        them is in force, the run and its counterfactual are the same run (the same state,
        the same draws), so the runner simulates those months once and copies the run
        (``clustersim.runner.simulate``). 0, the safe answer, unless an incentives class
        can tell; a class that answers more must also ``take_over``.
        """
        return 0

    def take_over(self, other: Incentives) -> None:
        """Carry on from ``other``'s state (grants so far, budgets spent, expectations).

        Called on a counterfactual's incentives when it starts as a copy of a run after
        ``other.months_alike(self, ...)`` months; only classes whose ``months_alike``
        can answer more than 0 need it.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot take over a run's state")


class NoIncentives(Incentives):
    """No plan: neutral levers, no grants, no ledger."""

    def levers(self, model: ClusterModel) -> Levers:
        """Neutral levers: no offer anywhere, every multiplier 1."""
        return Levers(
            firm_offer=np.zeros((model.n_kinds, len(model.parks))),
            talent_offer=np.zeros((model.n_tiers, len(model.parks))),
        )

    def grant(self, model: ClusterModel, events: Events) -> list[Grant]:
        """Nothing to grant."""
        return []

    def regimes_by_issuer(self) -> dict[str, list[str]]:
        """No jurisdiction runs a regime."""
        return {}

    def spent_by(self, jurisdiction: str) -> float:
        """Nothing spent."""
        return 0.0

    def spent_this_month(self) -> dict[str, float]:
        """Nothing spent."""
        return {}

    def ledger_frame(self) -> None:
        """No ledger."""
        return None

    def spending_frame(self) -> None:
        """No spending table."""
        return None

    def rationing_frame(self) -> None:
        """No budgets, so nothing turned away."""
        return None

    def take_over(self, other: Incentives) -> None:
        """Carry on from a run whose plans granted nothing yet: there is nothing to carry.

        A ``no_policy`` counterfactual starts as a copy of its run after the months in
        which none of the run's instruments was in force (``months_alike`` of the run's
        incentives); a world without plans keeps no state of its own. ``other`` must have
        granted nothing. A subclass may keep state: it says itself how to take over.
        """
        if type(self) is not NoIncentives:
            super().take_over(other)
        granted = other.ledger_frame()
        if granted is not None and len(granted) > 0:
            raise ValueError(f"{type(other).__name__} granted already: no run without plans")
